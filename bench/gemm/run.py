#!/usr/bin/env python3
# ===- bench/gemm/run.py - GEMM codegen against OpenBLAS and the FMA peak -=== #
"""Compare code generation routes for the matrix products of Rill's models.

For each GEMM shape C[M,N] += A[M,K] * B[K,N] (float32, row-major) this
compiles one tensor-level MLIR function per route, links all of them with
harness.c, and runs them in one process next to OpenBLAS's cblas_sgemm (one
thread) and the fp32 FMA peak measured by the same binary:

- loops: linalg to scalar loops, as rill-reference-pipeline lowers it, then
  LLVM -O3 (which auto-vectorizes the innermost loop);
- upstream: upstream linalg codegen driven by a transform script: tile into
  8x32 register blocks with a reduction step of 1, peel partial tiles,
  vectorize, hoist the accumulator out of the reduction loop, lower
  vector.contract to outer products and FMAs;
- rillc: rillc --pipeline=cpu --emit=obj (the model codegen of
  lib/Conversion/ModelCodegen), when build/bin/rillc exists, with B passed
  as an argument, so the kernel reads it in place;
- rillc-packed: the same with B a constant, as the weights of a compiled
  model are, which rillc repacks into panels of one register block's
  columns. The constant contains the values the harness fills B with, so the
  error column checks it. Shapes with more than --max-packed-weights
  elements skip it (the constant is written into the MLIR file).

`--packed-variants 6x4,12x2` adds one rillc-packed route per register block
(rows x vectors, passed as `--cpu-options`), to tune the block side by side,
regardless of `--routes`; `--shapes 256x768x2048,...` replaces the shape list
and `--routes` keeps only some of the four routes above.

One command: `python3 bench/gemm/run.py [--quick] [--build-dir build]`. It
prints a table and writes bench/gemm/results.csv. Times are the best of
three repetitions; the machine may be shared, so compare ratios within one
run.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LLVM_BIN = Path("/usr/lib/llvm-22/bin")

# (model, M, K, N). M is the number of tokens T of one call.
def shapes(quick: bool) -> list[tuple[str, int, int, int]]:
    stories = [(64, 64), (64, 172), (172, 64), (64, 512)]
    llama = [(768, 768), (1024, 1024), (1024, 2816), (2816, 1024), (1024, 32000)]
    tokens = [1, 64] if quick else [1, 64, 512]
    result = []
    for t in tokens:
        result += [("stories260K", t, k, n) for k, n in stories]
        llama_shapes = llama if not quick else llama[:2]
        result += [("llama-100M", t, k, n) for k, n in llama_shapes]
    return result


def tensor_function(name: str, m: int, k: int, n: int) -> str:
    return f"""
func.func @{name}(%a: tensor<{m}x{k}xf32>, %b: tensor<{k}x{n}xf32>,
    %c: tensor<{m}x{n}xf32> {{bufferization.writable = true}}) -> tensor<{m}x{n}xf32> {{
  %r = linalg.matmul ins(%a, %b : tensor<{m}x{k}xf32>, tensor<{k}x{n}xf32>)
                     outs(%c : tensor<{m}x{n}xf32>) -> tensor<{m}x{n}xf32>
  return %r : tensor<{m}x{n}xf32>
}}
"""


def harness_values(count: int, seed: int) -> np.ndarray:
    """Return the values harness.c's fillRandom writes: a 32-bit linear
    congruential sequence, computed 4096 steps at a time."""
    multiplier, increment, block = 1664525, 1013904223, 4096
    first = np.empty(block, dtype=np.uint64)
    state = seed
    for i in range(block):
        state = (state * multiplier + increment) & 0xFFFFFFFF
        first[i] = state
    # Jumping `block` steps ahead is one affine map s -> a * s + c.
    jump_a, jump_c = 1, 0
    for _ in range(block):
        jump_a, jump_c = (jump_a * multiplier) & 0xFFFFFFFF, (jump_c * multiplier + increment) & 0xFFFFFFFF
    states = np.empty(((count + block - 1) // block, block), dtype=np.uint64)
    states[0] = first
    for row in range(1, states.shape[0]):
        states[row] = (states[row - 1] * np.uint64(jump_a) + np.uint64(jump_c)) & np.uint64(0xFFFFFFFF)
    states = states.reshape(-1)[:count]
    return (((states >> np.uint64(8)) & np.uint64(0xFFFF)).astype(np.float32) / np.float32(65536.0)
            - np.float32(0.5))


def packed_tensor_function(name: str, m: int, k: int, n: int) -> str:
    """Return tensor_function's source with B replaced by a constant of the harness's values."""
    weights = harness_values(k * n, 2)
    blob = (np.uint32(64).tobytes() + weights.astype("<f4").tobytes()).hex()
    return f"""
func.func @{name}(%a: tensor<{m}x{k}xf32>, %unused: tensor<{k}x{n}xf32>,
    %c: tensor<{m}x{n}xf32> {{bufferization.writable = true}}) -> tensor<{m}x{n}xf32> {{
  %b = arith.constant dense_resource<weights_{name}> : tensor<{k}x{n}xf32>
  %r = linalg.matmul ins(%a, %b : tensor<{m}x{k}xf32>, tensor<{k}x{n}xf32>)
                     outs(%c : tensor<{m}x{n}xf32>) -> tensor<{m}x{n}xf32>
  return %r : tensor<{m}x{n}xf32>
}}
{{-#
  dialect_resources: {{ builtin: {{ weights_{name}: "0x{blob}" }} }}
#-}}
"""


def upstream_schedule(m: int, n: int) -> str:
    """The transform script of the upstream route for one shape."""
    row_tile = 8 if m >= 8 else 1
    peel = ""
    if n % 32 != 0 and n > 32:
        peel += """
    %lnc = transform.cast %ln : !transform.any_op to !transform.op<"scf.for">
    %mainn, %restn = transform.loop.peel %lnc : (!transform.op<"scf.for">) -> (!transform.any_op, !transform.any_op)"""
    if m % row_tile != 0:
        peel += """
    %lmc = transform.cast %lm : !transform.any_op to !transform.op<"scf.for">
    %mainm, %restm = transform.loop.peel %lmc : (!transform.op<"scf.for">) -> (!transform.any_op, !transform.any_op)"""
    return f"""
module attributes {{transform.with_named_sequence}} {{
  transform.named_sequence @__transform_main(%root: !transform.any_op {{transform.consumed}}) {{
    %mm = transform.structured.match ops{{["linalg.matmul"]}} in %root : (!transform.any_op) -> !transform.any_op
    %tiled, %lm, %ln, %lk = transform.structured.tile_using_for %mm tile_sizes [{row_tile}, 32, 1] : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)
    {peel}
    %func = transform.structured.match ops{{["func.func"]}} in %root : (!transform.any_op) -> !transform.any_op
    transform.apply_patterns to %func {{
      transform.apply_patterns.canonicalization
    }} : !transform.any_op
    %func2 = transform.structured.vectorize_children_and_apply_patterns %func : (!transform.any_op) -> !transform.any_op
    transform.apply_patterns to %func2 {{
      transform.apply_patterns.canonicalization
    }} : !transform.any_op
    %loops = transform.structured.match ops{{["scf.for"]}} in %func2 : (!transform.any_op) -> !transform.any_op
    transform.foreach %loops : !transform.any_op {{
    ^bb0(%loop: !transform.any_op):
      transform.loop.hoist_loop_invariant_subsets %loop : !transform.any_op
    }}
    transform.apply_patterns to %func2 {{
      transform.apply_patterns.vector.lower_contraction lowering_strategy = "outerproduct"
      transform.apply_patterns.vector.lower_outerproduct
      transform.apply_patterns.canonicalization
    }} : !transform.any_op
    %bufferized = transform.bufferization.one_shot_bufferize %root {{bufferize_function_boundaries = true, function_boundary_type_conversion = 1 : i32}} : (!transform.any_op) -> !transform.any_op
    %func3 = transform.structured.match ops{{["func.func"]}} in %bufferized : (!transform.any_op) -> !transform.any_op
    transform.apply_patterns to %func3 {{
      transform.apply_patterns.vector.transfer_permutation_patterns
      transform.apply_patterns.vector.lower_transfer max_transfer_rank = 1
      transform.apply_patterns.canonicalization
    }} : !transform.any_op
    transform.yield
  }}
}}
"""


ROUTES = ("loops", "upstream", "rillc", "rillc-packed")

LOWER_TO_LLVM = [
    "--convert-vector-to-scf=full-unroll=true", "--lower-affine", "--convert-scf-to-cf",
    "--expand-strided-metadata", "--lower-affine", "--finalize-memref-to-llvm",
    "--convert-vector-to-llvm", "--convert-arith-to-llvm", "--convert-index-to-llvm",
    "--convert-cf-to-llvm", "--convert-func-to-llvm", "--convert-ub-to-llvm",
    "--reconcile-unrealized-casts",
]
BUFFERIZE = ["--one-shot-bufferize=bufferize-function-boundaries "
             "function-boundary-type-conversion=identity-layout-map"]


def run(command: list[str], **kwargs) -> None:
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        sys.exit(f"command failed: {' '.join(command)}\n{result.stderr[-3000:]}")


def compile_mlir_route(work: Path, name: str, source: str, passes: list[str],
                       schedule: str | None) -> Path:
    """Lowers `source` with mlir-opt and compiles it with clang -O3 -march=native."""
    mlir = work / f"{name}.mlir"
    mlir.write_text(source)
    lowered = work / f"{name}.llvm.mlir"
    command = [str(LLVM_BIN / "mlir-opt"), str(mlir)]
    if schedule is not None:
        schedule_path = work / f"{name}.schedule.mlir"
        schedule_path.write_text(schedule)
        command += [f"--transform-preload-library=transform-library-paths={schedule_path}",
                    "--transform-interpreter", "--canonicalize"]
    command += passes + ["--llvm-request-c-wrappers"] + LOWER_TO_LLVM + ["-o", str(lowered)]
    run(command)
    ll = work / f"{name}.ll"
    run([str(LLVM_BIN / "mlir-translate"), "--mlir-to-llvmir", str(lowered), "-o", str(ll)])
    obj = work / f"{name}.o"
    run(["clang-22", "-c", "-O3", "-march=native", "-Wno-override-module", str(ll), "-o", str(obj)])
    return obj


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer shapes (T in 1, 64)")
    parser.add_argument("--build-dir", type=Path, default=ROOT / "build",
                        help="Rill build folder with bin/rillc (default: build)")
    parser.add_argument("--seconds", type=float, default=0.3,
                        help="measuring time per kernel in seconds (default 0.3)")
    parser.add_argument("--max-loops-gflop", type=float, default=2.0,
                        help="skip the scalar-loop route above this many GFLOP per call")
    parser.add_argument("--max-packed-weights", type=int, default=1 << 22,
                        help="largest K x N that the rillc-packed route compiles as a constant")
    parser.add_argument("--shapes", default="",
                        help="comma-separated MxKxN shapes instead of the built-in list")
    parser.add_argument("--routes", default="loops,upstream,rillc,rillc-packed",
                        help="routes to run, comma-separated (default: %(default)s)")
    parser.add_argument("--packed-variants", default="",
                        help="comma-separated RxV register blocks (rows x vectors); each adds a rillc-packed route")
    parser.add_argument("--csv", type=Path, default=HERE / "results.csv")
    args = parser.parse_args()
    shape_list = shapes(args.quick)
    if args.shapes:
        shape_list = []
        for shape in args.shapes.split(","):
            if not re.fullmatch(r"[1-9][0-9]*x[1-9][0-9]*x[1-9][0-9]*", shape.strip()):
                parser.error(f"--shapes takes MxKxN,... with positive integers (got '{shape}')")
            m, k, n = (int(v) for v in shape.strip().split("x"))
            if ("custom", m, k, n) not in shape_list:
                shape_list.append(("custom", m, k, n))
    selected_routes = [route.strip() for route in args.routes.split(",") if route.strip()]
    unknown = sorted(set(selected_routes) - set(ROUTES))
    if unknown or not selected_routes:
        parser.error(f"--routes takes some of {', '.join(ROUTES)} (got '{args.routes}')")
    variants = {}
    for variant in filter(None, (v.strip() for v in args.packed_variants.split(","))):
        match = re.fullmatch(r"([0-9]+)x([0-9]+)", variant)
        rows, vectors = (int(match[1]), int(match[2])) if match else (0, 0)
        if not (1 <= rows and 1 <= vectors and rows * vectors <= 64):
            parser.error(f"--packed-variants takes RxV,... with rows x vectors from 1 to 64, such as 6x4 "
                         f"(got '{variant}')")
        variants[f"rillc-packed-{rows}x{vectors}"] = f"matmul-row-tile={rows} matmul-column-vectors={vectors}"

    # The development package provides the unversioned library the link needs.
    found = subprocess.run(["clang-22", "-print-file-name=libopenblas.so"], capture_output=True, text=True).stdout
    if not Path(found.strip()).is_absolute():
        sys.exit("error: bench/gemm/run.py links OpenBLAS, which is not installed; "
                 "run `apt-get install libopenblas-dev`")
    rillc = args.build_dir / "bin" / "rillc"
    if not rillc.is_file() and ({"rillc", "rillc-packed"} & set(selected_routes) or variants):
        sys.exit(f"error: {rillc} not found, needed by the rillc routes; build Rill or pass --build-dir")
    work = Path(tempfile.mkdtemp(prefix="rill-gemm-"))
    try:
        run_routes(args, shape_list, selected_routes, variants, rillc, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_routes(args, shape_list, selected_routes, variants, rillc: Path, work: Path) -> None:
    """Compiles every route of every shape into one harness, runs it and prints the table."""
    kernels = []
    objects = []
    for model, m, k, n in shape_list:
        routes = []
        if 2.0 * m * k * n / 1e9 <= args.max_loops_gflop:
            routes.append("loops")
        routes.append("upstream")
        if rillc.is_file():
            routes.append("rillc")
            if k * n <= args.max_packed_weights:
                routes.append("rillc-packed")
        routes = [route for route in routes if route in selected_routes]
        if rillc.is_file() and k * n <= args.max_packed_weights:
            routes += list(variants)
        for route in routes:
            name = f"{route}_{m}x{k}x{n}"
            source = tensor_function(name, m, k, n)
            if route == "loops":
                obj = compile_mlir_route(work, name, source, BUFFERIZE + ["--convert-linalg-to-loops"], None)
            elif route == "upstream":
                obj = compile_mlir_route(work, name, source, [], upstream_schedule(m, n))
            else:
                options = []
                if route.startswith("rillc-packed"):
                    name = f"packed{route[len('rillc-packed'):].replace('-', '_')}_{m}x{k}x{n}"
                    source = packed_tensor_function(name, m, k, n)
                    if route in variants:
                        options = ["--cpu-options", variants[route]]
                mlir = work / f"{name}.mlir"
                mlir.write_text(source)
                obj = work / f"{name}.o"
                run([str(rillc), str(mlir), "--pipeline=cpu", "--march=native", "--emit=obj", "-o", str(obj)] + options)
            objects.append(obj)
            kernels.append(f'KERNEL("{route}", {m}, {k}, {n}, _mlir_ciface_{name})')

    if not kernels:
        sys.exit("error: no kernel left to run; the shapes exceed --max-loops-gflop or --max-packed-weights "
                 "for the routes in --routes")
    (work / "kernels.inc").write_text("\n".join(kernels) + "\n")
    harness = work / "harness"
    run(["clang-22", "-O2", "-march=native", "-I", str(work), str(HERE / "harness.c")]
        + [str(o) for o in objects] + ["-o", str(harness), "-lopenblas", "-lm", "-lomp"])

    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    output = subprocess.run([str(harness), str(args.seconds)], capture_output=True, text=True, env=env, check=True).stdout

    peaks = {}
    rows = []
    for line in output.splitlines():
        fields = line.split(",")
        if fields[0] == "peak":
            peaks[fields[1]] = float(fields[2])
        elif fields[0] == "kernel":
            rows.append({"route": fields[1], "M": int(fields[2]), "K": int(fields[3]), "N": int(fields[4]),
                         "gflops": float(fields[5]), "max_abs_error": float(fields[6])})
    peak = peaks.get("avx512", 0.0)
    blas = {(r["M"], r["K"], r["N"]): r["gflops"] for r in rows if r["route"] == "openblas"}
    for row in rows:
        row["fraction_of_peak"] = row["gflops"] / peak if peak else 0.0
        row["fraction_of_openblas"] = row["gflops"] / blas[(row["M"], row["K"], row["N"])]

    args.csv.parent.mkdir(parents=True, exist_ok=True)
    with open(args.csv, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0].keys()))
        writer.writeheader()
        writer.writerows(rows)

    print(f"fp32 FMA peak, one core: AVX-512 {peaks.get('avx512', 0):.1f} GFLOP/s, "
          f"AVX2 {peaks.get('avx2', 0):.1f} GFLOP/s")
    print(f"{'M':>5} {'K':>5} {'N':>6} {'route':>18} {'GFLOP/s':>8} {'%peak':>6} {'xBLAS':>6} {'max err':>8}")
    for row in rows:
        print(f"{row['M']:>5} {row['K']:>5} {row['N']:>6} {row['route']:>18} {row['gflops']:>8.1f} "
              f"{100 * row['fraction_of_peak']:>5.0f}% {row['fraction_of_openblas']:>6.2f} {row['max_abs_error']:>8.2g}")
    if any(row["fraction_of_peak"] > 1.0 for row in rows):
        print("NOTE: some kernels ran above the measured peak, so the machine's speed changed during the run; "
              "compare the routes of one shape only.")
    print(f"CSV: {args.csv}")


if __name__ == "__main__":
    main()
