"""Documented limits on what nnrules reads, and the one check each goes through.

The defaults keep a run on an ordinary machine within minutes and a few GiB; each can be raised
(CLI ``--max-file-size MB`` / ``--max-length N``; in Python the keyword arguments of
``read_data`` / ``read_sequences``, or these module constants). See ``docs/formats.md``.
"""

from __future__ import annotations

from pathlib import Path

from nnrules.exceptions import DataError

__all__ = ["MAX_DATA_BYTES", "MAX_SEQUENCE_LENGTH", "check_file_size", "check_length"]

#: Largest data file read into memory at once (CSV, TSV, Parquet, .npy, sequence text), in
#: bytes: 256 MiB. Memory and time per size: docs/benchmarks.md (scale).
MAX_DATA_BYTES = 256 * 2**20
#: Longest sequence (symbols or tokens per line) read. Automaton extraction time grows with
#: the square of the longest extraction sequence: 300 symbols take about 40 s on one core.
MAX_SEQUENCE_LENGTH = 256


def check_file_size(path: Path, max_bytes: int | None, what: str = "Data file") -> None:
    """Refuse ``path`` when it is larger than ``max_bytes`` (None: ``MAX_DATA_BYTES``)."""
    limit = MAX_DATA_BYTES if max_bytes is None else max_bytes
    size = path.stat().st_size
    if size > limit:
        raise DataError(
            f"{what} {str(path)!r} holds {_mib(size)}, more than the limit of {_mib(limit)}. "
            f"Read a sample of it, or raise the limit (CLI --max-file-size {_mb_needed(size)}; "
            "Python max_bytes=...) if the machine has the memory for it.")


def check_length(length: int, line: int, name: str, max_length: int | None) -> None:
    """Refuse a sequence longer than ``max_length`` (None: ``MAX_SEQUENCE_LENGTH``)."""
    limit = MAX_SEQUENCE_LENGTH if max_length is None else max_length
    if length > limit:
        raise DataError(
            f"Sequence {line} of {name!r} has {length} symbols, more than the limit of {limit} "
            "(automaton extraction time grows with the square of the longest sequence). Cut "
            f"the sequences, or raise the limit (CLI --max-length {length}; Python "
            "max_length=...).")


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n} bytes"


def _mb_needed(size: int) -> int:
    return -(-size // 2**20)
