//===- rill-opt.cpp - Rill's MLIR optimizer driver -------------*- C++ -*-===//
//
// The mlir-opt of Rill: parses MLIR, runs any registered upstream or Rill
// pass or pipeline on it and prints the result. lit tests drive it.
//
//===----------------------------------------------------------------------===//

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "rill/InitAllDialects.h"
#include "rill/InitAllPasses.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::rill::registerAllPasses();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::rill::registerAllDialects(registry);

  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Rill optimizer driver\n", registry));
}
