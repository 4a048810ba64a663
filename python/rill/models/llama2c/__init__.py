# ===- rill/models/llama2c/__init__.py - The llama2.c model family ---=== #
"""Read llama2.c checkpoints and tokenizers and run the model in numpy.

llama2.c (Andrej Karpathy) stores a Llama-architecture model as a flat binary file
in one of two formats: the legacy float32 layout and the int8 "version 2" layout
with Q8_0 group quantisation. `load_checkpoint` reads both, `load_tokenizer` reads
`tokenizer.bin`, `Llama2cModel` runs the model at float64 (dense causal attention,
greedy generation), and `streaming_logits` runs it token by token under one of the
cache policies of `rill.reference.streaming`.
"""

from rill.models.llama2c.checkpoint import (
    Checkpoint,
    Config,
    Q8Tensor,
    Weights,
    load_checkpoint,
)
from rill.models.llama2c.model import Llama2cModel, apply_rope_interleaved
from rill.models.llama2c.streaming import POLICIES, streaming_logits
from rill.models.llama2c.tokenizer import (
    BOS,
    EOS,
    Tokenizer,
    collapse_blank_lines,
    load_tokenizer,
    read_text,
)

__all__ = [
    "BOS",
    "EOS",
    "POLICIES",
    "Checkpoint",
    "Config",
    "Llama2cModel",
    "Q8Tensor",
    "Tokenizer",
    "Weights",
    "apply_rope_interleaved",
    "collapse_blank_lines",
    "load_checkpoint",
    "load_tokenizer",
    "read_text",
    "streaming_logits",
]
