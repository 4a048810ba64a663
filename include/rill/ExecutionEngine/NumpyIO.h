//===- NumpyIO.h - read and write numpy .npy and .npz files -----*- C++ -*-===//
//
// Reads and writes numpy arrays in the .npy format (versions 1.0 to 3.0,
// C order, little-endian) and archives of them in the .npz format (zip files
// whose members are stored or deflate-compressed). The JIT runner takes its
// inputs from these files and writes its outputs to them, so tests and the
// Python side can exchange tensors with compiled code.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_EXECUTIONENGINE_NUMPYIO_H
#define RILL_EXECUTIONENGINE_NUMPYIO_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace mlir::rill {

/// Element types of numpy arrays that Rill reads and writes.
enum class NumpyDType {
  Bool,
  Int8,
  UInt8,
  Int16,
  UInt16,
  Int32,
  UInt32,
  Int64,
  UInt64,
  Float16,
  Float32,
  Float64,
};

/// Returns the size in bytes of one element of `dtype`.
size_t getDTypeSize(NumpyDType dtype);

/// Returns the numpy name of `dtype` ("float32", "bool", ...).
llvm::StringRef getDTypeName(NumpyDType dtype);

/// Returns the .npy type descriptor of `dtype` ("<f4", "|b1", ...).
llvm::StringRef getDTypeDescriptor(NumpyDType dtype);

/// Parses a .npy type descriptor such as "<f4" or "|u1". Returns
/// std::nullopt for big-endian, structured and unsupported types.
std::optional<NumpyDType> parseDTypeDescriptor(llvm::StringRef descriptor);

/// A dense array in C order with little-endian elements.
struct NumpyArray {
  NumpyDType dtype = NumpyDType::Float32;
  llvm::SmallVector<int64_t> shape;
  /// The elements, `getNumElements() * getDTypeSize(dtype)` bytes.
  std::vector<uint8_t> bytes;

  NumpyArray() = default;
  /// Creates a zero-filled array of the given type and shape.
  NumpyArray(NumpyDType dtype, llvm::ArrayRef<int64_t> shape);

  /// Creates an array that copies `values`; `T` must match `dtype` in size.
  template <typename T>
  static NumpyArray fromValues(NumpyDType dtype, llvm::ArrayRef<int64_t> shape,
                               llvm::ArrayRef<T> values) {
    NumpyArray array(dtype, shape);
    std::memcpy(array.bytes.data(), values.data(),
                std::min(array.bytes.size(), values.size() * sizeof(T)));
    return array;
  }

  int64_t getNumElements() const;
  int64_t getRank() const { return static_cast<int64_t>(shape.size()); }

  /// Returns element `index` (in C order) converted to double.
  double getAsDouble(int64_t index) const;

  /// Returns the elements reinterpreted as `T`.
  template <typename T> llvm::ArrayRef<T> getValues() const {
    return {reinterpret_cast<const T *>(bytes.data()),
            bytes.size() / sizeof(T)};
  }

  /// Returns the dtype and shape as text, for example "float32[2, 3]".
  std::string describe() const;
};

/// One member of an .npz archive: the member name without ".npy".
struct NamedArray {
  std::string name;
  NumpyArray array;
};

/// Parses the contents of an .npy file. `fileName` only labels errors.
llvm::Expected<NumpyArray> parseNpy(llvm::StringRef contents,
                                    llvm::StringRef fileName);

/// Serializes `array` in the .npy format, version 1.0 (2.0 when the header
/// does not fit in 64 KiB).
std::string serializeNpy(const NumpyArray &array);

/// Parses the contents of an .npz archive; members keep their archive order.
llvm::Expected<std::vector<NamedArray>> parseNpz(llvm::StringRef contents,
                                                 llvm::StringRef fileName);

/// Serializes `arrays` as an .npz archive, deflate-compressed if `compress`
/// (like numpy.savez_compressed), else stored (like numpy.savez).
/// NOTE: the writer does not emit zip64 records, so members and the
/// archive must stay below 4 GiB; larger inputs return an error.
llvm::Expected<std::string> serializeNpz(llvm::ArrayRef<NamedArray> arrays,
                                         bool compress);

/// Reads an .npy file.
llvm::Expected<NumpyArray> readNpyFile(llvm::StringRef path);

/// Writes an .npy file.
llvm::Error writeNpyFile(llvm::StringRef path, const NumpyArray &array);

/// Reads an .npz archive.
llvm::Expected<std::vector<NamedArray>> readNpzFile(llvm::StringRef path);

/// Writes an .npz archive.
llvm::Error writeNpzFile(llvm::StringRef path,
                         llvm::ArrayRef<NamedArray> arrays,
                         bool compress = false);

/// Reads either an .npz archive or a single .npy file, chosen by the file
/// contents; a lone .npy array is named after the file stem ("q.npy" -> "q").
llvm::Expected<std::vector<NamedArray>> readArrayFile(llvm::StringRef path);

} // namespace mlir::rill

#endif // RILL_EXECUTIONENGINE_NUMPYIO_H
