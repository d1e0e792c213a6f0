"""NaN / inf: one fast check and one message shape, for a network's answers and a surrogate's rows.

:func:`all_finite` is the check both hot paths take (``Network.predict``'s one-row fast path and
``TableSurrogate._rows``); :func:`nonfinite_message` (the network answered NaN or inf) and
:func:`nonfinite_input_message` (a surrogate was given NaN or inf) say it the same way:
"<who> <verb> NaN or inf on <k> of <n> <unit> (first: ...); <why>. <what to do>."

numpy only, so that both ``nnrules.io`` (which imports onnx) and ``nnrules.surrogates`` (which
must not) can use it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from nnrules.schema import FeatureSchema

__all__ = ["all_finite", "nonfinite_input_message", "nonfinite_mask", "nonfinite_message"]

#: Arrays of up to this many values are checked with Python's ``sum`` (faster than a numpy call
#: on a row or two), larger ones with numpy.
_SMALL = 64


def all_finite(a: np.ndarray) -> bool:
    """Whether a float array holds no NaN and no ±inf.

    Up to ``_SMALL`` values (a row or two) through Python's ``sum``, a few times faster than a
    numpy call there: a sum is finite only if every term is (NaN and inf propagate), and a sum
    that is not finite is rechecked value by value, since finite values can overflow it.
    """
    if a.size <= _SMALL and math.isfinite(sum(a.ravel().tolist())):
        return True
    return bool(np.isfinite(a).all())


def nonfinite_mask(raw: Any) -> np.ndarray:
    """Rows of a network's answer holding NaN or inf, shape (n,); all False for labels."""
    raw = np.asarray(raw)
    n = raw.shape[0] if raw.ndim else 1
    if raw.dtype.kind not in "fc":
        return np.zeros(n, dtype=bool)
    return ~np.isfinite(raw.reshape(n, -1)).all(axis=1)


def _message(who: str, verb: str, k: int, n: int, unit: str, first: str, why: str,
             fix: str) -> str:
    """The one shape of every NaN / inf message."""
    return f"{who} {verb} NaN or inf on {k} of {n} {unit} (first: {first}); {why}. {fix}."


def nonfinite_message(bad: np.ndarray, who: str = "The network", *, unit: str = "rows",
                      droppable: bool = True) -> str:
    """Why a network's answers are refused: ``bad`` (bool, one per row) marks the rows
    answered NaN or inf; how many, which first, what to do."""
    rows = np.flatnonzero(bad)
    first = ", ".join(str(int(r)) for r in rows[:5]) + (", ..." if rows.size > 5 else "")
    fix = (f", or drop those {unit} with nonfinite='drop' (CLI --nonfinite drop)"
           if droppable else "")
    return _message(who, "answered", rows.size, bad.size, unit, first,
                    "no class or value can be read from them",
                    f"Check the model's weights and the data's ranges{fix}")


def nonfinite_input_message(X: np.ndarray, schema: FeatureSchema | None, who: str) -> str:
    """Why ``X`` (float, holding NaN or ±inf) is refused by a surrogate: how many rows, the
    first row and its value, the columns (schema names, else ``x<j>``), and what to do."""
    bad = ~np.isfinite(X)
    fix = ("Impute those values or drop those rows before predicting (nnrules.read_data "
           "refuses them, or drops them with drop_invalid=True; CLI --drop-invalid)")
    if X.ndim != 2:
        flat = bad.reshape(-1)
        return _message(who, "was given", int(flat.sum()), flat.size, "values of an input of "
                        f"shape {X.shape}", f"flat position {int(np.flatnonzero(flat)[0])}",
                        "it takes rows of finite numbers, shape (n_samples, n_features)", fix)
    names = list(schema.names) if schema is not None else []
    rows, cols = np.flatnonzero(bad.any(axis=1)), np.flatnonzero(bad.any(axis=0))
    r = int(rows[0])
    c = int(np.flatnonzero(bad[r])[0])

    def name(j: int) -> str:
        return repr(names[j] if j < len(names) else f"x{j}")

    listed = ", ".join(name(int(j)) for j in cols[:5]) + (
        f" and {cols.size - 5} more" if cols.size > 5 else "")
    return _message(who, "was given", rows.size, X.shape[0], "rows",
                    f"row {r}, column {name(c)} = {float(X[r, c])!r}; column(s) {listed}",
                    "a surrogate's tests have no answer for them (NaN would pick an arbitrary "
                    "branch)", fix)
