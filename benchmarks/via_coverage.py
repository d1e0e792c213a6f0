"""How much of the held-out data proven boxes cover: the goals of the `via` issue, measured.

For the committed via fixture networks (iris 4-16-8-3, wine 13-16-8-3, breast cancer
30-16-8-2, all ReLU) and MONK-1 (one-hot inputs), fit ``VIAExtractor`` with each bound engine
and input-splitting depth, and print held-out row coverage, boxes, verification counts and
seconds. Writes benchmarks/results/via_coverage.md.

    python benchmarks/via_coverage.py
"""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import numpy as np

from nnrules.datasets.monks import load_monk
from nnrules.datasets.tabular import tabular_split
from nnrules.extract.verify import verify_boxes
from nnrules.extract.via import VIAExtractor
from nnrules.io.model import load

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
COMMAND = "python benchmarks/via_coverage.py"
CASES = [("iris", "via_iris.onnx"), ("wine", "via_wine.onnx"),
         ("breast_cancer", "via_breast_cancer.onnx")]
SETTINGS = [("interval", 0, 0), ("linear", 0, 0), ("linear", 8, 0), ("alpha", 0, 0),
            ("alpha", 8, 0), ("linear", 8, 10)]
RELU_SPLIT_ON = ("iris", "wine")  # ReLU splitting fits take minutes: not on breast cancer
RADII = (0.05, 0.1, 0.15)
RESULTS = {}  # (data, bound, split depth, relu split) -> (coverage, seconds, unknown, total)


def fixed_boxes(name, net, sp):
    """Proven share and median certified margin of boxes of radius r around held-out rows."""
    X = sp.X_test
    span = sp.X_train.max(axis=0) - sp.X_train.min(axis=0)
    cls = np.array([list(net.classes_).index(v) for v in net.predict(X)])
    out = []
    for r in RADII:
        cells = []
        for bound, relu in (("linear", 0), ("alpha", 0), ("alpha", 10)):
            t = time.perf_counter()
            res = verify_boxes(net, X - r * span, X + r * span, cls, bound=bound,
                               relu_split=relu, random_state=0, search=relu > 0)
            ms = (time.perf_counter() - t) * 1000 / len(X)
            if relu:  # the margin is the whole box's; the search refutes boxes first
                cells.append(f"{np.mean(res['status'] == 'proven'):.3f} | "
                             f"{np.mean(res['status'] == 'refuted'):.3f} | {ms:.2f}")
            else:
                cells.append(f"{np.mean(res['status'] == 'proven'):.3f} | "
                             f"{np.median(res['certified_margin']):+.2f} | {ms:.2f}")
        out.append(f"| {name} | {r:g} | {len(X)} | " + " | ".join(cells) + " |")
    return out


def run(name, net, X_fit, names, X_eval, **params):
    tracemalloc.start()
    t = time.perf_counter()
    ex = VIAExtractor(net, random_state=0, **params).fit(X_fit, feature_names=names)
    seconds = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    s = ex.surrogate_
    c = ex.counts_
    cov = float(s.covered(X_eval).mean())
    agree = s.predict(X_eval)[s.covered(X_eval)] == net.predict(X_eval)[s.covered(X_eval)]
    bound = params.get("bound", "linear")
    RESULTS[(name, bound, params.get("split_depth", 8), params.get("relu_split", 0))] = (
        cov, seconds, c["unknown"], sum(c.values()))
    if params.get("relu_split"):
        bound = f"{bound} + relu split {params['relu_split']}"
    return (f"| {name} | {params.get('candidates', 'rows')} | {bound} | "
            f"{params.get('split_depth', 8)} | {len(X_eval)} | {s.n_boxes} | {cov:.3f} | "
            f"{agree.mean() if agree.size else float('nan'):.3f} | {c['proven']} / {c['refuted']}"
            f" / {c['unknown']} | {seconds:.1f} | {peak:.0f} |")


def _alpha_reading() -> str:
    def cov(name, bound, depth, relu=0):
        return f"{RESULTS[(name, bound, depth, relu)][0]:.1%}"

    def slow(name, bound, depth, relu=0):
        return RESULTS[(name, bound, depth, relu)][1] / RESULTS[(name, "linear", depth, 0)][1]

    pairs = "; ".join(
        f"{n} {cov(n, 'linear', 0)} -> {cov(n, 'alpha', 0)} (split depth 0), "
        f"{cov(n, 'linear', 8)} -> {cov(n, 'alpha', 8)} (depth 8)" for n, _ in CASES)
    relu = "; ".join(f"{n} {cov(n, 'linear', 8)} -> {cov(n, 'linear', 8, 10)}, "
                     f"{slow(n, 'linear', 8, 10):.0f}x the time" for n in RELU_SPLIT_ON)
    _, _, unknown, total = RESULTS[("wine", "linear", 8, 10)]
    return (
        "**Tighter bounds do not buy coverage.** Held-out coverage, linear -> alpha: "
        f"{pairs}. The alpha fits take {slow('iris', 'alpha', 0):.1f}x-"
        f"{slow('wine', 'alpha', 8):.1f}x as long (iris depth 0 to wine depth 8). On fixed "
        "boxes alpha raises the certified margin and proves a few more boxes (table above), "
        "but the wine margin stays far below zero at the radius the boxes need (the sampled "
        "minimum of the margin over radius-10% wine boxes is about +2.6, and most first-layer "
        "ReLUs are unstable over such a box: 12 of 16 at r = 0.1, 15 of 16 at r = 0.15, "
        "median; both measured separately): no choice of relaxation slopes closes the gap of "
        "the single-neuron convex relaxation. Splitting the unstable first-layer ReLUs with "
        "the split constraints carried into the bound (`relu_split`, beta-CROWN style) closes "
        "most of it on fixed boxes: at r = 0.1 most wine boxes are now proven or refuted "
        "(table above). Yet extraction coverage with it (linear bounds, split depth 8, relu "
        f"split 10) moves only {relu}, and {unknown} of the wine fit's {total} verifications "
        "still end unknown: the growth tries boxes stretched further along some features than "
        "a radius-0.1 cube, where 10 rounds of splitting (at most 1024 parts at a time) do "
        "not suffice, while cubes around held-out rows stop being single-class not far beyond "
        "r = 0.1 (most are refuted at r = 0.15), and a cube of radius 0.1 around a training "
        "row seldom contains a held-out row in 13 dimensions. Reaching the sampling "
        "verifier's 68.5% needs both: a growth that finds such stretched boxes within the "
        "budget, and deeper splitting (ReLUs of later layers too) to prove them. The held-out "
        "rows are also few (one wine row is 1.9%). `VIAExtractor` therefore "
        "keeps `bound=\"linear\"` and `relu_split=0` as its defaults; both are there for "
        "proving stated rules (`verify_boxes`, `VIAExtractor.verify`), where they prove more.")


def main() -> None:
    rows, fixed = [], []
    for name, fixture in CASES:
        sp = tabular_split(name)
        net = load(FIXTURES / fixture)
        fixed += fixed_boxes(name, net, sp)
        print(fixed[-1], flush=True)
        for bound, depth, relu in SETTINGS:
            if relu and name not in RELU_SPLIT_ON:
                continue
            rows.append(run(name, net, sp.X_train, sp.feature_names, sp.X_test, bound=bound,
                            split_depth=depth, relu_split=relu, candidates="rows"))
            print(rows[-1], flush=True)
    monk = load_monk(1)
    net = load(FIXTURES / "monks" / "monk1.onnx")
    rows.append(run("monk1 (all 432)", net, monk.X_train, monk.feature_names, monk.X_test,
                    candidates="tree"))
    print(rows[-1], flush=True)
    header = ("| data | candidates | bound | split depth | held-out rows | proven boxes | "
              "rows covered | fidelity inside | proven / refuted / unknown | seconds | "
              "peak MiB |\n|---|---|---|---:|---:|---:|---:|---:|---|---:|---:|")
    text = f"""# Validity interval analysis: held-out coverage of proven boxes

Command (repository root): `{COMMAND}`

Each row fits `VIAExtractor` (4000 verifications, at most 64 boxes, seed 0) on the training
split and counts the held-out rows that fall inside a proven box ("rows covered"); inside the
boxes the surrogate agrees with the network by construction ("fidelity inside" checks it).
Goals of the issue: iris >= 85% with <= 64 boxes, wine >= 50%, breast cancer reported.

{header}
""" + "\n".join(rows) + """

Optimised ReLU slopes (`bound="alpha"`, alpha-CROWN style) on fixed boxes: every held-out row
as a centre, radius r x (training range of each feature), the network's class at the centre;
proven share and median certified margin (positive = proven) without counterexample search,
and milliseconds of certification per box. "relu split": `verify_boxes(bound="alpha",
relu_split=10)` (the counterexample search first, then up to 10 rounds of splitting the
unstable first-layer ReLUs of unknown boxes, split constraints carried into the bound by
beta multipliers): proven and refuted shares, milliseconds per box.

| data | radius r | boxes | linear proven | linear median margin | linear ms/box | alpha proven | alpha median margin | alpha ms/box | relu split proven | relu split refuted | relu split ms/box |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
""" + "\n".join(fixed) + f"""

{_alpha_reading()}

Input splitting (`split_depth`, branch and bound on the input box) is what lifts iris past the
goal. Wine falls far short: with an idealised, unsound "verifier" that only samples 300 points
per box, the same growth covers 68.5% of wine's held-out rows, so the boxes exist; the sound
back-substituted linear bounds cannot prove boxes wider than about 20% of each feature's range
in 13 dimensions (the margin bound turns negative near a radius of 10%), and halving one input
at a time does not shrink a 13-dimensional box fast enough. Breast cancer (30 features) is where
the method stops being useful as a global explanation: boxes are proven, but they are tiny.
Splitting on unstable ReLUs instead (fixing a neuron's phase per part, bounds still taken over
the whole box) was tried and proved fewer wine boxes than input splitting at the same depth
(2 against 3 of 10 boxes at radius 10%, depth 8), so it was not kept: it needs the split
constraints carried into the bound (beta-CROWN style multipliers), which `relu_split` does.
"""
    (ROOT / "benchmarks" / "results" / "via_coverage.md").write_text(text)


if __name__ == "__main__":
    main()
