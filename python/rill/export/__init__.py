# ===- rill/export/__init__.py - Exporters for models and golden data -=== #
"""Tools that turn reference models into the ONNX files and golden data that Rill's tests consume.

Each module runs as `python3 -m rill.export.<module>` and rewrites its files under
data/. For example, `llama2c_onnx` exports llama2.c checkpoints to ONNX through
the PyTorch module in `llama2c_torch`, and `golden` writes token-by-token
streaming logits under each cache policy.
"""
