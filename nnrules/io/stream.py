"""Data in batches: files, folders and globs read a batch of rows at a time, and a stratified
sample for extraction.

``evaluate`` and ``predict`` never hold more than one batch of rows (plus what they keep per
row: nothing for classification fidelity, two floats for regression); ``extract --sample N``
learns from ``N`` rows drawn per network label.

Batches are made the same way wherever they are read (one process, or a Dask worker): a file
is cut into batches by the reader (``rows`` rows for Parquet and ``.npy``, ``block_size`` bytes
for CSV), so batch ``k`` of file ``i`` holds the same rows on every run.
"""

from __future__ import annotations

import csv
import glob
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from nnrules.exceptions import DataError, InputFileError
from nnrules.io import data as _data
from nnrules.io.data import (
    _CSV_SUFFIXES,
    _PARQUET_SUFFIXES,
    Dataset,
    _array_columns,
    _check_header,
    _split_target,
    _table_columns,
    read_data,
)

__all__ = ["BATCH_ROWS", "DEFAULT_SAMPLE", "Batch", "data_files", "iter_batches",
           "stratified_sample"]

BATCH_ROWS = 65536            # rows per batch (Parquet, .npy); CSV batches are ~4 MB of text
CSV_BLOCK = 1 << 22
DEFAULT_SAMPLE = 1_000_000    # extract --sample default: rows the extractor learns from
_SUFFIXES = tuple(_CSV_SUFFIXES) + _PARQUET_SUFFIXES + (".npy",)


@dataclass(frozen=True)
class Batch:
    """A batch of rows in schema space and where it came from.

    ``file`` indexes the list of files, ``index`` counts batches within the file and ``start``
    is the first row's number within the file (data rows count from 0).
    """

    data: Dataset
    file: int
    index: int
    start: int


def data_files(source: str | os.PathLike) -> list[Path]:
    """The data files a path names: one file, every data file in a folder (not recursive), or
    the matches of a glob pattern; sorted by name so the order is the same everywhere.

    Raises
    ------
    InputFileError
        Nothing matches, or the folder holds no data file.
    DataError
        The matches mix file types.
    """
    text = os.fspath(source)
    path = Path(text)
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in _SUFFIXES)
        if not files:
            raise InputFileError(
                f"Folder {text!r} holds no data file ({', '.join(_SUFFIXES)}); give a folder of "
                "CSV or Parquet files, a glob such as 'data/*.parquet', or one file."
            )
    elif glob.has_magic(text):
        files = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
        if not files:
            raise InputFileError(
                f"The pattern {text!r} matches no file; check the folder and the pattern "
                "(quote it so the shell does not expand it)."
            )
    else:
        raise InputFileError(f"Data file {text!r} does not exist; give the path of a data file, "
                             "a folder of them, or a glob pattern.")
    kinds = {_kind(p) for p in files}
    if len(kinds) > 1:
        raise DataError(
            f"{text!r} mixes file types ({', '.join(sorted(kinds))}); give files of one type."
        )
    return files


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in _CSV_SUFFIXES:
        return "csv"
    if suffix in _PARQUET_SUFFIXES:
        return "parquet"
    if suffix == ".npy":
        return "npy"
    raise DataError(f"Unknown data file type {suffix!r} for {str(path)!r}; use .csv, .tsv, "
                    ".npy or .parquet.")


def iter_batches(
    files: Sequence[Path],
    *,
    schema: Any,
    target: str | None = None,
    drop_invalid: bool = False,
    rows: int | None = None,
    columns: Sequence[str] | None = None,
    first: str | os.PathLike | None = None,
) -> Iterator[Batch]:
    """Batches of every file, in order, each read by ``data``'s rules under ``schema``.

    Parameters
    ----------
    files : list of Path
        From :func:`data_files`.
    schema : FeatureSchema
        The surrogate's schema: the columns each file must have (extra columns other than
        ``target`` are refused, as ``read_data`` does).
    columns : sequence of str, optional
        The column names every file must have, in order (default: the first file's); a file
        whose columns differ is a DataError naming both lists.
    first : path, optional
        The file ``columns`` were read from, named in that error (default: "the first file").
    """
    expected = None if columns is None else list(columns)
    source = "the first file" if first is None else repr(str(first))
    rows = BATCH_ROWS if rows is None else rows
    for i, path in enumerate(files):
        for index, (start, names, cols) in enumerate(_file_batches(path, schema, target, rows)):
            if expected is None:
                expected, source = list(names), repr(str(path))
            elif list(names) != expected:
                raise DataError(
                    f"{str(path)!r} has columns {list(names)} but {source} has {expected}; "
                    "every file must have the same columns in the same order."
                )
            data = _dataset(path, names, cols, start, schema, target, drop_invalid)
            del cols  # the reader's buffers go now, not after the next batch is read
            yield Batch(data, i, index, start)
            del data


def _dataset(path, names, cols, start, schema, target, drop_invalid) -> Dataset:
    n = len(cols[0]) if cols else 0
    try:
        names, cols, y = _split_target(list(names), list(cols), target)
        coded = path.suffix.lower() == ".npy"
        # Columns contiguous (order="F"): stacking them costs one copy per column instead of a
        # strided walk, and the per-column work on a batch reads contiguous memory; the network
        # gets its row-major float32 copy from Network.predict in one pass.
        return _data._build(names, cols, y, schema=schema, drop_invalid=drop_invalid,
                            name=path.name, coded=coded, order="F")
    except DataError as exc:
        raise type(exc)(f"{exc} [in the batch of data rows {start}..{start + n - 1} of "
                        f"{path.name!r}; row numbers above count within the batch]") from None


def _file_batches(path: Path, schema: Any, target: str | None, rows: int):
    """(first row, names, columns) per batch of one file."""
    kind = _kind(path)
    if kind == "parquet":
        from nnrules.io.reader import iter_parquet_batches

        start = 0
        for batch in iter_parquet_batches(path, rows):
            names, cols = _table_columns(batch)
            n, batch = batch.num_rows, None  # only the columns keep its buffers alive
            yield start, names, cols
            del cols
            start += n
    elif kind == "npy":
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
        for start in range(0, max(len(arr), 1), rows):
            names, cols = _array_columns(np.asarray(arr[start:start + rows]), None)
            yield start, names, cols
    else:
        yield from _csv_batches(path, schema, target)


def _csv_batches(path: Path, schema: Any, target: str | None):
    import pyarrow as pa

    from nnrules.io.reader import arrow_columns, iter_csv_batches

    delimiter = _CSV_SUFFIXES[path.suffix.lower()]
    with open(path, newline="", encoding="utf-8-sig") as fh:
        first = next((r for r in csv.reader(fh, delimiter=delimiter) if r), None)
    if first is None:
        raise DataError(f"{str(path)!r} is empty; a CSV needs a header line and data rows.")
    header = _check_header(path, first)
    numeric = {f.name for f in schema.features if f.kind != "categorical"}
    floats = [raw for raw, name in zip(first, header) if name in numeric]
    start = 0
    try:
        for batch in iter_csv_batches(path, delimiter, first, floats, block_size=CSV_BLOCK):
            yield start, header, arrow_columns(batch)
            start += batch.num_rows
        return
    except pa.ArrowInvalid:
        pass
    # A cell pyarrow does not read as a number ("1_000", a word): the rest of the file as text,
    # which data's rules read (or refuse, naming the column and row).
    seen = 0
    try:
        for batch in iter_csv_batches(path, delimiter, first, [], block_size=CSV_BLOCK):
            n = batch.num_rows
            if seen + n > start:
                cut = max(0, start - seen)
                yield seen + cut, header, arrow_columns(batch.slice(cut))
            seen += n
    except pa.ArrowInvalid:
        # A line with the wrong number of fields: the pure-Python reader names it.
        read_data(path, target=target, schema=schema)
        raise DataError(f"pyarrow cannot read {str(path)!r} in batches; read it whole "
                        "(a single file without --dask) or fix its lines.") from None


# -- sampling ---------------------------------------------------------------------------------
def stratified_sample(data: Dataset, labels: np.ndarray, n: int, seed: int | None = 0, *,
                      return_index: bool = False) -> Dataset | tuple[Dataset, np.ndarray]:
    """``n`` rows of ``data`` drawn without replacement, each label keeping its share.

    Parameters
    ----------
    data : Dataset
    labels : ndarray of shape (n_samples,)
        The network's label per row (what the sample is stratified by).
    n : int
        Rows wanted; ``data`` is returned as is when it has no more than ``n`` rows.
    seed : int or None
        Seed of the draw (None -> 0): the same seed gives the same rows.
    return_index : bool, default False
        Also return the sampled rows' positions in ``data``.

    Returns
    -------
    Dataset
        The sampled rows in their original order, same schema (inferred on all rows);
        ``sampled_from`` is ``data``'s row count (the report says what the sample came from).
    ndarray of int of shape (n_sampled,)
        With ``return_index``: their positions in ``data``, ascending.

    Notes
    -----
    Quotas are ``n * share`` rounded down, the rows left over going to the largest remainders
    (ties to the label seen first), so every label present keeps at least its rounded share and
    no label with a row is dropped when ``n`` is at least the number of labels.
    """
    total = data.n_samples
    if n <= 0 or total <= n:
        return (data, np.arange(total)) if return_index else data
    labels = np.asarray(labels)
    if labels.shape[:1] != (total,):
        raise DataError(f"Got {labels.shape[0]} labels for {total} rows; give one per row.")
    uniq, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(uniq))
    exact = counts * (n / total)
    quota = np.floor(exact).astype(np.int64)
    quota = np.maximum(quota, np.minimum(counts, 1)) if n >= len(uniq) else quota
    left = n - int(quota.sum())
    if left > 0:
        order = sorted(range(len(uniq)), key=lambda k: (-(exact[k] - np.floor(exact[k])),
                                                        first[k]))
        for k in order:
            if left == 0:
                break
            if quota[k] < counts[k]:
                quota[k] += 1
                left -= 1
    elif left < 0:  # the minimum of one row per label overshot: take from the largest quotas
        for k in np.argsort(-quota, kind="stable"):
            take = min(-left, int(quota[k]) - 1)
            quota[k] -= take
            left += take
            if left == 0:
                break
    rng = np.random.default_rng(0 if seed is None else seed)
    chosen = []
    for k in range(len(uniq)):
        rows = np.flatnonzero(inverse == k)
        chosen.append(rng.choice(rows, size=int(quota[k]), replace=False))
    idx = np.sort(np.concatenate(chosen))
    sampled = replace(data, X=data.X[idx], y=None if data.y is None else data.y[idx],
                      name=f"{data.name} (stratified sample of {len(idx)} of {total} rows)",
                      sampled_from=total)
    return (sampled, idx) if return_index else sampled
