"""Validity interval analysis: verifications per second and proven fraction, per bound method.

Run from the repository root::

    python benchmarks/via.py

Two ReLU networks are trained here with scikit-learn (seeded, no fixture files) and written
to ONNX with ``onnx.helper`` (``tests/onnx_builders.dense_mlp``, softmax head), then read back
with ``nnrules.load`` and its layer IR:

- **20-64-64-2** on ``make_classification`` (3000 rows, 20 features, seed 0). scikit-learn's
  binary MLP has one logit z; the graph gets two, ``[-z/2, z/2]``, so its softmax equals the
  MLP's sigmoid and the network is a genuine 2-logit one.
- **784-256-256-10** on scikit-learn's digits, each 8x8 image upsampled to 28x28 (bilinear,
  pixels in [0, 1], MNIST-shaped).

For each network, bound method (``"interval"``, ``"linear"``; ``"alpha"``, optimised ReLU
slopes, on the small network only) and radius r, the same seeded
held-out rows are the box centres; box = centre +- r * (feature range), clipped to the
domain (training min/max for the 20-feature data, [0, 1] for pixels); the claimed class is
the network's answer at the centre. ``Verifier.prove`` verifies them in one batched call:
certified bounds, then for unproven boxes the counterexample search (confirmed by
onnxruntime). "verif/s" times that whole call; "bounds/s" times the same call without the
search (certification only). Peak memory is tracemalloc's peak during a separate call with
the search (numpy reports its buffers to tracemalloc). Last, ``VIAExtractor(candidates="rows")``
end to end on the 20-feature network with each bound.
"""

from __future__ import annotations

import functools
import platform
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from onnx_builders import dense_mlp, save

from nnrules import load
from nnrules.extract.via import VIAExtractor
from nnrules.verify import Verifier

OUT = ROOT / "benchmarks" / "results" / "via.md"
BOUNDS = ("interval", "linear")
# (n boxes, radii as fractions of each feature's range) per network
PLAN = {
    "20-64-64-2": (200, (0.002, 0.01, 0.03, 0.1)),
    "784-256-256-10": (100, (0.001, 0.004, 0.01, 0.03, 0.1)),
}
SPLIT_DEPTH = 8  # VIAExtractor's default input splitting, measured on the small network only
SPLIT_ON = ("20-64-64-2",)
COMPLETE_ON = ("20-64-64-2",)  # mixed-integer programming: the small network only
ALPHA_ON = ("20-64-64-2",)  # optimised slopes: measured on the small network only
E2E_VERIFICATIONS = 1000


def _fit_mlp(X, y, hidden, max_iter):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    mlp = MLPClassifier(hidden_layer_sizes=hidden, max_iter=max_iter, random_state=0, alpha=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(X, y)
    return mlp


def _layers(mlp):
    """(W, b) per layer as float32; a binary MLP's one logit z becomes [-z/2, z/2]."""
    layers = [(np.asarray(w, np.float32), np.asarray(b, np.float32))
              for w, b in zip(mlp.coefs_, mlp.intercepts_)]
    w, b = layers[-1]
    if w.shape[1] == 1:
        layers[-1] = (np.hstack([-w / 2, w / 2]), np.concatenate([-b / 2, b / 2]))
    return layers


@functools.cache
def _network_20():
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split

    X, y = make_classification(n_samples=3000, n_features=20, n_informative=10, n_redundant=4,
                               random_state=0)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    mlp = _fit_mlp(X_tr, y_tr, (64, 64), 80)
    return mlp, X_tr, X_te, y_te, X_tr.min(axis=0), X_tr.max(axis=0)


def _network_784():
    from scipy.ndimage import zoom
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    X = np.stack([zoom(im / 16.0, 3.5, order=1) for im in d.images]).reshape(len(d.images), -1)
    X = X.clip(0.0, 1.0)
    X_tr, X_te, y_tr, y_te = train_test_split(X, d.target, test_size=0.3, random_state=0,
                                              stratify=d.target)
    mlp = _fit_mlp(X_tr, y_tr, (256, 256), 25)
    return mlp, X_tr, X_te, y_te, np.zeros(X.shape[1]), np.ones(X.shape[1])


def _timed(fn, *, min_seconds: float = 0.3, max_repeats: int = 20, min_calls: int = 2):
    """(best wall-clock seconds of one call, first call's result): at least ``min_calls``
    calls, more while they add up to less than ``min_seconds`` (the machine is shared, so
    take the best)."""
    best, total, n, first = np.inf, 0.0, 0, None
    while n < min_calls or (total < min_seconds and n < max_repeats):
        start = time.perf_counter()
        result = fn()
        took = time.perf_counter() - start
        first = result if n == 0 else first
        best, total, n = min(best, took), total + took, n + 1
    return best, first


def _violations(net, lo, hi, cls, status, n: int = 64) -> int:
    """Proven boxes in which one of ``n`` seeded sampled points (a quarter of them corners)
    gets another class from onnxruntime: a spot check of soundness, must be 0."""
    idx = np.flatnonzero(status == "proven")
    if idx.size == 0:
        return 0
    u = np.random.default_rng(1).random((idx.size, n, lo.shape[1]))
    u[:, : n // 4] = np.round(u[:, : n // 4])
    points = lo[idx, None, :] + u * (hi - lo)[idx, None, :]
    labels = net.logits(points.reshape(-1, lo.shape[1])).argmax(axis=1).reshape(idx.size, n)
    return int(np.sum(np.any(labels != cls[idx, None], axis=1)))


def _measure(name, make, tmp):
    start = time.perf_counter()
    mlp, X_tr, X_te, y_te, lower, upper = make()
    train_s = time.perf_counter() - start
    net = load(save(dense_mlp(_layers(mlp), head="Softmax"), Path(tmp) / f"{name}.onnx"))
    Z = net.logits(X_te)
    agree = float(np.mean(Z.argmax(axis=1) == mlp.predict(X_te).astype(int)))
    info = {"network": name, "train_s": train_s, "accuracy": float(np.mean(mlp.predict(X_te)
            == y_te)), "agree": agree, "n_train": len(X_tr), "n_test": len(X_te)}
    n_boxes, radii = PLAN[name]
    rng = np.random.default_rng(0)
    rows = X_te[rng.permutation(len(X_te))[:n_boxes]]
    cls = net.logits(rows).argmax(axis=1)
    span = upper - lower
    configs = [(b, 0, False) for b in BOUNDS]
    configs += [("alpha", 0, False)] if name in ALPHA_ON else []
    configs += [("linear", SPLIT_DEPTH, False)] if name in SPLIT_ON else []
    configs += [("linear", 0, True)] if name in COMPLETE_ON else []
    out = []
    for r in radii:
        lo = np.clip(rows - r * span, lower, upper)
        hi = np.clip(rows + r * span, lower, upper)
        lo, hi = np.minimum(lo, rows), np.maximum(hi, rows)  # a held-out row may leave the range
        proven = {}
        for bound, depth, complete in configs:
            verifier = Verifier(net, bound=bound, split_depth=depth, complete=complete)

            def call(search=True, verifier=verifier, lo=lo, hi=hi):
                return verifier.prove(lo, hi, cls, search=search, random_state=0)

            if complete:  # slow: one call, timed and traced at once
                tracemalloc.start()
                full_s, res = _timed(call, min_seconds=0.0, min_calls=1)
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
                bounds_s = np.nan
            else:
                full_s, res = _timed(call)
                bounds_s = _timed(lambda: call(search=False))[0] if depth == 0 else np.nan
                tracemalloc.start()
                call()
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
            status = res["status"]
            frac = {s: float(np.mean(status == s)) for s in ("proven", "refuted", "unknown")}
            label = bound if depth == 0 else f"{bound} + split {depth}"
            label += " + complete" if complete else ""
            proven[label] = frac["proven"]
            out.append(dict(network=name, bound=label, radius=r, boxes=len(lo),
                            rate=len(lo) / full_s, bounds_rate=len(lo) / bounds_s,
                            peak_mb=peak / 2**20,
                            violations=_violations(net, lo, hi, cls, status), **frac))
            print(out[-1], flush=True)
            if label == "linear":
                out[-1]["ratio"] = _ratio(proven["linear"], proven["interval"])
    return info, out, (net, rows, cls, lower, upper)


def _rate(v: float) -> str:
    """Verifications per second: whole numbers, two significant digits below 10."""
    return f"{v:,.0f}" if v >= 10 else f"{v:.2g}"


def _ratio(lin: float, ivl: float) -> str:
    if ivl > 0:
        return f"{lin / ivl:.2f}"
    return "—" if lin == 0 else "∞ (interval 0)"


def _end_to_end(tmp):
    mlp, X_tr, X_te, _, lower, upper = _network_20()
    net = load(save(dense_mlp(_layers(mlp), head="Softmax"), Path(tmp) / "e2e.onnx"))
    truth = net.predict(X_te)
    out = []
    for bound in (*BOUNDS, "alpha"):
        t0 = time.perf_counter()
        ex = VIAExtractor(net, candidates="rows", bound=bound, max_verifications=E2E_VERIFICATIONS,
                          random_state=0).fit(X_tr)
        seconds = time.perf_counter() - t0
        s = ex.surrogate_
        covered = s.covered(X_te)
        inside = (f"{np.mean(s.predict(X_te)[covered] == truth[covered]):.3f}"
                  if covered.any() else "n/a")
        width = (s.upper - s.lower) / (upper - lower)
        out.append(dict(bound=bound, seconds=seconds, boxes=s.n_boxes,
                        coverage=float(covered.mean()), train=float(s.covered(X_tr).mean()),
                        width=float(np.median(width)) if s.n_boxes else float("nan"),
                        inside=inside, **ex.counts_))
        print(out[-1], flush=True)
    return out


def _threads_check(case, n_threads: int) -> tuple[float, float, int]:
    """verif/s of one linear cell on the 784 network with 1 BLAS thread and with
    ``n_threads`` (the default before the benchmark limited it)."""
    from threadpoolctl import threadpool_limits

    net, rows, cls, lower, upper = case
    r = PLAN["784-256-256-10"][1][1]
    lo = np.minimum(np.clip(rows - r * (upper - lower), lower, upper), rows)
    hi = np.maximum(np.clip(rows + r * (upper - lower), lower, upper), rows)

    verifier = Verifier(net, bound="linear")

    def call():
        verifier.prove(lo, hi, cls, random_state=0)

    one = len(rows) / _timed(call)[0]
    with threadpool_limits(n_threads):
        many = len(rows) / _timed(call)[0]
    return one, many, n_threads


def _reach(rows, network, label, share=0.5) -> str:
    """Largest radius at which at least ``share`` of the boxes are proven."""
    radii = [r["radius"] for r in rows
             if r["network"] == network and r["bound"] == label and r["proven"] >= share]
    if radii:
        return f"{max(radii):g}"
    return f"< {min(r['radius'] for r in rows if r['network'] == network):g}"


def _median(rows, network, label, key) -> float:
    return float(np.median([r[key] for r in rows
                            if r["network"] == network and r["bound"] == label]))


def solver_versions() -> str:
    """scipy and the HiGHS build inside it: the MILP ("complete") rows depend on the HiGHS
    build (one 20-64-64-2 row gives 77 / 105 / 18 boxes with HiGHS 1.8.0, 79 / 105 / 16 with
    1.12.0), so every table says which one made it."""
    import scipy

    try:
        from scipy.optimize._highspy import _core as h  # scipy >= 1.15

        highs = f"{h.HIGHS_VERSION_MAJOR}.{h.HIGHS_VERSION_MINOR}.{h.HIGHS_VERSION_PATCH}"
    except (ImportError, AttributeError):
        highs = "unknown (scipy < 1.15 does not expose it)"
    return f"scipy {scipy.__version__}, HiGHS {highs}"


def _table(infos, rows, e2e, threads, total_s) -> str:
    lines = [
        "# Validity interval analysis: verification throughput and proven fraction",
        "",
        "Command (repository root): `python benchmarks/via.py`",
        "",
        (f"Solvers: {solver_versions()} (mixed-integer programming; results of the "
         "\"complete\" rows differ across HiGHS builds)."),
        "",
        ("Networks trained inside the benchmark with scikit-learn's `MLPClassifier` (seed 0) and "
         "written to ONNX with `onnx.helper` (softmax head); `nnrules.load` reads them back as "
         "a layer IR. 20-64-64-2: `make_classification` (3000 rows, 20 features, 10 "
         "informative; the binary MLP's logit z becomes two logits [-z/2, z/2]). "
         "784-256-256-10: scikit-learn's digits upsampled to 28x28 (bilinear, pixels in [0, 1]). "
         "Everything runs with one BLAS thread, as nnrules runs onnxruntime, so that the "
         "numbers move less with the other jobs on the machine (last paragraph)."),
        "",
        "| network | train s | held-out accuracy | ONNX = MLP on held-out rows |",
        "|---|---:|---:|---:|",
    ]
    for i in infos:
        lines.append(f"| {i['network']} | {i['train_s']:.1f} | {i['accuracy']:.3f} | "
                     f"{i['agree']:.3f} |")
    lines += [
        "",
        ("Boxes: the same seeded held-out rows as centres, centre ± r × (feature range), "
         "clipped to the domain (training min/max; [0, 1] for pixels, so r = 0.01 is an L∞ "
         "ball of 2.55/255), claimed class = the network's answer at the centre. One batched "
         "`Verifier.prove` call per cell. \"verif/s\": boxes / wall-clock seconds of the whole "
         "call (certified bounds, then the counterexample search for unproven boxes, confirmed "
         "by onnxruntime), best of ≥ 2 calls; \"bounds/s\": the same call with "
         "`search=False`. Peak MB: tracemalloc peak of the call with the search. Sampled "
         "violations: proven boxes in which one of 64 seeded points (16 of them corners) "
         "gets another class from onnxruntime (a spot check; must be 0). \"linear + split "
         "8\": "
         "`split_depth=8` (VIAExtractor's default input splitting; small network only). "
         "\"alpha\": the linear bound with every unstable ReLU's lower slope optimised per "
         "bounded form (12 projected gradient steps; small network only). "
         "\"linear / interval\": ratio of proven fractions at that radius, same run."),
        "",
        ("| network | bound | radius r | boxes | verif/s | bounds/s | proven | refuted | "
         "unknown | peak MB | sampled violations | linear / interval proven |"),
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        bounds_rate = "—" if np.isnan(r["bounds_rate"]) else f"{r['bounds_rate']:,.0f}"
        lines.append(
            f"| {r['network']} | {r['bound']} | {r['radius']:g} | {r['boxes']} | "
            f"{_rate(r['rate'])} | {bounds_rate} | {r['proven']:.3f} | "
            f"{r['refuted']:.3f} | {r['unknown']:.3f} | {r['peak_mb']:.0f} | {r['violations']} | "
            f"{r.get('ratio', '')} |")
    lines += [
        "",
        ("End to end: `VIAExtractor(net, candidates=\"rows\", bound=..., "
         f"max_verifications={E2E_VERIFICATIONS}, random_state=0).fit(X_train)` on the "
         "20-64-64-2 network (other parameters default: ≤ 64 boxes, split_depth 8); coverage = "
         "share of the 900 held-out (2100 training) rows inside a proven box; box width = "
         "median over boxes and features of width / feature range; agreement inside = "
         "surrogate vs network on covered held-out rows (1.0 by construction)."),
        "",
        ("| bound | fit s | verifications (proven / refuted / unknown) | boxes | "
         "held-out coverage | training coverage | box width | agreement inside |"),
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for e in e2e:
        n = e["proven"] + e["refuted"] + e["unknown"]
        lines.append(f"| {e['bound']} | {e['seconds']:.1f} | {n} ({e['proven']} / "
                     f"{e['refuted']} / {e['unknown']}) | {e['boxes']} | "
                     f"{e['coverage']:.3f} | {e['train']:.3f} | {e['width']:.4f} | "
                     f"{e['inside']} |")
    one, many, n_threads = threads
    lines += ["", (f"Total run time {total_s:.0f} s on the shared 2-core machine "
              f"(Python {platform.python_version()}, numpy {np.__version__})."), ""]
    lines += _reading(rows, e2e, one, many, n_threads)
    return "\n".join(lines) + "\n"


def _reading(rows, e2e, one, many, n_threads) -> list[str]:
    """The interpretation, with this run's numbers."""
    small, big = "20-64-64-2", "784-256-256-10"
    pick = {(r["network"], r["bound"], r["radius"]): r for r in rows}
    r_big = PLAN[big][1][2]
    lin, ivl = pick[(big, "linear", r_big)], pick[(big, "interval", r_big)]
    speed = {n: _median(rows, n, "interval", "bounds_rate") / _median(rows, n, "linear",
                                                                       "bounds_rate")
             for n in (small, big)}
    split = [r for r in rows if r["bound"].startswith("linear + split")]
    worst = max(split, key=lambda r: r["peak_mb"]) if split else None
    gain = max((r["proven"] - pick[(r["network"], "linear", r["radius"])]["proven"]
                for r in split), default=0.0)
    cov = ", ".join(f"{e['bound']} {e['coverage']:.1%} of held-out and {e['train']:.1%} of "
                    f"training rows with {e['boxes']} boxes" for e in e2e)
    unknown = ", ".join(f"{e['unknown']} of {e['proven'] + e['refuted'] + e['unknown']} "
                        f"({e['bound']})" for e in e2e)
    e2e_s = ", ".join(f"{e['bound']} {e['seconds']:.0f} s" for e in e2e)
    out = [
        "## Reading",
        "",
        (f"- **Linear bounds prove far more.** Largest radius with ≥ 50% of boxes proven: "
         f"{small} interval {_reach(rows, small, 'interval')}, linear "
         f"{_reach(rows, small, 'linear')}; {big} interval {_reach(rows, big, 'interval')}, "
         f"linear {_reach(rows, big, 'linear')}. On {big} at r = {r_big:g} interval "
         f"arithmetic proves {ivl['proven']:.0%} of the boxes and the back-substituted linear "
         f"relaxation {lin['proven']:.0%}: through two 256-wide layers interval boxes grow by "
         "each row's ||W||₁ per layer, while the back-substituted bound keeps the cancellation "
         "between paths. At the largest radii most boxes are refuted (a confirmed "
         "counterexample), so unknown, not refuted, is what a tighter bound could still win."),
        (f"- **Cost.** Certification alone (bounds/s, median over radii) is {speed[small]:.0f}× "
         f"faster with interval than with linear bounds on {small} and {speed[big]:.0f}× on "
         f"{big}: the linear bound back-substitutes 2 × width rows through every earlier "
         "layer, O(width² × inputs) per box, and holds tensors of that size (peak MB). With "
         "the search on, unproven boxes dominate: the counterexample search (centre, the "
         "bound's worst vertex, random points and corners, projected gradient steps, "
         "onnxruntime to confirm) runs only for them, so interval verif/s falls far below its "
         f"bounds/s as soon as boxes are unknown. Median verif/s on {big}: interval "
         f"{_median(rows, big, 'interval', 'rate'):,.0f}, linear "
         f"{_median(rows, big, 'linear', 'rate'):,.0f}."),
    ]
    alpha = [r for r in rows if r["bound"] == "alpha"]
    if alpha:
        gain_a = [(r["radius"], r["proven"] - pick[(r["network"], "linear", r["radius"])]["proven"])
                  for r in alpha]
        slow = _median(rows, small, "linear", "bounds_rate") / _median(rows, small, "alpha",
                                                                        "bounds_rate")
        ea = {e["bound"]: e for e in e2e}
        out.append(
            "- **Optimised slopes** (`bound=\"alpha\"`) change the proven fraction on "
            f"{small} by " + ", ".join(f"{g:+.1%} at r = {r:g}" for r, g in gain_a)
            + f" (absolute, against linear), for {slow:.1f}× slower certification; end to end "
            f"they cover {ea['alpha']['coverage']:.1%} of held-out rows against "
            f"{ea['linear']['coverage']:.1%} with linear bounds.")
    if worst is not None:
        out.append(
            f"- **Input splitting** (`split_depth={SPLIT_DEPTH}`) adds at most "
            f"{gain:.1%} (absolute) to the proven fraction on {small}, at a steep price: at "
            f"r = {worst['radius']:g} it runs at {worst['rate']:,.0f} verif/s with a peak of "
            f"{worst['peak_mb']:,.0f} MB (up to 1024 parts in flight, each a full linear "
            "bound). Each round halves one input of each part, so a part is at most 8 halvings "
            "away from its box: enough on a few features, not on hundreds (not run on the "
            "784-input network).")
    exact = [r for r in rows if r["bound"] == "linear + complete"]
    if exact:
        parts = ", ".join(
            f"r = {r['radius']:g}: proven {pick[(r['network'], 'linear', r['radius'])]['proven']:.1%}"
            f" -> {r['proven']:.1%}, unknown {r['unknown']:.1%}, {_rate(r['rate'])} verif/s"
            for r in exact)
        out.append(
            f"- **Exact answers** (`complete=True`, mixed-integer programming for what the "
            f"bound leaves unknown) on {small}, linear -> linear + complete: {parts}. Every box "
            "it settles is settled for good (a proof, or a counterexample the network "
            "confirms); what is left unknown hit the node limit (2000 nodes per program). With "
            "128 ReLUs it costs seconds per hard box, which is why it is not on by default "
            "for extraction and was not run on the 784-input network.")
    out += [
        (f"- **Where it stops scaling.** Verifying given boxes scales to 784 inputs: the "
         f"linear bound proves {lin['proven']:.0%} of r = {r_big:g} pixel boxes at "
         f"{lin['rate']:,.0f} boxes per second on one thread. What does not scale is "
         "*extraction* (finding boxes that cover data): on the 20-feature network "
         f"`VIAExtractor(candidates=\"rows\")` covers {cov} ({e2e_s}). A box that holds "
         "unseen rows must be wide in all 20 features at once, and a decision boundary "
         "oblique to 10 informative directions leaves only thin axis-aligned boxes that "
         f"hold their seed rows and little else: {unknown} of the verifications spent "
         "growing them end unknown. On iris (4 features) the same extractor covers ≥ 85% "
         "of held-out rows (tests/test_via.py). From ~20 features on, use validity interval "
         "analysis to prove rules someone states (`VIAExtractor.verify`, `Verifier.prove`), "
         "not to cover the data with boxes. (With the default budget of 4000 verifications, "
         "measured once by hand on 2026-11-22: held-out coverage still 0.0% with 32 boxes "
         "for both bounds, training coverage 1.5% / 1.7%, interval 6 s, linear 94 s.)"),
        (f"- **Threads.** The {big} linear cell at r = {PLAN[big][1][1]:g} ran at "
         f"{one:,.0f} verif/s with one BLAS thread and {many:,.0f} verif/s with OpenBLAS's "
         f"default of {n_threads} threads, on this shared machine (the back-substitution is "
         "many small batched matrix products). Which is faster depends on the other jobs: "
         "in an earlier run on a busier machine the default was 5× slower (21 against 104 "
         "verif/s on this cell), which is why the tables use one thread."),
    ]
    return out


def main() -> None:
    from threadpoolctl import threadpool_info, threadpool_limits

    start = time.perf_counter()
    n_threads = max((p["num_threads"] for p in threadpool_info()), default=1)
    infos, rows = [], []
    with tempfile.TemporaryDirectory() as tmp, threadpool_limits(1):
        for name, make in (("20-64-64-2", _network_20), ("784-256-256-10", _network_784)):
            info, out, case = _measure(name, make, tmp)
            print(info, flush=True)
            infos.append(info)
            rows += out
        threads = _threads_check(case, n_threads)
        print(threads, flush=True)
        e2e = _end_to_end(tmp)
    table = _table(infos, rows, e2e, threads, time.perf_counter() - start)
    print(table)
    OUT.write_text(table)


if __name__ == "__main__":
    main()
