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

``Condition``, ``MofN``, ``simplify_conditions`` and the sympy helpers live in
:mod:`nnrules.surrogates.conditions` and are re-exported here; this module keeps ``Rule`` and
``RuleSet``.
"""

from __future__ import annotations

import math
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
from nnrules.surrogates.conditions import (
    OPS,
    Condition,
    MofN,
    Op,
    Test,
    conjunction_sympy,
    number_text,
    simplify_conditions,
    symbol_names,
    test_from_dict,
)
from nnrules.surrogates.linear import LinearCondition

if TYPE_CHECKING:
    from nnrules.schema import FeatureSchema

__all__ = [
    "OPS", "Condition", "LinearCondition", "MofN", "Op", "Rule", "RuleSet", "Test",
    "conjunction_sympy", "number_text", "output_text", "simplify_conditions", "symbol_names",
    "test_from_dict",
]


def output_text(task: str, classes: Sequence[Any] | None, out: Any) -> str:
    """Display of one stored output: the number (regression) or the label of class index
    ``out``. Shared by :class:`RuleSet` and :class:`~nnrules.surrogates.tree.TreeSurrogate`."""
    if task == "regression":
        return number_text(out)
    return str(classes[int(out)])


def _test_features(t: Test) -> tuple[int, ...]:
    """The feature indices a test reads."""
    if isinstance(t, MofN):
        return tuple(c.feature for c in t.conditions)
    if isinstance(t, LinearCondition):
        return t.features
    return (t.feature,)


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

