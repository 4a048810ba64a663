# ===- bench/eval/cost.py - Per-token latency and memory per cache policy ---=== #
"""Measure per-token latency and peak memory against cache size and against tokens processed.

Engines, each run in its own process so that the process's peak RSS belongs to
one configuration, all with the same thread count (`--threads`):

- torch peer (`bench/peers/torch_streaming.py --mode cost`): the StreamingLLM
  reference cache in PyTorch eager;
- ONNX Runtime peer (`bench/peers/ort_stream.js --cost`): the optimum-layout export
  with past_key_values truncated by the driver, on the same ONNX file Rill compiles;
- Rill (`bench/eval/rill_step_cost.py`, which drives librill through
  `rill.runtime`, on the library `rillc` builds from that file), skipped with a
  message when the tools are missing or compilation fails.

Sweep 1 (cache size): for each cache size, the peers fill the cache with random
keys and values, and Rill feeds random token ids (content does not change the
work). Each engine then times `--measure` single-token steps at a full cache.
`recompute` re-runs the whole window per token, so it gets fewer steps and stops
at `--max-recompute`. Above 512 slots, Rill's recompute step is timed as the
same work on a reset window session (see rill_step_cost.py).
Sweep 2 (tokens processed, stories260K only, cache 256): latency of every step
from an empty cache, binned by tokens processed: the torch peer over
`--curve-tokens` tokens (`--curve-policies`), and Rill over `--rill-curve-tokens`
tokens for all four policies, with its RSS at each bin.
The sinks/recompute speed ratio at cache 4096 is reported per engine and model.
Prefill (per model): `--prefill-rounds` rounds. Each round times every
engine's prefill of 256 tokens in its own process, engines in rotating order.
The report gives each round's throughput and the ratio of Rill to the faster
peer.

Models: stories260K and the random-weight ~100M Llama (`rill.export.llama_random`,
generated into build/eval/models on first use). Results: build/eval/cost/*.json,
a Markdown report (build/eval/cost/report.md) and plots under docs/img/.

Usage: /usr/bin/python3 bench/eval/cost.py [--models stories260K,llama_random_100M]
       [--sizes 256,512,...] [--random-sizes 1024] [--engines torch,ort,rill] [--policies dense,sinks]
       [--threads 1] [--rill-march native] [--report-only]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

OUT = common.BUILD / "cost"
IMG = common.REPO_ROOT / "docs" / "img"
POLICIES = ("dense", "window", "recompute", "sinks")
RANDOM_CHECKPOINT = common.BUILD / "models" / "llama_random_100M.bin"
RILL_DRIVER = Path(__file__).resolve().parent / "rill_step_cost.py"
PREFILL_TOKENS = 256

# (kv_heads, head_dim) per model, which the ONNX Runtime driver needs to build empty caches.
SHAPES = {"stories260K": (4, 8), "llama_random_100M": (4, 64)}


def checkpoint_of(model: str) -> Path:
    if model == "stories260K":
        return common.MODELS["stories260K"].checkpoint
    if not RANDOM_CHECKPOINT.is_file():
        common.log(f"writing {RANDOM_CHECKPOINT}")
        from rill.export.llama_random import write_checkpoint

        write_checkpoint(RANDOM_CHECKPOINT)
    return RANDOM_CHECKPOINT


def onnx_of(model: str, max_positions: int) -> Path:
    if model == "llama_random_100M":
        path = common.BUILD / "onnx" / f"llama_random_100M_p{max_positions}" / "model.onnx"
        if path.is_file():
            return path
    return common.onnx_export(checkpoint_of(model), max_positions)


def sizes_of(model: str, args) -> list[int]:
    return args.sizes if model == "stories260K" else args.random_sizes


def steps_for(model: str, policy: str, size: int, args) -> int:
    measure = args.measure if model == "stories260K" else args.random_measure
    if policy != "recompute":
        return measure
    return max(1, min(measure, int(measure * 256 / size)))


def step_options(model: str, policy: str, size: int, args, prefill: bool) -> list[str]:
    """Return the drivers' shared timing options; a prefill run times one step only, after its prompts."""
    if prefill:
        return ["--measure", "1", "--warmup", "0", "--prefill", str(PREFILL_TOKENS)]
    return ["--measure", str(steps_for(model, policy, size, args)), "--warmup", "1" if policy == "recompute" else "3"]


def torch_cost(model: str, policy: str, size: int, args, prefill: bool = False) -> dict:
    command = [common.PYTHON, str(common.TORCH_PEER), "--mode", "cost", "--json", "--checkpoint", str(checkpoint_of(model)),
               "--policy", policy, "--capacity", str(size), "--sinks", "4", "--threads", str(args.threads)]
    command += step_options(model, policy, size, args, prefill)
    return common.run_json(command, timeout=args.timeout)


def ort_cost(model: str, policy: str, size: int, args, prefill: bool = False) -> dict:
    kv_heads, head_dim = SHAPES[model]
    # The peer feeds stream positions, so the export's RoPE table must cover the
    # cache plus the timed steps: cache 8192 needs a longer table than --max-positions.
    positions = max(args.max_positions, size + 64)
    command = ["node", str(common.ORT_PEER), "--cost", "--model", str(onnx_of(model, positions)),
               "--kv-heads", str(kv_heads), "--head-dim", str(head_dim), "--policy", policy, "--sinks", "4",
               "--capacity", str(size), "--threads", str(args.threads)]
    command += step_options(model, policy, size, args, prefill)
    return common.run_json(command, timeout=args.timeout)


def rill_library(model: str, args) -> Path:
    """Compile the model's export once for --rill-march, with room for the dense runs' extra slots."""
    max_capacity = max(sizes_of(model, args)) + 64
    name = f"{model}_p{args.max_positions}_c{max_capacity}_{args.rill_march}.so"
    return common.compile_with_rillc(onnx_of(model, args.max_positions), common.BUILD / "rill" / name,
                                     extra_args=["--max-capacity", str(max_capacity), "--march", args.rill_march])


def rill_cost(model: str, policy: str, size: int, args, prefill: bool = False) -> dict:
    command = [common.PYTHON, str(RILL_DRIVER), "--json", "--model", str(rill_library(model, args)), "--policy", policy,
               "--capacity", str(size), "--sinks", "4", "--threads", str(args.threads)]
    command += step_options(model, policy, size, args, prefill)
    library = common.librill_path()
    if library is None:
        raise RuntimeError("librill.so not found next to rillc; set $RILL_LIBRARY")
    return common.run_json(command, timeout=args.timeout, env={"RILL_LIBRARY": str(library), "OMP_NUM_THREADS": str(args.threads)})


ENGINES = {"torch": torch_cost, "ort": ort_cost, "rill": rill_cost}


def measure(engine: str, model: str, policy: str, size: int, args) -> dict | None:
    march = f"__{args.rill_march}" if engine == "rill" else ""
    path = OUT / f"{engine}__{model}__{policy}__c{size}__t{args.threads}{march}.json"
    if path.is_file():
        return json.loads(path.read_text())
    begin = time.time()
    try:
        result = ENGINES[engine](model, policy, size, args)
    except (RuntimeError, OSError, subprocess.TimeoutExpired, json.JSONDecodeError) as error:
        common.log(f"{engine} {model} {policy} cache {size} failed: {str(error)[:400]}")
        return None
    result.update(engine=engine, model=model, policy=policy, capacity=size, wall_seconds=time.time() - begin)
    common.write_json(path, result)
    common.log(f"{engine} {model} {policy} cache {size}: {result.get('latency_ms_median', float('nan')):.2f} ms/token, "
               f"peak RSS {result.get('peak_rss_bytes', 0) / 2**20:.0f} MiB")
    return result


def prefill_rounds(model: str, engines: list[str], args) -> None:
    """Time the prefill of PREFILL_TOKENS tokens in `--prefill-rounds` rounds.

    Each round runs every engine once, in its own process, in an order that
    rotates from round to round, so that a slow spell of the shared machine
    does not always hit the same engine.
    """
    march = f"__{args.rill_march}"
    for round_index in range(args.prefill_rounds):
        shift = round_index % len(engines)
        for engine in engines[shift:] + engines[:shift]:
            path = OUT / f"prefill__{model}__r{round_index}__{engine}__t{args.threads}{march if engine == 'rill' else ''}.json"
            if path.is_file():
                continue
            try:
                result = ENGINES[engine](model, "sinks", PREFILL_TOKENS, args, prefill=True)
            except (RuntimeError, OSError, subprocess.TimeoutExpired, json.JSONDecodeError) as error:
                common.log(f"{engine} {model} prefill round {round_index} failed: {str(error)[:400]}")
                continue
            result.update(engine=engine, model=model, round=round_index)
            common.write_json(path, result)
            common.log(f"{engine} {model} prefill round {round_index}: "
                       f"{result['prefill_tokens_per_second']:.0f} tokens/s")


def prefill_report(args) -> list[str]:
    """Return the report lines of the prefill rounds: one table per model and Rill's ratio per round."""
    lines = []
    for model in args.models:
        runs = [json.loads(p.read_text()) for p in sorted(OUT.glob(f"prefill__{model}__r*__*.json"))]
        if not runs:
            continue
        by_engine = {engine: sorted((r for r in runs if r["engine"] == engine), key=lambda r: r["round"])
                     for engine in ENGINES}
        lines += [f"Prefill of {PREFILL_TOKENS} tokens in one call, {model}, tokens/s: each round times the "
                  "median of 5 calls after a cold first call (in parentheses; it also pays for first-touch "
                  "page faults), engines in rotating order.", "",
                  "| engine | rounds | median | cold (median) |", "|---|---|---|---|"]
        for engine, rows in by_engine.items():
            if rows:
                values = [r["prefill_tokens_per_second"] for r in rows]
                cold = [r["prefill_cold_tokens_per_second"] for r in rows]
                lines.append(f"| {engine} | {', '.join(f'{v:.0f}' for v in values)} | {statistics.median(values):.0f} "
                             f"| {statistics.median(cold):.0f} |")
        ratios = []
        for round_index in sorted({r["round"] for r in runs}):
            pick = {r["engine"]: r["prefill_tokens_per_second"] for r in runs if r["round"] == round_index}
            peers = [v for e, v in pick.items() if e != "rill"]
            if "rill" in pick and peers:
                ratios.append(pick["rill"] / max(peers))
        if ratios:
            lines += ["", f"Rill / faster peer per round: {', '.join(f'{r:.2f}' for r in ratios)} "
                      f"(median {statistics.median(ratios):.2f})"]
        lines.append("")
    return lines


def curve(args, engines: list[str]) -> None:
    """Latency against tokens processed on stories260K at cache 256: the torch peer, then Rill."""
    if "rill" in engines:
        rill_curve(args)
    if "torch" not in engines:
        return
    for policy in args.curve_policies:
        path = OUT / f"curve__stories260K__{policy}.json"
        if path.is_file():
            continue
        command = [common.PYTHON, str(common.TORCH_PEER), "--mode", "step", "--json", "--latency-curve",
                   "--checkpoint", str(common.MODELS["stories260K"].checkpoint),
                   "--tokenizer", str(common.MODELS["stories260K"].tokenizer),
                   "--text", str(common.TEXT_FILES["tinystories"]), "--tokens", str(args.curve_tokens),
                   "--policy", policy, "--capacity", "256", "--sinks", "4", "--threads", str(args.threads)]
        try:
            result = common.run_json(command, timeout=args.timeout)
        except (RuntimeError, subprocess.TimeoutExpired) as error:
            common.log(f"curve {policy} failed: {str(error)[:400]}")
            continue
        common.write_json(path, result)
        common.log(f"curve {policy}: median {result['latency_ms_median']:.2f} ms/token")


def rill_curve(args) -> None:
    """Rill's latency and RSS against tokens processed, four policies, one library."""
    for policy in POLICIES:
        path = OUT / f"curve__stories260K__{policy}__rill.json"
        if path.is_file():
            continue
        command = [common.PYTHON, str(RILL_DRIVER), "--json", "--model", str(rill_library("stories260K", args)),
                   "--policy", policy, "--capacity", "256", "--sinks", "4", "--threads", str(args.threads),
                   "--curve", str(args.rill_curve_tokens)]
        try:
            result = common.run_json(command, timeout=args.timeout,
                                     env={"RILL_LIBRARY": str(common.librill_path()),
                                          "OMP_NUM_THREADS": str(args.threads)})
        except (RuntimeError, subprocess.TimeoutExpired) as error:
            common.log(f"rill curve {policy} failed: {str(error)[:400]}")
            continue
        common.write_json(path, result)
        common.log(f"rill curve {policy}: median {result['latency_ms_median']:.3f} ms/token")


def load_curves(suffix: str) -> dict:
    return {p: json.loads((OUT / f"curve__stories260K__{p}{suffix}.json").read_text())
            for p in POLICIES if (OUT / f"curve__stories260K__{p}{suffix}.json").is_file()}


def report(args, rill_reason: str | None) -> str:
    results = [json.loads(p.read_text()) for p in sorted(OUT.glob("*__c*__t*.json"))]
    lines = [f"Threads: {args.threads}. Median milliseconds per token at a full cache (peak RSS in MiB).", ""]
    if rill_reason:
        lines += [f"Rill rows skipped: {rill_reason}.", ""]
    for model in args.models:
        sizes = sizes_of(model, args)
        lines += [f"**{model}**", "", "| engine | policy | " + " | ".join(str(s) for s in sizes) + " |",
                  "|---|---|" + "---|" * len(sizes)]
        for engine in ENGINES:
            for policy in POLICIES:
                cells = []
                for size in sizes:
                    match = [r for r in results if r["engine"] == engine and r["model"] == model
                             and r["policy"] == policy and r["capacity"] == size]
                    if match and "latency_ms_median" in match[0]:
                        r = match[0]
                        cells.append(f"{r['latency_ms_median']:.2f} ({r.get('peak_rss_bytes', 0) / 2**20:.0f})")
                    else:
                        cells.append("-")
                if any(c != "-" for c in cells):
                    lines.append(f"| {engine} | {policy} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += rill_against_peers(args, results)
    lines += ["Sinks against recompute at cache 4096, or the 100M model's largest recompute size "
              "(recompute ms / sinks ms):", ""]
    for model in args.models:
        recompute_sizes = [size for size in sizes_of(model, args) if size <= args.max_recompute]
        size = 4096 if 4096 in recompute_sizes else max(recompute_sizes, default=0)
        for engine in ENGINES:
            pick = {r["policy"]: r for r in results if r["engine"] == engine and r["model"] == model and r["capacity"] == size}
            if "sinks" in pick and "recompute" in pick:
                ratio = pick["recompute"]["latency_ms_median"] / pick["sinks"]["latency_ms_median"]
                lines.append(f"- {model}, cache {size}, {engine}: {pick['recompute']['latency_ms_median']:.1f} / "
                             f"{pick['sinks']['latency_ms_median']:.2f} ms = {ratio:.1f}x")
    lines += [""] + prefill_report(args)
    curves = load_curves("")
    if curves:
        lines += ["", f"Torch peer, stories260K, cache 256, {args.curve_tokens} tokens from an empty cache "
                  "(median ms/token in the first and last 2% of the stream):", ""]
        for policy, r in curves.items():
            lines.append(f"- {policy}: {r['latency_curve'][0][1]:.2f} -> {r['latency_curve'][-1][1]:.2f}")
    curves = load_curves("__rill")
    if curves:
        lines += ["", "Rill, stories260K, cache 256, tokens fed one at a time from an empty cache: median ms per "
                  "token in bins of 2% of the stream, and VmRSS in MiB at the end of those bins:", "",
                  "| policy | tokens | first bin | middle bin | last bin | RSS first | RSS last |",
                  "|---|---|---|---|---|---|---|"]
        for policy, r in curves.items():
            latency, rss = r["latency_curve"], r["rss_curve"]
            middle = latency[len(latency) // 2]
            lines.append(f"| {policy} | {r['tokens']:,} | {latency[0][1]:.3f} | {middle[1]:.3f} (at {middle[0]:,}) | "
                         f"{latency[-1][1]:.3f} | {rss[0][1] / 2**20:.1f} | {rss[-1][1] / 2**20:.1f} |")
    return "\n".join(lines) + "\n"


def rill_against_peers(args, results: list[dict]) -> list[str]:
    """List, per model, policy and size, the faster peer's median ms per token divided by Rill's."""
    lines = ["Faster peer's ms per token / Rill's (above 1: Rill is faster):", ""]
    for model in args.models:
        sizes = sizes_of(model, args)
        lines += [f"**{model}**", "", "| policy | " + " | ".join(str(s) for s in sizes) + " |",
                  "|---|" + "---|" * len(sizes)]
        for policy in POLICIES:
            cells = []
            for size in sizes:
                latency = {r["engine"]: r["latency_ms_median"] for r in results if r["model"] == model
                           and r["policy"] == policy and r["capacity"] == size and "latency_ms_median" in r}
                peers = [latency[engine] for engine in ("torch", "ort") if engine in latency]
                if "rill" in latency and peers:
                    cells.append(f"{min(peers) / latency['rill']:.2f}")
                else:
                    cells.append("-")
            lines.append(f"| {policy} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def plot(args) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = [json.loads(p.read_text()) for p in sorted(OUT.glob("*__c*__t*.json"))]
    figure, axes = plt.subplots(1, len(args.models), figsize=(6 * len(args.models), 4.5), squeeze=False)
    colors = {"dense": "black", "window": "tab:red", "recompute": "tab:orange", "sinks": "tab:blue"}
    styles = {"torch": "-o", "ort": "--s", "rill": ":^"}
    for axis, model in zip(axes[0], args.models):
        for engine in ENGINES:
            for policy in POLICIES:
                points = sorted((r["capacity"], r["latency_ms_median"]) for r in results
                                if r["engine"] == engine and r["model"] == model and r["policy"] == policy
                                and "latency_ms_median" in r)
                if points:
                    x, y = zip(*points)
                    axis.plot(x, y, styles[engine], color=colors[policy], label=f"{engine} {policy}", markersize=4)
        axis.set_xscale("log", base=2)
        axis.set_yscale("log")
        axis.set_xlabel("cache size (tokens)")
        axis.set_ylabel("ms per token (median)")
        axis.set_title(model)
        axis.legend(fontsize=7, ncol=2)
    figure.tight_layout()
    paths = [IMG / "cost_cache_size.png"]
    IMG.mkdir(parents=True, exist_ok=True)
    figure.savefig(paths[0], dpi=80)
    plt.close(figure)

    panels = [(name, curves) for name, curves in (("Rill", load_curves("__rill")), ("torch peer", load_curves("")))
              if curves]
    if panels:
        figure, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4), squeeze=False)
        for axis, (name, curves) in zip(axes[0], panels):
            for policy, r in curves.items():
                x, y = zip(*r["latency_curve"])
                axis.plot(x, y, color=colors[policy], label=policy)
            axis.set_xlabel("tokens processed")
            axis.set_ylabel("ms per token (median per bin)")
            axis.set_yscale("log")
            axis.set_title(f"stories260K, {name}, cache 256")
            axis.legend()
        figure.tight_layout()
        paths.append(IMG / "cost_tokens_processed.png")
        figure.savefig(paths[-1], dpi=80)
        plt.close(figure)
    return paths


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Per-token latency and peak memory per cache policy and engine.")
    parser.add_argument("--models", default="stories260K,llama_random_100M", help="comma-separated: stories260K, llama_random_100M")
    parser.add_argument("--sizes", default="256,512,1024,2048,4096,8192", help="cache sizes in tokens of stories260K")
    parser.add_argument("--random-sizes", default="1024", help="cache sizes in tokens of the 100M model (default: %(default)s)")
    parser.add_argument("--random-measure", type=int, default=10,
                        help="timed steps per configuration of the 100M model (default: %(default)s)")
    parser.add_argument("--engines", default="torch,ort,rill", help="comma-separated: torch, ort, rill")
    parser.add_argument("--policies", default=",".join(POLICIES), help="comma-separated policies to measure (default: all four)")
    parser.add_argument("--threads", type=int, default=1, help="threads of every engine (default: %(default)s)")
    parser.add_argument("--rill-march", default="native",
                        help="rillc --march of Rill's libraries (default: %(default)s: the machine's own vector "
                             "width, which the peers' kernels also pick at run time; x86-64-v3 for AVX2)")
    parser.add_argument("--measure", type=int, default=20, help="timed steps per configuration (default: %(default)s)")
    parser.add_argument("--max-recompute", type=int, default=4096, help="largest cache size that runs recompute")
    parser.add_argument("--max-positions", type=int, default=8192, help="RoPE table rows of the ONNX exports")
    parser.add_argument("--curve-tokens", type=int, default=1500, help="stream length of the tokens-processed sweep")
    parser.add_argument("--curve-policies", default="dense,window,sinks",
                        help="policies of the tokens-processed sweep; recompute, about 0.8 s per torch step at cache 256, is left out")
    parser.add_argument("--rill-curve-tokens", type=int, default=8000,
                        help="stream length of Rill's tokens-processed sweep (default: %(default)s)")
    parser.add_argument("--prefill-rounds", type=int, default=5,
                        help=f"rounds of the {PREFILL_TOKENS}-token prefill comparison per model (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per configuration before it is skipped")
    parser.add_argument("--skip-curves", action="store_true", help="leave out the tokens-processed sweep")
    parser.add_argument("--report-only", action="store_true", help="write the report and plots from finished runs")
    args = parser.parse_args(argv)
    args.models = args.models.split(",")
    args.sizes = [int(s) for s in args.sizes.split(",")]
    args.random_sizes = [int(s) for s in args.random_sizes.split(",")]
    args.curve_policies = [p for p in args.curve_policies.split(",") if p]
    engines = args.engines.split(",")

    OUT.mkdir(parents=True, exist_ok=True)
    rill_reason = common.rill_unavailable_reason() if "rill" in engines else "not requested (--engines)"
    if rill_reason:
        common.log(f"Rill rows skipped: {rill_reason}")
        engines = [e for e in engines if e != "rill"]
    if not args.report_only:
        if "stories260K" in args.models and not args.skip_curves:
            curve(args, engines)
        for model in args.models:
            for size in sizes_of(model, args):
                for policy in args.policies.split(","):
                    if policy == "recompute" and size > args.max_recompute:
                        continue
                    for engine in engines:
                        measure(engine, model, policy, size, args)
            prefill_rounds(model, engines, args)
    text = report(args, rill_reason)
    (OUT / "report.md").write_text(text)
    print(text)
    for path in plot(args):
        common.log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
