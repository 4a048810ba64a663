# ===- tests/test_fuse_attention.py - rill-fuse-attention on ONNX models -=== #
"""Numerics of rill-fuse-attention on the ONNX test models and on exported one-layer blocks.

Each model is imported with `rill-translate --import-onnx`, fused with
`rill-opt --rill-fuse-attention`, and run with `rill-exec` before and after
fusion on the inputs of its `golden.npz`. The fused graph must contain the
expected number of rill.attention and rill.rotary ops, and its outputs must
match both the golden outputs and the unfused run to a max abs difference
of 1e-4. The one-layer blocks from `rill.export.fusion_models` cover each
RoPE and key/value repetition form; their fused and unfused outputs are
compared with ONNX Runtime on the same model. The binaries come from $RILL_BUILD_DIR/bin (default
build/bin in the checkout); the tests skip when one of them is missing.
"""

import os
import pathlib
import re
import subprocess

import numpy as np
import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD_DIR = pathlib.Path(os.environ.get("RILL_BUILD_DIR", pathlib.Path(__file__).resolve().parents[2] / "build"))
TOOLS = {name: BUILD_DIR / "bin" / name for name in ("rill-translate", "rill-opt", "rill-exec")}
MISSING = [name for name, path in TOOLS.items() if not path.exists()]

pytestmark = pytest.mark.skipif(
    bool(MISSING),
    reason=f"{', '.join(MISSING)} not found in {BUILD_DIR / 'bin'}; build them or set RILL_BUILD_DIR",
)

TOLERANCE = 1e-4

# Model folder, entry function, expected rill.attention count, expected
# rill.rotary count, and the mask every attention op must get.
MODELS = [
    ("stories260K", "torch_jit", 5, 10, "#rill.causal"),
    ("stories260K_nocache", "torch_jit", 5, 10, "#rill.causal"),
    ("gpt2_tiny", "gpt2_tiny", 2, 0, "#rill.causal"),
    ("bert_tiny", "bert_tiny", 2, 0, "#rill.full"),
]


def run_tool(*args):
    """Runs a Rill tool and returns its completed process; fails the test on error."""
    result = subprocess.run([str(arg) for arg in args], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{args[0]} failed:\n{result.stderr[-4000:]}"
    return result


def is_output_name(name):
    """Returns true for golden.npz members that are graph outputs, not inputs."""
    return name == "logits" or name == "last_hidden_state" or name.startswith("present.")


@pytest.fixture(scope="module", params=MODELS, ids=[model[0] for model in MODELS])
def fused_model(request, tmp_path_factory):
    """Imports, fuses and runs one model; returns its IR, remarks and outputs."""
    name, entry, attention_count, rotary_count, mask = request.param
    work = tmp_path_factory.mktemp(name)
    model_dir = REPO_ROOT / "data" / "onnx" / name

    golden = np.load(model_dir / "golden.npz")
    inputs = {key: golden[key] for key in golden.files if not is_output_name(key)}
    np.savez(work / "inputs.npz", **inputs)

    imported = work / "imported.mlir"
    fused = work / "fused.mlir"
    run_tool(TOOLS["rill-translate"], "--import-onnx", model_dir / "model.onnx", "-o", imported)
    remarks = run_tool(TOOLS["rill-opt"], "--rill-fuse-attention", imported, "-o", fused).stderr

    outputs = {}
    for variant, module in (("unfused", imported), ("fused", fused)):
        result_file = work / f"{variant}.npz"
        run_tool(TOOLS["rill-exec"], module, "--entry", entry, "--inputs", work / "inputs.npz",
                 "--outputs", result_file)
        outputs[variant] = np.load(result_file)

    return {
        "name": name,
        "ir": fused.read_text(),
        "remarks": remarks,
        "golden": golden,
        "outputs": outputs,
        "attention_count": attention_count,
        "rotary_count": rotary_count,
        "mask": mask,
    }


def test_fused_op_counts(fused_model):
    ir = fused_model["ir"]
    assert len(re.findall(r"= rill\.attention ", ir)) == fused_model["attention_count"]
    assert len(re.findall(r"= rill\.rotary ", ir)) == fused_model["rotary_count"]


def test_fused_masks(fused_model):
    masks = re.findall(r"= rill\.attention .* mask\(([^)]*)\)", fused_model["ir"])
    assert masks
    assert all(mask == fused_model["mask"] for mask in masks), masks


def test_padding_mask_stays_bias_with_remark(fused_model):
    remark = "fusion kept the mask as a bias because part of it depends on the runtime input 'attention_mask'"
    assert fused_model["remarks"].count(remark) == fused_model["attention_count"]
    assert len(re.findall(r"= rill\.attention .* bias\(", fused_model["ir"])) == fused_model["attention_count"]


def test_fused_matches_golden(fused_model):
    golden = fused_model["golden"]
    fused = fused_model["outputs"]["fused"]
    for name in fused.files:
        difference = np.abs(fused[name] - golden[name]).max()
        assert difference < TOLERANCE, f"{fused_model['name']} {name}: max abs diff {difference:.3e}"


def test_fused_matches_unfused(fused_model):
    unfused = fused_model["outputs"]["unfused"]
    fused = fused_model["outputs"]["fused"]
    assert sorted(fused.files) == sorted(unfused.files)
    for name in fused.files:
        difference = np.abs(fused[name] - unfused[name]).max()
        assert difference < TOLERANCE, f"{fused_model['name']} {name}: max abs diff {difference:.3e}"


# ---------------------------------------------------------------------------
# One-layer blocks exported by rill.export.fusion_models, checked against ONNX
# Runtime: each RoPE form and each key/value repetition form.
# ---------------------------------------------------------------------------

from rill import ort  # noqa: E402
from rill.export import fusion_models  # noqa: E402

# Case id, BlockConfig arguments, expected rill.rotary attributes (a regex the
# attribute dictionary must match), whether the op reads tables, and the
# expected key head count of rill.attention (2 when grouped-query repetition is
# removed, 4 when it stays).
BLOCKS = [
    ("half_tables_expand", dict(rope="half_tables"), r"\{rotary_dim = 8 : i64\}", True, 2),
    ("half_computed", dict(rope="half_computed"), r"\{rotary_dim = 8 : i64\}", False, 2),
    ("half_computed_theta", dict(rope="half_computed", theta=500000.0),
     r"\{rotary_dim = 8 : i64, theta = 5\.000000e\+05 : f64\}", False, 2),
    ("interleaved_tables", dict(rope="interleaved_tables"), r"\{interleaved, rotary_dim = 8 : i64\}", True, 2),
    ("interleaved_computed", dict(rope="interleaved_computed"), r"\{interleaved, rotary_dim = 8 : i64\}", False, 2),
    ("interleaved_strided", dict(rope="interleaved_computed", pairs="strided"),
     r"\{interleaved, rotary_dim = 8 : i64\}", False, 2),
    ("partial_half_computed", dict(rope="half_computed", rotary_dim=4), r"\{rotary_dim = 4 : i64\}", False, 2),
    ("partial_interleaved_tables", dict(rope="interleaved_tables", rotary_dim=4),
     r"\{interleaved, rotary_dim = 4 : i64\}", True, 2),
    ("tile", dict(rope="half_tables", repeat="tile"), r"\{rotary_dim = 8 : i64\}", True, 2),
    ("tile_heads_single_kv", dict(rope="half_tables", repeat="tile_heads", kv_heads=1),
     r"\{rotary_dim = 8 : i64\}", True, 1),
    ("tile_heads_cyclic_stays", dict(rope="half_tables", repeat="tile_heads"), r"\{rotary_dim = 8 : i64\}", True, 4),
]


@pytest.fixture(scope="module", params=BLOCKS, ids=[block[0] for block in BLOCKS])
def fused_block(request, tmp_path_factory):
    """Exports one block, fuses it and runs it fused, unfused and in ONNX Runtime."""
    name, arguments, rotary_attributes, uses_tables, key_heads = request.param
    if not ort.available():
        pytest.skip(f"ONNX Runtime is not available: {ort.unavailable_reason()}")
    work = tmp_path_factory.mktemp(name)
    model, inputs = fusion_models.export_block(fusion_models.BlockConfig(**arguments), seed=7)
    model_path = work / "model.onnx"
    model_path.write_bytes(model.SerializeToString())
    np.savez(work / "inputs.npz", **inputs)

    imported = work / "imported.mlir"
    fused = work / "fused.mlir"
    run_tool(TOOLS["rill-translate"], "--import-onnx", model_path, "-o", imported)
    remarks = run_tool(TOOLS["rill-opt"], "--rill-fuse-attention", imported, "-o", fused).stderr

    outputs = {}
    for variant, module in (("unfused", imported), ("fused", fused)):
        result_file = work / f"{variant}.npz"
        run_tool(TOOLS["rill-exec"], module, "--entry", "attention_block", "--inputs", work / "inputs.npz",
                 "--outputs", result_file)
        outputs[variant] = np.load(result_file)["output"]
    outputs["ort"] = ort.run(model_path, inputs)["output"]
    return {
        "name": name,
        "ir": fused.read_text(),
        "remarks": remarks,
        "outputs": outputs,
        "rotary_attributes": rotary_attributes,
        "uses_tables": uses_tables,
        "key_heads": key_heads,
    }


def test_block_fuses_rotary(fused_block):
    rotaries = re.findall(r"= rill\.rotary (.*)", fused_block["ir"])
    assert len(rotaries) == 2, fused_block["remarks"]
    for rotary in rotaries:
        assert re.search(fused_block["rotary_attributes"], rotary), rotary
        assert ("tables(" in rotary) == fused_block["uses_tables"], rotary
    assert "math.cos" not in fused_block["ir"]
    assert "RoPE fusion missed" not in fused_block["remarks"]


def test_block_fuses_attention_heads(fused_block):
    attentions = re.findall(r"= rill\.attention .* : tensor<(\d+)x(\d+)x\d+x\d+xf32>, tensor<\d+x(\d+)x", fused_block["ir"])
    assert len(attentions) == 1
    _, query_heads, key_heads = attentions[0]
    assert int(query_heads) == 4
    assert int(key_heads) == fused_block["key_heads"]


@pytest.mark.parametrize("variant", ["fused", "unfused"])
def test_block_matches_onnx_runtime(fused_block, variant):
    difference = np.abs(fused_block["outputs"][variant] - fused_block["outputs"]["ort"]).max()
    assert difference < TOLERANCE, f"{fused_block['name']} {variant}: max abs diff {difference:.3e}"
