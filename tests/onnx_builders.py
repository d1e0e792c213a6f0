"""Small ONNX graphs built with onnx.helper, for tests and benchmarks (no torch needed).

Tensor names are predictable: layer ``i`` writes ``z{i}`` (affine output) and, for hidden
layers, ``a{i}`` (after the activation); the head writes ``Y`` (plus ``label`` for ArgMax).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

__all__ = ["OPSET", "dense_mlp", "mlp_weights", "multi_input_model", "numpy_forward", "save"]

OPSET = 17


def mlp_weights(
    sizes: Sequence[int], *, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Seeded float32 (W of shape (in, out), b of shape (out,)) per layer for ``sizes``."""
    rng = np.random.default_rng(seed)
    layers = []
    for n_in, n_out in itertools.pairwise(sizes):
        w = rng.normal(0.0, 1.0 / np.sqrt(n_in), size=(n_in, n_out)).astype(np.float32)
        b = rng.normal(0.0, 0.1, size=n_out).astype(np.float32)
        layers.append((w, b))
    return layers


def dense_mlp(
    layers: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    head: str | None = None,
    activation: str = "Relu",
    input_name: str = "X",
    opset: int = OPSET,
    metadata: dict[str, str] | None = None,
) -> onnx.ModelProto:
    """MatMul + Add layers with ``activation`` between them and an optional head.

    ``head`` is None (regression: output is ``z{last}``), "Softmax", "LogSoftmax", "Sigmoid"
    or "ArgMax" (outputs ``label`` int64 of shape (n,) and nothing else).
    """
    nodes, inits = [], []
    current = input_name
    n_in = layers[0][0].shape[0]
    for i, (w, b) in enumerate(layers):
        inits += [numpy_helper.from_array(w, f"W{i}"), numpy_helper.from_array(b, f"B{i}")]
        nodes.append(helper.make_node("MatMul", [current, f"W{i}"], [f"m{i}"], name=f"matmul{i}"))
        nodes.append(helper.make_node("Add", [f"m{i}", f"B{i}"], [f"z{i}"], name=f"add{i}"))
        current = f"z{i}"
        if i < len(layers) - 1:
            nodes.append(helper.make_node(activation, [current], [f"a{i}"], name=f"act{i}"))
            current = f"a{i}"
    n_out = layers[-1][0].shape[1]
    outputs = []
    if head in ("Softmax", "LogSoftmax"):
        nodes.append(helper.make_node(head, [current], ["Y"], name="head", axis=-1))
        outputs.append(helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", n_out]))
    elif head == "Sigmoid":
        nodes.append(helper.make_node("Sigmoid", [current], ["Y"], name="head"))
        outputs.append(helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", n_out]))
    elif head == "ArgMax":
        nodes.append(
            helper.make_node("ArgMax", [current], ["label"], name="head", axis=1, keepdims=0)
        )
        outputs.append(helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]))
    elif head is None:
        outputs.append(helper.make_tensor_value_info(current, TensorProto.FLOAT, ["N", n_out]))
    else:
        raise ValueError(f"unknown head {head!r}")
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["N", n_in])],
        outputs,
        initializer=inits,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="onnx_builders"
    )
    model.ir_version = 8
    if metadata:
        helper.set_model_props(model, metadata)
    onnx.checker.check_model(model, full_check=True)
    return model


def numpy_forward(
    layers: Sequence[tuple[np.ndarray, np.ndarray]], X: np.ndarray
) -> dict[str, np.ndarray]:
    """Every named tensor of :func:`dense_mlp` (ReLU), in float64: ``z{i}`` and ``a{i}``."""
    out = {}
    h = np.asarray(X, dtype=np.float64)
    for i, (w, b) in enumerate(layers):
        h = h @ w.astype(np.float64) + b.astype(np.float64)
        out[f"z{i}"] = h
        if i < len(layers) - 1:
            h = np.maximum(h, 0.0)
            out[f"a{i}"] = h
    return out


def multi_input_model() -> onnx.ModelProto:
    """Three [N, 1] inputs ``age`` (float), ``hours`` (float), ``color`` (string) -> 2-class
    softmax of ``[age - hours, code(color)]`` where code is red 1, green 0, else -1."""
    nodes = [
        helper.make_node(
            "LabelEncoder",
            ["color"],
            ["code"],
            domain="ai.onnx.ml",
            keys_strings=["red", "green"],
            values_floats=[1.0, 0.0],
            default_float=-1.0,
            name="encode",
        ),
        helper.make_node("Sub", ["age", "hours"], ["diff"], name="diff"),
        helper.make_node("Concat", ["diff", "code"], ["z"], axis=1, name="concat"),
        helper.make_node("Softmax", ["z"], ["Y"], axis=-1, name="head"),
    ]
    inputs = [
        helper.make_tensor_value_info("age", TensorProto.FLOAT, ["N", 1]),
        helper.make_tensor_value_info("hours", TensorProto.FLOAT, ["N", 1]),
        helper.make_tensor_value_info("color", TensorProto.STRING, ["N", 1]),
    ]
    outputs = [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", 2])]
    graph = helper.make_graph(nodes, "multi", inputs, outputs)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid("ai.onnx.ml", 3)],
    )
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


def save(model: onnx.ModelProto, path) -> str:
    """Write ``model`` to ``path`` and return the path as a string."""
    onnx.save(model, str(path))
    return str(path)
