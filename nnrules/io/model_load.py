"""Read an ONNX file safely and open its onnxruntime session.

:func:`read_model` reads the file, refuses what is unsafe (custom-domain ops, external data
outside the model's folder, shape bombs) before onnx or onnxruntime touch it, runs the full
checker and records SHA-256 digests; :func:`_session` opens a deterministic CPU session and
translates onnxruntime's errors.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import onnx
import onnxruntime as ort

from nnrules.exceptions import InputFileError, ModelLoadError, UnsupportedModelError
from nnrules.io.files import check_input_file
from nnrules.io.safety import (
    _all_tensors,
    _check_bombs,
    _check_domains,
    _check_external_data,
    _check_opsets,
    _parse,
    _run_checker,
)

__all__ = ["N_THREADS", "read_model"]

#: onnxruntime threads; fixed so that results and timings do not depend on the host.
N_THREADS = 1


def _session(model: onnx.ModelProto) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = N_THREADS
    options.inter_op_num_threads = N_THREADS
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.use_deterministic_compute = True
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(
            model.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # noqa: BLE001 -- onnxruntime's own error classes
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        support = re.search(r"support for domain (\S+) is till opset (\d+)", first)
        opset = re.search(r"Opset (\d+)", first)
        if support and opset:
            raise UnsupportedModelError(
                f"The model imports opset {opset.group(1)} of domain {support.group(1)!r}; "
                f"onnxruntime {ort.__version__} supports it up to opset {support.group(2)}. "
                f"Re-export the model with opset {support.group(2)} or lower, or upgrade "
                "onnxruntime.") from None
        raise ModelLoadError(f"onnxruntime cannot open the model: {_short(first)}") from None


def _short(message: str, most: int = 300) -> str:
    """onnxruntime's first line without its C++ source location and signature."""
    message = re.sub(r"^\[ONNXRuntimeError\] : \d+ : \w+ : \S+:\d+ [^)]*\)\s*", "", message)
    return message if len(message) <= most else message[:most] + "..."


def read_model(
    path: str | os.PathLike[str],
) -> tuple[Path, onnx.ModelProto, str, dict[str, str]]:
    """Read and check an ONNX file: (path, model with external data loaded, sha256, files' sha256).

    Raises the errors :func:`nnrules.io.model.load` documents.
    """
    path = check_input_file(path, "Model file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputFileError(
            f"Cannot read model file {str(path)!r} ({exc.strerror}). Check its permissions."
        ) from None
    sha256 = hashlib.sha256(data).hexdigest()
    model = _parse(data, path)
    _check_domains(model)
    _check_opsets(model)
    files = _check_external_data(model, path.parent)
    files_sha256 = _load_external_data(model, files)
    _run_checker(model, path)
    _check_bombs(model)
    return path, model, sha256, files_sha256


def _load_external_data(model: onnx.ModelProto, files: dict[str, Path]) -> dict[str, str]:
    """Move every external tensor's bytes into ``model``, reading each file once (checked by
    ``_check_external_data`` from the file's size before it is opened: inside the model's
    folder, offsets and lengths within the file and its tensor's shape, no overlaps, at most
    ``MAX_EXTERNAL_PADDING`` unread bytes per tensor, so a file is read whole only when its
    tensors hold nearly all of it); returns ``{location: sha256 of the file}``.

    The tensors end as ``onnx.external_data_helper.load_external_data_for_model`` leaves them
    (``raw_data`` set, ``data_location`` DEFAULT, ``external_data`` cleared); that helper, the
    checker given the path and a separate digest read every file again.
    """
    if not files:
        return {}
    contents = {}
    for location, resolved in sorted(files.items()):
        try:
            contents[location] = resolved.read_bytes()
        except OSError as exc:
            raise InputFileError(
                f"Cannot read the model's external data file {str(resolved)!r} "
                f"({exc.strerror}). Check its permissions."
            ) from None
    for tensor in _all_tensors(model):
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        entries = {entry.key: entry.value for entry in tensor.external_data}
        data = contents[entries["location"]]
        offset = int(entries.get("offset", 0))
        end = offset + int(entries["length"]) if "length" in entries else len(data)
        if end > len(data):  # checked against the file's size; it changed since
            raise ModelLoadError(
                f"Tensor {tensor.name!r} reads bytes {offset} to {end} of {entries['location']!r}, "
                f"which now holds {len(data)} bytes (it changed while the model was read). "
                "Load the model again once its files are written.")
        tensor.raw_data = data[offset:end]
        tensor.data_location = onnx.TensorProto.DEFAULT
        del tensor.external_data[:]
    return {location: hashlib.sha256(data).hexdigest() for location, data in contents.items()}
