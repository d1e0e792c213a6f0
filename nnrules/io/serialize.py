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

from nnrules.exceptions import FormatError, NNRulesError
from nnrules.io.files import atomic_write_text, check_input_file

__all__ = ["FORMATS", "MAX_BYTES", "MAX_DEPTH", "dump", "dumps", "load", "loads", "parse_json",
           "validate"]

#: Deepest nesting of arrays and objects a file may have (nnrules writes at most about 10).
MAX_DEPTH = 64
#: Largest nnrules JSON file read: 256 MiB (raise ``nnrules.io.serialize.MAX_BYTES`` for a
#: surrogate that is really this large).
MAX_BYTES = 256 * 2**20

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


def _refuse_constant(name: str) -> Any:
    raise FormatError(f"holds {name}; nnrules files hold finite numbers only (null for none)")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise FormatError(f"holds the number {text[:40]!r}, too large for a float")
    return value


def _depth_ok(value: Any, limit: int) -> bool:
    """Whether ``value`` nests arrays/objects at most ``limit`` deep (no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return False
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, (dict, list)))
    return True


def parse_json(text: str, *, source: str = "text") -> Any:
    """JSON text of an nnrules file as Python objects, refusing what no nnrules file holds.

    Refused with ``FormatError`` (never a RecursionError or a bare ValueError): text that is
    not JSON, nesting deeper than ``MAX_DEPTH``, ``NaN`` / ``Infinity``, numbers too large for
    a float, integers longer than Python converts (4,300 digits), text longer than
    ``MAX_BYTES``.
    """
    if len(text) > MAX_BYTES:
        raise FormatError(
            f"{source} holds {len(text)} characters, more than the {MAX_BYTES} an nnrules file "
            "may have (nnrules.io.serialize.MAX_BYTES); raise that limit if the file is really "
            "this large.")
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except FormatError as e:
        raise FormatError(f"{source} is not an nnrules file: it {e}.") from None
    except RecursionError:
        raise FormatError(f"{source} is not an nnrules file: its JSON nests deeper than "
                          f"{MAX_DEPTH} levels.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise FormatError(f"{source} is not an nnrules file: not valid JSON ({e}).") from None
    except ValueError as e:  # e.g. an integer of more than 4,300 digits
        raise FormatError(f"{source} is not an nnrules file: {e}.") from None
    if not _depth_ok(value, MAX_DEPTH):
        raise FormatError(f"{source} is not an nnrules file: its JSON nests deeper than "
                          f"{MAX_DEPTH} levels.")
    return value


def loads(text: str, *, source: str = "text") -> Any:
    """Parse nnrules JSON text back into its object.

    Raises
    ------
    FormatError
        Not JSON, not an nnrules file, unknown format or a newer version, or schema-invalid.
    """
    d = parse_json(text, source=source)
    if not isinstance(d, dict) or "format" not in d:
        raise FormatError(
            f"{source} is not an nnrules file: expected a JSON object with a 'format' key.")
    fmt = d["format"]
    if not isinstance(fmt, str) or fmt not in FORMATS:
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
    try:
        validate(d)
        return cls.from_dict(d)
    except FormatError:
        raise
    except (NNRulesError, KeyError, TypeError, ValueError, IndexError, AttributeError,
            OverflowError, RecursionError) as e:
        # The structural checks in every from_dict name what is wrong; this is the net under
        # them, so that no file, however made, ends in an internal error.
        raise FormatError(f"{source} is not a valid {fmt} file: {type(e).__name__}: "
                          f"{e}.") from None


def load(path: str | os.PathLike) -> Any:
    """Read the nnrules file at ``path``; missing file → ``InputFileError``."""
    p = check_input_file(path, "nnrules file")
    size = p.stat().st_size
    if size > MAX_BYTES:
        from nnrules.io.filekind import first_byte

        with open(p, "rb") as f:
            head = first_byte(f.read(4096))
        if head != b"{":  # too large to read, and not JSON: say so, not only the size
            raise FormatError(
                f"{str(p)!r} is not an nnrules file (the JSON nnrules writes: a surrogate, a "
                f"report or a schema): it does not begin with '{{' and holds {size} bytes. If "
                "it is an ONNX model, pass it where a model goes (nnrules extract MODEL --data "
                "TRAIN --method METHOD --out DIR).")
        raise FormatError(
            f"{str(p)!r} holds {size} bytes, more than the {MAX_BYTES} an nnrules file may have "
            "(nnrules.io.serialize.MAX_BYTES); raise that limit if the file is really this "
            "large.")
    data = p.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        from nnrules.io.filekind import is_onnx_model

        if is_onnx_model(data):
            raise FormatError(
                f"{str(p)!r} is an ONNX model, not an nnrules file (the JSON nnrules writes: a "
                "surrogate, a report or a schema). Pass the surrogate.json that nnrules extract "
                "wrote; to make one from this model run: nnrules extract "
                f"{p} --data TRAIN --method METHOD --out DIR.") from None
        raise FormatError(f"{str(p)!r} is not an nnrules file: not UTF-8 text.") from e
    return loads(text, source=repr(str(p)))
