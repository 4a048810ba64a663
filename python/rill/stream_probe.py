# ===- rill/stream_probe.py - Memory of a process streaming a compiled model -=== #
"""Stream a token-id file through a compiled model and report the process's memory.

Run as its own process, so VmRSS and VmHWM belong to the streaming alone:

  python3 -m rill.stream_probe --library stories.so --tokens ids.int32 \\
      --sample-at 10000 --logits-out last.npy

The token file contains raw little-endian int32 ids. The probe feeds them in
equal chunks through one `rill.runtime` session (sinks policy), counts NaN and
infinite logits, samples VmRSS and VmHWM from /proc/self/status after the
chunk that ends at each `--sample-at` position and at the end, optionally
saves the logits of the last `--keep` tokens, and prints one JSON object.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import sys
import time
from pathlib import Path

import numpy as np

from rill import runtime

__all__ = ["read_memory", "return_large_frees_to_kernel", "main"]

# M_MMAP_THRESHOLD in glibc's malloc.h.
_M_MMAP_THRESHOLD = -3


def return_large_frees_to_kernel() -> bool:
    """Serve allocations of 1 MiB and more with mmap, so freeing them lowers VmRSS at once.

    Without this, glibc keeps some freed numpy temporaries (a chunk's logits)
    in its heap or not, depending on the heap layout, and VmRSS samples jump
    by megabytes without any leak. Setting the threshold also stops glibc from
    raising it on its own. Returns False where mallopt fails.
    """
    return ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, 1 << 20) == 1


def read_memory() -> tuple[int, int]:
    """Return (VmRSS, VmHWM) of this process in bytes."""
    values = {}
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                name, amount, unit = line.split()
                if unit != "kB":
                    raise RuntimeError(f"unexpected unit {unit!r} for {name} in /proc/self/status")
                values[name[:-1]] = int(amount) * 1024
    return values["VmRSS"], values["VmHWM"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Stream int32 token ids through a compiled model and print "
                                                 "VmRSS and VmHWM at chosen positions as JSON.")
    parser.add_argument("--library", type=Path, required=True, help="library compiled by rillc")
    parser.add_argument("--tokens", type=Path, required=True, help="raw little-endian int32 token ids")
    parser.add_argument("--sinks", type=int, default=4, help="attention sinks (default: %(default)s)")
    parser.add_argument("--capacity", type=int, default=256, help="cache slots (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=1, help="threads of the compiled model (default: %(default)s)")
    parser.add_argument("--chunk", type=int, default=1000,
                        help="tokens per Session.feed call; must divide every --sample-at and the token count "
                             "(default: %(default)s)")
    parser.add_argument("--sample-at", type=int, action="append", default=[],
                        help="stream position (tokens fed) at which to sample memory; repeatable")
    parser.add_argument("--keep", type=int, default=8, help="tokens at the end whose logits --logits-out saves")
    parser.add_argument("--logits-out", type=Path, help="write the last --keep rows of logits as float32 .npy")
    args = parser.parse_args(argv)

    if not return_large_frees_to_kernel():
        print("stream_probe: mallopt(M_MMAP_THRESHOLD) failed; VmRSS samples may jump", file=sys.stderr)
    ids = np.fromfile(args.tokens, dtype="<i4")
    total = len(ids)
    if args.chunk < 1 or total % args.chunk or any(position % args.chunk for position in args.sample_at):
        parser.error(f"--chunk {args.chunk} must divide the token count {total} and every --sample-at")
    if not 1 <= args.keep <= args.chunk:
        parser.error(f"--keep must be in [1, --chunk] (got {args.keep})")
    sample_at = set(args.sample_at) | {total}

    session = runtime.Session(runtime.Model(args.library), policy="sinks", sinks=args.sinks,
                              capacity=args.capacity, threads=args.threads)
    samples, nonfinite, feed_seconds = [], 0, 0.0
    for start in range(0, total, args.chunk):
        begin = time.perf_counter()
        logits = session.feed(ids[start:start + args.chunk])
        feed_seconds += time.perf_counter() - begin
        nonfinite += int(np.count_nonzero(~np.isfinite(logits)))
        position = start + args.chunk
        if position in sample_at:
            # Sample with only this chunk's logits alive, the same at every position.
            vm_rss, vm_hwm = read_memory()
            samples.append({"position": position, "vm_rss": vm_rss, "vm_hwm": vm_hwm})
        if position == total and args.logits_out:
            np.save(args.logits_out, logits[-args.keep:])
        del logits

    print(json.dumps({"tokens": total, "nonfinite": nonfinite, "feed_seconds": feed_seconds,
                      "session_memory_bytes": session.memory, "samples": samples}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
