"""Rule value objects: conditions, m-of-n tests, rules and rule sets.

Semantics
---------
* ``Condition(feature, op, value)`` holds for rows with ``X[:, feature] op value``.
* ``MofN(m, conditions)`` holds when at least ``m`` of its conditions hold.
* ``LinearCondition(features, weights, op, value)`` (:mod:`nnrules.surrogates.linear`) holds
  when the weighted sum of those features ``op value`` (an oblique test).
* A ``RuleSet`` decides each row by the **first rule in stored order whose body holds**, both
  when ``ordered`` (a decision list) and when not. Unordered rule sets (for example
  :meth:`TreeSurrogate.to_rules`) are expected to be exclusive — at most one rule fires per row —
  so order does not matter for them; if an unordered set does overlap, the stored order is the
  documented canonical tie-break. Rows no rule covers get ``default``.
* ``Rule.output`` is a class *index* into ``classes`` for classification, a value for regression.

Sympy symbols are named after the schema's feature names, sanitised deterministically into
Python identifiers (see :func:`symbol_names`); without a schema they are ``x0, x1, ...``.
"""

from __future__ import annotations

import keyword
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from nnrules.exceptions import FormatError, ParameterError
from nnrules.surrogates.base import (
    TableSurrogate,
    annotations_from_dict,
    annotations_to_dict,
    check_header,
    plain,
    schema_from_dict,
    schema_to_dict,
)
from nnrules.surrogates.linear import LinearCondition, linear_from_dict

if TYPE_CHECKING:
    from nnrules.schema import FeatureSchema

__all__ = [
    "Condition", "LinearCondition", "MofN", "Rule", "RuleSet", "conjunction_sympy",
    "number_text", "output_text",
    "simplify_conditions", "symbol_names",
]

Op = Literal["<=", ">", "==", "!="]
OPS: tuple[str, ...] = ("<=", ">", "==", "!=")
_OP_RANK = {op: i for i, op in enumerate(OPS)}


def number_text(v: float) -> str:
    """Short display of a number when no schema is available."""
    v = float(v)
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)


def output_text(task: str, classes: Sequence[Any] | None, out: Any) -> str:
    """Display of one stored output: the number (regression) or the label of class index
    ``out``. Shared by :class:`RuleSet` and :class:`~nnrules.surrogates.tree.TreeSurrogate`."""
    if task == "regression":
        return number_text(out)
    return str(classes[int(out)])


def _feature_name(schema: FeatureSchema | None, j: int) -> str:
    return schema.names[j] if schema is not None else f"x{j}"


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
        count = np.zeros(np.asarray(X).shape[0], dtype=np.int64)
        for c in self.conditions:
            count += c.holds(X)
        return count >= self.m

    def to_text(self, schema: FeatureSchema | None = None) -> str:
        """``a and b`` when all must hold, ``(a or b)`` when one must, else ``at least m of
        {a, b, c}``."""
        texts = [c.to_text(schema) for c in self.conditions]
        if len(texts) > 1 and self.m == len(texts):
            return " and ".join(texts)
        if len(texts) > 1 and self.m == 1:
            return "(" + " or ".join(texts) + ")"
        inner = ", ".join(texts)
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


Test = Condition | MofN | LinearCondition


def test_from_dict(d: Mapping[str, Any]) -> Test:
    """Inverse of ``Condition.to_dict`` / ``MofN.to_dict`` / ``LinearCondition.to_dict``."""
    if "weights" in d:
        return linear_from_dict(d)
    if "m" in d:
        return MofN(int(d["m"]), tuple(Condition(int(c["feature"]), c["op"], float(c["value"]))
                                       for c in d["conditions"]))
    return Condition(int(d["feature"]), d["op"], float(d["value"]))


def _test_features(t: Test) -> tuple[int, ...]:
    """The feature indices a test reads."""
    if isinstance(t, MofN):
        return tuple(c.feature for c in t.conditions)
    if isinstance(t, LinearCondition):
        return t.features
    return (t.feature,)


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


@dataclass(frozen=True, slots=True, order=True)
class Rule:
    """``IF all conditions THEN output``; ``output`` is a class index or a regression value."""

    conditions: tuple[Test, ...]
    output: int | float
    support: int = 0
    confidence: float = field(default=math.nan, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "conditions", tuple(self.conditions))

    def holds(self, X: np.ndarray) -> np.ndarray:
        """Boolean array of shape (n_samples,): rows the body covers."""
        ok = np.ones(np.asarray(X).shape[0], dtype=bool)
        for c in self.conditions:
            ok &= c.holds(X)
        return ok

    def body_text(self, schema: FeatureSchema | None = None) -> str:
        return " and ".join(c.to_text(schema) for c in self.conditions) or "true"

    def to_dict(self) -> dict[str, Any]:
        out = self.output
        return {
            "conditions": [c.to_dict() for c in self.conditions],
            "output": int(out) if isinstance(out, (int, np.integer)) else float(out),
            "support": int(self.support),
            "confidence": None if math.isnan(self.confidence) else float(self.confidence),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Rule:
        conf = d.get("confidence")
        return cls(tuple(test_from_dict(c) for c in d["conditions"]), d["output"],
                   int(d.get("support", 0)), math.nan if conf is None else float(conf))


class RuleSet(TableSurrogate):
    """A list of rules with a default; see the module docstring for the semantics.

    Parameters
    ----------
    rules : sequence of Rule
    default : int or float
        Class index (classification) or value (regression) for rows no rule covers.
    ordered : bool
        A decision list (True) or a set of (expected exclusive) rules (False).
    classes : tuple or None
        Class labels as the network names them; ``output`` indexes into it.
    schema : FeatureSchema or None
    task : {"classification", "regression"}
    n_features : int or None
        Width of ``X``; default: the schema's, else one past the largest feature used.
    notes : dict or None
        Provenance kept in the JSON (``notes["method"]``: the method that extracted it).
    """

    FORMAT = "nnrules/ruleset"
    VERSION = 2  # 2: version 1 plus the optional local_fidelity and reason_stats

    def __init__(self, rules: Sequence[Rule], default: float, *, ordered: bool,
                 classes: tuple | None = None, schema: FeatureSchema | None = None,
                 task: Literal["classification", "regression"] = "classification",
                 n_features: int | None = None, notes: dict | None = None) -> None:
        if task not in ("classification", "regression"):
            raise ParameterError(
                f"task must be 'classification' or 'regression'; got {task!r}.")
        self.notes = dict(notes or {})
        self.rules = tuple(rules)
        self.default = default
        self.ordered = bool(ordered)
        self.task = task
        self.schema = schema
        if task == "classification" and classes is None:
            k = max([int(r.output) for r in self.rules] + [int(default)]) + 1
            classes = tuple(range(k))
        self.classes = None if classes is None else tuple(classes)
        if n_features is None:
            used = [j for r in self.rules for t in r.conditions for j in _test_features(t)]
            n_features = schema.n_features if schema is not None else max(used, default=-1) + 1
        self.n_features = int(n_features)

    # -- prediction ----------------------------------------------------------------------
    def explain(self, X: np.ndarray) -> np.ndarray:
        """Int array (n_samples,): index of the deciding rule, -1 = default. ``DataError``
        when ``X`` holds NaN or inf (see ``TableSurrogate._rows``)."""
        X = self._rows(X)
        out = np.full(X.shape[0], -1, dtype=np.int64)
        for i in range(len(self.rules) - 1, -1, -1):  # later rules overwritten by earlier
            out[self.rules[i].holds(X)] = i
        return out

    def _outputs(self) -> np.ndarray:
        vals = [r.output for r in self.rules] + [self.default]
        dt = np.int64 if self.task == "classification" else float
        return np.asarray(vals, dtype=dt)

    def predict_index(self, X: np.ndarray) -> np.ndarray:
        """Class index (classification) or value (regression) per row."""
        return self._outputs()[self.explain(X)]  # -1 picks the default, stored last

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Labels (``classes`` values) or regression values, shape (n_samples,)."""
        idx = self.predict_index(X)
        if self.task == "regression":
            return idx
        return np.asarray(self.classes, dtype=object if any(
            isinstance(c, str) for c in self.classes) else None)[idx]

    def _label_text(self, out) -> str:
        return output_text(self.task, self.classes, out)

    def reasons(self, X: np.ndarray, *, k: int | None = None) -> list[str] | list[dict]:
        """One sentence per row naming the deciding rule.

        With ``k`` (1..10): the principal reasons instead, as dicts (prediction, up to ``k``
        reasons with signed contributions, the region's local fidelity); see
        :func:`nnrules.surrogates.reasons.reasons`.
        """
        if k is not None:
            from nnrules.surrogates.reasons import reasons

            return reasons(self, X, k)
        texts = [f"rule {i + 1}: {r.body_text(self.schema)} -> {self._label_text(r.output)}"
                 for i, r in enumerate(self.rules)]
        texts.append(f"no rule fired -> default {self._label_text(self.default)}")
        return [texts[i] for i in self.explain(X)]

    # -- symbolic ------------------------------------------------------------------------
    def symbols(self):
        """Sympy symbols, one per feature (see :func:`symbol_names`)."""
        import sympy

        return tuple(sympy.Symbol(n, real=True)
                     for n in symbol_names(self.schema, self.n_features))

    def to_sympy(self):
        """Classification: ``dict[label, sympy.Boolean]`` true exactly where that label is
        predicted (first-firing semantics made explicit); regression: one ``Piecewise``."""
        import sympy

        syms = self.symbols()
        bodies = [conjunction_sympy(r.conditions, syms) for r in self.rules]
        if self.task == "regression":
            pieces = [(sympy.Float(float(r.output), 17), b) for r, b in zip(self.rules, bodies)]
            return sympy.Piecewise(*pieces, (sympy.Float(float(self.default), 17), True))
        terms: dict[int, list] = {k: [] for k in range(len(self.classes))}
        earlier: list = []
        for r, b in zip(self.rules, bodies):
            terms[int(r.output)].append(sympy.And(b, *[sympy.Not(e) for e in earlier]))
            earlier.append(b)
        terms[int(self.default)].append(sympy.And(*[sympy.Not(e) for e in earlier]))
        return {self.classes[k]: sympy.Or(*t) for k, t in terms.items()}

    # -- text and size -------------------------------------------------------------------
    def to_text(self) -> str:
        """``IF ... THEN ...`` lines, then the default."""
        kw = ("ELSE IF" if self.ordered else "IF")
        lines = []
        for i, r in enumerate(self.rules):
            head = "IF" if i == 0 or not self.ordered else kw
            lines.append(f"{head} {r.body_text(self.schema)} THEN {self._label_text(r.output)}")
        lines.append(f"{'ELSE' if self.ordered else 'DEFAULT'} {self._label_text(self.default)}")
        return "\n".join(lines)

    def complexity(self) -> dict[str, int | float]:
        """rules, conditions (an m-of-n counts its n, a linear condition its features),
        mean_rule_length."""
        lengths = [sum(t.n_conditions() for t in r.conditions) for r in self.rules]
        return {"rules": len(lengths), "conditions": int(sum(lengths)),
                "mean_rule_length": float(np.mean(lengths)) if lengths else 0.0}

    # -- files ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = self.default
        return {
            "format": self.FORMAT,
            "version": self.VERSION,
            "task": self.task,
            "ordered": self.ordered,
            "classes": None if self.classes is None else [plain(c) for c in self.classes],
            "default": int(d) if self.task == "classification" else float(d),
            "n_features": self.n_features,
            "rules": [r.to_dict() for r in self.rules],
            "schema": schema_to_dict(self.schema),
            **annotations_to_dict(self),
            **({"notes": self.notes} if self.notes else {}),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RuleSet:
        check_header(d, cls)
        from nnrules.surrogates.structure import check_ruleset

        try:
            schema = schema_from_dict(d)
            classes = d.get("classes")
            rules = annotations_from_dict(cls(
                [Rule.from_dict(r) for r in d["rules"]], d["default"],
                ordered=bool(d["ordered"]), classes=None if classes is None else tuple(classes),
                schema=schema, task=d["task"], n_features=d.get("n_features"),
                notes=d.get("notes")), d)
        except (KeyError, TypeError, ValueError, OverflowError) as e:
            raise FormatError(f"Malformed {cls.FORMAT} file: {e!r}. Re-create it with "
                              "nnrules extract.") from e
        return check_ruleset(rules)

    def __repr__(self) -> str:
        return (f"RuleSet(n_rules={len(self.rules)}, ordered={self.ordered}, "
                f"task={self.task!r})")

