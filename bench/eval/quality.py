# ===- bench/eval/quality.py - Streaming perplexity over long texts -------=== #
"""Measure perplexity against tokens processed for the four cache policies.

For every real checkpoint (stories260K, stories260K_q8, aidreams260K with its own
tokenizer, books-llama-2.8M) and two held-out texts (TinyStories validation head,
Frankenstein), the script streams `--tokens` tokens (BOS + text) under `window`,
`sinks` (4 sinks) and `recompute` at two cache sizes per model, and `dense` over
the first `--dense-tokens` tokens, because dense attention over the whole stream
is quadratic and leaves the trained positions anyway. Ablations on stories260K
and books-llama-2.8M at the smaller cache: 1, 2 and 8 sinks (0 sinks is the
`window` row) and sinks kept at their original stream positions.

Engine: Rill (`rill-run perplexity --json`) when `rillc` and `rill-run` exist,
otherwise the PyTorch peer's exact chunk-wise evaluation
(`bench/peers/torch_streaming.py --mode eval`). Each row names its engine.
`recompute` costs `capacity` token passes per target, so it scores every
`--recompute-stride`-th target, and the report compares it with the cached
policies on exactly those targets.

Outputs: per-run JSON and per-target NLL under build/eval/quality/, a Markdown
report (build/eval/quality/report.md) and plots under docs/img/.

Usage: /usr/bin/python3 bench/eval/quality.py [--tokens 100001] [--short-tokens 20001] [--jobs 2]
       [--models NAME,...] [--skip-ablations] [--report-only]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

OUT = common.BUILD / "quality"
IMG = common.REPO_ROOT / "docs" / "img"
ABLATION_MODELS = ("stories260K", "books-llama-2.8M")
SEGMENT = 4096


def run_key(job: dict) -> str:
    return (f"{job['model']}__{job['text']}__{job['policy']}__s{job['sinks']}__c{job['capacity']}"
            f"__{job['positions']}__n{job['tokens']}")


def plan_jobs(args) -> list[dict]:
    """List the runs: long streams first, then the short-stream grid, then the ablations.

    The long streams (`--tokens`) are `window` and `sinks` at each model's smaller
    cache for the models in `--long-models`; every other run streams `--short-tokens`.
    """
    long_jobs, jobs = [], []
    for model in args.models:
        spec = common.MODELS[model]
        for text in common.TEXT_FILES:
            base = {"model": model, "text": text, "positions": "cache"}
            jobs.append(dict(base, policy="dense", sinks=0, capacity=0, tokens=min(args.dense_tokens, args.tokens)))
            for capacity in spec.cache_sizes:
                for policy, sinks in (("window", 0), ("sinks", 4), ("recompute", 0)):
                    job = dict(base, policy=policy, sinks=sinks, capacity=capacity, tokens=args.short_tokens)
                    if policy != "recompute" and capacity == spec.cache_sizes[0] and model in args.long_models:
                        long_jobs.append(dict(job, tokens=args.tokens))
                    jobs.append(job)
    jobs = long_jobs + jobs
    if not args.skip_ablations:
        for model in [m for m in ABLATION_MODELS if m in args.models]:
            capacity = common.MODELS[model].cache_sizes[0]
            for text in common.TEXT_FILES:
                base = {"model": model, "text": text, "policy": "sinks", "capacity": capacity, "tokens": args.short_tokens}
                for sinks in (1, 2, 8):
                    jobs.append(dict(base, sinks=sinks, positions="cache"))
                jobs.append(dict(base, sinks=4, positions="original"))
    return jobs


def token_file(model: str, text: str, tokens: int) -> Path:
    ids = common.token_ids(common.MODELS[model].tokenizer, text)
    if len(ids) < tokens:
        raise SystemExit(f"error: {text} has only {len(ids)} tokens with {common.MODELS[model].tokenizer.name}; "
                         f"lower --tokens (got {tokens})")
    path = common.BUILD / "tokens" / f"{model}__{text}__{tokens}.npy"
    if not path.is_file():
        np.save(path, ids[:tokens])
    return path


def run_torch(job: dict, args) -> dict:
    key = run_key(job)
    command = [common.PYTHON, str(common.TORCH_PEER), "--mode", "eval", "--json",
               "--checkpoint", str(common.MODELS[job["model"]].checkpoint),
               "--token-file", str(token_file(job["model"], job["text"], job["tokens"])),
               "--policy", job["policy"], "--sinks", str(job["sinks"]),
               "--capacity", str(job["capacity"] or job["tokens"]), "--sink-positions", job["positions"],
               "--recompute-stride", str(args.recompute_stride), "--nll-out", str(OUT / f"{key}.npz")]
    result = common.run_json(command)
    result["engine"] = "torch peer (eval mode)"
    return result


def run_rill(job: dict, args) -> dict:
    """Run one job through rill-run perplexity; per-target NLL is not available, only the segment CSV."""
    spec = common.MODELS[job["model"]]
    library = common.compile_with_rillc(common.onnx_export(spec.checkpoint, 2048), common.BUILD / "rill" / f"{job['model']}.so")
    key = run_key(job)
    command = [common.find_tool("rill-run"), "perplexity", "--json", "--model", str(library),
               "--tokenizer", str(spec.tokenizer), "--policy", job["policy"], "--max-tokens", str(job["tokens"]),
               "--csv", str(OUT / f"{key}.csv"), "--segment", str(SEGMENT), str(common.TEXT_FILES[job["text"]])]
    if job["policy"] != "dense":
        command += ["--capacity", str(job["capacity"])]
    if job["policy"] == "sinks":
        command += ["--sinks", str(job["sinks"])]
    result = common.run_json(command)
    result["engine"] = "Rill (rill-run)"
    result["mean_nll"] = result.get("mean_nll")
    return result


def run_job(job: dict, args, use_rill: bool) -> dict:
    path = OUT / f"{run_key(job)}.json"
    if path.is_file():
        return json.loads(path.read_text())
    begin = time.time()
    # Rill has no option that keeps sinks at their stream positions; the torch peer runs that ablation.
    if use_rill and job["positions"] == "cache":
        result = run_rill(job, args)
    else:
        result = run_torch(job, args)
    result.update(job)
    result["wall_seconds"] = time.time() - begin
    common.write_json(path, result)
    common.log(f"done {run_key(job)}: ppl {result['perplexity']:.3f} in {result['wall_seconds']:.0f} s")
    return result


def load_nll(job: dict) -> tuple[np.ndarray, np.ndarray] | None:
    path = OUT / f"{run_key(job)}.npz"
    if not path.is_file():
        return None
    data = np.load(path)
    return data["targets"], data["nll"]


def report(jobs: list[dict], args) -> str:
    results = {}
    for job in jobs:
        path = OUT / f"{run_key(job)}.json"
        if path.is_file():
            results[run_key(job)] = json.loads(path.read_text())
            continue
        # A run whose driver was stopped still leaves the peer's per-target NLL behind.
        loaded = load_nll(job)
        if loaded is not None:
            nll = loaded[1]
            results[run_key(job)] = {"scored_tokens": len(nll), "mean_nll": float(nll.mean()),
                                     "perplexity": float(np.exp(nll.mean())), "engine": "torch peer (eval mode)"}
    lines = ["| model | text | policy | sinks | cache | scored tokens | PPL | PPL last 4096 | engine |",
             "|---|---|---|---|---|---|---|---|---|"]
    for job in jobs:
        key = run_key(job)
        if key not in results or job["positions"] != "cache" or job["sinks"] not in (0, 4):
            continue
        r = results[key]
        tail = "-"
        loaded = load_nll(job)
        if loaded is not None and job["policy"] != "recompute":
            tail = f"{np.exp(loaded[1][-SEGMENT:].mean()):.3f}"
        cache = "grows" if job["policy"] == "dense" else str(job["capacity"])
        scored = f"{r['scored_tokens']:,}" + (f" (every {args.recompute_stride}th)" if job["policy"] == "recompute" else "")
        lines.append(f"| {job['model']} | {job['text']} | {job['policy']} | {job['sinks']} | {cache} | {scored} | "
                     f"{r['perplexity']:.3f} | {tail} | {r['engine']} |")

    # Recompute against the cached policies on the same sampled targets.
    lines += ["", "Recompute against the cached policies on the same sampled targets (PPL):", "",
              "| model | text | cache | recompute | window | sinks 4 |", "|---|---|---|---|---|---|"]
    for job in jobs:
        if job["policy"] != "recompute":
            continue
        sampled = load_nll(job)
        if sampled is None:
            continue
        cells = [f"{np.exp(sampled[1].mean()):.3f}"]
        for policy, sinks in (("window", 0), ("sinks", 4)):
            other = load_nll(dict(job, policy=policy, sinks=sinks, tokens=args.short_tokens))
            cells.append("-" if other is None else f"{np.exp(other[1][sampled[0]].mean()):.3f}")
        lines.append(f"| {job['model']} | {job['text']} | {job['capacity']} | " + " | ".join(cells) + " |")

    lines += ["", f"Ablations at the smaller cache over {args.short_tokens:,} tokens (PPL; 0 sinks is the window policy):", "",
              "| model | text | cache | 0 | 1 | 2 | 4 | 8 | 4, original positions |", "|---|---|---|---|---|---|---|---|---|"]
    for model in [m for m in ABLATION_MODELS if m in args.models]:
        capacity = common.MODELS[model].cache_sizes[0]
        for text in common.TEXT_FILES:
            cells = []
            for sinks, positions in ((0, "cache"), (1, "cache"), (2, "cache"), (4, "cache"), (8, "cache"), (4, "original")):
                job = {"model": model, "text": text, "policy": "window" if sinks == 0 else "sinks", "sinks": sinks,
                       "capacity": capacity, "positions": positions, "tokens": args.short_tokens}
                r = results.get(run_key(job))
                cells.append("-" if r is None else f"{r['perplexity']:.3f}")
            lines.append(f"| {model} | {text} | {capacity} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot(jobs: list[dict], args) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    for text in common.TEXT_FILES:
        figure, axes = plt.subplots(2, 2, figsize=(11, 7.5), sharex=True)
        for axis, model in zip(axes.flat, args.models):
            spec = common.MODELS[model]
            for capacity, style in zip(spec.cache_sizes, ("-", "--")):
                for policy, sinks, color in (("window", 0, "tab:red"), ("sinks", 4, "tab:blue")):
                    job = {"model": model, "text": text, "policy": policy, "sinks": sinks,
                           "capacity": capacity, "positions": "cache"}
                    loaded = load_nll(dict(job, tokens=args.tokens)) or load_nll(dict(job, tokens=args.short_tokens))
                    if loaded is None:
                        continue
                    nll = loaded[1]
                    count = len(nll) // SEGMENT
                    segments = np.exp(nll[: count * SEGMENT].reshape(count, SEGMENT).mean(axis=1))
                    axis.plot((np.arange(count) + 1) * SEGMENT, segments, style, color=color,
                              label=f"{policy} {'4+' + str(capacity - 4) if sinks else capacity}")
            dense = load_nll({"model": model, "text": text, "policy": "dense", "sinks": 0, "capacity": 0,
                              "positions": "cache", "tokens": min(args.dense_tokens, args.tokens)})
            if dense is not None:
                step = 512
                count = len(dense[1]) // step
                segments = np.exp(dense[1][: count * step].reshape(count, step).mean(axis=1))
                axis.plot((np.arange(count) + 1) * step, segments, color="black", label="dense (grows)")
            axis.set_yscale("log")
            axis.set_title(f"{model} (trained context {spec.trained_length})")
            axis.set_ylabel(f"PPL per {SEGMENT}-token segment")
            axis.legend(fontsize=7)
        for axis in axes[-1]:
            axis.set_xlabel("tokens processed")
        figure.suptitle(f"Streaming perplexity on {common.TEXT_FILES[text].name} (torch peer unless noted)")
        figure.tight_layout()
        path = IMG / f"quality_{text}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=80)
        plt.close(figure)
        written.append(path)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Streaming perplexity of the real checkpoints under the four policies.")
    parser.add_argument("--tokens", type=int, default=100_001, help="stream length, BOS included (default: %(default)s)")
    parser.add_argument("--short-tokens", type=int, default=20_001, help="stream length of the other runs (default: %(default)s)")
    parser.add_argument("--long-models", default="stories260K,books-llama-2.8M,aidreams260K",
                        help="models whose window and sinks runs at the smaller cache stream --tokens")
    parser.add_argument("--dense-tokens", type=int, default=8193, help="stream length of the dense runs (default: %(default)s)")
    parser.add_argument("--recompute-stride", type=int, default=200, help="recompute scores every N-th target (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at once, one thread each (default: %(default)s)")
    parser.add_argument("--models", default=",".join(common.MODELS), help="comma-separated model names")
    parser.add_argument("--skip-ablations", action="store_true", help="run only the main grid")
    parser.add_argument("--engine", choices=("auto", "torch"), default="auto",
                        help="auto: Rill when rillc and rill-run exist, else the torch peer (default: %(default)s)")
    parser.add_argument("--report-only", action="store_true", help="write the report and plots from finished runs")
    args = parser.parse_args(argv)
    args.models = [m for m in args.models.split(",") if m]
    args.long_models = [m for m in args.long_models.split(",") if m]
    unknown = [m for m in args.models if m not in common.MODELS]
    if unknown:
        parser.error(f"unknown models {unknown} (known: {', '.join(common.MODELS)})")

    OUT.mkdir(parents=True, exist_ok=True)
    jobs = plan_jobs(args)
    reason = common.rill_unavailable_reason() if args.engine == "auto" else "--engine torch was given"
    if reason:
        common.log(f"Rill rows skipped: {reason}; the torch peer produces every row")
    if not args.report_only:
        for model in args.models:  # tokenize up front, once per tokenizer and text
            for text in common.TEXT_FILES:
                token_file(model, text, args.tokens)
        for job in jobs:  # write the token files before the workers start
            token_file(job["model"], job["text"], job["tokens"])
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            futures = [pool.submit(run_job, job, args, reason is None) for job in jobs]
            for future in futures:
                try:
                    future.result()
                except (RuntimeError, OSError) as error:
                    common.log(f"run failed: {error}")
    text = report(jobs, args)
    (OUT / "report.md").write_text(text)
    print(text)
    for path in plot(jobs, args):
        common.log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
