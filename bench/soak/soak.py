# ===- bench/soak/soak.py - Stream 10^7 tokens through a compiled model -=== #
"""Soak test: stream 10^7 tokens through stories260K compiled by rillc, sinks policy.

The stream is BOS followed by the token ids of the held-out TinyStories text
(blank-line runs collapsed, numpy tokenizer of `rill.models.llama2c`),
repeated from its first text token whenever it runs out. One `rill.runtime`
session (4 sinks, capacity 256 by default) is fed chunk by chunk in this
process. At every checkpoint (10^4 tokens, every `--every` tokens and the end)
the script records:

- whether any logit or NLL so far was NaN or infinite;
- the mean NLL of the tokens scored since the previous checkpoint (each token
  scored from the logits after the one before it, as `rill-run perplexity`
  does);
- VmRSS and VmHWM of this process from /proc/self/status, and their growth
  since the 10^4-token checkpoint;
- the largest absolute difference between Rill's float32 logits for the last
  `--compare` tokens before the checkpoint and the float64 numpy reference's
  logits for the same stream positions.

The numpy reference cannot replay 10^7 tokens. Under the sinks policy it
does not need to. `rill.streaming_tail` replays only the sink tokens and the
last `n_layers * (window - 1)` tokens before the compared ones, and gets the
full replay's logits bit for bit. That works because the reference rotates
cached keys at their in-cache positions, so its state never names the stream
position. Rill rotates every key once at its true stream position, so the
comparison at position 10^7 also checks Rill's rotary angles at large
positions. `python/tests/test_runtime_long_stream.py` checks the shortcut
against a full replay.

The reference runs in a separate process, so its memory does not enter the
RSS figures of the streaming process, and it overlaps with the streaming.
The script prints a table, writes a CSV (one row per checkpoint) and exits
with status 1 if any check fails.

Example. On one thread of the shared 2-core machine, 10^7 tokens took 25
minutes (2,500 to 10,500 tokens/s as the load fell) with a library from
rillc's default CPU pipeline:
  /usr/bin/python3 bench/soak/soak.py --tokens 10000000 --csv build/soak/soak.csv
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import dataclasses
import multiprocessing
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "python"))

from rill import runtime  # noqa: E402
from rill.models.llama2c import Llama2cModel, load_checkpoint, load_tokenizer, read_text  # noqa: E402
from rill.stream_probe import read_memory, return_large_frees_to_kernel  # noqa: E402
from rill.streaming_tail import sinks_tail_logits  # noqa: E402

ONNX = REPO_ROOT / "data" / "onnx" / "stories260K" / "model.onnx"
CHECKPOINT = REPO_ROOT / "data" / "checkpoints" / "stories260K.bin"
TOKENIZER = REPO_ROOT / "data" / "checkpoints" / "tok512.bin"
TEXT = REPO_ROOT / "data" / "text" / "tinystories_valid_head.txt"
OUTPUT = REPO_ROOT / "build" / "soak"

# The position whose memory is the baseline: by then every buffer of the
# session and of the feeding loop exists.
BASELINE_POSITION = 10_000

# NOTE: chosen limits, not measured ones. The logits limit is the one
# python/tests/test_runtime_model.py uses at 2,000 tokens.
DEFAULT_LOGITS_TOLERANCE = 2e-3
DEFAULT_RSS_GROWTH_LIMIT = 1_000_000


@dataclasses.dataclass
class CheckpointRow:
    """Measurements at one stream position."""

    position: int  # tokens fed so far
    seconds: float  # wall time since streaming started
    feed_tokens_per_second: float  # tokens since the previous checkpoint per second inside Session.feed
    scored: int  # tokens scored since the previous checkpoint
    mean_nll: float
    perplexity: float
    nonfinite: int  # NaN or infinite logits and NLLs since the start
    vm_rss: int
    vm_hwm: int
    rss_growth: int | None  # against the baseline checkpoint; None before it
    hwm_growth: int | None
    compared: int  # positions compared with the reference
    max_logit_diff: float | None  # None until the reference finishes


class TextStream:
    """Token ids of the stream: BOS, then the text's ids repeated without BOS."""

    def __init__(self, text_ids: np.ndarray, bos: int):
        self.text_ids = np.asarray(text_ids, dtype=np.int32)
        self.bos = bos

    def __call__(self, positions: np.ndarray) -> np.ndarray:
        positions = np.asarray(positions, dtype=np.int64)
        ids = self.text_ids[(positions - 1) % len(self.text_ids)]
        return np.where(positions == 0, self.bos, ids).astype(np.int32)


def find_rillc() -> str:
    """Return rillc from $RILLC, PATH, $RILL_BUILD_DIR/bin or build/bin."""
    candidates = [os.environ.get("RILLC"), shutil.which("rillc")]
    build = os.environ.get("RILL_BUILD_DIR")
    if build:
        candidates.append(str(Path(build) / "bin" / "rillc"))
    candidates.append(str(REPO_ROOT / "build" / "bin" / "rillc"))
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise SystemExit("soak.py: rillc not found; set $RILLC or $RILL_BUILD_DIR, or pass --library")


def compile_library(sinks: int, window: int) -> Path:
    """Compile stories260K with the sinks+window mask into build/soak, unless it is up to date."""
    output = OUTPUT / f"stories260K_sinks{sinks}_window{window}.so"
    rillc = find_rillc()
    newest_input = max(ONNX.stat().st_mtime, Path(rillc).stat().st_mtime)
    if output.is_file() and output.stat().st_mtime > newest_input:
        return output
    output.parent.mkdir(parents=True, exist_ok=True)
    command = [rillc, str(ONNX), "--mask", f"sinks({sinks})|window({window})", "-o", str(output)]
    print("compiling:", " ".join(command), file=sys.stderr, flush=True)
    subprocess.run(command, check=True)
    return output


# The reference worker process keeps its model and stream in these globals.
_worker_model: Llama2cModel | None = None
_worker_stream: TextStream | None = None


def _start_worker(checkpoint: str, tokenizer: str, text: str) -> None:
    global _worker_model, _worker_stream
    _worker_model = Llama2cModel(load_checkpoint(checkpoint))
    with_bos = np.array(load_tokenizer(tokenizer).encode(read_text(text)), dtype=np.int32)
    _worker_stream = TextStream(with_bos[1:], int(with_bos[0]))


def _worker_text_ids() -> tuple[np.ndarray, int]:
    return _worker_stream.text_ids, _worker_stream.bos


def _reference_logits(first: int, last: int, sinks: int, window: int) -> np.ndarray:
    return sinks_tail_logits(_worker_model, _worker_stream, first, last, sinks, window)


def token_nll(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Return -log p(target) per row of float32 logits [n, vocab], in float64."""
    rows = logits.astype(np.float64)
    peak = rows.max(axis=1, keepdims=True)
    log_z = peak[:, 0] + np.log(np.exp(rows - peak).sum(axis=1))
    return log_z - rows[np.arange(len(targets)), targets]


def checkpoint_positions(tokens: int, every: int) -> list[int]:
    positions = {min(BASELINE_POSITION, tokens), tokens}
    positions.update(range(every, tokens, every))
    return sorted(positions)


def format_bytes(value: int | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 2**20:
        return f"{value / 2**20:.2f} MiB"
    return f"{value / 1024:.0f} KiB"


def format_table(rows: list[CheckpointRow]) -> str:
    header = (f"{'position':>10} {'seconds':>8} {'tok/s':>6} {'mean NLL':>9} {'ppl':>7} {'non-finite':>10} "
              f"{'VmRSS':>10} {'VmHWM':>10} {'RSS growth':>10} {'HWM growth':>10} {'max |logit diff|':>16}")
    lines = [header, "-" * len(header)]
    for row in rows:
        diff = "-" if row.max_logit_diff is None else f"{row.max_logit_diff:.3g} ({row.compared})"
        lines.append(
            f"{row.position:>10} {row.seconds:>8.0f} {row.feed_tokens_per_second:>6.0f} {row.mean_nll:>9.5f} "
            f"{row.perplexity:>7.4f} {row.nonfinite:>10} {format_bytes(row.vm_rss):>10} {format_bytes(row.vm_hwm):>10} "
            f"{format_bytes(row.rss_growth):>10} {format_bytes(row.hwm_growth):>10} {diff:>16}")
    return "\n".join(lines)


def write_csv(path: Path, rows: list[CheckpointRow]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        names = [field.name for field in dataclasses.fields(CheckpointRow)]
        writer.writerow(names)
        for row in rows:
            writer.writerow(["" if getattr(row, name) is None else getattr(row, name) for name in names])


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Stream many tokens through compiled stories260K (sinks policy) "
                                                 "and check numerics, memory and agreement with the numpy reference.")
    parser.add_argument("--tokens", type=int, default=10_000_000, help="tokens to stream, BOS included (default: %(default)s)")
    parser.add_argument("--every", type=int, default=1_000_000, help="tokens between checkpoints (default: %(default)s)")
    parser.add_argument("--compare", type=int, default=4,
                        help="tokens before each checkpoint whose logits are compared with the reference (default: %(default)s)")
    parser.add_argument("--library", type=Path, help="library compiled by rillc; default: compile into build/soak")
    parser.add_argument("--sinks", type=int, default=4, help="attention sinks (default: %(default)s)")
    parser.add_argument("--window", type=int, default=252, help="recent tokens kept; capacity is sinks + window (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=1, help="threads of the compiled model (default: %(default)s)")
    parser.add_argument("--chunk", type=int, default=1000,
                        help=f"tokens per Session.feed call; must divide --tokens, --every and {BASELINE_POSITION} "
                             "(default: %(default)s)")
    parser.add_argument("--tolerance", type=float, default=DEFAULT_LOGITS_TOLERANCE,
                        help="largest allowed |Rill logit - reference logit| (default: %(default)s)")
    parser.add_argument("--rss-growth-limit", type=int, default=DEFAULT_RSS_GROWTH_LIMIT,
                        help=f"largest allowed growth of VmRSS and VmHWM after {BASELINE_POSITION} tokens, "
                             "in bytes (default: %(default)s)")
    parser.add_argument("--csv", type=Path, default=OUTPUT / "soak.csv", help="CSV output (default: build/soak/soak.csv)")
    args = parser.parse_args(argv)

    if args.tokens < BASELINE_POSITION:
        parser.error(f"--tokens must be >= {BASELINE_POSITION}, the baseline of the memory checks (got {args.tokens})")
    if args.every < 1 or args.chunk < 1 or args.threads < 0:
        parser.error("--every and --chunk must be >= 1 and --threads >= 0")
    # Equal feed calls allocate equal temporaries, so the memory of the loop
    # itself reaches a steady state before the baseline.
    if args.tokens % args.chunk or args.every % args.chunk or BASELINE_POSITION % args.chunk:
        parser.error(f"--chunk {args.chunk} must divide --tokens, --every and {BASELINE_POSITION}")
    if not 1 <= args.compare <= args.chunk:
        parser.error(f"--compare must be in [1, --chunk] (got {args.compare})")
    if args.sinks < 0 or args.window < 1:
        parser.error("--sinks must be >= 0 and --window >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    library = args.library or compile_library(args.sinks, args.window)
    if not return_large_frees_to_kernel():
        print("soak.py: mallopt(M_MMAP_THRESHOLD) failed; VmRSS samples may jump by a chunk's logits",
              file=sys.stderr)

    # The reference runs in a spawned process, so none of its memory is counted
    # here. It also tokenizes the text, whose peak memory would otherwise set
    # this process's VmHWM before the streaming does. The pipes and threads of the pool exist before any
    # memory is sampled.
    pool = concurrent.futures.ProcessPoolExecutor(
        max_workers=1, mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker, initargs=(str(CHECKPOINT), str(TOKENIZER), str(TEXT)))
    stream = TextStream(*pool.submit(_worker_text_ids).result())

    model = runtime.Model(library)
    session = runtime.Session(model, policy="sinks", sinks=args.sinks, capacity=args.sinks + args.window,
                              threads=args.threads)
    print(f"streaming {args.tokens} tokens through {library} (policy sinks, sinks {session.info.sinks}, "
          f"capacity {session.info.capacity}, {session.info.threads} threads, chunks of {args.chunk}); "
          f"the text has {len(stream.text_ids)} tokens", file=sys.stderr, flush=True)

    stops = checkpoint_positions(args.tokens, args.every)
    rows: list[CheckpointRow] = []
    pending: list[tuple[CheckpointRow, concurrent.futures.Future, np.ndarray]] = []
    previous_row: np.ndarray | None = None  # logits after the last token fed
    position, nonfinite = 0, 0
    interval_nll, interval_scored, interval_feed_seconds = 0.0, 0, 0.0
    baseline: tuple[int, int] | None = None  # (VmRSS, VmHWM) after BASELINE_POSITION tokens
    start = time.perf_counter()
    print(format_table([]).splitlines()[0], file=sys.stderr, flush=True)

    for stop in stops:
        while position < stop:
            ids = stream(np.arange(position, position + args.chunk))
            feed_start = time.perf_counter()
            logits = session.feed(ids)
            interval_feed_seconds += time.perf_counter() - feed_start

            nonfinite += int(np.count_nonzero(~np.isfinite(logits)))
            nll = token_nll(logits[:-1], ids[1:])
            if previous_row is not None:
                nll = np.concatenate([token_nll(previous_row[None, :], ids[:1]), nll])
            nonfinite += int(np.count_nonzero(~np.isfinite(nll)))
            interval_nll += float(nll.sum())
            interval_scored += len(nll)
            previous_row = logits[-1].copy()

            position += args.chunk

        # Sample memory with the same arrays alive at every checkpoint.
        recent = logits[-args.compare:].copy()
        del logits, nll
        vm_rss, vm_hwm = read_memory()
        if stop == BASELINE_POSITION:
            baseline = (vm_rss, vm_hwm)
        mean = interval_nll / interval_scored if interval_scored else float("nan")
        row = CheckpointRow(
            position=position,
            seconds=time.perf_counter() - start,
            feed_tokens_per_second=(position - (rows[-1].position if rows else 0)) / max(interval_feed_seconds, 1e-9),
            scored=interval_scored,
            mean_nll=mean,
            perplexity=float(np.exp(mean)),
            nonfinite=nonfinite,
            vm_rss=vm_rss,
            vm_hwm=vm_hwm,
            rss_growth=None if baseline is None else vm_rss - baseline[0],
            hwm_growth=None if baseline is None else vm_hwm - baseline[1],
            compared=args.compare,
            max_logit_diff=None,
        )
        rows.append(row)
        first = position - args.compare
        future = pool.submit(_reference_logits, first, position - 1, args.sinks, args.window)
        pending.append((row, future, recent))
        interval_nll, interval_scored, interval_feed_seconds = 0.0, 0, 0.0

        # Fill in the comparisons the reference has finished, then rewrite the CSV.
        for done_row, done_future, rill_logits in pending:
            if done_row.max_logit_diff is None and done_future.done():
                done_row.max_logit_diff = float(np.abs(rill_logits - done_future.result()).max())
        write_csv(args.csv, rows)
        print(format_table([row]).splitlines()[-1], file=sys.stderr, flush=True)

    for row, future, rill_logits in pending:
        if row.max_logit_diff is None:
            row.max_logit_diff = float(np.abs(rill_logits - future.result()).max())
    pool.shutdown()
    write_csv(args.csv, rows)

    print(f"stories260K, policy sinks ({args.sinks} sinks, capacity {args.sinks + args.window}), "
          f"{args.threads} thread(s), {position} tokens in {rows[-1].seconds:.0f} s")
    print(format_table(rows))

    failures = []
    if nonfinite:
        failures.append(f"{nonfinite} logits or NLLs were NaN or infinite")
    for row in rows:
        if row.max_logit_diff > args.tolerance:
            failures.append(f"at position {row.position}: max |logit diff| {row.max_logit_diff:.3g} > {args.tolerance}")
        for name, growth in (("VmRSS", row.rss_growth), ("VmHWM", row.hwm_growth)):
            if growth is not None and growth >= args.rss_growth_limit:
                failures.append(f"at position {row.position}: {name} grew by {growth} bytes "
                                f"since position {BASELINE_POSITION} (limit {args.rss_growth_limit})")
    for failure in failures:
        print("FAILED:", failure)
    print(f"CSV written to {args.csv}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
