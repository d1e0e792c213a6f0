"""Does the data fit the model? ``check_columns`` matches a data set's columns to the graph's
inputs (count, names, order; one graph input per raw column for multi-input models) and
returns the schema that feeds them; ``in_model_order`` first puts a data set whose columns are
the model's named inputs in another order into the model's order."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from nnrules.exceptions import DataError
from nnrules.io.data import Dataset, _match_loosely, _show, _unnamed, warn_renamed
from nnrules.schema import FeatureSchema

__all__ = ["check_columns", "in_model_order"]


def check_columns(data_or_schema: Any, network: Any) -> FeatureSchema:
    """Check that the data's columns fit the model's inputs.

    Parameters
    ----------
    data_or_schema : Dataset, FeatureSchema, or sequence of column names
    network : Network
        Reads ``network.feature_names`` (multi-input models: one name per graph input),
        ``network.n_features`` and ``network.inputs[i].shape`` / ``.dtype``.

    Returns
    -------
    FeatureSchema
        The schema, for multi-input models with ``input_names`` (and ``input_dtypes``) set
        so that ``to_model_input`` feeds every graph input. For bare names, a continuous
        placeholder schema.

    Raises
    ------
    DataError
        Column count or names that do not match the model.
    """
    if isinstance(data_or_schema, Dataset):
        schema = data_or_schema.schema
    elif isinstance(data_or_schema, FeatureSchema):
        schema = data_or_schema
    else:
        from nnrules.schema import Feature

        names = [str(n) for n in data_or_schema]
        schema = FeatureSchema(
            tuple(Feature(n, "continuous", -np.inf, np.inf) for n in names)
        )
    names = list(schema.names)
    _refuse_text_for_one_tensor(schema, network)
    model_names = getattr(network, "feature_names", None)
    if model_names is not None:
        model_names = [str(n) for n in model_names]
        if _unnamed(names) and len(names) == len(model_names):
            # A bare array: its columns are the model's, in order; rules read their names.
            schema = replace(schema, features=tuple(
                replace(f, name=m) for f, m in zip(schema.features, model_names)))
            names = list(model_names)
        elif _unnamed(names):
            raise DataError(
                f"The data have {len(names)} columns but the model takes {len(model_names)} "
                f"({_show(model_names)}). Give data with the model's columns."
            )
        missing = [n for n in model_names if n not in names]
        extra = [n for n in names if n not in model_names]
        loose = _match_loosely(names, model_names) if missing or extra else None
        if loose is not None:  # " Age" / "AGE" for "age": the model's spelling, with a warning
            warn_renamed("the data", names, loose)
            schema = replace(schema, features=tuple(
                replace(f, name=m) for f, m in zip(schema.features, loose)))
            names, missing, extra = list(loose), [], []
        if missing or extra:
            raise DataError(
                f"The model's inputs are {_show(model_names)} but the data's columns are "
                f"{_show(names)}: missing {_show(missing)}, unexpected {_show(extra)}. Rename "
                "or drop columns to match"
                + (" (a label column? name it with target= / --target)." if extra else ".")
            )
        inputs = tuple(getattr(network, "inputs", ()))
        if len(inputs) <= 1:
            # One tensor input named column by column (metadata): the order is what counts.
            if names != model_names:
                raise DataError(
                    f"The data's columns are in another order than the model's inputs "
                    f"{model_names}; reorder the columns to match."
                )
            return schema
        specs = {s.name: s for s in inputs}
        dtypes = tuple(_dtype_name(getattr(specs.get(n), "dtype", None)) for n in names)
        return replace(
            schema,
            input_names=tuple(names),
            input_dtypes=None if any(d is None for d in dtypes) else dtypes,
        )
    expected = getattr(network, "n_features", None)
    if expected is None:
        inputs = getattr(network, "inputs", ())
        shape = tuple(getattr(inputs[0], "shape", ())) if inputs else ()
        last = shape[-1] if shape else None
        expected = last if isinstance(last, (int, np.integer)) else None
    if expected is not None and int(expected) != len(names):
        shown = names if len(names) <= 12 else names[:12] + ["..."]
        raise DataError(
            f"The data have {len(names)} feature columns {shown} but the model takes "
            f"{int(expected)} inputs. Pass --target for the label column, or select the "
            "model's columns."
        )
    return schema


def _refuse_text_for_one_tensor(schema: FeatureSchema, network: Any) -> None:
    """Text (categorical) columns cannot feed a model whose one input is a numeric tensor:
    they would be fed by name (one graph input per column) and the model's input found
    missing, a message that does not say what is wrong."""
    inputs = tuple(getattr(network, "inputs", ()))
    if not schema.has_categorical or len(inputs) != 1:
        return
    spec = inputs[0]
    dtype = _dtype_name(getattr(spec, "dtype", None))
    if dtype in (None, "str") or list(schema.names) == [spec.name]:
        return  # a string (or unknown) input, or the one column that is the input itself
    text = [f.name for f in schema.features if f.kind == "categorical"]
    raise DataError(
        f"The data's columns {_show(text)} hold text (categories), but the model takes one "
        f"numeric tensor {spec.name!r}: nnrules cannot encode them the way the model was "
        "trained. Encode them as numbers first, or export the model with its encoder "
        "(e.g. an skl2onnx pipeline, one input per column).")


def in_model_order(data: Dataset, network: Any) -> Dataset:
    """``data`` with its columns in the order of the model's named inputs, when they are the
    same names (exactly, or ignoring case and surrounding spaces, one to one) in another order;
    else ``data`` itself (``check_columns`` then says what does not match).

    Only a model with one input tensor named column by column (metadata ``feature_names``)
    needs this: a multi-input model takes its inputs by name in any order. The rows keep their
    order; a :class:`~nnrules.exceptions.ColumnsReorderedWarning` says what was done.
    """
    model_names = getattr(network, "feature_names", None)
    names = list(data.schema.names)
    if (model_names is None or len(tuple(getattr(network, "inputs", ()))) > 1
            or _unnamed(names) or len(names) != len(model_names)):
        return data
    model_names = [str(n) for n in model_names]
    if names == model_names:
        return data
    position = {n: i for i, n in enumerate(names)}
    if set(position) != set(model_names):
        loose = _match_loosely(names, model_names)
        if loose is None:
            return data
        position = {n: i for i, n in enumerate(loose)}
    order = [position[n] for n in model_names]
    if order == list(range(len(order))):
        return data  # only spelled otherwise: check_columns renames (and warns)
    from nnrules.exceptions import ColumnsReorderedWarning, warn_at_caller

    warn_at_caller(
        f"{data.name!r}: columns put in the model's input order by name "
        f"({_show([names[i] for i in order])}; they were {_show(names)})",
        ColumnsReorderedWarning)
    schema = data.schema
    schema = replace(schema, features=tuple(schema.features[i] for i in order), **{
        k: tuple(getattr(schema, k)[i] for i in order)
        for k in ("input_names", "input_dtypes") if getattr(schema, k) is not None})
    return replace(data, X=np.ascontiguousarray(data.X[:, order]), schema=schema)


def _dtype_name(dtype: Any) -> str | None:
    """NumPy dtype name from a spec dtype (numpy dtype, "float32", or "tensor(float)")."""
    if dtype is None:
        return None
    text = str(dtype)
    if text.startswith("tensor(") and text.endswith(")"):
        text = {"float": "float32", "double": "float64", "string": "str"}.get(text[7:-1], text[7:-1])
    if text in ("str", "string", "object"):
        return "str"
    try:
        return np.dtype(text).name
    except TypeError:
        return None
