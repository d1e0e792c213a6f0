"""Columnar reading of CSV and Parquet files (pyarrow), whole or in batches.

``nnrules.io.data`` turns a table into a ``Dataset``; this module only gets the columns off the
disk fast, in the form ``data`` works with: ``(names, columns)`` where each column is a float64
array (numbers; missing cells are NaN) or an object array of stripped ``str`` / ``None`` (text
still to be read by ``data``'s rules).

The rules are the ones of the pure-Python reader this replaces, and where pyarrow could read a
column differently it does not get to decide:

- pyarrow reads a column as numbers only when every non-missing cell parses as a number (it
  parses them correctly rounded, like Python's ``float``); anything else (a word, ``1_000``, a
  stray space before ``NA``) leaves the column as text and ``data`` applies its own rules to it.
- booleans, dates and times are not recognised (they are text here, as before);
- a column that a schema declares categorical is always read as text;
- a file pyarrow cannot read (a row with the wrong number of fields, bad UTF-8, a header that
  differs from what Python's ``csv`` module sees) is read again by the pure-Python reader, which
  names the line at fault or reads what pyarrow would not.

Why pyarrow rather than pandas' C parser: typed, multi-threaded reading straight into columns
(no intermediate DataFrame), string columns that can be dictionary-encoded so the per-value
Python work runs once per distinct value, the same library for CSV and Parquet, streaming batch
readers for both (``open_csv``, ``ParquetFile.iter_batches``), and no pandas import on the way.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["MISSING_TOKENS", "arrow_columns", "iter_csv_batches", "iter_parquet_batches",
           "read_csv_arrow", "read_parquet_arrow"]

# Cells pyarrow may turn into nulls itself: every spelling (any letter case) of data.MISSING.
_MISSING_WORDS = ("na", "n/a", "nan", "null", "none")


def _case_variants(word: str) -> list[str]:
    out = [""]
    for ch in word:
        out = [p + c for p in out for c in {ch.lower(), ch.upper()}]
    return out


MISSING_TOKENS = sorted({""} | {v for w in _MISSING_WORDS for v in _case_variants(w)})


def _pa():
    from nnrules.io.data import import_or_raise

    return import_or_raise("pyarrow", "parquet")


def _contains(path: Path, *needles: bytes, chunk: int = 1 << 22) -> bool:
    """Whether the file contains any of ``needles`` (a quote: a cell may hold a line break;
    ``0x``: pyarrow would read a hexadecimal integer that Python's ``float`` refuses). Read in
    chunks: mapping the whole file would count it all in the process's resident memory."""
    keep = max(len(n) for n in needles) - 1
    tail = b""
    with open(path, "rb") as fh:
        while True:
            block = fh.read(chunk)
            if not block:
                return False
            window = tail + block
            if any(needle in window for needle in needles):
                return True
            tail = window[-keep:] if keep else b""


def _options(path: Path, delimiter: str, text_columns: Sequence[str] = (), *,
             types: dict | None = None, block_size: int | None = None, parse: Any = None):
    """pyarrow's read, parse and convert options; ``parse``: ParseOptions already made for
    this file (the scan for a quote reads the whole file of a quote-free CSV once, not twice)."""
    pa = _pa()
    import pyarrow.csv as pcsv

    read = pcsv.ReadOptions(use_threads=True, **({"block_size": block_size} if block_size else {}))
    if parse is None:
        parse = pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=_contains(path, b'"'))
    column_types = {name: pa.string() for name in text_columns}
    column_types.update(types or {})
    convert = pcsv.ConvertOptions(
        null_values=MISSING_TOKENS, strings_can_be_null=True, quoted_strings_can_be_null=True,
        true_values=[], false_values=[], timestamp_parsers=[], column_types=column_types,
    )
    return read, parse, convert


def _numeric_type(pa, t) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_null(t)


def read_csv_arrow(path: Path, delimiter: str, raw_header: Sequence[str],
                   text_columns: Sequence[str] = ()) -> list[np.ndarray] | None:
    """The columns of a CSV whose header line (``raw_header``, as Python's ``csv`` reads it)
    was already checked; ``text_columns`` (stripped names) are read as text.

    Returns ``None`` when pyarrow cannot read the file the way the pure-Python reader would (the
    caller then uses that reader, which also words the error).
    """
    pa = _pa()
    import pyarrow.csv as pcsv

    stripped = [h.strip() for h in raw_header]
    wanted = [raw_header[stripped.index(t)] for t in text_columns if t in stripped]
    try:
        read, parse, convert = _options(path, delimiter, wanted)
        table = pcsv.read_csv(path, read_options=read, parse_options=parse,
                              convert_options=convert)
        if table.column_names != list(raw_header):
            return None
        other = [n for n, f in zip(raw_header, table.schema)
                 if not (_numeric_type(pa, f.type) or pa.types.is_string(f.type))]
        integers = [n for n, f in zip(raw_header, table.schema) if pa.types.is_integer(f.type)]
        # A hexadecimal integer is text to Python; only integer columns can hold one, so the
        # file is scanned for "0x" only when there are some (1M x 20: ~0.4 s saved).
        if integers and _contains(path, b"0x", b"0X"):
            other += integers
        if other:  # dates, times...: read those as text
            read, parse, convert = _options(path, delimiter, wanted + other, parse=parse)
            table = pcsv.read_csv(path, read_options=read, parse_options=parse,
                                  convert_options=convert)
    except (pa.ArrowException, OSError, ValueError):
        return None
    _release(pa)  # the parse's retained blocks go before the columns are copied out
    columns = []
    while table.num_columns:  # column by column, each dropped from the table once converted:
        columns.append(arrow_column(table.column(0)))  # the peak holds one column twice
        table = table.remove_column(0)
    del table
    _release(pa)
    return columns


def _release(pa) -> None:
    """Hand the memory pyarrow's pool kept from parsing back to the system (its allocator holds
    freed blocks: ~400 MB after a 170 MB CSV), so later steps do not stack on top of it."""
    try:
        pa.default_memory_pool().release_unused()
    except AttributeError:  # pyarrow < 13
        pass


def read_parquet_arrow(path: Path):
    """The whole Parquet file as a pyarrow Table."""
    pa = _pa()
    import pyarrow.parquet as pq

    from nnrules.exceptions import DataError

    try:
        table = pq.read_table(path)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise DataError(f"Cannot read {str(path)!r} as Parquet: {exc}") from None
    _release(pa)  # the decoder's freed blocks, before the columns are copied out
    return table


def _text(values: list[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        missing = v is None or (isinstance(v, float) and math.isnan(v))
        out[i] = None if missing else str(v).strip()
    return out


def _string_column(col) -> np.ndarray:
    """A pyarrow string column -> object array of stripped str / None, one Python call per
    distinct value."""
    pa = _pa()
    import pyarrow.compute as pc

    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    if not pa.types.is_dictionary(col.type):
        col = pc.dictionary_encode(col)
    uniques = _text(col.dictionary.to_pylist())
    if len(uniques) == 0:  # all null
        return np.full(len(col), None, dtype=object)
    codes = col.indices.fill_null(0).to_numpy(zero_copy_only=False).astype(np.intp)
    out = uniques[codes]
    if col.null_count:
        out[~col.is_valid().to_numpy(zero_copy_only=False)] = None
    return out


def _numbers(pa, chunk) -> np.ndarray:
    """A numeric, boolean or null pyarrow Array -> float64 (nulls -> NaN), read from its
    buffers with NumPy (pyarrow's own conversions import pandas when it is installed, ~0.7 s);
    a float64 array without nulls is used in place."""
    t, n, offset = chunk.type, len(chunk), chunk.offset
    if pa.types.is_null(t) or n == 0:
        return np.full(n, np.nan)
    validity, data = chunk.buffers()[:2]
    if pa.types.is_boolean(t):
        bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8), bitorder="little")
        out = bits[offset:offset + n].astype(np.float64)
    else:
        if pa.types.is_floating(t):
            kind = {16: np.float16, 32: np.float32, 64: np.float64}[t.bit_width]
        else:
            kind = np.dtype(f"{'i' if pa.types.is_signed_integer(t) else 'u'}{t.bit_width // 8}")
        values = np.frombuffer(data, dtype=kind, count=offset + n)[offset:]
        out = values.astype(np.float64, copy=chunk.null_count > 0 or kind is not np.float64)
    if chunk.null_count:
        valid = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
        out[valid[offset:offset + n] == 0] = np.nan
    return out


def arrow_column(col) -> np.ndarray:
    """One pyarrow column (Array or ChunkedArray) -> float64 or object text array."""
    pa = _pa()
    t = col.type
    if pa.types.is_dictionary(t) and not (pa.types.is_string(t.value_type)
                                          or pa.types.is_large_string(t.value_type)):
        col = col.cast(t.value_type)
        t = col.type
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t) \
            or pa.types.is_null(t):
        chunks = col.chunks if isinstance(col, pa.ChunkedArray) else [col]
        parts = [_numbers(pa, c) for c in chunks]
        if not parts:
            return np.empty(0, dtype=np.float64)
        return parts[0] if len(parts) == 1 else np.concatenate(parts)
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_dictionary(t):
        if pa.types.is_large_string(t):
            col = col.cast(pa.string())
        return _string_column(col)
    return _text(col.to_pylist())


def arrow_columns(table) -> list[np.ndarray]:
    """Every column of a pyarrow Table or RecordBatch, in order."""
    return [arrow_column(table.column(i)) for i in range(table.num_columns)]


def iter_csv_batches(path: Path, delimiter: str, names: Sequence[str], float_columns: Sequence[str],
                     *, block_size: int = 1 << 22) -> Iterator[Any]:
    """pyarrow RecordBatches of a CSV, ``float_columns`` typed float64, the rest text.

    Raises pyarrow's ArrowInvalid when a cell of a float column does not parse (the caller then
    reads the file whole, by the exact rules).
    """
    pa = _pa()
    import pyarrow.csv as pcsv

    types = {n: pa.float64() for n in float_columns}
    types.update({n: pa.string() for n in names if n not in types})
    read, parse, convert = _options(path, delimiter, types=types, block_size=block_size)
    reader = pcsv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert)
    for batch in reader:
        if batch.num_rows:
            yield batch


def iter_parquet_batches(path: Path, batch_size: int) -> Iterator[Any]:
    """pyarrow RecordBatches of a Parquet file, ``batch_size`` rows at most."""
    pa = _pa()
    import pyarrow.parquet as pq

    from nnrules.exceptions import DataError

    try:
        # pre_buffer=False: with pre-buffering, pyarrow keeps the file's read buffers as the
        # iteration goes on (memory grew ~6 MB per 65,536 x 20 batch); without it, it is flat.
        pf = pq.ParquetFile(path, pre_buffer=False)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise DataError(f"Cannot read {str(path)!r} as Parquet: {exc}") from None
    for batch in pf.iter_batches(batch_size=batch_size):
        if batch.num_rows:
            yield batch
