//===- InitAllPasses.h - register Rill's passes -----------------*- C++ -*-===//
//
// One place that registers every Rill pass and pipeline with the global pass
// registry, so that rill-opt and rillc accept them on the command line.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_INITALLPASSES_H
#define RILL_INITALLPASSES_H

namespace mlir::rill {

/// Registers all Rill passes and pipelines.
inline void registerAllPasses() {}

} // namespace mlir::rill

#endif // RILL_INITALLPASSES_H
