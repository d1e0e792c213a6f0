"""Tabular input: CSV, NumPy ``.npy``, Parquet and pandas DataFrames -> ``Dataset``.

Every source becomes a float64 matrix in schema space plus a ``FeatureSchema`` (see
``nnrules.schema``). String columns become kind "categorical": their sorted distinct values are
coded 0..k-1 (under a given schema, its categories are used and an unseen one is a DataError).
A column counts as a string column only when none of its values reads as a number; a column that
mixes numbers and words is refused, naming the column, the row and the value.

Missing values (empty cells, ``NA``, ``N/A``, ``null``, ``None``, ``NaN``) and ``inf`` are refused
with the number of rows affected; ``drop_invalid=True`` (CLI ``--drop-invalid``) drops those rows
instead and records how many on ``Dataset.n_dropped``.

Schema files (``--schema SCHEMA.json``, hand-editable)
-----------------------------------------------------
::

    {
      "format": "nnrules/schema",            # required, exactly this
      "version": 1,                          # required; other versions are refused
      "features": [                          # one object per column, in column order
        {"name": "age", "kind": "integer", "lower": 17, "upper": 90},
        {"name": "color_red", "kind": "onehot", "lower": 0, "upper": 1,
         "group": "color", "category": "red"},
        {"name": "workclass", "kind": "categorical", "lower": 0, "upper": 2,
         "categories": ["Gov", "Private", "Self-emp"]}
      ],
      "input_names": null,                   # optional: graph input per feature (multi-input)
      "input_dtypes": null                   # optional: "float32", "int64", "str"... per input
    }

``kind`` is one of "continuous", "integer", "binary", "onehot", "categorical". ``lower`` and
``upper`` are the bounds that query sampling stays within; omit them (or write ``null``) for
unbounded. A "onehot" column needs ``group`` and ``category``; a group needs two or more columns.
A "categorical" column needs ``categories``: code i stands for ``categories[i]``.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from nnrules.exceptions import DataError, FormatError, SchemaError
from nnrules.io.cells import (  # noqa: F401 (moved; still importable from here)
    FLOAT32_MAX,
    MISSING,
    _check_magnitude,
    _is_number,
    _is_text,
    _numeric,
    _present,
    _text_column,
)
from nnrules.io.csv_text import (  # noqa: F401 (moved; still importable from here)
    SEPARATORS,
    _check_header,
    _check_separator,
    _encoding_error,
    _read_csv,
    _read_csv_python,
    parse_separator,
)
from nnrules.io.files import check_input_file
from nnrules.io.limits import check_file_size
from nnrules.io.tables import (  # noqa: F401 (moved; still importable from here)
    _array_columns,
    _frame_columns,
    _is_frame,
    _is_table,
    _read_npy,
    _read_parquet,
    _table_columns,
)
from nnrules.schema import FeatureSchema

__all__ = [
    "Dataset",
    "as_dataset",
    "import_or_raise",
    "load_schema",
    "read_data",
    "save_schema",
]

_CSV_SUFFIXES = {".csv": ",", ".tsv": "\t", ".txt": ","}
_PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass(frozen=True)
class Dataset:
    """Rows in schema space.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float64
    y : ndarray of shape (n_samples,) or None
        Target column (numbers or strings) when one was named.
    schema : FeatureSchema
    name : str
        Where the data came from (file name or "array").
    n_dropped : int
        Rows dropped because of missing values, NaN or inf (``drop_invalid=True``).
    sampled_from : int
        When these rows are a sample (``nnrules.io.stream.stratified_sample``), how many rows
        it was drawn from (those kept after ``n_dropped``); 0 when they are not a sample.
    """

    X: np.ndarray
    y: np.ndarray | None
    schema: FeatureSchema
    name: str = "data"
    n_dropped: int = 0
    sampled_from: int = 0

    def __post_init__(self) -> None:
        X = np.asarray(self.X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.schema.n_features:
            raise DataError(
                f"Dataset X has shape {X.shape}; it must be (n_samples, "
                f"{self.schema.n_features}) to match the schema {list(self.schema.names)}."
            )
        if self.y is not None and np.shape(self.y)[:1] != (X.shape[0],):
            raise DataError(
                f"Dataset y has shape {np.shape(self.y)} but X has {X.shape[0]} rows; give one "
                "label per row."
            )
        object.__setattr__(self, "X", X)

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    @property
    def feature_names(self) -> tuple[str, ...]:
        return self.schema.names

    def fingerprint(self) -> str:
        """SHA-256 of ``X`` (bytes and shape): equal for the same rows in the same order."""
        from nnrules.io.hashing import fingerprint

        return fingerprint(self.X)

    def row_hashes(self) -> np.ndarray:
        """A 64-bit hash per row of ``X``, shape (n_samples,) of uint64 (equal rows, equal
        hashes): which evaluation rows were also extraction rows."""
        from nnrules.io.hashing import row_hashes

        return row_hashes(self.X)


def import_or_raise(module: str, extra: str) -> Any:
    """Import ``module`` or raise DataError naming ``pip install nnrules[extra]``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise DataError(
            f"This needs the optional package {module.split('.')[0]!r}, which is not installed "
            f"({exc}). Install it with: pip install nnrules[{extra}]"
        ) from None


def _split_target(names, cols, target):
    if target is None:
        return names, cols, None
    if target not in names:
        raise DataError(f"Target column {target!r} is not in the data; columns are {names}.")
    j = names.index(target)
    y = cols[j]
    names, cols = names[:j] + names[j + 1 :], cols[:j] + cols[j + 1 :]
    if y.dtype == object and not _is_text(y):
        y = _numeric(target, y)
    if y.dtype == object:
        y = np.where(_present(y), y, None)
    elif np.all(np.isfinite(y)) and np.all(y == np.round(y)) and np.all(np.abs(y) < 2.0**53):
        y = y.astype(np.int64)  # whole numbers a float64 holds exactly; larger stay floats
    return names, cols, y


def warn_renamed(what: str, names: Sequence[str], renamed: Sequence[str]) -> None:
    """Warn (:class:`~nnrules.exceptions.ColumnsRenamedWarning`) that ``names`` were read as
    ``renamed`` (see :func:`_match_loosely`)."""
    from nnrules.exceptions import ColumnsRenamedWarning, warn_at_caller

    changed = [f"{a!r} as {b!r}" for a, b in zip(names, renamed) if a != b]
    warn_at_caller(f"{what}: columns matched by name ignoring case and surrounding spaces: "
                   f"{', '.join(changed[:4])}"
                   + (f" and {len(changed) - 4} more" if len(changed) > 4 else ""),
                   ColumnsRenamedWarning)


def _match_loosely(names: Sequence[str], expected: Sequence[str]) -> list[str] | None:
    """``names`` renamed to ``expected``'s spelling when they differ from it only in case and
    surrounding spaces, one to one (``" Age"`` -> ``"age"``); None when that is not so."""
    def key(n: str) -> str:
        return str(n).strip().casefold()

    by_key = {key(e): e for e in expected}
    if len(by_key) != len(expected) or len(names) != len(expected):
        return None
    renamed = [by_key.get(key(n)) for n in names]
    if None in renamed or len(set(renamed)) != len(renamed):
        return None
    return renamed


def _build(names, cols, y, *, schema, drop_invalid, name, coded=False,
           order: str = "C") -> Dataset:
    """The shared path: columns -> codes and floats -> invalid rows -> schema.

    ``coded``: numeric columns of categorical features already hold codes (schema space).
    ``order``: the memory layout of ``X`` -- "C" (rows contiguous) or "F" (columns contiguous:
    the batches of ``nnrules.io.stream``, whose per-column work -- tree tests, domain checks --
    then reads contiguous memory; the values are the same).
    """
    if not cols:
        raise DataError(f"{name!r} has no feature columns.")
    n = cols[0].shape[0]
    if n == 0:
        raise DataError(f"{name!r} has no data rows; give at least one row.")
    if schema is not None and _unnamed(names) and len(names) == schema.n_features:
        names = list(schema.names)  # a bare array: its columns are the schema's, in order
    if schema is not None:
        missing = [s for s in schema.names if s not in names]
        extra = [c for c in names if c not in schema.names]
        loose = _match_loosely(names, schema.names) if missing or extra else None
        if loose is not None:
            warn_renamed(repr(name), names, loose)
            names, missing, extra = loose, [], []
        if missing or extra:
            raise DataError(
                f"{name!r} columns do not match the schema: missing {_show(missing)}, "
                f"unexpected {_show(extra)}. The schema expects {_show(schema.names)}; name the "
                "label column with "
                "target= (CLI --target) and drop other extra columns."
            )
        order = [names.index(s) for s in schema.names]
        names, cols = list(schema.names), [cols[j] for j in order]
    raw: dict[str, tuple[str, ...]] = {}
    values_by_column: list[np.ndarray] = []
    for j, (col_name, col) in enumerate(zip(names, cols)):
        feat = None if schema is None else schema.features[j]
        text = feat.kind == "categorical" if feat is not None else _is_text(col)
        if not text or (coded and col.dtype != object):
            values_by_column.append(_numeric(col_name, col))
            continue
        if col.dtype != object:
            col = _text_column([format(v, "g") for v in col])
        values = col.tolist()
        distinct = {v for v in set(values) if v is not None and v.lower() not in MISSING}
        cats = feat.categories if feat is not None else tuple(sorted(distinct))
        lookup = {c: float(i) for i, c in enumerate(cats)}
        unseen = sorted(v for v in distinct if v not in lookup)
        if unseen and not drop_invalid:
            n_rows = sum(v in unseen for v in values)
            raise DataError(
                f"{name!r}: column {col_name!r} has categories {unseen[:5]} (on {n_rows} rows) "
                f"that the schema does not know; known: {list(cats)}. A surrogate or a schema made "
                "without them cannot answer there: drop those rows with drop_invalid=True "
                "(CLI --drop-invalid), or extract again on data that holds them (or a schema "
                "whose 'categories' list them; the model must accept them too)."
            )
        values_by_column.append(np.fromiter((lookup.get(v, np.nan) if v in distinct else np.nan
                                             for v in values), dtype=np.float64, count=len(values)))
        raw[col_name] = cats
    X = _stack(values_by_column, n) if order == "C" else np.stack(values_by_column).T
    del values_by_column
    # The usual case in two passes without temporaries: the largest and smallest values (NaN
    # propagates through max/min) within the float32 range say there is no NaN, no inf and
    # nothing too large; otherwise the cell-by-cell checks find and name them.
    with np.errstate(invalid="ignore"):
        clean = bool(-FLOAT32_MAX <= X.min() and X.max() <= FLOAT32_MAX)
    if not clean:
        _check_magnitude(names, X, name)
    bad = np.zeros(n, dtype=bool) if clean else ~np.all(np.isfinite(X), axis=1)
    if y is not None:
        if y.dtype == object:
            bad |= np.array([v is None for v in y], dtype=bool)
        elif y.dtype.kind == "f":
            bad |= ~np.isfinite(y)
    n_bad = int(bad.sum())
    if n_bad and not drop_invalid:
        raise DataError(
            f"{name!r} has {n_bad} of {n} rows with missing values, NaN or inf (first: row "
            f"{int(np.flatnonzero(bad)[0])}). Clean them, or drop them with drop_invalid=True "
            "(CLI --drop-invalid)."
        )
    if n_bad:
        X = X[~bad]
        y = None if y is None else y[~bad]
        if X.shape[0] == 0:
            raise DataError(
                f"All {n} rows of {name!r} had missing values, NaN or inf, or categories the "
                "schema does not know (see the schema's 'categories'): nothing is left to use. "
                "Check the file's columns against the schema, or extract on data like it.")
    if y is not None and y.dtype == object:
        y = y.astype(str)
    if schema is None:
        schema = FeatureSchema.infer(X, names, raw_columns=raw)
    else:
        # Only what the network cannot take is refused here; rows outside the schema's
        # domain are counted in the fidelity report (FeatureSchema.outside_domain).
        schema.validate(X, data_name=name, hard_only=True)
    return Dataset(X=X, y=y, schema=schema, name=name, n_dropped=n_bad)


def _stack(columns: list[np.ndarray], n: int, block: int = 8192) -> np.ndarray:
    """Columns -> a C-ordered (n, d) float64 matrix, a block of rows at a time (writing whole
    columns into a row-major matrix is a strided walk through memory, ~10x slower)."""
    X = np.empty((n, len(columns)), dtype=np.float64)
    for start in range(0, n, block):
        stop = min(start + block, n)
        X[start:stop] = np.column_stack([col[start:stop] for col in columns])
    return X


def _select(names, cols, feature_names):
    if feature_names is None:
        return names, cols
    wanted = [str(f) for f in feature_names]
    missing = [f for f in wanted if f not in names]
    if missing:
        raise DataError(f"Feature columns {missing} are not in the data; columns are {names}.")
    return wanted, [cols[names.index(f)] for f in wanted]


def read_data(
    source: Any,
    *,
    target: str | None = None,
    schema: FeatureSchema | None = None,
    feature_names: Sequence[str] | None = None,
    drop_invalid: bool = False,
    name: str | None = None,
    encoding: str | None = None,
    sep: str | None = None,
    max_bytes: int | None = None,
) -> Dataset:
    """Read a table into a ``Dataset``.

    Parameters
    ----------
    source : str, Path, pandas.DataFrame or array-like
        A ``.csv`` (header line required; ``.tsv`` is tab-separated), ``.npy`` (numeric, no
        pickles), ``.parquet`` file, a pandas DataFrame or pyarrow Table (as they are), or an
        array of shape (n_samples, n_columns).
    target : str, optional
        Column to split off as ``y``.
    schema : FeatureSchema, optional
        Feature kinds and categories to use instead of inferring them; columns are reordered to
        the schema's order and the data are validated against it.
    feature_names : sequence of str, optional
        For arrays and ``.npy``: names of all columns (default ``x0, x1, ...``). For named
        sources: the feature columns to keep, in this order.
    drop_invalid : bool, default False
        Drop rows with missing values, NaN or inf instead of refusing them.
    name : str, optional
        What to call the data in reports (default: the file name).
    encoding : str, optional
        Text encoding of a CSV (default UTF-8, with or without a byte-order mark); e.g.
        ``"latin-1"``. A file that is not in it is a DataError naming the line.
    sep : str, optional
        CSV separator (default ``,``; ``.tsv``: tab). A file whose header reads as one column
        but splits on ``;``, tab or ``|`` is a DataError that names the separator to pass.
    max_bytes : int, optional
        Largest file read (default ``nnrules.io.limits.MAX_DATA_BYTES``, 256 MiB).

    Returns
    -------
    Dataset

    Raises
    ------
    InputFileError
        The file does not exist.
    DataError
        Empty data, a word in a numeric column, NaN/inf, a value beyond the float32 range, a
        missing target, columns that do not match the schema, an unknown file type, another
        text encoding or separator than the one given, a file above ``max_bytes``.
        ``SchemaError`` when the data contradict the schema.
    """
    if isinstance(source, Dataset):
        return as_dataset(source, schema=schema, feature_names=feature_names)
    if _is_frame(source) or _is_table(source):
        names, cols = _frame_columns(source) if _is_frame(source) else _table_columns(source)
        label = name or ("DataFrame" if _is_frame(source) else "Table")
        names, cols, y = _split_target(names, cols, target)
        names, cols = _select(names, cols, feature_names)
    elif isinstance(source, (str, os.PathLike)):
        path = check_input_file(source, "Data file")
        check_file_size(path, max_bytes)
        suffix = path.suffix.lower()
        label = name or path.name
        if suffix == ".npy":
            names, cols = _read_npy(path, feature_names)
            names, cols, y = _split_target(names, cols, target)
        else:
            if suffix in _CSV_SUFFIXES:
                text = () if schema is None else [
                    f.name for f in schema.features if f.kind == "categorical"]
                delimiter = parse_separator(sep) or _CSV_SUFFIXES[suffix]
                names, cols = _read_csv(path, delimiter, text, encoding,
                                        sep_given=sep is not None)
            elif suffix in _PARQUET_SUFFIXES:
                names, cols = _read_parquet(path)
            else:
                raise DataError(
                    f"Unknown data file type {suffix!r} for {str(path)!r}; use .csv, .tsv, "
                    ".npy or .parquet."
                )
            names, cols, y = _split_target(names, cols, target)
            names, cols = _select(names, cols, feature_names)
    else:
        names, cols = _array_columns(source, feature_names)
        label = name or "array"
        names, cols, y = _split_target(names, cols, target)
    coded = not (_is_frame(source) or _is_table(source)) and not isinstance(
        source, (str, os.PathLike))
    coded = coded or (isinstance(source, (str, os.PathLike)) and Path(source).suffix.lower() == ".npy")
    data = _build(
        names, cols, y, schema=schema, drop_invalid=drop_invalid, name=label, coded=coded
    )
    if isinstance(source, (str, os.PathLike)) and "pyarrow" in sys.modules:
        # A Parquet file's columns are views of pyarrow's buffers: once they are copied into X,
        # hand those buffers back (pyarrow's allocator keeps freed blocks: ~250 MB at 1M x 20).
        del cols
        from nnrules.io.reader import _release

        _release(sys.modules["pyarrow"])
    return data


def as_dataset(
    X: Any,
    *,
    y: Any = None,
    schema: FeatureSchema | None = None,
    feature_names: Sequence[str] | None = None,
) -> Dataset:
    """Turn what a user passes to ``Extractor.fit`` into a ``Dataset``.

    Parameters
    ----------
    X : Dataset, pandas.DataFrame, ndarray or list of shape (n_samples, n_features)
    y : array-like of shape (n_samples,), optional
        Replaces the Dataset's ``y`` when given.
    schema : FeatureSchema, optional
        Used instead of an inferred one (a Dataset's columns must match it by name).
    feature_names : sequence of str, optional
        Column names for bare arrays (default ``x0, x1, ...``, or the schema's names).

    Returns
    -------
    Dataset
    """
    if isinstance(X, Dataset):
        data = X
        if schema is not None and schema != data.schema:
            if schema.names != data.schema.names:
                raise DataError(
                    f"The data's columns {list(data.schema.names)} do not match the schema's "
                    f"{list(schema.names)}."
                )
            schema.validate(data.X)
            data = replace(data, schema=schema)
    else:
        if feature_names is None and schema is not None and not (_is_frame(X) or _is_table(X)):
            try:
                shape = np.shape(X)
            except ValueError:  # ragged rows: read_data says what is wrong
                shape = ()
            if len(shape) == 2 and shape[1] != schema.n_features:
                # The names below are the schema's, not the user's: say so, not "Got k names".
                shown = list(schema.names[:8]) + (["..."] if schema.n_features > 8 else [])
                raise DataError(
                    f"The data have {shape[1]} columns but the schema has "
                    f"{schema.n_features} {shown}; pass those columns, in that order.")
            feature_names = schema.names
        data = read_data(X, schema=schema, feature_names=feature_names)
    if y is not None:
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != data.X.shape[0]:
            raise DataError(
                f"y has shape {y.shape} but the data have {data.X.shape[0]} rows; give one "
                "label per row."
            )
        data = replace(data, y=y)
    return data


def _unnamed(names: Sequence[str]) -> bool:
    """True for the placeholder names a bare array gets (x0, x1, ...)."""
    return list(names) == [f"x{i}" for i in range(len(names))]


def _show(names: Sequence[str], most: int = 8) -> str:
    """A list for an error message, cut after ``most`` items so the message stays one line."""
    names = [str(n) for n in names]
    if len(names) <= most:
        return repr(names)
    return repr(names[:most])[:-1] + f", ... ({len(names)} in all)]"


def load_schema(path: str | os.PathLike) -> FeatureSchema:
    """Read a schema JSON file (see the module docstring for its keys).

    Raises
    ------
    InputFileError
        The file does not exist.
    FormatError
        Not JSON (or nested too deep, or holding NaN / huge numbers), not ``"format":
        "nnrules/schema"``, an unknown version, or a malformed feature (unknown kind or key,
        missing group or categories, bounds that are not numbers...).
    """
    from nnrules.io.serialize import parse_json

    path = check_input_file(path, "Schema file")
    try:
        d = parse_json(path.read_text(encoding="utf-8"), source=f"Schema file {str(path)!r}")
    except UnicodeDecodeError:
        raise FormatError(f"Schema file {str(path)!r} is not valid JSON: not UTF-8 text.") from None
    if not isinstance(d, dict) or d.get("format") != "nnrules/schema" or "version" not in d:
        got = d.get("format") if isinstance(d, dict) else type(d).__name__
        raise FormatError(
            f"Schema file {str(path)!r} must be a JSON object with \"format\": "
            f"\"nnrules/schema\" and a \"version\"; got format {got!r}."
        )
    try:
        return FeatureSchema.from_dict(d)
    except FormatError:
        raise
    except (SchemaError, TypeError, ValueError, OverflowError) as exc:
        raise FormatError(f"Schema file {str(path)!r} is malformed: {exc}") from None


def save_schema(schema: FeatureSchema, path: str | os.PathLike) -> None:
    """Write ``schema`` as indented JSON (atomically: temporary file, then rename)."""
    path = Path(path)
    text = json.dumps(schema.to_dict(), indent=2, allow_nan=False) + "\n"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)

