"""Trees in the ONNX export: one ``ai.onnx.ml.TreeEnsembleRegressor`` and what follows it.

onnxruntime runs every node whichever outputs are fetched, and its ``Gather`` costs about 8x a
``Cast`` per row (``benchmarks/export.py`` profiles it), so the leaf weight carries the integer
label itself when no scores are wanted; otherwise it is the leaf's ordinal, mapped to the label
by ``LabelEncoder`` and to the scores row by one ``Gather``. Thresholds are rewritten to float32
by :func:`nnrules.io.export._ir.to_float32` (exact for every float32 input).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nnrules.io.export._ir import Atom, leaf_outputs, to_float32
from nnrules.io.export._onnx_graph import _col, _Graph, _ones
from nnrules.io.export._onnx_rules import _atoms_matrix

__all__: list[str] = []

_TREE_MODE = {"<=": "BRANCH_LEQ", ">": "BRANCH_GT", "==": "BRANCH_EQ", "!=": "BRANCH_NEQ",
              "<": "BRANCH_LT", ">=": "BRANCH_GTE"}


def _tree_leaf(g: _Graph, X: str, tree: Any, where: dict[int, int] | None, width: int,
               weights: list[float]) -> str:
    """float32 [N, 1] from one TreeEnsembleRegressor: ``weights[k]`` for rows that reach the
    k-th leaf of ``tree.leaves()`` (integers below 2**24 come out exactly)."""
    mofn_tests = [i for i, t in enumerate(tree.tests) if t is not None and hasattr(t, "m")]
    feature_of: dict[int, int] = {}
    Xt = X
    if mofn_tests:
        atoms: dict[Atom, int] = {}
        plans = []
        for i in mofn_tests:
            t = tree.tests[i]
            m, kept = t.m, []
            for c in t.conditions:
                a32 = to_float32(Atom(c.feature, c.op, c.value))
                if a32 is True:
                    m -= 1
                elif a32 is not False:
                    kept.append(a32)
                    atoms.setdefault(a32, len(atoms))
            plans.append((m, kept))
        atom_list = sorted(atoms, key=atoms.get)
        extra = []
        if atom_list:
            A, pos = _atoms_matrix(g, X, atom_list, where)
            col = {a: pos[i] for i, a in enumerate(atom_list)}
            M = np.zeros((len(atom_list), len(plans)), np.float32)
            for k, (_, kept) in enumerate(plans):
                for a in kept:
                    M[col[a], k] += 1.0  # conditions that round to one test count each
            extra.append(g.op("MatMul", [A, g.const(M)]))
        else:
            ones = _ones(g, X)
            extra.append(g.op("Mul", [ones, g.const(np.zeros((1, len(plans)), np.float32))]))
        Xt = g.op("Concat", [X] + extra, axis=1)
        for k, i in enumerate(mofn_tests):
            feature_of[i] = width + k
    leaves = [int(v) for v in tree.leaves()]
    ordinal = {leaf: k for k, leaf in enumerate(leaves)}
    attrs: dict[str, list] = {key: [] for key in (
        "nodes_nodeids", "nodes_featureids", "nodes_modes", "nodes_values",
        "nodes_truenodeids", "nodes_falsenodeids", "target_nodeids", "target_weights")}
    for i, t in enumerate(tree.tests):
        attrs["nodes_nodeids"].append(i)
        if t is None:
            attrs["nodes_featureids"].append(0)
            attrs["nodes_modes"].append("LEAF")
            attrs["nodes_values"].append(0.0)
            attrs["nodes_truenodeids"].append(0)
            attrs["nodes_falsenodeids"].append(0)
            attrs["target_nodeids"].append(i)
            attrs["target_weights"].append(float(weights[ordinal[i]]))
            continue
        if i in feature_of:
            m = plans[feature_of[i] - width][0]  # plans are in mofn_tests order
            feature, mode, value = feature_of[i], "BRANCH_GTE", float(m)
        else:
            a32 = to_float32(Atom(t.feature, t.op, t.value))
            if a32 is True or a32 is False:
                feature, mode, value = 0, "BRANCH_LEQ" if a32 else "BRANCH_GT", math.inf
            else:
                feature, mode, value = _col(where, a32.feature), _TREE_MODE[a32.op], a32.value
        attrs["nodes_featureids"].append(feature)
        attrs["nodes_modes"].append(mode)
        attrs["nodes_values"].append(value)
        attrs["nodes_truenodeids"].append(int(tree.left[i]))
        attrs["nodes_falsenodeids"].append(int(tree.right[i]))
    n_nodes = len(tree.tests)
    n_targets = len(attrs["target_nodeids"])
    return g.op("TreeEnsembleRegressor", [Xt], domain="ai.onnx.ml", n_targets=1,
                aggregate_function="SUM", post_transform="NONE",
                nodes_treeids=[0] * n_nodes, nodes_hitrates=[1.0] * n_nodes,
                nodes_missing_value_tracks_true=[0] * n_nodes,
                target_treeids=[0] * n_targets, target_ids=[0] * n_targets, **attrs)


def _tree_classifier(g: _Graph, X: str, tree: Any, where: dict[int, int] | None, width: int,
                     labels: list, scores: bool) -> None:
    """Outputs ``label`` (and ``scores``) of a classification tree.

    onnxruntime runs every node whatever outputs are asked for, and its ``Gather`` costs about
    8x a ``Cast`` per row, so: integer labels without scores are the leaves' weights (exact
    below 2**24), cast to int64; otherwise the weight is the leaf's ordinal, mapped to the
    label by ``LabelEncoder`` and to the scores row by ``Gather``.
    """
    from onnx import TensorProto

    leaves = [int(v) for v in tree.leaves()]
    table_out = [labels[int(v)] for v in leaf_outputs(tree)[leaves]]
    strings = any(isinstance(c, str) for c in labels)
    if not scores and not strings and all(abs(int(v)) < 2 ** 24 for v in table_out):
        leaf = _tree_leaf(g, X, tree, where, width, [float(int(v)) for v in table_out])
        flat = g.op("Reshape", [leaf, g.const(np.array([-1], np.int64))])
        g.op("Cast", [flat], to=TensorProto.INT64, out="label")
        return
    ordinals = [float(k) for k in range(len(leaves))]
    leaf = _tree_leaf(g, X, tree, where, width, ordinals)
    flat = g.op("Reshape", [leaf, g.const(np.array([-1], np.int64))])
    if strings:
        g.op("LabelEncoder", [flat], domain="ai.onnx.ml", out="label", keys_floats=ordinals,
             values_strings=[str(v) for v in table_out], default_string="")
    else:
        g.op("LabelEncoder", [flat], domain="ai.onnx.ml", out="label", keys_floats=ordinals,
             values_int64s=[int(v) for v in table_out], default_int64=-1)
    if scores:
        proba = tree.value[leaves]
        sums = proba.sum(axis=1, keepdims=True)
        proba = np.divide(proba, sums, out=np.full_like(proba, 1.0 / proba.shape[1]),
                          where=sums > 0)
        index = g.op("Cast", [flat], to=TensorProto.INT64)
        g.op("Gather", [g.const(proba.astype(np.float32)), index], axis=0, out="scores")
