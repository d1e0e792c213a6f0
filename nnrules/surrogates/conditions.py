"""Tests of rules: ``Condition`` and ``MofN`` (value objects), ``test_from_dict``,
``simplify_conditions`` (one path's conjunction made canonical and shorter) and the sympy helpers
``symbol_names`` / ``conjunction_sympy``.

Split out of :mod:`nnrules.surrogates.rules`, which re-exports every public name here (see its
docstring for the semantics); ``LinearCondition`` lives in :mod:`nnrules.surrogates.linear`.
"""

from __future__ import annotations

import keyword
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from nnrules.exceptions import ParameterError
from nnrules.surrogates.linear import LinearCondition, linear_from_dict

if TYPE_CHECKING:
    from nnrules.schema import FeatureSchema

__all__ = [
    "OPS", "Condition", "MofN", "Op", "Test", "conjunction_sympy", "number_text",
    "simplify_conditions", "symbol_names", "test_from_dict",
]

Op = Literal["<=", ">", "==", "!="]
OPS: tuple[str, ...] = ("<=", ">", "==", "!=")


def number_text(v: float) -> str:
    """Short display of a number when no schema is available."""
    v = float(v)
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)


@dataclass(frozen=True, slots=True, order=True)
class Condition:
    """The test ``X[:, feature] op value``."""

    feature: int
    op: Op
    value: float

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise ParameterError(f"Unknown comparison {self.op!r}; valid ones are {list(OPS)}.")
        if not isinstance(self.feature, (int, np.integer)) or self.feature < 0:
            raise ParameterError(
                f"Condition feature must be a non-negative int; got {self.feature!r}."
            )
        object.__setattr__(self, "feature", int(self.feature))
        object.__setattr__(self, "value", float(self.value))

    def holds(self, X: np.ndarray) -> np.ndarray:
        """Boolean array of shape (n_samples,): which rows of ``X`` satisfy the test."""
        col = np.asarray(X, dtype=float)[:, self.feature]
        if self.op == "<=":
            return col <= self.value
        if self.op == ">":
            return col > self.value
        if self.op == "==":
            return col == self.value
        return col != self.value

    def negate(self) -> Condition:
        """The complementary condition."""
        return Condition(self.feature, {"<=": ">", ">": "<=", "==": "!=", "!=": "=="}[self.op],
                         self.value)

    def to_text(self, schema: FeatureSchema | None = None) -> str:
        """``"age > 37"`` / ``"color == red"`` via ``schema.describe_condition``."""
        if schema is not None:
            return schema.describe_condition(self.feature, self.op, self.value)
        return f"x{self.feature} {self.op} {number_text(self.value)}"

    def to_sympy(self, symbols: Sequence[Any]):
        """A sympy relational on ``symbols[feature]``."""
        import sympy

        s, v = symbols[self.feature], sympy.Float(self.value, 17)
        if self.op == "<=":
            return s <= v
        if self.op == ">":
            return s > v
        if self.op == "==":
            return sympy.Eq(s, v)
        return sympy.Ne(s, v)

    def to_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "op": self.op, "value": self.value}

    def n_conditions(self) -> int:
        return 1


@dataclass(frozen=True, slots=True, order=True)
class MofN:
    """At least ``m`` of ``conditions`` hold."""

    m: int
    conditions: tuple[Condition, ...]

    def __post_init__(self) -> None:
        conds = tuple(self.conditions)
        if not conds or not all(isinstance(c, Condition) for c in conds):
            raise ParameterError(f"MofN needs a non-empty tuple of Condition; got {conds!r}.")
        if not isinstance(self.m, (int, np.integer)) or not 1 <= self.m <= len(conds):
            raise ParameterError(
                f"MofN m must be an int in [1, {len(conds)}]; got {self.m!r}."
            )
        object.__setattr__(self, "m", int(self.m))
        object.__setattr__(self, "conditions", conds)

    def holds(self, X: np.ndarray) -> np.ndarray:
        """Boolean array of shape (n_samples,)."""
        return self.count(X) >= self.m

    def count(self, X: np.ndarray) -> np.ndarray:
        """Conditions holding per row, a condition listed ``k`` times counted ``k`` times (each
        distinct condition is evaluated once)."""
        count = np.zeros(np.asarray(X).shape[0], dtype=np.int64)
        for c, k in self._copies().items():
            count += k * c.holds(X).astype(np.int64)
        return count

    def _copies(self) -> dict[Condition, int]:
        """Each distinct condition (first-occurrence order) and how often it is listed."""
        copies: dict[Condition, int] = {}
        for c in self.conditions:
            copies[c] = copies.get(c, 0) + 1
        return copies

    def to_text(self, schema: FeatureSchema | None = None) -> str:
        """``a and b`` when all must hold, ``(a or b)`` when one must, else ``at least m of
        {a, b, c}``. A condition listed ``k > 1`` times counts ``k`` times towards ``m`` and is
        written once, as ``a (x2)``, where its first copy stands; a run of thresholds on one
        feature in one direction (a staircase) names the feature once: ``at least 3 of
        {radius > 13.1, > 14.6, > 16.1, texture > 20}``."""
        counts = self._copies()
        distinct = list(counts)  # first-occurrence order
        texts = [c.to_text(schema) for c in distinct]
        if len(texts) > 1 and self.m == len(self.conditions):
            return " and ".join(texts)
        if len(texts) > 1 and self.m == 1:
            return "(" + " or ".join(texts) + ")"
        if len(texts) == 1:  # k copies of one condition, any m in 1..k: that condition
            return texts[0]
        named = _named_once(distinct, texts)
        inner = ", ".join(t if k == 1 else f"{t} (x{k})" for t, k in zip(named, counts.values()))
        return f"at least {self.m} of {{{inner}}}"

    def to_sympy(self, symbols: Sequence[Any]):
        """``Indicator(c1) + ... + Indicator(cn) >= m`` (see ``nnrules.surrogates.indicator``)."""
        import sympy

        from nnrules.surrogates.indicator import Indicator

        total = sympy.Add(*[Indicator(c.to_sympy(symbols)) for c in self.conditions])
        return total >= self.m

    def to_dict(self) -> dict[str, Any]:
        return {"m": self.m, "conditions": [c.to_dict() for c in self.conditions]}

    def n_conditions(self) -> int:
        return len(self.conditions)


def _named_once(conditions: Sequence[Condition], texts: list[str]) -> list[str]:
    """``texts`` with the feature's name left out of a threshold that follows one on the same
    feature in the same direction (``>`` / ``<=``), when both texts read "<name> <op> ..."."""
    out = list(texts)
    for i in range(1, len(texts)):
        a, b = conditions[i - 1], conditions[i]
        if a.feature != b.feature or a.op != b.op or a.op not in (">", "<="):
            continue
        marker = f" {a.op} "
        head_a, head_b = texts[i - 1].find(marker), texts[i].find(marker)
        if head_a > 0 and head_b > 0 and texts[i - 1][:head_a] == texts[i][:head_b]:
            out[i] = texts[i][head_b + 1:]
    return out


Test = Condition | MofN | LinearCondition


def test_from_dict(d: Mapping[str, Any]) -> Test:
    """Inverse of ``Condition.to_dict`` / ``MofN.to_dict`` / ``LinearCondition.to_dict``."""
    if "weights" in d:
        return linear_from_dict(d)
    if "m" in d:
        return MofN(int(d["m"]), tuple(Condition(int(c["feature"]), c["op"], float(c["value"]))
                                       for c in d["conditions"]))
    return Condition(int(d["feature"]), d["op"], float(d["value"]))


def symbol_names(schema: FeatureSchema | None, n_features: int) -> tuple[str, ...]:
    """Deterministic Python-identifier names for the sympy symbols, one per feature.

    Non-identifier characters become ``_``; a leading digit or a keyword gets an ``f_`` prefix;
    duplicates get ``_2``, ``_3``... suffixes in feature order.
    """
    if schema is None:
        return tuple(f"x{j}" for j in range(n_features))
    out: list[str] = []
    seen: set[str] = set()
    for name in schema.names:
        s = re.sub(r"\W", "_", str(name), flags=re.ASCII) or "f"
        if s[0].isdigit() or keyword.iskeyword(s):
            s = "f_" + s
        base, k = s, 2
        while s in seen:
            s, k = f"{base}_{k}", k + 1
        seen.add(s)
        out.append(s)
    return tuple(out)


def conjunction_sympy(tests: Sequence[Test], symbols):
    """``And`` of the tests' sympy forms over ``symbols`` (``True`` for no tests)."""
    import sympy

    return sympy.And(*[t.to_sympy(symbols) for t in tests]) if tests else sympy.true


def simplify_conditions(
    conditions: Sequence[Test], *, schema: FeatureSchema | None = None
) -> tuple[Test, ...] | None:
    """Merge the conditions of one path (a conjunction) into a canonical, shorter tuple.

    Per feature: ``x <= 3 & x <= 5`` → ``x <= 3``; ``x > 1 & x > 2`` → ``x > 2``; an ``==``
    absorbs compatible bounds and ``!=``; ``!=`` values outside the bounds are dropped. With a
    schema, a one-hot column known to be hot makes "not hot" tests on its group mates redundant.
    ``MofN`` and ``LinearCondition`` tests are kept as they are (deduplicated, opaque: they
    neither decide nor are decided by the plain conditions). Result is sorted (feature, op,
    value), then the linear conditions, m-of-n last.

    Returns
    -------
    tuple or None
        ``None`` when the conjunction is contradictory (no row can satisfy it).
    """
    plain = sorted({c for c in conditions if isinstance(c, Condition)})
    mofn = sorted({c for c in conditions if isinstance(c, MofN)})
    linear = sorted({c for c in conditions if isinstance(c, LinearCondition)})
    by_feature: dict[int, list[Condition]] = {}
    for c in plain:
        by_feature.setdefault(c.feature, []).append(c)
    hot: dict[int, bool] = {}
    out: list[Condition] = []
    for j, conds in by_feature.items():
        upper = min((c.value for c in conds if c.op == "<="), default=math.inf)
        lower = max((c.value for c in conds if c.op == ">"), default=-math.inf)
        eqs = {c.value for c in conds if c.op == "=="}
        nes = {c.value for c in conds if c.op == "!="}
        if lower >= upper or len(eqs) > 1:
            return None
        if eqs:
            (v,) = eqs
            if not lower < v <= upper or v in nes:
                return None
            out.append(Condition(j, "==", v))
            hot[j] = v == 1.0
            continue
        if lower > -math.inf:
            out.append(Condition(j, ">", lower))
        if upper < math.inf:
            out.append(Condition(j, "<=", upper))
        out.extend(Condition(j, "!=", v) for v in sorted(nes) if lower < v <= upper)
        if 0.0 <= lower < 1.0 and upper >= 1.0:
            hot[j] = True
    if schema is not None:
        out = _drop_onehot_mates(out, hot, schema)
        if out is None:
            return None
    return tuple(sorted(out)) + tuple(linear) + tuple(mofn)


def _drop_onehot_mates(out, hot, schema):
    """Within a one-hot group, one hot column implies the others are cold."""
    for cols in schema.groups.values():
        hot_cols = [j for j in cols if hot.get(j)]
        if len(hot_cols) > 1:
            return None
        if hot_cols:
            mates = set(cols) - set(hot_cols)
            kept = []
            for c in out:
                if c.feature in mates:
                    cold_ok = bool(Condition(c.feature, c.op, c.value).holds(np.zeros((1, c.feature + 1)))[0])
                    if not cold_ok:
                        return None
                    continue
                kept.append(c)
            out = kept
    return out
