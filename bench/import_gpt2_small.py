"""Benchmark ``rill-translate --import-onnx`` on a GPT-2-small-shaped model.

Builds a random-weight ONNX model with GPT-2 small's shapes (12 layers,
d_model 768, 12 heads, FFN 3072, vocabulary 50257, 1024 positions: about
124M parameters, 500 MB of float32) with onnx.helper, saved twice: with the
weights inside the .onnx file and with them in an external data file. It
then times the import in three output modes and records each run's peak
resident memory (GNU time's maximum resident set size):

- ``import``: import and verify, then write bytecode to /dev/null (the
  importer's own cost),
- ``bytecode``: MLIR bytecode written to a file, blobs raw,
- ``text``: MLIR text written to a file, blobs printed as hex.

Prints a table and writes a CSV. Needs Debian's python3-onnx and
python3-numpy (run with /usr/bin/python3), GNU time (/usr/bin/time) and a
built rill-translate.

    /usr/bin/python3 bench/import_gpt2_small.py --out-dir /tmp/rill-bench
"""

import argparse
import csv
import os
import pathlib
import platform
import subprocess
import sys
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]

LAYERS = 12
D_MODEL = 768
HEADS = 12
FFN = 3072
VOCAB = 50257
POSITIONS = 1024


def add_init(inits, rng, name, shape, scale=0.02):
    array = (rng.standard_normal(shape, dtype=np.float32) * scale)
    inits.append(numpy_helper.from_array(array, name))
    return array.size


def build_model(seed: int = 0) -> tuple[onnx.ModelProto, int]:
    """Build the GPT-2-small-shaped graph; returns it and its parameter
    count."""
    rng = np.random.default_rng(seed)
    nodes, inits = [], []
    params = 0
    head_dim = D_MODEL // HEADS

    def const(name, values):
        inits.append(numpy_helper.from_array(
            np.array(values, dtype=np.int64), name))
        return name

    params += add_init(inits, rng, "wte", (VOCAB, D_MODEL))
    params += add_init(inits, rng, "wpe", (POSITIONS, D_MODEL))
    const("heads_shape", [0, 0, HEADS, head_dim])
    const("merge_shape", [0, 0, D_MODEL])
    inits.append(numpy_helper.from_array(
        np.array(1.0 / np.sqrt(head_dim), np.float32), "inv_sqrt_d"))

    nodes.append(helper.make_node("Gather", ["wte", "input_ids"], ["tok"]))
    nodes.append(helper.make_node("Gather", ["wpe", "position_ids"],
                                  ["pos"]))
    nodes.append(helper.make_node("Add", ["tok", "pos"], ["h0"]))
    hidden = "h0"
    for layer in range(LAYERS):
        p = f"h.{layer}."

        def w(name, shape, scale=0.02):
            nonlocal params
            params += add_init(inits, rng, p + name, shape, scale)
            return p + name

        def ln(x, out, tag):
            nonlocal params
            inits.append(numpy_helper.from_array(
                np.ones(D_MODEL, np.float32), p + tag + ".weight"))
            inits.append(numpy_helper.from_array(
                np.zeros(D_MODEL, np.float32), p + tag + ".bias"))
            params += 2 * D_MODEL
            nodes.append(helper.make_node(
                "LayerNormalization", [x, p + tag + ".weight",
                                       p + tag + ".bias"], [out],
                epsilon=1e-5))

        ln(hidden, p + "ln1", "ln_1")
        nodes.append(helper.make_node(
            "MatMul", [p + "ln1", w("attn.c_attn.weight",
                                    (D_MODEL, 3 * D_MODEL))], [p + "qkv0"]))
        nodes.append(helper.make_node(
            "Add", [p + "qkv0", w("attn.c_attn.bias", (3 * D_MODEL,))],
            [p + "qkv"]))
        nodes.append(helper.make_node(
            "Split", [p + "qkv"], [p + "q", p + "k", p + "v"], axis=2,
            num_outputs=3))
        for name in ("q", "k", "v"):
            nodes.append(helper.make_node(
                "Reshape", [p + name, "heads_shape"], [p + name + "4"]))
        nodes.append(helper.make_node("Transpose", [p + "q4"], [p + "qt"],
                                      perm=[0, 2, 1, 3]))
        nodes.append(helper.make_node("Transpose", [p + "k4"], [p + "kt"],
                                      perm=[0, 2, 3, 1]))
        nodes.append(helper.make_node("Transpose", [p + "v4"], [p + "vt"],
                                      perm=[0, 2, 1, 3]))
        nodes.append(helper.make_node("MatMul", [p + "qt", p + "kt"],
                                      [p + "s0"]))
        nodes.append(helper.make_node("Mul", [p + "s0", "inv_sqrt_d"],
                                      [p + "s"]))
        nodes.append(helper.make_node("Softmax", [p + "s"], [p + "pr"],
                                      axis=-1))
        nodes.append(helper.make_node("MatMul", [p + "pr", p + "vt"],
                                      [p + "o4"]))
        nodes.append(helper.make_node("Transpose", [p + "o4"], [p + "ot"],
                                      perm=[0, 2, 1, 3]))
        nodes.append(helper.make_node("Reshape", [p + "ot", "merge_shape"],
                                      [p + "o"]))
        nodes.append(helper.make_node(
            "MatMul", [p + "o", w("attn.c_proj.weight",
                                  (D_MODEL, D_MODEL))], [p + "proj0"]))
        nodes.append(helper.make_node(
            "Add", [p + "proj0", w("attn.c_proj.bias", (D_MODEL,))],
            [p + "proj"]))
        nodes.append(helper.make_node("Add", [hidden, p + "proj"],
                                      [p + "res1"]))
        ln(p + "res1", p + "ln2", "ln_2")
        nodes.append(helper.make_node(
            "MatMul", [p + "ln2", w("mlp.c_fc.weight", (D_MODEL, FFN))],
            [p + "fc0"]))
        nodes.append(helper.make_node(
            "Add", [p + "fc0", w("mlp.c_fc.bias", (FFN,))], [p + "fc"]))
        nodes.append(helper.make_node("Gelu", [p + "fc"], [p + "act"],
                                      approximate="tanh"))
        nodes.append(helper.make_node(
            "MatMul", [p + "act", w("mlp.c_proj.weight", (FFN, D_MODEL))],
            [p + "mlp0"]))
        nodes.append(helper.make_node(
            "Add", [p + "mlp0", w("mlp.c_proj.bias", (D_MODEL,))],
            [p + "mlp"]))
        nodes.append(helper.make_node("Add", [p + "res1", p + "mlp"],
                                      [p + "out"]))
        hidden = p + "out"

    inits.append(numpy_helper.from_array(np.ones(D_MODEL, np.float32),
                                         "ln_f.weight"))
    inits.append(numpy_helper.from_array(np.zeros(D_MODEL, np.float32),
                                         "ln_f.bias"))
    params += 2 * D_MODEL
    nodes.append(helper.make_node(
        "LayerNormalization", [hidden, "ln_f.weight", "ln_f.bias"], ["hf"],
        epsilon=1e-5))
    nodes.append(helper.make_node("Transpose", ["wte"], ["wte_t"],
                                  perm=[1, 0]))
    nodes.append(helper.make_node("MatMul", ["hf", "wte_t"], ["logits"]))

    graph = helper.make_graph(
        nodes, "gpt2_small",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64,
                                       ["batch", "seq"]),
         helper.make_tensor_value_info("position_ids", TensorProto.INT64,
                                       ["batch", "seq"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT,
                                       ["batch", "seq", VOCAB])],
        inits)
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid("", 20)])
    model.ir_version = 9
    return model, params


def run_import(translate: pathlib.Path, model: pathlib.Path,
               mode: str, out_dir: pathlib.Path) -> tuple[float, float, int]:
    """Run one import under /usr/bin/time; returns wall seconds, peak RSS
    in MiB and output size in bytes."""
    # ru_maxrss of a child forked from this large Python process would
    # count the parent's pages before exec, so GNU time measures instead.
    output = out_dir / f"out.{mode}"
    target = "/dev/null" if mode == "import" else str(output)
    cmd = [str(translate), "--import-onnx", str(model), "-o", target]
    if mode in ("import", "bytecode"):
        cmd.append("--emit-bytecode")
    stats = out_dir / "time.txt"
    proc = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", str(stats)]
                          + cmd, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    wall, max_rss_kib = stats.read_text().split()[-2:]
    size = 0
    if output.exists():
        size = output.stat().st_size
        output.unlink()
    return float(wall), float(max_rss_kib) / 1024.0, size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=pathlib.Path,
                        default=pathlib.Path("/tmp/rill-bench-import"),
                        help="folder for the models, outputs and the CSV")
    parser.add_argument("--translate", type=pathlib.Path,
                        default=REPO_ROOT / "build-import" / "bin" /
                        "rill-translate",
                        help="rill-translate binary")
    parser.add_argument("--repeat", type=int, default=2,
                        help="runs per configuration (the table shows the "
                        "fastest)")
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)

    embedded = args.out_dir / "gpt2_small.onnx"
    external_dir = args.out_dir / "external"
    external_dir.mkdir(exist_ok=True)
    external = external_dir / "gpt2_small.onnx"

    start = time.perf_counter()
    model, params = build_model()
    onnx.save_model(model, str(embedded))
    # onnx appends to an existing external data file, so start afresh.
    (external_dir / "gpt2_small.onnx.data").unlink(missing_ok=True)
    onnx.save_model(model, str(external), save_as_external_data=True,
                    all_tensors_to_one_file=True,
                    location="gpt2_small.onnx.data", size_threshold=1024)
    del model
    print(f"built {params / 1e6:.1f}M parameters in "
          f"{time.perf_counter() - start:.1f} s", flush=True)

    rows = []
    for label, path, weights_bytes in (
            ("embedded", embedded, embedded.stat().st_size),
            ("external", external,
             (external_dir / "gpt2_small.onnx.data").stat().st_size)):
        for mode in ("import", "bytecode", "text"):
            runs = [run_import(args.translate, path, mode, args.out_dir)
                    for _ in range(args.repeat)]
            wall = min(r[0] for r in runs)
            rss = max(r[1] for r in runs)
            rows.append({
                "weights": label,
                "mode": mode,
                "params_m": round(params / 1e6, 1),
                "weights_mib": round(weights_bytes / 2**20, 1),
                "wall_s": round(wall, 2),
                "peak_rss_mib": round(rss, 1),
                "rss_over_weights": round(rss / (weights_bytes / 2**20), 2),
                "output_mib": round(runs[0][2] / 2**20, 1),
            })
            print(f"  {label:8s} {mode:11s} {wall:7.2f} s "
                  f"{rss:8.1f} MiB", flush=True)

    header = list(rows[0])
    print()
    print(f"rill-translate --import-onnx, GPT-2 small shapes, "
          f"{platform.machine()}, {os.cpu_count()} CPUs")
    print(" | ".join(f"{h:>16s}" for h in header))
    for row in rows:
        print(" | ".join(f"{str(row[h]):>16s}" for h in header))
    csv_path = args.out_dir / "import_gpt2_small.csv"
    with open(csv_path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {csv_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
