# ===- bench/attention/sweep.py - Tile size sweep of the tiled kernel ---=== #
"""Time the tiled attention kernel for several query-tile and key-tile sizes.

Prints one table per shape (decode at cache 4096 and prefill at 1024 by
default) with the minimum time of each (query tile, key tile) pair, so the
defaults of `rill-cpu-pipeline` can be chosen by measurement. Timings come
from timer.c on the thread count given by --threads.

Usage: /usr/bin/python3 bench/attention/sweep.py [--threads N] [--min-seconds S]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import aot  # noqa: E402
import run  # noqa: E402

SHAPES = [
    # (label, Hq, Hkv, Tq, Tk, D, mask)
    ("decode C=4096 D=128 32/8", 32, 8, 1, 4096, 128, "#rill.causal"),
    ("decode C=1024 D=64 8/8", 8, 8, 1, 1024, 64, "#rill.causal"),
    ("prefill T=1024 D=64 8/8", 8, 8, 1024, 1024, 64, "#rill.causal"),
    ("prefill T=1024 D=128 8/8", 8, 8, 1024, 1024, 128, "#rill.causal"),
]
QUERY_TILES = [4, 16, 32, 64]
KEY_TILES = [16, 32, 64, 128, 256]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--min-seconds", type=float, default=0.2)
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="rill-sweep-") as temporary:
        tools = run.build_tools(Path(temporary))
        for label, heads, kv_heads, queries, keys, dim, mask in SHAPES:
            query_tiles = [1] if queries == 1 else QUERY_TILES
            print(f"{label}: minimum ms, rows = query tile, columns = key tile")
            print("      " + "".join(f"{tile:>9}" for tile in KEY_TILES))
            for query_tile in query_tiles:
                cells = []
                for key_tile in KEY_TILES:
                    source = aot.attention_source(
                        (1, heads, queries, dim), (1, kv_heads, keys, dim),
                        (1, kv_heads, keys, dim), mask)
                    pipeline = (f"rill-cpu-pipeline{{query-tile={query_tile} "
                                f"key-tile={key_tile}}}")
                    library = aot.compile_mlir(source, pipeline)
                    command = [str(tools["timer"]), str(library), "attention", "1",
                               str(heads), str(queries), str(dim), str(kv_heads), str(keys),
                               str(dim), str(keys - queries), "0", "1",
                               str(arguments.min_seconds)]
                    output = subprocess.run(command, capture_output=True, text=True,
                                            check=True,
                                            env=run.thread_environment(arguments.threads))
                    cells.append(float(output.stdout.split()[1]) * 1e3)
                print(f"{query_tile:>6}" + "".join(f"{cell:9.3f}" for cell in cells),
                      flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
