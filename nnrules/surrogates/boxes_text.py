"""The text of a ``BoxRuleSet``'s boxes: conditions rounded inwards, one-hot groups by category.

Split out of :mod:`nnrules.surrogates.boxes` (``BoxRuleSet._box_terms`` calls :func:`box_terms`).
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from nnrules.schema import format_number

if TYPE_CHECKING:
    from nnrules.surrogates.boxes import BoxRuleSet

__all__ = ["allowed_hot", "box_terms"]


def allowed_hot(idx: Sequence[int], lo: np.ndarray, hi: np.ndarray, open_low: bool) -> list[int]:
    """Columns of a one-hot group that can be the hot one inside the box."""
    def fits(value: float, i: int) -> bool:
        above = lo[i] < value if open_low else lo[i] <= value
        return bool(above and hi[i] >= value)

    return [i for i in idx if fits(1.0, i) and all(fits(0.0, k) for k in idx if k != i)]


def _inward(value: float, side: str) -> str:
    """A proven bound as short text, rounded towards the inside of the box.

    ``format_number`` rounds to nearest, which can move a lower bound down or an upper bound
    up: the text would then cover points the proof did not. Six significant digits, rounded
    up for a lower bound and down for an upper one, never claim more than the bound (read
    back as a float, the text's number lies inside it).
    """
    value = float(value)
    text = format_number(value)
    if float(text) >= value if side == "lower" else float(text) <= value:
        return text
    rounding = decimal.ROUND_CEILING if side == "lower" else decimal.ROUND_FLOOR
    rounded = decimal.Context(prec=6, rounding=rounding).plus(decimal.Decimal(value))
    return f"{float(rounded):.6g}"


def box_terms(boxes: BoxRuleSet, lo: np.ndarray, hi: np.ndarray, *, open_low: bool = False,
              domain: bool = True) -> list[str]:
    """Readable conditions of one box of ``boxes`` (``BoxRuleSet._box_terms``).

    A proven box (``open_low`` False) states every finite bound of a continuous or integer
    feature, those equal to the data domain's included: the proof assumed them, so a
    reader must not apply the box outside them (``domain=False`` skips them, for counting
    the conditions a box adds). Numbers are rounded inwards, so the text never claims a
    point the proof did not cover. Fallback leaves (``open_low``) state their own tests.
    """
    schema, terms = boxes.schema, []
    done_groups = set()
    for j, f in enumerate(schema.features):
        if f.kind == "onehot":
            if f.group in done_groups:
                continue
            done_groups.add(f.group)
            idx = schema.groups[f.group]
            allowed = [schema.features[i].category for i in allowed_hot(idx, lo, hi, open_low)]
            if len(allowed) < len(idx):
                cats = ", ".join(str(c) for c in allowed)
                terms.append(f"{f.group} == {cats}" if len(allowed) == 1
                             else f"{f.group} in {{{cats}}}")
            continue
        if open_low:
            if math.isfinite(lo[j]):
                terms.append(schema.describe_condition(j, ">", lo[j]))
            if math.isfinite(hi[j]):
                terms.append(schema.describe_condition(j, "<=", hi[j]))
            continue
        numeric = f.kind in ("continuous", "integer")
        low_on = lo[j] > f.lower or (domain and numeric and math.isfinite(lo[j]))
        high_on = hi[j] < f.upper or (domain and numeric and math.isfinite(hi[j]))
        low, high = _inward(lo[j], "lower"), _inward(hi[j], "upper")
        if low_on and high_on and lo[j] == hi[j]:
            terms.append(f"{f.name} == {format_number(lo[j])}")
        elif low_on and high_on:
            terms.append(f"{low} <= {f.name} <= {high}")
        elif low_on:
            terms.append(f"{f.name} >= {low}")
        elif high_on:
            terms.append(f"{f.name} <= {high}")
    return terms
