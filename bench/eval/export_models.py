# ===- bench/eval/export_models.py - Export aidreams260K and books-llama ---=== #
"""Write data/onnx/aidreams260K and data/onnx/books_llama_2_8M (cache variant and golden.npz).

Both use `rill.export.llama2c_onnx` exactly as stories260K does: optimum layout,
half-split RoPE, tables for 2,048 positions. The golden inputs are the first
5,000 characters of the TinyStories text, encoded with each model's own tokenizer.

Usage: /usr/bin/python3 bench/eval/export_models.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

from rill.export.llama2c_onnx import export_onnx, golden_with_cache  # noqa: E402
from rill.models.llama2c import Llama2cModel, load_checkpoint, load_tokenizer, read_text  # noqa: E402

EXPORTS = (("aidreams260K", "aidreams260K.bin", "aidreams260K_tok512.bin"),
           ("books_llama_2_8M", "books-llama-2.8M.bin", "tok512.bin"))


def main() -> int:
    for name, checkpoint_file, tokenizer_file in EXPORTS:
        checkpoint = load_checkpoint(common.CHECKPOINTS / checkpoint_file)
        folder = common.REPO_ROOT / "data" / "onnx" / name
        export_onnx(checkpoint, folder / "model.onnx", use_cache=True, max_positions=2048)
        text = read_text(common.TEXT_FILES["tinystories"])[:5000]
        tokens = np.array(load_tokenizer(common.CHECKPOINTS / tokenizer_file).encode(text, bos=False))
        np.savez_compressed(folder / "golden.npz", **golden_with_cache(Llama2cModel(checkpoint), tokens))
        for path in (folder / "model.onnx", folder / "golden.npz"):
            print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
