"""Which kind of file a user gave: an ONNX model or an nnrules JSON file (and of which format).

Used only once reading a file as the expected kind has failed, so that the error can say "this
is a surrogate, not an ONNX model" (or the reverse) and what to run instead, rather than a
protobuf or UTF-8 decoding error.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

__all__ = ["MAX_SNIFF_BYTES", "SURROGATE_FORMATS", "file_kind", "first_byte", "format_name",
           "is_onnx_model", "nnrules_format"]

#: The nnrules formats that hold a surrogate (the others are reports and schemas).
SURROGATE_FORMATS = frozenset({"nnrules/additive", "nnrules/automaton", "nnrules/boxes",
                               "nnrules/ruleset", "nnrules/tree"})
#: Files larger than this are not looked into (256 MiB, the largest nnrules JSON file read).
MAX_SNIFF_BYTES = 256 * 2**20


def format_name(fmt: str) -> str:
    """What a user calls the file of nnrules format ``fmt``: "surrogate" for every surrogate
    format, else the format's own name ("report", "schema")."""
    return "surrogate" if fmt in SURROGATE_FORMATS else fmt.partition("/")[2]


def first_byte(data: bytes) -> bytes:
    """The first byte that is not white space (looked for in the first 4 KiB only)."""
    return data[:4096].lstrip()[:1]


def is_onnx_model(data: bytes) -> bool:
    """Whether ``data`` parses as an ONNX ``ModelProto`` with a graph and an opset."""
    import onnx

    if not data or first_byte(data) in (b"{", b"["):  # JSON text never is one
        return False
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except Exception:  # noqa: BLE001 -- protobuf raises DecodeError and others
        return False
    return model.HasField("graph") and model.ir_version > 0 and len(model.opset_import) > 0


def nnrules_format(data: bytes) -> str | None:
    """The ``"format"`` of the nnrules JSON file in ``data`` (``'nnrules/tree'``...), or None."""
    if first_byte(data) != b"{":
        return None
    try:
        value = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):  # not UTF-8, not JSON
        return None
    fmt = value.get("format") if isinstance(value, dict) else None
    return fmt if isinstance(fmt, str) and fmt.startswith("nnrules/") else None


def file_kind(path: str | os.PathLike) -> str | None:
    """``'onnx'``, an nnrules format (``'nnrules/tree'``...) or None (unreadable, other)."""
    try:
        p = Path(path)
        if not p.is_file() or p.stat().st_size > MAX_SNIFF_BYTES:
            return None
        data = p.read_bytes()
    except OSError:
        return None
    fmt = nnrules_format(data)
    if fmt is not None:
        return fmt
    return "onnx" if is_onnx_model(data) else None
