# ===- bench/attention/run.py - Attention kernel benchmarks -------------=== #
"""Benchmark Rill's tiled attention kernels against this machine's ceilings and
ONNX Runtime.

For every case (decode step or prefill, mask, cache or sequence length, head
sizes) the script compiles one rill.attention function with
`rill-cpu-pipeline` ahead of time (see aot.py), times it with timer.c, and
times the closest ONNX Runtime 1.30 graph (com.microsoft GroupQueryAttention,
with local_window_size for windows, or MultiHeadAttention with an additive
mask for BigBird) through ort_bench.js in the same run. machine.c measures
the memory bandwidth (STREAM-style triad) and fp32 FMA peak first, with the
same thread count, so the fractions below compare numbers taken minutes apart
on the same, possibly shared, machine.

Times are the minimum over the timed calls (at least 5 and --min-seconds),
for Rill and ONNX Runtime alike: on a shared machine the fastest call is the
one least disturbed by other processes. Decode cases report achieved bandwidth over the key and value bytes that the
mask makes visible; prefill cases report GFLOP/s over the visible
(query, key) pairs (2 * (D + Dv) flops per pair). "tiles visited" is the
share of (query block, key tile) pairs the compile-time schedule keeps.

Usage: /usr/bin/python3 bench/attention/run.py [--quick] [--threads N]
       [--min-seconds S] [--csv PATH] [--no-ort]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "python"))

import aot  # noqa: E402
from rill.reference import masks  # noqa: E402

LLVM_LIB = "/usr/lib/llvm-22/lib"
SINK_COUNT = 4
PREFILL_WINDOW = 256
BIGBIRD = "#rill.bigbird<block = 64, global = 1, window = 3, random = 2, seed = 1>"


@dataclass
class Case:
    kind: str  # "decode" or "prefill"
    mask_name: str
    length: int  # cache size (decode) or sequence length (prefill)
    head_dim: int
    query_heads: int
    kv_heads: int

    @property
    def num_queries(self) -> int:
        return 1 if self.kind == "decode" else self.length

    @property
    def q_pos(self) -> int:
        return self.length - self.num_queries

    def mask(self):
        """Return (MLIR mask text, numpy mask, ORT local window or None)."""
        if self.kind == "decode":
            window = {"sinks_window": self.length - SINK_COUNT, "window": self.length // 4}
        else:
            window = {"sinks_window": PREFILL_WINDOW, "window": PREFILL_WINDOW}
        if self.mask_name == "sinks_window":
            size = window["sinks_window"]
            return (f"#rill.union<[#rill.sinks<{SINK_COUNT}>, #rill.window<{size}>]>",
                    masks.union([masks.sinks(SINK_COUNT), masks.window(size)]), size)
        if self.mask_name == "window":
            size = window["window"]
            return f"#rill.window<{size}>", masks.window(size), size
        if self.mask_name == "causal":
            return "#rill.causal", masks.causal(), None
        if self.mask_name == "bigbird":
            return BIGBIRD, masks.bigbird(64, 1, 3, 2, seed=1), None
        raise ValueError(f"unknown mask {self.mask_name}")


def default_cases(quick: bool) -> list[Case]:
    cases = []
    decode_lengths = [1024, 4096] if quick else [256, 1024, 4096, 8192]
    decode_heads = [(128, 32, 8)] if quick else [(64, 8, 8), (128, 32, 8)]
    for head_dim, query_heads, kv_heads in decode_heads:
        for length in decode_lengths:
            for mask_name in ("sinks_window", "window", "causal"):
                cases.append(Case("decode", mask_name, length, head_dim, query_heads, kv_heads))
    prefill_lengths = [1024] if quick else [256, 1024, 2048]
    prefill_dims = [64] if quick else [64, 128]
    for head_dim in prefill_dims:
        for length in prefill_lengths:
            for mask_name in ("sinks_window", "window", "causal", "bigbird"):
                cases.append(Case("prefill", mask_name, length, head_dim, 8, 8))
    return cases


def build_tools(work: Path) -> dict[str, Path]:
    """Compile timer.c and machine.c for this machine."""
    timer = work / "timer"
    machine = work / "machine"
    subprocess.run([aot.CLANG, "-O2", str(HERE / "timer.c"), "-o", str(timer), "-ldl"],
                   check=True)
    subprocess.run([aot.CLANG, "-O3", "-march=native", "-ffp-contract=fast", "-fopenmp",
                    str(HERE / "machine.c"), "-o", str(machine), f"-L{LLVM_LIB}",
                    f"-Wl,-rpath,{LLVM_LIB}"], check=True)
    return {"timer": timer, "machine": machine}


def thread_environment(threads: int) -> dict[str, str]:
    return dict(os.environ, OMP_NUM_THREADS=str(threads), OMP_PROC_BIND="false")


def measure_machine(tools, threads: int) -> tuple[float, float]:
    output = subprocess.run([str(tools["machine"])], capture_output=True, text=True,
                            check=True, env=thread_environment(threads)).stdout.split()
    return float(output[0]), float(output[1])


def visible_counts(case: Case, mask) -> tuple[int, int]:
    """Return (visible (query, key) pairs summed over query heads, visible keys
    summed over key/value heads for the last query row)."""
    q_positions = case.q_pos + np.arange(case.num_queries)
    k_positions = np.arange(case.length)
    pairs = 0
    last_row_keys = 0
    group = case.query_heads // case.kv_heads
    for head in range(case.query_heads):
        matrix = mask.matrix(q_positions, k_positions, head=head, layer=0)
        pairs += int(matrix.sum())
        if head % group == 0:
            last_row_keys += int(matrix[-1].sum())
    return pairs, last_row_keys


def rill_source(case: Case, static_positions: bool) -> str:
    mask_text, _, _ = case.mask()
    q_shape = (1, case.query_heads, case.num_queries, case.head_dim)
    kv_shape = (1, case.kv_heads, case.length, case.head_dim)
    return aot.attention_source(q_shape, kv_shape, kv_shape, mask_text,
                                q_pos=case.q_pos if static_positions else None,
                                k_pos=0 if static_positions else None)


def tile_statistics(case: Case, work: Path) -> Optional[float]:
    """Return the share of tiles the compile-time schedule visits."""
    source = work / "stats.mlir"
    source.write_text(rill_source(case, static_positions=True))
    lowered = subprocess.run([str(aot.find_rill_opt()), str(source), "--rill-tile-attention"],
                             capture_output=True, text=True, check=True).stdout
    numbers = {}
    for name in ("tiles_total", "tiles_full", "tiles_partial"):
        match = re.search(rf"rill\.{name} = (\d+)", lowered)
        if match is None:
            return None
        numbers[name] = int(match.group(1))
    return (numbers["tiles_full"] + numbers["tiles_partial"]) / max(1, numbers["tiles_total"])


def time_rill(case: Case, tools, threads: int, min_seconds: float) -> float:
    # Decode and streaming prefill see positions at run time; BigBird is an
    # encoder mask over a whole sequence, so its positions are constants.
    static_positions = case.mask_name == "bigbird"
    library = aot.compile_mlir(rill_source(case, static_positions))
    command = [str(tools["timer"]), str(library), "attention", "1", str(case.query_heads),
               str(case.num_queries), str(case.head_dim), str(case.kv_heads), str(case.length),
               str(case.head_dim), str(case.q_pos), "0", "0" if static_positions else "1",
               str(min_seconds)]
    output = subprocess.run(command, capture_output=True, text=True, check=True,
                            env=thread_environment(threads)).stdout.split()
    return float(output[1])


def ort_model(case: Case):
    """Build the ONNX Runtime graph closest to `case`; return (model, input spec)."""
    import onnx
    from onnx import TensorProto, helper

    _, _, window = case.mask()
    heads, kv_heads, dim = case.query_heads, case.kv_heads, case.head_dim
    queries = case.num_queries
    inputs, spec, nodes = [], {}, []

    def add_input(name, dtype, shape, values=None):
        elem = TensorProto.FLOAT if dtype == "float32" else TensorProto.INT32
        inputs.append(helper.make_tensor_value_info(name, elem, shape))
        spec[name] = {"dtype": dtype, "shape": list(shape)}
        if values is not None:
            spec[name]["values"] = values

    if case.mask_name == "bigbird":
        add_input("query", "float32", [1, queries, heads * dim])
        add_input("key", "float32", [1, case.length, heads * dim])
        add_input("value", "float32", [1, case.length, heads * dim])
        add_input("attention_bias", "float32", [1, 1, queries, case.length])
        nodes.append(helper.make_node(
            "MultiHeadAttention", ["query", "key", "value", "", "", "attention_bias"],
            ["output"], domain="com.microsoft", num_heads=heads))
        output_shape = [1, queries, heads * dim]
    else:
        past = case.length - queries
        add_input("query", "float32", [1, queries, heads * dim])
        add_input("key", "float32", [1, queries, kv_heads * dim])
        add_input("value", "float32", [1, queries, kv_heads * dim])
        names = ["query", "key", "value"]
        if past > 0:
            add_input("past_key", "float32", [1, kv_heads, past, dim])
            add_input("past_value", "float32", [1, kv_heads, past, dim])
            names += ["past_key", "past_value"]
        else:
            names += ["", ""]
        add_input("seqlens_k", "int32", [1], [case.length - 1])
        add_input("total_sequence_length", "int32", [], [case.length])
        names += ["seqlens_k", "total_sequence_length"]
        attributes = {"num_heads": heads, "kv_num_heads": kv_heads}
        if window is not None:
            attributes["local_window_size"] = window
        nodes.append(helper.make_node("GroupQueryAttention", names,
                                      ["output", "present_key", "present_value"],
                                      domain="com.microsoft", **attributes))
        output_shape = [1, queries, heads * dim]

    outputs = [helper.make_tensor_value_info("output", TensorProto.FLOAT, output_shape)]
    graph = helper.make_graph(nodes, "attention", inputs, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 8
    return model, spec


def time_ort(case: Case, work: Path, threads: int, min_seconds: float) -> Optional[float]:
    model, spec = ort_model(case)
    model_path = work / "ort_model.onnx"
    model_path.write_bytes(model.SerializeToString())
    completed = subprocess.run(["node", str(HERE / "ort_bench.js"), str(model_path),
                                json.dumps(spec), str(threads), str(min_seconds)],
                               capture_output=True, text=True)
    if completed.returncode != 0:
        print(f"  ONNX Runtime failed for {case}: {completed.stderr.strip()}", file=sys.stderr)
        return None
    return json.loads(completed.stdout)["min_s"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="run a small subset of cases")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads for Rill (OMP_NUM_THREADS) and ONNX Runtime (default 1)")
    parser.add_argument("--min-seconds", type=float, default=0.3,
                        help="minimum timed seconds per kernel (default 0.3)")
    parser.add_argument("--csv", type=Path, default=HERE / "results.csv",
                        help="CSV output path (default bench/attention/results.csv)")
    parser.add_argument("--no-ort", action="store_true", help="skip ONNX Runtime")
    parser.add_argument("--only", default=None,
                        help="run only cases whose 'kind/mask' contains this text")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="rill-bench-") as temporary:
        work = Path(temporary)
        tools = build_tools(work)
        bandwidth, peak = measure_machine(tools, arguments.threads)
        print(f"machine ({arguments.threads} thread(s)): triad {bandwidth:.1f} GB/s, "
              f"fp32 FMA peak {peak:.1f} GFLOP/s")

        rows = []
        header = (f"{'kind':8} {'mask':13} {'len':>5} {'Hq/Hkv':>6} {'D':>4} {'rill ms':>9} "
                  f"{'rate':>13} {'ceiling':>7} {'tiles':>6} {'ORT ms':>9} {'ORT/rill':>8}")
        print(header)
        cases = default_cases(arguments.quick)
        if arguments.only:
            cases = [c for c in cases if arguments.only in f"{c.kind}/{c.mask_name}"]
        for case in cases:
            _, mask, _ = case.mask()
            pairs, last_row_keys = visible_counts(case, mask)
            seconds = time_rill(case, tools, arguments.threads, arguments.min_seconds)
            visited = tile_statistics(case, work)
            ort_seconds = None if arguments.no_ort else time_ort(
                case, work, arguments.threads, arguments.min_seconds)

            flops = 2.0 * pairs * (2 * case.head_dim)
            if case.kind == "decode":
                key_value_bytes = last_row_keys * 2 * case.head_dim * 4
                rate = key_value_bytes / seconds / 1e9
                fraction = rate / bandwidth
                rate_text = f"{rate:7.1f} GB/s"
            else:
                rate = flops / seconds / 1e9
                fraction = rate / peak
                rate_text = f"{rate:6.1f} GFLOP/s"
            speedup = ort_seconds / seconds if ort_seconds else None
            print(f"{case.kind:8} {case.mask_name:13} {case.length:5d} "
                  f"{case.query_heads:>3}/{case.kv_heads:<2} {case.head_dim:4d} "
                  f"{seconds * 1e3:9.3f} {rate_text:>13} {fraction * 100:6.1f}% "
                  f"{'' if visited is None else f'{visited * 100:5.1f}%':>6} "
                  f"{'' if ort_seconds is None else f'{ort_seconds * 1e3:9.3f}':>9} "
                  f"{'' if speedup is None else f'{speedup:8.2f}':>8}", flush=True)
            rows.append({
                "kind": case.kind, "mask": case.mask_name, "length": case.length,
                "query_heads": case.query_heads, "kv_heads": case.kv_heads,
                "head_dim": case.head_dim, "threads": arguments.threads,
                "rill_seconds": seconds, "rate": rate,
                "rate_unit": "GB/s" if case.kind == "decode" else "GFLOP/s",
                "fraction_of_ceiling": fraction,
                "tiles_visited": visited, "ort_seconds": ort_seconds,
                "ort_over_rill": speedup, "triad_gbs": bandwidth, "fma_gflops": peak,
            })

    arguments.csv.parent.mkdir(parents=True, exist_ok=True)
    with open(arguments.csv, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0].keys()))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {arguments.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
