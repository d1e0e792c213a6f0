"""Schema inference from data: ``FeatureSchema.infer`` delegates here.

"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from nnrules.exceptions import SchemaError
from nnrules.schema import Feature, FeatureSchema, Kind

__all__ = ["infer"]


def infer(
    cls: type[FeatureSchema],
    X: Any,
    names: Sequence[str],
    *,
    raw_columns: Mapping[str, Sequence[str]] | None = None,
) -> FeatureSchema:
    """Body of :meth:`FeatureSchema.infer` (see there); ``cls`` is the schema class built."""
    X = np.asarray(X, dtype=np.float64)
    names = tuple(str(n) for n in names)
    raw = dict(raw_columns or {})
    if X.ndim != 2 or X.shape[1] != len(names):
        raise SchemaError(
            f"Data of shape {X.shape} does not match {len(names)} names; pass a 2-D array "
            "with one column per name."
        )
    if X.shape[0] == 0:
        raise SchemaError("Cannot infer a schema from data with no rows; give some rows.")
    lower, upper = X.min(axis=0), X.max(axis=0)  # NaN propagates: one check, no (n, d) temp
    if not (np.all(np.isfinite(lower)) and np.all(np.isfinite(upper))):
        raise SchemaError("Cannot infer a schema from data with NaN or inf; drop those rows.")
    zero_one = _columns_where(X, lambda B: np.all((B == 0) | (B == 1), axis=0))
    whole = _columns_where(X, lambda B: np.all(B == np.round(B), axis=0))
    # One-hot candidates: 0/1 columns grouped by the prefix before the last "_" or "=".
    prefixes: dict[str, list[int]] = {}
    for j, name in enumerate(names):
        cut = max(name.rfind("_"), name.rfind("="))
        if zero_one[j] and name not in raw and 0 < cut < len(name) - 1:
            prefixes.setdefault(name[:cut], []).append(j)
    onehot: dict[int, tuple[str, str]] = {}
    for prefix, idx in prefixes.items():
        if len(idx) >= 2 and np.all(X[:, idx].sum(axis=1) == 1):
            for j in idx:
                onehot[j] = (prefix, names[j][len(prefix) + 1 :])
    features = []
    for j, name in enumerate(names):
        if name in raw:
            kind: Kind = "categorical"
        elif j in onehot:
            kind = "onehot"
        elif whole[j]:
            kind = "integer"
        else:
            kind = "continuous"
        group, category = onehot.get(j, (None, None))
        features.append(
            Feature(
                name,
                kind,
                float(lower[j]),
                float(upper[j]),
                group=group,
                category=category,
                categories=tuple(raw[name]) if name in raw else None,
            )
        )
    return cls(tuple(features))


def _columns_where(X: np.ndarray, test: Any, head: int = 4096) -> np.ndarray:
    """``test(X)`` (a per-column all-rows test, bool of shape (n_features,)) computed on the
    first ``head`` rows, then on the rest only for the columns still passing: a continuous
    column is told apart in its first rows instead of over all of them."""
    out = np.asarray(test(X[:head]), dtype=bool)
    if X.shape[0] > head and out.any():
        keep = np.flatnonzero(out)
        out[keep] = test(X[head:, keep])
    return out
