"""Scale: nnrules against a plain pandas + onnxruntime + scikit-learn script, same run, ratios.

    python benchmarks/scale.py                      # 100k and 1M rows, 1M/3M-row evaluate, Dask
    python benchmarks/scale.py --ten-million        # also evaluate over 10M rows (Parquet)
    python benchmarks/scale.py --sizes 10000,100000 --skip-dask   # a quick look

Network: 20-64-64-2 ReLU MLP, softmax head, seeded weights (``tests/onnx_builders.dense_mlp``).
Rows: 20 standard-normal columns rounded to 4 decimals, written as CSV and Parquet.

Every program runs in its own process; wall time and peak resident memory (``ru_maxrss`` of
that process) are measured around it. The machine's 2 cores are shared with other jobs, so the
absolute seconds move from run to run; the ratios compare programs run back to back in the same
run. The table goes to stdout and to ``benchmarks/results/scale.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
import timeit
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
NNRULES = [sys.executable, "-m", "nnrules.cli"]
BATCH = 65536
SURROGATE_ROWS = [100_000]  # the tree evaluate / Dask / one-row use (the smallest size)

PLAIN = textwrap.dedent('''
    import json, sys, time
    import numpy as np, onnxruntime as ort, pandas as pd
    from sklearn.tree import DecisionTreeClassifier
    path, model = sys.argv[1], sys.argv[2]
    frame = pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path)
    X = frame.to_numpy(dtype=np.float32)
    opts = ort.SessionOptions(); opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    y = np.concatenate([sess.run(None, {name: X[i:i + 65536]})[0].argmax(axis=1)
                        for i in range(0, len(X), 65536)])
    start = time.perf_counter()
    tree = DecisionTreeClassifier(max_leaf_nodes=16, random_state=0).fit(X, y)
    fit = time.perf_counter() - start
    print(json.dumps({"fidelity": float((tree.predict(X) == y).mean()),
                      "leaves": int(tree.get_n_leaves()), "fit_seconds": fit}))
''')

BARE = textwrap.dedent('''
    import sys, numpy as np, onnxruntime as ort, pyarrow.parquet as pq
    SESSIONS = {}
    def score(args):
        model, path = args
        if model not in SESSIONS:  # one session per process, as on a Dask worker
            opts = ort.SessionOptions(); opts.intra_op_num_threads = 1
            SESSIONS[model] = ort.InferenceSession(model, opts,
                                                   providers=["CPUExecutionProvider"])
        sess = SESSIONS[model]
        name, n = sess.get_inputs()[0].name, 0
        for batch in pq.ParquetFile(path).iter_batches(batch_size=65536):
            X = np.column_stack([c.to_numpy() for c in batch.columns]).astype(np.float32)
            sess.run(None, {name: X})[0].argmax(axis=1)
            n += len(X)
        return n
''')


def run(cmd: list[str], env: dict | None = None) -> dict:
    """Run a command (no memory measurement); wall seconds and stdout."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return {"wall": time.perf_counter() - start, "out": proc.stdout}


# Started by a small fresh interpreter: Linux carries a process's peak RSS over fork and exec,
# so a program forked straight from this one (which holds generated data at times) would report
# at least this process's size at the fork (seen: 616 MB for a ~300 MB evaluate).
RUNNER = textwrap.dedent('''
    import json, os, subprocess, sys, time
    start = time.perf_counter()
    proc = subprocess.Popen(sys.argv[2:])
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    with open(sys.argv[1], "w") as fh:
        json.dump([os.waitstatus_to_exitcode(status), wall, usage.ru_maxrss,
                   usage.ru_utime + usage.ru_stime], fh)
''')


def measured(cmd: list[str]) -> dict:
    """Wall seconds, CPU seconds and peak RSS (MB) of one child process (``os.wait4`` in a
    small runner gives its own ``ru_maxrss``), and its stdout."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "usage.json"
        subprocess.run([sys.executable, "-c", RUNNER, str(result), *map(str, cmd)], stdout=out,
                       stderr=err, check=False)
        out.seek(0)
        err.seek(0)
        text, problem = out.read().decode(), err.read().decode()
        code, wall, maxrss, cpu = json.loads(result.read_text()) if result.exists() else (
            -1, 0.0, 0, 0.0)
    if code != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({code}): {problem[-2000:]}")
    return {"wall": wall, "rss_mb": maxrss / 1024, "out": text, "cpu": cpu}


def cpu_seconds() -> float:
    """CPU seconds (user + system) used so far by this process and all its live descendants
    (Pool workers; a LocalCluster's nannies and workers -- its scheduler runs in this process)."""
    import psutil

    me = psutil.Process()
    total = 0.0
    for proc in [me, *me.children(recursive=True)]:
        try:
            t = proc.cpu_times()
        except psutil.Error:  # ended meanwhile
            continue
        total += t.user + t.system
    return total


# -- data -------------------------------------------------------------------------------------
def network(work: Path, hidden: tuple[int, ...] = (64, 64)) -> Path:
    """The seeded 20-<hidden>-2 softmax MLP (20-64-64-2 by default, the issue's network)."""
    from onnx_builders import dense_mlp, mlp_weights, save

    sizes = [20, *hidden, 2]
    path = work / f"net_{'_'.join(map(str, sizes))}.onnx"
    if not path.exists():
        save(dense_mlp(mlp_weights(sizes, seed=0), head="Softmax"), path)
    return path


def net_name(path: Path) -> str:
    return path.stem.removeprefix("net_").replace("_", "-")


def rows_table(n: int, seed: int):
    import pyarrow as pa

    X = np.round(np.random.default_rng(seed).normal(size=(n, 20)), 4)
    return pa.table({f"f{j}": X[:, j] for j in range(20)})


def write_data(work: Path, n: int, seed: int = 0) -> tuple[Path, Path]:
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    csv_path, pq_path = work / f"rows_{n}.csv", work / f"rows_{n}.parquet"
    if not csv_path.exists() or not pq_path.exists():
        table = rows_table(n, seed)
        pcsv.write_csv(table, csv_path)
        pq.write_table(table, pq_path)
    return csv_path, pq_path


def write_big_parquet(work: Path, n: int) -> Path:
    """``n`` rows written a million at a time (the generator never holds them all)."""
    import pyarrow.parquet as pq

    path = work / f"eval_{n}.parquet"
    if path.exists():
        return path
    writer = None
    for k, start in enumerate(range(0, n, 1_000_000)):
        table = rows_table(min(1_000_000, n - start), 100 + k)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=BATCH)
    writer.close()
    return path


# -- sections ---------------------------------------------------------------------------------
def extraction(work: Path, net: Path, sizes: list[int], formats=("CSV", "Parquet"),
               main_net: bool = True) -> list[dict]:
    plain = work / "plain.py"
    plain.write_text(PLAIN)
    rows = []
    for n in sizes:
        csv_path, pq_path = write_data(work, n)
        for fmt, path in (("CSV", csv_path), ("Parquet", pq_path)):
            if fmt not in formats:
                continue
            # The main network's folders are what evaluate / Dask / one-row read.
            out = work / (f"tree_{fmt}_{n}" if main_net else f"tree_{fmt}_{n}_{net.stem}")
            ours = measured(NNRULES + ["extract", str(net), "--data", str(path), "--method",
                                       "tree", "--sample", "0", "--out", str(out)])
            base = measured([sys.executable, str(plain), str(path), str(net)])
            report = json.loads((out / "report.json").read_text())
            b = json.loads(base["out"].strip().splitlines()[-1])
            rows.append({"method": "tree", "format": fmt, "n": n, "ours": ours, "plain": base,
                         "net": net_name(net), "load": os.getloadavg()[0],
                         "fid": report["fidelity"], "plain_fid": b["fidelity"],
                         "leaves": report["complexity"].get("leaves"),
                         "plain_leaves": b["leaves"], "fit": report["timings"]["fit_seconds"],
                         "plain_fit": b["fit_seconds"]})
            print(_row(rows[-1]), flush=True)
    return rows


def other_methods(work: Path, net: Path, n: int) -> list[dict]:
    plain = work / "plain.py"
    csv_path, _ = write_data(work, n)
    base = measured([sys.executable, str(plain), str(csv_path), str(net)])
    b = json.loads(base["out"].strip().splitlines()[-1])
    rows = []
    for method in ("trepan", "additive"):
        out = work / f"{method}_{n}"
        ours = measured(NNRULES + ["extract", str(net), "--data", str(csv_path), "--method",
                                   method, "--sample", "0", "--out", str(out)])
        report = json.loads((out / "report.json").read_text())
        rows.append({"method": method, "format": "CSV", "n": n, "ours": ours, "plain": base,
                     "net": net_name(net), "load": os.getloadavg()[0],
                     "fid": report["fidelity"], "plain_fid": b["fidelity"],
                     "leaves": report["complexity"].get("leaves"), "plain_leaves": b["leaves"],
                     "fit": report["timings"]["fit_seconds"], "plain_fit": b["fit_seconds"],
                     "artifacts": report["timings"].get("artifacts_seconds")})
        print(_row(rows[-1]), flush=True)
    return rows


def _row(r: dict) -> str:
    o, p = r["ours"], r["plain"]
    return (f"| {r['method']} | {r.get('net', '')} | {r['format']} | {r['n']:,} | "
            f"{o['wall']:.1f} | {p['wall']:.1f} | {o['wall'] / p['wall']:.2f} | "
            f"{o['cpu'] / p['cpu']:.2f} | {o['rss_mb']:.0f} | {p['rss_mb']:.0f} | "
            f"{o['rss_mb'] / p['rss_mb']:.2f} | {r['fit']:.1f} / {r['plain_fit']:.1f} | "
            f"{r['fid']:.4f} / {r['plain_fid']:.4f} | {r['leaves']} / {r['plain_leaves']} | "
            f"{r.get('load', float('nan')):.1f} |")


def evaluation(work: Path, net: Path, sizes: list[int]) -> list[dict]:
    surrogate = work / f"tree_CSV_{SURROGATE_ROWS[0]}" / "surrogate.json"
    if not surrogate.exists():
        csv_path, _ = write_data(work, SURROGATE_ROWS[0])
        measured(NNRULES + ["extract", str(net), "--data", str(csv_path), "--method", "tree",
                            "--out", str(surrogate.parent)])
    rows = []
    for n in sizes:
        path = write_big_parquet(work, n)
        got = measured(NNRULES + ["evaluate", str(surrogate), str(net), "--data", str(path)])
        rows.append({"n": n, **got})
        print(f"evaluate {n:,}: {got['wall']:.1f} s, {got['rss_mb']:.0f} MB", flush=True)
    return rows


def dask_throughput(work: Path, net: Path, n_files: int = 8, rows: int = 1_000_000) -> dict:
    import pyarrow.parquet as pq

    from nnrules.io import serialize
    from nnrules.io.dask_eval import evaluate_files_dask, local_cluster
    from nnrules.io.model import load

    folder = work / f"dask_in_{rows}"
    folder.mkdir(exist_ok=True)
    for k in range(n_files):
        path = folder / f"part{k:02d}.parquet"
        if not path.exists():
            pq.write_table(rows_table(rows, 200 + k), path, row_group_size=BATCH)
    files = sorted(str(p) for p in folder.glob("*.parquet"))
    total = n_files * rows
    # Two bare sessions in two processes, the same files and batches.
    bare = work / "bare.py"
    bare.write_text(BARE)
    code = (f"import sys; sys.path.insert(0, {str(work)!r}); sys.path.insert(0, {str(ROOT)!r})\n"
            "from bare import score\nfrom benchmarks.scale import cpu_seconds\n"
            "from multiprocessing import Pool\nimport json, time\n"
            f"files = {files!r}\n"
            "with Pool(2) as pool:\n"
            "    pool.map(score, [(" + repr(str(net)) + ", f) for f in files])  # warm\n"
            "    c, t = cpu_seconds(), time.perf_counter()\n"
            "    n = sum(pool.map(score, [(" + repr(str(net)) + ", f) for f in files]))\n"
            "    t, c = time.perf_counter() - t, cpu_seconds() - c\n"
            "    print(json.dumps([n / t, n / c]))\n")
    # One thread per process for both, as Dask sets for its workers (OMP_NUM_THREADS=1, which
    # also sizes pyarrow's thread pool).
    bare_rate, bare_cpu = json.loads(run([sys.executable, "-c", code], env={
        **os.environ, "OMP_NUM_THREADS": "1"})["out"])
    surrogate = serialize.load(work / f"tree_CSV_{SURROGATE_ROWS[0]}" / "surrogate.json")
    network_ = load(net)
    start = time.perf_counter()
    with local_cluster(2) as cluster:  # what `--dask local:2` starts
        started = time.perf_counter() - start
        # A warm-up run opens one session per worker, as the bare sessions were opened.
        evaluate_files_dask(surrogate, network_, str(folder / "*.parquet"),
                            address=cluster.scheduler_address)
        c, t = cpu_seconds(), time.perf_counter()
        report = evaluate_files_dask(surrogate, network_, str(folder / "*.parquet"),
                                     address=cluster.scheduler_address)
        dask_rate = total / (time.perf_counter() - t)
        dask_cpu = total / (cpu_seconds() - c)
    assert report.n_eval == total
    out = {"rows": total, "files": n_files, "bare": bare_rate, "dask": dask_rate,
           "bare_cpu": bare_cpu, "dask_cpu": dask_cpu, "cluster_start": started,
           "load": os.getloadavg()[0]}
    print(f"dask: {dask_rate:,.0f} rows/s vs two bare sessions {bare_rate:,.0f} rows/s; per "
          f"CPU second {dask_cpu:,.0f} vs {bare_cpu:,.0f} (load {out['load']:.1f})", flush=True)
    return out


def startup(work: Path, net: Path) -> list[dict]:
    csv_path, _ = write_data(work, 10_000)
    tomita = ROOT / "tests" / "fixtures" / "tomita"
    out = []
    for name, cmd in (
        ("tree, 10k rows", NNRULES + ["extract", str(net), "--data", str(csv_path), "--method",
                                      "tree", "--out", str(work / "st_tree")]),
        ("automaton, Tomita 3", NNRULES + ["extract", str(tomita / "tomita3_gru.onnx"), "--data",
                                           str(tomita / "tomita3_train.txt"), "--eval",
                                           str(tomita / "tomita3_test.txt"), "--method",
                                           "automaton", "--alphabet", "01", "--out",
                                           str(work / "st_automaton")]),
    ):
        walls, fits, evals = [], [], []
        for _ in range(3):
            got = measured(cmd)
            folder = Path(cmd[cmd.index("--out") + 1])
            timings = json.loads((folder / "report.json").read_text())["timings"]
            walls.append(got["wall"])
            fits.append(timings["fit_seconds"])
            evals.append(timings.get("evaluate_seconds") or 0.0)
        k = int(np.argmin(np.subtract(walls, fits)))
        out.append({"what": name, "wall": walls[k], "fit": fits[k], "eval": evals[k]})
    for name, cmd in (("nnrules --help", NNRULES + ["--help"]),
                      ("nnrules inspect", NNRULES + ["inspect", str(net)]),
                      ("python -c 'import numpy, onnx, onnxruntime'",
                       [sys.executable, "-c", "import numpy, onnx, onnxruntime"])):
        walls = [measured(cmd)["wall"] for _ in range(3)]
        out.append({"what": name, "wall": min(walls), "fit": 0.0, "eval": 0.0})
    for r in out:
        print(f"startup {r['what']}: wall {r['wall']:.2f} s, fit {r['fit']:.2f} s", flush=True)
    return out


def single_row(work: Path, net: Path) -> dict:
    from nnrules.io import serialize
    from nnrules.io.model import load

    network_ = load(net)
    sur = serialize.load(work / f"tree_CSV_{SURROGATE_ROWS[0]}" / "surrogate.json")
    x = np.round(np.random.default_rng(7).normal(size=(1, 20)), 4)
    x32 = x.astype(np.float32)
    row = x[0].tolist()
    labels = np.asarray(sur.classes)[np.argmax(sur.value, axis=1)]

    def arithmetic():  # the tree's comparisons on a row of Python floats, and the leaf's label
        return labels[sur._walk(row)]

    assert arithmetic() == sur.predict(x)[0]
    session, name, out = network_.session, network_.inputs[0].name, network_._score_names

    def bare():
        return session.run(out, {name: x32})

    def predict():
        return network_.predict(x32)

    def best(f, number):
        return min(timeit.repeat(f, number=number, repeat=7)) / number * 1e6

    res = {}
    for _ in range(2):  # interleaved, best of both rounds
        res["surrogate"] = min(res.get("surrogate", 1e9), best(lambda: sur.predict(x), 2000))
        res["arithmetic"] = min(res.get("arithmetic", 1e9), best(arithmetic, 2000))
        res["bare"] = min(res.get("bare", 1e9), best(bare, 2000))
        res["network"] = min(res.get("network", 1e9), best(predict, 2000))
    print(f"single row: {res}", flush=True)
    return res


# -- report -----------------------------------------------------------------------------------
def markdown(args, ext, others, evals, dask, starts, single) -> str:
    cmd = "python benchmarks/scale.py" + (" --ten-million" if args.ten_million else "") + (
        f" --sizes {args.sizes}" if args.sizes != "100000,1000000" else "") + (
        " --skip-dask" if args.skip_dask else "") + (
        f" --other-widths {args.other_widths!r}" if args.other_widths != "16" else "")
    lines = [
        "# Scale: nnrules vs a plain pandas + onnxruntime + scikit-learn script", "",
        f"Command (repository root): `{cmd}`", "",
        "Network 20-64-64-2 (ReLU, softmax head, seeded weights; the tree rows also on the "
        "other widths named in the table, CSV only); rows: 20 standard-normal "
        "columns (4 decimals) as CSV and Parquet. *plain* = `pandas.read_csv` / `read_parquet` + "
        "onnxruntime (1 thread, batches of 65,536) + `DecisionTreeClassifier(max_leaf_nodes=16)` "
        "+ its fidelity on the same rows; *nnrules* = `nnrules extract --method M --sample 0` "
        "(reads, labels, fits, writes surrogate.json, report.json/.md, rules.txt). Each program "
        "runs in its own process: wall time and its own peak resident memory (`ru_maxrss`). The "
        "2 cores are shared with other jobs, so seconds are noisy; ratios come from programs run "
        "back to back in the same run. *CPU-time ratio*: user + system seconds of the two "
        "processes (`ru_utime + ru_stime`), less sensitive to the other jobs than wall time "
        "(nnrules' CSV reader and onnxruntime may use a second thread, the plain script's "
        "onnxruntime uses one). *load*: the 1-minute load average when the row was measured.",
        "",
        "| method | network | format | rows | nnrules s | plain s | time ratio | CPU-time ratio | "
        "nnrules MB | plain MB | memory ratio | fit s (nnrules / plain) | "
        "fidelity (nnrules / plain) | leaves | load |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|---:|",
    ]
    lines += [_row(r) for r in ext + others]
    for net, fmt in dict.fromkeys((r.get("net"), r["format"]) for r in ext):
        by_n = {r["n"]: r for r in ext if r["format"] == fmt and r.get("net") == net}
        ns = sorted(by_n)
        if len(ns) >= 2:
            a, b = by_n[ns[0]], by_n[ns[-1]]
            lines.append("")
            lines.append(
                f"Growth {ns[0]:,} -> {ns[-1]:,} rows ({fmt}, tree, {net}): nnrules "
                f"{b['ours']['wall'] / a['ours']['wall']:.1f}x, plain "
                f"{b['plain']['wall'] / a['plain']['wall']:.1f}x in time "
                f"(goal <= {ns[-1] / ns[0] * 1.1:.0f}x).")
    add = [r for r in others if r["method"] == "additive"]
    if add and add[0].get("artifacts") is not None:
        r = add[0]
        lines += ["", f"Additive at {r['n']:,} rows: plots {r['artifacts']:.2f} s of the CLI's "
                  f"{r['ours']['wall']:.1f} s ({r['artifacts'] / r['ours']['wall']:.0%}; goal "
                  "<= 25%)."]
    if evals:
        base = evals[0]
        lines += ["", "## Evaluate in batches (one process, Parquet)", "",
                  f"`nnrules evaluate` of the {SURROGATE_ROWS[0]:,}-row tree over n rows (row groups of 65,536; "
                  "rows generated a million at a time).", "",
                  "| rows | wall s | rows/s | peak MB | peak / first |", "|---:|---:|---:|---:|---:|"]
        for r in evals:
            lines.append(f"| {r['n']:,} | {r['wall']:.1f} | {r['n'] / r['wall']:,.0f} | "
                         f"{r['rss_mb']:.0f} | {r['rss_mb'] / base['rss_mb']:.2f} |")
    if dask:
        lines += ["", "## Dask, local cluster of 2 workers", "",
                  f"{dask['rows']:,} rows in {dask['files']} Parquet files; `evaluate` with "
                  "`--dask` (network and surrogate on the workers, counts merged) against two "
                  "bare onnxruntime sessions in two processes scoring the same batches (network "
                  "only), one thread per process for both. Cluster start-up excluded (it took "
                  f"{dask['cluster_start']:.1f} s); both timed on their second pass over the "
                  "files (sessions open, files in the page cache). *Per CPU second*: rows over "
                  "the CPU time of every process involved (this process with the client and the "
                  "scheduler, the workers; the Pool's processes) -- the throughput the 2 cores "
                  "would give if nothing else ran on them; the wall-clock figure depends on "
                  "what else runs (the machine is shared).", "",
                  "| Dask rows/s | two bare sessions rows/s | ratio | Dask rows per CPU s | "
                  "bare rows per CPU s | ratio per CPU s (goal >= 0.8) | load |",
                  "|---:|---:|---:|---:|---:|---:|---:|",
                  f"| {dask['dask']:,.0f} | {dask['bare']:,.0f} | "
                  f"{dask['dask'] / dask['bare']:.2f} | {dask['dask_cpu']:,.0f} | "
                  f"{dask['bare_cpu']:,.0f} | {dask['dask_cpu'] / dask['bare_cpu']:.2f} | "
                  f"{dask['load']:.1f} |"]
    if starts:
        floor = starts[-1]["wall"]
        lines += ["", "## Start-up", "",
                  "Wall time of the command minus the fit it reports, best of 3 (goal <= 0.5 s "
                  "for the two extractions). *fit* = `timings.fit_seconds` of report.json, timed "
                  "inside `Extractor.fit` from after the parameter check to the fitted "
                  "surrogate: the data's checks against the model, the oracle, the network's "
                  "labels (or queries), the learner -- with its first import (scikit-learn for "
                  "tree, which loads scipy and pandas: ~1 s of the 10k-row fit; k-means for the "
                  "automaton) -- and the surrogate's annotation. Outside it, in *wall - fit*: "
                  "interpreter start, nnrules' and numpy/onnx/onnxruntime/pyarrow imports, "
                  "loading and checking the model, reading the data, the row hashes of the "
                  "provenance, the report (its fidelity evaluation, `timings.evaluate_seconds`, "
                  "shown apart), writing four files, and the interpreter's exit. The last row is "
                  "the floor any Python program using numpy, onnx and onnxruntime pays.",
                  "", "| command | wall s | fit s | evaluate s | wall - fit s | "
                  "wall - fit - evaluate - floor s |", "|---|---:|---:|---:|---:|---:|"]
        for r in starts:
            rest = r["wall"] - r["fit"] - r["eval"] - floor
            lines.append(f"| {r['what']} | {r['wall']:.2f} | {r['fit']:.2f} | "
                         f"{r['eval']:.2f} | {r['wall'] - r['fit']:.2f} | {rest:.2f} |")
    if single:
        s = single
        lines += ["", "## One row", "",
                  "Best of 7 x 2000 calls, interleaved. Tree surrogate (16 leaves): `predict` of "
                  "one row vs walking its node arrays in Python (goal: overhead <= 20 us). "
                  "`Network.predict` of one float32 row vs `session.run` on the same session "
                  "(goal <= 1.2x).", "",
                  "| call | us | vs | us | overhead us | ratio |", "|---|---:|---|---:|---:|---:|",
                  f"| surrogate.predict | {s['surrogate']:.1f} | tree walk | {s['arithmetic']:.1f} "
                  f"| {s['surrogate'] - s['arithmetic']:.1f} | |",
                  f"| Network.predict | {s['network']:.1f} | session.run | {s['bare']:.1f} | "
                  f"{s['network'] - s['bare']:.1f} | {s['network'] / s['bare']:.2f} |"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--ten-million", action="store_true",
                        help="also evaluate over 10x the largest size (10M rows by default; "
                        "about 1.6 GB of Parquet on disk)")
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--other-widths", default="16",
                        help="hidden layers of other networks for the tree rows (CSV), e.g. "
                        "'16,128-128' (20-16-2 and 20-128-128-2); '' for none")
    parser.add_argument("--work", help="folder for generated data (default: a temp folder)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "scale.md"))
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    SURROGATE_ROWS[0] = sizes[0]
    work = Path(args.work or tempfile.mkdtemp(prefix="nnrules-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    net = network(work)
    ext = extraction(work, net, sizes)
    for hidden in filter(None, args.other_widths.split(",")):
        # The tree rows again on another width (CSV): the figures are not the one network's.
        ext += extraction(work, network(work, tuple(int(h) for h in hidden.split("-"))),
                          sizes, formats=("CSV",), main_net=False)
    others = other_methods(work, net, sizes[0])
    starts = startup(work, net)
    single = single_row(work, net)
    eval_sizes = [sizes[-1], 3 * sizes[-1]] + ([10 * sizes[-1]] if args.ten_million else [])
    evals = evaluation(work, net, eval_sizes)
    dask = None if args.skip_dask else dask_throughput(work, net)
    text = markdown(args, ext, others, evals, dask, starts, single)
    print(text)
    Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
