"""Versioned JSON files for surrogates and reports: ``dump``, ``dumps``, ``load``, ``loads``.

Every file is a JSON object ``{"format": "nnrules/<kind>", "version": N, ...}`` written
canonically (sorted keys, indent 2, ``allow_nan=False``, floats by ``repr`` so they round-trip
exactly, trailing newline) and atomically. Classes are found through a lazy registry of
``"module:Class"`` strings, so loading a tree does not import the box verifier. Files of kinds
with a JSON Schema in ``nnrules/io/schemas/<kind>.json`` are validated when ``jsonschema`` is
installed (silently skipped otherwise). Never pickle.

Reading is bounded before any surrogate sees the data (``parse_json``): files larger than
``MAX_JSON_BYTES``, nesting deeper than ``MAX_JSON_DEPTH``, integers outside the int64 range
(longer than ``MAX_INT_DIGITS`` digits first of all), and ``NaN`` / ``Infinity`` (which nnrules
never writes) are refused with a ``FormatError``, never a ``RecursionError`` or ``ValueError``
from deep inside ``json``. What the values mean is each surrogate's ``from_dict``'s business.
"""

from __future__ import annotations

import importlib
import json
import math
import os
from functools import cache
from pathlib import Path
from typing import Any

from nnrules.exceptions import FormatError
from nnrules.io.files import atomic_write_text, check_input_file

__all__ = ["FORMATS", "MAX_JSON_BYTES", "MAX_JSON_DEPTH", "dump", "dumps", "load", "loads",
           "parse_json", "validate"]

#: Largest nnrules JSON file read (bytes); raise it (``nnrules.io.serialize.MAX_JSON_BYTES``)
#: for a surrogate that is really this large.
MAX_JSON_BYTES = 256 * 2**20
#: Deepest nesting of arrays and objects in an nnrules file (the formats need fewer than 10).
MAX_JSON_DEPTH = 64
#: Integers are counts, indices and labels: within int64, so at most 19 digits and a sign.
MAX_INT_DIGITS = 20
_INT64 = 2**63

FORMATS: dict[str, str] = {
    "nnrules/additive": "nnrules.surrogates.additive:AdditiveSurrogate",
    "nnrules/automaton": "nnrules.surrogates.automaton:Automaton",
    "nnrules/boxes": "nnrules.surrogates.boxes:BoxRuleSet",
    "nnrules/report": "nnrules.fidelity:FidelityReport",
    "nnrules/ruleset": "nnrules.surrogates.rules:RuleSet",
    "nnrules/schema": "nnrules.schema:FeatureSchema",
    "nnrules/tree": "nnrules.surrogates.tree:TreeSurrogate",
}
SCHEMA_DIR = Path(__file__).parent / "schemas"


def _resolve(fmt: str):
    module, _, name = FORMATS[fmt].partition(":")
    return getattr(importlib.import_module(module), name)


def dumps(obj: Any) -> str:
    """Canonical JSON text of ``obj.to_dict()`` (or of a dict with a ``"format"``)."""
    d = obj if isinstance(obj, dict) else getattr(obj, "to_dict", None)
    if d is None:
        raise FormatError(
            f"Cannot serialise {type(obj).__name__!r}: it has no to_dict(). nnrules writes "
            f"surrogates and reports of the formats {sorted(FORMATS)}.")
    if not isinstance(d, dict):
        d = d()
    if not isinstance(d, dict) or "format" not in d:
        raise FormatError(f"{type(obj).__name__}.to_dict() must return a dict with a 'format'.")
    try:
        return json.dumps(d, sort_keys=True, indent=2, allow_nan=False, ensure_ascii=False) + "\n"
    except (TypeError, ValueError) as e:
        raise FormatError(f"Cannot write {d.get('format')!r} as JSON: {e}.") from e


def dump(obj: Any, path: str | os.PathLike) -> None:
    """Write ``dumps(obj)`` to ``path`` atomically (an existing file survives a failure)."""
    atomic_write_text(path, dumps(obj))


@cache
def _json_schema(kind: str) -> dict | None:
    p = SCHEMA_DIR / f"{kind}.json"
    return json.loads(p.read_text(encoding="utf-8")) if p.is_file() else None


def validate(d: dict) -> None:
    """Check ``d`` against its kind's JSON Schema, if both it and ``jsonschema`` exist."""
    kind = str(d.get("format", "")).partition("/")[2]
    schema = _json_schema(kind)
    if schema is None:
        return
    try:
        import jsonschema
    except ImportError:  # validation is an extra safety net, not a requirement
        return
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(d), key=str)
    if errors:
        e = errors[0]
        where = "/".join(str(p) for p in e.absolute_path) or "<top>"
        raise FormatError(f"Invalid {d['format']} file at {where}: {e.message}.")


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS or not -_INT64 <= (value := int(text)) < _INT64:
        shown = text if len(text) <= 40 else f"{text[:12]}...({len(text)} digits)"
        raise _Refused(f"the integer {shown} is outside the 64-bit range nnrules writes (counts, "
                       "indices and labels)")
    return value


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        shown = text if len(text) <= 24 else f"{text[:12]}...({len(text)} characters)"
        raise _Refused(f"the number {shown} is beyond the float64 range (nnrules writes finite "
                       "numbers only)")
    return value


def _parse_constant(text: str) -> Any:
    raise _Refused(f"{text} is not allowed (nnrules writes finite numbers only)")


class _Refused(ValueError):
    """Raised inside json's hooks; becomes a FormatError naming the file."""


def _depth(obj: Any) -> int:
    """Nesting depth of parsed JSON, without recursion (a scalar is 0)."""
    deepest, stack = 0, [(obj, 1)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, dict):
            value = value.values()
        elif not isinstance(value, list):
            continue
        deepest = max(deepest, level)
        if level > MAX_JSON_DEPTH:
            break
        stack.extend((v, level + 1) for v in value if isinstance(v, (dict, list)))
    return deepest


def parse_json(text: str | bytes, *, source: str = "text") -> Any:
    """``json.loads`` within nnrules' limits: size, depth, int64 integers, finite numbers.

    Raises
    ------
    FormatError
        Not JSON, larger than ``MAX_JSON_BYTES``, nested deeper than ``MAX_JSON_DEPTH``, an
        integer outside int64, or NaN / Infinity. The message names ``source`` and the limit.
    """
    if len(text) > MAX_JSON_BYTES:
        raise FormatError(
            f"{source} holds {len(text)} characters, more than the {MAX_JSON_BYTES} an nnrules "
            "file may have (nnrules.io.serialize.MAX_JSON_BYTES); raise that limit if the file is "
            "really this large.")
    try:
        value = json.loads(text, parse_int=_parse_int, parse_float=_parse_float,
                           parse_constant=_parse_constant)
    except RecursionError:
        raise FormatError(
            f"{source} is not an nnrules file: its arrays and objects are nested deeper than "
            f"{MAX_JSON_DEPTH} levels.") from None
    except _Refused as e:
        raise FormatError(f"{source} is not an nnrules file: {e}.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise FormatError(f"{source} is not an nnrules file: not valid JSON ({e}).") from None
    except ValueError as e:  # e.g. a float literal with thousands of digits
        raise FormatError(f"{source} is not an nnrules file: {e}.") from None
    if _depth(value) > MAX_JSON_DEPTH:
        raise FormatError(
            f"{source} is not an nnrules file: its arrays and objects are nested deeper than "
            f"{MAX_JSON_DEPTH} levels.")
    return value


def loads(text: str, *, source: str = "text") -> Any:
    """Parse nnrules JSON text back into its object.

    Raises
    ------
    FormatError
        Not JSON, beyond the limits of ``parse_json``, not an nnrules file, unknown format or
        a newer version, or schema-invalid.
    """
    d = parse_json(text, source=source)
    if not isinstance(d, dict) or "format" not in d:
        raise FormatError(
            f"{source} is not an nnrules file: expected a JSON object with a 'format' key.")
    fmt = d["format"]
    if fmt not in FORMATS:
        raise FormatError(
            f"{source} has unknown format {fmt!r}; known formats are {sorted(FORMATS)}.")
    cls = _resolve(fmt)
    version, known = d.get("version"), getattr(cls, "VERSION", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise FormatError(f"{source} ({fmt}) has invalid version {version!r}; expected an int "
                          f">= 1.")
    if version > known:
        raise FormatError(
            f"{source} is {fmt} version {version}, but this nnrules reads version {known}; "
            "upgrade nnrules to read it.")
    validate(d)
    return cls.from_dict(d)


def load(path: str | os.PathLike) -> Any:
    """Read the nnrules file at ``path``; missing file → ``InputFileError``."""
    p = check_input_file(path, "nnrules file")
    size = p.stat().st_size
    if size > MAX_JSON_BYTES:
        raise FormatError(
            f"{str(p)!r} holds {size} bytes, more than the {MAX_JSON_BYTES} an nnrules file may "
            "have (nnrules.io.serialize.MAX_JSON_BYTES); raise that limit if the file is really "
            "this large.")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise FormatError(f"{str(p)!r} is not an nnrules file: not UTF-8 text.") from e
    return loads(text, source=repr(str(p)))
