# ===- bench/eval/compile.py - rillc compile time and peak memory ---------=== #
"""Measure how long `rillc` takes to compile each model and its peak resident memory.

Each model's optimum-layout ONNX export (with past_key_values) is compiled once
with `/usr/bin/time -v rillc MODEL.onnx -o MODEL.so`; the wall-clock time and the
"Maximum resident set size" come from GNU time. Models: stories260K,
stories260K_q8 (de-quantised to float32 by the exporter), aidreams260K,
books-llama-2.8M and the random-weight ~100M Llama of `rill.export.llama_random`.
When `rillc` is missing the script prints why and exits 0 without rows.
Results: build/eval/compile/results.json and a Markdown table on stdout.

Usage: /usr/bin/python3 bench/eval/compile.py [--models NAME,...] [--timeout 900] [--extra-args "..."]
"""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

OUT = common.BUILD / "compile"
GNU_TIME = "/usr/bin/time"
MODELS = ("stories260K", "stories260K_q8", "aidreams260K", "books-llama-2.8M", "llama_random_100M")


def onnx_for(model: str) -> Path:
    if model == "llama_random_100M":
        path = common.BUILD / "onnx" / "llama_random_100M_p8192" / "model.onnx"
        if not path.is_file():
            from rill.export.llama_random import main as export_random

            export_random(["--output", str(common.BUILD / "models" / "llama_random_100M.bin"),
                           "--onnx", str(path.parent)])
        return path
    return common.onnx_export(common.MODELS[model].checkpoint, 2048)


def parse_time_output(text: str) -> dict:
    """Extract wall seconds and peak RSS bytes from `/usr/bin/time -v` output."""
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", text)
    result = {}
    if rss:
        result["peak_rss_bytes"] = int(rss.group(1)) * 1024
    if wall:
        hours, minutes, seconds = wall.groups()
        result["wall_seconds"] = int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
    return result


def compile_one(model: str, args) -> dict:
    onnx_path = onnx_for(model)
    output = OUT / f"{model}.so"
    command = [GNU_TIME, "-v", common.find_tool("rillc"), str(onnx_path), "-o", str(output)] + shlex.split(args.extra_args)
    begin = time.time()
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return {"model": model, "status": f"timed out after {args.timeout:.0f} s"}
    result = {"model": model, "onnx_bytes": onnx_path.stat().st_size, **parse_time_output(completed.stderr)}
    result.setdefault("wall_seconds", time.time() - begin)
    if completed.returncode != 0:
        lines = [line for line in completed.stderr.splitlines() if line.strip() and not line.startswith("\t")]
        result["status"] = f"failed (exit {completed.returncode}): {' '.join(lines[-3:])[:300]}"
    else:
        result["status"] = "ok"
        result["library_bytes"] = output.stat().st_size
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Compile time and peak memory of rillc per model.")
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated model names")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per model before it is reported as timed out")
    parser.add_argument("--extra-args", default="", help="more rillc options, e.g. \"--mask 'sinks(4)|window(252)'\"")
    args = parser.parse_args(argv)

    if common.find_tool("rillc") is None:
        print("compile.py: rillc not found (set $RILLC or build tools/rillc); no rows measured")
        return 0
    if not Path(GNU_TIME).is_file():
        print(f"compile.py: {GNU_TIME} not found (install the 'time' package); no rows measured")
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for model in args.models.split(","):
        row = compile_one(model, args)
        rows.append(row)
        common.log(f"{model}: {row['status']}, {row.get('wall_seconds', 0):.1f} s, "
                   f"{row.get('peak_rss_bytes', 0) / 2**20:.0f} MiB")
    common.write_json(OUT / "results.json", rows)
    print(f"rillc: {common.find_tool('rillc')}\n")
    print("| model | ONNX MB | compile s | peak RSS MiB | result |\n|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['model']} | {row.get('onnx_bytes', 0) / 1e6:.1f} | {row.get('wall_seconds', 0):.1f} | "
              f"{row.get('peak_rss_bytes', 0) / 2**20:.0f} | {row['status']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
