# ===- bench/eval/codegen_options.py - CPU pipeline options side by side -=== #
"""Compile one model with several `rillc --cpu-options` settings and time them in one run.

Each variant is the same ONNX export compiled with different options of
rill-cpu-pipeline (weight packing, elementwise fusion, block sizes). The
script times, per variant, a decode step of the sinks policy at a full cache
and the prefill of one chunk (with `rill_step_cost.py`, the cost driver of
`cost.py`), and the compile time. Rounds alternate the variants, so a noisy
neighbour slows all of them alike. The table gives each variant's median over
the rounds and its ratio to the first variant.

Usage:
    /usr/bin/python3 bench/eval/codegen_options.py [--models stories260K,llama_random_100M] \\
        [--variants 'unpacked=matmul-pack-weights=false fuse-elementwise=false;packed=fuse-elementwise=false;fused='] \\
        [--rounds 3] [--threads 1] [--march native]

Writes build/eval/codegen/options.csv and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
import cost  # noqa: E402

OUT = common.BUILD / "codegen"
DEFAULT_VARIANTS = ("unpacked=matmul-pack-weights=false fuse-elementwise=false;"
                    "packed=fuse-elementwise=false;fused=")
# (cache slots, prefill tokens, timed decode steps) per model.
SETTINGS = {"stories260K": (256, 256, 200), "llama_random_100M": (1024, 256, 10)}


def parse_variants(text: str) -> list[tuple[str, str]]:
    variants = []
    for item in text.split(";"):
        name, separator, options = item.partition("=")
        if not separator or not name.strip():
            sys.exit(f"codegen_options.py: invalid --variants item '{item}'; expected name=options "
                     "(options may be empty), items separated by ';'")
        variants.append((name.strip(), options.strip()))
    return variants


def compile_variant(model: str, name: str, options: str, max_positions: int, march: str) -> tuple[Path, float]:
    onnx = cost.onnx_of(model, max_positions)
    output = OUT / f"{model}_{name}_{march}.so"
    output.parent.mkdir(parents=True, exist_ok=True)
    command = [common.find_tool("rillc"), str(onnx), "-o", str(output), "--max-capacity", "4160", "--march", march]
    if options:
        command.append(f"--cpu-options={options}")
    common.log(f"compiling {model} variant {name}: {' '.join(command[1:])}")
    start = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if completed.returncode != 0:
        sys.exit(f"codegen_options.py: rillc failed for variant {name}: {completed.stderr.strip()[-2000:]}")
    return output, seconds


def measure(library: Path, model: str, threads: int) -> dict:
    capacity, prefill, steps = SETTINGS[model]
    command = [common.PYTHON, str(cost.RILL_DRIVER), "--json", "--model", str(library), "--policy", "sinks",
               "--capacity", str(capacity), "--sinks", "4", "--threads", str(threads), "--measure", str(steps),
               "--warmup", "3", "--prefill", str(prefill)]
    return common.run_json(command, env={"RILL_LIBRARY": str(common.librill_path()), "OMP_NUM_THREADS": str(threads)})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="stories260K,llama_random_100M")
    parser.add_argument("--variants", default=DEFAULT_VARIANTS,
                        help="name=cpu-options items separated by ';' (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of measurement")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--max-positions", type=int, default=8192)
    parser.add_argument("--march", default="native",
                        help="rillc --march of every variant (default: %(default)s, as cost.py; x86-64-v3 for AVX2)")
    args = parser.parse_args(argv)
    if common.librill_path() is None:
        sys.exit("codegen_options.py: librill.so not found next to rillc; build Rill or set $RILL_LIBRARY")

    variants = parse_variants(args.variants)
    rows = []
    for model in args.models.split(","):
        if model not in SETTINGS:
            sys.exit(f"codegen_options.py: unknown model '{model}' in --models; expected one of {', '.join(SETTINGS)}")
        libraries = {name: compile_variant(model, name, options, args.max_positions, args.march) for name, options in variants}
        samples = {name: [] for name, _ in variants}
        for round_index in range(args.rounds):
            for name, _ in variants:
                samples[name].append(measure(libraries[name][0], model, args.threads))
                common.log(f"{model} round {round_index + 1} {name}: "
                           f"{samples[name][-1]['latency_ms_median']:.3f} ms/token, "
                           f"{samples[name][-1]['prefill_tokens_per_second']:.0f} prefill tokens/s")
        first = variants[0][0]
        base_decode = statistics.median(s["latency_ms_median"] for s in samples[first])
        base_prefill = statistics.median(s["prefill_tokens_per_second"] for s in samples[first])
        for name, options in variants:
            decode = statistics.median(s["latency_ms_median"] for s in samples[name])
            prefill = statistics.median(s["prefill_tokens_per_second"] for s in samples[name])
            capacity, prefill_tokens, _ = SETTINGS[model]
            rows.append({"model": model, "variant": name, "march": args.march, "cpu_options": options, "cache": capacity,
                         "decode_ms": round(decode, 4), "decode_vs_first": round(base_decode / decode, 3),
                         "prefill_tokens": prefill_tokens, "prefill_tokens_per_s": round(prefill, 1),
                         "prefill_vs_first": round(prefill / base_prefill, 3),
                         "compile_s": round(libraries[name][1], 1)})

    OUT.mkdir(parents=True, exist_ok=True)
    with open(OUT / "options.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print("| model | variant | --cpu-options | cache | decode ms | speed-up | prefill tokens | "
          "prefill tokens/s | ratio | compile s |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['model']} | {row['variant']} | `{row['cpu_options'] or '(defaults)'}` | {row['cache']} | "
              f"{row['decode_ms']:.3f} | {row['decode_vs_first']:.2f}x | {row['prefill_tokens']} | "
              f"{row['prefill_tokens_per_s']:,.0f} | {row['prefill_vs_first']:.2f}x | {row['compile_s']:.1f} |")
    print(f"CSV: {OUT / 'options.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
