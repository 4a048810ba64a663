"""ONNX conformance driver for Rill's importer.

Imports ONNX models with ``rill-translate --import-onnx``, runs them through
the reference lowering with ``rill-exec`` and compares the results with
expected outputs: the ONNX backend node tests that Debian's libonnx-testdata
ships (``/usr/share/libonnx-testdata/data/node``) and the golden outputs
under ``data/onnx/*/golden.npz``. It can write ``docs/onnx-support.md`` with
the pass counts per operator and the reason for each failure.

Run ``/usr/bin/python3 -m rill.onnx_conformance --help`` from ``python/``.
It needs Debian's ``python3-onnx`` and ``python3-numpy``.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import os
import pathlib
import subprocess
import sys
import tempfile

import numpy as np

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
NODE_TEST_ROOT = pathlib.Path("/usr/share/libonnx-testdata/data/node")

# Tolerances of ONNX's backend test runner (onnx/backend/test/runner).
NODE_RTOL = 1e-3
NODE_ATOL = 1e-7

# Model-level checks against golden.npz.
MODEL_ATOL = 1e-4

COMMAND_TIMEOUT_S = 120


def find_tool(name: str) -> pathlib.Path:
    """Return the path of a Rill tool, searching RILL_BUILD_DIR first."""
    candidates = []
    if "RILL_BUILD_DIR" in os.environ:
        candidates.append(pathlib.Path(os.environ["RILL_BUILD_DIR"]) / "bin")
    for build in ("build-import", "build", "build-jit"):
        candidates.append(REPO_ROOT / build / "bin")
    for directory in candidates:
        path = directory / name
        if path.is_file() and os.access(path, os.X_OK):
            return path
    raise FileNotFoundError(
        f"{name} not found in {', '.join(str(c) for c in candidates)}; "
        "build it or set RILL_BUILD_DIR")


@dataclasses.dataclass
class RunResult:
    """Outputs of one model run, or the stage and message of its failure."""

    outputs: dict | None
    stage: str = ""
    message: str = ""


def _first_error_line(text: str) -> str:
    for line in text.splitlines():
        if "error" in line.lower():
            return line.strip()[:300]
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip()[:300] if lines else "no output"


def _save_npz(path: pathlib.Path, arrays: dict) -> None:
    """Write an uncompressed .npz archive. np.savez cannot be used, because
    it takes some keyword names (such as `like`) for itself and drops
    those arrays."""
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        for name, array in arrays.items():
            with archive.open(f"{name}.npy", "w") as member:
                np.lib.format.write_array(member, np.asarray(array))


def run_model(model_path: pathlib.Path, inputs: dict, workdir: pathlib.Path,
              output_names: list[str], pipeline: str = "reference") -> RunResult:
    """Import, lower with `pipeline` ("reference" or "cpu") and execute
    `model_path` on `inputs` (name -> array)."""
    translate = find_tool("rill-translate")
    execute = find_tool("rill-exec")
    mlir_path = workdir / "model.mlir"
    proc = subprocess.run(
        [str(translate), "--import-onnx", "--entry-name=main", str(model_path), "-o",
         str(mlir_path)],
        capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
    if proc.returncode != 0:
        return RunResult(None, "import", _first_error_line(proc.stderr))

    inputs_path = workdir / "inputs.npz"
    outputs_path = workdir / "outputs.npz"
    _save_npz(inputs_path, inputs)
    try:
        proc = subprocess.run(
            [str(execute), str(mlir_path), "--entry=main", f"--pipeline={pipeline}",
             "--inputs", str(inputs_path), "--outputs", str(outputs_path)],
            capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return RunResult(None, "execute", "timed out")
    if proc.returncode != 0:
        return RunResult(None, "execute", _first_error_line(proc.stderr))
    with np.load(outputs_path) as archive:
        outputs = {name: archive[name] for name in archive.files}
    missing = [name for name in output_names if name not in outputs]
    if missing:
        return RunResult(None, "execute",
                         f"missing outputs {missing} in {sorted(outputs)}")
    return RunResult(outputs)


def compare(expected: np.ndarray, actual: np.ndarray, rtol: float,
            atol: float) -> str:
    """Return "" when `actual` matches `expected`, else why not."""
    if expected.shape != actual.shape:
        return f"shape {actual.shape} != expected {expected.shape}"
    if expected.dtype == np.bool_ or actual.dtype == np.bool_:
        if np.array_equal(expected.astype(np.bool_), actual.astype(np.bool_)):
            return ""
        return "boolean values differ"
    if expected.dtype.kind in "iu":
        if np.array_equal(expected, actual.astype(expected.dtype)):
            return ""
        return "integer values differ"
    exp = expected.astype(np.float64)
    act = actual.astype(np.float64)
    same_nan = np.isnan(exp) == np.isnan(act)
    close = np.isclose(act, exp, rtol=rtol, atol=atol, equal_nan=True)
    if same_nan.all() and close.all():
        return ""
    err = np.nanmax(np.abs(act - exp)) if exp.size else 0.0
    return f"max abs error {err:.3g} exceeds rtol {rtol:g}, atol {atol:g}"


#===------------------------------------------------------------------===#
# ONNX backend node tests
#===------------------------------------------------------------------===#


def _load_tensor(path: pathlib.Path):
    import onnx
    from onnx import numpy_helper

    tensor = onnx.TensorProto()
    tensor.ParseFromString(path.read_bytes())
    return tensor.name, numpy_helper.to_array(tensor)


@dataclasses.dataclass
class NodeCase:
    """Outcome of one backend node test case."""

    name: str
    op_type: str
    domain: str
    passed: bool
    reason: str


# Inputs that carry what older opsets passed as attributes (axes, shapes,
# split sizes). The importer needs them at import time, so the driver turns
# the test's values into initializers, as a static compiler's user would.
ATTRIBUTE_INPUTS = {
    "ConstantOfShape": [0],
    "Expand": [1],
    "ReduceMax": [1],
    "ReduceMean": [1],
    "ReduceMin": [1],
    "ReduceProd": [1],
    "ReduceSum": [1],
    "Reshape": [1],
    "Slice": [1, 2, 3, 4],
    "Split": [1],
    "Squeeze": [1],
    "Tile": [1],
    "Unsqueeze": [1],
}


def _as_signed(array: np.ndarray) -> np.ndarray:
    """View unsigned integers as the signed type of the same width, which
    is how the importer types them (signless integers)."""
    if array.dtype.kind == "u":
        return array.view(np.dtype(f"int{array.dtype.itemsize * 8}"))
    return array


def run_node_case(case_dir: pathlib.Path) -> list[NodeCase]:
    """Run every test_data_set of one node test directory."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(case_dir / "model.onnx"))
    graph = model.graph
    op_types = [node.op_type for node in graph.node]
    op_type = op_types[0] if len(set(op_types)) == 1 else "+".join(
        sorted(set(op_types)))
    domain = graph.node[0].domain if graph.node else ""
    initializers = {init.name for init in graph.initializer}
    input_names = [i.name for i in graph.input if i.name not in initializers]
    output_names = [o.name for o in graph.output]

    results = []
    data_sets = sorted(case_dir.glob("test_data_set_*"))
    for data_set in data_sets:
        label = f"{case_dir.name}/{data_set.name}"
        inputs = {}
        expected = {}
        try:
            # The runner of the ONNX backend tests binds data by position.
            for index, path in enumerate(
                    sorted(data_set.glob("input_*.pb"))):
                _, array = _load_tensor(path)
                inputs[input_names[index]] = array
            for index, path in enumerate(
                    sorted(data_set.glob("output_*.pb"))):
                _, array = _load_tensor(path)
                expected[output_names[index]] = array
        except (ValueError, IndexError) as error:
            results.append(NodeCase(
                label, op_type, domain, False,
                "test data is not a plain tensor (optional and sequence "
                f"values are not supported): {error}"))
            continue
        with tempfile.TemporaryDirectory() as tmp:
            model_path = case_dir / "model.onnx"
            node_inputs = list(graph.node[0].input)
            folded = [node_inputs[i]
                      for i in ATTRIBUTE_INPUTS.get(op_type, [])
                      if i < len(node_inputs) and node_inputs[i] in inputs]
            if folded:
                copy = onnx.ModelProto()
                copy.CopyFrom(model)
                for name in folded:
                    copy.graph.initializer.append(
                        numpy_helper.from_array(inputs.pop(name), name))
                model_path = pathlib.Path(tmp) / "model.onnx"
                onnx.save(copy, str(model_path))
            inputs = {name: _as_signed(a) for name, a in inputs.items()}
            try:
                result = run_model(model_path, inputs, pathlib.Path(tmp),
                                   output_names)
            except subprocess.TimeoutExpired:
                result = RunResult(None, "import", "timed out")
        if result.outputs is None:
            results.append(NodeCase(label, op_type, domain, False,
                                    f"{result.stage}: {result.message}"))
            continue
        reasons = []
        for name, want in expected.items():
            why = compare(want, result.outputs[name], NODE_RTOL, NODE_ATOL)
            if why:
                reasons.append(f"{name}: {why}")
        results.append(NodeCase(label, op_type, domain, not reasons,
                                "; ".join(reasons)))
    return results


def supported_op_types() -> set[str]:
    """Return the op types the importer claims (from docs/onnx-support.md's
    source list in this module) for selecting node tests."""
    return set(SUPPORTED_OPS)


# Operators that the importer converts, as listed in its converter tables.
SUPPORTED_OPS = [
    "Abs", "Add", "And", "Attention", "Cast", "CastLike", "Ceil", "Clip",
    "Concat", "Constant", "ConstantOfShape", "Cos", "Div", "Equal", "Erf",
    "Exp", "Expand", "Flatten", "Floor", "Gather", "Gelu", "Gemm", "Greater",
    "GreaterOrEqual", "Identity", "LayerNormalization", "Less", "LessOrEqual",
    "Log", "LogSoftmax", "MatMul", "Max", "Mean", "Min", "Mod", "Mul", "Neg",
    "Not", "Or", "Pow", "Range", "Reciprocal", "ReduceMax", "ReduceMean",
    "ReduceMin", "ReduceProd", "ReduceSum", "Relu", "Reshape",
    "RotaryEmbedding", "Shape", "Sigmoid", "Sin", "Size", "Slice", "Softmax",
    "Softplus", "Split", "Sqrt", "Squeeze", "Sub", "Sum", "Tanh", "Tile",
    "Transpose", "Trilu", "Unsqueeze", "Where", "Xor",
]


def select_node_tests(root: pathlib.Path, ops: set[str]) -> list[pathlib.Path]:
    """Return the node test directories whose single node type is in `ops`."""
    import onnx

    selected = []
    for case_dir in sorted(root.iterdir()):
        model_path = case_dir / "model.onnx"
        if not model_path.is_file():
            continue
        model = onnx.load(str(model_path), load_external_data=False)
        types = {node.op_type for node in model.graph.node}
        if len(types) == 1 and types <= ops:
            selected.append(case_dir)
    return selected


def run_node_tests(root: pathlib.Path, ops: set[str], progress: bool = False,
                   jobs: int = 2) -> list[NodeCase]:
    """Run the selected node tests, `jobs` test directories at a time."""
    import concurrent.futures

    cases = []
    directories = select_node_tests(root, ops)
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for outcome in pool.map(run_node_case, directories):
            if progress:
                for case in outcome:
                    status = "PASS" if case.passed else "FAIL"
                    print(f"{status} {case.name} {case.reason}", flush=True)
            cases.extend(outcome)
    return cases


#===------------------------------------------------------------------===#
# Model-level golden checks
#===------------------------------------------------------------------===#


@dataclasses.dataclass
class ModelCheck:
    """Outcome of one golden.npz comparison."""

    name: str
    passed: bool
    max_error: float
    reason: str


def check_golden_model(model_dir: pathlib.Path, pipeline: str = "reference") -> ModelCheck:
    """Compare the outputs for model_dir/golden.npz's inputs, lowered with
    `pipeline`, with its golden outputs (max abs error below MODEL_ATOL)."""
    import onnx

    model = onnx.load(str(model_dir / "model.onnx"), load_external_data=False)
    initializers = {init.name for init in model.graph.initializer}
    input_names = [i.name for i in model.graph.input
                   if i.name not in initializers]
    output_names = [o.name for o in model.graph.output]
    with np.load(model_dir / "golden.npz") as archive:
        golden = {name: archive[name] for name in archive.files}
    inputs = {name: golden[name] for name in input_names}
    with tempfile.TemporaryDirectory() as tmp:
        result = run_model(model_dir / "model.onnx", inputs,
                           pathlib.Path(tmp), output_names, pipeline)
    if result.outputs is None:
        return ModelCheck(model_dir.name, False, float("nan"),
                          f"{result.stage}: {result.message}")
    worst = 0.0
    reasons = []
    for name in output_names:
        want = golden[name]
        got = result.outputs[name]
        if want.shape != got.shape:
            reasons.append(f"{name}: shape {got.shape} != {want.shape}")
            continue
        err = float(np.max(np.abs(got.astype(np.float64) - want))) \
            if want.size else 0.0
        worst = max(worst, err)
        if not err < MODEL_ATOL:
            reasons.append(f"{name}: max abs error {err:.3g}")
    return ModelCheck(model_dir.name, not reasons, worst, "; ".join(reasons))


def check_golden_models(root: pathlib.Path) -> list[ModelCheck]:
    return [check_golden_model(d) for d in sorted(root.iterdir())
            if (d / "golden.npz").is_file() and (d / "model.onnx").is_file()]


#===------------------------------------------------------------------===#
# Report
#===------------------------------------------------------------------===#


IMPORTER_NOTES = """
`rill-translate --import-onnx model.onnx` (library entry points
`mlir::rill::importONNXModelFile` and `importONNXModelBytes` in
`include/rill/Import/ONNX/ONNXImporter.h`) reads any ai.onnx opset up to 23
and the com.microsoft operators below. Unsupported operators are all listed
in one error with their domain, opset and node name.

Converted operators (ai.onnx unless marked):

- Elementwise, numpy broadcasting: Add, Sub, Mul, Div, Pow, Mod, Equal,
  Less, LessOrEqual, Greater, GreaterOrEqual, And, Or, Xor, Not, Max, Min,
  Sum, Mean, Identity, Neg, Abs, Sqrt, Reciprocal, Exp, Log, Tanh, Erf,
  Sigmoid, Relu, Softplus, Cos, Sin, Floor, Ceil, Where, Cast, CastLike,
  Clip, Gelu (opset 20, and com.microsoft Gelu).
- MatMul (batched, broadcasting, 1-D promotion), Gemm.
- ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd (attribute axes
  and input axes, keepdims, noop_with_empty_axes), Softmax and LogSoftmax
  (coerce-to-2D before opset 13), LayerNormalization (stash_type 1),
  SimplifiedLayerNormalization (RMS norm).
- Shape and layout: Constant, ConstantOfShape, Shape (start/end), Size,
  Gather, Reshape (0, -1, allowzero), Flatten, Transpose, Unsqueeze,
  Squeeze, Concat, Slice (negative and clamped bounds, negative steps),
  Split (split input or attribute, num_outputs), Expand, Range, Trilu, Tile.
- Attention (opset 23): 4-D and 3-D (q_num_heads/kv_num_heads) inputs,
  is_causal to `#rill.causal` with the queries after the past cache,
  past_key/past_value concatenated and returned as present_key and
  present_value, boolean or additive attn_mask to an additive bias, scale,
  softcap. Rejected: qk_matmul_output, nonpad_kv_seqlen (opset 24).
- com.microsoft MultiHeadAttention: 3-D query/key/value, num_heads,
  unidirectional to `#rill.causal`, attention_bias, past_key/past_value,
  scale. Rejected: packed QKV, the bias input, key_padding_mask,
  past_sequence_length, cache_indirection, the qk output.
- com.microsoft GroupQueryAttention: separate or packed QKV, num_heads,
  kv_num_heads, past_key/past_value buffers written at each row's length
  (`seqlens_k + 1 - sequence`) into a present buffer of
  `max(past buffer, total_sequence_length)` slots, do_rotary with
  cos_cache/sin_cache to `rill.rotary` (rotary_interleaved), softcap,
  scale, head_sink to sink logits. With a static batch of 1 the mask is
  `#rill.window<local_window_size>` or `#rill.causal` at the row's
  position; with more rows, whose lengths may differ, causality and the
  window go into a per-row additive bias under `#rill.full`. Rejected:
  position_ids, attention_bias, smooth_softmax without head_sink,
  output_qk, quantized caches.
- RotaryEmbedding (com.microsoft and opset 23) to `rill.rotary` with
  cos/sin tables: 3-D input with num_heads or 4-D input, position_ids as
  [batch, sequence] or a single offset, interleaved, rotary_embedding_dim.
  Rejected: is_packed_batching, scale other than 1, missing position_ids.

Limits: tensors of strings, complex numbers and bfloat16 data at graph
boundaries are not supported; unsigned integers are imported as signless
integers with signed arithmetic; subgraph operators (If, Loop, Scan) are
rejected; a shape element known only at run time is assumed to be a size,
never the 0 or -1 placeholder of Reshape; unknown sizes are assumed equal
when broadcasting.

Weights: initializers and Constant tensors with more than 64 elements
(`--max-dense-elements`) become `dense_resource` blobs that take over the
protobuf's bytes or map the external data file. External data locations
must be relative paths inside the model's folder.
"""


def write_report(path: pathlib.Path, cases: list[NodeCase],
                 models: list[ModelCheck],
                 bench_csv: pathlib.Path | None = None) -> None:
    """Write the operator support page from the run's outcomes."""
    by_op = collections.defaultdict(list)
    for case in cases:
        by_op[case.op_type].append(case)
    total = len(cases)
    passed = sum(case.passed for case in cases)
    lines = [
        "# ONNX operator support",
        "",
        "Generated by `python/rill/onnx_conformance.py --write-docs` (the",
        "notes below live in that script); do not edit by hand.",
        "",
        IMPORTER_NOTES.strip(),
        "",
        "## Conformance",
        "",
        "Each backend node test of Debian's libonnx-testdata",
        "1.12 whose graph is a single supported operator is imported with",
        "`rill-translate --import-onnx`, lowered with the reference pipeline",
        "and run by `rill-exec`, then compared at ONNX's backend tolerances",
        f"(rtol {NODE_RTOL:g}, atol {NODE_ATOL:g}).",
        "",
        "Integer inputs that older opsets passed as attributes (axes,",
        "shapes, split sizes) are turned into initializers before import;",
        "unsigned test data is passed as the signed type of the same width.",
        "",
        f"Node tests passed: {passed} of {total}.",
        "",
        "| operator | passed | total | failures |",
        "|---|---|---|---|",
    ]
    for op in sorted(by_op):
        op_cases = by_op[op]
        op_passed = sum(c.passed for c in op_cases)
        failures = "<br>".join(f"`{c.name.split('/')[0]}`: {c.reason}"
                               for c in op_cases if not c.passed)
        failures = failures.replace("|", "\\|")
        lines.append(f"| {op} | {op_passed} | {len(op_cases)} | {failures} |")
    untested = sorted(set(SUPPORTED_OPS) - set(by_op))
    if untested:
        lines += ["", "Supported operators without a single-operator node "
                  "test in libonnx-testdata 1.12 (opset 17 and older): "
                  + ", ".join(untested) + "."]
    if models:
        lines += [
            "",
            "## Models",
            "",
            "Each model under `data/onnx/` runs on the inputs of its",
            f"`golden.npz`; the check requires max abs error < {MODEL_ATOL:g}.",
            "",
            "| model | result | max abs error | reason |",
            "|---|---|---|---|",
        ]
        for m in models:
            lines.append(f"| {m.name} | {'pass' if m.passed else 'fail'} | "
                         f"{m.max_error:.3g} | {m.reason} |")
    if bench_csv is not None:
        import csv

        with open(bench_csv, newline="") as f:
            rows = list(csv.DictReader(f))
        lines += [
            "",
            "## Import cost",
            "",
            "`bench/import_gpt2_small.py` on a GPT-2-small-shaped model with",
            "random weights (124.4M parameters, 475 MiB of float32), with the",
            "weights inside the .onnx file or in an external data file. Wall",
            "time (fastest of the runs) and peak RSS (GNU time) of one",
            "`rill-translate` process, measured on the development machine",
            "(2 shared CPU cores, other jobs running).",
            "`import` writes bytecode to /dev/null; `bytecode` and `text`",
            "write files. Text output spells every weight in hex, so it",
            "doubles the output size and costs time and memory in MLIR's",
            "printer, not in the importer.",
            "",
            "| weights | mode | wall s | peak RSS MiB | RSS / weights |",
            "|---|---|---|---|---|",
        ]
        for row in rows:
            lines.append(f"| {row['weights']} | {row['mode']} | "
                         f"{row['wall_s']} | {row['peak_rss_mib']} | "
                         f"{row['rss_over_weights']} |")
    path.write_text("\n".join(lines) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node-tests", action="store_true",
                        help="run the libonnx-testdata node tests")
    parser.add_argument("--models", action="store_true",
                        help="check data/onnx/*/golden.npz")
    parser.add_argument("--ops", default="",
                        help="comma-separated operator filter for node tests")
    parser.add_argument("--write-docs", type=pathlib.Path,
                        help="write the support page (docs/onnx-support.md)")
    parser.add_argument("--bench-csv", type=pathlib.Path,
                        help="CSV of bench/import_gpt2_small.py to include")
    parser.add_argument("--jobs", type=int, default=2,
                        help="node test directories run in parallel")
    parser.add_argument("--verbose", action="store_true",
                        help="print every case as it finishes")
    args = parser.parse_args(argv)

    ops = set(args.ops.split(",")) if args.ops else set(SUPPORTED_OPS)
    cases = run_node_tests(NODE_TEST_ROOT, ops, args.verbose, args.jobs) \
        if args.node_tests else []
    models = check_golden_models(REPO_ROOT / "data" / "onnx") \
        if args.models else []
    if cases:
        print(f"node tests: {sum(c.passed for c in cases)} of {len(cases)} "
              "passed")
    for m in models:
        print(f"model {m.name}: {'pass' if m.passed else 'FAIL'} "
              f"(max abs error {m.max_error:.3g}) {m.reason}")
    if args.write_docs:
        write_report(args.write_docs, cases, models, args.bench_csv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
