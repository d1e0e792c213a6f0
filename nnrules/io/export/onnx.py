"""Export a surrogate as a standalone ONNX model that reads the network's own inputs.

Inputs: the original network's — one float32 tensor ``[N, n_features]``, or (pipelines such as
skl2onnx's) one ``[N, 1]`` tensor per column, string columns included (mapped to their category
codes by ``ai.onnx.ml.LabelEncoder``; an unknown category becomes code -1). Outputs:

* classification: ``label`` ``[N]`` (int64 or string, the network's labels) and, where the
  surrogate has them, ``scores`` ``[N, n_classes]`` float32 (a tree's leaf distribution, an
  additive model's sigmoid / softmax);
* regression: ``value`` ``[N]`` float64.

Trees (:mod:`nnrules.io.export._onnx_tree`) are one ``ai.onnx.ml.TreeEnsembleRegressor``
whose single target is the leaf's integer label (label only) or ordinal (exact in float32), so
the label never depends on the classifier op's tie-breaking. TREPAN's m-of-n tests become extra
columns (the number of their conditions that hold), tested like any other. Rule sets and boxes: every
distinct comparison once (grouped by operator), bodies counted by a 0/1 ``MatMul``, the first
body that holds chosen by ``ArgMax`` (first maximum); an oblique (linear) test is one more
column, its weighted sum formed in float64 in the surrogate's order (``Cast``, ``Mul``,
``Add``), so it agrees with the surrogate on every float32 input. Additive models are computed in float64
from standard operators (``Gather`` of the cell's coefficients, ``Pow``, ``ReduceSum``).

Threshold semantics (see ``docs/formats.md``): the surrogate compares float64; the inputs are
float32, so every threshold is rounded in the direction that keeps the answer exact
(:func:`nnrules.io.export._ir.to_float32`). Integer inputs are exact up to 2**24. A network
with a float64 input gets a float64 feature matrix compared with the surrogate's own
thresholds (trees as their decision list: ``TreeEnsembleRegressor`` thresholds are float32).

Abstaining boxes (``fallback="abstain"``) give the label ``ABSTAIN`` of the ``metadata_props``
(``""`` for string labels, else one below the smallest class) and value NaN for regression.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nnrules.exceptions import UnsupportedModelError
from nnrules.io.export._ir import (
    LinearAtom,
    decision_list,
    kind_of,
    label_list,
    leaf_outputs,
    linear_numeric,
)
from nnrules.io.export._onnx_additive import _term
from nnrules.io.export._onnx_graph import InputSpec, _features, _Graph, _ones, _specs, _used
from nnrules.io.export._onnx_rules import _decision_index

__all__ = ["InputSpec", "to_onnx"]

OPSET = 17
ML_OPSET = 3
IR_VERSION = 8


# -- the model -----------------------------------------------------------------------------

def _abstain_label(labels: list) -> Any:
    if any(isinstance(c, str) for c in labels):
        return ""
    return min(int(c) for c in labels) - 1


def _label_const(labels: list) -> np.ndarray:
    if any(isinstance(c, str) for c in labels):
        return np.array([str(c) for c in labels], dtype=object)
    return np.array([int(c) for c in labels], np.int64)


def to_onnx(surrogate: Any, *, input_name: str = "input",
            model_inputs: list[InputSpec] | None = None, provenance: dict | None = None,
            scores: bool = True):
    """The surrogate as an ``onnx.ModelProto`` (checked with ``full_check=True``).

    Parameters
    ----------
    surrogate : TreeSurrogate, RuleSet, BoxRuleSet or AdditiveSurrogate
    input_name : str, default "input"
        Name of the single ``[N, n_features]`` input when neither the schema nor
        ``model_inputs`` name the inputs.
    model_inputs : list of InputSpec, optional
        The original network's inputs (names, dtypes, widths), to read exactly what it reads.
    provenance : dict, optional
        Written into ``metadata_props`` (model SHA-256, fidelity...).
    scores : bool, default True
        Also output ``scores`` (trees, additive models). onnxruntime computes every output
        whichever are fetched, so a label-only model (``False``) is the faster one to deploy.
    """
    import onnx
    from onnx import TensorProto, helper

    from nnrules.io.export import require_schema

    kind = kind_of(surrogate)
    if kind == "automaton":
        raise UnsupportedModelError("An automaton exports as a transition table or a regex "
                                    "(--to json, csv or regex), not as ONNX.")
    schema = require_schema(surrogate, "onnx")
    specs = _specs(schema, input_name, model_inputs)
    g = _Graph()
    used = _used(surrogate)
    if kind in ("ruleset",):
        for body in decision_list(surrogate).bodies:
            for t in body:
                if isinstance(t, LinearAtom):
                    linear_numeric(t, schema, "ONNX")
    X, where = _features(g, schema, specs, used)
    width = schema.n_features if where is None else max(len(where), 1)
    task = surrogate.task
    outputs = []
    meta = dict(provenance or {})
    labels = None if task == "regression" else label_list(surrogate)
    if kind == "additive":
        Xd = g.op("Cast", [X], to=TensorProto.DOUBLE)
        ones_d = g.op("Cast", [_ones(g, X)], to=TensorProto.DOUBLE)
        values = [_term(g, Xd, t, ones_d, where) for t in surrogate.terms]
        k = surrogate.intercept.size
        total = (values[0] if len(values) == 1 else g.op("Sum", values)) if values else \
            g.op("Mul", [ones_d, g.const(np.zeros((1, k)))])
        score = g.op("Add", [total, g.const(surrogate.intercept.reshape(1, -1))])
        if surrogate.output == "value":
            g.op("Reshape", [score, g.const(np.array([-1], np.int64))], out="value")
            outputs.append(helper.make_tensor_value_info("value", TensorProto.DOUBLE, [None]))
        else:
            if surrogate.output == "logit":
                flat = g.op("Reshape", [score, g.const(np.array([-1], np.int64))])
                index = g.op("Cast", [g.op("Greater", [flat, g.const(np.array(0.0))])],
                             to=TensorProto.INT64)
            else:
                index = g.op("ArgMax", [score], axis=1, keepdims=0, select_last_index=0)
            g.op("Gather", [g.const(_label_const(labels)), index], out="label")
            if scores and surrogate.output == "logit":
                p = g.op("Sigmoid", [score])
                proba = g.op("Concat", [g.op("Sub", [g.const(np.array(1.0)), p]), p], axis=1)
                g.op("Cast", [proba], to=TensorProto.FLOAT, out="scores")
            elif scores:
                g.op("Cast", [g.op("Softmax", [score], axis=1)], to=TensorProto.FLOAT,
                     out="scores")
            outputs += _label_outputs(labels, scores)
    else:
        dl = decision_list(surrogate)
        # TreeEnsembleRegressor holds float32 thresholds: a float64 matrix takes the tree as
        # its decision list (one body per leaf), compared in float64
        ensemble = kind == "tree" and not g.double
        if ensemble:
            from nnrules.io.export._onnx_tree import _tree_classifier, _tree_leaf
        if ensemble and labels is not None:
            _tree_classifier(g, X, surrogate, where, width, labels, scores)
            outputs += _label_outputs(labels, scores)
        elif ensemble:
            leaves = [int(v) for v in surrogate.leaves()]
            leaf = _tree_leaf(g, X, surrogate, where, width, list(range(len(leaves))))
            flat = g.op("Reshape", [leaf, g.const(np.array([-1], np.int64))])
            index = g.op("Cast", [flat], to=TensorProto.INT64)
            table_out = [float(v) for v in leaf_outputs(surrogate)[leaves]]
        else:
            index = _decision_index(g, X, dl.bodies, where)
            table_out = list(dl.outputs) + [dl.default]
        if ensemble and labels is not None:
            pass
        elif labels is None:
            vals = np.array([math.nan if v is None else float(v) for v in table_out], np.float64)
            g.op("Gather", [g.const(vals), index], out="value")
            outputs.append(helper.make_tensor_value_info("value", TensorProto.DOUBLE, [None]))
        else:
            if any(v is None for v in table_out):
                abstain = _abstain_label(labels)
                meta["ABSTAIN"] = repr(abstain)
                table_out = [abstain if v is None else v for v in table_out]
            g.op("Gather", [g.const(_label_const(table_out if any(
                isinstance(c, str) for c in labels) else [int(v) for v in table_out])), index],
                out="label")
            tree_scores = scores and kind == "tree" and dl.scores is not None
            if tree_scores:  # the leaf's class shares, as the TreeEnsemble route gives them
                g.op("Gather", [g.const(dl.scores.astype(np.float32)), index], axis=0,
                     out="scores")
            outputs += _label_outputs(labels, tree_scores)
    inputs = [helper.make_tensor_value_info(
        s.name, TensorProto.STRING if s.dtype == "str" else
        helper.np_dtype_to_tensor_dtype(np.dtype(s.dtype)), [None, s.width]) for s in specs]
    graph = helper.make_graph(g.nodes, "nnrules_surrogate", inputs, outputs, g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET),
                                                    helper.make_opsetid("ai.onnx.ml", ML_OPSET)],
                              producer_name="nnrules", doc_string=(
                                  f"nnrules {kind} surrogate; exact "
                                  f"{'float64' if g.double else 'float32'} threshold semantics "
                                  "(see nnrules docs/formats.md)."))
    model.ir_version = IR_VERSION
    meta["threshold_semantics"] = (
        "float64 inputs compared with the surrogate's own float64 thresholds" if g.double else
        "float64 surrogate thresholds rounded toward the side that keeps every float32 input's "
        "answer exact")
    helper.set_model_props(model, {str(k): str(v) for k, v in sorted(meta.items())})
    onnx.checker.check_model(model, full_check=True)
    return model


def _label_outputs(labels: list, scores: bool) -> list:
    from onnx import TensorProto, helper

    dtype = TensorProto.STRING if any(isinstance(c, str) for c in labels) else TensorProto.INT64
    out = [helper.make_tensor_value_info("label", dtype, [None])]
    if scores:
        out.append(helper.make_tensor_value_info("scores", TensorProto.FLOAT,
                                                 [None, len(labels)]))
    return out
