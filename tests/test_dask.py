"""--dask: the same report and the same prediction files as one process, on a 2-worker local
cluster started here; an unreachable scheduler and a killed worker leave no partial output."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("dask", reason="the [dask] extra (dask, distributed) is not installed")
distributed = pytest.importorskip("distributed",
                                  reason="the [dask] extra (dask, distributed) is not installed")

from nnrules.batch_eval import evaluate_files, predict_files  # noqa: E402
from nnrules.cli import main  # noqa: E402
from nnrules.exceptions import DataError  # noqa: E402
from nnrules.extract.tree import TreeExtractor  # noqa: E402
from nnrules.io import serialize  # noqa: E402
from nnrules.io.dask_eval import evaluate_files_dask, predict_files_dask  # noqa: E402
from nnrules.io.model import load  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from onnx_builders import dense_mlp, mlp_weights, save  # noqa: E402

pytestmark = pytest.mark.slow  # a local cluster takes a few seconds to start


@pytest.fixture(scope="module")
def cluster():
    from nnrules.io.dask_eval import local_cluster

    with local_cluster(2) as c:
        yield c


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = tmp_path_factory.mktemp("dask")
    net = root / "net.onnx"
    save(dense_mlp(mlp_weights([5, 16, 3], seed=4), head="Softmax"), net)
    network = load(net)
    rng = np.random.default_rng(2)
    (root / "in").mkdir()
    for k in range(6):
        X = rng.normal(size=(400 + 50 * k, 5))
        cols = {f"x{j}": X[:, j] for j in range(5)}
        cols["y"] = rng.integers(0, 3, size=len(X))
        pq.write_table(pa.table(cols), root / "in" / f"part{k}.parquet")
    ex = TreeExtractor(network, max_leaves=6, random_state=0).fit(
        rng.normal(size=(600, 5)), feature_names=[f"x{j}" for j in range(5)])
    serialize.dump(ex.surrogate_, root / "surrogate.json")
    return {"root": root, "net": net, "network": network, "extractor": ex}


def _plain(report) -> dict:
    d = report.to_dict()
    d.pop("timings")
    return d


def test_dask_report_and_partitions_equal_one_process(cluster, files, tmp_path):
    sur = serialize.load(files["root"] / "surrogate.json")
    src = str(files["root"] / "in" / "*.parquet")
    one = evaluate_files(sur, files["network"], src, target="y")
    many = evaluate_files_dask(sur, files["network"], src, target="y",
                               address=cluster.scheduler_address)
    assert _plain(many) == _plain(one) and one.n_eval == sum(400 + 50 * k for k in range(6))
    ex = files["extractor"]
    known = {"oracle": ex.oracle_, "provenance": ex.provenance_}
    assert _plain(evaluate_files_dask(ex.surrogate_, files["network"], src, target="y",
                                      address=cluster.scheduler_address, **known)) == \
        _plain(evaluate_files(ex.surrogate_, files["network"], src, target="y", **known))
    predict_files(sur, src, output=str(tmp_path / "a"), target="y", explain=True)
    predict_files_dask(sur, src, output=str(tmp_path / "b"), target="y", explain=True,
                       address=cluster.scheduler_address)
    a, b = sorted((tmp_path / "a").iterdir()), sorted((tmp_path / "b").iterdir())
    assert [p.name for p in a] == [p.name for p in b] and len(a) == 6
    assert all(p.read_bytes() == q.read_bytes() for p, q in zip(a, b))


def test_cli_dask_evaluate_matches(cluster, files, tmp_path, capsys):
    args = ["evaluate", str(files["root"] / "surrogate.json"), str(files["net"]), "--data",
            str(files["root"] / "in"), "--target", "y"]
    assert main(args + ["--out", str(tmp_path / "one")]) == 0
    assert main(args + ["--out", str(tmp_path / "many"), "--dask",
                        cluster.scheduler_address]) == 0
    import json

    one = json.loads((tmp_path / "one" / "report.json").read_text())
    many = json.loads((tmp_path / "many" / "report.json").read_text())
    one.pop("timings"), many.pop("timings")
    assert one == many


def test_unreachable_scheduler_is_a_clear_error_and_writes_nothing(files, tmp_path, capsys):
    out = tmp_path / "preds"
    start = time.monotonic()
    code = main(["predict", str(files["root"] / "surrogate.json"), "--data",
                 str(files["root"] / "in"), "--target", "y", "-o", str(out), "--dask",
                 "tcp://127.0.0.1:9", "--dask-timeout", "2"])
    assert code == 1 and time.monotonic() - start < 30
    assert "Cannot reach the Dask scheduler at 'tcp://127.0.0.1:9' within 2 s" in \
        capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    start = time.monotonic()  # evaluate too: no report folder
    code = main(["evaluate", str(files["root"] / "surrogate.json"), str(files["net"]), "--data",
                 str(files["root"] / "in"), "--target", "y", "--out", str(tmp_path / "rep"),
                 "--dask", "tcp://127.0.0.1:9", "--dask-timeout", "2"])
    assert code == 1 and time.monotonic() - start < 30
    assert "Cannot reach the Dask scheduler" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(DataError, match="Parquet partitions into a folder"):
        predict_files_dask(serialize.load(files["root"] / "surrogate.json"),
                           files["root"] / "in", output=str(tmp_path / "p.csv"),
                           address="tcp://127.0.0.1:9")


def test_bad_inputs_fail_before_or_on_the_workers_and_write_nothing(cluster, files, tmp_path,
                                                                   capsys):
    import pyarrow.parquet as pq

    sur_path = files["root"] / "surrogate.json"
    sur = serialize.load(sur_path)
    # A glob that matches nothing: refused before connecting, no report folder.
    code = main(["evaluate", str(sur_path), str(files["net"]), "--data",
                 str(tmp_path / "none" / "*.parquet"), "--out", str(tmp_path / "rep"),
                 "--dask", cluster.scheduler_address])
    assert code == 1 and "matches no file" in capsys.readouterr().err
    # Files whose columns differ: the worker's error comes back naming both files; no
    # partitions, no temporary folder, no report.
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    first = pq.read_table(files["root"] / "in" / "part0.parquet")
    pq.write_table(first, mixed / "a.parquet")
    pq.write_table(first.select(["x1", "x0", "x2", "x3", "x4", "y"]), mixed / "b.parquet")
    disagree = r"b\.parquet' has columns \['x1', 'x0'.*but '[^']*a\.parquet' has"
    with pytest.raises(DataError, match=disagree):
        predict_files_dask(sur, mixed, output=str(tmp_path / "preds"), target="y",
                           address=cluster.scheduler_address)
    with pytest.raises(DataError, match=disagree):
        evaluate_files_dask(sur, files["network"], mixed, target="y",
                            address=cluster.scheduler_address)
    code = main(["evaluate", str(sur_path), str(files["net"]), "--data", str(mixed),
                 "--target", "y", "--out", str(tmp_path / "rep"), "--dask",
                 cluster.scheduler_address])
    assert code == 1 and "same columns" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mixed"]


def test_a_worker_killed_mid_run_leaves_the_same_files(cluster, files, tmp_path):
    # Last in the file: it kills a worker of the shared cluster (its nanny starts a new one).
    sur = serialize.load(files["root"] / "surrogate.json")
    src = str(files["root"] / "in" / "*.parquet")
    predict_files(sur, src, output=str(tmp_path / "a"), target="y")
    with distributed.Client(cluster) as client:
        victim = sorted(client.scheduler_info()["workers"])[0]

        def kill_soon() -> None:
            time.sleep(0.2)
            try:
                client.run(os._exit, 1, workers=[victim])
            except Exception:  # the worker is gone before it answers
                pass

        killer = threading.Thread(target=kill_soon)
        killer.start()
        try:
            predict_files_dask(sur, src, output=str(tmp_path / "b"), target="y",
                               address=cluster.scheduler_address)
            finished = True
        except Exception:
            finished = False
        killer.join()
        deadline = time.monotonic() + 20  # the scheduler notices a dead worker in a moment
        while victim in client.scheduler_info()["workers"] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert victim not in client.scheduler_info()["workers"]  # it really died
    if finished:  # re-run on the other worker: the same files
        a, b = sorted((tmp_path / "a").iterdir()), sorted((tmp_path / "b").iterdir())
        assert [p.name for p in a] == [p.name for p in b]
        assert all(p.read_bytes() == q.read_bytes() for p, q in zip(a, b))
    else:  # failed cleanly: no output, no temporary folder
        assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]
