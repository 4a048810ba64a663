//===- NumpyIOTest.cpp - Tests of the .npy and .npz reader/writer ---------===//
//
// Round-trips arrays of every supported dtype through .npy and through
// stored and deflate-compressed .npz archives, parses a header as numpy
// writes it, and checks that malformed or unsupported files are rejected
// with a message instead of a crash.
//
//===----------------------------------------------------------------------===//

#include "rill/ExecutionEngine/NumpyIO.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "gtest/gtest.h"

#include <cmath>
#include <cstring>

using namespace mlir::rill;

namespace {

/// Returns an array of `dtype` and `shape` whose bytes count up from 1.
NumpyArray makeArray(NumpyDType dtype, llvm::ArrayRef<int64_t> shape) {
  NumpyArray array(dtype, shape);
  for (size_t index = 0; index < array.bytes.size(); ++index)
    array.bytes[index] = static_cast<uint8_t>(index * 7 + 1);
  if (dtype == NumpyDType::Bool)
    for (uint8_t &byte : array.bytes)
      byte &= 1;
  return array;
}

void expectSameArray(const NumpyArray &actual, const NumpyArray &expected) {
  EXPECT_EQ(actual.dtype, expected.dtype);
  EXPECT_EQ(actual.shape, expected.shape);
  EXPECT_EQ(actual.bytes, expected.bytes);
}

std::string errorMessage(llvm::Error error) {
  return llvm::toString(std::move(error));
}

constexpr NumpyDType kAllDTypes[] = {
    NumpyDType::Bool,    NumpyDType::Int8,    NumpyDType::UInt8,
    NumpyDType::Int16,   NumpyDType::UInt16,  NumpyDType::Int32,
    NumpyDType::UInt32,  NumpyDType::Int64,   NumpyDType::UInt64,
    NumpyDType::Float16, NumpyDType::Float32, NumpyDType::Float64,
};

TEST(NumpyIO, NpyRoundTripAllDTypes) {
  for (NumpyDType dtype : kAllDTypes) {
    SCOPED_TRACE(getDTypeName(dtype).str());
    NumpyArray array = makeArray(dtype, {2, 3, 5});
    std::string bytes = serializeNpy(array);

    // numpy aligns the start of the data to 64 bytes.
    EXPECT_EQ((bytes.size() - array.bytes.size()) % 64, 0u);
    llvm::Expected<NumpyArray> parsed = parseNpy(bytes, "test.npy");
    ASSERT_TRUE(static_cast<bool>(parsed)) << errorMessage(parsed.takeError());
    expectSameArray(*parsed, array);
  }
}

TEST(NumpyIO, NpyRoundTripShapes) {
  const std::vector<std::vector<int64_t>> shapes = {
      {}, {1}, {7}, {0}, {3, 0, 2}, {1, 1, 1, 1, 1}};
  for (const std::vector<int64_t> &shape : shapes) {
    NumpyArray array = makeArray(NumpyDType::Float32, shape);
    llvm::Expected<NumpyArray> parsed =
        parseNpy(serializeNpy(array), "test.npy");
    ASSERT_TRUE(static_cast<bool>(parsed)) << errorMessage(parsed.takeError());
    expectSameArray(*parsed, array);
  }
}

TEST(NumpyIO, NpyHeaderOneDimTuple) {
  NumpyArray array = makeArray(NumpyDType::Int64, {4});
  std::string bytes = serializeNpy(array);
  EXPECT_NE(bytes.find("'shape': (4,)"), std::string::npos);
  EXPECT_NE(bytes.find("'descr': '<i8'"), std::string::npos);
}

TEST(NumpyIO, NpyParsesNumpyHeaderVariants) {
  // Version 2.0 header, double quotes, no trailing comma, extra spaces.
  std::string header =
      "{\"descr\": \"<f8\", \"fortran_order\": False, \"shape\": ( 2 , 1 ) }";
  header.append(64 - (12 + header.size() + 1) % 64, ' ');
  header += '\n';
  std::string bytes("\x93NUMPY\x02\x00", 8);
  uint32_t length = header.size();
  bytes.append(reinterpret_cast<const char *>(&length), 4);
  bytes += header;
  double values[] = {1.5, -2.25};
  bytes.append(reinterpret_cast<const char *>(values), sizeof(values));

  llvm::Expected<NumpyArray> parsed = parseNpy(bytes, "v2.npy");
  ASSERT_TRUE(static_cast<bool>(parsed)) << errorMessage(parsed.takeError());
  EXPECT_EQ(parsed->dtype, NumpyDType::Float64);
  EXPECT_EQ(parsed->shape, (llvm::SmallVector<int64_t>{2, 1}));
  EXPECT_EQ(parsed->getAsDouble(0), 1.5);
  EXPECT_EQ(parsed->getAsDouble(1), -2.25);
}

TEST(NumpyIO, NpyRejectsBadMagic) {
  llvm::Expected<NumpyArray> parsed = parseNpy("PK\x03\x04 nonsense", "x.npy");
  ASSERT_FALSE(static_cast<bool>(parsed));
  EXPECT_NE(errorMessage(parsed.takeError()).find("x.npy: not an .npy file"),
            std::string::npos);
}

TEST(NumpyIO, NpyRejectsTruncatedData) {
  std::string bytes = serializeNpy(makeArray(NumpyDType::Float32, {10}));
  bytes.resize(bytes.size() - 4);
  llvm::Expected<NumpyArray> parsed = parseNpy(bytes, "short.npy");
  ASSERT_FALSE(static_cast<bool>(parsed));
  EXPECT_NE(errorMessage(parsed.takeError()).find("truncated data"),
            std::string::npos);
}

TEST(NumpyIO, NpyRejectsFortranOrder) {
  std::string bytes = serializeNpy(makeArray(NumpyDType::Float32, {2, 2}));
  size_t position = bytes.find("False");
  ASSERT_NE(position, std::string::npos);
  bytes.replace(position, 5, "True ");
  llvm::Expected<NumpyArray> parsed = parseNpy(bytes, "f.npy");
  ASSERT_FALSE(static_cast<bool>(parsed));
  EXPECT_NE(errorMessage(parsed.takeError()).find("Fortran-order"),
            std::string::npos);
}

TEST(NumpyIO, NpyRejectsBigEndianAndUnknownDTypes) {
  for (llvm::StringRef descriptor : {">f4", "<c8", "<U4", "|O"}) {
    SCOPED_TRACE(descriptor.str());
    std::string bytes = serializeNpy(makeArray(NumpyDType::Float32, {1}));
    size_t position = bytes.find("<f4");
    ASSERT_NE(position, std::string::npos);
    std::string padded = descriptor.str();
    bytes.replace(position, 3, padded);
    llvm::Expected<NumpyArray> parsed = parseNpy(bytes, "d.npy");
    ASSERT_FALSE(static_cast<bool>(parsed));
    EXPECT_NE(errorMessage(parsed.takeError()).find("unsupported dtype"),
              std::string::npos);
  }
}

TEST(NumpyIO, DTypeDescriptors) {
  EXPECT_EQ(parseDTypeDescriptor("<f4"), NumpyDType::Float32);
  EXPECT_EQ(parseDTypeDescriptor("=i8"), NumpyDType::Int64);
  EXPECT_EQ(parseDTypeDescriptor("|b1"), NumpyDType::Bool);
  EXPECT_EQ(parseDTypeDescriptor("|u1"), NumpyDType::UInt8);
  EXPECT_EQ(parseDTypeDescriptor("<u1"), NumpyDType::UInt8);
  EXPECT_EQ(parseDTypeDescriptor(">i4"), std::nullopt);
  EXPECT_EQ(parseDTypeDescriptor("<f16"), std::nullopt);
}

TEST(NumpyIO, NpzRoundTripStoredAndCompressed) {
  std::vector<NamedArray> arrays;
  for (NumpyDType dtype : kAllDTypes)
    arrays.push_back({getDTypeName(dtype).str(), makeArray(dtype, {3, 4})});
  arrays.push_back({"scalar", makeArray(NumpyDType::Float64, {})});
  arrays.push_back({"empty", makeArray(NumpyDType::Int32, {0, 5})});

  for (bool compress : {false, true}) {
    SCOPED_TRACE(compress ? "compressed" : "stored");
    llvm::Expected<std::string> archive = serializeNpz(arrays, compress);
    ASSERT_TRUE(static_cast<bool>(archive))
        << errorMessage(archive.takeError());
    llvm::Expected<std::vector<NamedArray>> parsed =
        parseNpz(*archive, "round.npz");
    ASSERT_TRUE(static_cast<bool>(parsed)) << errorMessage(parsed.takeError());
    ASSERT_EQ(parsed->size(), arrays.size());
    for (size_t index = 0; index < arrays.size(); ++index) {
      EXPECT_EQ((*parsed)[index].name, arrays[index].name);
      expectSameArray((*parsed)[index].array, arrays[index].array);
    }
  }
}

TEST(NumpyIO, NpzCompressionShrinksRepetitiveData) {
  NumpyArray zeros(NumpyDType::Float32, {256, 256});
  llvm::Expected<std::string> stored = serializeNpz({{"z", zeros}}, false);
  llvm::Expected<std::string> compressed = serializeNpz({{"z", zeros}}, true);
  ASSERT_TRUE(static_cast<bool>(stored));
  ASSERT_TRUE(static_cast<bool>(compressed));
  EXPECT_LT(compressed->size() * 10, stored->size());
}

TEST(NumpyIO, NpzRejectsCorruptMember) {
  llvm::Expected<std::string> archive =
      serializeNpz({{"a", makeArray(NumpyDType::Int32, {16})}}, false);
  ASSERT_TRUE(static_cast<bool>(archive));
  // Flip a byte of the member data; the CRC-32 check must catch it.
  std::string corrupt = *archive;
  size_t position = corrupt.find("NUMPY") + 150;
  ASSERT_LT(position, corrupt.size());
  corrupt[position] ^= 0x5a;
  llvm::Expected<std::vector<NamedArray>> parsed =
      parseNpz(corrupt, "corrupt.npz");
  ASSERT_FALSE(static_cast<bool>(parsed));
  EXPECT_NE(errorMessage(parsed.takeError()).find("CRC-32 mismatch"),
            std::string::npos);
}

TEST(NumpyIO, NpzRejectsNonZipData) {
  llvm::Expected<std::vector<NamedArray>> parsed =
      parseNpz(std::string(100, 'x'), "junk.npz");
  ASSERT_FALSE(static_cast<bool>(parsed));
  EXPECT_NE(errorMessage(parsed.takeError())
                .find("junk.npz: invalid .npz archive"),
            std::string::npos);
}

TEST(NumpyIO, FileRoundTrip) {
  llvm::SmallString<128> directory;
  ASSERT_FALSE(
      llvm::sys::fs::createUniqueDirectory("rill-numpy-io", directory));
  llvm::SmallString<128> npyPath(directory), npzPath(directory);
  llvm::sys::path::append(npyPath, "weights.npy");
  llvm::sys::path::append(npzPath, "arrays.npz");

  NumpyArray array = makeArray(NumpyDType::Float16, {4, 2});
  ASSERT_FALSE(static_cast<bool>(writeNpyFile(npyPath, array)));
  llvm::Expected<std::vector<NamedArray>> fromNpy = readArrayFile(npyPath);
  ASSERT_TRUE(static_cast<bool>(fromNpy)) << errorMessage(fromNpy.takeError());
  ASSERT_EQ(fromNpy->size(), 1u);
  EXPECT_EQ(fromNpy->front().name, "weights");
  expectSameArray(fromNpy->front().array, array);

  ASSERT_FALSE(static_cast<bool>(
      writeNpzFile(npzPath, {{"x", array}}, /*compress=*/true)));
  llvm::Expected<std::vector<NamedArray>> fromNpz = readArrayFile(npzPath);
  ASSERT_TRUE(static_cast<bool>(fromNpz)) << errorMessage(fromNpz.takeError());
  ASSERT_EQ(fromNpz->size(), 1u);
  EXPECT_EQ(fromNpz->front().name, "x");
  expectSameArray(fromNpz->front().array, array);

  llvm::sys::fs::remove_directories(directory);
}

TEST(NumpyIO, MissingFileNamesPath) {
  llvm::Expected<std::vector<NamedArray>> parsed =
      readNpzFile("/nonexistent/rill/inputs.npz");
  ASSERT_FALSE(static_cast<bool>(parsed));
  EXPECT_NE(errorMessage(parsed.takeError())
                .find("cannot read '/nonexistent/rill/inputs.npz'"),
            std::string::npos);
}

TEST(NumpyIO, HalfToDouble) {
  // 0x3c00 = 1.0, 0xc000 = -2.0, 0x0001 = 2^-24 (smallest subnormal).
  uint16_t halves[] = {0x3c00, 0xc000, 0x0001, 0x7bff};
  NumpyArray array = NumpyArray::fromValues<uint16_t>(NumpyDType::Float16, {4},
                                                      halves);
  EXPECT_EQ(array.getAsDouble(0), 1.0);
  EXPECT_EQ(array.getAsDouble(1), -2.0);
  EXPECT_EQ(array.getAsDouble(2), std::ldexp(1.0, -24));
  EXPECT_EQ(array.getAsDouble(3), 65504.0);
}

} // namespace
