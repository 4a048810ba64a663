# ===- rill/export/__init__.py - Exporters for models and golden data -=== #
"""Tools that turn reference models into the files Rill's tests consume.

`llama2c_onnx` exports llama2.c checkpoints to ONNX (through the PyTorch module in
`llama2c_torch`) with golden inputs and outputs, and `golden` writes token-by-token
streaming logits under each cache policy. Both run as `python3 -m` modules.
"""
