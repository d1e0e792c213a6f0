"""The additive extractor beside interpret's EBM and pyGAM, all distilling the same network.

Run from the repository root (the baselines are benchmark-only dependencies)::

    pip install interpret-core pygam
    python benchmarks/additive.py

For each network: the extraction rows (the training split) plus 2000 schema-respecting queries
(``nnrules.extract.engines.sampling``, seed 0) are labelled with the network's scores, exactly as
``AdditiveExtractor`` does (binary: logit of class 1 minus class 0; more classes: logits
centred per row, one model per class; regression: the output). ``ExplainableBoostingRegressor``
(``outer_bags=1``, ``interactions=0`` — or 1 where nnrules adds a pair —, ``n_jobs=1``) and
pyGAM's ``LinearGAM`` (one spline per feature, smoothing by its ``gridsearch``) are fitted to
those same rows and targets. Fidelity is measured on the held-out split: class agreement with
the network (argmax of the distilled scores) and R² of the scores against the network's; for
regression R² against its output. Seconds are wall-clock fit times on the shared 2-core
machine, for nnrules including its own network queries. Goal: equal or better fidelity in less
time than both.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from make_additive_fixtures import rows  # noqa: E402

from nnrules import load  # noqa: E402
from nnrules.datasets import tabular_split  # noqa: E402
from nnrules.extract.additive import AdditiveExtractor  # noqa: E402
from nnrules.extract.engines.sampling import sample_queries  # noqa: E402
from nnrules.fidelity import r2_score  # noqa: E402
from nnrules.oracles import as_oracle  # noqa: E402
from nnrules.schema import FeatureSchema  # noqa: E402

N_QUERIES = 2000
FIXTURES = ROOT / "tests" / "fixtures"


def _cases():
    for name in ("breast_cancer", "wine", "iris"):
        s = tabular_split(name)
        yield (name, FIXTURES / "tabular" / f"{name}.onnx", s.X_train, s.X_test,
               list(s.feature_names), 0)
    for name, cols, pairs in (("additive", 4, 0), ("interaction", 3, 1)):
        yield (f"{name} (x1*x2+x3)" if name == "interaction" else "additive (sin, square, abs)",
               FIXTURES / "additive" / f"{name}.onnx", rows(name, 1000, seed=2),
               rows(name, 1000, seed=3), [f"x{i + 1}" for i in range(cols)], pairs)


def _scores_to_labels(scores: np.ndarray, classes) -> np.ndarray:
    if scores.shape[1] == 1:
        return np.asarray(classes)[(scores[:, 0] > 0).astype(int)]
    return np.asarray(classes)[np.argmax(scores, axis=1)]


def _measure(name, path, X_train, X_test, names, n_pairs) -> list[dict]:
    net = load(path)
    schema = FeatureSchema.infer(X_train, names)
    start = time.perf_counter()
    ex = AdditiveExtractor(net, n_pairs=n_pairs, n_queries=N_QUERIES, random_state=0)
    ex.fit(X_train, schema=schema)
    ours_seconds = time.perf_counter() - start
    # The same rows and targets for the baselines.
    fit_rows = np.vstack([X_train, sample_queries(schema, X_train, N_QUERIES,
                                                  random_state=np.random.default_rng(0))])
    ex.oracle_ = as_oracle(net, schema)
    Y, _ = ex._targets(fit_rows)
    Y_test, _ = ex._targets(X_test)
    reference = net.predict(X_test)
    task = net.task
    out = []

    def record(method, scores, seconds, note=""):
        scores = np.asarray(scores, dtype=np.float64).reshape(len(X_test), -1)
        row = {"data": name, "method": method, "seconds": seconds, "note": note,
               "r2": r2_score(Y_test, scores)}
        row["fidelity"] = (float(np.mean(_scores_to_labels(scores, net.classes_) == reference))
                           if task == "classification" else row["r2"])
        out.append(row)

    s = ex.surrogate_
    record("nnrules additive", s.decision_function(X_test), ours_seconds,
           f"{s.complexity()['terms']} terms" + (f", {n_pairs} pair" if n_pairs else ""))

    from interpret.glassbox import ExplainableBoostingRegressor

    start = time.perf_counter()
    preds = []
    for k in range(Y.shape[1]):
        ebm = ExplainableBoostingRegressor(outer_bags=1, interactions=n_pairs, n_jobs=1,
                                           random_state=0)
        ebm.fit(fit_rows, Y[:, k])
        preds.append(ebm.predict(X_test))
    record("interpret EBM", np.column_stack(preds), time.perf_counter() - start,
           f"outer_bags=1, interactions={n_pairs}")

    from pygam import LinearGAM

    start = time.perf_counter()
    preds = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in range(Y.shape[1]):
            gam = LinearGAM().gridsearch(fit_rows, Y[:, k], progress=False)
            preds.append(gam.predict(X_test))
    record("pyGAM LinearGAM", np.column_stack(preds), time.perf_counter() - start,
           "main effects, gridsearch")
    return out


def main() -> None:
    from threadpoolctl import threadpool_limits

    results = []
    for case in _cases():
        # One BLAS thread for everyone: on the busy 2-core machine threaded BLAS is far slower.
        with threadpool_limits(limits=1, user_api="blas"):
            results += _measure(*case)
        for r in results[-3:]:
            print(r, flush=True)
    lines = [
        "# Additive models: nnrules `additive` vs interpret's EBM and pyGAM",
        "",
        "Command (repository root): `python benchmarks/additive.py` (after "
        "`pip install interpret-core pygam`, benchmark-only).",
        "",
        "All three distil the same network targets on the same rows: the training split plus "
        f"{N_QUERIES} schema-respecting queries (binary: logit of class 1 minus class 0; "
        "more classes: centred logits, one model per class; regression: the output). "
        "Held-out fidelity: class agreement with the network (classification) or R² against "
        "its output (regression); \"R² scores\" compares the distilled scores with the "
        "network's on the held-out rows. Seconds: wall-clock fit on the shared 2-core machine "
        "(nnrules including its network queries). EBM: `outer_bags=1`, `interactions` as "
        "noted, `n_jobs=1`. pyGAM: `LinearGAM().gridsearch` (one spline per feature). BLAS "
        "limited to one thread for all three (threadpoolctl).",
        "",
        "| data | method | held-out fidelity | R² scores | seconds | notes |",
        "|---|---|---:|---:|---:|---|",
    ]
    for r in results:
        r2 = "n/a" if r["r2"] is None else f"{r['r2']:.5f}"
        lines.append(f"| {r['data']} | {r['method']} | {r['fidelity']:.5f} | {r2} | "
                     f"{r['seconds']:.2f} | {r['note']} |")
    lines += ["", "Goal (equal or better held-out fidelity in less time than both baselines), "
              "per data set:", ""]
    for data in dict.fromkeys(r["data"] for r in results):
        rs = [r for r in results if r["data"] == data]
        ours, others = rs[0], rs[1:]
        faster = all(ours["seconds"] < o["seconds"] for o in others)
        fid = all(ours["fidelity"] >= o["fidelity"] for o in others)
        speed = min(o["seconds"] for o in others) / max(ours["seconds"], 1e-9)
        worse = ", ".join(f"{o['method']} {o['fidelity']:.5f}" for o in others
                          if ours["fidelity"] < o["fidelity"])
        lines.append(f"- {data}: {'met' if faster and fid else 'not met'} — "
                     f"{speed:.0f}x faster than the faster baseline"
                     + (f"; fidelity {ours['fidelity']:.5f} below {worse}" if worse else "")
                     + ".")
    lines += ["", "Scale of the differences: iris's held-out split has 45 rows, so one row is "
              "0.022 of fidelity; on the regression networks the R² values differ in the fifth "
              "decimal."]
    table = "\n".join(lines) + "\n"
    print(table)
    out = ROOT / "benchmarks" / "results" / "additive.md"
    out.write_text(table)


if __name__ == "__main__":
    main()
