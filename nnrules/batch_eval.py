"""``evaluate`` and ``predict`` over files read in batches, in one process.

Peak memory is one batch of rows (plus, for regression fidelity, two floats per row), whatever
the number of rows. ``nnrules.io.dask_eval`` runs the same per-file work on Dask workers and
merges the same counts, so both give the same report and the same prediction files.

Predictions go to a CSV (one file, or stdout) exactly as before, or, when the output is a
folder, to Parquet partitions ``part-FFFFF-BBBBB.parquet`` (file FFFFF of the sorted inputs,
batch BBBBB), written into a temporary folder that is renamed into place only when every
partition is written.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from nnrules.exceptions import DataError

__all__ = ["evaluate_files", "file_counts", "file_predictions", "is_folder_output",
           "network_oracle", "predict_files", "publish_partitions", "temporary_folder"]


def file_counts(surrogate: Any, oracle: Any, files: list[Path], i: int, *, schema: Any,
                target: str | None, drop_invalid: bool, train_hashes: Any = None,
                columns: list[str] | None = None, label_map: Any = None):
    """The fidelity counts of file ``i`` (all its batches) and its number of batches."""
    from nnrules.fidelity_stream import Counts, count_batch
    from nnrules.io.stream import iter_batches

    total = Counts(getattr(oracle, "task", "classification"))
    n_batches = 0
    for batch in iter_batches([files[i]], schema=schema, target=target,
                              drop_invalid=drop_invalid, columns=columns, first=files[0]):
        total = total + count_batch(surrogate, oracle, batch.data.X, batch.data.y,
                                    train_hashes=train_hashes, label_map=label_map,
                                    details=(i == 0 and batch.index == 0))
        total.dropped += batch.data.n_dropped
        n_batches += 1
    return total, n_batches


def first_columns(files: list[Path], schema: Any, target: str | None) -> list[str]:
    """The column names of the first file (every other file must match them)."""
    from nnrules.io.stream import _file_batches

    for _, names, _ in _file_batches(files[0], schema, target, 1):
        return list(names)
    raise DataError(f"{str(files[0])!r} has no data rows; give at least one row.")


def evaluate_files(surrogate: Any, network: Any, source: str | os.PathLike, *,
                   target: str | None = None, drop_invalid: bool = False, oracle: Any = None,
                   provenance: Any = None, label_map: Any = None, data_name: str | None = None):
    """The fidelity report of ``surrogate`` against ``network`` over every row of ``source``
    (a file, a folder, or a glob), one batch at a time.

    ``oracle``: how to ask the network (default: ``as_oracle(network, schema)`` with the
    surrogate's schema checked against the model's inputs); ``provenance``: the extraction's
    record (``Extractor.provenance_``), for the held-out check and the report's method fields;
    ``label_map``: the data's labels -> the network's classes (as ``fidelity.evaluate``).
    """
    start = time.perf_counter()
    files, oracle, schema, hashes, columns = prepare_files(surrogate, network, source, oracle,
                                                           provenance, target)
    results = (file_counts(surrogate, oracle, files, i, schema=schema, target=target,
                           drop_invalid=drop_invalid, train_hashes=hashes, columns=columns,
                           label_map=label_map) for i in range(len(files)))
    report = report_from_results(results, surrogate, oracle, source, data_name=data_name,
                                 provenance=provenance, start=start)
    if report.model_sha256 is None:
        report.model_sha256 = getattr(network, "sha256", None)
    return report


def prepare_files(surrogate: Any, network: Any, source: str | os.PathLike, oracle: Any,
                  provenance: Any, target: str | None) -> tuple[list, Any, Any, Any, list[str]]:
    """What an evaluation over files needs before scoring them: ``(files, oracle, schema,
    train_hashes, columns)`` -- the data files of ``source``, the oracle (``oracle`` or one
    asking ``network`` in the surrogate's schema), the schema, the extraction's row hashes
    (None without ``provenance``) and the first file's column names.

    Shared by :func:`evaluate_files` and ``nnrules.io.dask_eval.evaluate_files_dask``.
    """
    from nnrules.io.stream import data_files

    files = data_files(source)
    oracle = oracle if oracle is not None else network_oracle(network, surrogate)
    schema = getattr(oracle, "schema", None) or surrogate.schema
    hashes = None if provenance is None else provenance.train_row_hashes
    return files, oracle, schema, hashes, first_columns(files, schema, target)


def report_from_results(results: Any, surrogate: Any, oracle: Any,
                        source: str | os.PathLike, *, data_name: str | None, provenance: Any,
                        start: float):
    """The fidelity report from per-file ``(Counts, n_batches)`` pairs, summed in file order.

    Shared by :func:`evaluate_files` and ``nnrules.io.dask_eval.evaluate_files_dask``.
    """
    from nnrules.fidelity_stream import Counts, report_from_counts

    total, n_batches = Counts(getattr(oracle, "task", "classification")), 0
    for counts, k in results:  # in file order
        total, n_batches = total + counts, n_batches + k
    return report_from_counts(total, surrogate, oracle, data_name=data_name or _name(source),
                              n_batches=n_batches, provenance=provenance, start=start)


def network_oracle(network: Any, surrogate: Any) -> Any:
    """An oracle asking ``network`` in the surrogate's schema, checked against the model's
    inputs (a multi-input model: the schema learns which graph input each column feeds)."""
    from nnrules.io.columns import check_columns
    from nnrules.oracles import as_oracle

    return as_oracle(network, check_columns(surrogate.schema, network))


def _name(source: str | os.PathLike) -> str:
    path = Path(source)
    return path.name if path.is_file() or path.is_dir() else os.fspath(source)


# -- predictions ------------------------------------------------------------------------------
def is_folder_output(output: str | None) -> bool:
    """A folder (Parquet partitions) rather than a CSV file: an existing folder, or a path
    ending in a separator or without a suffix."""
    if output is None:
        return False
    path = Path(output)
    return path.is_dir() or output.endswith(("/", os.sep)) or path.suffix == ""


def file_predictions(surrogate: Any, files: list[Path], i: int, *, schema: Any,
                     target: str | None, drop_invalid: bool, explain: bool,
                     columns: list[str] | None = None, on_batch: Any = None):
    """(batch index, predictions, reasons or None) per batch of file ``i``; ``on_batch(X)`` is
    called with every batch's rows first (the CLI counts rows outside the domain with it)."""
    from nnrules.io.stream import iter_batches

    for batch in iter_batches([files[i]], schema=schema, target=target,
                              drop_invalid=drop_invalid, columns=columns, first=files[0]):
        X = batch.data.X
        if on_batch is not None:
            on_batch(X)
        yield batch.index, surrogate.predict(X), (surrogate.reasons(X) if explain else None)


def partition_bytes(predictions: np.ndarray, reasons: list[str] | None) -> bytes:
    """One Parquet partition: a 'prediction' column (and 'reason')."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {"prediction": pa.array(np.asarray(predictions).tolist())}
    if reasons is not None:
        columns["reason"] = pa.array(list(reasons), type=pa.string())
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table(columns), sink, compression="zstd")
    return sink.getvalue().to_pybytes()


def partition_name(i: int, index: int) -> str:
    return f"part-{i:05d}-{index:05d}.parquet"


def temporary_folder(output: str | os.PathLike) -> Path:
    """An empty folder beside ``output`` to write partitions into (see publish_partitions)."""
    out = Path(output)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DataError(
            f"Output {str(out)!r} exists and is not an empty folder; predictions are written "
            "as Parquet partitions into a new folder. Remove it or choose another path."
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    return tmp


def publish_partitions(tmp: Path, output: str | os.PathLike) -> None:
    """Rename the finished temporary folder to ``output`` (an empty folder is replaced)."""
    out = Path(output)
    if out.is_dir():
        out.rmdir()
    os.replace(tmp, out)


def predict_files(surrogate: Any, source: str | os.PathLike, *, output: str | None,
                  target: str | None = None, drop_invalid: bool = False,
                  explain: bool = False, on_batch: Any = None) -> int:
    """Predict every row of ``source`` a batch at a time; returns the number of rows.

    ``output``: None (CSV on stdout), a CSV path (written atomically), or a folder (Parquet
    partitions, published when complete).
    """
    from nnrules.io.stream import data_files

    files = data_files(source)
    schema = surrogate.schema
    columns = first_columns(files, schema, target)
    n = 0
    if is_folder_output(output):
        tmp = temporary_folder(output)
        try:
            for i in range(len(files)):
                for index, pred, reasons in file_predictions(
                        surrogate, files, i, schema=schema, target=target,
                        drop_invalid=drop_invalid, explain=explain, columns=columns,
                        on_batch=on_batch):
                    (tmp / partition_name(i, index)).write_bytes(partition_bytes(pred, reasons))
                    n += len(pred)
            publish_partitions(tmp, output)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return n
    written = [0]  # rows, counted as the chunks are made
    rows = _csv_chunks(surrogate, files, schema, target, drop_invalid, explain, columns,
                       on_batch, written)
    if output is None:
        for chunk in rows:
            sys.stdout.write(chunk)
    else:
        _write_atomic(Path(output), rows)
    return written[0]


def _csv_chunks(surrogate, files, schema, target, drop_invalid, explain, columns,
                on_batch=None, written=None) -> Iterable[str]:
    """The CSV text a batch at a time; ``written[0]`` counts the rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["prediction"] + (["reason"] if explain else []))
    for i in range(len(files)):
        for _, pred, reasons in file_predictions(surrogate, files, i, schema=schema,
                                                 target=target, drop_invalid=drop_invalid,
                                                 explain=explain, columns=columns,
                                                 on_batch=on_batch):
            values = pred.tolist()
            writer.writerows(zip(values, reasons) if reasons is not None
                             else ((v,) for v in values))
            if written is not None:
                written[0] += len(values)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def _write_atomic(path: Path, chunks: Iterable[str]) -> int:
    """Write text chunks to ``path`` atomically (``nnrules.io.files``); returns the number of
    characters written."""
    from nnrules.io.files import atomic_write_chunks

    path.parent.mkdir(parents=True, exist_ok=True)
    size = 0

    def encoded():
        nonlocal size
        for chunk in chunks:
            size += len(chunk)
            yield chunk.encode("utf-8")

    atomic_write_chunks(path, encoded())
    return size
