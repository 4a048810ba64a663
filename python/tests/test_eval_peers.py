# ===- tests/test_eval_peers.py - Peers against the numpy reference ----=== #
"""Check the benchmark peers' streaming NLL against the numpy reference model.

`bench/peers/torch_streaming.py` (PyTorch eager, StreamingLLM cache behaviour) and
`bench/peers/ort_stream.js` (ONNX Runtime with a truncated past_key_values cache)
stream the first 150 tokens of the TinyStories text through stories260K at
capacity 32. Their mean NLL must equal `rill.models.llama2c.streaming_logits`
within float32 noise, except where a peer differs by design: the ONNX Runtime
peer keeps sinks at their original positions, so it is compared with the torch
peer's `--sink-positions original` ablation instead. Rill itself (`rillc` and
`rill-run` from $RILL_BUILD_DIR/bin, default build/) must give the same NLL per
target as the reference for all four policies on one compiled library; those
tests are skipped when the tools are not built.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from rill import ort
from rill.models.llama2c import Llama2cModel, load_checkpoint, load_tokenizer, read_text, streaming_logits
from rill.perplexity import token_nll

REPO_ROOT = Path(__file__).resolve().parents[2]
CHECKPOINT = REPO_ROOT / "data" / "checkpoints" / "stories260K.bin"
TOKENIZER = REPO_ROOT / "data" / "checkpoints" / "tok512.bin"
TEXT = REPO_ROOT / "data" / "text" / "tinystories_valid_head.txt"
ORT_DRIVER = REPO_ROOT / "bench" / "peers" / "ort_stream.js"
RILL_BIN = Path(os.environ.get("RILL_BUILD_DIR", REPO_ROOT / "build")) / "bin"
STORIES_ONNX = REPO_ROOT / "data" / "onnx" / "stories260K" / "model.onnx"
TOKENS = 150
CAPACITY = 32
SINKS = 4
CASES = [("dense", 0), ("window", 0), ("recompute", 0), ("sinks", SINKS)]
TOLERANCE = 1e-4


def _load_peer():
    spec = importlib.util.spec_from_file_location("torch_streaming", REPO_ROOT / "bench" / "peers" / "torch_streaming.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def setup():
    torch.set_num_threads(1)
    checkpoint = load_checkpoint(CHECKPOINT)
    text = read_text(TEXT)[:2000]
    tokens = np.array(load_tokenizer(TOKENIZER).encode(text), dtype=np.int64)[:TOKENS]
    return _load_peer(), checkpoint, tokens


@pytest.fixture(scope="module")
def reference_nll(setup):
    _, checkpoint, tokens = setup
    model = Llama2cModel(checkpoint)
    result = {}
    for policy, sinks in CASES:
        window = None if policy == "dense" else CAPACITY - sinks
        result[policy] = token_nll(streaming_logits(model, tokens[:-1], policy, sinks, window), tokens[1:])
    return result


def _step_nll(peer, model, tokens, policy, sinks, sink_positions="cache"):
    stream = peer.ReferenceStream(model, policy, sinks, CAPACITY if policy != "dense" else None, sink_positions)
    with torch.no_grad():
        return np.array([peer.nll_of(stream.step(int(tokens[t]))[None], torch.tensor([tokens[t + 1]]))[0]
                         for t in range(len(tokens) - 1)])


@pytest.mark.parametrize("policy,sinks", CASES)
def test_torch_step_matches_reference(setup, reference_nll, policy, sinks):
    peer, checkpoint, tokens = setup
    nll = _step_nll(peer, peer.TorchLlama(checkpoint), tokens, policy, sinks)
    assert np.abs(nll - reference_nll[policy]).max() < TOLERANCE


@pytest.mark.parametrize("policy,sinks", CASES)
def test_torch_eval_matches_reference(setup, reference_nll, policy, sinks):
    peer, checkpoint, tokens = setup
    model = peer.TorchLlama(checkpoint)
    with torch.no_grad():
        if policy == "recompute":
            _, nll = peer.recompute_nll(model, tokens, CAPACITY)
        else:
            nll = peer.chunked_nll(model, tokens, policy, sinks, CAPACITY, chunk=23)
    assert np.abs(nll - reference_nll[policy]).max() < TOLERANCE


def test_torch_original_positions_eval_matches_step(setup):
    peer, checkpoint, tokens = setup
    model = peer.TorchLlama(checkpoint)
    step = _step_nll(peer, model, tokens, "sinks", SINKS, "original")
    with torch.no_grad():
        chunked = peer.chunked_nll(model, tokens, "sinks", SINKS, CAPACITY, "original", chunk=23)
    assert np.abs(step - chunked).max() < TOLERANCE
    # The numpy reference's ablation, written separately from the peer.
    expected = token_nll(streaming_logits(Llama2cModel(checkpoint), tokens[:-1], "sinks", SINKS, CAPACITY - SINKS,
                                          positions="original"), tokens[1:])
    assert np.abs(chunked - expected).max() < TOLERANCE


@pytest.fixture(scope="module")
def ort_model(setup, tmp_path_factory):
    reason = ort.unavailable_reason()
    if reason is not None:
        pytest.skip(f"ONNX Runtime is not available: {reason}")
    from rill.export.llama2c_onnx import export_onnx

    _, checkpoint, tokens = setup
    folder = tmp_path_factory.mktemp("ort_peer")
    model_path = folder / "model.onnx"
    export_onnx(checkpoint, model_path, use_cache=True, max_positions=256)
    token_file = folder / "tokens.txt"
    token_file.write_text(" ".join(str(t) for t in tokens))
    return model_path, token_file


def _ort_nll(ort_model, policy, sinks):
    model_path, token_file = ort_model
    command = [ort.find_node(), str(ORT_DRIVER), "--model", str(model_path), "--kv-heads", "4", "--head-dim", "8",
               "--tokens", str(token_file), "--policy", policy, "--sinks", str(sinks), "--capacity", str(CAPACITY)]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=300,
                               env={"RILL_ORT_DIR": str(ort.find_ort_dir()), "PATH": "/usr/bin:/bin"})
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)["mean_nll"]


@pytest.mark.parametrize("policy", ["dense", "window", "recompute"])
def test_ort_matches_reference(ort_model, reference_nll, policy):
    assert abs(_ort_nll(ort_model, policy, 0) - reference_nll[policy].mean()) < TOLERANCE


def test_ort_sinks_keep_original_positions(setup, ort_model, reference_nll):
    peer, checkpoint, tokens = setup
    original = _step_nll(peer, peer.TorchLlama(checkpoint), tokens, "sinks", SINKS, "original").mean()
    measured = _ort_nll(ort_model, "sinks", SINKS)
    assert abs(measured - original) < TOLERANCE
    # Truncation is not StreamingLLM: the in-cache re-rotation gives another NLL.
    assert abs(measured - reference_nll["sinks"].mean()) > 10 * TOLERANCE


@pytest.fixture(scope="module")
def rill_library(tmp_path_factory):
    missing = [tool for tool in ("rillc", "rill-run") if not (RILL_BIN / tool).is_file()]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not built under {RILL_BIN}")
    library = tmp_path_factory.mktemp("rill_peer") / "stories260K.so"
    completed = subprocess.run([str(RILL_BIN / "rillc"), str(STORIES_ONNX), "-o", str(library)],
                               capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr
    return library


@pytest.mark.parametrize("policy,sinks", CASES)
def test_rill_run_matches_reference(setup, reference_nll, rill_library, tmp_path, policy, sinks):
    _, _, tokens = setup
    token_file = tmp_path / "tokens.txt"
    token_file.write_text(" ".join(str(t) for t in tokens))
    csv = tmp_path / "nll.csv"
    capacity = CAPACITY if policy != "dense" else len(tokens)
    command = [str(RILL_BIN / "rill-run"), "perplexity", "--json", "--model", str(rill_library), "--input-format", "ids",
               "--policy", policy, "--sinks", str(sinks), "--capacity", str(capacity), "--threads", "1",
               "--csv", str(csv), "--segment", "1", str(token_file)]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    nll = np.loadtxt(csv, delimiter=",", skiprows=1, usecols=2)
    assert nll.shape == reference_nll[policy].shape
    assert np.abs(nll - reference_nll[policy]).max() < TOLERANCE
