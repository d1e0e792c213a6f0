"""Additive models in the ONNX export: each term's contribution in float64 from standard
operators (``Gather`` of the cell's coefficients, ``Pow``, ``ReduceSum``).

Split out of :mod:`nnrules.io.export.onnx`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nnrules.io.export._onnx_graph import _col, _Graph

__all__: list[str] = []


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
