"""CSV text files: header, separator and encoding checks, and the pure-Python reader.

The body of a UTF-8 CSV goes through pyarrow (``nnrules.io.reader``). Moved out of
``nnrules.io.data`` (which still imports every name here).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nnrules.exceptions import DataError
from nnrules.io.cells import _is_number, _text_column



def _read_csv(path: Path, delimiter: str, text_columns: Sequence[str] = (),
              encoding: str | None = None,
              sep_given: bool = False) -> tuple[list[str], list[np.ndarray]]:
    """Header checks here, the body through pyarrow (``nnrules.io.reader``); the pure-Python
    reader below when pyarrow cannot read the file by the same rules, or for an ``encoding``
    other than UTF-8. A header that reads as one column but splits on another separator, and
    text that is not in the encoding, are DataErrors that say what to pass."""
    try:
        with open(path, newline="", encoding=encoding or "utf-8-sig") as fh:
            head = []
            for r in csv.reader(fh, delimiter=delimiter):
                if r:
                    head.append(r)
                if len(head) == 20:
                    break
    except UnicodeDecodeError as exc:
        raise _encoding_error(path, encoding or "utf-8", exc) from None
    except LookupError:
        raise DataError(f"Unknown text encoding {encoding!r}; use a Python codec name such as "
                        "'utf-8', 'latin-1' or 'cp1252'.") from None
    if not head:
        raise DataError(f"{str(path)!r} is empty; a CSV needs a header line and data rows.")
    first = head[0]
    if len(first) == 1 and not sep_given:
        _check_separator(path, head, delimiter)
    header = _check_header(path, first)
    if encoding is None or encoding.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig"):
        from nnrules.io.reader import read_csv_arrow

        cols = read_csv_arrow(path, delimiter, first, text_columns)
        if cols is not None:
            return header, cols
    return _read_csv_python(path, delimiter, encoding)


def _check_header(path: Path, first: list[str]) -> list[str]:
    header = [h.strip() for h in first]
    if all(_is_number(h) for h in header):
        raise DataError(
            f"{str(path)!r} has no header line (its first line is {first!r}); add a line of "
            "column names."
        )
    if len(set(header)) != len(header) or "" in header:
        raise DataError(f"{str(path)!r}: column names must be unique and non-empty; got {header}.")
    return header


def _read_csv_python(path: Path, delimiter: str,
                     encoding: str | None = None) -> tuple[list[str], list[np.ndarray]]:
    try:
        with open(path, newline="", encoding=encoding or "utf-8-sig") as fh:
            rows = list(csv.reader(fh, delimiter=delimiter))
    except UnicodeDecodeError as exc:
        raise _encoding_error(path, encoding or "utf-8", exc) from None
    rows = [r for r in rows if r]  # blank lines
    header = _check_header(path, rows[0])
    body = rows[1:]
    for i, r in enumerate(body):
        if len(r) != len(header):
            raise DataError(
                f"{str(path)!r} line {i + 2} has {len(r)} fields but the header has "
                f"{len(header)}; fix that line."
            )
    cols = [_text_column([r[j] for r in body]) for j in range(len(header))]
    return header, cols


SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def parse_separator(sep: str | None) -> str | None:
    """A CSV separator from the CLI: one character, or ``tab`` / ``\\t``."""
    if sep is None:
        return None
    sep = {"tab": "\t", "\\t": "\t", "semicolon": ";", "comma": ",", "pipe": "|"}.get(sep, sep)
    if len(sep) != 1 or sep in "\"\r\n":
        raise DataError(f"The separator must be one character (or 'tab'); got {sep!r}. "
                        "Example: --sep ';'.")
    return sep


def _check_separator(path: Path, rows: list[list[str]], delimiter: str) -> None:
    """One column read: if another separator splits the header (and the next lines) the same
    way, say which and how to pass it, rather than going on with one wide column."""
    head = [delimiter.join(r) for r in rows[:20]]
    for sep, word in SEPARATORS.items():
        if sep == delimiter:
            continue
        widths = {len(next(csv.reader([line], delimiter=sep))) for line in head}
        if len(widths) == 1 and widths.pop() > 1:
            hint = ""
            if sep == ";" and any(re.search(r"\d,\d", line) for line in head[1:]):
                hint = (" Its numbers seem to use a decimal comma ('0,5'); nnrules reads decimal "
                        "points, so convert them first.")
            raise DataError(
                f"{str(path)!r} seems to be separated by {word}s ({sep!r}): its header "
                f"{head[0][:80]!r} reads as one column. Pass the separator with --sep {sep!r} "
                f"(Python: sep={sep!r}).{hint}")


def _encoding_error(path: Path, encoding: str, exc: UnicodeDecodeError) -> DataError:
    """Which line and byte are not ``encoding``, and what to pass instead."""
    line, bad = 1, exc.object[exc.start:exc.start + 1]
    try:
        with open(path, "rb") as fh:
            for line, raw in enumerate(fh, start=1):
                try:
                    raw.decode(encoding)
                except UnicodeDecodeError as e:
                    bad = raw[e.start:e.start + 1]
                    break
    except OSError:
        pass
    return DataError(
        f"{str(path)!r} is not {encoding} text: line {line} holds the byte {bad!r}. If the file "
        "was saved as Latin-1 or Windows-1252, pass --encoding latin-1 (or cp1252; Python: "
        "encoding='latin-1'), or re-save it as UTF-8.")
