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

Engines (`--engines`, both by default): the PyTorch peer's exact chunk-wise
evaluation (`bench/peers/torch_streaming.py --mode eval`) and Rill
(`rill-run perplexity --json --segment 1` on one `rillc` library per model, which
serves all four policies). Rill rows need `rillc` and `rill-run` and are skipped
with a message otherwise. Both engines read the same token ids. Each row names
its engine, and the report compares the two engines' NLL on the targets both
scored. Rill streams `--tokens` under `window` and `sinks` at both cache sizes
for the models in `--rill-long-models`; the torch peer does so at the smaller
cache for `--long-models`. The torch peer's `recompute` scores every
`--recompute-stride`-th target. Rill's runtime cannot skip targets, so its
`recompute` scores every one of the first `--rill-recompute-tokens - 1` targets
at the smaller cache. The torch peer repeats that run for stories260K as a
cross-check when its length differs from `--short-tokens`; otherwise the torch
peer's strided run over the same stream is the cross-check. For the original-positions ablation Rill compiles a second library
with `rillc --position-policy original`. Rill's libraries are compiled for
rillc's default target unless `--rill-march` says otherwise (`native` is
faster on a machine with AVX-512; the sums then run in another order, so the
NLL can differ in the last digits).

Outputs: per-run JSON and per-target NLL under build/eval/quality/ (Rill runs carry
a `__rill` suffix), a Markdown report (build/eval/quality/report.md) and plots
under docs/img/.

Usage: /usr/bin/python3 bench/eval/quality.py [--tokens 100001] [--short-tokens 20001] [--jobs 2]
       [--models NAME,...] [--engines torch,rill] [--skip-ablations] [--rill-march native] [--report-only]
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
# --max-capacity of the quality libraries: the longest dense stream Rill can run.
RILL_MAX_CAPACITY = 8192
DEFAULT_MARCH = "x86-64-v3"


def run_key(job: dict) -> str:
    key = (f"{job['model']}__{job['text']}__{job['policy']}__s{job['sinks']}__c{job['capacity']}"
           f"__{job['positions']}__n{job['tokens']}")
    return key + ("__rill" if job["engine"] == "rill" else "")


def plan_jobs(args) -> list[dict]:
    """List the runs: long streams first, then the short-stream grid, then the ablations.

    The long streams (`--tokens`) are `window` and `sinks` at each model's smaller
    cache for the models in `--long-models`; every other run streams `--short-tokens`.
    Each engine in `args.engines` gets the same grid, except for `recompute` (see the
    module docstring) and the long streams: Rill runs them at both cache sizes.
    """
    long_jobs, jobs = [], []
    for engine in args.engines:
        for model in args.models:
            spec = common.MODELS[model]
            for text in common.TEXT_FILES:
                base = {"model": model, "text": text, "positions": "cache", "engine": engine}
                if engine == "torch" or model in args.rill_dense_models:
                    jobs.append(dict(base, policy="dense", sinks=0, capacity=0, tokens=dense_tokens(engine, args)))
                for capacity in spec.cache_sizes:
                    for policy, sinks in (("window", 0), ("sinks", 4)):
                        job = dict(base, policy=policy, sinks=sinks, capacity=capacity, tokens=args.short_tokens)
                        long_models = args.long_models if engine == "torch" else args.rill_long_models
                        both_caches = engine == "rill"
                        if model in long_models and (both_caches or capacity == spec.cache_sizes[0]):
                            long_jobs.append(dict(job, tokens=args.tokens))
                        jobs.append(job)
                    recompute = dict(base, policy="recompute", sinks=0, capacity=capacity)
                    if engine == "torch":
                        jobs.append(dict(recompute, tokens=args.short_tokens, stride=args.recompute_stride))
                    elif capacity == spec.cache_sizes[0] or args.rill_recompute_both_caches:
                        jobs.append(dict(recompute, tokens=args.rill_recompute_tokens, stride=1))
                        # The torch peer repeats the run unless its strided run has the same stream
                        # (same key), whose every 200th target then serves as the cross-check.
                        repeat = args.rill_recompute_tokens != args.short_tokens
                        if model == "stories260K" and "torch" in args.engines and repeat:
                            jobs.append(dict(recompute, engine="torch", tokens=args.rill_recompute_tokens, stride=1))
    jobs = long_jobs + jobs
    if not args.skip_ablations:
        for engine in args.engines:
            ablation_models = ABLATION_MODELS if engine == "torch" else args.rill_ablation_models
            for model in [m for m in ablation_models if m in args.models]:
                capacity = common.MODELS[model].cache_sizes[0]
                for text in common.TEXT_FILES:
                    base = {"model": model, "text": text, "policy": "sinks", "capacity": capacity,
                            "tokens": args.short_tokens, "engine": engine}
                    for sinks in (1, 2, 8):
                        jobs.append(dict(base, sinks=sinks, positions="cache"))
                    jobs.append(dict(base, sinks=4, positions="original"))
    return jobs


def dense_tokens(engine: str, args) -> int:
    """Return the dense stream length. Rill's dense cache ends at the library's max capacity."""
    tokens = min(args.dense_tokens, args.tokens)
    return min(tokens, RILL_MAX_CAPACITY) if engine == "rill" else tokens


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
               "--recompute-stride", str(job.get("stride", args.recompute_stride)), "--nll-out", str(OUT / f"{key}.npz")]
    return common.run_json(command)


def rill_library(model: str, positions: str = "cache", march: str = DEFAULT_MARCH) -> Path:
    """Compile a model's export once per position policy and target; a library serves every policy, sink count
    and capacity.

    `positions="original"` compiles with `--position-policy original` (sink keys at their stream positions).
    """
    onnx_path = common.onnx_export(common.MODELS[model].checkpoint, 2048)
    suffix = "" if march == DEFAULT_MARCH else f"_{march}"
    extra_args = ["--max-capacity", str(RILL_MAX_CAPACITY), "--march", march]
    if positions == "original":
        return common.compile_with_rillc(onnx_path, common.BUILD / "rill" / f"{model}_p2048_original{suffix}.so",
                                         extra_args=extra_args + ["--position-policy", "original"])
    return common.compile_with_rillc(onnx_path, common.BUILD / "rill" / f"{model}_p2048{suffix}.so",
                                     extra_args=extra_args)


def run_rill(job: dict, args) -> dict:
    """Run one job through `rill-run perplexity` on the same token ids as the torch peer.

    `--segment 1` makes the CSV contain one row per target, which is saved as the
    per-target NLL in the same .npz layout as the torch peer's.
    """
    key = run_key(job)
    ids = np.load(token_file(job["model"], job["text"], job["tokens"]))
    id_file = OUT / f"{key}.ids.txt"
    id_file.write_text(" ".join(str(i) for i in ids) + "\n")
    csv = OUT / f"{key}.csv"
    capacity = job["capacity"] or job["tokens"]
    library = rill_library(job["model"], job["positions"], args.rill_march)
    command = [common.find_tool("rill-run"), "perplexity", "--json", "--model", str(library),
               "--input-format", "ids", "--threads", "1", "--policy", job["policy"], "--capacity", str(capacity),
               "--sinks", str(job["sinks"]), "--csv", str(csv), "--segment", "1", str(id_file)]
    try:
        result = common.run_json(command)
        nll = np.loadtxt(csv, delimiter=",", skiprows=1, usecols=2, ndmin=1)
    finally:
        id_file.unlink(missing_ok=True)
    csv.unlink(missing_ok=True)
    np.savez(OUT / f"{key}.npz", targets=np.arange(len(nll)), nll=nll)
    result["rill_march"] = args.rill_march
    return result


def run_job(job: dict, args) -> dict:
    path = OUT / f"{run_key(job)}.json"
    if path.is_file():
        return json.loads(path.read_text())
    begin = time.time()
    result = run_rill(job, args) if job["engine"] == "rill" else run_torch(job, args)
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


def load_results(jobs: list[dict]) -> dict:
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
    return results


def main_table(jobs: list[dict], results: dict) -> list[str]:
    """List one row per configuration and stream, with each engine's perplexity side by side."""
    lines = ["| model | text | policy | sinks | cache | scored tokens | PPL Rill | PPL torch | PPL last 4096 |",
             "|---|---|---|---|---|---|---|---|---|"]
    rows = {}
    for job in jobs:
        if run_key(job) not in results or job["positions"] != "cache" or job["sinks"] not in (0, 4):
            continue
        config = (job["model"], job["text"], job["policy"], job["sinks"], job["capacity"], job["tokens"], job.get("stride", 1))
        rows.setdefault(config, {})[job["engine"]] = job
    ordered = sorted(rows, key=lambda c: (list(common.MODELS).index(c[0]), list(common.TEXT_FILES).index(c[1]),
                                          -c[5], c[4], c[2]))
    for config in ordered:
        model, text, policy, sinks, capacity, tokens, stride = config
        by_engine = rows[config]
        first = by_engine.get("rill") or by_engine["torch"]
        r = results[run_key(first)]
        tail = "-"
        loaded = load_nll(first)
        if loaded is not None and policy != "recompute":
            tail = f"{np.exp(loaded[1][-SEGMENT:].mean()):.3f}"
        cells = [f"{results[run_key(by_engine[engine])]['perplexity']:.3f}" if engine in by_engine else "-"
                 for engine in ("rill", "torch")]
        cache = "grows" if policy == "dense" else str(capacity)
        scored = f"{r['scored_tokens']:,}" + (f" (every {stride}th)" if stride > 1 else "")
        lines.append(f"| {model} | {text} | {policy} | {sinks} | {cache} | {scored} | {cells[0]} | {cells[1]} | {tail} |")
    return lines


def engine_agreement(jobs: list[dict]) -> list[str]:
    """Compare Rill's per-target NLL with the torch peer's on the targets both engines scored."""
    lines = ["| model | text | policy | sinks | cache | common targets | mean NLL torch | mean NLL Rill | "
             "difference | max per-target difference |", "|---|---|---|---|---|---|---|---|---|---|"]
    for job in jobs:
        if job["engine"] != "rill":
            continue
        rill = load_nll(job)
        torch_runs = [load_nll(dict(job, engine="torch", tokens=tokens))
                      for tokens in sorted({other["tokens"] for other in jobs}, reverse=True)]
        torch_runs = [run for run in torch_runs if run is not None]
        if rill is None or not torch_runs:
            continue
        # The longest torch run covers the most targets; targets are 0-based indices into the stream.
        targets, torch_nll = max(torch_runs, key=lambda run: np.intersect1d(run[0], rill[0]).size)
        common_targets = np.intersect1d(targets, rill[0])
        if common_targets.size == 0:
            continue
        a = torch_nll[np.searchsorted(targets, common_targets)]
        b = rill[1][np.searchsorted(rill[0], common_targets)]
        lines.append(f"| {job['model']} | {job['text']} | {job['policy']} | {job['sinks']} | {job['capacity'] or 'grows'} | "
                     f"{common_targets.size:,} | {a.mean():.6f} | {b.mean():.6f} | {b.mean() - a.mean():+.1e} | "
                     f"{np.abs(a - b).max():.1e} |")
    return lines


def report(jobs: list[dict], args) -> str:
    results = load_results(jobs)
    lines = main_table(jobs, results)

    # Recompute against the cached policies on the same sampled targets.
    lines += ["", "Recompute against the cached policies on the same targets (PPL):", "",
              "| model | text | cache | engine | scored targets | recompute | window | sinks 4 |",
              "|---|---|---|---|---|---|---|---|"]
    for job in jobs:
        if job["policy"] != "recompute":
            continue
        sampled = load_nll(job)
        if sampled is None:
            continue
        cells = [f"{np.exp(sampled[1].mean()):.3f}"]
        for policy, sinks in (("window", 0), ("sinks", 4)):
            others = [load_nll(dict(job, policy=policy, sinks=sinks, tokens=tokens))
                      for tokens in (args.short_tokens, args.tokens)]
            other = next((o for o in others if o is not None), None)
            cells.append("-" if other is None else f"{np.exp(other[1][sampled[0]].mean()):.3f}")
        lines.append(f"| {job['model']} | {job['text']} | {job['capacity']} | {job['engine']} | "
                     f"{len(sampled[0]):,} | " + " | ".join(cells) + " |")

    lines += ["", f"Ablations at the smaller cache over {args.short_tokens:,} tokens (PPL; 0 sinks is the window policy):",
              "",
              "| model | text | cache | engine | 0 | 1 | 2 | 4 | 8 | 4, original positions |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for model in [m for m in ABLATION_MODELS if m in args.models]:
        capacity = common.MODELS[model].cache_sizes[0]
        for text in common.TEXT_FILES:
            for engine in args.engines:
                if engine == "rill" and model not in args.rill_ablation_models:
                    continue
                cells = []
                for sinks, positions in ((0, "cache"), (1, "cache"), (2, "cache"), (4, "cache"), (8, "cache"), (4, "original")):
                    job = {"model": model, "text": text, "policy": "window" if sinks == 0 else "sinks", "sinks": sinks,
                           "capacity": capacity, "positions": positions, "tokens": args.short_tokens, "engine": engine}
                    r = results.get(run_key(job))
                    cells.append("-" if r is None else f"{r['perplexity']:.3f}")
                lines.append(f"| {model} | {text} | {capacity} | {engine} | " + " | ".join(cells) + " |")

    lines += ["", "Rill against the torch peer on the same token ids (mean NLL in nats over the common targets):", ""]
    lines += engine_agreement(jobs)
    return "\n".join(lines) + "\n"


def first_nll(job: dict, token_counts: list[int], engines: list[str]) -> tuple[str, np.ndarray] | None:
    """Return (engine, per-target NLL) of the first finished run among the engines and stream lengths."""
    for engine in engines:
        for tokens in token_counts:
            loaded = load_nll(dict(job, engine=engine, tokens=tokens))
            if loaded is not None:
                return engine, loaded[1]
    return None


def plot(jobs: list[dict], args) -> list[Path]:
    """Plot per-segment perplexity, from Rill's runs where they exist and the torch peer's otherwise."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    engines = sorted(args.engines, key=lambda engine: engine != "rill")
    names = {"rill": "Rill", "torch": "torch"}
    written = []
    for text in common.TEXT_FILES:
        figure, axes = plt.subplots(2, 2, figsize=(11, 7.5), sharex=True)
        for axis, model in zip(axes.flat, args.models):
            spec = common.MODELS[model]
            for capacity, style in zip(spec.cache_sizes, ("-", "--")):
                for policy, sinks, color in (("window", 0, "tab:red"), ("sinks", 4, "tab:blue")):
                    job = {"model": model, "text": text, "policy": policy, "sinks": sinks,
                           "capacity": capacity, "positions": "cache"}
                    found = first_nll(job, [args.tokens, args.short_tokens], engines)
                    if found is None:
                        continue
                    engine, nll = found
                    count = len(nll) // SEGMENT
                    segments = np.exp(nll[: count * SEGMENT].reshape(count, SEGMENT).mean(axis=1))
                    axis.plot((np.arange(count) + 1) * SEGMENT, segments, style, color=color,
                              label=f"{policy} {'4+' + str(capacity - 4) if sinks else capacity} ({names[engine]})")
            # Rill's recompute scores every target (the torch peer's only every 200th), at the smaller cache.
            recompute_job = {"model": model, "text": text, "policy": "recompute", "sinks": 0,
                             "capacity": spec.cache_sizes[0], "positions": "cache", "engine": "rill"}
            loaded = next((load_nll(dict(recompute_job, tokens=tokens)) for tokens in
                           sorted({args.tokens, args.rill_recompute_tokens}, reverse=True)
                           if load_nll(dict(recompute_job, tokens=tokens)) is not None), None)
            if loaded is not None and len(loaded[1]) >= SEGMENT:
                nll = loaded[1]
                count = len(nll) // SEGMENT
                segments = np.exp(nll[: count * SEGMENT].reshape(count, SEGMENT).mean(axis=1))
                axis.plot((np.arange(count) + 1) * SEGMENT, segments, ":", color="tab:orange",
                          label=f"recompute {spec.cache_sizes[0]} (Rill)")
            dense_job = {"model": model, "text": text, "policy": "dense", "sinks": 0, "capacity": 0, "positions": "cache"}
            found = first_nll(dense_job, [dense_tokens("rill", args), dense_tokens("torch", args)], engines)
            if found is not None:
                engine, nll = found
                step = 512
                count = len(nll) // step
                segments = np.exp(nll[: count * step].reshape(count, step).mean(axis=1))
                axis.plot((np.arange(count) + 1) * step, segments, color="black", label=f"dense, grows ({names[engine]})")
            axis.set_yscale("log")
            axis.set_title(f"{model} (trained context {spec.trained_length})")
            axis.set_ylabel(f"PPL per {SEGMENT}-token segment")
            axis.legend(fontsize=7)
        for axis in axes[-1]:
            axis.set_xlabel("tokens processed")
        figure.suptitle(f"Streaming perplexity on {common.TEXT_FILES[text].name} (dense: per 512 tokens)")
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
    parser.add_argument("--rill-long-models", default=",".join(common.MODELS),
                        help="models whose window and sinks runs at both caches stream --tokens in Rill (default: all)")
    parser.add_argument("--rill-ablation-models", default=",".join(ABLATION_MODELS),
                        help="models of Rill's sink-count ablation (default: %(default)s)")
    parser.add_argument("--rill-dense-models", default=",".join(common.MODELS),
                        help="models of Rill's dense runs (default: all)")
    parser.add_argument("--dense-tokens", type=int, default=8193, help="stream length of the dense runs (default: %(default)s)")
    parser.add_argument("--recompute-stride", type=int, default=200,
                        help="the torch peer's recompute scores every N-th target (default: %(default)s)")
    parser.add_argument("--rill-recompute-tokens", type=int, default=20_001,
                        help="stream length of Rill's recompute runs, every target scored (default: %(default)s)")
    parser.add_argument("--capacities", default="",
                        help="comma-separated cache sizes whose runs are planned (default: every size)")
    parser.add_argument("--rill-recompute-both-caches", action="store_true",
                        help="run Rill's recompute at both cache sizes (default: the smaller one only)")
    parser.add_argument("--rill-march", default=DEFAULT_MARCH,
                        help="rillc --march of Rill's libraries (default: %(default)s, rillc's default target, so "
                             "every machine runs the same code; native is faster where the machine has AVX-512)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at once, one thread each (default: %(default)s)")
    parser.add_argument("--models", default=",".join(common.MODELS), help="comma-separated model names")
    parser.add_argument("--skip-ablations", action="store_true", help="run only the main grid")
    parser.add_argument("--policies", default="dense,window,recompute,sinks",
                        help="comma-separated policies whose runs are planned (default: all four)")
    parser.add_argument("--engines", default="torch,rill", help="comma-separated: torch, rill (default: %(default)s)")
    parser.add_argument("--report-only", action="store_true", help="write the report and plots from finished runs")
    args = parser.parse_args(argv)
    args.models = [m for m in args.models.split(",") if m]
    args.long_models = [m for m in args.long_models.split(",") if m]
    args.rill_long_models = [m for m in args.rill_long_models.split(",") if m]
    args.rill_ablation_models = [m for m in args.rill_ablation_models.split(",") if m]
    args.rill_dense_models = [m for m in args.rill_dense_models.split(",") if m]
    args.engines = [e for e in args.engines.split(",") if e]
    unknown = [m for m in args.models if m not in common.MODELS]
    if unknown:
        parser.error(f"unknown models {unknown} (known: {', '.join(common.MODELS)})")
    if not args.engines or set(args.engines) - {"torch", "rill"}:
        parser.error(f"--engines takes torch and/or rill (got {','.join(args.engines)})")

    OUT.mkdir(parents=True, exist_ok=True)
    if "rill" in args.engines:
        reason = common.rill_unavailable_reason()
        if reason:
            common.log(f"Rill rows skipped: {reason}")
            args.engines = [e for e in args.engines if e != "rill"]
    policies = [p for p in args.policies.split(",") if p]
    if not policies or set(policies) - {"dense", "window", "recompute", "sinks"}:
        parser.error(f"--policies takes dense, window, recompute and/or sinks (got {args.policies})")
    jobs = [job for job in plan_jobs(args) if job["policy"] in policies]
    if args.capacities:
        capacities = {int(c) for c in args.capacities.split(",") if c}
        jobs = [job for job in jobs if job["capacity"] in capacities]
    if not args.report_only:
        for model in args.models:  # tokenize up front, once per tokenizer and text
            for text in common.TEXT_FILES:
                token_file(model, text, args.tokens)
        for job in jobs:  # write the token files before the workers start
            token_file(job["model"], job["text"], job["tokens"])
        if "rill" in args.engines:  # compile before the workers start, so no two threads compile one model
            for model in args.models:
                rill_library(model, march=args.rill_march)
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            futures = [pool.submit(run_job, job, args) for job in jobs]
            for future in futures:
                try:
                    future.result()
                except (RuntimeError, OSError, ValueError) as error:
                    common.log(f"run failed: {error}")
    text = report(jobs, args)
    (OUT / "report.md").write_text(text)
    print(text)
    for path in plot(jobs, args):
        common.log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
