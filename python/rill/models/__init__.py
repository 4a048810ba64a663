# ===- rill/models/__init__.py - Reference language models -----------=== #
"""Reference language models written in numpy.

Each subpackage reads one family of pretrained checkpoints and runs it in plain
numpy at float64, so that exported ONNX graphs, compiled binaries and streaming
cache policies can be compared against an independent forward pass.
"""
