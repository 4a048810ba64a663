# ===- bench/peers/torch_streaming.py - PyTorch eager StreamingLLM peer ---=== #
"""Stream a llama2.c checkpoint through PyTorch eager under the four cache policies.

This is the StreamingLLM reference behaviour written for PyTorch 1.13: keys are
cached before RoPE, and at every step every cached key is rotated again at its
position inside the cache (0..cache_len-1), with the query at the last position.
Eviction concatenates the kept slices (a copy), as the reference does. Policies:
`dense` (the cache grows), `window` (the last `capacity` tokens), `recompute`
(every token re-encodes the last `capacity` tokens at positions 0..n-1) and
`sinks` (`--sinks` first tokens plus the last `capacity - sinks`).
`--sink-positions original` is the ablation that keeps every key at its stream
position instead, so sinks sit far from the query, as a plain truncated cache does.

Modes:
- `step`: the reference token loop; reports per-token latency, prefill throughput,
  peak RSS and, with `--tokens`, the NLL of the stream.
- `eval`: the same attention computed chunk-wise for long perplexity runs. Keys are
  rotated once at their stream position. The query is rotated at its stream
  position against window keys and at min(t, capacity - 1) against sink keys.
  That gives the reference's scores, because RoPE scores depend only on the
  distance. `recompute` there scores every `--recompute-stride`-th target.
- `cost`: fills the cache with random keys and values (their content does not
  change the work) and times `--measure` steps at a full cache.

Output is one JSON object on stdout (`--json`) or a short text summary.
Example: torch_streaming.py --checkpoint data/checkpoints/stories260K.bin
  --tokenizer data/checkpoints/tok512.bin --text data/text/tinystories_valid_head.txt
  --tokens 2000 --policy sinks --sinks 4 --capacity 256 --mode step --json
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "python"))

from rill.export.llama2c_torch import permute_heads  # noqa: E402
from rill.models.llama2c import BOS, load_checkpoint, load_tokenizer, read_text  # noqa: E402
from rill.models.llama2c.model import RMS_NORM_EPS, ROPE_THETA  # noqa: E402

POLICIES = ("dense", "window", "recompute", "sinks")


def peak_rss_bytes() -> int:
    """Return the peak resident set size of this process, VmHWM from /proc/self/status.

    getrusage's ru_maxrss is not used because Linux keeps it across execve, so a
    child would report its parent's peak if that was higher.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class TorchLlama:
    """A llama2.c checkpoint as float32 torch tensors, q/k rows in the half-split RoPE order."""

    def __init__(self, checkpoint, dtype=torch.float32):
        c, w = checkpoint.config, checkpoint.weights
        self.config = c
        self.dtype = dtype
        t = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).to(dtype)
        self.embedding = t(w.token_embedding)
        self.layers = []
        for i in range(c.n_layers):
            self.layers.append({
                "rms_att": t(w.rms_att[i]),
                "wq": t(permute_heads(w.wq[i], c.n_heads, c.head_size)).T.contiguous(),
                "wk": t(permute_heads(w.wk[i], c.n_kv_heads, c.head_size)).T.contiguous(),
                "wv": t(w.wv[i]).T.contiguous(),
                "wo": t(w.wo[i]).T.contiguous(),
                "rms_ffn": t(w.rms_ffn[i]),
                "w1": t(w.w1[i]).T.contiguous(),
                "w2": t(w.w2[i]).T.contiguous(),
                "w3": t(w.w3[i]).T.contiguous(),
            })
        self.rms_final = t(w.rms_final)
        self.classifier = t(w.wcls).T.contiguous()
        half = c.head_size // 2
        self.inv_freq = ROPE_THETA ** (-np.arange(0, c.head_size, 2, dtype=np.float64) / c.head_size)
        self.group = c.n_heads // c.n_kv_heads
        self.scale = 1.0 / math.sqrt(c.head_size)
        self.half = half

    # Pieces.

    def rope_tables(self, positions) -> tuple[torch.Tensor, torch.Tensor]:
        """Return cos and sin [n, head_size] for integer positions; angles in float64, reduced mod 2*pi."""
        angles = np.asarray(positions, dtype=np.float64)[:, None] * self.inv_freq[None, :]
        angles = np.mod(angles, 2 * np.pi)
        angles = np.concatenate([angles, angles], axis=1)
        return torch.from_numpy(np.cos(angles)).to(self.dtype), torch.from_numpy(np.sin(angles)).to(self.dtype)

    def rotate(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        """Rotate x [..., n, head_size] with tables [n, head_size] (half-split pairs)."""
        rotated_half = torch.cat((-x[..., self.half:], x[..., : self.half]), dim=-1)
        return x * cos + rotated_half * sin

    @staticmethod
    def rms_norm(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + RMS_NORM_EPS) * weight

    def qkv(self, layer: dict, x: torch.Tensor):
        """Return pre-RoPE q [..., heads, n, hs], k and v [..., kv_heads, n, hs] for x [..., n, dim]."""
        c = self.config
        h = self.rms_norm(x, layer["rms_att"])
        shape = x.shape[:-1]
        q = (h @ layer["wq"]).view(*shape, c.n_heads, c.head_size).transpose(-2, -3)
        k = (h @ layer["wk"]).view(*shape, c.n_kv_heads, c.head_size).transpose(-2, -3)
        v = (h @ layer["wv"]).view(*shape, c.n_kv_heads, c.head_size).transpose(-2, -3)
        return q, k, v

    def expand_kv(self, x: torch.Tensor) -> torch.Tensor:
        """Repeat kv heads [..., kv_heads, n, hs] to [..., heads, n, hs] for grouped-query attention."""
        return x if self.group == 1 else torch.repeat_interleave(x, self.group, dim=-3)

    def finish(self, layer: dict, x: torch.Tensor, attended: torch.Tensor) -> torch.Tensor:
        """Merge heads of attended [..., heads, n, hs], then output projection, residuals and SwiGLU."""
        c = self.config
        attended = attended.transpose(-2, -3).reshape(*x.shape[:-1], c.dim)
        x = x + attended @ layer["wo"]
        h = self.rms_norm(x, layer["rms_ffn"])
        return x + (torch.nn.functional.silu(h @ layer["w1"]) * (h @ layer["w3"])) @ layer["w2"]

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.rms_norm(x, self.rms_final) @ self.classifier

    def forward(self, tokens: torch.Tensor, positions) -> torch.Tensor:
        """Dense causal forward of tokens [..., n] at RoPE `positions` [n]; returns the last row's logits [..., vocab]."""
        n = tokens.shape[-1]
        cos, sin = self.rope_tables(positions)
        causal = torch.ones(n, n, dtype=torch.bool).tril()
        x = self.embedding[tokens]
        for layer in self.layers:
            q, k, v = self.qkv(layer, x)
            q, k = self.rotate(q, cos, sin), self.rotate(k, cos, sin)
            scores = (q @ self.expand_kv(k).transpose(-1, -2)) * self.scale
            scores = scores.masked_fill(~causal, float("-inf"))
            x = self.finish(layer, x, torch.softmax(scores, dim=-1) @ self.expand_kv(v))
        return self.logits(x[..., -1, :])


class ReferenceStream:
    """Token-by-token stream with the StreamingLLM reference cache (pre-RoPE keys, per-step rotation)."""

    def __init__(self, model: TorchLlama, policy: str, sinks: int, capacity: int | None,
                 sink_positions: str = "cache"):
        if policy not in POLICIES:
            raise ValueError(f"unknown policy {policy!r} (expected one of {', '.join(POLICIES)})")
        if policy != "dense" and (capacity is None or capacity < 1):
            raise ValueError(f"policy {policy} needs a capacity >= 1 (got {capacity})")
        if policy == "sinks" and not 0 <= sinks < capacity:
            raise ValueError(f"sinks must be in [0, capacity) (got sinks {sinks}, capacity {capacity})")
        self.model = model
        self.policy = policy
        self.sinks = sinks if policy == "sinks" else 0
        self.capacity = capacity
        self.sink_positions = sink_positions
        self.history: list[int] = []  # recompute only: the last `capacity` token ids
        self.keys = [None] * model.config.n_layers  # [kv_heads, n, hs] pre-RoPE
        self.values = [None] * model.config.n_layers
        self.stream_positions = torch.zeros(0, dtype=torch.int64)  # stream position of each cached entry
        self.position = 0

    def fill_random(self, length: int, seed: int = 0) -> None:
        """Fill the cache with `length` random entries at positions 0..length-1 (timing runs only)."""
        c = self.model.config
        generator = torch.Generator().manual_seed(seed)
        for i in range(c.n_layers):
            self.keys[i] = torch.randn(c.n_kv_heads, length, c.head_size, generator=generator).to(self.model.dtype)
            self.values[i] = torch.randn(c.n_kv_heads, length, c.head_size, generator=generator).to(self.model.dtype)
        self.stream_positions = torch.arange(length)
        self.history = [3] * min(length, self.capacity or length)
        self.position = length

    def _kept(self, n: int) -> torch.Tensor | None:
        """Return the indices of the cache entries to keep before a new token arrives, or None to keep all."""
        if self.policy == "dense" or n < self.capacity:
            return None
        recent = self.capacity - self.sinks - 1
        return torch.cat([torch.arange(self.sinks), torch.arange(n - recent, n)])

    def step(self, token: int) -> torch.Tensor:
        """Feed one token and return its logits [vocab]."""
        model = self.model
        t = self.position
        self.position += 1
        if self.policy == "recompute":
            self.history.append(token)
            self.history = self.history[-self.capacity:]
            ids = torch.tensor(self.history)
            return model.forward(ids, np.arange(len(ids)))

        n = 0 if self.keys[0] is None else self.keys[0].shape[1]
        kept = self._kept(n)
        if kept is not None:
            self.stream_positions = self.stream_positions[kept]
        self.stream_positions = torch.cat([self.stream_positions, torch.tensor([t])])
        length = len(self.stream_positions)
        if self.sink_positions == "original":
            key_positions = self.stream_positions.numpy()
            query_position = [t]
        else:
            key_positions = np.arange(length)
            query_position = [length - 1]
        key_cos, key_sin = model.rope_tables(key_positions)
        query_cos, query_sin = model.rope_tables(query_position)

        x = model.embedding[torch.tensor([token])]
        for i, layer in enumerate(model.layers):
            q, k, v = model.qkv(layer, x)
            if self.keys[i] is None:
                self.keys[i], self.values[i] = k, v
            else:
                old_keys, old_values = self.keys[i], self.values[i]
                if kept is not None:
                    old_keys, old_values = old_keys[:, kept], old_values[:, kept]
                self.keys[i] = torch.cat([old_keys, k], dim=1)
                self.values[i] = torch.cat([old_values, v], dim=1)
            keys = model.rotate(self.keys[i], key_cos, key_sin)
            q = model.rotate(q, query_cos, query_sin)
            scores = (q @ model.expand_kv(keys).transpose(-1, -2)) * model.scale
            attended = torch.softmax(scores, dim=-1) @ model.expand_kv(self.values[i])
            x = model.finish(layer, x, attended)
        return model.logits(x)[0]

    def prefill(self, tokens: list[int]) -> None:
        """Run a prompt as one dense causal chunk on an empty cache, then evict to the policy's capacity."""
        model = self.model
        if self.position != 0:
            raise ValueError("prefill needs an empty stream")
        if self.policy == "recompute":
            self.history = list(tokens)[-self.capacity:]
            model.forward(torch.tensor(self.history), np.arange(len(self.history)))
            self.position = len(tokens)
            return
        n = len(tokens)
        cos, sin = model.rope_tables(np.arange(n))
        causal = torch.ones(n, n, dtype=torch.bool).tril()
        x = model.embedding[torch.tensor(tokens)]
        for i, layer in enumerate(model.layers):
            q, k, v = model.qkv(layer, x)
            self.keys[i], self.values[i] = k, v
            scores = (model.rotate(q, cos, sin) @ model.expand_kv(model.rotate(k, cos, sin)).transpose(-1, -2)) * model.scale
            scores = scores.masked_fill(~causal, float("-inf"))
            x = model.finish(layer, x, torch.softmax(scores, dim=-1) @ model.expand_kv(v))
        self.stream_positions = torch.arange(n)
        self.position = n
        if self.policy != "dense" and n > self.capacity - 1:
            kept = torch.cat([torch.arange(self.sinks), torch.arange(n - (self.capacity - 1 - self.sinks), n)])
            self.stream_positions = self.stream_positions[kept]
            self.keys = [k[:, kept] for k in self.keys]
            self.values = [v[:, kept] for v in self.values]


def nll_of(logits: torch.Tensor, targets: torch.Tensor) -> np.ndarray:
    """Return -log p(target) per row in float64."""
    log_probs = torch.log_softmax(logits.to(torch.float64), dim=-1)
    return (-log_probs.gather(-1, targets.view(-1, 1)).view(-1)).numpy()


def chunked_nll(model: TorchLlama, tokens: np.ndarray, policy: str, sinks: int, capacity: int | None,
                sink_positions: str = "cache", chunk: int = 256) -> np.ndarray:
    """Return the NLL of targets tokens[1:] under a cached policy, computed chunk-wise.

    Query t sees key p when p <= t and (p < sinks or t - p < window), window =
    capacity - sinks (unbounded for dense). Keys are rotated at their stream
    positions; against sink keys the query is rotated at min(t, capacity - 1)
    (or at t with `sink_positions="original"`), which gives the reference's scores.
    """
    if policy == "recompute":
        raise ValueError("chunked_nll covers dense, window and sinks; use recompute_nll")
    c = model.config
    n = len(tokens) - 1
    n_sinks = sinks if policy == "sinks" else 0
    window = None if policy == "dense" else capacity - n_sinks
    ids = torch.from_numpy(np.asarray(tokens, dtype=np.int64))
    out = np.empty(n)
    # Per layer: rotated keys and values of the sinks and of the last window - 1 positions.
    sink_keys = [None] * c.n_layers
    sink_values = [None] * c.n_layers
    recent_keys = [torch.zeros(c.n_kv_heads, 0, c.head_size, dtype=model.dtype) for _ in range(c.n_layers)]
    recent_values = [torch.zeros(c.n_kv_heads, 0, c.head_size, dtype=model.dtype) for _ in range(c.n_layers)]
    recent_start = 0  # stream position of recent_keys[:, 0]

    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        positions = np.arange(start, stop)
        cos, sin = model.rope_tables(positions)
        if sink_positions == "original" or policy != "sinks":
            sink_cos, sink_sin = cos, sin
        else:
            sink_cos, sink_sin = model.rope_tables(np.minimum(positions, capacity - 1))
        # Key positions held in recent_* plus the chunk, and their visibility.
        key_positions = torch.arange(recent_start, stop)
        query = torch.from_numpy(positions)[:, None]
        visible = key_positions[None, :] <= query
        if window is not None:
            visible &= (query - key_positions[None, :]) < window
        if n_sinks:
            # Sink positions are covered by the sink segment only.
            visible &= key_positions[None, :] >= n_sinks
        sink_visible = torch.arange(n_sinks)[None, :] <= query

        x = model.embedding[ids[start:stop]]
        for i, layer in enumerate(model.layers):
            q, k, v = model.qkv(layer, x)
            k = model.rotate(k, cos, sin)
            keys = torch.cat([recent_keys[i], k], dim=1)
            values = torch.cat([recent_values[i], v], dim=1)
            scores = (model.rotate(q, cos, sin) @ model.expand_kv(keys).transpose(-1, -2)) * model.scale
            scores = scores.masked_fill(~visible, float("-inf"))
            all_values = model.expand_kv(values)
            if n_sinks:
                if sink_keys[i] is None:
                    # Sinks are positions 0..n_sinks-1, all inside the first chunk.
                    sink_keys[i], sink_values[i] = keys[:, :n_sinks], values[:, :n_sinks]
                sink_scores = (model.rotate(q, sink_cos, sink_sin) @ model.expand_kv(sink_keys[i]).transpose(-1, -2)) * model.scale
                sink_scores = sink_scores.masked_fill(~sink_visible, float("-inf"))
                scores = torch.cat([sink_scores, scores], dim=-1)
                all_values = torch.cat([model.expand_kv(sink_values[i]), all_values], dim=-2)
            x = model.finish(layer, x, torch.softmax(scores, dim=-1) @ all_values)
            keep = 0 if window is None else max(0, keys.shape[1] - (window - 1))
            recent_keys[i], recent_values[i] = keys[:, keep:], values[:, keep:]
        recent_start += keep
        out[start:stop] = nll_of(model.logits(x), ids[start + 1: stop + 1])
    return out


def recompute_nll(model: TorchLlama, tokens: np.ndarray, capacity: int, stride: int = 1,
                  batch: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Return (target indices, NLL) of recompute for every `stride`-th target of tokens[1:].

    Target j (token j + 1) is predicted by re-encoding tokens max(0, j - capacity + 1)..j
    at positions 0..n-1, as the recompute policy does per token.
    """
    ids = torch.from_numpy(np.asarray(tokens, dtype=np.int64))
    targets = np.arange(0, len(tokens) - 1, stride)
    out = np.empty(len(targets))
    # Steps with fewer than `capacity` tokens have their own lengths; run them one by one.
    for index, j in enumerate(targets):
        if j >= capacity - 1:
            break
        logits = model.forward(ids[: j + 1], np.arange(j + 1))
        out[index] = nll_of(logits[None], ids[j + 1: j + 2])[0]
    else:
        return targets, out
    first_full = index
    for begin in range(first_full, len(targets), batch):
        group = targets[begin: begin + batch]
        windows = torch.stack([ids[j - capacity + 1: j + 1] for j in group])
        logits = model.forward(windows, np.arange(capacity))
        out[begin: begin + len(group)] = nll_of(logits, ids[torch.from_numpy(group + 1)])
    return targets, out


def load_tokens(args) -> np.ndarray:
    if args.token_file:
        tokens = np.load(args.token_file) if args.token_file.suffix == ".npy" else np.loadtxt(args.token_file, dtype=np.int64)
    else:
        tokens = np.array(load_tokenizer(args.tokenizer).encode(read_text(args.text)), dtype=np.int64)
    if args.tokens:
        if len(tokens) < args.tokens:
            raise SystemExit(f"error: the input has only {len(tokens)} tokens (--tokens {args.tokens} requested)")
        tokens = tokens[: args.tokens]
    if tokens[0] != BOS:
        tokens = np.concatenate([[BOS], tokens])
    return tokens.astype(np.int64)


def run_step(model, args, tokens) -> dict:
    stream = ReferenceStream(model, args.policy, args.sinks, args.capacity, args.sink_positions)
    result = {}
    if args.prefill:
        prefill_tokens = [int(t) for t in tokens[: args.prefill]] if tokens is not None else [3] * args.prefill
        # The first prompt is timed apart (cold). The reported throughput is
        # the median of --prefill-calls more prompts, each on a fresh stream,
        # as the other engines measure it.
        calls = []
        for _ in range(1 + args.prefill_calls):
            probe = ReferenceStream(model, args.policy, args.sinks, args.capacity, args.sink_positions)
            begin = time.perf_counter()
            probe.prefill(prefill_tokens)
            calls.append(time.perf_counter() - begin)
        result["prefill_tokens"] = len(prefill_tokens)
        result["prefill_cold_tokens_per_second"] = len(prefill_tokens) / calls[0]
        result["prefill_tokens_per_second"] = len(prefill_tokens) / float(np.median(calls[1:]))
    if tokens is None:
        return result
    latencies = np.empty(len(tokens) - 1)
    nll = np.empty(len(tokens) - 1)
    with torch.no_grad():
        for t in range(len(tokens) - 1):
            begin = time.perf_counter()
            logits = stream.step(int(tokens[t]))
            latencies[t] = time.perf_counter() - begin
            nll[t] = nll_of(logits[None], torch.tensor([tokens[t + 1]]))[0]
    result.update(scored_tokens=len(nll), mean_nll=float(nll.mean()), perplexity=float(np.exp(nll.mean())),
                  latency_ms_median=float(np.median(latencies) * 1e3),
                  latency_ms_mean=float(latencies.mean() * 1e3))
    if args.latency_curve:
        edges = np.linspace(0, len(latencies), min(len(latencies), 50) + 1).astype(int)
        result["latency_curve"] = [[int(b), float(np.median(latencies[a:b]) * 1e3)] for a, b in zip(edges[:-1], edges[1:]) if b > a]
    if args.nll_out:
        np.save(args.nll_out, nll)
    return result


def run_cost(model, args) -> dict:
    """Time `--measure` steps at a full cache filled with random entries."""
    fill = (args.capacity - 1) if args.policy != "dense" else args.capacity
    stream = ReferenceStream(model, args.policy, args.sinks, args.capacity if args.policy != "dense" else None,
                             args.sink_positions)
    stream.fill_random(fill)
    latencies = []
    with torch.no_grad():
        for i in range(args.warmup + args.measure):
            begin = time.perf_counter()
            stream.step(3 + i % 100)
            if i >= args.warmup:
                latencies.append(time.perf_counter() - begin)
    latencies = np.array(latencies)
    return {"latency_ms_median": float(np.median(latencies) * 1e3), "latency_ms_min": float(latencies.min() * 1e3),
            "measured_steps": len(latencies)}


def run_eval(model, args, tokens) -> dict:
    begin = time.perf_counter()
    with torch.no_grad():
        if args.policy == "recompute":
            targets, nll = recompute_nll(model, tokens, args.capacity, args.recompute_stride)
        else:
            nll = chunked_nll(model, tokens, args.policy, args.sinks, args.capacity, args.sink_positions)
            targets = np.arange(len(nll))
    seconds = time.perf_counter() - begin
    if args.nll_out:
        np.savez(args.nll_out, targets=targets, nll=nll)
    return {"scored_tokens": len(nll), "mean_nll": float(nll.mean()), "perplexity": float(np.exp(nll.mean())),
            "seconds": seconds}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="PyTorch eager StreamingLLM peer for llama2.c checkpoints.")
    parser.add_argument("--checkpoint", type=Path, required=True, help="llama2.c checkpoint (fp32 or int8, de-quantised)")
    parser.add_argument("--tokenizer", type=Path, help="llama2.c tokenizer.bin (with --text)")
    parser.add_argument("--text", type=Path, help="UTF-8 text; blank-line runs collapse to one newline")
    parser.add_argument("--token-file", type=Path, help="token ids (.npy or whitespace text) instead of --text")
    parser.add_argument("--tokens", type=int, default=0, help="stream length in tokens, BOS included (0: all)")
    parser.add_argument("--mode", choices=("step", "eval", "cost"), default="step")
    parser.add_argument("--policy", choices=POLICIES, default="sinks")
    parser.add_argument("--sinks", type=int, default=4, help="sink tokens of the sinks policy (default: %(default)s)")
    parser.add_argument("--capacity", type=int, default=256, help="cache slots, sinks included (default: %(default)s)")
    parser.add_argument("--sink-positions", choices=("cache", "original"), default="cache",
                        help="rotate keys at in-cache positions (StreamingLLM) or at their stream positions")
    parser.add_argument("--prefill", type=int, default=0, help="step/cost mode: also time a prefill chunk of N tokens")
    parser.add_argument("--prefill-calls", type=int, default=5,
                        help="timed prefill calls after the cold one; the median is reported (default: %(default)s)")
    parser.add_argument("--measure", type=int, default=20, help="cost mode: timed steps (default: %(default)s)")
    parser.add_argument("--warmup", type=int, default=3, help="cost mode: untimed steps first (default: %(default)s)")
    parser.add_argument("--recompute-stride", type=int, default=1, help="eval mode: score every N-th target under recompute")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default: %(default)s)")
    parser.add_argument("--latency-curve", action="store_true", help="step mode: report latency against tokens processed")
    parser.add_argument("--nll-out", type=Path, help="save per-target NLL (.npy in step mode, .npz in eval mode)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.prefill_calls < 1:
        parser.error(f"--prefill-calls must be at least 1 (got {args.prefill_calls})")

    torch.set_num_threads(args.threads)
    checkpoint = load_checkpoint(args.checkpoint)
    model = TorchLlama(checkpoint)
    tokens = None
    if args.text or args.token_file:
        tokens = load_tokens(args)
    elif args.mode != "cost" and not args.prefill:
        parser.error("step and eval modes need --text with --tokenizer, or --token-file")

    result = {"engine": "torch-eager", "torch": torch.__version__, "checkpoint": args.checkpoint.name,
              "mode": args.mode, "policy": args.policy, "sinks": args.sinks if args.policy == "sinks" else 0,
              "capacity": args.capacity, "sink_positions": args.sink_positions, "threads": args.threads}
    if args.mode == "step":
        result.update(run_step(model, args, tokens))
    elif args.mode == "eval":
        result.update(run_eval(model, args, tokens))
    else:
        if args.prefill:
            result.update(run_step(model, args, None))
        result.update(run_cost(model, args))
    result["peak_rss_bytes"] = peak_rss_bytes()
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
