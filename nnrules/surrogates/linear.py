"""Oblique (linear) conditions: ``w1*x[f1] + w2*x[f2] + ... op value``.

A :class:`LinearCondition` is a test on a weighted sum of features, such as the boundary of a
hidden unit's cluster written on the unit's own pre-activation (``setiono`` with
``oblique=True``): ``2*x3 - x7 > 0.4``. It sits in rule bodies next to
:class:`~nnrules.surrogates.rules.Condition` and :class:`~nnrules.surrogates.rules.MofN`.

Semantics (float64, one fixed order): the sum is formed left to right in the stored feature
order, ``s = w1*x[f1]; s = s + w2*x[f2]; ...``, then compared with ``value``. Every exporter
(Python, SQL, ONNX in float64) forms it in the same order with the same operations, so the
exported predictions equal :meth:`LinearCondition.holds` bit for bit.

Only ``<=`` and ``>`` are allowed (a negation stays linear); weights are finite and non-zero
(zero-weight features are left out when the condition is made), features distinct.

Rule algebra: exact simplification treats a linear condition as opaque (it is kept as it is,
deduplicated, and never decides or is decided by axis conditions); certification evaluates it
over a box soundly by interval bounds of the sum (:meth:`LinearCondition.bounds`).

Examples
--------
>>> c = LinearCondition((3, 7), (2.0, -1.0), ">", 0.4)
>>> c.to_text()
'2·x3 − x7 > 0.4'
>>> c.holds([[0, 0, 0, 1.0, 0, 0, 0, 1.0]]).tolist()
[True]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from nnrules.exceptions import ParameterError

if TYPE_CHECKING:
    from nnrules.schema import FeatureSchema

__all__ = ["LinearCondition", "linear_from_dict", "weight_text"]

LINEAR_OPS = ("<=", ">")


def weight_text(w: float) -> str:
    """A weight's magnitude rounded for reading: 3 significant digits, no trailing zeros."""
    return f"{abs(float(w)):.3g}"


def _term_name(schema: FeatureSchema | None, j: int) -> str:
    if schema is None:
        return f"x{j}"
    f = schema.features[j]
    if f.kind == "onehot":
        return f"[{schema.display_name(j)} == {schema.value_label(j, f.category)}]"
    name = schema.display_name(j)
    unit = schema.unit(j) if f.kind not in ("binary", "categorical") else None
    if f.kind == "categorical":
        name = f"code({name})"
    return f"{name} [{unit}]" if unit else name


@dataclass(frozen=True, slots=True, order=True)
class LinearCondition:
    """The test ``sum_i weights[i] * X[:, features[i]] op value`` (``op`` in ``<=``, ``>``).

    Parameters
    ----------
    features : tuple of int
        Distinct, non-negative column indices.
    weights : tuple of float
        As many as ``features``; finite and non-zero.
    op : {"<=", ">"}
    value : float
        Finite.

    Raises
    ------
    ParameterError
        Lengths that differ, no features, a repeated or negative feature, a weight that is
        zero or not finite, a non-finite value, or another comparison.
    """

    features: tuple[int, ...]
    weights: tuple[float, ...]
    op: str
    value: float

    def __post_init__(self) -> None:
        feats, weights = tuple(self.features), tuple(self.weights)
        if self.op not in LINEAR_OPS:
            raise ParameterError(f"A linear condition compares with {list(LINEAR_OPS)}; got "
                                 f"{self.op!r}.")
        if len(feats) != len(weights) or not feats:
            raise ParameterError(
                f"A linear condition needs one weight per feature and at least one feature; "
                f"got {len(feats)} features and {len(weights)} weights.")
        for j in feats:
            if isinstance(j, (bool, np.bool_)) or not isinstance(j, (int, np.integer)) or j < 0:
                raise ParameterError(
                    f"Linear condition features must be non-negative ints; got {j!r}.")
        if len({int(j) for j in feats}) != len(feats):
            raise ParameterError(f"Linear condition features must be distinct; got {feats!r}.")
        try:
            w = [float(v) for v in weights]
            value = float(self.value)
        except (TypeError, ValueError) as e:
            raise ParameterError(f"Linear condition weights and value must be numbers: {e}.") \
                from e
        if not all(math.isfinite(v) and v != 0.0 for v in w):
            raise ParameterError(
                f"Linear condition weights must be finite and non-zero (leave zero-weight "
                f"features out); got {w!r}.")
        if not math.isfinite(value):
            raise ParameterError(f"A linear condition's value must be finite; got {value!r}.")
        object.__setattr__(self, "features", tuple(int(j) for j in feats))
        object.__setattr__(self, "weights", tuple(w))
        object.__setattr__(self, "value", value)

    @classmethod
    def make(cls, weights: Mapping[int, float] | Sequence[float], op: str,
             value: float) -> LinearCondition | None:
        """From a weight per feature (a mapping, or a dense vector): zero weights left out,
        features in increasing order. None when every weight is zero."""
        items = sorted(weights.items()) if isinstance(weights, Mapping) else \
            list(enumerate(weights))
        kept = [(int(j), float(w)) for j, w in items if float(w) != 0.0]
        if not kept:
            return None
        return cls(tuple(j for j, _ in kept), tuple(w for _, w in kept), op, value)

    # -- evaluation ---------------------------------------------------------------------------
    def score(self, X: np.ndarray) -> np.ndarray:
        """The weighted sum per row, formed left to right (see the module docstring)."""
        X = np.asarray(X, dtype=float)
        s = self.weights[0] * X[:, self.features[0]]
        for j, w in zip(self.features[1:], self.weights[1:]):
            s = s + w * X[:, j]
        return s

    def holds(self, X: np.ndarray) -> np.ndarray:
        """Boolean array of shape (n_samples,)."""
        s = self.score(X)
        return s <= self.value if self.op == "<=" else s > self.value

    def negate(self) -> LinearCondition:
        """The complementary condition (same sum, the other side)."""
        return LinearCondition(self.features, self.weights, ">" if self.op == "<=" else "<=",
                               self.value)

    def bounds(self, lo: np.ndarray, hi: np.ndarray) -> tuple[float, float]:
        """Interval bounds of the (real) sum over the box ``lo <= x <= hi``, widened by a
        float64 rounding allowance so that the computed :meth:`score` of every point of the
        box lies within them."""
        a = np.array([lo[j] for j in self.features], dtype=float)
        b = np.array([hi[j] for j in self.features], dtype=float)
        w = np.array(self.weights)
        with np.errstate(invalid="ignore"):
            low = np.where(w > 0, w * a, w * b)
            high = np.where(w > 0, w * b, w * a)
        low_s, high_s = float(np.sum(low)), float(np.sum(high))
        if not (math.isfinite(low_s) and math.isfinite(high_s)):
            return (low_s if not math.isnan(low_s) else -math.inf,
                    high_s if not math.isnan(high_s) else math.inf)
        slack = 4 * len(w) * np.finfo(float).eps * float(
            np.sum(np.abs(w) * np.maximum(np.abs(a), np.abs(b))))
        return low_s - slack, high_s + slack

    # -- text, symbols, files -----------------------------------------------------------------
    def to_text(self, schema: FeatureSchema | None = None) -> str:
        """``"2·x3 − x7 > 0.4"``: weights rounded to 3 significant digits (a weight of ±1
        unwritten), names (and units) from the schema's labels when present."""
        from nnrules.schema_text import format_number

        parts = []
        for k, (j, w) in enumerate(zip(self.features, self.weights)):
            mag = weight_text(w)
            term = _term_name(schema, j) if mag == "1" else f"{mag}·{_term_name(schema, j)}"
            sign = ("−" if w < 0 else "") if k == 0 else (" − " if w < 0 else " + ")
            parts.append(sign + term)
        value = float(f"{self.value:.4g}")
        return f"{''.join(parts)} {self.op} {format_number(value)}"

    def to_sympy(self, symbols: Sequence[Any]):
        """A sympy relational on the weighted sum of ``symbols``."""
        import sympy

        total = sympy.Add(*[sympy.Float(w, 17) * symbols[j]
                            for j, w in zip(self.features, self.weights)])
        v = sympy.Float(self.value, 17)
        return total <= v if self.op == "<=" else total > v

    def to_dict(self) -> dict[str, Any]:
        return {"features": list(self.features), "weights": list(self.weights), "op": self.op,
                "value": self.value}

    def n_conditions(self) -> int:
        """Its size in a rule set's complexity: one per weighted feature (as an m-of-n test
        counts its n), so a long oblique condition is not reported as one short test."""
        return len(self.features)


def linear_from_dict(d: Mapping[str, Any]) -> LinearCondition:
    """Inverse of :meth:`LinearCondition.to_dict` (ParameterError on a malformed one)."""
    feats, weights = d["features"], d["weights"]
    if not isinstance(feats, list) or not isinstance(weights, list):
        raise ParameterError("A linear condition's 'features' and 'weights' must be lists; got "
                             f"{type(feats).__name__} and {type(weights).__name__}.")
    return LinearCondition(tuple(feats), tuple(weights), d["op"], d["value"])
