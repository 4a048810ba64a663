#!/usr/bin/env bash
# common.sh - shared set-up for scripts/test and scripts/demo.
#
# Sourced, not run. Installs the Debian packages Rill needs (only the missing
# ones, quietly), installs ONNX Runtime for Node.js into ort/, then configures
# and incrementally builds the C++ tree in $RILL_BUILD_DIR (default: build/).

set -euo pipefail

RILL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RILL_BUILD_DIR="${RILL_BUILD_DIR:-$RILL_ROOT/build}"
RILL_PYTHON=/usr/bin/python3
export RILL_ROOT RILL_BUILD_DIR RILL_PYTHON

RILL_PACKAGES=(
  cmake ninja-build ccache git
  clang-22 llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools libomp-22-dev
  libonnx-dev libprotobuf-dev protobuf-compiler libonnx-testdata
  libgtest-dev libgmock-dev nlohmann-json3-dev libsentencepiece-dev zlib1g-dev
  python3 python3-numpy python3-onnx python3-torch python3-pytest
  python3-matplotlib python3-tqdm
)

# Installs the packages from RILL_PACKAGES that dpkg does not list as installed.
rill_install_packages() {
  local missing=()
  local package
  for package in "${RILL_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$package")
    fi
  done
  if ! command -v node >/dev/null 2>&1; then
    missing+=(nodejs npm)
  fi
  if [ "${#missing[@]}" -eq 0 ]; then
    return 0
  fi

  echo "rill: installing missing packages: ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Installs onnxruntime-node into ort/node_modules unless it is already there.
# --ignore-scripts is needed: the package's install script tries to download
# extra binaries, which fails without internet access; the CPU library ships
# inside the package itself.
rill_install_ort() {
  if [ -f "$RILL_ROOT/ort/package.json" ] && [ ! -d "$RILL_ROOT/ort/node_modules/onnxruntime-node" ]; then
    echo "rill: installing onnxruntime-node into ort/"
    (cd "$RILL_ROOT/ort" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  fi
}

# Configures the build tree once, then builds every target incrementally.
# CCACHE_BASEDIR makes ccache hash paths relative to the checkout, so two
# clones of the repository share cached objects.
rill_build() {
  export CCACHE_BASEDIR="$RILL_ROOT"
  if [ ! -f "$RILL_BUILD_DIR/build.ninja" ]; then
    cmake -G Ninja -S "$RILL_ROOT" -B "$RILL_BUILD_DIR" \
      -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
      -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
      -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit >/dev/null
  fi
  ninja -C "$RILL_BUILD_DIR" ${RILL_NINJA_FLAGS:-}
}

rill_setup() {
  rill_install_packages
  rill_install_ort
  rill_build
  export PATH="$RILL_BUILD_DIR/bin:$PATH"
  export PYTHONPATH="$RILL_ROOT/python${PYTHONPATH:+:$PYTHONPATH}"
}
