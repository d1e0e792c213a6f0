"""Safety checks on an ONNX file before onnx or onnxruntime run anything from it.

Refused: custom op domains (they could load native code), external data outside the model's
folder (absolute, ``..`` or through a symlink), external data that would make us read more
than the model's tensors hold (an extent longer than its tensor's shape allows, extents that
overlap, or more than ``MAX_EXTERNAL_PADDING`` bytes per tensor that no tensor reads: all
checked from the file's size and the declared extents, before a byte of it is read), and
shape-building ops whose constant shapes would materialise more than ``MAX_ELEMENTS`` elements.
Also: parsing with a one-line error for files that are not ONNX, and the full ``onnx.checker``
pass.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from nnrules.exceptions import ModelLoadError, UnsafeModelError, UnsupportedModelError

#: Op domains a model may use; anything else could run native code from a custom-op library.
STANDARD_DOMAINS = frozenset({"", "ai.onnx", "ai.onnx.ml"})
#: Largest tensor (in elements) a shape-building op may ask for: 2**28 floats are 1 GiB.
MAX_ELEMENTS = 2**28
#: Bytes of an external-data file no tensor reads, allowed per tensor in it (and once more at
#: the end): onnx aligns tensors that share a file to at most 64 KiB, so a file it wrote has
#: less; anything beyond is bytes we would read and hash for nothing.
MAX_EXTERNAL_PADDING = 64 * 1024


def _graphs(body: onnx.GraphProto | onnx.FunctionProto,
            ) -> Iterator[onnx.GraphProto | onnx.FunctionProto]:
    """A graph (or a function body) and every subgraph in it (If / Loop / Scan bodies), depth
    first."""
    yield body
    for node in body.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                yield from _graphs(attr.g)
            for sub in attr.graphs:
                yield from _graphs(sub)


def _bodies(model: onnx.ModelProto) -> Iterator[onnx.GraphProto | onnx.FunctionProto]:
    """The main graph, every model-local function, and every subgraph of either."""
    yield from _graphs(model.graph)
    for function in model.functions:
        yield from _graphs(function)


def _all_nodes(model: onnx.ModelProto) -> Iterator[onnx.NodeProto]:
    for body in _bodies(model):
        yield from body.node


def _all_tensors(model: onnx.ModelProto) -> Iterator[onnx.TensorProto]:
    """Every tensor a model holds: initializers (sparse ones too) and node attributes, in the
    main graph, the model-local functions and their subgraphs."""
    for body in _bodies(model):
        if isinstance(body, onnx.GraphProto):
            yield from body.initializer
            for sparse in body.sparse_initializer:
                yield sparse.values
                yield sparse.indices
        for node in body.node:
            for attr in node.attribute:
                if attr.HasField("t"):
                    yield attr.t
                yield from attr.tensors


def _check_domains(model: onnx.ModelProto) -> None:
    # Calls to model-local functions are fine: their bodies are checked node by node below.
    local = {(f.domain, f.name) for f in model.functions}
    for node in _all_nodes(model):
        if node.domain not in STANDARD_DOMAINS and (node.domain, node.op_type) not in local:
            raise UnsafeModelError(
                f"Op {node.op_type!r} of node {node.name!r} is in domain {node.domain!r}; only "
                f"the standard domains {sorted(STANDARD_DOMAINS)!r} are allowed, since custom ops "
                "run native code. Re-export the model with standard ONNX ops."
            )


def _check_external_data(model: onnx.ModelProto, folder: Path) -> dict[str, Path]:
    """Validate every external-data location; return {location: resolved path}."""
    root = folder.resolve()
    files: dict[str, Path] = {}
    extents: dict[str, tuple[int, list]] = {}  # location -> (file size, extents)
    for tensor in _all_tensors(model):
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        entries = {entry.key: entry.value for entry in tensor.external_data}
        location = entries.get("location", "")
        parts = location.replace("\\", "/").split("/")
        if (
            not location
            or os.path.isabs(location)
            or location.startswith(("/", "\\"))
            or (len(location) > 1 and location[1] == ":")
            or ".." in parts
        ):
            raise UnsafeModelError(
                f"Tensor {tensor.name!r} keeps its data at {location!r}; external data must be "
                "a relative path inside the model's folder, without '..'. Move the data file "
                "next to the model and re-save it."
            )
        resolved = (folder / location).resolve()
        if not resolved.is_relative_to(root):
            raise UnsafeModelError(
                f"Tensor {tensor.name!r} keeps its data at {location!r}, which resolves to "
                f"{str(resolved)!r} outside the model's folder {str(root)!r} (a symlink?). "
                "Copy the data file into the model's folder."
            )
        if not resolved.is_file():
            raise ModelLoadError(
                f"Tensor {tensor.name!r} keeps its data at {location!r}, but no such file "
                f"exists next to the model in {str(root)!r}. Copy the data file there."
            )
        size = resolved.stat().st_size
        extents.setdefault(location, (size, []))[1].append(
            (*_check_extent(tensor, entries, location, size), tensor.name))
        files[location] = resolved
    for location, (size, spans) in extents.items():
        _check_layout(location, size, spans)
    return files


def _check_layout(location: str, size: int, spans: list[tuple[int, int, str]]) -> None:
    """The tensors' extents in one external-data file must not overlap (each tensor's bytes
    would be copied again), and the bytes no tensor reads must stay within
    ``MAX_EXTERNAL_PADDING`` per tensor: the file is read whole (once, for its digest)."""
    spans = sorted(spans)
    for (offset, length, name), (later, _, other) in zip(spans, spans[1:]):
        if later < offset + length:
            raise ModelLoadError(
                f"Tensors {name!r} and {other!r} read overlapping bytes of {location!r} "
                f"(offsets {offset} and {later}); each tensor must have bytes of its own. The "
                "model file is damaged; re-export the model with its data.")
    unread = size - sum(length for _, length, _ in spans)
    allowed = MAX_EXTERNAL_PADDING * (len(spans) + 1)
    if unread > allowed:
        raise ModelLoadError(
            f"The external data file {location!r} holds {size} bytes, of which its "
            f"{len(spans)} tensor(s) read {size - unread}: {unread} bytes no tensor reads, "
            f"more than the {allowed} that alignment explains "
            "(nnrules.io.safety.MAX_EXTERNAL_PADDING per tensor). Refusing to read it; "
            "re-save the model so its data file holds only its tensors.")


def _check_extent(tensor: onnx.TensorProto, entries: dict[str, str], location: str,
                  size: int) -> tuple[int, int]:
    """An external tensor's ``offset`` and ``length`` must be integers inside its file, and
    the length no more than its shape's elements take (``length`` absent: the rest of the
    file, so a 16-byte tensor cannot make us read a file of gigabytes). Returns (offset,
    length)."""
    extent = {}
    for key in ("offset", "length"):
        raw = entries.get(key)
        if raw is None:
            continue
        if not raw.isdigit() or len(raw) > 19:
            raise ModelLoadError(
                f"Tensor {tensor.name!r} has external-data {key} {raw[:40]!r}; it must be a "
                f"non-negative integer within the file {location!r} ({size} bytes). The model "
                "file is damaged; re-export it.")
        extent[key] = int(raw)
    offset = extent.get("offset", 0)
    length = extent.get("length", size - offset)
    if offset > size or offset + length > size:
        raise ModelLoadError(
            f"Tensor {tensor.name!r} reads {length} bytes at offset {offset} of {location!r}, "
            f"but that file holds {size} bytes. The model and its data file do not belong "
            "together, or one is truncated; re-export the model with its data.")
    most = _most_bytes(tensor)
    if most is not None and length > most:
        shape = [int(d) for d in tensor.dims]
        raise ModelLoadError(
            f"Tensor {tensor.name!r} of shape {shape} reads {length} bytes at offset {offset} "
            f"of {location!r}{'' if 'length' in extent else ' (no length: the rest of the file)'}"
            f", but its {math.prod(shape)} element(s) take at most {most} bytes. The model "
            "file is damaged or was made to read more than it holds; re-export it.")
    return offset, length


def _most_bytes(tensor: onnx.TensorProto) -> int | None:
    """The most bytes ``tensor``'s shape can take (elements times the element type's numpy
    size, an upper bound for packed sub-byte types), None for a type onnx does not know."""
    try:
        itemsize = onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type).itemsize
    except (KeyError, ValueError, TypeError):
        return None
    return math.prod(int(d) for d in tensor.dims) * itemsize


def _check_opsets(model: onnx.ModelProto) -> None:
    """Every standard domain's opset must be one onnx (and so onnxruntime) knows."""
    newest = {"": onnx.defs.onnx_opset_version(), "ai.onnx": onnx.defs.onnx_opset_version(),
              "ai.onnx.ml": max(row[3] for row in onnx.helper.VERSION_TABLE)}
    for entry in model.opset_import:
        top = newest.get(entry.domain)
        if top is not None and not 1 <= entry.version <= top:
            name = entry.domain or "ai.onnx"
            raise UnsupportedModelError(
                f"The model imports opset {entry.version} of domain {name!r}; this nnrules (onnx "
                f"{onnx.__version__}) supports opsets 1 to {top} of {name!r}. Re-export the model "
                f"with opset {top} or lower (e.g. torch.onnx.export(..., opset_version={top})), "
                "or upgrade onnx and onnxruntime.")


def _constants(graph: onnx.GraphProto) -> dict[str, np.ndarray]:
    """Small integer constants of one graph (initializers and Constant nodes)."""
    values: dict[str, np.ndarray] = {}
    for init in graph.initializer:
        if init.data_type == onnx.TensorProto.INT64 and math.prod(init.dims) <= 64:
            values[init.name] = numpy_helper.to_array(init)
    for node in graph.node:
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            for attr in node.attribute:
                if attr.name == "value" and attr.t.data_type == onnx.TensorProto.INT64:
                    values[node.output[0]] = numpy_helper.to_array(attr.t)
                elif attr.name == "value_ints":
                    values[node.output[0]] = np.asarray(attr.ints, dtype=np.int64)
    return values


def _check_bombs(model: onnx.ModelProto) -> None:
    """Refuse shape-building ops whose constant shape asks for more than MAX_ELEMENTS."""
    for graph in _graphs(model.graph):
        _check_graph_bombs(graph)


def _check_graph_bombs(graph: onnx.GraphProto) -> None:
    constants = _constants(graph)
    for node in graph.node:
        size = None
        if node.op_type in ("ConstantOfShape", "Expand") and len(node.input) >= 1:
            shape = constants.get(node.input[-1] if node.op_type == "Expand" else node.input[0])
            if shape is not None:
                size = math.prod(abs(int(v)) for v in shape.ravel())
        elif node.op_type == "Tile" and len(node.input) == 2 and node.input[1] in constants:
            size = math.prod(abs(int(v)) for v in constants[node.input[1]].ravel())
        elif node.op_type == "Range" and all(name in constants for name in node.input):
            start, limit, delta = (int(constants[name].ravel()[0]) for name in node.input)
            size = abs(limit - start) // max(abs(delta), 1)
        if size is not None and size > MAX_ELEMENTS:
            raise UnsafeModelError(
                f"Node {node.name!r} ({node.op_type}) would materialise {size!r} elements, more "
                f"than the limit of {MAX_ELEMENTS!r} (nnrules.io.model.MAX_ELEMENTS). Refusing "
                "to open a session; check where the model came from."
            )


def _parse(data: bytes, path: Path) -> onnx.ModelProto:
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except Exception as exc:  # noqa: BLE001 -- protobuf raises DecodeError and others
        _refuse_nnrules_file(data, path)
        raise ModelLoadError(
            f"{str(path)!r} is not a readable ONNX file ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else 'parse error'}). Is it truncated, or "
            "not ONNX at all? Re-export the model."
        ) from None
    if not model.HasField("graph") or model.ir_version <= 0 or len(model.opset_import) == 0:
        _refuse_nnrules_file(data, path)
        raise ModelLoadError(
            f"{str(path)!r} does not hold an ONNX model (no graph, IR version or opset). "
            "Pass the .onnx file the exporter wrote."
        )
    return model


def _refuse_nnrules_file(data: bytes, path: Path) -> None:
    """Say so when the file that is not an ONNX model is one of nnrules' own JSON files."""
    from nnrules.io.filekind import format_name, nnrules_format

    fmt = nnrules_format(data)
    if fmt is None:
        return
    what = format_name(fmt)
    instead = ("; a surrogate file is read by nnrules.io.serialize.load (CLI: the SURROGATE.json "
               "of predict, evaluate, export or certify)" if what == "surrogate" else "")
    raise ModelLoadError(
        f"{str(path)!r} is an nnrules {what} file ({fmt!r}), not an ONNX model. Pass the "
        f"network's .onnx file here{instead}.")


def _run_checker(model: onnx.ModelProto, path: Path) -> None:
    """The full ``onnx.checker`` pass on ``model`` (external data already loaded into it)."""
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as exc:  # noqa: BLE001 -- ValidationError, InferenceError, C++ errors
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelLoadError(
            f"{str(path)!r} fails the ONNX checker: {first}. Re-export the model with a "
            "current exporter."
        ) from None
