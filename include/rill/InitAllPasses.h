//===- InitAllPasses.h - register Rill's passes -----------------*- C++ -*-===//
//
// One place that registers every Rill pass and pipeline with the global pass
// registry, so that rill-opt and rillc accept them on the command line.
//
//===----------------------------------------------------------------------===//

#ifndef RILL_INITALLPASSES_H
#define RILL_INITALLPASSES_H

#include "rill/Conversion/Passes.h"
#include "rill/Conversion/CPUPipeline/CPUPipeline.h"
#include "rill/Conversion/ModelCodegen/ModelCodegen.h"
#include "rill/Conversion/Pipelines.h"
#include "rill/Conversion/RillToSCF/RillToSCF.h"
#include "rill/Dialect/Rill/Transforms/Passes.h"

namespace mlir::rill {

#ifdef RILL_INCLUDE_TEST_PASSES
namespace test {
void registerTestMaskVisibilityPass();
} // namespace test
#endif

/// Registers all Rill passes and pipelines, plus the test passes under
/// test/lib when the including tool defines RILL_INCLUDE_TEST_PASSES and
/// links RillTestDialect (rill-opt does).
inline void registerAllPasses() {
  registerRillConversionPasses();
  registerReferencePipeline();
  registerRillToSCFPasses();
  registerCPUPipeline();
  registerModelCodegenPass();
  registerRillPasses();
#ifdef RILL_INCLUDE_TEST_PASSES
  test::registerTestMaskVisibilityPass();
#endif
}

} // namespace mlir::rill

#endif // RILL_INITALLPASSES_H
