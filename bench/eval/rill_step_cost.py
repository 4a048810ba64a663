# ===- bench/eval/rill_step_cost.py - Rill per-token latency at a full cache -=== #
"""Time single-token steps of a rillc-compiled model at a full cache, through librill.

This is Rill's counterpart of the peers' cost modes (`torch_streaming.py --mode
cost`, `ort_stream.js --cost`). It opens the library with `rill.runtime`, fills a
session's cache with `--capacity` random token ids in chunks (logits off), then
times `--warmup` + `--measure` calls that feed one token each and return its
logits. The content of the cache does not change the work.

- `sinks`, `window`: the cache contains `capacity` tokens during the timed steps.
- `dense`: the session gets `capacity + warmup + measure` slots, so the timed
  steps see `capacity` and more cached tokens, as the peers' dense steps do.
- `recompute`: one step re-runs the last `capacity` token ids from position 0
  (librill's `feedRecompute` runs them through the step function in pieces of
  the session's step chunk). Filling a recompute session token by token costs
  about `capacity^2 / 2` token passes, so above `--max-direct-recompute` slots the
  script times that same work directly instead: reset a `window` session of
  `capacity` slots and feed it the `capacity` ids in one call, which runs the
  same pieces from position 0 on an empty cache. The JSON says which method ran.

With `--prefill N`, a fresh session also times a feed of N tokens (tokens/s): the
first feed is reported as `prefill_cold_tokens_per_second`, the median of
`--prefill-calls` more feeds after a reset as `prefill_tokens_per_second`, the
protocol of both peers.

With `--curve N`, the script instead feeds N random token ids one at a time to a
fresh session (`dense` gets N slots) and reports the median latency of each of
50 consecutive bins of steps against tokens processed (`latency_curve`, the
torch peer's format) and this process's VmRSS at the end of each bin
(`rss_curve`).
Peak memory is this process's VmHWM, which includes Python and numpy (about
30 MiB; `rill-run` itself needs about 13 MiB for stories260K).

Usage: PYTHONPATH=python RILL_LIBRARY=build/lib/librill.so /usr/bin/python3 bench/eval/rill_step_cost.py \\
    --model stories.so --policy sinks --sinks 4 --capacity 4096 --threads 1 --measure 20 --json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
from rill import runtime  # noqa: E402


def status_bytes(field: str) -> int:
    """Return a memory field of /proc/self/status (VmHWM, VmRSS) in bytes, or 0 if missing."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def peak_rss_bytes() -> int:
    return status_bytes("VmHWM")


def latency_curve(model: runtime.Model, args) -> dict:
    """Feed `args.curve` random ids one at a time to a fresh session; bin latency and RSS by tokens processed."""
    ids = np.random.default_rng(args.seed).integers(3, model.metadata.vocab_size, size=args.curve).astype(np.int32)
    sinks = args.sinks if args.policy == "sinks" else 0
    slots = args.curve if args.policy == "dense" else args.capacity
    session = runtime.Session(model, args.policy, sinks=sinks, capacity=slots, threads=args.threads)
    edges = np.linspace(0, args.curve, min(args.curve, 50) + 1).astype(int)
    latencies, curve, rss = [], [], []
    for first, last in zip(edges[:-1], edges[1:]):
        for token in ids[first:last]:
            begin = time.perf_counter()
            session.feed(np.array([token], dtype=np.int32))
            latencies.append(time.perf_counter() - begin)
        if last > first:
            curve.append([int(last), float(np.median(latencies[first:last]) * 1e3)])
            rss.append([int(last), status_bytes("VmRSS")])
    session.close()
    return {"engine": "rill", "model": Path(args.model).name, "policy": args.policy, "capacity": slots,
            "threads": args.threads, "tokens": args.curve, "latency_ms_median": float(np.median(latencies) * 1e3),
            "latency_curve": curve, "rss_curve": rss, "peak_rss_bytes": peak_rss_bytes()}


def fill(session: runtime.Session, ids: np.ndarray, chunk: int) -> None:
    for begin in range(0, len(ids), chunk):
        session.feed(ids[begin: begin + chunk], logits=False)


def time_steps(step, count: int) -> list[float]:
    """Return the wall seconds of `count` calls of `step`."""
    seconds = []
    for _ in range(count):
        begin = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - begin)
    return seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Per-token latency of a Rill library at a full cache.")
    parser.add_argument("--model", required=True, help="shared library written by rillc")
    parser.add_argument("--policy", choices=("dense", "window", "recompute", "sinks"), required=True)
    parser.add_argument("--capacity", type=int, required=True, help="cache slots (tokens) at the timed steps")
    parser.add_argument("--sinks", type=int, default=4, help="sink slots of the sinks policy (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=1, help="threads of the model's parallel loops (default: %(default)s)")
    parser.add_argument("--measure", type=int, default=20, help="timed steps (default: %(default)s)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps before them (default: %(default)s)")
    parser.add_argument("--max-direct-recompute", type=int, default=512,
                        help="largest capacity whose recompute session is filled token by token (default: %(default)s)")
    parser.add_argument("--prefill", type=int, default=0, help="also time feeds of N tokens on a fresh session")
    parser.add_argument("--prefill-calls", type=int, default=5,
                        help="timed prefill feeds after the cold one; the median is reported (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random token ids (default: %(default)s)")
    parser.add_argument("--curve", type=int, default=0,
                        help="instead, time N single-token feeds from an empty cache and bin them by tokens processed")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.prefill_calls < 1:
        parser.error(f"--prefill-calls must be at least 1 (got {args.prefill_calls})")

    model = runtime.Model(args.model)
    if args.curve:
        result = latency_curve(model, args)
        model.close()
        print(json.dumps(result) if args.json else "\n".join(f"{key}: {value}" for key, value in result.items()))
        return 0
    vocab = model.metadata.vocab_size
    rng = np.random.default_rng(args.seed)
    ids = rng.integers(3, vocab, size=args.capacity + args.warmup + args.measure + args.prefill).astype(np.int32)
    steps = iter(ids[args.capacity:])
    result = {"engine": "rill", "model": Path(args.model).name, "policy": args.policy, "capacity": args.capacity,
              "threads": args.threads, "measured_steps": args.measure}

    if args.policy == "recompute" and args.capacity > args.max_direct_recompute:
        session = runtime.Session(model, "window", sinks=0, capacity=args.capacity, threads=args.threads)
        window = ids[: args.capacity]

        def step():
            session.reset()
            session.feed(window, logits=False)

        result["method"] = "reset window session fed the window in one call (the work of one recompute step)"
    else:
        sinks = args.sinks if args.policy == "sinks" else 0
        slots = args.capacity + args.warmup + args.measure if args.policy == "dense" else args.capacity
        session = runtime.Session(model, args.policy, sinks=sinks, capacity=slots, threads=args.threads)
        fill(session, ids[: args.capacity], session.info.step_chunk if args.policy != "recompute" else 64)

        def step():
            session.feed(np.array([next(steps)], dtype=np.int32))

        result["method"] = "single-token feeds at a full cache"
    time_steps(step, args.warmup)
    seconds = np.array(time_steps(step, args.measure))
    result.update(latency_ms_median=float(np.median(seconds) * 1e3), latency_ms_mean=float(seconds.mean() * 1e3),
                  session_memory_bytes=session.info.memory_bytes, step_chunk=session.info.step_chunk)
    session.close()

    if args.prefill:
        # The first feed of a fresh session also touches its cache and the
        # step's temporaries for the first time (page faults). It is timed
        # apart, as the peers time their first prompt apart.
        fresh = runtime.Session(model, "sinks", sinks=args.sinks, capacity=max(args.capacity, args.prefill),
                                threads=args.threads)
        prompt = ids[-args.prefill:]
        begin = time.perf_counter()
        fresh.feed(prompt)
        result["prefill_cold_tokens_per_second"] = args.prefill / (time.perf_counter() - begin)
        calls = []
        for _ in range(args.prefill_calls):
            fresh.reset()
            begin = time.perf_counter()
            fresh.feed(prompt)
            calls.append(time.perf_counter() - begin)
        result["prefill_tokens"] = args.prefill
        result["prefill_tokens_per_second"] = args.prefill / float(np.median(calls))
        fresh.close()
    result["peak_rss_bytes"] = peak_rss_bytes()
    model.close()
    print(json.dumps(result) if args.json else "\n".join(f"{key}: {value}" for key, value in result.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
