"""A generalised additive surrogate: ``F(x) = b + Σ h_i(x_i) + Σ h_ij(x_i, x_j)``.

Every term is an exact piecewise polynomial over one or two *axes*:

* ``"spline"`` (a continuous column): breakpoints ``t_0 < ... < t_m`` split the column into
  ``m`` cells; cell ``j`` covers ``(t_j, t_{j+1}]`` (the first also everything below ``t_1``).
  Inside the cell the term is a polynomial of degree ``degree`` in the local variable
  ``u = clip(x, t_0, t_m) - t_j``; outside ``[t_0, t_m]`` the term keeps its boundary value.
* ``"steps"`` (integer, binary, categorical codes, or a column with few values): interior cuts
  ``c_1 < ... < c_{m-1}``; cell ``j`` holds the rows with ``c_j < x <= c_{j+1}``; a constant per
  cell (degree 0).
* ``"onehot"`` (a one-hot group): one cell per column; the term is ``Σ_j v_j x_{c_j}``, which on
  a valid one-hot row is the hot category's value.

A term's coefficients have shape ``(n_outputs, cells_1, powers_1[, cells_2, powers_2])``: the
polynomial of output ``k`` on cell ``(j1, j2)`` is ``Σ_a Σ_b C[k, j1, a, j2, b] u^a v^b``.
Outputs: one regression value (``output="value"``), the logit of the second class of a binary
task (``"logit"``: positive means ``classes[1]``), or one score per class (``"logits"``: the
largest wins). Terms are centred on the extraction rows, so each ``h`` has mean 0 there and
the intercept carries the mean score. No network code lives here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from nnrules.exceptions import FormatError, ParameterError
from nnrules.surrogates.additive_terms import AXIS_KINDS, Axis, Term  # noqa: F401 (re-exported)
from nnrules.surrogates.base import (
    TableSurrogate,
    annotations_from_dict,
    annotations_to_dict,
    check_header,
    plain,
    schema_from_dict,
    schema_to_dict,
)
from nnrules.surrogates.rules import symbol_names

if TYPE_CHECKING:
    from nnrules.schema import FeatureSchema

__all__ = ["AdditiveSurrogate", "Axis", "Term"]

OUTPUTS = ("value", "logit", "logits")


def _fmt(v: float) -> str:
    from nnrules.schema import format_number

    return format_number(float(v))


class AdditiveSurrogate(TableSurrogate):
    """``b + Σ h_i(x_i) [+ Σ h_ij(x_i, x_j)]``: one score per output.

    Parameters
    ----------
    intercept : array-like of shape (n_outputs,)
    terms : sequence of Term
    output : {"value", "logit", "logits"}
        What the scores are (see the module docstring).
    classes : tuple or None
        Class labels (classification).
    schema : FeatureSchema or None
    task : {"classification", "regression"}
    n_features : int or None
        Columns of X (default: the schema's).

    Examples
    --------
    >>> import numpy as np
    >>> axis = Axis("steps", (0,), (0.5,))
    >>> term = Term((axis,), np.array([[[-1.0], [1.0]]]))
    >>> s = AdditiveSurrogate([0.25], [term], output="logit", classes=("no", "yes"),
    ...                       task="classification", n_features=1)
    >>> s.predict(np.array([[0.0], [1.0]])).tolist()
    ['no', 'yes']
    """

    FORMAT = "nnrules/additive"
    VERSION = 2  # 2: version 1 plus the optional local_fidelity and reason_stats

    def __init__(self, intercept, terms: Sequence[Term], *,
                 output: Literal["value", "logit", "logits"] = "value",
                 classes: tuple | None = None, schema: FeatureSchema | None = None,
                 task: Literal["classification", "regression"] = "regression",
                 n_features: int | None = None) -> None:
        self.intercept = np.asarray(intercept, dtype=np.float64).reshape(-1)
        self.terms = tuple(terms)
        if output not in OUTPUTS:
            raise ParameterError(f"output must be one of {list(OUTPUTS)}; got {output!r}.")
        if task not in ("classification", "regression"):
            raise ParameterError(f"task must be 'classification' or 'regression'; got {task!r}.")
        k = self.intercept.size
        for t in self.terms:
            if t.coef.shape[0] != k:
                raise ParameterError(
                    f"Every term needs {k} output(s) like the intercept; got {t.coef.shape[0]}.")
        if (output == "logits") != (task == "classification" and k > 1) or \
                (output == "logit" and (task != "classification" or k != 1)):
            raise ParameterError(
                f"output {output!r} does not fit task {task!r} with {k} output(s): use 'value' "
                "for regression, 'logit' (1 output) or 'logits' (one per class) for classes.")
        self.output, self.task, self.schema = output, task, schema
        if task == "classification" and classes is None:
            classes = tuple(range(2 if output == "logit" else k))
        self.classes = None if classes is None else tuple(plain(c) for c in classes)
        if output == "logits" and len(self.classes) != k:
            raise ParameterError(f"{k} class scores but {len(self.classes)} classes.")
        used = max((c for t in self.terms for c in t.columns), default=-1) + 1
        self.n_features = int(n_features if n_features is not None else
                              schema.n_features if schema is not None else used)

    # -- scores and predictions ----------------------------------------------------------
    def _check_X(self, X) -> np.ndarray:
        X = self._rows(X)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ParameterError(
                f"Expected rows of {self.n_features} features, shape (n, {self.n_features}); "
                f"got shape {X.shape}.")
        return X

    def term_values(self, X) -> np.ndarray:
        """Every term's contribution, shape (n_samples, n_terms, n_outputs)."""
        X = self._check_X(X)
        if not self.terms:
            return np.zeros((X.shape[0], 0, self.intercept.size))
        return np.stack([t.values(X) for t in self.terms], axis=1)

    def decision_function(self, X) -> np.ndarray:
        """The scores ``b + Σ h``: shape (n_samples,) for one output, else (n_samples, k)."""
        out = self.intercept + self.term_values(X).sum(axis=1)
        return out[:, 0] if out.shape[1] == 1 else out

    def predict_index(self, X) -> np.ndarray:
        """Class index (classification) or value (regression) per row."""
        f = self.decision_function(X)
        if self.output == "value":
            return f
        if self.output == "logit":
            return (f > 0).astype(np.int64)
        return np.argmax(f, axis=1)

    def predict(self, X) -> np.ndarray:
        """Labels (``classes`` values) or values, shape (n_samples,)."""
        out = self.predict_index(X)
        if self.task == "regression":
            return out
        labels = np.asarray(self.classes, dtype=object if any(
            isinstance(c, str) for c in self.classes) else None)
        return labels[out]

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities from the distilled logits (sigmoid / softmax)."""
        if self.task != "classification":
            raise ParameterError("predict_proba needs a classification model; this is regression.")
        f = self.decision_function(X)
        if self.output == "logit":
            p = 0.5 * (1.0 + np.tanh(0.5 * f))
            return np.column_stack([1.0 - p, p])
        z = np.exp(f - f.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)

    def _decisive(self, X) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Contributions (n, n_terms), intercepts (n,) and scores (n,) of the deciding output."""
        tv = self.term_values(X)
        if self.output == "logits":
            k = self.predict_index(X)
            rows = np.arange(tv.shape[0])
            return tv[rows, :, k], self.intercept[k], (self.intercept + tv.sum(axis=1))[rows, k]
        return tv[:, :, 0], np.full(tv.shape[0], self.intercept[0]), \
            self.intercept[0] + tv[:, :, 0].sum(axis=1)

    def explain(self, X) -> np.ndarray:
        """Each term's contribution to the deciding score, shape (n_samples, n_terms)
        (regression: the value; binary: the logit; multiclass: the predicted class's score)."""
        return self._decisive(X)[0]

    def reasons(self, X, top: int = 3, *, k: int | None = None) -> list[str] | list[dict]:
        """Per row: the score, the ``top`` largest contributions by size, and the output.

        With ``k`` (1..10): the principal reasons instead, as dicts (prediction, up to ``k``
        reasons with signed contributions, the region's local fidelity); see
        :func:`nnrules.surrogates.reasons.reasons`.
        """
        if k is not None:
            from nnrules.surrogates.reasons import reasons

            return reasons(self, X, k)
        X = self._check_X(X)
        contrib, base, score = self._decisive(X)
        out = self.predict(X)
        names = self.term_names()
        lines = []
        for i in range(X.shape[0]):
            order = np.argsort(-np.abs(contrib[i]), kind="stable")[:top]
            parts = [f"{contrib[i, j]:+.4g} {names[j]}" for j in order]
            rest = contrib[i].sum() - contrib[i, order].sum()
            if len(names) > top:
                parts.append(f"{rest:+.4g} other terms")
            what = "score" if self.output != "value" else "value"
            shown = f"{float(out[i]):.6g}" if self.task == "regression" else plain(out[i])
            lines.append(f"{what} {score[i]:.4g} = {base[i]:.4g} (intercept) "
                         f"{' '.join(parts)} -> {shown}")
        return lines

    # -- descriptions --------------------------------------------------------------------
    def _names(self) -> tuple[str, ...]:
        if self.schema is not None:
            return self.schema.names
        return tuple(f"x{j}" for j in range(self.n_features))

    def term_names(self) -> list[str]:
        """``"age"``, ``"color"`` (one-hot group), ``"age x income"`` (pairs)."""
        names = self._names()
        out = []
        for t in self.terms:
            parts = []
            for a in t.axes:
                if a.kind == "onehot":
                    f = self.schema.features[a.columns[0]] if self.schema is not None else None
                    parts.append(f.group if f is not None and f.group else
                                 "{" + ",".join(names[c] for c in a.columns) + "}")
                else:
                    parts.append(names[a.columns[0]])
            out.append(" x ".join(parts))
        return out

    def importances(self) -> dict[str, float]:
        """Term name -> spread of its shape function on the extraction rows, largest first."""
        pairs = sorted(zip(self.term_names(), (t.importance for t in self.terms)),
                       key=lambda p: (-p[1], p[0]))
        return {n: float(v) for n, v in pairs}

    def symbols(self):
        """Sympy symbols, one per feature (see :func:`nnrules.surrogates.rules.symbol_names`)."""
        import sympy

        return tuple(sympy.Symbol(n, real=True)
                     for n in symbol_names(self.schema, self.n_features))

    def to_sympy(self):
        """The exact model: regression and binary tasks give one ``Expr`` (the value, or the
        logit of ``classes[1]`` whose sign decides); multiclass gives ``dict[label, Expr]`` of
        class scores whose largest decides. Terms are ``Piecewise`` polynomials."""
        import sympy

        syms = self.symbols()

        def score(k):
            return sympy.Add(sympy.Float(float(self.intercept[k]), 17),
                             *[t.to_sympy(syms, k) for t in self.terms], evaluate=False)

        if self.output == "logits":
            return {c: score(k) for k, c in enumerate(self.classes)}
        return score(0)

    def _score_name(self, k: int) -> str:
        if self.output == "value":
            return "value"
        if self.output == "logit":
            first, second = self.classes
            return f"logit of {second!r} vs {first!r} (> 0 means {second!r})"
        return f"score of class {self.classes[k]!r} (the largest score wins)"

    def to_text(self, tolerance: float | None = None) -> str:
        """The model as a person reads it: the intercept and the link, then per feature (largest
        spread first) a short table of value ranges and their effect, adjacent ranges merged
        while the effect varies by at most ``tolerance`` (default: 10% of the largest spread).
        See ``nnrules.surrogates.additive_text``; ``knots_text`` gives every knot."""
        from nnrules.surrogates.additive_text import additive_text

        return additive_text(self, tolerance)

    def knots_text(self) -> str:
        """The intercept, then every shape function (largest spread first) as values per cell:
        spline terms at their breakpoints (a degree-d polynomial in between), step and one-hot
        terms per cell, pair terms as a grid."""
        names = self._names()
        term_names = self.term_names()
        order = sorted(range(len(self.terms)), key=lambda i: (-self.terms[i].importance, i))
        lines = []
        for k in range(self.intercept.size):
            lines.append(f"{self._score_name(k)} = {_fmt(self.intercept[k])} + sum of "
                         f"{len(self.terms)} shape functions:")
            for i in order:
                t = self.terms[i]
                lines.append(f"  h({term_names[i]})  [spread {t.importance:.4g}]")
                lines += ["    " + s for s in self._term_lines(t, k, names)]
        return "\n".join(lines)

    def _term_lines(self, t: Term, k: int, names) -> list[str]:
        if len(t.axes) == 1:
            a = t.axes[0]
            if a.kind == "spline":
                grid = np.asarray(a.edges)
                X = np.zeros((grid.size, self.n_features))
                X[:, a.columns[0]] = grid
                v = t.values(X)[:, k]
                pts = ", ".join(f"{_fmt(g)}: {_fmt(round(float(y), 6))}" for g, y in zip(grid, v))
                return [f"degree-{a.degree} spline in {names[a.columns[0]]}; at the knots {pts}"]
            return [f"{a.cell_text(j, names)}: {_fmt(round(float(t.coef[k, j, 0]), 6))}"
                    for j in range(a.n_cells)]
        a1, a2 = t.axes
        out = [f"pair term on {a1.n_cells} x {a2.n_cells} cells "
               "(value at each cell's lower corner):"]
        for j1 in range(a1.n_cells):
            vals = [_fmt(round(float(t.coef[k, j1, 0, j2, 0]), 4)) for j2 in range(a2.n_cells)]
            out.append(f"{a1.cell_text(j1, names)}: " + " | ".join(vals))
        return out

    def complexity(self) -> dict[str, int]:
        """terms, main and pair terms, features used, cells (polynomial pieces) and
        coefficients."""
        pairs = sum(len(t.axes) == 2 for t in self.terms)
        cells = sum(math.prod(a.n_cells for a in t.axes) for t in self.terms)
        return {"terms": len(self.terms), "main_terms": len(self.terms) - pairs,
                "pair_terms": pairs,
                "features": len({c for t in self.terms for c in t.columns}),
                "pieces": int(cells),
                "parameters": int(sum(t.coef.size for t in self.terms) + self.intercept.size)}

    def report_details(self, X, reference) -> dict[str, Any]:
        """Spread of each term (ranked) for the fidelity report."""
        imp = self.importances()
        ranked = [f"{n} ({v:.3g})" for n, v in imp.items()]
        return {"importance_ranking": ", ".join(ranked[:10]) + (" ..." if len(ranked) > 10 else "")}

    def write_artifacts(self, folder, *, plots: Any = "important") -> list[str]:
        """PNG plots of the shape functions and the importance chart (``[plot]`` extra);
        nothing when matplotlib is missing. ``plots``: "important" (the terms that matter),
        "all", or a count (see ``additive_plot.important_terms``). Returns the file names
        written."""
        from nnrules.surrogates.additive_plot import write_plots

        return write_plots(self, folder, terms=plots)

    # -- files ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.FORMAT,
            "version": self.VERSION,
            "task": self.task,
            "output": self.output,
            "classes": None if self.classes is None else list(self.classes),
            "n_features": self.n_features,
            "intercept": [float(v) for v in self.intercept],
            "terms": [t.to_dict() for t in self.terms],
            "schema": schema_to_dict(self.schema),
            **annotations_to_dict(self),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AdditiveSurrogate:
        check_header(d, cls)
        from nnrules.surrogates.structure import check_additive

        try:
            schema = schema_from_dict(d)
            model = annotations_from_dict(cls(
                d["intercept"], [Term.from_dict(t) for t in d["terms"]], output=d["output"],
                classes=None if d.get("classes") is None else tuple(d["classes"]),
                schema=schema, task=d["task"], n_features=d.get("n_features")), d)
        except (KeyError, TypeError, ValueError, OverflowError) as e:
            raise FormatError(f"Malformed {cls.FORMAT} file: {e!r}. Re-create it with "
                              "nnrules extract.") from e
        return check_additive(model)

    def __repr__(self) -> str:
        return (f"AdditiveSurrogate(n_terms={len(self.terms)}, output={self.output!r}, "
                f"task={self.task!r})")
