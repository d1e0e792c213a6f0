"""``evaluate`` and ``predict`` on a Dask cluster (the ``[dask]`` extra).

One task per input file, run on the workers: the file is read in batches (the same batches as
in one process, ``nnrules.io.stream``), scored by the network and by the surrogate, and reduced
to exact counts (``nnrules.fidelity_stream.Counts``) or written as Parquet partitions. Each
worker opens one onnxruntime session per model, from the model's bytes (sent once to every
worker), and keeps it for the tasks that follow. The counts are merged in file order, so the
report is the one a single process makes from the same files; partitions are the same bytes.

Failure: a scheduler that cannot be reached within ``timeout`` seconds is a ``DataError`` and
nothing is written. A worker that dies mid-run has its tasks re-run on the others (Dask's
``allowed-failures``); partitions are written atomically (a retried task rewrites its own), and
if the run fails anyway the temporary folder is removed: no partial output.

The files must be readable at the same paths from every worker (a shared file system or the
local machine).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nnrules.exceptions import DataError

__all__ = ["WORKER_ENVIRON", "connect", "evaluate_files_dask", "local_cluster",
           "predict_files_dask"]

_NETWORKS: dict[str, Any] = {}    # per worker process: model sha256 -> Network
_SURROGATES: dict[str, Any] = {}  # per worker process: surrogate JSON sha256 -> surrogate
_SCHEMAS: dict[str, Any] = {}     # per worker process: schema JSON -> FeatureSchema
_ORACLES: dict[tuple, Any] = {}   # per worker process: (model sha256, schema, task) -> oracle


def _modules():
    from nnrules.io.data import import_or_raise

    import_or_raise("dask", "dask")
    return import_or_raise("distributed", "dask")


#: Environment of local workers: Dask sets MALLOC_TRIM_THRESHOLD_=65536 for its workers, which
#: also fixes glibc's mmap threshold, so every NumPy array of a batch is a fresh mmap whose pages
#: fault in again (batches scored ~1.5x slower, measured). Larger thresholds let freed arrays be
#: reused. Remote workers: start them with these variables for the same effect.
WORKER_ENVIRON = {"MALLOC_TRIM_THRESHOLD_": 1 << 28, "MALLOC_MMAP_THRESHOLD_": 1 << 26}


def local_cluster(n_workers: int):
    """A ``distributed.LocalCluster`` of ``n_workers`` single-threaded worker processes with
    ``WORKER_ENVIRON`` and no worker profiler."""
    import dask

    distributed = _modules()
    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
    environ.update(WORKER_ENVIRON)
    # No sampling profiler in the workers either (it feeds the dashboard, which is off here).
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ,
                          "distributed.worker.profile.enabled": False}):
        return distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1,
                                        processes=True, dashboard_address=None, silence_logs=40)


@contextmanager
def connect(address: str, timeout: float = 10.0):
    """A ``distributed.Client``: ``"local"`` / ``"local:N"`` starts a local cluster of N worker
    processes (default: one per core, at least 2), anything else is a scheduler address.

    Raises
    ------
    DataError
        The scheduler cannot be reached within ``timeout`` seconds.
    """
    distributed = _modules()
    cluster = None
    try:
        if address == "local" or address.startswith("local:"):
            n = int(address.partition(":")[2] or max(2, os.cpu_count() or 1))
            cluster = local_cluster(n)
            client = distributed.Client(cluster, timeout=f"{timeout}s")
        else:
            client = distributed.Client(address, timeout=f"{timeout}s")
    except (OSError, TimeoutError, ValueError) as exc:
        if cluster is not None:
            cluster.close()
        raise DataError(
            f"Cannot reach the Dask scheduler at {address!r} within {timeout:g} s ({exc}). "
            "Check the address (tcp://host:port) and that the scheduler is running, or use "
            "--dask local."
        ) from None
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# -- on the workers ---------------------------------------------------------------------------
def _network(model: bytes, sha: str, task: str | None, classes: Any) -> Any:
    net = _NETWORKS.get(sha)
    if net is None:
        from nnrules.io.files import atomic_write_bytes
        from nnrules.io.model import load

        path = Path(tempfile.gettempdir()) / f"nnrules-{sha}.onnx"
        if not path.is_file():
            atomic_write_bytes(path, model)
        net = _NETWORKS[sha] = load(path, task=task, classes=classes)
    return net


def _surrogate(text: str) -> Any:
    key = hashlib.sha256(text.encode()).hexdigest()
    sur = _SURROGATES.get(key)
    if sur is None:
        from nnrules.io import serialize

        sur = _SURROGATES[key] = serialize.loads(text)
    return sur


def _schema(text: str) -> Any:
    """The schema sent as JSON text (one string: Dask does not walk it as it walks a nested
    dict), parsed once per worker."""
    sch = _SCHEMAS.get(text)
    if sch is None:
        import json

        from nnrules.schema import FeatureSchema

        sch = _SCHEMAS[text] = FeatureSchema.from_dict(json.loads(text))
    return sch


def _oracle(model, sha, net_task, classes, schema_text, task) -> Any:
    """One oracle per (model, schema, task) and worker, kept for the tasks that follow (its
    query count is not used: evaluation queries are not counted)."""
    key = (sha, schema_text, task)
    oracle = _ORACLES.get(key)
    if oracle is None:
        from nnrules.oracles import as_oracle

        oracle = _ORACLES[key] = as_oracle(_network(model, sha, net_task, classes),
                                           _schema(schema_text), task)
    return oracle


def _count_task(files, i, model, sha, net_task, classes, task, surrogate, schema, target,
                drop_invalid, hashes, columns, label_map):
    from nnrules.batch_eval import file_counts

    oracle = _oracle(model, sha, net_task, classes, schema, task)
    schema = _schema(schema)
    return file_counts(_surrogate(surrogate), oracle, [Path(f) for f in files], i, schema=schema,
                       target=target, drop_invalid=drop_invalid, train_hashes=hashes,
                       columns=columns, label_map=label_map)


def _predict_task(files, i, surrogate, schema, target, drop_invalid, explain, columns, folder):
    from nnrules.batch_eval import file_predictions, partition_bytes, partition_name
    from nnrules.io.files import atomic_write_bytes

    n = 0
    for index, pred, reasons in file_predictions(
            _surrogate(surrogate), [Path(f) for f in files], i, schema=_schema(schema),
            target=target, drop_invalid=drop_invalid, explain=explain, columns=columns):
        atomic_write_bytes(Path(folder) / partition_name(i, index), partition_bytes(pred, reasons))
        n += len(pred)
    return n


# -- on the client ----------------------------------------------------------------------------
def _run(client, fn, files, *args) -> list:
    """One task per file, results in file order; a task error is re-raised here."""
    futures = [client.submit(fn, files, i, *args, pure=False, key=f"nnrules-{fn.__name__}-{i}-"
                             f"{time.monotonic_ns()}") for i in range(len(files))]
    try:
        return client.gather(futures)
    finally:
        for f in futures:
            f.release()


def evaluate_files_dask(surrogate: Any, network: Any, source: str | os.PathLike, *,
                        address: str, timeout: float = 10.0, target: str | None = None,
                        drop_invalid: bool = False, oracle: Any = None, provenance: Any = None,
                        label_map: Any = None, data_name: str | None = None):
    """``nnrules.batch_eval.evaluate_files`` with the files scored on a Dask cluster."""
    from nnrules.batch_eval import prepare_files, report_from_results
    from nnrules.io import serialize

    start = time.perf_counter()
    files, oracle, schema, hashes, columns = prepare_files(surrogate, network, source, oracle,
                                                           provenance, target)
    if getattr(network, "files_sha256", None):
        raise DataError("--dask needs a self-contained .onnx file; this model keeps its weights "
                        f"in external files {sorted(network.files_sha256)}.")
    model = Path(network.path).read_bytes()
    with connect(address, timeout) as client:
        [model_f] = client.scatter([model], broadcast=True)
        hashes_f = None if hashes is None else client.scatter([hashes], broadcast=True)[0]
        results = _run(client, _count_task, [str(f) for f in files], model_f, network.sha256,
                       network.task, _classes(network), getattr(oracle, "task", None),
                       serialize.dumps(surrogate), _schema_text(schema), target,
                       drop_invalid, hashes_f, columns, label_map)
    report = report_from_results(results, surrogate, oracle, source, data_name=data_name,
                                 provenance=provenance, start=start)
    if report.model_sha256 is None:
        report.model_sha256 = network.sha256
    return report


def _schema_text(schema: Any) -> str:
    import json

    return json.dumps(schema.to_dict(), sort_keys=True, allow_nan=False)


def _classes(network: Any) -> Any:
    classes = getattr(network, "classes_", None)
    return None if classes is None else list(classes.tolist())


def predict_files_dask(surrogate: Any, source: str | os.PathLike, *, output: str | None,
                       address: str, timeout: float = 10.0, target: str | None = None,
                       drop_invalid: bool = False, explain: bool = False) -> int:
    """Predictions of every row of ``source`` as Parquet partitions in the folder ``output``,
    computed on a Dask cluster; returns the number of rows."""
    import shutil

    from nnrules.batch_eval import (
        first_columns,
        is_folder_output,
        publish_partitions,
        temporary_folder,
    )
    from nnrules.io import serialize
    from nnrules.io.stream import data_files

    if not is_folder_output(output):
        raise DataError(
            f"With --dask, predictions are written as Parquet partitions into a folder; got "
            f"output {output!r}. Give -o FOLDER (no suffix, or ending in /)."
        )
    files = data_files(source)
    schema = surrogate.schema
    columns = first_columns(files, schema, target)
    with connect(address, timeout) as client:
        tmp = temporary_folder(output)
        try:
            counts = _run(client, _predict_task, [str(f) for f in files],
                          serialize.dumps(surrogate), _schema_text(schema), target,
                          drop_invalid, explain, columns, str(tmp.resolve()))
            for stray in tmp.glob(".*"):  # temporary files of a killed worker
                stray.unlink()
            publish_partitions(tmp, output)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return int(sum(counts))
