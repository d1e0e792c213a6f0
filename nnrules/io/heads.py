"""What a classifier's or regressor's outputs mean, read from the ONNX graph.

Softmax / LogSoftmax / Sigmoid heads (through reshaping ops), ``ArgMax`` label outputs,
skl2onnx's label + probabilities outputs (with or without ``ZipMap``) and their class labels;
a float ``(batch, k >= 2)`` output with none of these is read as class logits (a classifier
exported without its softmax; ``Head.guessed``); anything else is a regression. The pre-activation tensor of the head is the logit tensor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import onnx
from onnx import numpy_helper

if TYPE_CHECKING:
    from nnrules.io.model import TensorSpec

__all__ = ["Head", "infer_head"]

_HEADS = ("Softmax", "LogSoftmax", "Sigmoid")
# Ops the search for a head walks back through (reshaping, and skl2onnx's binary [1-p, p]).
_PASS_THROUGH = frozenset(
    {"Identity", "Cast", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Concat", "Sub", "ZipMap"}
)
_ML_CLASSIFIERS = frozenset(
    {"LinearClassifier", "TreeEnsembleClassifier", "SVMClassifier", "ZipMap"}
)



@dataclass(frozen=True)
class Head:
    """How the graph answers: which tensor holds scores, what turns it into probabilities."""

    task: Literal["classification", "regression"]
    score: str  # tensor read by predict/scores (probabilities, log-probs, logits or values)
    kind: Literal["prob", "log_prob", "sigmoid1", "raw", "values"]
    logit: str | None  # pre-softmax / pre-sigmoid tensor, if the graph has one
    classes: np.ndarray | None
    guessed: bool = False  # raw scores read as class logits without a head to say so


def _producers(graph: onnx.GraphProto) -> dict[str, onnx.NodeProto]:
    return {out: node for node in graph.node for out in node.output if out}


def _find_head(graph: onnx.GraphProto, start: str) -> onnx.NodeProto | None:
    """Nearest Softmax / LogSoftmax / Sigmoid above ``start``, through reshaping ops only."""
    producers = _producers(graph)
    frontier, seen = [start], set()
    while frontier:
        name = frontier.pop(0)
        node = producers.get(name)
        if node is None or name in seen:
            continue
        seen.add(name)
        if node.op_type in _HEADS:
            return node
        if node.op_type in _PASS_THROUGH:
            frontier.extend(node.input)
    return None


def _attr(node: onnx.NodeProto, name: str) -> Any:
    for attr in node.attribute:
        if attr.name == name:
            return onnx.helper.get_attribute_value(attr)
    return None


def _ml_classes(model: onnx.ModelProto) -> np.ndarray | None:
    """Class labels from ZipMap or ai.onnx.ml classifier attributes, or from the label lookup."""
    for node in model.graph.node:
        if node.op_type in _ML_CLASSIFIERS:
            for key in ("classlabels_int64s", "classlabels_ints", "classlabels_strings"):
                value = _attr(node, key)
                if value:
                    if key == "classlabels_strings":
                        return np.asarray([v.decode() for v in value], dtype=object)
                    return np.asarray(value, dtype=np.int64)
    # skl2onnx MLP without ZipMap: label = ArrayFeatureExtractor(classes, ArgMax(...)).
    inits = {i.name: i for i in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "ArrayFeatureExtractor" and node.input[0] in inits:
            values = numpy_helper.to_array(inits[node.input[0]]).ravel()
            if values.dtype.kind in "SUO":
                return np.asarray([_text(v) for v in values], dtype=object)
            return values.astype(np.int64) if values.dtype.kind in "iu" else values
    return None


def infer_head(model: onnx.ModelProto, outputs: tuple[TensorSpec, ...]) -> Head:
    """Task, score tensor, its kind, the logit tensor and classes, read from the graph."""
    graph = model.graph
    producers = _producers(graph)
    ops = {node.op_type for node in graph.node}
    # skl2onnx-style classifier: a label output plus a probabilities output (maybe via ZipMap).
    if len(outputs) >= 2 and (ops & _ML_CLASSIFIERS or "ArrayFeatureExtractor" in ops):
        prob = outputs[1].name
        zipmap = producers.get(prob)
        if zipmap is not None and zipmap.op_type == "ZipMap":
            prob = zipmap.input[0]
        head = _find_head(graph, prob)
        logit = head.input[0] if head is not None and head.op_type != "LogSoftmax" else None
        return Head("classification", prob, "prob", logit, _ml_classes(model))
    out = outputs[0].name
    node = producers.get(out)
    if node is not None and node.op_type == "ArgMax":
        out = node.input[0]
    head = _find_head(graph, out)
    if head is not None:
        if head.op_type == "LogSoftmax":
            kind = "log_prob"  # only reshaping ops lie between it and the output
        elif head.op_type == "Sigmoid":
            kind = "sigmoid1"  # width decided at run time: one column -> [1-p, p]
        else:
            kind = "prob"
        return Head("classification", out, kind, head.input[0], None)
    if "ArgMax" in ops or (node is not None and node.op_type == "ArgMax"):
        return Head("classification", out, "raw", out, None)
    shape = outputs[0].shape
    width = shape[-1] if shape is not None and len(shape) == 2 else None
    if (isinstance(width, int) and width >= 2 and outputs[0].dtype.kind == "f"
            and model.producer_name != "skl2onnx"):  # skl2onnx classifiers output labels
        # A float (batch, k >= 2) output and no head: a classifier exported without its
        # softmax (PyTorch's CrossEntropyLoss convention) far more often than k regression
        # targets. Read as class logits, said on load; load(..., task="regression") undoes it.
        # (skl2onnx writes every classifier with a label output: its other models regress.)
        return Head("classification", out, "raw", out, None, guessed=True)
    return Head("regression", out, "values", None, None)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
