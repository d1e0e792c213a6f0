"""Chunked onnxruntime inference: one ``session.run`` per chunk of rows, never per row.

``Network`` routes every query through :func:`run_batched`, so a data set larger than memory
allows for the outputs is cut into chunks of ``batch_size`` rows, with a tqdm bar on long runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from nnrules.exceptions import DataError, ParameterError
from nnrules.io.progress import bar as progress_bar

__all__ = ["PROGRESS_MIN_ROWS", "run_batched"]

#: With ``progress=None`` a bar is shown only past this many rows (and only on a terminal).
PROGRESS_MIN_ROWS = 1_000_000


def _n_rows(feeds: Mapping[str, Any]) -> int:
    counts = {name: len(value) for name, value in feeds.items()}
    distinct = set(counts.values())
    if len(distinct) != 1:
        raise DataError(
            f"Every model input must have the same number of rows; got {counts!r}. "
            "Pass columns of equal length."
        )
    return distinct.pop()


def _concat(parts: list[Any]) -> Any:
    """Join one output's chunks: arrays along axis 0, ZipMap's lists of dicts by extension."""
    if len(parts) == 1:
        return parts[0]
    if isinstance(parts[0], list):
        joined: list[Any] = []
        for part in parts:
            joined.extend(part)
        return joined
    return np.concatenate(parts, axis=0)


def run_batched(
    session: Any,
    feeds: Mapping[str, Any],
    output_names: Sequence[str],
    *,
    batch_size: int = 65536,
    progress: bool | None = None,
) -> list[Any]:
    """Run ``session`` on ``feeds`` in chunks of rows and join the outputs.

    Parameters
    ----------
    session : onnxruntime.InferenceSession
        The session to run.
    feeds : mapping of str to ndarray of shape (n_rows, ...)
        One array per graph input, already of the input's dtype; all with ``n_rows`` rows.
    output_names : sequence of str
        Outputs to fetch, in order.
    batch_size : int, default=65536
        Rows per ``session.run`` call.
    progress : bool or None, default=None
        Show a tqdm bar. ``None`` shows one only when there are more than
        ``PROGRESS_MIN_ROWS`` rows, stderr is a terminal and progress is enabled
        (``nnrules.io.progress``; the CLI's ``--quiet`` turns it off).

    Returns
    -------
    list
        One entry per output name: an ndarray of shape (n_rows, ...), or a list of length
        n_rows for sequence outputs (ZipMap).

    Raises
    ------
    ParameterError
        If ``batch_size`` is not a positive int.
    DataError
        If the inputs have different numbers of rows.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ParameterError(
            f"The 'batch_size' parameter of run_batched must be an int in [1, inf). "
            f"Got {batch_size!r} instead."
        )
    names = list(output_names)
    n = _n_rows(feeds)
    if n <= batch_size:
        # Fast path: one call, the caller's arrays handed over untouched.
        return list(session.run(names, dict(feeds)))
    if progress is None and n <= PROGRESS_MIN_ROWS:
        progress = False
    bar = progress_bar(n, "probing the network", unit="row", progress=progress)
    chunks: list[list[Any]] = [[] for _ in names]
    try:
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            part = {name: value[start:stop] for name, value in feeds.items()}
            for store, out in zip(chunks, session.run(names, part)):
                store.append(out)
            if bar is not None:
                bar.update(stop - start)
    finally:
        if bar is not None:
            bar.close()
    return [_concat(parts) for parts in chunks]
