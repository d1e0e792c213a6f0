"""Certified input boxes: "if x lies in box B then the network answers c" (``BoxRuleSet``).

Every box was proven on the network by validity interval analysis (``nnrules.extract.via``):
for every input in the box (closed intervals, one-hot groups taken as valid one-hot rows), the
network's float32 answer is the box's class (or, for regression, lies in the box's output
range). Rows outside every box get the fallback: a distilled decision tree (not proven; its
decisions are marked in ``explain`` by negative numbers) or no answer (``"abstain"``).

``explain(X)``: box index ``0..n_boxes-1`` for rows a proven box decides; ``-1 - leaf`` for rows
the fallback tree's leaf ``leaf`` decides; ``-1 - n_leaves`` for rows nothing decides (``-1`` when
the fallback is ``"abstain"``, which has no leaves; with a tree, only rows its leaves do not tile,
never fallback leaf 0's ``-1``). ``predict`` gives ``None`` (object array) or NaN (regression) for
those rows. Rows holding NaN or inf are refused (``DataError``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from nnrules.exceptions import FormatError
from nnrules.schema import FeatureSchema, format_number
from nnrules.surrogates.base import (
    TableSurrogate,
    annotations_from_dict,
    annotations_to_dict,
    check_header,
    plain,
)
from nnrules.surrogates.boxes_coverage import coverage_details, volume_fraction
from nnrules.surrogates.boxes_text import box_terms

__all__ = ["BoxRuleSet"]

_GUARANTEE = (
    "For every input inside a box (closed intervals; a one-hot group takes exactly one of the "
    "categories its columns allow), the network run in float32 answers the box's class "
    "(regression: an output inside 'output'). Rows outside every box get the fallback, which "
    "is not proven."
)
_CHUNK = 4096


def _num(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _unnum(value: Any, default: float) -> float:
    return default if value is None else float(value)


class BoxRuleSet(TableSurrogate):
    """Proven boxes with a fallback.

    Parameters
    ----------
    lower, upper : ndarray of shape (n_boxes, n_features)
        Closed bounds of each box in schema space.
    outputs : sequence
        Classification: the class label (as the network names it) of each box.
        Regression: ``(lo, hi)`` proven output range of each box.
    schema : FeatureSchema
    task : {"classification", "regression"}
    classes : sequence or None
        The network's class labels (classification).
    fallback : {"tree", "abstain"}
    fallback_lower, fallback_upper : ndarray of shape (n_leaves, n_features), optional
        Leaves of the fallback tree as half-open boxes ``lower < x <= upper`` (±inf allowed);
        together they partition the space.
    fallback_outputs : sequence, optional
        Label (or value) of each leaf.
    verification : mapping, optional
        Counts and settings of the extraction (``proven``, ``refuted``, ``unknown``, ``bound``).
    notes : mapping, optional
        Provenance kept in the JSON (``notes["method"]``: the method that extracted it).
    """

    FORMAT = "nnrules/boxes"
    VERSION = 2  # 2: version 1 plus the optional local_fidelity and reason_stats

    def __init__(self, lower, upper, outputs, *, schema: FeatureSchema, task: str = "classification",
                 classes: Sequence | None = None, fallback: str = "abstain",
                 fallback_lower=None, fallback_upper=None, fallback_outputs=None,
                 verification: Mapping | None = None, notes: Mapping | None = None) -> None:
        d = schema.n_features
        self.notes = dict(notes or {})  # provenance, e.g. notes["method"]
        self.lower = np.asarray(lower, dtype=np.float64).reshape(-1, d)
        self.upper = np.asarray(upper, dtype=np.float64).reshape(-1, d)
        self.outputs = list(outputs)
        self.schema = schema
        self.task = task
        self.classes = None if classes is None else [plain(c) for c in classes]
        self.fallback = fallback
        if fallback == "tree":
            self.fallback_lower = np.asarray(fallback_lower, dtype=np.float64).reshape(-1, d)
            self.fallback_upper = np.asarray(fallback_upper, dtype=np.float64).reshape(-1, d)
            self.fallback_outputs = list(fallback_outputs)
        else:
            self.fallback_lower = np.zeros((0, d))
            self.fallback_upper = np.zeros((0, d))
            self.fallback_outputs = []
        self.verification = dict(verification or {})

    @property
    def n_boxes(self) -> int:
        return int(self.lower.shape[0])

    @property
    def n_features(self) -> int:
        return self.schema.n_features

    # -- prediction ----------------------------------------------------------------------
    def _first(self, X: np.ndarray, lo: np.ndarray, hi: np.ndarray, open_low: bool) -> np.ndarray:
        """Index of the first box containing each row (-1 if none), in row chunks."""
        out = np.full(X.shape[0], -1, dtype=np.int64)
        if lo.shape[0] == 0:
            return out
        for s in range(0, X.shape[0], _CHUNK):
            x = X[s:s + _CHUNK, None, :]
            above = x > lo[None] if open_low else x >= lo[None]
            inside = np.all(above & (x <= hi[None]), axis=2)
            hit = inside.any(axis=1)
            out[s:s + _CHUNK] = np.where(hit, inside.argmax(axis=1), -1)
        return out

    def _check_X(self, X) -> np.ndarray:
        return self._rows(X)  # refuses another width too (a box set always has a schema)

    def explain(self, X) -> np.ndarray:
        """Which box (>= 0) or fallback leaf (``-1 - leaf``) decided each row; ``-1 - n_leaves``
        (``-1`` when the fallback abstains) where none did.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of int64 of shape (n_samples,)
        """
        X = self._check_X(X)
        idx = self._first(X, self.lower, self.upper, open_low=False)
        miss = idx < 0
        if self.fallback == "tree" and miss.any():
            leaf = self._first(X[miss], self.fallback_lower, self.fallback_upper, open_low=True)
            idx[miss] = np.where(leaf >= 0, -1 - leaf, -1 - len(self.fallback_outputs))
        return idx

    def covered(self, X) -> np.ndarray:
        """True for rows inside some proven box, shape (n_samples,)."""
        return self._first(self._check_X(X), self.lower, self.upper, open_low=False) >= 0

    def _box_values(self) -> np.ndarray:
        if self.task == "regression":
            return np.array([(lo + hi) / 2.0 for lo, hi in self.outputs], dtype=np.float64)
        return np.asarray(self.outputs, dtype=object)

    def predict(self, X) -> np.ndarray:
        """Labels (classification) or values (regression: the proven range's midpoint).

        Rows the fallback abstains on get ``None`` (classification, object array) or NaN.
        """
        return self._outputs_at(self.explain(X))

    def _outputs_at(self, idx: np.ndarray) -> np.ndarray:
        """:meth:`predict`'s answers from :meth:`explain`'s indices (for a caller that has them)."""
        if self.task == "regression":
            values = np.concatenate([self._box_values(),
                                     np.asarray(self.fallback_outputs, dtype=np.float64)])
            out = np.full(idx.shape, np.nan)
        else:
            values = np.array(list(self.outputs) + list(self.fallback_outputs), dtype=object)
            out = np.full(idx.shape, None, dtype=object)
        pick = np.where(idx >= 0, idx, self.n_boxes + (-1 - idx))
        known = ~((idx == -1) & (self.fallback != "tree") | (pick >= len(values)))
        out[known] = values[pick[known]]
        if self.task == "classification" and all(v is not None for v in out) and len(out):
            sample = np.asarray(self.classes if self.classes else list(out))
            return np.asarray(out.tolist(), dtype=sample.dtype)
        return out

    # -- text ----------------------------------------------------------------------------
    def _box_terms(self, lo: np.ndarray, hi: np.ndarray, *, open_low: bool = False,
                   domain: bool = True) -> list[str]:
        """Readable conditions of one box (see :func:`nnrules.surrogates.boxes_text.box_terms`)."""
        return box_terms(self, lo, hi, open_low=open_low, domain=domain)

    def _output_text(self, k: int) -> str:
        if self.task == "regression":
            lo, hi = self.outputs[k]
            return f"output in [{format_number(lo)}, {format_number(hi)}]"
        return str(self.outputs[k])

    def _box_text(self, k: int) -> str:
        terms = self._box_terms(self.lower[k], self.upper[k])
        return f"if {' and '.join(terms) or 'true'} then {self._output_text(k)}"

    def _leaf_text(self, leaf: int) -> str:
        terms = self._box_terms(self.fallback_lower[leaf], self.fallback_upper[leaf],
                                open_low=True)
        return f"if {' and '.join(terms) or 'true'} then {self.fallback_outputs[leaf]}"

    def reasons(self, X, *, k: int | None = None) -> list[str] | list[dict]:
        """One sentence per row: the proven box that decided it, or the fallback.

        With ``k`` (1..10): the principal reasons instead, as dicts (prediction, up to ``k``
        reasons with signed contributions, the region's local fidelity); see
        :func:`nnrules.surrogates.reasons.reasons`.
        """
        if k is not None:
            from nnrules.surrogates.reasons import reasons

            return reasons(self, X, k)
        idx = self.explain(X)
        out = []
        for i in idx.tolist():
            if i >= 0:
                out.append(f"proven box {i}: {self._box_text(i)}")
            elif -1 - i < len(self.fallback_outputs):
                out.append(f"no proven box; fallback tree leaf {-1 - i} (not proven): "
                           f"{self._leaf_text(-1 - i)}")
            elif self.fallback == "tree":
                out.append("no proven box and no fallback tree leaf covers this row; abstained")
            else:
                out.append("no proven box covers this row; abstained")
        return out

    def to_text(self) -> str:
        """Every box on one line, then the fallback."""
        kind = "output ranges" if self.task == "regression" else "classes"
        lines = [f"{self.n_boxes} proven boxes ({kind} hold for every input in the box):"]
        lines += [f"  box {k}: {self._box_text(k)}" for k in range(self.n_boxes)]
        if self.fallback == "tree":
            lines.append(f"otherwise (not proven) the distilled tree, "
                         f"{len(self.fallback_outputs)} leaves:")
            lines += [f"  leaf {i}: {self._leaf_text(i)}"
                      for i in range(len(self.fallback_outputs))]
        else:
            lines.append("otherwise: abstain")
        return "\n".join(lines)

    def complexity(self) -> dict[str, int | float]:
        """Boxes, conditions (restricted features), mean conditions per box, fallback leaves."""
        lengths = [len(self._box_terms(self.lower[k], self.upper[k], domain=False))
                   for k in range(self.n_boxes)]
        return {
            "boxes": self.n_boxes,
            "rules": self.n_boxes,
            "conditions": int(sum(lengths)),
            "mean_rule_length": float(np.mean(lengths)) if lengths else 0.0,
            "fallback_leaves": len(self.fallback_outputs),
        }

    # -- sympy ---------------------------------------------------------------------------
    def symbols(self):
        """Sympy symbols, one per feature (names as in ``nnrules.surrogates.rules``)."""
        import sympy

        from nnrules.surrogates.rules import symbol_names

        return tuple(sympy.Symbol(n, real=True)
                     for n in symbol_names(self.schema, self.schema.n_features))

    def _sympy_box(self, lo: np.ndarray, hi: np.ndarray, open_low: bool):
        import sympy

        parts = []
        for s, a, b in zip(self.symbols(), lo, hi):
            if math.isfinite(a):
                parts.append(s > sympy.Float(a, 17) if open_low else s >= sympy.Float(a, 17))
            if math.isfinite(b):
                parts.append(s <= sympy.Float(b, 17))
        return sympy.And(*parts) if parts else sympy.true

    def to_sympy(self):
        """The boxes as conjunctions of interval conditions.

        Classification: ``dict[label, sympy.Boolean]``, true exactly where ``predict`` gives
        that label: the label's proven boxes, or (outside every box) the fallback tree's leaves
        of that label. With ``fallback="abstain"`` no condition holds outside the boxes.
        Regression: a ``Piecewise`` of the proven ranges' midpoints (then the fallback leaves,
        then NaN), in ``explain`` order. Built unevaluated: sympy's own simplification of
        hundreds of overlapping pieces takes minutes and changes nothing.
        """
        import sympy

        boxes = [self._sympy_box(self.lower[k], self.upper[k], False)
                 for k in range(self.n_boxes)]
        leaves = [self._sympy_box(self.fallback_lower[i], self.fallback_upper[i], True)
                  for i in range(len(self.fallback_outputs))]
        if self.task == "regression":
            values = list(self._box_values()) + list(self.fallback_outputs)
            pieces = [(sympy.Float(float(v), 17), c) for v, c in zip(values, boxes + leaves)]
            return sympy.Piecewise(*pieces, (sympy.nan, True), evaluate=False)
        outside = sympy.Not(sympy.Or(*boxes)) if boxes else sympy.true
        out = {}
        for label in self.classes:
            mine = [b for b, v in zip(boxes, self.outputs) if plain(v) == label]
            theirs = [c for c, v in zip(leaves, self.fallback_outputs) if plain(v) == label]
            out[label] = sympy.Or(*mine, sympy.And(outside, sympy.Or(*theirs)))
        return out

    # -- report --------------------------------------------------------------------------
    def volume_fraction(self, n_samples: int = 20000) -> float:
        """Fraction of the schema's input domain the boxes cover.

        Continuous features count length, integer features count whole values, one-hot groups
        count categories. Exact (sum over boxes) when no two boxes meet; otherwise a Monte
        Carlo estimate of the union from ``n_samples`` uniform valid rows (seed 0).
        """
        return volume_fraction(self, n_samples)

    def report_details(self, X, reference) -> dict[str, Any]:
        """Coverage and fidelity figures for the fidelity report.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        reference : array-like of shape (n_samples,)
            The network's answers on X.
        """
        return coverage_details(self, X, reference)

    # -- files ---------------------------------------------------------------------------
    def _bounds_dict(self, lo: np.ndarray, hi: np.ndarray) -> dict[str, list]:
        return {name: [_num(a), _num(b)] for name, a, b in zip(self.schema.names, lo, hi)}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: ``"boxes"`` is a plain list anyone can check without nnrules."""
        boxes = []
        for k in range(self.n_boxes):
            item: dict[str, Any] = {"bounds": self._bounds_dict(self.lower[k], self.upper[k])}
            if self.task == "regression":
                item["output"] = [float(self.outputs[k][0]), float(self.outputs[k][1])]
            else:
                item["class"] = plain(self.outputs[k])
            boxes.append(item)
        fallback: dict[str, Any] = {"kind": self.fallback}
        if self.fallback == "tree":
            fallback["leaves"] = [
                {"output": plain(v),
                 "bounds": self._bounds_dict(self.fallback_lower[i], self.fallback_upper[i])}
                for i, v in enumerate(self.fallback_outputs)
            ]
            fallback["semantics"] = "leaf bounds are half-open: lower < x <= upper; null = none"
        return {
            "format": self.FORMAT,
            "version": self.VERSION,
            "task": self.task,
            "classes": self.classes,
            "guarantee": _GUARANTEE,
            "boxes": boxes,
            "fallback": fallback,
            "schema": self.schema.to_dict(),
            "verification": {k: plain(v) for k, v in sorted(self.verification.items())},
            **annotations_to_dict(self),
            **({"notes": self.notes} if self.notes else {}),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> BoxRuleSet:
        """Inverse of :meth:`to_dict`; refuses other formats and versions."""
        from nnrules.surrogates.structure import check_boxes

        check_header(d, cls)
        try:
            schema = FeatureSchema.from_dict(d["schema"])
            names = schema.names
            task = d["task"]

            def arrays(items, open_low):
                lo = np.array([[_unnum(it["bounds"][n][0], -math.inf) for n in names]
                               for it in items]).reshape(-1, len(names))
                hi = np.array([[_unnum(it["bounds"][n][1], math.inf) for n in names]
                               for it in items]).reshape(-1, len(names))
                return lo, hi

            lower, upper = arrays(d["boxes"], False)
            key = "output" if task == "regression" else "class"
            outputs = [tuple(b[key]) if task == "regression" else b[key] for b in d["boxes"]]
            fb = d["fallback"]
            kwargs: dict[str, Any] = {}
            if fb["kind"] == "tree":
                flo, fhi = arrays(fb["leaves"], True)
                kwargs = {"fallback_lower": flo, "fallback_upper": fhi,
                          "fallback_outputs": [leaf["output"] for leaf in fb["leaves"]]}
            boxes = annotations_from_dict(cls(
                lower, upper, outputs, schema=schema, task=task, classes=d["classes"],
                fallback=fb["kind"], verification=d.get("verification"), notes=d.get("notes"),
                **kwargs), d)
        except (KeyError, TypeError, IndexError, ValueError, OverflowError) as exc:
            if isinstance(exc, FormatError):
                raise
            raise FormatError(
                f"Malformed {cls.FORMAT} file: missing or wrong entry {exc!s}. Regenerate it with "
                "nnrules extract --method via."
            ) from None
        return check_boxes(boxes)
