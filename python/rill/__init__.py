# ===- rill/__init__.py - Python side of the Rill compiler ------------=== #
"""Python tools of the Rill streaming attention compiler.

The `rill.reference` subpackage holds the float64 numpy reference semantics
(masks, attention, rotary embeddings and StreamingLLM cache policies) that every
numeric test of the compiler and runtime is checked against.
"""
