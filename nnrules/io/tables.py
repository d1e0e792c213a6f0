"""Sources -> a table: pandas DataFrames, pyarrow Tables, Parquet, ``.npy`` and arrays.

Moved out of ``nnrules.io.data`` (which still imports every name here).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nnrules.exceptions import DataError
from nnrules.io.cells import _text_column



# -- columns ---------------------------------------------------------------------------------
# Internally a table is (names, columns): each column a float64 array (already numeric) or an
# object array of str / None (text still to be read).


def _is_frame(obj: Any) -> bool:
    return type(obj).__module__.startswith("pandas") and hasattr(obj, "columns")


def _frame_columns(frame: Any) -> tuple[list[str], list[np.ndarray]]:
    names = [str(c) for c in frame.columns]
    if len(set(names)) != len(names):
        raise DataError(f"Column names must be unique; got {names}.")
    cols = []
    for c in frame.columns:
        series = frame[c]
        kind = series.dtype.kind
        if kind in "biuf":
            cols.append(series.to_numpy(dtype=np.float64, na_value=np.nan))
        else:
            cols.append(_text_column(series.tolist()))
    return names, cols


def _read_parquet(path: Path) -> tuple[list[str], list[np.ndarray]]:
    from nnrules.io.reader import read_parquet_arrow

    return _table_columns(read_parquet_arrow(path))


def _is_table(obj: Any) -> bool:
    """A pyarrow Table or RecordBatch."""
    return type(obj).__module__.startswith("pyarrow") and hasattr(obj, "column_names")


def _table_columns(table: Any) -> tuple[list[str], list[np.ndarray]]:
    from nnrules.io.reader import arrow_columns

    names = [str(c) for c in table.column_names]
    if len(set(names)) != len(names):
        raise DataError(f"Column names must be unique; got {names}.")
    return names, arrow_columns(table)


def _read_npy(path: Path, feature_names: Sequence[str] | None):
    try:
        arr = np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise DataError(f"Cannot read {str(path)!r} as a numeric .npy array: {exc}") from None
    return _array_columns(arr, feature_names)


def _array_columns(arr: Any, feature_names: Sequence[str] | None):
    arr = np.asarray(arr)
    if arr.ndim == 1:
        raise DataError(
            f"Expected a 2-D array of shape (n_samples, n_features); got 1-D shape {arr.shape}. "
            "Use X.reshape(-1, 1) for a single feature."
        )
    if arr.ndim != 2:
        raise DataError(f"Expected a 2-D array of shape (n_samples, n_features); got {arr.shape}.")
    d = arr.shape[1]
    names = [f"x{j}" for j in range(d)] if feature_names is None else [str(n) for n in feature_names]
    if len(names) != d:
        raise DataError(
            f"Got {len(names)} feature names for {d} columns; give one name per column."
        )
    if arr.dtype.kind in "biuf":
        arr = arr.astype(np.float64, copy=False)  # a float64 array is read in place
        return names, [arr[:, j] for j in range(d)]
    return names, [_text_column(arr[:, j].tolist()) for j in range(d)]
