"""Domain checks of schema-space rows: ``validate`` and ``outside_domain``.

Split out of ``nnrules.schema``; ``FeatureSchema.validate`` / ``outside_domain`` delegate here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from nnrules.exceptions import SchemaError

if TYPE_CHECKING:
    from nnrules.schema import FeatureSchema

__all__ = ["outside_domain", "validate"]


def validate(
    schema: FeatureSchema, X: Any, *, data_name: str | None = None, hard_only: bool = False
) -> None:
    """Body of :meth:`FeatureSchema.validate` (see there)."""
    X = schema._check_shape(X)
    where = f"{data_name!r}: " if data_name else ""
    for j, f in enumerate(schema.features):
        col = X[:, j]
        integer_input = (schema.input_dtypes is not None
                         and schema.input_dtypes[j].startswith(("int", "uint")))
        if hard_only and f.kind != "categorical" and not integer_input:
            continue
        if f.kind == "integer" or (hard_only and integer_input):
            bad = np.flatnonzero(np.isfinite(col) & (col != np.round(col)))
            what = "a whole number"
        elif f.kind in ("binary", "onehot"):
            bad = np.flatnonzero((col != 0) & (col != 1) & ~np.isnan(col))
            what = "0 or 1"
        elif f.kind == "categorical":
            k = len(f.categories)
            ok = (col == np.round(col)) & (col >= 0) & (col < k)
            bad = np.flatnonzero(~ok & ~np.isnan(col))
            what = f"a category code in 0..{k - 1} (for {list(f.categories)})"
        else:
            continue
        if bad.size:
            r = int(bad[0])
            raise SchemaError(
                f"{where}Feature {f.name!r} ({f.kind}) must be {what}; row {r} has "
                f"{float(col[r])!r} ({bad.size} rows affected). Fix the data or declare the "
                "feature 'continuous' in the schema."
            )
    if hard_only:
        return
    for group, idx in schema._groups.items():
        hot = X[:, list(idx)].sum(axis=1)
        bad = np.flatnonzero(hot != 1)
        if bad.size:
            r = int(bad[0])
            cols = [schema.features[i].name for i in idx]
            n_hot = int(hot[r]) if np.isfinite(hot[r]) else float(hot[r])
            raise SchemaError(
                f"{where}One-hot group {group!r} (columns {cols}) must have exactly one column "
                f"equal to 1 in every row; row {r} has {n_hot} ({bad.size} rows affected). "
                "Fix the data or give a schema in which these columns are not one group."
            )


def outside_domain(schema: FeatureSchema, X: Any) -> tuple[np.ndarray, dict[str, int]]:
    """Body of :meth:`FeatureSchema.outside_domain` (see there)."""
    X = schema._check_shape(X)
    if X.flags.c_contiguous and X.shape[0] > _BLOCK and X.shape[1] > 1:
        outside, counts = _outside_rows(schema, X)
    else:  # columns contiguous (stream batches) or small: one column at a time
        outside, counts = _outside_columns(schema, X)
    for group, idx in schema._groups.items():
        bad = X[:, list(idx)].sum(axis=1) != 1
        if bad.any():
            counts[group] = int(bad.sum())
            outside |= bad
    return outside, counts


#: Rows per block of :func:`_outside_rows` (20 float64 columns: 1.3 MB, cache-sized).
_BLOCK = 8192


def _outside_rows(schema: FeatureSchema, X: np.ndarray) -> tuple[np.ndarray, dict[str, int]]:
    """The per-feature tests of :func:`_outside_columns` on a row-major matrix, a block of
    rows at a time with every column at once (no strided walk down each column)."""
    feats = schema.features
    kinds = [f.kind for f in feats]
    lower = np.array([f.lower for f in feats], dtype=np.float64)
    upper = np.array([f.upper for f in feats], dtype=np.float64)
    # A one-hot column keeps its bounds: upper 0 means the extraction rows never held that
    # category, so a row where it is hot lies outside (as a new value would).
    whole = np.flatnonzero([k == "integer" for k in kinds])
    zero_one = np.flatnonzero([k in ("binary", "onehot") for k in kinds])
    n = X.shape[0]
    outside = np.empty(n, dtype=bool)
    per_column = np.zeros(len(feats), dtype=np.int64)
    for start in range(0, n, _BLOCK):
        B = X[start:start + _BLOCK]
        bad = (B < lower) | (B > upper)
        if whole.size:
            W = B[:, whole]
            bad[:, whole] |= np.isfinite(W) & (W != np.round(W))
        if zero_one.size:
            Z = B[:, zero_one]
            bad[:, zero_one] |= (Z != 0) & (Z != 1)
        per_column += bad.sum(axis=0)
        outside[start:start + _BLOCK] = bad.any(axis=1)
    counts = {f.name: int(c) for f, c in zip(feats, per_column.tolist()) if c}
    return outside, counts


def _outside_columns(schema: FeatureSchema, X: np.ndarray) -> tuple[np.ndarray, dict[str, int]]:
    """The tests one column at a time (contiguous when the columns are)."""
    outside = np.zeros(X.shape[0], dtype=bool)
    counts: dict[str, int] = {}
    for j, f in enumerate(schema.features):
        col = X[:, j]
        bad = (col < f.lower) | (col > f.upper)
        if f.kind == "integer":
            bad |= np.isfinite(col) & (col != np.round(col))
        elif f.kind == "binary":
            bad |= (col != 0) & (col != 1)
        if f.kind == "onehot":
            bad |= (col != 0) & (col != 1)
        if bad.any():
            counts[f.name] = int(bad.sum())
            outside |= bad
    return outside, counts
