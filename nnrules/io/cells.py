"""Text cells -> numbers: missing-value words, number tests, the float32 range.

Moved out of ``nnrules.io.data`` (which still imports every name here).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from nnrules.exceptions import DataError

MISSING = frozenset({"", "na", "n/a", "nan", "null", "none"})



def _text_column(values: Sequence[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        missing = v is None or (isinstance(v, float) and math.isnan(v))
        out[i] = None if missing else str(v).strip()
    return out


#: Largest magnitude nnrules takes: float32's. Networks read float32 and the tree learners
#: compute in float32, so a larger value would become inf on the way.
FLOAT32_MAX = float(np.finfo(np.float32).max)


def _check_magnitude(names: Sequence[str], X: np.ndarray, name: str) -> None:
    """Refuse finite values beyond the float32 range, naming the column, the row and the value."""
    if X.size:
        # The extremes (NaN ignored) in two passes without temporaries; only when one is beyond
        # the range (or inf) look cell by cell (``np.abs(X)`` alone is a copy of X).
        with np.errstate(invalid="ignore"):
            if (np.fmax.reduce(X, axis=None) <= FLOAT32_MAX
                    and np.fmin.reduce(X, axis=None) >= -FLOAT32_MAX):
                return
    with np.errstate(invalid="ignore"):
        big = np.isfinite(X) & (np.abs(X) > FLOAT32_MAX)
    if big.any():
        row, col = (int(v) for v in np.argwhere(big)[0])
        raise DataError(
            f"Column {names[col]!r} of {name!r} holds {float(X[row, col])!r} in row {row} (data "
            f"rows count from 0), beyond the float32 range (|x| <= {FLOAT32_MAX:.4g}) that the "
            f"network and nnrules compute in; {int(big.sum())} values in all. Rescale the "
            "column or fix the values.")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _present(col: np.ndarray) -> np.ndarray:
    """Which cells of a text column hold a value (not None, not a missing-value word); the
    word test runs once per distinct value."""
    values = col.tolist()
    missing = {v for v in set(values) if v is None or v.lower() in MISSING}
    if not missing:
        return np.ones(len(values), dtype=bool)
    return np.fromiter((v not in missing for v in values), dtype=bool, count=len(values))


def _numeric(name: str, col: np.ndarray) -> np.ndarray:
    """Text column -> float64 (missing -> NaN); a word in it is a DataError."""
    if col.dtype != object:
        return col
    out = np.full(col.shape[0], np.nan)
    present = _present(col)
    try:
        out[present] = np.asarray(col[present], dtype=str).astype(np.float64)
    except ValueError:
        # Slow path: find the offending cell (or parse what NumPy refused but Python reads).
        for i in np.flatnonzero(present):
            if _is_number(col[i]):
                out[i] = float(col[i])
            else:
                raise DataError(
                    f"Column {name!r} is numeric but row {i} holds {col[i]!r} "
                    "(data rows count from 0). Fix the value, "
                    "or declare the column kind 'categorical' in a schema (--schema)."
                ) from None
    return out


def _is_text(col: np.ndarray) -> bool:
    """A string column: text with no value that reads as a number."""
    if col.dtype != object:
        return False
    present = {v for v in set(col.tolist()) if v is not None and v.lower() not in MISSING}
    return bool(present) and not any(_is_number(v) for v in present)
