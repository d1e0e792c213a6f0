"""What every exporter reads: a surrogate as a decision list of atomic tests, or its additive terms.

Exporters only read surrogates; this module turns the three rule-like kinds into one shape:

* ``Atom(feature, op, value)``: ``x[feature] op value`` with ``op`` in ``<=, <, >, >=, ==, !=``
  (float64 semantics, the surrogate's own).
* ``AtLeast(m, atoms)``: at least ``m`` of the atoms hold (TREPAN's m-of-n tests).
* ``LinearAtom(features, weights, op, value)``: an oblique test, the float64 sum
  ``w1*x[f1] + w2*x[f2] + ...`` formed left to right, compared with ``value`` (``<=`` / ``>``);
  exporters form it in the same order so they agree with the surrogate bit for bit.
* ``DecisionList(bodies, outputs, default, scores)``: the first body (a conjunction) that holds
  decides; ``outputs[i]`` is the label / value of body ``i``; rows no body covers get
  ``default`` (``None`` = abstain, for boxes without a fallback).

Trees become one body per reachable leaf (exclusive, so order does not matter), rule sets keep
their order, boxes come first (closed bounds) then the fallback tree's half-open leaves.

Float32 inputs
--------------
The ONNX export reads the network's float32 inputs. For a float32 ``x`` and a float64 threshold
``t``, ``x <= t`` holds exactly when ``x <= floor32(t)`` (the largest float32 not above ``t``),
and ``x >= t`` exactly when ``x >= ceil32(t)``; ``x == t`` can only hold when ``t`` is a float32.
:func:`to_float32` rewrites an atom so that comparing in float32 gives the float64 answer for
every float32 input; nothing is approximated.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nnrules.exceptions import UnsupportedModelError

__all__ = [
    "AtLeast",
    "Atom",
    "DecisionList",
    "LinearAtom",
    "categories_where",
    "ceil32",
    "decision_list",
    "floor32",
    "kind_of",
    "label_list",
    "leaf_outputs",
    "linear_numeric",
    "to_float32",
]

OPS6 = ("<=", "<", ">", ">=", "==", "!=")
_NEGATE = {"<=": ">", ">": "<=", "<": ">=", ">=": "<", "==": "!=", "!=": "=="}


@dataclass(frozen=True)
class Atom:
    """``x[feature] op value`` (float64)."""

    feature: int
    op: str
    value: float

    def negate(self) -> Atom:
        return Atom(self.feature, _NEGATE[self.op], self.value)

    def holds(self, x: float) -> bool:
        v = self.value
        return {"<=": x <= v, "<": x < v, ">": x > v, ">=": x >= v, "==": x == v,
                "!=": x != v}[self.op]


@dataclass(frozen=True)
class AtLeast:
    """At least ``m`` of ``atoms`` hold."""

    m: int
    atoms: tuple[Atom, ...]


@dataclass(frozen=True)
class LinearAtom:
    """``w1*x[f1] + ... op value`` (float64, summed left to right)."""

    features: tuple[int, ...]
    weights: tuple[float, ...]
    op: str
    value: float

    def text(self, names: Sequence[str]) -> str:
        """``"2*a + -1*b > 0.4"``: the condition with full-precision weights (for messages)."""
        terms = " + ".join(f"{w!r}*{names[j]}" for j, w in zip(self.features, self.weights))
        return f"{terms} {self.op} {self.value!r}"


Test = Atom | AtLeast | LinearAtom


def linear_numeric(atom: LinearAtom, schema: Any, target: str) -> None:
    """Refuse (UnsupportedModelError) a linear test that weighs a categorical feature: its
    codes are not numbers an exported row carries."""
    for j in atom.features:
        f = schema.features[j]
        if f.kind == "categorical":
            raise UnsupportedModelError(
                f"The oblique condition {atom.text(schema.names)} weighs the categorical "
                f"feature {f.name!r}, whose codes an exported {target} row does not carry. "
                "Extract without oblique conditions (oblique=False) to export it.")


def linear_sum(atom: LinearAtom, schema: Any, target: str,
               term: Callable[[float, str], str], bracket_later: bool = False) -> str:
    """The weighted sum of a linear test as ``target`` text, formed left to right as the
    surrogate forms it: ``((t0 + t1) + t2)``, one ``term(weight, feature_name)`` per feature.

    Refuses (UnsupportedModelError, see ``linear_numeric``) a categorical feature first.
    ``bracket_later`` puts every term after the first in brackets of its own.
    """
    linear_numeric(atom, schema, target)
    total = ""
    for k, (j, w) in enumerate(zip(atom.features, atom.weights)):
        text = term(float(w), schema.features[j].name)
        if k == 0:
            total = f"({text})"
        else:
            total = f"({total} + ({text}))" if bracket_later else f"({total} + {text})"
    return total


@dataclass
class DecisionList:
    """First body that holds decides; see the module docstring."""

    bodies: list[tuple[Test, ...]]
    outputs: list[Any]
    default: Any
    scores: np.ndarray | None = None  # (len(bodies) + 1, n_classes): last row for the default
    body_names: list[str] | None = None


def kind_of(surrogate: Any) -> str:
    """``"tree"``, ``"ruleset"``, ``"boxes"``, ``"additive"`` or ``"automaton"`` from the format."""
    fmt = getattr(surrogate, "FORMAT", None)
    kinds = {"nnrules/tree": "tree", "nnrules/ruleset": "ruleset", "nnrules/boxes": "boxes",
             "nnrules/additive": "additive", "nnrules/automaton": "automaton"}
    if fmt not in kinds:
        raise UnsupportedModelError(
            f"Cannot export a {type(surrogate).__name__} (format {fmt!r}); exportable formats "
            f"are {sorted(kinds)}.")
    return kinds[fmt]


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def label_list(surrogate: Any) -> list[Any]:
    """The class labels as plain Python values."""
    return [_plain(c) for c in surrogate.classes]


def leaf_outputs(tree: Any) -> np.ndarray:
    """Per node: the class index a tree predicts there (first largest share), or the value."""
    return tree.value[:, 0] if tree.task == "regression" else np.argmax(tree.value, axis=1)


def _from_test(test: Any) -> Test:
    """A surrogate ``Condition`` / ``MofN`` / ``LinearCondition`` as an atom / at-least /
    linear test."""
    if hasattr(test, "weights"):
        return LinearAtom(tuple(test.features), tuple(test.weights), test.op, float(test.value))
    if hasattr(test, "m"):
        return AtLeast(int(test.m), tuple(Atom(c.feature, c.op, c.value) for c in test.conditions))
    return Atom(test.feature, test.op, test.value)


def decision_list(surrogate: Any) -> DecisionList:
    """The decision list of a tree, rule set or box set (see the module docstring)."""
    kind = kind_of(surrogate)
    if kind == "tree":
        return _tree_list(surrogate)
    if kind == "ruleset":
        return _ruleset_list(surrogate)
    if kind == "boxes":
        return _boxes_list(surrogate)
    raise UnsupportedModelError(f"A {kind} surrogate has no decision list; export its terms.")


def _tree_list(tree: Any) -> DecisionList:
    from nnrules.surrogates.rules import simplify_conditions

    outs = leaf_outputs(tree)
    labels = None if tree.task == "regression" else label_list(tree)
    bodies, outputs, names, rows = [], [], [], []
    for leaf, path in tree.paths().items():
        s = simplify_conditions(path)
        if s is None:
            continue  # no row reaches this leaf
        bodies.append(tuple(_from_test(t) for t in s))
        outputs.append(float(outs[leaf]) if labels is None else labels[int(outs[leaf])])
        names.append(f"leaf {leaf}")
        if labels is not None:
            v = tree.value[leaf]
            total = v.sum()
            rows.append(v / total if total > 0 else np.full(v.shape, 1.0 / v.size))
    scores = None
    if labels is not None:
        rows.append(np.zeros(len(labels)))  # never reached: the leaves partition the space
        scores = np.asarray(rows, dtype=np.float64)
    default = outputs[0] if outputs else None
    return DecisionList(bodies, outputs, default, scores, names)


def _ruleset_list(rs: Any) -> DecisionList:
    def out(o):
        return float(o) if rs.task == "regression" else label_list(rs)[int(o)]

    bodies = [tuple(_from_test(t) for t in r.conditions) for r in rs.rules]
    return DecisionList(bodies, [out(r.output) for r in rs.rules], out(rs.default), None,
                        [f"rule {i + 1}" for i in range(len(rs.rules))])


def _box_body(lo: np.ndarray, hi: np.ndarray, open_low: bool) -> tuple[Atom, ...]:
    atoms = []
    for j, (a, b) in enumerate(zip(lo.tolist(), hi.tolist())):
        if a > -math.inf:
            atoms.append(Atom(j, ">" if open_low else ">=", a))
        if b < math.inf:
            atoms.append(Atom(j, "<=", b))
    return tuple(atoms)


def _boxes_list(boxes: Any) -> DecisionList:
    values = (np.array([(lo + hi) / 2.0 for lo, hi in boxes.outputs], dtype=np.float64)
              if boxes.task == "regression" else np.asarray(boxes.outputs, dtype=object))
    bodies = [_box_body(boxes.lower[k], boxes.upper[k], False) for k in range(boxes.n_boxes)]
    outputs = [float(v) if boxes.task == "regression" else _plain(v) for v in values.tolist()]
    names = [f"box {k}" for k in range(boxes.n_boxes)]
    for i, v in enumerate(boxes.fallback_outputs):
        bodies.append(_box_body(boxes.fallback_lower[i], boxes.fallback_upper[i], True))
        outputs.append(float(v) if boxes.task == "regression" else _plain(v))
        names.append(f"fallback leaf {i}")
    return DecisionList(bodies, outputs, None, None, names)


# -- float32 -------------------------------------------------------------------------------

def floor32(t: float) -> float:
    """The largest float32 not above ``t`` (as a Python float)."""
    if math.isnan(t):
        return t
    with np.errstate(over="ignore"):
        f = np.float32(t)
    if float(f) > t:
        f = np.nextafter(f, np.float32(-np.inf))
    return float(f)


def ceil32(t: float) -> float:
    """The smallest float32 not below ``t``."""
    if math.isnan(t):
        return t
    with np.errstate(over="ignore"):
        f = np.float32(t)
    if float(f) < t:
        f = np.nextafter(f, np.float32(np.inf))
    return float(f)


def to_float32(atom: Atom) -> Atom | bool:
    """An atom whose float32 comparison equals the float64 one on every float32 input.

    Returns ``True`` / ``False`` when the test is constant on float32 inputs (``x == t`` for a
    ``t`` no float32 equals).
    """
    op, t = atom.op, atom.value
    if op in ("<=", ">"):
        return Atom(atom.feature, op, floor32(t))
    if op in ("<", ">="):
        return Atom(atom.feature, op, ceil32(t))
    exact = math.isfinite(t) and float(np.float32(t)) == t
    if not exact:
        return op == "!="
    return atom


def categories_where(categories: Sequence[str], atom: Atom) -> list[str]:
    """The categories whose code ``0..k-1`` satisfies ``atom``."""
    return [c for i, c in enumerate(categories) if atom.holds(float(i))]
