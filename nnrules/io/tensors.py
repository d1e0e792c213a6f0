"""Tensors of an ONNX network: input/output specs, input casting, extra outputs.

``nonfinite_mask`` / ``nonfinite_message`` (NaN/inf answers) live in :mod:`nnrules._finite`,
shared with the surrogates' input check, and are re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx

from nnrules._finite import nonfinite_mask, nonfinite_message
from nnrules.exceptions import DataError

__all__ = ["TensorSpec", "nonfinite_mask", "nonfinite_message"]


@dataclass(frozen=True)
class TensorSpec:
    """A graph input or output: name, numpy dtype (``object`` for strings), shape (None = free)."""

    name: str
    dtype: np.dtype
    shape: tuple[int | None, ...] | None

    def to_dict(self) -> dict[str, Any]:
        shape = None if self.shape is None else list(self.shape)
        return {"name": self.name, "dtype": str(self.dtype), "shape": shape}


def _spec(info: onnx.ValueInfoProto) -> TensorSpec:
    kind = info.type.WhichOneof("value")
    if kind != "tensor_type":
        return TensorSpec(info.name, np.dtype(object), None)
    ttype = info.type.tensor_type
    dtype = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(ttype.elem_type))
    if dtype.kind in "SU":
        dtype = np.dtype(object)
    if not ttype.HasField("shape"):
        return TensorSpec(info.name, dtype, None)
    shape = tuple(d.dim_value if d.HasField("dim_value") else None for d in ttype.shape.dim)
    return TensorSpec(info.name, dtype, shape)


def _width(model: onnx.ModelProto, name: str) -> int | None:
    """Static last dimension of tensor ``name`` after shape inference, if known."""
    for info in [*model.graph.output, *model.graph.value_info]:
        if info.name == name:
            spec = _spec(info)
            if spec.shape and spec.shape[-1] is not None:
                return spec.shape[-1]
    return None


def _with_outputs(model: onnx.ModelProto, names: tuple[str, ...]) -> onnx.ModelProto:
    """A copy of ``model`` that also outputs ``names``, typed by shape inference."""
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception:  # noqa: BLE001 -- inference is a nicety here; onnxruntime infers types itself
        inferred = model
    types = {v.name: v for v in [*inferred.graph.value_info, *inferred.graph.input]}
    types.update({v.name: v for v in inferred.graph.output})
    extended = onnx.ModelProto()
    extended.CopyFrom(inferred)
    for name in names:
        info = types.get(name)
        if info is None:
            info = onnx.helper.make_empty_tensor_value_info(name)
        extended.graph.output.append(info)
    return extended


def _cast(spec: TensorSpec, value: Any, *, multi: bool) -> np.ndarray:
    """Turn one user column/array into the input's dtype and rank; DataError on mismatch."""
    rank = None if spec.shape is None else len(spec.shape)
    if spec.dtype == object:
        array = np.asarray(value).astype(str).astype(object)
    else:
        try:
            array = np.asarray(value)
            if array.dtype != spec.dtype:
                array = array.astype(spec.dtype)
        except (TypeError, ValueError) as exc:
            raise DataError(
                f"Input {spec.name!r} needs numbers of dtype {str(spec.dtype)!r}; could not "
                f"convert the values given ({exc}). Encode non-numeric columns first."
            ) from None
    if multi and array.ndim == 1 and rank == 2:
        array = array.reshape(-1, 1)
    if rank == 2:
        if array.ndim != 2:
            raise DataError(
                f"Input {spec.name!r} expects a 2-D array (rows x columns); got shape "
                f"{array.shape!r}. Reshape a single row with X.reshape(1, -1)."
            )
        width = spec.shape[1]
        if width is not None and array.shape[1] != width:
            raise DataError(
                f"Input {spec.name!r} expects {width} columns; got {array.shape[1]} (shape "
                f"{array.shape!r}). Pass the columns the model was trained on, in order."
            )
    return np.ascontiguousarray(array)
