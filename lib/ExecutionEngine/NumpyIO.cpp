//===- NumpyIO.cpp - read and write numpy .npy and .npz files --*- C++ -*-===//
//
// Implements the .npy parser and writer and a small zip reader and writer
// for .npz archives. Deflate members go through zlib; zip64 records are read
// (numpy writes them) but never written.
//
//===----------------------------------------------------------------------===//

#include "rill/ExecutionEngine/NumpyIO.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <zlib.h>

#include <limits>

using namespace mlir;
using namespace mlir::rill;
using llvm::StringRef;

namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

struct DTypeInfo {
  NumpyDType dtype;
  const char *name;
  const char *descriptor;
  size_t size;
};

constexpr DTypeInfo kDTypes[] = {
    {NumpyDType::Bool, "bool", "|b1", 1},
    {NumpyDType::Int8, "int8", "|i1", 1},
    {NumpyDType::UInt8, "uint8", "|u1", 1},
    {NumpyDType::Int16, "int16", "<i2", 2},
    {NumpyDType::UInt16, "uint16", "<u2", 2},
    {NumpyDType::Int32, "int32", "<i4", 4},
    {NumpyDType::UInt32, "uint32", "<u4", 4},
    {NumpyDType::Int64, "int64", "<i8", 8},
    {NumpyDType::UInt64, "uint64", "<u8", 8},
    {NumpyDType::Float16, "float16", "<f2", 2},
    {NumpyDType::Float32, "float32", "<f4", 4},
    {NumpyDType::Float64, "float64", "<f8", 8},
};

const DTypeInfo &getInfo(NumpyDType dtype) {
  return kDTypes[static_cast<size_t>(dtype)];
}

/// Converts an IEEE half-precision bit pattern to float.
float halfToFloat(uint16_t half) {
  uint32_t sign = static_cast<uint32_t>(half & 0x8000) << 16;
  uint32_t exponent = (half >> 10) & 0x1f;
  uint32_t mantissa = half & 0x3ff;
  uint32_t bits;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000 | (mantissa << 13);
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;
  } else {
    // Subnormal half: normalize the mantissa into a float exponent.
    exponent = 113;
    while ((mantissa & 0x400) == 0) {
      mantissa <<= 1;
      --exponent;
    }
    bits = sign | (exponent << 23) | ((mantissa & 0x3ff) << 13);
  }
  float result;
  std::memcpy(&result, &bits, sizeof(result));
  return result;
}

template <typename T> T readLE(StringRef bytes, size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

template <typename T> void appendLE(std::string &out, T value) {
  out.append(reinterpret_cast<const char *>(&value), sizeof(T));
}

//===----------------------------------------------------------------------===//
// .npy header
//===----------------------------------------------------------------------===//

/// Parses the Python dict literal of an .npy header, for example
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
class HeaderParser {
public:
  HeaderParser(StringRef text, StringRef fileName)
      : text(text), fileName(fileName) {}

  llvm::Error parse(std::string &descriptor, bool &fortranOrder,
                    llvm::SmallVectorImpl<int64_t> &shape) {
    bool sawDescr = false, sawOrder = false, sawShape = false;
    if (!consume('{'))
      return fail("expected '{'");
    while (true) {
      skipSpace();
      if (consume('}'))
        break;
      std::string key;
      if (llvm::Error error = parseString(key))
        return error;
      if (!consume(':'))
        return fail("expected ':' after key '" + key + "'");
      if (key == "descr") {
        if (llvm::Error error = parseString(descriptor))
          return error;
        sawDescr = true;
      } else if (key == "fortran_order") {
        if (llvm::Error error = parseBool(fortranOrder))
          return error;
        sawOrder = true;
      } else if (key == "shape") {
        if (llvm::Error error = parseShape(shape))
          return error;
        sawShape = true;
      } else {
        return fail("unknown key '" + key + "'");
      }
      skipSpace();
      if (consume(','))
        continue;
      if (consume('}'))
        break;
      return fail("expected ',' or '}'");
    }
    if (!sawDescr || !sawOrder || !sawShape)
      return fail("expected the keys 'descr', 'fortran_order' and 'shape'");
    return llvm::Error::success();
  }

private:
  void skipSpace() {
    while (position < text.size() && llvm::isSpace(text[position]))
      ++position;
  }

  bool consume(char c) {
    skipSpace();
    if (position < text.size() && text[position] == c) {
      ++position;
      return true;
    }
    return false;
  }

  llvm::Error fail(const llvm::Twine &message) {
    return makeError(fileName + ": invalid .npy header: " + message +
                     " at offset " + llvm::Twine(position) + " in \"" + text +
                     "\"");
  }

  llvm::Error parseString(std::string &result) {
    skipSpace();
    if (position >= text.size() ||
        (text[position] != '\'' && text[position] != '"'))
      return fail("expected a quoted string");
    char quote = text[position++];
    size_t end = text.find(quote, position);
    if (end == StringRef::npos)
      return fail("unterminated string");
    result = text.slice(position, end).str();
    position = end + 1;
    return llvm::Error::success();
  }

  llvm::Error parseBool(bool &result) {
    skipSpace();
    StringRef rest = text.drop_front(position);
    if (rest.starts_with("True")) {
      result = true;
      position += 4;
    } else if (rest.starts_with("False")) {
      result = false;
      position += 5;
    } else {
      return fail("expected True or False");
    }
    return llvm::Error::success();
  }

  llvm::Error parseShape(llvm::SmallVectorImpl<int64_t> &shape) {
    if (!consume('('))
      return fail("expected '(' to start the shape");
    while (!consume(')')) {
      skipSpace();
      size_t begin = position;
      while (position < text.size() && llvm::isDigit(text[position]))
        ++position;
      int64_t dim;
      if (text.slice(begin, position).getAsInteger(10, dim))
        return fail("expected a non-negative dimension");
      shape.push_back(dim);
      if (consume(')'))
        break;
      if (!consume(','))
        return fail("expected ',' or ')' in the shape");
    }
    return llvm::Error::success();
  }

  StringRef text;
  StringRef fileName;
  size_t position = 0;
};

/// Returns the number of elements of `shape`, or std::nullopt on overflow.
std::optional<int64_t> getShapeProduct(llvm::ArrayRef<int64_t> shape) {
  int64_t product = 1;
  for (int64_t dim : shape) {
    if (dim < 0)
      return std::nullopt;
    if (dim != 0 && product > std::numeric_limits<int64_t>::max() / dim)
      return std::nullopt;
    product *= dim;
  }
  return product;
}

//===----------------------------------------------------------------------===//
// Zip archives
//===----------------------------------------------------------------------===//

constexpr uint32_t kLocalHeaderSignature = 0x04034b50;
constexpr uint32_t kCentralHeaderSignature = 0x02014b50;
constexpr uint32_t kEndOfCentralDirSignature = 0x06054b50;
constexpr uint32_t kZip64EndOfCentralDirSignature = 0x06064b50;
constexpr uint32_t kZip64LocatorSignature = 0x07064b50;
constexpr uint16_t kZip64ExtraId = 0x0001;
constexpr uint16_t kMethodStored = 0;
constexpr uint16_t kMethodDeflate = 8;
// 1980-01-01 00:00:00 in MS-DOS format, so archives are reproducible.
constexpr uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;

struct ZipEntry {
  std::string name;
  uint16_t method = 0;
  uint16_t flags = 0;
  uint32_t crc = 0;
  uint64_t compressedSize = 0;
  uint64_t uncompressedSize = 0;
  uint64_t localHeaderOffset = 0;
};

llvm::Error readZipDirectory(StringRef data, StringRef fileName,
                             std::vector<ZipEntry> &entries) {
  auto fail = [&](const llvm::Twine &message) {
    return makeError(fileName + ": invalid .npz archive: " + message);
  };

  // The end-of-central-directory record is 22 bytes plus a comment of at
  // most 64 KiB at the end of the file.
  if (data.size() < 22)
    return fail("file too short for a zip archive");
  size_t searchEnd = data.size() - 22;
  size_t searchBegin = searchEnd > 0xffff ? searchEnd - 0xffff : 0;
  std::optional<size_t> eocd;
  for (size_t offset = searchEnd + 1; offset-- > searchBegin;) {
    if (readLE<uint32_t>(data, offset) == kEndOfCentralDirSignature) {
      eocd = offset;
      break;
    }
  }
  if (!eocd)
    return fail("no end-of-central-directory record");

  uint64_t numEntries = readLE<uint16_t>(data, *eocd + 10);
  uint64_t directorySize = readLE<uint32_t>(data, *eocd + 12);
  uint64_t directoryOffset = readLE<uint32_t>(data, *eocd + 16);
  // NOTE: the zip64 end-of-central-directory path is only reached by
  // archives with 65535+ members or 4 GiB+ of data and has no test yet.
  if (numEntries == 0xffff || directorySize == 0xffffffff ||
      directoryOffset == 0xffffffff) {
    if (*eocd < 20 ||
        readLE<uint32_t>(data, *eocd - 20) != kZip64LocatorSignature)
      return fail("missing zip64 end-of-central-directory locator");
    uint64_t recordOffset = readLE<uint64_t>(data, *eocd - 20 + 8);
    if (recordOffset + 56 > data.size() ||
        readLE<uint32_t>(data, recordOffset) != kZip64EndOfCentralDirSignature)
      return fail("invalid zip64 end-of-central-directory record");
    numEntries = readLE<uint64_t>(data, recordOffset + 32);
    directorySize = readLE<uint64_t>(data, recordOffset + 40);
    directoryOffset = readLE<uint64_t>(data, recordOffset + 48);
  }
  if (directoryOffset + directorySize > data.size())
    return fail("central directory out of bounds");

  uint64_t offset = directoryOffset;
  for (uint64_t index = 0; index < numEntries; ++index) {
    if (offset + 46 > data.size() ||
        readLE<uint32_t>(data, offset) != kCentralHeaderSignature)
      return fail("invalid central directory entry " + llvm::Twine(index));
    ZipEntry entry;
    entry.flags = readLE<uint16_t>(data, offset + 8);
    entry.method = readLE<uint16_t>(data, offset + 10);
    entry.crc = readLE<uint32_t>(data, offset + 16);
    entry.compressedSize = readLE<uint32_t>(data, offset + 20);
    entry.uncompressedSize = readLE<uint32_t>(data, offset + 24);
    uint16_t nameLength = readLE<uint16_t>(data, offset + 28);
    uint16_t extraLength = readLE<uint16_t>(data, offset + 30);
    uint16_t commentLength = readLE<uint16_t>(data, offset + 32);
    entry.localHeaderOffset = readLE<uint32_t>(data, offset + 42);
    if (offset + 46 + nameLength + extraLength + commentLength > data.size())
      return fail("central directory entry " + llvm::Twine(index) +
                  " out of bounds");
    entry.name = data.substr(offset + 46, nameLength).str();

    // Fields saturated at 0xffffffff continue in the zip64 extra field, in
    // the order uncompressed size, compressed size, local header offset.
    StringRef extra = data.substr(offset + 46 + nameLength, extraLength);
    while (extra.size() >= 4) {
      uint16_t id = readLE<uint16_t>(extra, 0);
      uint16_t size = readLE<uint16_t>(extra, 2);
      StringRef body = extra.substr(4, size);
      if (id == kZip64ExtraId) {
        size_t cursor = 0;
        auto next = [&](uint64_t &field) {
          if (field != 0xffffffff || cursor + 8 > body.size())
            return;
          field = readLE<uint64_t>(body, cursor);
          cursor += 8;
        };
        next(entry.uncompressedSize);
        next(entry.compressedSize);
        next(entry.localHeaderOffset);
      }
      extra = extra.drop_front(std::min<size_t>(extra.size(), 4 + size));
    }

    entries.push_back(std::move(entry));
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return llvm::Error::success();
}

llvm::Expected<std::string>
extractZipEntry(StringRef data, const ZipEntry &entry, StringRef fileName) {
  auto fail = [&](const llvm::Twine &message) {
    return makeError(fileName + ": member '" + entry.name + "': " + message);
  };

  if (entry.flags & 1)
    return fail("encrypted members are not supported");
  uint64_t offset = entry.localHeaderOffset;
  if (offset + 30 > data.size() ||
      readLE<uint32_t>(data, offset) != kLocalHeaderSignature)
    return fail("invalid local header");
  uint16_t nameLength = readLE<uint16_t>(data, offset + 26);
  uint16_t extraLength = readLE<uint16_t>(data, offset + 28);
  uint64_t dataOffset = offset + 30 + nameLength + extraLength;
  if (dataOffset + entry.compressedSize > data.size())
    return fail("data out of bounds");
  StringRef compressed = data.substr(dataOffset, entry.compressedSize);

  std::string result;
  if (entry.method == kMethodStored) {
    if (entry.compressedSize != entry.uncompressedSize)
      return fail("stored member with different compressed size");
    result = compressed.str();
  } else if (entry.method == kMethodDeflate) {
    result.resize(entry.uncompressedSize);
    z_stream stream{};
    if (inflateInit2(&stream, -MAX_WBITS) != Z_OK)
      return fail("zlib inflateInit2 failed");
    stream.next_in =
        reinterpret_cast<Bytef *>(const_cast<char *>(compressed.data()));
    stream.next_out = reinterpret_cast<Bytef *>(result.data());
    // zlib counts in uInt, so feed and drain the buffers in chunks.
    uint64_t inputLeft = compressed.size(), outputLeft = result.size();
    int status = Z_OK;
    while (status == Z_OK) {
      if (stream.avail_in == 0) {
        stream.avail_in =
            static_cast<uInt>(std::min<uint64_t>(inputLeft, 1u << 30));
        inputLeft -= stream.avail_in;
      }
      if (stream.avail_out == 0) {
        stream.avail_out =
            static_cast<uInt>(std::min<uint64_t>(outputLeft, 1u << 30));
        outputLeft -= stream.avail_out;
      }
      status = inflate(&stream, Z_NO_FLUSH);
      if (status == Z_BUF_ERROR && (inputLeft > 0 || outputLeft > 0))
        status = Z_OK;
    }
    uint64_t produced = stream.total_out;
    inflateEnd(&stream);
    if (status != Z_STREAM_END || produced != entry.uncompressedSize)
      return fail("corrupt deflate data (zlib status " + llvm::Twine(status) +
                  ")");
  } else {
    return fail("unsupported compression method " + llvm::Twine(entry.method) +
                " (expected 0 = stored or 8 = deflate)");
  }

  uLong crc = crc32(0L, Z_NULL, 0);
  for (size_t done = 0; done < result.size();) {
    uInt chunk =
        static_cast<uInt>(std::min<size_t>(result.size() - done, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef *>(result.data() + done),
                chunk);
    done += chunk;
  }
  if (static_cast<uint32_t>(crc) != entry.crc)
    return fail("CRC-32 mismatch, the archive is corrupt");
  return result;
}

llvm::Expected<std::string> deflateRaw(StringRef input) {
  z_stream stream{};
  if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK)
    return makeError("zlib deflateInit2 failed");
  std::string output(deflateBound(&stream, input.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(input.data()));
  stream.avail_in = static_cast<uInt>(input.size());
  stream.next_out = reinterpret_cast<Bytef *>(output.data());
  stream.avail_out = static_cast<uInt>(output.size());
  int status = deflate(&stream, Z_FINISH);
  output.resize(stream.total_out);
  deflateEnd(&stream);
  if (status != Z_STREAM_END)
    return makeError("zlib deflate failed with status " + llvm::Twine(status));
  return output;
}

llvm::Expected<std::string> readWholeFile(StringRef path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!buffer)
    return makeError("cannot read '" + path +
                     "': " + buffer.getError().message());
  return (*buffer)->getBuffer().str();
}

llvm::Error writeWholeFile(StringRef path, StringRef contents) {
  std::error_code error;
  llvm::raw_fd_ostream stream(path, error, llvm::sys::fs::OF_None);
  if (error)
    return makeError("cannot open '" + path +
                     "' for writing: " + error.message());
  stream << contents;
  stream.close();
  if (stream.has_error())
    return makeError("cannot write '" + path +
                     "': " + stream.error().message());
  return llvm::Error::success();
}

} // namespace

//===----------------------------------------------------------------------===//
// Data types and arrays
//===----------------------------------------------------------------------===//

size_t mlir::rill::getDTypeSize(NumpyDType dtype) {
  return getInfo(dtype).size;
}

StringRef mlir::rill::getDTypeName(NumpyDType dtype) {
  return getInfo(dtype).name;
}

StringRef mlir::rill::getDTypeDescriptor(NumpyDType dtype) {
  return getInfo(dtype).descriptor;
}

std::optional<NumpyDType>
mlir::rill::parseDTypeDescriptor(StringRef descriptor) {
  // One-byte types may carry any byte-order mark; wider ones must be
  // little-endian ('<', or '=' on this little-endian host).
  if (descriptor.size() < 3)
    return std::nullopt;
  char order = descriptor[0];
  StringRef kindAndSize = descriptor.drop_front();
  for (const DTypeInfo &info : kDTypes) {
    if (StringRef(info.descriptor).drop_front() != kindAndSize)
      continue;
    if (info.size == 1 || order == '<' || order == '=')
      return info.dtype;
    return std::nullopt;
  }
  return std::nullopt;
}

NumpyArray::NumpyArray(NumpyDType dtype, llvm::ArrayRef<int64_t> shape)
    : dtype(dtype), shape(shape.begin(), shape.end()) {
  bytes.assign(getNumElements() * getDTypeSize(dtype), 0);
}

int64_t NumpyArray::getNumElements() const {
  return getShapeProduct(shape).value_or(0);
}

double NumpyArray::getAsDouble(int64_t index) const {
  const uint8_t *element = bytes.data() + index * getDTypeSize(dtype);
  auto load = [&](auto value) {
    std::memcpy(&value, element, sizeof(value));
    return static_cast<double>(value);
  };
  switch (dtype) {
  case NumpyDType::Bool:
    return *element != 0 ? 1.0 : 0.0;
  case NumpyDType::Int8:
    return load(int8_t());
  case NumpyDType::UInt8:
    return load(uint8_t());
  case NumpyDType::Int16:
    return load(int16_t());
  case NumpyDType::UInt16:
    return load(uint16_t());
  case NumpyDType::Int32:
    return load(int32_t());
  case NumpyDType::UInt32:
    return load(uint32_t());
  case NumpyDType::Int64:
    return load(int64_t());
  case NumpyDType::UInt64:
    return load(uint64_t());
  case NumpyDType::Float16:
    return halfToFloat(static_cast<uint16_t>(load(uint16_t())));
  case NumpyDType::Float32:
    return load(float());
  case NumpyDType::Float64:
    return load(double());
  }
  return 0.0;
}

std::string NumpyArray::describe() const {
  std::string result = getDTypeName(dtype).str() + "[";
  llvm::raw_string_ostream os(result);
  llvm::interleaveComma(shape, os);
  os << "]";
  return result;
}

//===----------------------------------------------------------------------===//
// .npy
//===----------------------------------------------------------------------===//

llvm::Expected<NumpyArray> mlir::rill::parseNpy(StringRef contents,
                                                StringRef fileName) {
  static constexpr StringRef kMagic("\x93NUMPY", 6);
  if (!contents.starts_with(kMagic) || contents.size() < 10)
    return makeError(fileName + ": not an .npy file (missing the \\x93NUMPY "
                                "magic string)");

  uint8_t major = contents[6];
  size_t headerLength, headerStart;
  if (major == 1) {
    headerLength = readLE<uint16_t>(contents, 8);
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (contents.size() < 12)
      return makeError(fileName + ": truncated .npy header");
    headerLength = readLE<uint32_t>(contents, 8);
    headerStart = 12;
  } else {
    return makeError(fileName + ": unsupported .npy format version " +
                     llvm::Twine(major) + " (expected 1, 2 or 3)");
  }
  if (headerStart + headerLength > contents.size())
    return makeError(fileName + ": truncated .npy header");

  std::string descriptor;
  bool fortranOrder = false;
  NumpyArray array;
  HeaderParser parser(contents.substr(headerStart, headerLength).rtrim(),
                      fileName);
  if (llvm::Error error = parser.parse(descriptor, fortranOrder, array.shape))
    return std::move(error);

  std::optional<NumpyDType> dtype = parseDTypeDescriptor(descriptor);
  if (!dtype)
    return makeError(fileName + ": unsupported dtype '" + descriptor +
                     "' (expected little-endian bool, int8-64, uint8-64, "
                     "float16, float32 or float64)");
  if (fortranOrder)
    return makeError(fileName + ": Fortran-order arrays are not supported; "
                                "save np.ascontiguousarray(x) instead");
  array.dtype = *dtype;

  std::optional<int64_t> numElements = getShapeProduct(array.shape);
  StringRef payload = contents.drop_front(headerStart + headerLength);
  if (!numElements ||
      static_cast<uint64_t>(*numElements) >
          std::numeric_limits<uint64_t>::max() / getDTypeSize(*dtype))
    return makeError(fileName + ": shape " + array.describe() +
                     " overflows 64 bits");
  uint64_t expectedBytes = *numElements * getDTypeSize(*dtype);
  if (payload.size() < expectedBytes)
    return makeError(fileName + ": truncated data, expected " +
                     llvm::Twine(expectedBytes) + " bytes for " +
                     array.describe() + " (got " + llvm::Twine(payload.size()) +
                     ")");
  array.bytes.assign(payload.bytes_begin(),
                     payload.bytes_begin() + expectedBytes);
  return array;
}

std::string mlir::rill::serializeNpy(const NumpyArray &array) {
  std::string header = "{'descr': '" + getDTypeDescriptor(array.dtype).str() +
                       "', 'fortran_order': False, 'shape': (";
  for (int64_t dim : array.shape)
    header += std::to_string(dim) + ", ";
  // A one-element tuple needs its trailing comma; others do not.
  if (array.shape.size() > 1)
    header.resize(header.size() - 2);
  else if (array.shape.size() == 1)
    header.pop_back();
  header += "), }";

  // numpy pads the header with spaces so that the data starts at a multiple
  // of 64 bytes, and ends it with a newline.
  bool version2 = header.size() + 11 > 0xffff;
  size_t prefix = version2 ? 12 : 10;
  size_t total = llvm::alignTo(prefix + header.size() + 1, 64);
  header.append(total - prefix - header.size() - 1, ' ');
  header += '\n';

  std::string result("\x93NUMPY", 6);
  result += static_cast<char>(version2 ? 2 : 1);
  result += '\0';
  if (version2)
    appendLE<uint32_t>(result, static_cast<uint32_t>(header.size()));
  else
    appendLE<uint16_t>(result, static_cast<uint16_t>(header.size()));
  result += header;
  result.append(reinterpret_cast<const char *>(array.bytes.data()),
                array.bytes.size());
  return result;
}

//===----------------------------------------------------------------------===//
// .npz
//===----------------------------------------------------------------------===//

llvm::Expected<std::vector<NamedArray>>
mlir::rill::parseNpz(StringRef contents, StringRef fileName) {
  std::vector<ZipEntry> entries;
  if (llvm::Error error = readZipDirectory(contents, fileName, entries))
    return std::move(error);

  std::vector<NamedArray> arrays;
  for (const ZipEntry &entry : entries) {
    if (entry.name.empty() || entry.name.back() == '/')
      continue;
    llvm::Expected<std::string> member =
        extractZipEntry(contents, entry, fileName);
    if (!member)
      return member.takeError();
    std::string label = (fileName + ":" + entry.name).str();
    llvm::Expected<NumpyArray> array = parseNpy(*member, label);
    if (!array)
      return array.takeError();
    StringRef name(entry.name);
    name.consume_back(".npy");
    arrays.push_back({name.str(), std::move(*array)});
  }
  return arrays;
}

llvm::Expected<std::string>
mlir::rill::serializeNpz(llvm::ArrayRef<NamedArray> arrays, bool compress) {
  std::string archive, directory;
  constexpr uint64_t kLimit = 0xffffffff;

  if (arrays.size() >= 0xffff)
    return makeError("too many arrays for an .npz archive without zip64 (" +
                     llvm::Twine(arrays.size()) + ")");
  for (const NamedArray &named : arrays) {
    std::string name = named.name + ".npy";
    std::string payload = serializeNpy(named.array);
    uLong crc = crc32(0L, Z_NULL, 0);
    if (payload.size() >= kLimit)
      return makeError("array '" + named.name + "' (" + named.array.describe() +
                       ") exceeds the 4 GiB limit of the .npz writer");
    crc = crc32(crc, reinterpret_cast<const Bytef *>(payload.data()),
                static_cast<uInt>(payload.size()));

    std::string stored = payload;
    uint16_t method = kMethodStored;
    if (compress) {
      llvm::Expected<std::string> deflated = deflateRaw(payload);
      if (!deflated)
        return deflated.takeError();
      stored = std::move(*deflated);
      method = kMethodDeflate;
    }
    uint64_t localOffset = archive.size();
    if (localOffset >= kLimit)
      return makeError("the .npz archive exceeds the 4 GiB limit of the "
                       ".npz writer");

    // Local file header, then the member data.
    appendLE<uint32_t>(archive, kLocalHeaderSignature);
    appendLE<uint16_t>(archive, 20);
    appendLE<uint16_t>(archive, 0);
    appendLE<uint16_t>(archive, method);
    appendLE<uint16_t>(archive, 0);
    appendLE<uint16_t>(archive, kDosDate);
    appendLE<uint32_t>(archive, static_cast<uint32_t>(crc));
    appendLE<uint32_t>(archive, static_cast<uint32_t>(stored.size()));
    appendLE<uint32_t>(archive, static_cast<uint32_t>(payload.size()));
    appendLE<uint16_t>(archive, static_cast<uint16_t>(name.size()));
    appendLE<uint16_t>(archive, 0);
    archive += name;
    archive += stored;

    // The matching central directory entry.
    appendLE<uint32_t>(directory, kCentralHeaderSignature);
    appendLE<uint16_t>(directory, 20);
    appendLE<uint16_t>(directory, 20);
    appendLE<uint16_t>(directory, 0);
    appendLE<uint16_t>(directory, method);
    appendLE<uint16_t>(directory, 0);
    appendLE<uint16_t>(directory, kDosDate);
    appendLE<uint32_t>(directory, static_cast<uint32_t>(crc));
    appendLE<uint32_t>(directory, static_cast<uint32_t>(stored.size()));
    appendLE<uint32_t>(directory, static_cast<uint32_t>(payload.size()));
    appendLE<uint16_t>(directory, static_cast<uint16_t>(name.size()));
    appendLE<uint16_t>(directory, 0);
    appendLE<uint16_t>(directory, 0);
    appendLE<uint16_t>(directory, 0);
    appendLE<uint16_t>(directory, 0);
    appendLE<uint32_t>(directory, 0x81a40000); // Unix mode 0644, regular.
    appendLE<uint32_t>(directory, static_cast<uint32_t>(localOffset));
    directory += name;
  }

  uint64_t directoryOffset = archive.size();
  if (directoryOffset + directory.size() >= kLimit)
    return makeError("the .npz archive exceeds the 4 GiB limit of the .npz "
                     "writer");
  archive += directory;
  appendLE<uint32_t>(archive, kEndOfCentralDirSignature);
  appendLE<uint16_t>(archive, 0);
  appendLE<uint16_t>(archive, 0);
  appendLE<uint16_t>(archive, static_cast<uint16_t>(arrays.size()));
  appendLE<uint16_t>(archive, static_cast<uint16_t>(arrays.size()));
  appendLE<uint32_t>(archive, static_cast<uint32_t>(directory.size()));
  appendLE<uint32_t>(archive, static_cast<uint32_t>(directoryOffset));
  appendLE<uint16_t>(archive, 0);
  return archive;
}

//===----------------------------------------------------------------------===//
// Files
//===----------------------------------------------------------------------===//

llvm::Expected<NumpyArray> mlir::rill::readNpyFile(StringRef path) {
  llvm::Expected<std::string> contents = readWholeFile(path);
  if (!contents)
    return contents.takeError();
  return parseNpy(*contents, path);
}

llvm::Error mlir::rill::writeNpyFile(StringRef path, const NumpyArray &array) {
  return writeWholeFile(path, serializeNpy(array));
}

llvm::Expected<std::vector<NamedArray>>
mlir::rill::readNpzFile(StringRef path) {
  llvm::Expected<std::string> contents = readWholeFile(path);
  if (!contents)
    return contents.takeError();
  return parseNpz(*contents, path);
}

llvm::Error mlir::rill::writeNpzFile(StringRef path,
                                     llvm::ArrayRef<NamedArray> arrays,
                                     bool compress) {
  llvm::Expected<std::string> archive = serializeNpz(arrays, compress);
  if (!archive)
    return makeError("cannot write '" + path +
                     "': " + llvm::toString(archive.takeError()));
  return writeWholeFile(path, *archive);
}

llvm::Expected<std::vector<NamedArray>>
mlir::rill::readArrayFile(StringRef path) {
  llvm::Expected<std::string> contents = readWholeFile(path);
  if (!contents)
    return contents.takeError();
  if (StringRef(*contents).starts_with("\x93NUMPY")) {
    llvm::Expected<NumpyArray> array = parseNpy(*contents, path);
    if (!array)
      return array.takeError();
    std::vector<NamedArray> arrays;
    arrays.push_back({llvm::sys::path::stem(path).str(), std::move(*array)});
    return arrays;
  }
  return parseNpz(*contents, path);
}
