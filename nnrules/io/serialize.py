"""Versioned JSON files for surrogates and reports: ``dump``, ``dumps``, ``load``, ``loads``.

Every file is a JSON object ``{"format": "nnrules/<kind>", "version": N, ...}`` written
canonically (sorted keys, indent 2, ``allow_nan=False``, floats by ``repr`` so they round-trip
exactly, trailing newline) and atomically. Classes are found through a lazy registry of
``"module:Class"`` strings, so loading a tree does not import the box verifier. Files of kinds
with a JSON Schema in ``nnrules/io/schemas/<kind>.json`` are validated when ``jsonschema`` is
installed (silently skipped otherwise). Never pickle.
"""

from __future__ import annotations

import importlib
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from nnrules.exceptions import FormatError
from nnrules.io.files import atomic_write_text, check_input_file

__all__ = ["FORMATS", "dump", "dumps", "load", "loads", "validate"]

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


def loads(text: str, *, source: str = "text") -> Any:
    """Parse nnrules JSON text back into its object.

    Raises
    ------
    FormatError
        Not JSON, not an nnrules file, unknown format or a newer version, or schema-invalid.
    """
    try:
        d = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise FormatError(f"{source} is not an nnrules file: not valid JSON ({e}).") from e
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
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise FormatError(f"{str(p)!r} is not an nnrules file: not UTF-8 text.") from e
    return loads(text, source=repr(str(p)))
