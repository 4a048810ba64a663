//===- Model.cpp - Loading and validating compiled model libraries --------===//
//
// Opens a `rillc` library with dlopen, checks its ABI version and metadata
// before anything runs, and implements the rill_model_* functions of the C
// API. Every error message names the library file.
//
//===----------------------------------------------------------------------===//

#include "Model.h"

#include <cerrno>
#include <cstring>
#include <dlfcn.h>
#include <new>
#include <sys/stat.h>

namespace rill::runtime {

namespace {

// dlerror() is process-wide state; serialize dlopen + dlerror so concurrent
// loads report their own error.
std::mutex &dlMutex() {
  static std::mutex mutex;
  return mutex;
}

bool isPositive(int64_t value) { return value > 0; }

} // namespace

Status Model::load(const std::string &path, std::shared_ptr<Model> &model) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0)
    return Status(RILL_ERROR_NOT_FOUND,
                  format("cannot open model library '%s': %s; pass the .so "
                         "file that `rillc model.onnx -o model.so` wrote",
                         path.c_str(), std::strerror(errno)));
  if (S_ISDIR(info.st_mode))
    return Status(RILL_ERROR_NOT_FOUND,
                  format("model library '%s' is a directory; pass the .so "
                         "file that rillc wrote",
                         path.c_str()));

  // dlopen searches LD_LIBRARY_PATH for names without a slash; a user who
  // names a file in the working directory means that file.
  std::string openPath = path.find('/') == std::string::npos ? "./" + path : path;

  std::unique_ptr<Model> loaded(new Model());
  loaded->path_ = path;
  {
    std::lock_guard<std::mutex> lock(dlMutex());
    loaded->handle_ = ::dlopen(openPath.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!loaded->handle_) {
      const char *reason = ::dlerror();
      return Status(RILL_ERROR_LOAD_FAILED,
                    format("cannot load model library '%s': %s; check that it "
                           "is a shared library built by rillc for this machine",
                           path.c_str(), reason ? reason : "unknown dlopen error"));
    }
  }

  auto metadataFn =
      reinterpret_cast<MetadataFn>(::dlsym(loaded->handle_, "rill_model_metadata_get"));
  if (!metadataFn)
    return Status(RILL_ERROR_LOAD_FAILED,
                  format("'%s' is not a Rill model library: it does not export "
                         "rill_model_metadata_get; compile the model with rillc",
                         path.c_str()));
  loaded->metadata_ = metadataFn();
  if (!loaded->metadata_)
    return Status(RILL_ERROR_INVALID_MODEL,
                  format("'%s': rill_model_metadata_get returned NULL",
                         path.c_str()));

  uint32_t version = loaded->metadata_->abi_version;
  if (version != RILL_MODEL_ABI_VERSION)
    return Status(RILL_ERROR_ABI_MISMATCH,
                  format("'%s' was compiled for model ABI version %u, but this "
                         "runtime supports version %d; recompile the model with "
                         "the rillc that matches this librill",
                         path.c_str(), version, RILL_MODEL_ABI_VERSION));

  loaded->step_ = reinterpret_cast<StepFn>(::dlsym(loaded->handle_, "rill_model_step"));
  loaded->setThreads_ =
      reinterpret_cast<SetThreadsFn>(::dlsym(loaded->handle_, "rill_model_set_num_threads"));
  if (Status status = loaded->validate(); !status.ok())
    return status;

  model.reset(loaded.release());
  return Status::success();
}

Status Model::validate() const {
  const rill_model_metadata &m = *metadata_;
  if (!m.is_streaming)
    return Status::success();

  if (!step_)
    return Status(RILL_ERROR_LOAD_FAILED,
                  format("'%s' declares a streaming model but does not export "
                         "rill_model_step; recompile it with rillc",
                         path_.c_str()));

  struct Field {
    const char *name;
    int64_t value;
  };
  const Field positive[] = {{"vocab_size", m.vocab_size}, {"num_layers", m.num_layers},
                            {"num_kv_heads", m.num_kv_heads}, {"head_dim", m.head_dim},
                            {"value_dim", m.value_dim}, {"max_capacity", m.max_capacity}};
  for (const Field &field : positive)
    if (!isPositive(field.value))
      return Status(RILL_ERROR_INVALID_MODEL,
                    format("'%s': invalid metadata, %s = %lld (expected > 0)",
                           path_.c_str(), field.name, (long long)field.value));

  if (m.vocab_size > INT32_MAX)
    return Status(RILL_ERROR_INVALID_MODEL,
                  format("'%s': vocab_size %lld does not fit int32 token ids",
                         path_.c_str(), (long long)m.vocab_size));
  if (m.max_chunk < 0 || m.trained_length < 0)
    return Status(RILL_ERROR_INVALID_MODEL,
                  format("'%s': invalid metadata, max_chunk = %lld, trained_length "
                         "= %lld (expected >= 0)",
                         path_.c_str(), (long long)m.max_chunk,
                         (long long)m.trained_length));
  if (m.default_capacity < 1 || m.default_capacity > m.max_capacity ||
      m.default_sinks < 0 || m.default_sinks >= m.default_capacity)
    return Status(RILL_ERROR_INVALID_MODEL,
                  format("'%s': invalid metadata, default_sinks = %lld and "
                         "default_capacity = %lld (expected 0 <= sinks < capacity "
                         "<= max_capacity = %lld)",
                         path_.c_str(), (long long)m.default_sinks,
                         (long long)m.default_capacity, (long long)m.max_capacity));
  return Status::success();
}

void Model::applyThreads(int32_t threads) const {
  if (!setThreads_)
    return;

  // One entry per thread: the last library and value this thread applied.
  thread_local const void *lastLibrary = nullptr;
  thread_local int32_t lastThreads = -1;
  if (lastLibrary == handle_ && lastThreads == threads)
    return;
  setThreads_(threads);
  lastLibrary = handle_;
  lastThreads = threads;
}

Model::~Model() {
  if (handle_)
    ::dlclose(handle_);
}

} // namespace rill::runtime

using namespace rill::runtime;

extern "C" {

rill_status rill_model_load(const char *path, rill_model **model, rill_error **error) {
  if (!path || !model)
    return report(Status(RILL_ERROR_INVALID_ARGUMENT,
                         "rill_model_load: path and model must not be NULL"),
                  error);
  *model = nullptr;
  try {
    std::shared_ptr<Model> loaded;
    if (Status status = Model::load(path, loaded); !status.ok())
      return report(status, error);
    *model = new rill_model{std::move(loaded)};
    return RILL_OK;
  } catch (const std::bad_alloc &) {
    return report(Status(RILL_ERROR_OUT_OF_MEMORY,
                         format("out of memory while loading '%s'", path)),
                  error);
  }
}

void rill_model_free(rill_model *model) { delete model; }

const rill_model_metadata *rill_model_get_metadata(const rill_model *model) {
  return model ? &model->model->metadata() : nullptr;
}

const char *rill_model_path(const rill_model *model) {
  return model ? model->model->path().c_str() : "";
}

} // extern "C"
