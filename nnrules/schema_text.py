"""Text of schema conditions and tables: number formatting, ``describe_condition``, ``to_text``.

Split out of ``nnrules.schema`` (which re-exports ``format_number`` and ``OPS``); the functions
take the ``FeatureSchema`` as first argument.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from nnrules.exceptions import SchemaError

if TYPE_CHECKING:
    from nnrules.schema import Feature, FeatureSchema

__all__ = ["OPS", "describe_condition", "format_number", "to_text"]

OPS = ("!=", "<=", "==", ">")
_REPR_MAX = 10


def format_number(value: float) -> str:
    """Compact text for a number: ``37`` for whole numbers, ``repr`` if short, else ``%.6g``.

    Examples
    --------
    >>> format_number(37.0), format_number(0.25), format_number(1 / 3)
    ('37', '0.25', '0.333333')
    """
    value = float(value)
    if math.isfinite(value) and value == math.floor(value) and abs(value) < 1e15:
        return str(int(value))
    text = repr(value)
    return text if len(text) <= _REPR_MAX else f"{value:.6g}"


def describe_condition(schema: FeatureSchema, feature_index: int, op: str, value: float) -> str:
    """Body of :meth:`FeatureSchema.describe_condition` (see there)."""
    if op not in OPS:
        raise SchemaError(f"Unknown comparison {op!r}; valid ones are {list(OPS)}.")
    if not isinstance(feature_index, (int, np.integer)) or not (
        0 <= feature_index < schema.n_features
    ):
        raise SchemaError(
            f"Feature index {feature_index!r} is out of range; valid is 0..{schema.n_features - 1}."
        )
    f = schema.features[int(feature_index)]
    value = float(value)
    if schema.labels:
        from nnrules.labels import describe_labelled

        text = describe_labelled(schema, int(feature_index), op, value)
        if text is not None:
            return text
    if f.kind in ("binary", "onehot"):
        hot = _zero_one_test(op, value)
        if hot is not None:
            if f.kind == "onehot":
                return f"{f.group} {'==' if hot else '!='} {f.category}"
            return f"{f.name} == {int(hot)}"
    elif f.kind == "categorical":
        text = _categorical_test(f, op, value)
        if text is not None:
            return text
    elif f.kind == "integer" and op in ("<=", ">") and math.isfinite(value):
        # For whole numbers, x <= 37.5 is x <= 37 and x > 37.5 is x > 37.
        return f"{f.name} {op} {format_number(math.floor(value))}"
    return f"{f.name} {op} {format_number(value)}"


def to_text(schema: FeatureSchema) -> str:
    """Body of :meth:`FeatureSchema.to_text` (see there)."""
    rows = [("#", "name", "kind", "lower", "upper", "details")]
    for i, f in enumerate(schema.features):
        if f.kind == "onehot":
            detail = f"{f.group} = {f.category}"
        elif f.kind == "categorical":
            shown = ", ".join(f.categories[:6]) + (", ..." if len(f.categories) > 6 else "")
            detail = f"{len(f.categories)} categories: {shown}"
        else:
            detail = ""
        if schema.input_names is not None and schema.input_names[i] != f.name:
            detail = (detail + f" (input {schema.input_names[i]!r})").strip()
        rows.append(
            (str(i), f.name, f.kind, format_number(f.lower), format_number(f.upper), detail)
        )
    widths = [max(len(r[c]) for r in rows) for c in range(5)]
    lines = ["  ".join(r[c].ljust(widths[c]) for c in range(5)) + "  " + r[5] for r in rows]
    return "\n".join(line.rstrip() for line in lines)


def _zero_one_test(op: str, value: float) -> bool | None:
    """For a 0/1 column: True if the test means "is 1", False if "is 0", None if neither."""
    if op == ">" and 0 <= value < 1:
        return True
    if op == "<=" and 0 <= value < 1:
        return False
    if op in ("==", "!=") and value in (0.0, 1.0):
        return (value == 1.0) == (op == "==")
    return None


def _categorical_test(f: Feature, op: str, value: float) -> str | None:
    """Text of a test on category codes, or None when it is not about whole codes."""
    cats = f.categories
    k = len(cats)
    if not math.isfinite(value):  # no whole code (and math.floor(inf) raises)
        return None
    if op in ("==", "!="):
        if value == math.floor(value) and 0 <= value < k:
            return f"{f.name} {op} {cats[int(value)]!r}"
        return None
    cut = math.floor(value)  # codes <= cut satisfy "<="
    chosen = [c for i, c in enumerate(cats) if (i <= cut) == (op == "<=")]
    if not chosen:
        return None
    if len(chosen) == 1:
        return f"{f.name} == {chosen[0]!r}"
    return f"{f.name} in {{{', '.join(repr(c) for c in chosen)}}}"
