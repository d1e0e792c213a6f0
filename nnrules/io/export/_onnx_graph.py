"""The ONNX export's graph builder and input side: ``_Graph`` (unique names, constants as
initializers, nodes in order), ``InputSpec`` and the feature matrix the tests read (float32;
float64 when the model reads float64).

Split out of :mod:`nnrules.io.export.onnx` (which re-exports ``InputSpec``); the kinds' parts
are :mod:`~nnrules.io.export._onnx_rules`, :mod:`~nnrules.io.export._onnx_tree` and
:mod:`~nnrules.io.export._onnx_additive`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from nnrules.exceptions import UnsupportedModelError
from nnrules.io.export._ir import AtLeast, LinearAtom, decision_list, kind_of

__all__ = ["InputSpec"]


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
        self.double = False  # the feature matrix is float64 (a float64 model input)

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
    reads none, one column of zeros stands in. When any input is float64 the matrix is float64
    (``g.double``; the other columns widen exactly) and the tests compare the surrogate's own
    float64 thresholds: a float64 row is never rounded.
    """
    g.double = any(s.dtype in ("float64", "double") for s in specs)
    if len(specs) == 1 and specs[0].width == schema.n_features and specs[0].dtype != "str":
        return _as_float(g, specs[0].name, specs[0].dtype), None
    if len(specs) != schema.n_features or any(s.width != 1 for s in specs):
        raise UnsupportedModelError(
            f"The model's inputs {[(s.name, s.width) for s in specs]} do not map one to one onto "
            f"the surrogate's {schema.n_features} features; export reads one [N, "
            f"{schema.n_features}] input or one [N, 1] input per feature.")
    from onnx import TensorProto

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
            code = g.op("LabelEncoder", [spec.name], domain="ai.onnx.ml",
                        keys_strings=list(f.categories),
                        values_floats=[float(i) for i in range(len(f.categories))],
                        default_float=-1.0)
            cols.append(g.op("Cast", [code], to=TensorProto.DOUBLE) if g.double else code)
        else:
            cols.append(_as_float(g, spec.name, spec.dtype))
    if not cols:
        from onnx import helper

        first = specs[0].name
        n = g.op("Slice", [g.op("Shape", [first]), g.const(np.array([0], np.int64)),
                           g.const(np.array([1], np.int64))])
        shape = g.op("Concat", [n, g.const(np.array([1], np.int64))], axis=0)
        cols.append(g.op("ConstantOfShape", [shape], value=helper.make_tensor(
            "zero", TensorProto.DOUBLE if g.double else TensorProto.FLOAT, [1], [0.0])))
    return (cols[0] if len(cols) == 1 else g.op("Concat", cols, axis=1)), where


def _col(where: dict[int, int] | None, j: int) -> int:
    """Column of schema feature ``j`` in the matrix :func:`_features` built."""
    return j if where is None else where[j]


def _as_float(g: _Graph, name: str, dtype: str) -> str:
    """The input as a column of the feature matrix: float64 when ``g.double``, else float32."""
    from onnx import TensorProto

    if g.double:
        return name if dtype in ("float64", "double") else g.op("Cast", [name],
                                                                  to=TensorProto.DOUBLE)
    if dtype == "float32":
        return name
    return g.op("Cast", [name], to=TensorProto.FLOAT)


def _ones(g: _Graph, X: str) -> str:
    """A float32 column of ones, shape [N, 1]."""
    from onnx import TensorProto, helper

    n = g.op("Slice", [g.op("Shape", [X]), g.const(np.array([0], np.int64)),
                       g.const(np.array([1], np.int64))])
    shape = g.op("Concat", [n, g.const(np.array([1], np.int64))], axis=0)
    return g.op("ConstantOfShape", [shape],
                value=helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0]))
