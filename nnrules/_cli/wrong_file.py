"""The command's own words when a surrogate JSON is given where an ONNX model goes, or the reverse.

Called only after reading the file as the expected kind has failed: the library's error says what
the file is; this one also says which argument of which command wanted what, and the command to
run instead (the two positional files of ``evaluate`` and ``certify`` swapped, a model given to
``predict``, a surrogate given to ``inspect`` or ``extract``).
"""

from __future__ import annotations

import argparse

__all__ = ["model_message", "surrogate_message"]

#: Commands whose positional arguments are SURROGATE.json then MODEL.onnx.
_BOTH = ("evaluate", "certify")


def surrogate_message(path: str, args: argparse.Namespace | None) -> str | None:
    """Why ``path`` (given as SURROGATE.json) is the wrong kind of file, or None if it is not
    an ONNX model (the library's own error then stands)."""
    from nnrules.io.filekind import SURROGATE_FORMATS, file_kind

    if file_kind(path) != "onnx":
        return None
    command = getattr(args, "command", None) or "predict"
    model = getattr(args, "model", None)
    if command in _BOTH and model and file_kind(model) in SURROGATE_FORMATS:
        return (f"nnrules {command} expects SURROGATE.json first and MODEL.onnx second; "
                f"{path!r} is the ONNX model and {model!r} the surrogate, so the two are swapped. "
                f"Run: nnrules {command} {model} {path} (same options).")
    then = f"DIR/surrogate.json {path}" if command in _BOTH else "DIR/surrogate.json"
    return (f"nnrules {command} expects a surrogate file as SURROGATE.json (the surrogate.json "
            f"that nnrules extract writes), but {path!r} is an ONNX model. Extract a surrogate "
            f"from it first: nnrules extract {path} --data TRAIN --method METHOD --out DIR; "
            f"then run: nnrules {command} {then} (same options).")


def model_message(path: str, args: argparse.Namespace | None) -> str | None:
    """Why ``path`` (given as MODEL.onnx) is the wrong kind of file, or None if it is not an
    nnrules JSON file (the library's own error then stands)."""
    from nnrules.io.filekind import file_kind, format_name

    fmt = file_kind(path)
    if fmt is None or fmt == "onnx":
        return None
    command = getattr(args, "command", None) or "inspect"
    given = f"{path!r} is an nnrules {format_name(fmt)} file ({fmt!r})"
    if command == "export":
        return (f"nnrules export --model expects the network's ONNX model, but {given}. Pass the "
                ".onnx file the surrogate was extracted from, or leave --model out.")
    if command in _BOTH:
        return (f"nnrules {command} expects SURROGATE.json then MODEL.onnx, but the model argument "
                f"{given}. Pass the network's .onnx file the surrogate was extracted from.")
    if format_name(fmt) != "surrogate":
        return (f"nnrules {command} expects an ONNX model, but {given}. Pass the network's .onnx "
                "file.")
    if command == "extract":
        return (f"nnrules extract expects the network's ONNX model, but {given}: surrogates are "
                "extracted from the network, not from another surrogate. Pass the .onnx file; "
                f"to check this surrogate against its network run: nnrules evaluate {path} "
                "MODEL.onnx --data TEST.")
    return (f"nnrules {command} expects an ONNX model, but {given}. Run nnrules {command} on the "
            f"network's .onnx file; to use this surrogate run: nnrules predict {path} --data X "
            f"(its rules: nnrules export {path} --to python -o FILE, or rules.txt beside it).")
