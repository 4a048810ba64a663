# ===- rill/perplexity.py - Streaming perplexity of llama2.c models ---=== #
"""Measure the perplexity of a llama2.c model streaming a text under cache policies.

The stream is BOS followed by the text's tokens (the text with runs of blank lines
collapsed to one newline), cut to `--tokens` ids in all, BOS included. Step t
feeds token t under the policy and predicts token t + 1, so the scored targets
are tokens 1..N-1: N - 1 predictions, the last token is never fed, and BOS is
never a target. Perplexity is exp of the mean negative log-likelihood (natural
log) over those targets, computed in float64 by the numpy reference model.

With `--policy all`, every bounded policy keeps `sinks + window` entries so the
policies are compared at equal cache size: `sinks` keeps `--sinks` initial plus
`--window` recent tokens, and `window` and `recompute` keep the most recent
`sinks + window` tokens.

NOTE: `recompute` re-encodes its whole window at every step, so it is far slower
than the cached policies. Measured once on a shared 2-core machine: 2,000 tokens
at capacity 256 took 650 s for `recompute` and 20 to 40 s for each other policy.

Example:
  python3 -m rill.perplexity --checkpoint data/checkpoints/stories260K.bin \\
      --tokenizer data/checkpoints/tok512.bin \\
      --text data/text/tinystories_valid_head.txt --tokens 1000 \\
      --policy all --sinks 4 --window 252 --json -
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

from rill.models.llama2c import Llama2cModel, load_checkpoint, load_tokenizer, read_text, streaming_logits

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CHECKPOINT = REPO_ROOT / "data" / "checkpoints" / "stories260K.bin"
DEFAULT_TOKENIZER = REPO_ROOT / "data" / "checkpoints" / "tok512.bin"
DEFAULT_TEXT = REPO_ROOT / "data" / "text" / "tinystories_valid_head.txt"

POLICY_ORDER = ("dense", "window", "recompute", "sinks")


@dataclasses.dataclass
class PerplexityResult:
    """Perplexity of one policy over one stream."""

    policy: str
    sinks: int
    window: int | None  # None for dense
    capacity: int | None  # None for dense, which never evicts
    scored_tokens: int
    mean_nll: float
    perplexity: float
    seconds: float


def token_nll(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Return -log p(target) per row of `logits` [n, vocab], computed in float64."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_normalizer = np.log(np.exp(shifted).sum(axis=1))
    return log_normalizer - shifted[np.arange(len(targets)), targets]


def stream_perplexity(
    model: Llama2cModel, tokens: np.ndarray, policy: str, sinks: int = 0, window: int | None = None
) -> PerplexityResult:
    """Stream `tokens` under `policy` and score tokens 1..n-1 from the predictions after 0..n-2."""
    tokens = np.asarray(tokens, dtype=np.int64)
    if len(tokens) < 2:
        raise ValueError(f"perplexity needs at least 2 tokens (got {len(tokens)})")

    start = time.perf_counter()
    logits = streaming_logits(model, tokens[:-1], policy, sinks, window)
    nll = token_nll(logits, tokens[1:])
    seconds = time.perf_counter() - start

    if policy == "dense":
        window, capacity = None, None
    else:
        capacity = sinks + window if policy == "sinks" else window
    return PerplexityResult(
        policy=policy,
        sinks=sinks if policy == "sinks" else 0,
        window=window,
        capacity=capacity,
        scored_tokens=len(nll),
        mean_nll=float(nll.mean()),
        perplexity=float(np.exp(nll.mean())),
        seconds=seconds,
    )


def policy_settings(policy: str, sinks: int, window: int) -> list[tuple[str, int, int | None]]:
    """Expand `--policy` into (policy, sinks, window) runs; `all` compares at capacity sinks + window."""
    if policy == "all":
        capacity = sinks + window
        return [("dense", 0, None), ("window", 0, capacity), ("recompute", 0, capacity), ("sinks", sinks, window)]
    if policy == "dense":
        return [("dense", 0, None)]
    if policy == "sinks":
        return [("sinks", sinks, window)]
    return [(policy, 0, window)]


def format_table(results: list[PerplexityResult]) -> str:
    header = f"{'policy':<10} {'sinks':>5} {'window':>6} {'capacity':>8} {'scored':>7} {'mean NLL':>9} {'perplexity':>10} {'seconds':>8}"
    lines = [header, "-" * len(header)]
    for r in results:
        window = "-" if r.window is None else str(r.window)
        capacity = "all" if r.capacity is None else str(r.capacity)
        lines.append(
            f"{r.policy:<10} {r.sinks:>5} {window:>6} {capacity:>8} {r.scored_tokens:>7} "
            f"{r.mean_nll:>9.5f} {r.perplexity:>10.5f} {r.seconds:>8.1f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Report streaming perplexity of a llama2.c model per cache policy.",
        epilog="Scored targets are tokens 1..N-1 of the stream BOS + text tokens (N = --tokens).",
    )
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT, help="llama2.c checkpoint, fp32 or int8")
    parser.add_argument("--tokenizer", type=Path, default=DEFAULT_TOKENIZER, help="llama2.c tokenizer.bin")
    parser.add_argument("--text", type=Path, default=DEFAULT_TEXT, help="UTF-8 text to stream")
    parser.add_argument("--tokens", type=int, default=1000, help="stream length N in tokens, BOS included (default: %(default)s)")
    parser.add_argument("--policy", choices=POLICY_ORDER + ("all",), default="sinks", help="cache policy, or all four (default: %(default)s)")
    parser.add_argument("--sinks", type=int, default=4, help="initial tokens the sinks policy keeps (default: %(default)s)")
    parser.add_argument("--window", type=int, default=252, help="recent tokens kept; see --policy all in the module docs (default: %(default)s)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH ('-' for stdout)")
    args = parser.parse_args(argv)

    if args.tokens < 2:
        parser.error(f"--tokens must be >= 2 (got {args.tokens})")
    if args.sinks < 0:
        parser.error(f"--sinks must be >= 0 (got {args.sinks})")
    if args.window < 1:
        parser.error(f"--window must be >= 1 (got {args.window})")

    model = Llama2cModel(load_checkpoint(args.checkpoint))
    tokens = load_tokenizer(args.tokenizer).encode(read_text(args.text))
    if len(tokens) < args.tokens:
        parser.error(f"{args.text} has only {len(tokens)} tokens with BOS (--tokens {args.tokens} requested)")
    tokens = np.array(tokens[: args.tokens], dtype=np.int64)

    results = []
    for policy, sinks, window in policy_settings(args.policy, args.sinks, args.window):
        results.append(stream_perplexity(model, tokens, policy, sinks, window))
        print(f"finished {policy} in {results[-1].seconds:.1f} s", file=sys.stderr)

    print(f"{args.checkpoint.name} on {args.text.name}: stream of {args.tokens} tokens (BOS + text), "
          f"targets are tokens 1..{args.tokens - 1}")
    print(format_table(results))
    if args.json:
        document = json.dumps([dataclasses.asdict(r) for r in results], indent=2)
        if args.json == "-":
            print(document)
        else:
            Path(args.json).write_text(document + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
