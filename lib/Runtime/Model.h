//===- Model.h - A compiled model library loaded with dlopen ----*- C++ -*-===//
//
// Model owns the dlopen handle of a library produced by `rillc` and the
// entry points of rill_model_abi.h. Sessions share a Model through a
// shared_ptr, so the library stays loaded until the last of them is freed.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_LIB_RUNTIME_MODEL_H
#define RILL_LIB_RUNTIME_MODEL_H

#include "Status.h"

#include <memory>
#include <mutex>
#include <string>

namespace rill::runtime {

class Model {
public:
  using MetadataFn = const rill_model_metadata *(*)();
  using StepFn = int32_t (*)(const rill_step_args *);
  using SetThreadsFn = void (*)(int32_t);

  /// Loads and validates the library at `path`.
  static Status load(const std::string &path, std::shared_ptr<Model> &model);

  ~Model();
  Model(const Model &) = delete;
  Model &operator=(const Model &) = delete;

  const rill_model_metadata &metadata() const { return *metadata_; }
  const std::string &path() const { return path_; }

  /// Runs rill_model_step; the library must be a streaming one.
  int32_t step(const rill_step_args &args) const { return step_(&args); }

  /// Calls rill_model_set_num_threads from the calling thread, once per
  /// thread and value. Compiled libraries use OpenMP, whose thread count is
  /// a per-thread setting, so each feeding thread must set it itself.
  void applyThreads(int32_t threads) const;

private:
  Model() = default;
  Status validate() const;

  std::string path_;
  void *handle_ = nullptr;
  const rill_model_metadata *metadata_ = nullptr;
  StepFn step_ = nullptr;
  SetThreadsFn setThreads_ = nullptr;
};

} // namespace rill::runtime

struct rill_model {
  std::shared_ptr<rill::runtime::Model> model;
};

#endif // RILL_LIB_RUNTIME_MODEL_H
