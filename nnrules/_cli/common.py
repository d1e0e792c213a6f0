"""Shared helpers of the ``nnrules`` command, and ``inspect`` (moved out of ``nnrules.cli``)."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from nnrules.exceptions import FormatError, ModelLoadError, ParameterError

DEFAULT_SAMPLE = 1_000_000  # = nnrules.io.stream.DEFAULT_SAMPLE (not imported: start-up)
EXIT_USAGE = 2
EXIT_ERROR = 1
EXIT_INTERNAL = 3


def _parse_params(pairs: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` strings to a dict; values are read as JSON when they parse, else as text."""
    params: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise ParameterError(f"--param takes KEY=VALUE; got {pair!r}. Example: --param max_leaves=8.")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        params[key.strip()] = value
    return params


def _build_extractor(method: str, network: Any, seed: int | None, params: dict) -> Any:
    from nnrules.extract import get_extractor

    cls = get_extractor(method)
    valid = sorted(p for p in cls._get_param_names() if p != "network")
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ParameterError(
            f"Unknown parameter(s) {', '.join(map(repr, unknown))} for method {method!r}. "
            f"Valid: {', '.join(valid)}."
        )
    if "random_state" in valid:
        params = {"random_state": seed, **params}
    return cls(network, **params)


def _is_sequences(obj: Any) -> bool:
    """Whether an extractor class (or a surrogate: ``Surrogate.data_kind``) reads sequences."""
    return getattr(obj, "data_kind", "table") == "sequences"


def _load_surrogate(path: str, args: argparse.Namespace | None = None):
    """The surrogate in ``path``; another nnrules file (a report, a schema) or an ONNX model
    is a FormatError that says which command to run instead."""
    from nnrules.io import serialize
    from nnrules.surrogates.base import Surrogate

    try:
        obj = serialize.load(path)
    except FormatError:
        from nnrules._cli.wrong_file import surrogate_message

        message = surrogate_message(path, args)
        if message is None:
            raise
        raise FormatError(message) from None
    if not isinstance(obj, Surrogate):
        raise FormatError(
            f"{path!r} is an {obj.to_dict().get('format')!r} file, not a surrogate. Pass the "
            "surrogate.json that nnrules extract wrote.")
    return obj


def _read_table(path: str, args: argparse.Namespace, schema: Any = None, network: Any = None):
    from nnrules.io.columns import check_columns, in_model_order
    from nnrules.io.data import read_data
    from nnrules.io.progress import stage

    with stage(f"reading {Path(path).name}"):
        data = read_data(path, target=getattr(args, "target", None), schema=schema,
                         drop_invalid=getattr(args, "drop_invalid", False),
                         encoding=getattr(args, "encoding", None), sep=getattr(args, "sep", None),
                         max_bytes=_max_bytes(args))
    if network is not None:
        # Multi-input models: the returned schema knows which graph input each column feeds.
        data = in_model_order(data, network)  # the model's named columns in another order
        data = dataclasses.replace(data, schema=check_columns(data, network))
    return data


def _label_map(args: argparse.Namespace) -> dict[str, Any] | None:
    """``--label-map cls0=0,cls1=1`` (or a JSON object) as a dict data label -> class."""
    text = getattr(args, "label_map", None)
    if not text:
        return None
    if text.lstrip().startswith("{"):
        try:
            mapping = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ParameterError(f"--label-map is not valid JSON ({exc.msg}): {text!r}.") from None
        if not isinstance(mapping, dict):
            raise ParameterError(f"--label-map must be a JSON object; got {text!r}.")
        return mapping
    mapping = {}
    for pair in text.split(","):
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ParameterError(
                f"--label-map takes DATA=CLASS pairs separated by commas; got {pair!r}. "
                "Example: --label-map cls0=0,cls1=1."
            )
        value = value.strip()
        mapping[key.strip()] = int(value) if value.lstrip("-").isdigit() else value
    return mapping


def _read_sequences(path: str, alphabet: Any, args: argparse.Namespace):
    from nnrules.io.progress import stage
    from nnrules.io.sequences import read_sequences

    with stage(f"reading {Path(path).name}"):
        return read_sequences(path, alphabet=alphabet, encoding=getattr(args, "encoding", None),
                              max_length=getattr(args, "max_length", None),
                              max_bytes=_max_bytes(args))


def _max_bytes(args: argparse.Namespace) -> int | None:
    mb = getattr(args, "max_file_size", None)
    return None if mb is None else int(mb * 2**20)


def _write(path: Path, text: str) -> None:
    from nnrules.io.files import atomic_write_text

    atomic_write_text(path, text)


def _write_artifacts(surrogate: Any, folder: Path,
                     plots: Any = "important") -> tuple[list[str], list[str]]:
    """The surrogate's extra files (plots) and the notes of what was skipped (said once)."""
    import warnings

    from nnrules.exceptions import NNRulesWarning
    from nnrules.io.progress import stage

    with warnings.catch_warnings(record=True) as caught, stage("writing plots"):
        warnings.simplefilter("always", NNRulesWarning)
        names = list(surrogate.write_artifacts(folder, plots=plots))
    notes = []
    for w in caught:
        if issubclass(w.category, NNRulesWarning):
            if str(w.message) not in notes:
                notes.append(str(w.message))
        else:  # not ours: let it through as it came
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return names, notes


def _wrote(out: Path, names: list[str]) -> str:
    """'wrote DIR/surrogate.json, report.json, ... and 31 plots (importance.png, shape_*.png)'."""
    plain = [n for n in names if not n.endswith(".png")]
    plots = [n for n in names if n.endswith(".png")]
    text = f"wrote {out}/" + ", ".join(plain)
    if plots:
        shown = ", ".join(plots) if len(plots) <= 3 else f"{plots[0]}, {plots[1]}, ..."
        text += f" and {len(plots)} plot{'s' * (len(plots) != 1)} ({shown})"
    return text


def _methods_for(network: Any, readable: bool | None = None) -> list[str]:
    """Registered methods that fit the model, from ``extract.KINDS`` (no extractor imported):
    sequence methods for sequence models, table methods otherwise (white-box ones only when the
    layers are readable; ``readable``: already known, from ``describe()``)."""
    from nnrules.extract import KINDS, ONE_HIDDEN_LAYER, method_names

    sequences = _reads_sequences(network)
    white_box = readable
    usable = []
    for name in method_names():
        family, data_kind = KINDS.get(name, ("pedagogical", "table"))
        if (data_kind == "sequences") != sequences:
            continue
        if family != "pedagogical" and not sequences:
            if white_box is None:
                white_box = bool(network.describe().get("layers_readable"))
            if not white_box:
                continue
            if name in ONE_HIDDEN_LAYER and len(network.layers.hidden_layers()) != 1:
                continue
        usable.append(name)
    return usable


def _check_method_fits(method: str, cls: Any, network: Any) -> None:
    """A table method on a sequence model (or the reverse) is a clear error naming the
    methods that fit, before any data is read."""
    sequences = _reads_sequences(network)
    if _is_sequences(cls) == sequences:
        return
    fits = ", ".join(_methods_for(network)) or "none installed"
    if sequences:
        raise ParameterError(
            f"Method {method!r} reads tables (CSV rows), but {str(network.path)!r} is a sequence "
            f"model (a recurrent layer or a [batch, time, symbols] input). Methods that fit it: "
            f"{fits}; e.g. --method {fits.split(', ')[0]} --alphabet SYMBOLS with a file of one "
            "sequence per line.")
    raise ParameterError(
        f"Method {method!r} reads sequences, but {str(network.path)!r} takes table rows (no "
        f"recurrent layer, no [batch, time, symbols] input). Methods that fit it: {fits}.")


def _load_network(args: argparse.Namespace):
    from nnrules.io.model import load

    classes = None
    if getattr(args, "classes", None):
        classes = [c.strip() for c in args.classes.split(",")]
        classes = [int(c) if c.lstrip("-").isdigit() else c for c in classes]
    try:
        return load(args.model, task=getattr(args, "task", None), classes=classes)
    except ModelLoadError:
        from nnrules._cli.wrong_file import model_message

        message = model_message(args.model, args)
        if message is None:
            raise
        raise ModelLoadError(message) from None


# -- commands ----------------------------------------------------------------------------

def cmd_inspect(args: argparse.Namespace) -> int:
    network = _load_network(args)
    info = network.describe()
    if args.json:
        print(json.dumps(info, indent=2, sort_keys=True, default=str))
        return 0
    from nnrules.io.inspect_text import inspect_text

    white_box = bool(info.get("layers_readable"))
    print(inspect_text(info, layers=_layer_summary(network.layers) if white_box else None,
                       methods=_methods_for(network, white_box)))
    return 0


def _reads_sequences(network: Any) -> bool:
    """Whether the model reads sequences: a recurrent op, or a rank-3 input ([batch, time, |Σ|])."""
    from nnrules.io.sequences import RECURRENT_OPS

    if any(n.op_type in RECURRENT_OPS for n in network.model.graph.node):
        return True
    return len(network.inputs) == 1 and len(network.inputs[0].shape) == 3


def _layer_summary(ir: Any) -> str:
    """'30 -> affine 16 -> relu -> affine 2 -> softmax' from the layer IR."""
    parts = [str(ir.n_inputs)]
    for layer in ir.layers:
        if hasattr(layer, "weight"):
            parts.append(f"affine {layer.weight.shape[0]}")
        else:
            parts.append(layer.kind)
    if ir.head != "none":
        parts.append(ir.head)
    return " -> ".join(parts)
