# ===- rill/reference/__init__.py - numpy reference semantics ---------=== #
"""Float64 numpy reference semantics of Rill, the oracle for numeric tests.

Submodules: `masks` (mask predicates and the mask text parser), `attention`
(masked grouped-query attention with bias, soft-capping and sink logits),
`rope` (rotary position embedding, half-split and interleaved) and `streaming`
(the StreamingLLM cache policies and a per-layer key/value cache). The compiler
and runtime must agree with these definitions.
"""

from rill.reference import attention, masks, rope, streaming

__all__ = ["attention", "masks", "rope", "streaming"]
