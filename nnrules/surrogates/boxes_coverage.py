"""How much of the domain a ``BoxRuleSet`` covers, and its figures for the fidelity report.

Exact volume fractions when no two boxes meet, else a Monte Carlo estimate over uniform valid
rows (seed 0). Split out of :mod:`nnrules.surrogates.boxes` (``volume_fraction`` and
``report_details`` call these).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from nnrules.surrogates.boxes_text import allowed_hot

if TYPE_CHECKING:
    from nnrules.schema import FeatureSchema
    from nnrules.surrogates.boxes import BoxRuleSet

__all__ = ["box_fractions", "coverage_details", "overlap", "sample_domain", "volume_fraction"]


def box_fractions(boxes: BoxRuleSet) -> np.ndarray:
    """Volume fraction of each box of ``boxes`` in the schema's domain, shape (n_boxes,)."""
    frac = np.ones(boxes.n_boxes)
    schema = boxes.schema
    seen = set()
    for j, f in enumerate(schema.features):
        lo, hi = boxes.lower[:, j], boxes.upper[:, j]
        if f.kind == "onehot":
            if f.group in seen:
                continue
            seen.add(f.group)
            idx = list(schema.groups[f.group])
            allowed = np.array([len(allowed_hot(idx, boxes.lower[k], boxes.upper[k], False))
                                for k in range(boxes.n_boxes)])
            frac *= allowed / len(idx)
        elif f.kind in ("integer", "binary", "categorical"):
            total = math.floor(f.upper) - math.ceil(f.lower) + 1
            count = np.floor(hi) - np.ceil(lo) + 1
            frac *= np.clip(count, 0, None) / max(total, 1)
        elif f.upper > f.lower:
            # a box may reach past the domain (via's domain_margin): count the part inside
            inside = np.minimum(hi, f.upper) - np.maximum(lo, f.lower)
            frac *= np.clip(inside, 0, None) / (f.upper - f.lower)
    return frac


def overlap(lo: np.ndarray, hi: np.ndarray) -> bool:
    """Whether any two of the boxes ``lo[k] <= x <= hi[k]`` meet."""
    for k in range(lo.shape[0] - 1):
        meet = np.all((lo[k + 1:] <= hi[k]) & (lo[k] <= hi[k + 1:]), axis=1)
        if meet.any():
            return True
    return False


def sample_domain(schema: FeatureSchema, n: int) -> np.ndarray:
    """Valid rows drawn uniformly from the schema's domain (seed 0)."""
    rng = np.random.default_rng(0)
    X = np.zeros((n, schema.n_features))
    for j, f in enumerate(schema.features):
        if f.kind in ("integer", "binary", "categorical"):
            X[:, j] = rng.integers(math.ceil(f.lower), math.floor(f.upper) + 1, size=n)
        elif f.kind != "onehot":
            X[:, j] = rng.uniform(f.lower, f.upper, size=n)
    for idx in schema.groups.values():
        hot = rng.integers(0, len(idx), size=n)
        X[np.arange(n), np.asarray(idx)[hot]] = 1.0
    return X


def volume_fraction(boxes: BoxRuleSet, n_samples: int = 20000) -> float:
    """Fraction of the schema's input domain the boxes of ``boxes`` cover.

    Continuous features count length, integer features count whole values, one-hot groups
    count categories. Exact (sum over boxes) when no two boxes meet; otherwise a Monte
    Carlo estimate of the union from ``n_samples`` uniform valid rows (seed 0).
    """
    if boxes.n_boxes == 0:
        return 0.0
    if not overlap(boxes.lower, boxes.upper):
        return float(min(1.0, box_fractions(boxes).sum()))
    X = sample_domain(boxes.schema, n_samples)  # may hold inf where the domain is unbounded
    return float((boxes._first(X, boxes.lower, boxes.upper, open_low=False) >= 0).mean())


def coverage_details(boxes: BoxRuleSet, X: Any, reference: Any) -> dict[str, Any]:
    """Coverage and fidelity figures of ``boxes`` for the fidelity report
    (``BoxRuleSet.report_details``).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    reference : array-like of shape (n_samples,)
        The network's answers on X.
    """
    X = boxes._check_X(X)
    reference = np.asarray(reference)
    idx = boxes.explain(X)  # once: box (>= 0) or fallback; covered rows are idx >= 0
    covered = idx >= 0
    if boxes.task == "regression":
        ref = reference.astype(np.float64).reshape(len(X), -1)[:, 0]
        ranges = np.asarray(boxes.outputs, dtype=np.float64).reshape(-1, 2)
        k, r = idx[covered], ref[covered]
        inside = (ranges[k, 0] <= r) & (r <= ranges[k, 1])
        agree_cov = float(inside.mean()) if inside.size else None
        agree_all = None
    else:
        pred = boxes._outputs_at(idx)
        if (pred.shape == reference.shape and pred.ndim == 1
                and pred.dtype.kind == reference.dtype.kind and pred.dtype.kind in "iufbU"):
            same = pred == reference  # as Python's == on these kinds; no None among them
        else:
            same = np.array([p is not None and p == r
                             for p, r in zip(pred.tolist(), reference.tolist())], dtype=bool)
        agree_cov = float(same[covered].mean()) if covered.any() else None
        agree_all = float(same.mean()) if len(same) else None
    counts = {k: int(boxes.verification.get(k, 0)) for k in ("proven", "refuted", "unknown")}
    return {
        "proven_boxes": boxes.n_boxes,
        "coverage_rows": float(covered.mean()) if len(X) else 0.0,
        "coverage_volume": volume_fraction(boxes),
        "fidelity_covered": agree_cov,
        "fidelity_with_fallback": agree_all,
        "fallback": boxes.fallback,
        "verifications": counts,
        "bound": boxes.verification.get("bound"),
    }
