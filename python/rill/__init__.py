# ===- rill/__init__.py - Python side of the Rill compiler ------------=== #
"""Python tools of the Rill streaming attention compiler.

The `rill.reference` subpackage holds the float64 numpy reference semantics
(masks, attention, rotary embeddings and StreamingLLM cache policies) that the
numeric tests of the compiler and runtime compare against.
"""
