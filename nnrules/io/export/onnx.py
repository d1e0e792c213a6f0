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
(:func:`nnrules.io.export._ir.to_float32`). Integer inputs are exact up to 2**24.

Abstaining boxes (``fallback="abstain"``) give the label ``ABSTAIN`` of the ``metadata_props``
(``""`` for string labels, else one below the smallest class) and value NaN for regression.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from nnrules.exceptions import UnsupportedModelError
from nnrules.io.export._ir import (
    AtLeast,
    Atom,
    LinearAtom,
    decision_list,
    kind_of,
    label_list,
    leaf_outputs,
    linear_numeric,
    to_float32,
)

__all__ = ["InputSpec", "to_onnx"]

OPSET = 17
ML_OPSET = 3
IR_VERSION = 8
_OP_NODE = {"<=": "LessOrEqual", "<": "Less", ">": "Greater", ">=": "GreaterOrEqual",
            "==": "Equal"}
_TREE_MODE = {"<=": "BRANCH_LEQ", ">": "BRANCH_GT", "==": "BRANCH_EQ", "!=": "BRANCH_NEQ",
              "<": "BRANCH_LT", ">=": "BRANCH_GTE"}


@dataclass(frozen=True)
class InputSpec:
    """A graph input: name, dtype name (``float32``, ``int64``, ``str``...) and width (0 when
    the graph leaves it open)."""

    name: str
    dtype: str
    width: int


class _Graph:
    """A tiny builder: unique names, constants as initializers, nodes in order."""

    def __init__(self) -> None:
        self.nodes: list = []
        self.inits: list = []
        self.k = 0

    def name(self, base: str) -> str:
        self.k += 1
        return f"{base}_{self.k}"

    def const(self, value: Any, base: str = "c") -> str:
        from onnx import numpy_helper

        arr = np.asarray(value)
        if arr.dtype.kind in "OUS":
            arr = arr.astype(object)
        name = self.name(base)
        self.inits.append(numpy_helper.from_array(arr, name))
        return name

    def op(self, op_type: str, inputs: list[str], *, domain: str = "", n_out: int = 1,
           out: str | None = None, **attrs) -> str:
        from onnx import helper

        outs = [out or self.name(op_type.lower())] + [self.name(op_type.lower())
                                                       for _ in range(n_out - 1)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, domain=domain or None,
                                           name=self.name("n_" + op_type), **attrs))
        return outs[0]


def _specs(schema: Any, input_name: str, model_inputs: list[InputSpec] | None) -> list[InputSpec]:
    """The graph inputs: the model's when given, else from the schema."""
    if model_inputs:  # a width the graph leaves open (0): all features in one input, else 1
        fill = schema.n_features if len(model_inputs) == 1 else 1
        return [InputSpec(s.name, s.dtype, s.width or fill) for s in model_inputs]
    if schema.input_names is None and not schema.has_categorical:
        return [InputSpec(input_name, "float32", schema.n_features)]
    names = schema.input_names or schema.names
    out = []
    for j, f in enumerate(schema.features):
        dtype = None if schema.input_dtypes is None else schema.input_dtypes[j]
        if f.kind == "categorical":
            dtype = "str"
        out.append(InputSpec(names[j], dtype or "float32", 1))
    return out


def _used(surrogate: Any) -> set[int]:
    """The columns the surrogate reads (the others need not be decoded)."""
    kind = kind_of(surrogate)
    if kind == "additive":
        return {c for t in surrogate.terms for c in t.columns}
    if kind == "tree":
        tests = [t for t in surrogate.tests if t is not None]
        return {c.feature for t in tests for c in (t.conditions if hasattr(t, "m") else (t,))}
    used = set()
    for body in decision_list(surrogate).bodies:
        for t in body:
            if isinstance(t, LinearAtom):
                used.update(t.features)
            else:
                used.update(a.feature for a in (t.atoms if isinstance(t, AtLeast) else (t,)))
    return used


def _features(g: _Graph, schema: Any, specs: list[InputSpec],
              used: set[int]) -> tuple[str, dict[int, int] | None]:
    """The float32 matrix the tests read, and where each schema feature sits in it.

    One ``[N, n_features]`` input is read as it is (the map is ``None``: feature j is column
    j). Per-column inputs: only the columns the surrogate reads are decoded and concatenated,
    in feature order (a narrower ``Concat`` is most of the saving on wide pipelines); when it
    reads none, one column of zeros stands in.
    """
    if len(specs) == 1 and specs[0].width == schema.n_features and specs[0].dtype != "str":
        return _as_float(g, specs[0].name, specs[0].dtype), None
    if len(specs) != schema.n_features or any(s.width != 1 for s in specs):
        raise UnsupportedModelError(
            f"The model's inputs {[(s.name, s.width) for s in specs]} do not map one to one onto "
            f"the surrogate's {schema.n_features} features; export reads one [N, "
            f"{schema.n_features}] input or one [N, 1] input per feature.")
    cols, where = [], {}
    names = schema.input_names or schema.names
    by_name = {s.name: s for s in specs}
    for j, f in enumerate(schema.features):
        spec = by_name.get(names[j])
        if spec is None:
            raise UnsupportedModelError(
                f"Feature {f.name!r} reads input {names[j]!r}, which the model does not have; "
                f"its inputs are {sorted(by_name)}.")
        if j not in used:
            continue
        where[j] = len(cols)
        if f.kind == "categorical":
            if spec.dtype != "str":
                raise UnsupportedModelError(
                    f"Categorical feature {f.name!r} needs a string input; {spec.name!r} is "
                    f"{spec.dtype}.")
            cols.append(g.op("LabelEncoder", [spec.name], domain="ai.onnx.ml",
                             keys_strings=list(f.categories),
                             values_floats=[float(i) for i in range(len(f.categories))],
                             default_float=-1.0))
        else:
            cols.append(_as_float(g, spec.name, spec.dtype))
    if not cols:
        from onnx import TensorProto, helper

        first = specs[0].name
        n = g.op("Slice", [g.op("Shape", [first]), g.const(np.array([0], np.int64)),
                           g.const(np.array([1], np.int64))])
        shape = g.op("Concat", [n, g.const(np.array([1], np.int64))], axis=0)
        cols.append(g.op("ConstantOfShape", [shape], value=helper.make_tensor(
            "zero", TensorProto.FLOAT, [1], [0.0])))
    return (cols[0] if len(cols) == 1 else g.op("Concat", cols, axis=1)), where


def _col(where: dict[int, int] | None, j: int) -> int:
    """Column of schema feature ``j`` in the matrix :func:`_features` built."""
    return j if where is None else where[j]


def _as_float(g: _Graph, name: str, dtype: str) -> str:
    if dtype == "float32":
        return name
    if dtype in ("float64", "double"):
        raise UnsupportedModelError(
            f"Input {name!r} is float64; the ONNX export compares in float32 and would not be "
            "exact. Export to Python or SQL instead.")
    from onnx import TensorProto

    return g.op("Cast", [name], to=TensorProto.FLOAT)


def _ones(g: _Graph, X: str) -> str:
    """A float32 column of ones, shape [N, 1]."""
    from onnx import TensorProto, helper

    n = g.op("Slice", [g.op("Shape", [X]), g.const(np.array([0], np.int64)),
                       g.const(np.array([1], np.int64))])
    shape = g.op("Concat", [n, g.const(np.array([1], np.int64))], axis=0)
    return g.op("ConstantOfShape", [shape],
                value=helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0]))


# -- decision lists (rule sets, boxes) ------------------------------------------------------

def _atoms_matrix(g: _Graph, X: str, atoms: list[Atom],
                  where: dict[int, int] | None) -> tuple[str, list[int]]:
    """0/1 float32 matrix [N, len(atoms)] (columns grouped by operator) and each atom's column."""
    from onnx import TensorProto

    groups: dict[str, list[int]] = {}
    for i, a in enumerate(atoms):
        groups.setdefault(a.op, []).append(i)
    blocks, position, col = [], [0] * len(atoms), 0
    for op in sorted(groups):
        idx = groups[op]
        feats = g.const(np.array([_col(where, atoms[i].feature) for i in idx], np.int64))
        values = g.const(np.array([atoms[i].value for i in idx], np.float32).reshape(1, -1))
        cols = g.op("Gather", [X, feats], axis=1)
        if op == "!=":
            test = g.op("Not", [g.op("Equal", [cols, values])])
        else:
            test = g.op(_OP_NODE[op], [cols, values])
        blocks.append(g.op("Cast", [test], to=TensorProto.FLOAT))
        for i in idx:
            position[i] = col
            col += 1
    return (blocks[0] if len(blocks) == 1 else g.op("Concat", blocks, axis=1)), position


def _linear_columns(g: _Graph, X: str, linears: list[LinearAtom],
                    where: dict[int, int] | None) -> str:
    """0/1 float32 matrix [N, len(linears)]: each oblique test, its sum formed in float64 left
    to right exactly as the surrogate forms it (the float32 inputs widen exactly)."""
    from onnx import TensorProto

    Xd = g.op("Cast", [X], to=TensorProto.DOUBLE)
    cols = []
    for atom in linears:
        total = None
        for j, w in zip(atom.features, atom.weights):
            x = g.op("Gather", [Xd, g.const(np.array([_col(where, j)], np.int64))], axis=1)
            term = g.op("Mul", [g.const(np.array([[w]], np.float64)), x])
            total = term if total is None else g.op("Add", [total, term])
        test = g.op(_OP_NODE[atom.op], [total, g.const(np.array([[atom.value]], np.float64))])
        cols.append(g.op("Cast", [test], to=TensorProto.FLOAT))
    return cols[0] if len(cols) == 1 else g.op("Concat", cols, axis=1)


def _decision_index(g: _Graph, X: str, bodies: list[tuple],
                    where: dict[int, int] | None) -> str:
    """int64 [N]: the first body that holds (len(bodies) when none does)."""
    from onnx import TensorProto

    ones = _ones(g, X)
    atoms: dict[Atom, int] = {}
    mofns: list[tuple[int, list[Atom]]] = []
    linears: dict[LinearAtom, int] = {}
    # Each body: (atoms that must hold, m-of-n indices, impossible?, linear indices)
    plan: list[tuple[list[Atom], list[int], bool, list[int]]] = []
    for body in bodies:
        plain, mine, impossible, lin = [], [], False, []
        for t in body:
            if isinstance(t, LinearAtom):
                lin.append(linears.setdefault(t, len(linears)))
                continue
            if isinstance(t, AtLeast):
                m, kept = t.m, []
                for a in t.atoms:
                    a32 = to_float32(a)
                    if a32 is True:
                        m -= 1
                    elif a32 is not False:
                        kept.append(a32)
                        atoms.setdefault(a32, len(atoms))
                if m <= 0:
                    continue
                if m > len(kept):
                    impossible = True
                    continue
                mine.append(len(mofns))
                mofns.append((m, kept))
                continue
            a32 = to_float32(t)
            if a32 is False:
                impossible = True
            elif a32 is not True:
                plain.append(a32)
                atoms.setdefault(a32, len(atoms))
        plan.append((plain, mine, impossible, lin))
    atom_list = sorted(atoms, key=atoms.get)
    if atom_list:
        A, pos = _atoms_matrix(g, X, atom_list, where)
        col = {a: pos[i] for i, a in enumerate(atom_list)}
    else:
        A, col = None, {}
    parts = [] if A is None else [A]
    n_cols = len(atom_list)
    mofn_col = {}
    if mofns:
        M = np.zeros((len(atom_list), len(mofns)), np.float32)
        need = np.zeros((1, len(mofns)), np.float32)
        for k, (m, kept) in enumerate(mofns):
            for a in kept:
                M[col[a], k] += 1.0  # conditions that round to one test count each
            need[0, k] = m
        counts = g.op("MatMul", [A, g.const(M)])
        held = g.op("Cast", [g.op("GreaterOrEqual", [counts, g.const(need)])],
                    to=TensorProto.FLOAT)
        parts.append(held)
        for k in range(len(mofns)):
            mofn_col[k] = n_cols + k
        n_cols += len(mofns)
    linear_col = {}
    if linears:
        parts.append(_linear_columns(g, X, sorted(linears, key=linears.get), where))
        for k in range(len(linears)):
            linear_col[k] = n_cols + k
        n_cols += len(linears)
    parts.append(ones)  # the always-true column: bodies without tests
    ones_col = n_cols
    n_cols += 1
    full = parts[0] if len(parts) == 1 else g.op("Concat", parts, axis=1)
    B = np.zeros((n_cols, len(bodies)), np.float32)
    need = np.zeros((1, len(bodies)), np.float32)
    for r, (plain, mine, impossible, lin) in enumerate(plan):
        for a in plain:
            B[col[a], r] = 1.0
        for k in mine:
            B[mofn_col[k], r] = 1.0
        for k in set(lin):
            B[linear_col[k], r] = 1.0
        B[ones_col, r] = 1.0
        need[0, r] = (len(set(plain)) + len(mine) + len(set(lin)) + 1
                      + (n_cols + 1 if impossible else 0))
    if bodies:
        hits = g.op("MatMul", [full, g.const(B)])
        holds = g.op("Cast", [g.op("GreaterOrEqual", [hits, g.const(need)])],
                     to=TensorProto.FLOAT)
        table = g.op("Concat", [holds, ones], axis=1)
    else:
        table = ones
    return g.op("ArgMax", [table], axis=1, keepdims=0, select_last_index=0)


# -- additive ------------------------------------------------------------------------------

def _axis(g: _Graph, Xd: str, axis: Any,
          where: dict[int, int] | None) -> tuple[str, str | None, str | None]:
    """Per row: cell int64 [N], local variable u float64 [N, 1] (None = 0), scale [N, 1]."""
    from onnx import TensorProto

    if axis.kind == "onehot":
        block = g.op("Gather", [Xd, g.const(np.array([_col(where, c) for c in axis.columns], np.int64))], axis=1)
        cell = g.op("ArgMax", [block], axis=1, keepdims=1, select_last_index=0)
        scale = g.op("GatherElements", [block, cell], axis=1)
        flat = g.op("Reshape", [cell, g.const(np.array([-1], np.int64))])
        return flat, None, scale
    x = g.op("Gather", [Xd, g.const(np.array([_col(where, axis.columns[0])], np.int64))], axis=1)  # [N, 1]
    edges = np.asarray(axis.edges, np.float64)
    if axis.kind == "spline":
        x = g.op("Max", [x, g.const(np.array(edges[0]))])
        x = g.op("Min", [x, g.const(np.array(edges[-1]))])
        cuts = edges[1:-1]
    else:
        cuts = edges
    if cuts.size:
        below = g.op("Cast", [g.op("Less", [g.const(cuts.reshape(1, -1)), x])],
                     to=TensorProto.INT64)
        cell = g.op("ReduceSum", [below, g.const(np.array([1], np.int64))], keepdims=0)
    else:
        zero = g.op("Mul", [x, g.const(np.array(0.0))])
        cell = g.op("Reshape", [g.op("Cast", [zero], to=TensorProto.INT64),
                                g.const(np.array([-1], np.int64))])
    if axis.kind != "spline":
        return cell, None, None
    start = g.op("Gather", [g.const(edges), cell])                      # [N]
    u = g.op("Sub", [x, g.op("Unsqueeze", [start, g.const(np.array([1], np.int64))])])
    return cell, u, None


def _powers(g: _Graph, u: str | None, degree: int) -> str | None:
    """[N, degree + 1] powers u**0..u**degree (None when the axis has degree 0)."""
    if u is None or degree == 0:
        return None
    return g.op("Pow", [u, g.const(np.arange(degree + 1, dtype=np.float64).reshape(1, -1))])


def _term(g: _Graph, Xd: str, term: Any, ones_d: str, where: dict[int, int] | None) -> str:
    """float64 [N, K]: the term's contribution to every output."""
    coef = np.asarray(term.coef, np.float64)
    k = coef.shape[0]
    if len(term.axes) == 1:
        (a,) = term.axes
        cell, u, scale = _axis(g, Xd, a, where)
        table = np.transpose(coef, (1, 0, 2))                            # (cells, K, P)
        picked = g.op("Gather", [g.const(table), cell], axis=0)          # (N, K, P)
        pw = _powers(g, u, a.degree)
        if pw is None:
            pw = g.op("Mul", [ones_d, g.const(np.ones((1, a.degree + 1)))])
    else:
        a1, a2 = term.axes
        c1, u1, s1 = _axis(g, Xd, a1, where)
        c2, u2, s2 = _axis(g, Xd, a2, where)
        n1, p1, n2, p2 = coef.shape[1:]
        table = np.transpose(coef, (1, 3, 0, 2, 4)).reshape(n1 * n2, k, p1 * p2)
        flat = g.op("Add", [g.op("Mul", [c1, g.const(np.array(n2, np.int64))]), c2])
        picked = g.op("Gather", [g.const(table), flat], axis=0)          # (N, K, P1*P2)
        w1 = _powers(g, u1, a1.degree) or g.op("Mul", [ones_d, g.const(np.ones((1, p1)))])
        w2 = _powers(g, u2, a2.degree) or g.op("Mul", [ones_d, g.const(np.ones((1, p2)))])
        outer = g.op("Mul", [g.op("Unsqueeze", [w1, g.const(np.array([2], np.int64))]),
                             g.op("Unsqueeze", [w2, g.const(np.array([1], np.int64))])])
        pw = g.op("Reshape", [outer, g.const(np.array([0, p1 * p2], np.int64))])
        scale = None
        if s1 is not None and s2 is not None:
            scale = g.op("Mul", [s1, s2])
        else:
            scale = s1 or s2
    pw3 = g.op("Unsqueeze", [pw, g.const(np.array([1], np.int64))])      # (N, 1, P)
    value = g.op("ReduceSum", [g.op("Mul", [picked, pw3]), g.const(np.array([2], np.int64))],
                 keepdims=0)                                             # (N, K)
    return value if scale is None else g.op("Mul", [value, scale])


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
        if kind == "tree":
            from nnrules.io.export._onnx_tree import _tree_classifier, _tree_leaf
        if kind == "tree" and labels is not None:
            _tree_classifier(g, X, surrogate, where, width, labels, scores)
            outputs += _label_outputs(labels, scores)
        elif kind == "tree":
            leaves = [int(v) for v in surrogate.leaves()]
            leaf = _tree_leaf(g, X, surrogate, where, width, list(range(len(leaves))))
            flat = g.op("Reshape", [leaf, g.const(np.array([-1], np.int64))])
            index = g.op("Cast", [flat], to=TensorProto.INT64)
            table_out = [float(v) for v in leaf_outputs(surrogate)[leaves]]
        else:
            index = _decision_index(g, X, dl.bodies, where)
            table_out = list(dl.outputs) + [dl.default]
        if kind == "tree" and labels is not None:
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
            outputs += _label_outputs(labels, False)
    inputs = [helper.make_tensor_value_info(
        s.name, TensorProto.STRING if s.dtype == "str" else
        helper.np_dtype_to_tensor_dtype(np.dtype(s.dtype)), [None, s.width]) for s in specs]
    graph = helper.make_graph(g.nodes, "nnrules_surrogate", inputs, outputs, g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET),
                                                    helper.make_opsetid("ai.onnx.ml", ML_OPSET)],
                              producer_name="nnrules", doc_string=(
                                  f"nnrules {kind} surrogate; exact float32 threshold semantics "
                                  "(see nnrules docs/formats.md)."))
    model.ir_version = IR_VERSION
    meta["threshold_semantics"] = ("float64 surrogate thresholds rounded toward the side that "
                                   "keeps every float32 input's answer exact")
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
