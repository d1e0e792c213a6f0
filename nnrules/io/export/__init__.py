"""Exports of surrogates to other runtimes (ONNX, Python, SQL, model cards)."""
