"""Value labels: what codes mean and which unit a number is in, so rules read as people speak.

A labels file (``--labels labels.json``, format ``nnrules/labels``) names, per feature or
one-hot group, a display name, the meaning of each code and a unit::

    {"format": "nnrules/labels", "version": 1,
     "features": {
       "status":   {"name": "checking account",
                    "values": {"A11": "below 0 DM", "A14": "no checking account"}},
       "duration": {"name": "duration", "unit": "months"}}}

Keys of ``features`` are feature names or one-hot group names; every key, every code and every
entry is checked against the schema (``check_labels``). The labels are embedded in the schema
(``FeatureSchema.with_labels``) and so in every surrogate file; rules and reports then read
``checking account: no checking account (A14)`` and ``duration > 24 months``. Files written
before labels existed load unchanged.

Examples
--------
>>> from nnrules.schema import Feature, FeatureSchema
>>> s = FeatureSchema((Feature("duration", "integer", 4, 72),
...                    Feature("status_A11", "onehot", 0, 1, group="status", category="A11"),
...                    Feature("status_A14", "onehot", 0, 1, group="status", category="A14")))
>>> s = s.with_labels({"features": {"duration": {"unit": "months"}, "status": {
...     "name": "checking account", "values": {"A14": "none"}}}})
>>> s.describe_condition(0, ">", 24.5), s.describe_condition(2, ">", 0.5)
('duration > 24 months', 'checking account: none (A14)')
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nnrules.exceptions import FormatError, InputFileError, SchemaError

if TYPE_CHECKING:
    from nnrules.schema import FeatureSchema

__all__ = ["LABELS_FORMAT", "LABELS_VERSION", "check_labels", "describe_labelled",
           "read_labels"]

LABELS_FORMAT = "nnrules/labels"
LABELS_VERSION = 1
_ENTRY_KEYS = ("name", "unit", "values")


def read_labels(path: str | Path) -> dict[str, Any]:
    """Read a labels file and validate it against its JSON Schema
    (``nnrules/io/schemas/labels.json``, when ``jsonschema`` is installed).

    Raises
    ------
    InputFileError
        The file is missing or not JSON.
    FormatError
        Another format or version, or the file breaks the JSON Schema.
    """
    path = Path(path)
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputFileError(f"Labels file {str(path)!r} does not exist; pass the path of a "
                             "JSON file with format 'nnrules/labels'.") from None
    except (OSError, ValueError) as err:
        raise InputFileError(f"Labels file {str(path)!r} is not readable JSON: {err}.") from None
    if not isinstance(d, Mapping) or d.get("format") != LABELS_FORMAT:
        got = d.get("format") if isinstance(d, Mapping) else type(d).__name__
        raise FormatError(f"{path.name!r}: expected format {LABELS_FORMAT!r}; got {got!r}. "
                          "See docs/formats.md, 'Value labels'.")
    if d.get("version") != LABELS_VERSION:
        raise FormatError(f"{path.name!r}: unknown {LABELS_FORMAT} version "
                          f"{d.get('version')!r}; this nnrules reads version {LABELS_VERSION}.")
    _validate_json_schema(d, path.name)
    return {"features": dict(d["features"])}


def _validate_json_schema(d: Mapping[str, Any], name: str) -> None:
    try:
        import jsonschema
    except ImportError:  # optional: check_labels still checks every entry against the schema
        return

    schema = json.loads((Path(__file__).parent / "io" / "schemas" / "labels.json").read_text())
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(d), key=str)
    if errors:
        e = errors[0]
        where = "/".join(str(p) for p in e.absolute_path) or "(top)"
        raise FormatError(f"{name!r} breaks the labels format at {where}: {e.message}.")


def check_labels(labels: Mapping[str, Any], schema: FeatureSchema) -> dict[str, Any]:
    """``labels`` checked against ``schema`` and normalised (strings throughout, keys sorted).

    Raises
    ------
    SchemaError
        A key that names no feature or group, a code the feature does not have, a unit on a
        categorical feature, or an unknown entry key.
    """
    feats = labels.get("features") if isinstance(labels, Mapping) else None
    if not isinstance(feats, Mapping):
        raise SchemaError(f"Labels need a 'features' object; got {labels!r}.")
    by_name = {f.name: f for f in schema.features}
    groups = schema.groups
    known = sorted(set(by_name) | set(groups))
    out: dict[str, Any] = {}
    for key in sorted(feats):
        entry = feats[key]
        if key not in by_name and key not in groups:
            raise SchemaError(f"Labels name {key!r}, which is neither a feature nor a one-hot "
                              f"group of this schema; valid names are {known}.")
        if not isinstance(entry, Mapping) or set(entry) - set(_ENTRY_KEYS):
            raise SchemaError(f"Labels for {key!r} must be an object with keys among "
                              f"{list(_ENTRY_KEYS)}; got {entry!r}.")
        codes = _codes(schema, key)
        clean: dict[str, Any] = {}
        if entry.get("name") is not None:
            clean["name"] = str(entry["name"])
        if entry.get("unit") is not None:
            if codes is not None:
                raise SchemaError(f"{key!r} is categorical: a unit fits numeric features only. "
                                  "Remove its 'unit'.")
            clean["unit"] = str(entry["unit"])
        values = entry.get("values")
        if values is not None:
            if codes is None:
                codes = _numeric_codes(schema, key)
            bad = sorted(set(map(str, values)) - set(codes))
            if bad:
                raise SchemaError(f"Labels for {key!r} name codes {bad} it does not have; its "
                                  f"codes are {sorted(codes)}.")
            clean["values"] = {str(c): str(v) for c, v in sorted(values.items())}
        out[key] = clean
    return {"features": out}


def _codes(schema: FeatureSchema, key: str) -> list[str] | None:
    """Codes of a one-hot group or categorical feature; None for numeric features."""
    if key in schema.groups:
        return [str(schema.features[j].category) for j in schema.groups[key]]
    f = schema.features[schema.names.index(key)]
    return list(f.categories) if f.kind == "categorical" else None


def _numeric_codes(schema: FeatureSchema, key: str) -> list[str]:
    f = schema.features[schema.names.index(key)]
    if f.kind == "binary":
        return ["0", "1"]
    if f.kind == "integer":
        from nnrules.schema import format_number

        if f.upper - f.lower <= 1000:
            return [format_number(v) for v in range(int(f.lower), int(f.upper) + 1)]
    raise SchemaError(f"{key!r} is a {f.kind} feature: value labels fit codes (one-hot groups, "
                      "categorical, binary or integer features); give it a 'unit' instead.")


def describe_labelled(schema: FeatureSchema, j: int, op: str, value: float) -> str | None:
    """The test ``x[j] op value`` with the schema's labels, or None when ``j`` has none."""
    import math

    from nnrules.schema import _zero_one_test, format_number

    f = schema.features[j]
    entry = schema._label_entry(f.group if f.kind == "onehot" else f.name)
    if not entry:
        return None
    name = schema.display_name(j)
    if f.kind in ("binary", "onehot"):
        hot = _zero_one_test(op, value)
        if hot is None:
            return None
        if f.kind == "onehot":
            return f"{name}: {'' if hot else 'not '}{schema.value_label(j, f.category)}"
        return f"{name}: {schema.value_label(j, int(hot))}"
    if f.kind == "categorical":
        cats = f.categories
        if not math.isfinite(value):
            return None
        if op in ("==", "!="):
            if value != math.floor(value) or not 0 <= value < len(cats):
                return None
            return f"{name}: {'' if op == '==' else 'not '}{schema.value_label(j, cats[int(value)])}"
        cut = math.floor(value)
        chosen = [c for i, c in enumerate(cats) if (i <= cut) == (op == "<=")]
        if not chosen:
            return None
        if len(chosen) == 1:
            return f"{name}: {schema.value_label(j, chosen[0])}"
        return f"{name} in {{{', '.join(schema.value_label(j, c) for c in chosen)}}}"
    unit = f" {entry['unit']}" if entry.get("unit") else ""
    if f.kind == "integer" and op in ("<=", ">") and math.isfinite(value):
        value = math.floor(value)
    if op in ("==", "!=") and entry.get("values"):
        return f"{name}: {'' if op == '==' else 'not '}{schema.value_label(j, value)}"
    return f"{name} {op} {format_number(value)}{unit}"
