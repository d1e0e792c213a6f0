"""The pieces of an additive surrogate: an :class:`Axis` (one input direction, cut into cells)
and a :class:`Term` (an exact piecewise polynomial over one or two axes).

See :mod:`nnrules.surrogates.additive` for the model and the meaning of cells and
coefficients; both classes are re-exported there. No network code lives here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nnrules.exceptions import ParameterError

__all__ = ["AXIS_KINDS", "Axis", "Term"]

AXIS_KINDS = ("spline", "steps", "onehot")


def _fmt(v: float) -> str:
    from nnrules.schema import format_number

    return format_number(float(v))


def _unevaluated(op):
    """``op(*args)`` without sympy's simplification (a single argument is returned as is)."""
    def build(*args):
        return args[0] if len(args) == 1 else op(*args, evaluate=False)
    return build


@dataclass(frozen=True)
class Axis:
    """One input direction of a term.

    Parameters
    ----------
    kind : {"spline", "steps", "onehot"}
    columns : tuple of int
        One column ("spline", "steps") or a one-hot group's columns in cell order ("onehot").
    edges : tuple of float
        "spline": the breakpoints ``t_0..t_m``; "steps": the interior cuts; "onehot": ().
    degree : int
        Polynomial degree inside a cell (0 for "steps" and "onehot").
    """

    kind: str
    columns: tuple[int, ...]
    edges: tuple[float, ...]
    degree: int = 0

    def __post_init__(self) -> None:
        if self.kind not in AXIS_KINDS:
            raise ParameterError(f"Axis kind must be one of {list(AXIS_KINDS)}; got {self.kind!r}.")
        object.__setattr__(self, "columns", tuple(int(c) for c in self.columns))
        object.__setattr__(self, "edges", tuple(float(e) for e in self.edges))
        e = np.asarray(self.edges)
        if e.size > 1 and not np.all(np.diff(e) > 0):
            raise ParameterError(f"Axis edges must increase strictly; got {list(self.edges)}.")
        if self.kind == "spline" and (len(self.edges) < 2 or len(self.columns) != 1):
            raise ParameterError("A spline axis needs one column and at least two breakpoints.")
        if self.kind == "steps" and len(self.columns) != 1:
            raise ParameterError("A steps axis needs exactly one column.")
        if self.kind == "onehot" and (len(self.columns) < 1 or self.edges):
            raise ParameterError("A one-hot axis needs its group's columns and no edges.")
        if self.kind != "spline" and self.degree != 0:
            raise ParameterError(f"A {self.kind} axis has degree 0; got {self.degree}.")

    @property
    def n_cells(self) -> int:
        if self.kind == "spline":
            return len(self.edges) - 1
        if self.kind == "steps":
            return len(self.edges) + 1
        return len(self.columns)

    def locate(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per row: the cell index, the local variable ``u`` and a scale (the hot value)."""
        n = X.shape[0]
        if self.kind == "onehot":
            block = X[:, list(self.columns)]
            cell = np.argmax(block, axis=1)
            return cell, np.zeros(n), block[np.arange(n), cell]
        x = X[:, self.columns[0]]
        if self.kind == "steps":
            return np.searchsorted(np.asarray(self.edges), x, side="left"), np.zeros(n), np.ones(n)
        t = np.asarray(self.edges)
        xc = np.clip(x, t[0], t[-1])
        cell = np.searchsorted(t[1:-1], xc, side="left")
        return cell, xc - t[cell], np.ones(n)

    def cell_text(self, j: int, names: Sequence[str]) -> str:
        """Where cell ``j`` lies, in words."""
        if self.kind == "onehot":
            return names[self.columns[j]]
        name = names[self.columns[0]]
        e = self.edges
        if self.kind == "spline":
            return f"{_fmt(e[j])} <= {name} <= {_fmt(e[j + 1])}"
        if len(e) == 0:
            return f"any {name}"
        if j == 0:
            return f"{name} <= {_fmt(e[0])}"
        if j == len(e):
            return f"{name} > {_fmt(e[-1])}"
        return f"{_fmt(e[j - 1])} < {name} <= {_fmt(e[j])}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "columns": list(self.columns), "edges": list(self.edges),
                "degree": int(self.degree)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Axis:
        return cls(d["kind"], tuple(d["columns"]), tuple(d["edges"]), int(d.get("degree", 0)))


@dataclass(frozen=True, eq=False)
class Term:
    """A shape function over one or two axes.

    Parameters
    ----------
    axes : tuple of Axis (length 1 or 2)
    coef : ndarray of shape (n_outputs, cells_1, degree_1 + 1[, cells_2, degree_2 + 1])
    importance : float
        Spread (standard deviation on the extraction rows, averaged over outputs).
    density : tuple of (edges, counts) per axis
        Histogram of the extraction rows along each axis (for plots): for spline axes
        ``edges`` are bin edges, for the others ``edges`` is () and ``counts`` has one entry per
        cell.
    """

    axes: tuple[Axis, ...]
    coef: np.ndarray
    importance: float = 0.0
    density: tuple = ()

    def __post_init__(self) -> None:
        coef = np.asarray(self.coef, dtype=np.float64)
        if len(self.axes) not in (1, 2):
            raise ParameterError(f"A term has one or two axes; got {len(self.axes)}.")
        shape = tuple(s for a in self.axes for s in (a.n_cells, a.degree + 1))
        if coef.ndim != 1 + len(shape) or coef.shape[1:] != shape:
            raise ParameterError(
                f"Term coefficients must have shape (n_outputs, {', '.join(map(str, shape))}); "
                f"got {coef.shape}.")
        object.__setattr__(self, "coef", coef)

    @property
    def columns(self) -> tuple[int, ...]:
        return tuple(c for a in self.axes for c in a.columns)

    def values(self, X: np.ndarray) -> np.ndarray:
        """The term's contribution per row and output, shape (n_samples, n_outputs)."""
        parts = [a.locate(X) for a in self.axes]
        if len(parts) == 1:
            (cell, u, s), = parts
            powers = u[:, None] ** np.arange(self.axes[0].degree + 1)
            c = self.coef[:, cell, :]                                   # (k, n, p)
            return np.einsum("knp,np->nk", c, powers) * s[:, None]
        (c1, u1, s1), (c2, u2, s2) = parts
        p1 = u1[:, None] ** np.arange(self.axes[0].degree + 1)
        p2 = u2[:, None] ** np.arange(self.axes[1].degree + 1)
        c = self.coef[:, c1, :, c2, :]                                  # (n, k, p1, p2)
        return np.einsum("nkab,na,nb->nk", c, p1, p2) * (s1 * s2)[:, None]

    def _expr(self, axes, C, syms):
        # Built unevaluated: sympy's automatic simplification and assumption checks cost
        # seconds on a 30-feature model and change nothing in the value.
        import sympy

        if not axes:
            return sympy.Float(float(C), 17)
        axis, rest = axes[0], axes[1:]
        add = _unevaluated(sympy.Add)
        mul = _unevaluated(sympy.Mul)

        def le(x, v):
            return sympy.Le(x, sympy.Float(v, 17), evaluate=False)

        if axis.kind == "onehot":
            return add(*[mul(syms[col], self._expr(rest, C[j, 0], syms))
                         for j, col in enumerate(axis.columns)])
        x = syms[axis.columns[0]]
        if axis.kind == "steps":
            pieces = [(self._expr(rest, C[j, 0], syms), le(x, e))
                      for j, e in enumerate(axis.edges)]
            return sympy.Piecewise(*pieces, (self._expr(rest, C[len(axis.edges), 0], syms),
                                             sympy.true), evaluate=False)
        t = axis.edges
        m = len(t) - 1

        def poly(j, u):
            return add(*[self._expr(rest, C[j, 0], syms)] + [
                mul(self._expr(rest, C[j, a], syms),
                    u if a == 1 else sympy.Pow(u, a, evaluate=False))
                for a in range(1, axis.degree + 1)])

        below = sympy.Lt(x, sympy.Float(t[0], 17), evaluate=False)
        pieces = [(self._expr(rest, C[0, 0], syms), below)]
        pieces += [(poly(j, sympy.Add(x, sympy.Float(-t[j], 17), evaluate=False)),
                    le(x, t[j + 1])) for j in range(m)]
        pieces.append((poly(m - 1, sympy.Float(t[m] - t[m - 1], 17)), sympy.true))
        return sympy.Piecewise(*pieces, evaluate=False)

    def to_sympy(self, syms, output: int = 0):
        """The exact term for ``output`` as a sympy expression in ``syms``."""
        return self._expr(self.axes, self.coef[output], syms)

    def to_dict(self) -> dict[str, Any]:
        return {"axes": [a.to_dict() for a in self.axes],
                "coef": [float(v) for v in self.coef.ravel()],
                "n_outputs": int(self.coef.shape[0]),
                "importance": float(self.importance),
                "density": [{"edges": [float(e) for e in edges], "counts": [int(c) for c in counts]}
                            for edges, counts in self.density]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Term:
        axes = tuple(Axis.from_dict(a) for a in d["axes"])
        shape = (int(d["n_outputs"]),) + tuple(s for a in axes for s in (a.n_cells, a.degree + 1))
        coef = np.asarray(d["coef"], dtype=np.float64).reshape(shape)
        density = tuple((tuple(float(e) for e in h["edges"]), tuple(int(c) for c in h["counts"]))
                        for h in d.get("density", []))
        return cls(axes, coef, float(d.get("importance", 0.0)), density)
