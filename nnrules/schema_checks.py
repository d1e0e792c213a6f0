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
            bad = (col != 0) & (col != 1)
        if bad.any():
            counts[f.name] = int(bad.sum())
            outside |= bad
    for group, idx in schema._groups.items():
        bad = X[:, list(idx)].sum(axis=1) != 1
        if bad.any():
            counts[group] = int(bad.sum())
            outside |= bad
    return outside, counts
