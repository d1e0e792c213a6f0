"""An additive model as a person reads it: per feature, a short table of ranges and effects.

Each main term is read off as a piecewise-constant summary: the term is evaluated on a fine grid
(every knot and cut, and points between them), and adjacent pieces are merged while the effect
within the merged range varies by at most ``tolerance`` (default: 10% of the largest term's
spread, raised for a term that would need more than ``MAX_ROWS`` ranges). Each range shows its mean effect and, for classifiers, which class a positive effect
favours. Categories of a one-hot or categorical feature are grouped when their effects lie
within the tolerance. Terms come largest spread first; the intercept and the link (how the
score becomes a prediction) are stated at the top. Pair terms are summarised by their spread
(their full grid is in ``AdditiveSurrogate.knots_text``).

Example output (German credit)::

    logit of 'bad' vs 'good' = -0.42 + the effects below (> 0 toward 'bad', < 0 toward 'good');
    P('bad') = 1 / (1 + exp(-logit)).

    1. credit_amount (spread 0.31)
         250–4,000       -0.12  (toward 'good')
         4,000–8,000     +0.31  (toward 'bad')
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from nnrules.surrogates.additive import AdditiveSurrogate, Term

__all__ = ["additive_text", "effect_ranges", "rounded_text"]

GRID = 24  # points per spline cell when reading a shape
MAX_ROWS = 8  # ranges per feature at most (the tolerance grows for steady trends)


def rounded_text(v: float) -> str:
    """``4,000`` / ``37`` / ``0.25`` / ``-1.5e+06``: thousands separated, at most 4 significant
    digits below 1,000 (rounded for reading ranges; not ``rules.number_text`` nor
    ``schema.format_number``, which keep the stored value)."""
    v = float(v)
    if not np.isfinite(v):
        return str(v)
    if abs(v) >= 1e7:
        return f"{v:.3g}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    text = f"{v:.4g}"
    return "0" if text == "-0" else text


def _effect(v: float) -> str:
    return f"{v:+7.2f}"


def _unit(schema: Any, column: int) -> str:
    unit = schema.unit(column) if schema is not None and hasattr(schema, "unit") else None
    return f" {unit}" if unit else ""


def _term_name(model: AdditiveSurrogate, t: Term, default: str) -> str:
    """A main term's display name from the schema's labels (``checking account``)."""
    schema = model.schema
    if schema is None or len(t.axes) != 1 or not getattr(schema, "labels", None):
        return default
    return schema.display_name(t.axes[0].columns[0])


def effect_ranges(y: np.ndarray, tolerance: float) -> list[tuple[int, int, float]]:
    """Merge a sampled shape ``y`` (in order along its feature) into runs whose effect varies by
    at most ``tolerance``: ``[(first index, last index, mean effect), ...]``, consecutive and
    covering every sample."""
    out: list[tuple[int, int, float]] = []
    start = 0
    lo = hi = y[0]
    for i in range(1, len(y)):
        nlo, nhi = min(lo, y[i]), max(hi, y[i])
        if nhi - nlo > tolerance:
            out.append((start, i - 1, float(np.mean(y[start:i]))))
            start, lo, hi = i, y[i], y[i]
        else:
            lo, hi = nlo, nhi
    out.append((start, len(y) - 1, float(np.mean(y[start:]))))
    return out


def _runs(y: np.ndarray, tolerance: float) -> list[tuple[int, int, float]]:
    """``effect_ranges`` with the tolerance raised (x1.5 at a time) until at most ``MAX_ROWS``
    runs remain: a steady trend is read in a few steps, not dozens."""
    tol = max(tolerance, 1e-12)
    runs = effect_ranges(y, tol)
    while len(runs) > MAX_ROWS:
        tol *= 1.5
        runs = effect_ranges(y, tol)
    return runs


def _direction(model: AdditiveSurrogate, k: int, v: float) -> str:
    if model.output == "value" or abs(v) < 0.005:
        return ""
    if model.output == "logit":
        first, second = model.classes
        return f"  (toward {second!r})" if v > 0 else f"  (toward {first!r})"
    return f"  ({'raises' if v > 0 else 'lowers'} {model.classes[k]!r})"


def _main_term_rows(model: AdditiveSurrogate, t: Term, k: int, names, tol: float) -> list[str]:
    a = t.axes[0]
    schema = model.schema
    if a.kind == "onehot":
        values = t.coef[k, :, 0]
        labels = [_category_label(schema, c, names) for c in a.columns]
        return _grouped(model, k, labels, values, tol)
    col = a.columns[0]
    f = schema.features[col] if schema is not None else None
    if f is not None and f.kind == "categorical" and f.categories:
        codes = np.arange(len(f.categories), dtype=float)
        X = np.zeros((codes.size, model.n_features))
        X[:, col] = codes
        labels = [_code_label(schema, col, c) for c in f.categories]
        return _grouped(model, k, labels, t.values(X)[:, k], tol)
    integer = f is not None and f.kind in ("integer", "binary")
    if a.kind == "steps":
        cuts = np.asarray(a.edges, dtype=float)
        if not cuts.size:
            return _rows(model, k, [("any value", float(t.coef[k, 0, 0]))], "")
        reps = np.concatenate([[cuts[0] - 1], (cuts[:-1] + cuts[1:]) / 2, [cuts[-1] + 1]])
        X = np.zeros((reps.size, model.n_features))
        X[:, col] = reps
        y = t.values(X)[:, k]
        lower = f.lower if f is not None else -np.inf
        upper = f.upper if f is not None else np.inf
        bounds = [lower, *cuts, upper]  # cell j is (bounds[j], bounds[j + 1]], the first closed
        rows = [(_range_text(bounds[i0], bounds[i1 + 1], integer=integer, closed=i0 == 0), e)
                for i0, i1, e in _runs(y, tol)]
        return _rows(model, k, rows, _unit(schema, col))
    # spline: sample every cell; below the first knot and above the last the term is constant
    e = np.asarray(a.edges, dtype=float)
    x = np.unique(np.concatenate([np.linspace(e[j], e[j + 1], GRID) for j in range(e.size - 1)]))
    X = np.zeros((x.size, model.n_features))
    X[:, col] = x
    runs = _runs(t.values(X)[:, k], tol)
    rows = []
    for n, (i0, i1, v) in enumerate(runs):
        lo = x[i0] if n else -np.inf
        hi = x[runs[n + 1][0]] if n + 1 < len(runs) else np.inf
        rows.append((_range_text(lo, hi), v))
    return _rows(model, k, rows, _unit(schema, col))


def _range_text(lo: float, hi: float, *, integer: bool = False, closed: bool = False) -> str:
    """``4,000–8,000``, ``up to 1,500``, ``above 8,000``. The range is ``(lo, hi]`` (``[lo,
    hi]`` when ``closed``); integer columns read in whole numbers (``(24.5, 36.5]`` is
    ``25–36``)."""
    if not np.isfinite(lo) and not np.isfinite(hi):
        return "any value"
    if integer:
        lo_t = rounded_text(lo if closed else np.floor(lo) + 1) if np.isfinite(lo) else ""
        hi_t = rounded_text(np.floor(hi)) if np.isfinite(hi) else ""
    else:
        lo_t = rounded_text(lo) if np.isfinite(lo) else ""
        hi_t = rounded_text(hi) if np.isfinite(hi) else ""
    if not np.isfinite(lo):
        return f"up to {hi_t}"
    if not np.isfinite(hi):
        return f"{lo_t} and above" if integer else f"above {lo_t}"
    return lo_t if integer and lo_t == hi_t else f"{lo_t}–{hi_t}"


def _rows(model, k, rows, unit: str) -> list[str]:
    width = max((len(r) + len(unit) for r, _ in rows), default=0)
    return [f"{(r + unit).ljust(width)}  {_effect(v)}{_direction(model, k, v)}" for r, v in rows]


def _code_label(schema, column: int, code: str) -> str:
    """A category code as people read it: ``none (A14)`` when the schema has a label for it."""
    label = getattr(schema, "value_label", None)
    return label(column, code) if label is not None else str(code)


def _category_label(schema, column: int, names) -> str:
    if schema is None:
        return names[column]
    f = schema.features[column]
    if f.category is None:
        return names[column]
    return _code_label(schema, column, f.category)


def _grouped(model, k, labels: list[str], values: np.ndarray, tol: float) -> list[str]:
    order = np.argsort(-values, kind="stable")
    groups: list[list[int]] = []
    for i in order:
        if groups and values[groups[-1][0]] - values[i] <= tol:
            groups[-1].append(int(i))
        else:
            groups.append([int(i)])
    rows = [(", ".join(labels[i] for i in g), float(np.mean(values[g]))) for g in groups]
    return _rows(model, k, rows, "")


def additive_text(model: AdditiveSurrogate, tolerance: float | None = None) -> str:
    """See the module docstring; ``tolerance`` in score units (default 10% of the largest
    spread)."""
    names = model._names()
    term_names = model.term_names()
    order = sorted(range(len(model.terms)), key=lambda i: (-model.terms[i].importance, i))
    biggest = max((t.importance for t in model.terms), default=0.0)
    tol = 0.1 * biggest if tolerance is None else float(tolerance)
    lines: list[str] = []
    for k in range(model.intercept.size):
        lines += _header(model, k)
        for rank, i in enumerate(order, 1):
            t = model.terms[i]
            lines.append(f"{rank}. {_term_name(model, t, term_names[i])} "
                         f"(spread {t.importance:.3g})")
            if len(t.axes) == 2:
                lines.append("     interaction of two features: see the full table "
                             "(knots_text) or the plot")
            else:
                lines += ["     " + s for s in _main_term_rows(model, t, k, names, tol)]
        lines.append("")
    lines.append(f"Ranges are merged while the effect varies by at most {tol:.3g} (more "
                 f"where a feature would need over {MAX_ROWS} ranges); knots_text() lists "
                 "every knot.")
    return "\n".join(lines)


def _header(model: AdditiveSurrogate, k: int) -> list[str]:
    b = rounded_text(round(float(model.intercept[k]), 4))
    if model.output == "value":
        return [f"prediction = {b} + the effects below (each feature adds its effect).", ""]
    if model.output == "logit":
        first, second = model.classes
        return [(f"logit of {second!r} vs {first!r} = {b} + the effects below "
                f"(> 0 toward {second!r}, < 0 toward {first!r});"),
                f"P({second!r}) = 1 / (1 + exp(-logit)); {second!r} when the logit is above 0.",
                ""]
    return [(f"score of class {model.classes[k]!r} = {b} + the effects below; "
            "the class with the largest score wins."), ""]
