"""Certified surrogates: how much of each surrogate is proven, refuted, unknown — and the goals.

For every network of ``tests/fixtures/certify`` (three per data set, differing in seed and
width, made by ``scripts/make_certify_fixtures.py``; certify's defaults were chosen on other
networks, ``tests/fixtures/via_*`` and ``monks/monk*``), extract a surrogate from the training
rows (CART ``tree`` and ``trepan`` for iris / wine / breast cancer, ``trepan`` for MONK), certify
it on the training rows' box and report, with the bound engine alone (``linear``, budget 2000)
and with mixed-integer programming (``--complete``, budget 500: one MILP per box the bounds
leave open is slow on 13- and 30-feature networks): proven / refuted / unknown shares of the
domain's volume and of the held-out rows (MONK: all 432 points), boxes, verifications, seconds.

Then the goals of the certification issue, median and worst over the three networks:

- iris: held-out rows inside proven boxes of ``VIAExtractor(candidates="best")`` (<= 64 boxes);
- MONK-1/2/3: the whole 432-point domain proven or refuted, every refuted box one point where
  the network departs from the surrogate (checked here by enumeration);
- breast cancer, wine: held-out rows inside proven boxes of the certified tree or TREPAN tree.

Every proven box of every certificate is checked with onnxruntime on 2,000 points (corners,
faces, interior) per box (``--soundness N`` for more); a violation stops the run.

    python benchmarks/certify.py            # writes benchmarks/results/certify.md
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from via import solver_versions  # benchmarks/via.py (the script's folder is on sys.path)

from nnrules.certification import certify
from nnrules.datasets import load_monk
from nnrules.datasets.tabular import tabular_split
from nnrules.extract.tree import TreeExtractor
from nnrules.extract.trepan import TrepanExtractor
from nnrules.extract.via import VIAExtractor
from nnrules.io.model import load
from nnrules.schema import FeatureSchema

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "certify"
COMMAND = "python benchmarks/certify.py"
TABULAR = ("iris", "wine", "breast_cancer")
MONKS = ("monk1", "monk2", "monk3")


def data(name: str):
    """(X_train, X_eval, schema): held-out rows; for MONK all 432 points."""
    if name.startswith("monk"):
        d = load_monk(int(name[-1]))
        return d.X_train, d.X_test, FeatureSchema.infer(d.X_train, d.feature_names)
    sp = tabular_split(name)
    return sp.X_train, sp.X_test, FeatureSchema.infer(sp.X_train, list(sp.feature_names))


def box_points(lo, hi, n, rng):
    d = lo.size
    k = min(2 ** d, 256)
    corners = rng.integers(0, 2, size=(k, d)).astype(float)
    inner = rng.random((max(n - k, 0), d))
    return lo + np.vstack([corners, inner]) * (hi - lo)


def check_sound(cert, net, n_points: int, rng, schema) -> int:
    """Sample every proven box (valid rows only); returns points checked."""
    lo, hi, idx = cert.boxes("proven")
    groups = list(schema.groups.values())
    total = 0
    for k in range(len(lo)):
        P = box_points(lo[k], hi[k], n_points, rng)
        for g in groups:  # one hot column among the allowed ones
            g = np.array(g)
            allowed = g[hi[k, g] >= 1]
            P[:, g] = 0.0
            P[np.arange(len(P)), rng.choice(allowed, size=len(P))] = 1.0
        disc = [j for j, f in enumerate(schema.features)
                if f.kind in ("integer", "binary", "categorical")]
        P[:, disc] = np.clip(np.round(P[:, disc]), lo[k, disc], hi[k, disc])
        bad = net.predict(P) != cert.rules[idx[k]]["class"]
        if bad.any():
            raise SystemExit(f"UNSOUND: proven box {k} of {cert.rules[idx[k]]['name']}")
        total += len(P)
    return total


def surrogate(kind: str, net, X, schema):
    cls = TrepanExtractor if kind == "trepan" else TreeExtractor
    return cls(net, random_state=0).fit(X, schema=schema).surrogate_


def row(name, k, kind, mode, cert, sur, net, X_eval, seconds):
    info = cert.info
    n = cert.n_boxes()
    agree = float(np.mean(sur.predict(X_eval) == net.predict(X_eval)))
    return {"data": name, "network": f"{name}_{k}", "surrogate": kind, "mode": mode,
            "proven_volume": info["proven_volume_share"],
            "refuted_volume": info["refuted_volume_share"],
            "unknown_volume": info["unknown_volume_share"],
            "proven_rows": cert.certified_fraction, "fidelity": agree,
            "boxes": n, "verifications": info["verifications"], "seconds": seconds}


def monk_exact(cert, sur, net, X) -> bool:
    """Every point in a proven or a one-point refuted box; refuted exactly where they differ."""
    truth = sur.predict(X) == net.predict(X)
    status = np.full(len(X), "", dtype=object)
    region = {r["name"]: int(r["name"].split()[-1]) for r in cert.rules}
    leaves = sur.apply(X)
    for r in cert.rules:
        mine = leaves == region[r["name"]]
        for s in ("proven", "refuted", "unknown"):
            for box in r[s]:
                inside = mine & np.all((X >= box["lower"]) & (X <= box["upper"]), axis=1)
                if s == "refuted" and inside.sum() != 1:
                    return False
                status[inside] = s
    return bool(np.all((status == "proven") == truth) and np.all(status != "unknown"))


def fmt(v, pct=True):
    if v is None:
        return "n/a"
    return f"{100 * v:.1f}%" if pct else f"{v:.1f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=int, default=2000)
    ap.add_argument("--complete-budget", type=int, default=500,
                    help="budget of the --complete certificates (MILP per box is slow)")
    ap.add_argument("--soundness", type=int, default=2000, help="points per proven box")
    ap.add_argument("--data", nargs="*", default=list(MONKS + TABULAR))
    ap.add_argument("--no-complete", action="store_true")
    ap.add_argument("--results", default="certify",
                    help="write benchmarks/results/<RESULTS>.md (default: certify)")
    args = ap.parse_args()
    args.extra = "".join(f" {a}" for a in __import__("sys").argv[1:])
    rng = np.random.default_rng(0)
    rows, goals, checked = [], {}, 0
    for name in args.data:
        X, X_eval, schema = data(name)
        kinds = ("trepan",) if name.startswith("monk") else ("tree", "trepan")
        for k in (1, 2, 3):
            net = load(FIXTURES / f"{name}_{k}.onnx")
            for kind in kinds:
                sur = surrogate(kind, net, X, schema)
                for mode in ("linear",) + (() if args.no_complete else ("complete",)):
                    t0 = time.perf_counter()
                    budget = args.complete_budget if mode == "complete" else args.budget
                    cert = certify(sur, net, X, eval=X_eval, max_verifications=budget,
                                   complete=mode == "complete")
                    sec = time.perf_counter() - t0
                    checked += check_sound(cert, net, args.soundness, rng, schema)
                    r = row(name, k, kind, mode, cert, sur, net, X_eval, sec)
                    if name.startswith("monk"):
                        r["exact"] = monk_exact(cert, sur, net, X_eval)
                    rows.append(r)
                    print(json.dumps(r), flush=True)
            if name == "iris":
                via = VIAExtractor(net, candidates="best", random_state=0).fit(
                    X, schema=schema)
                cov = float(via.surrogate_.covered(X_eval).mean())
                goals.setdefault("iris", []).append((cov, via.surrogate_.n_boxes,
                                                     via.seeded_by_))
                print("via", name, k, cov, via.surrogate_.n_boxes, via.seeded_by_, flush=True)
    write(rows, goals, checked, args)


MISSED = """**Missed: breast cancer and wine.** On the 13- and 30-feature networks almost no box
holding a held-out row is proven. The search verifies the boxes holding most training rows
first and splits refuted ones at the surrogate's thresholds and the most influential features;
the boxes stay refuted. A variant that cut each counterexample away from the box's rows
directly (tried on the development network `via_breast_cancer.onnx`, 12,000 verifications)
shrank boxes down to single training rows, and those were refuted too: such boxes are narrow
in the few features the cuts touched and as wide as the leaf in the rest, and the network
changes its answer inside them. Its decision regions are not box-shaped at the scale of the
data, which is what the `via` issue's evidence showed for fixed cubes. `--complete` settles
more boxes exactly but finds the same: they are refuted, not merely unproven. Large refuted /
unknown volumes on these rows are regions the budget never split (TREPAN's m-of-n leaves make
many pieces before any verification). MONK is met exactly (every point proven or refuted,
refuted exactly where network and TREPAN differ). Iris is met by `via` with
`candidates="best"` (see the goal row for which candidates it kept); the certified tree alone
puts a similar share of held-out rows in proven boxes but needs far more than 64 of them."""


def _med_worst(values):
    v = np.array(values, dtype=float)
    return float(np.median(v)), float(v.min())


def write(rows, goals, checked, args) -> None:
    out = ["# Certify: proven, refuted and unknown shares of certified surrogates", "",
           (f"Command: `{COMMAND}{args.extra}` (budget {args.budget} verifications per linear certificate, "
           f"{args.complete_budget} per --complete one, "
           f"minimum width 1/64, linear bounds with 4 rounds of input splitting per "
           f"verification). Networks: `tests/fixtures/certify/` (three per data set, seeds "
           f"1-3, widths 8 / 16-8 / 32-16, MONK 8 / 12 / 16; none used to choose the "
           f"defaults). Domain: the training rows' box; rows: held-out rows (MONK: all 432 "
           f"points). Volume shares are of the surrogate's regions inside the domain. Every "
           f"proven box was checked with onnxruntime on {args.soundness:,} valid points: "
           f"{checked:,} points, no violation."), "",
           (f"Solvers: {solver_versions()} (the --complete rows use mixed-integer programming, "
            "whose results differ across HiGHS builds)."), "",
           ("| network | surrogate | mode | proven vol | refuted vol | unknown vol | rows in "
           "proven boxes | fidelity | boxes P/R/U | verif. | s |"),
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        b = r["boxes"]
        out.append(f"| {r['network']} | {r['surrogate']} | {r['mode']} | "
                   f"{fmt(r['proven_volume'])} | {fmt(r['refuted_volume'])} | "
                   f"{fmt(r['unknown_volume'])} | {fmt(r['proven_rows'])} | "
                   f"{fmt(r['fidelity'])} | {b['proven']}/{b['refuted']}/{b['unknown']} | "
                   f"{r['verifications']} | {r['seconds']:.1f} |")
    out += ["", "## Goals (median and worst of the three networks per data set)", "",
            "| goal | median | worst | met |", "|---|---|---|---|"]
    if "iris" in goals:
        cov = [g[0] for g in goals["iris"]]
        med, worst = _med_worst(cov)
        boxes = max(g[1] for g in goals["iris"])
        seeds = ", ".join(g[2] for g in goals["iris"])
        out.append(f"| iris: held-out rows in proven boxes of `via` (candidates=best, at most "
                   f"{boxes} boxes; kept: {seeds}) >= 85% | {fmt(med)} | {fmt(worst)} | "
                   f"{'yes' if worst >= 0.85 and boxes <= 64 else 'no'} |")
    for name in MONKS:
        sel = [r for r in rows if r["data"] == name and r["mode"] == "linear"]
        if sel:
            ok = [r["exact"] for r in sel]
            proven = [r["proven_rows"] for r in sel]
            med, worst = _med_worst(proven)
            out.append(f"| {name}: all 432 points proven or refuted (every refutation one "
                       f"point where network and TREPAN differ); proven share | {fmt(med)} | "
                       f"{fmt(worst)} | {'yes' if all(ok) else 'no'} ({sum(ok)}/3 exact) |")
    for name in ("breast_cancer", "wine"):
        best = {}
        for r in rows:
            if r["data"] == name:
                key = r["network"]
                best[key] = max(best.get(key, 0.0), r["proven_rows"] or 0.0)
        if best:
            med, worst = _med_worst(list(best.values()))
            out.append(f"| {name}: held-out rows in proven boxes of the certified tree or "
                       f"TREPAN (best of the two and of linear / complete) >= 50% | "
                       f"{fmt(med)} | {fmt(worst)} | {'yes' if worst >= 0.5 else 'no'} |")
    out += ["", MISSED]
    path = ROOT / "benchmarks" / "results" / f"{args.results}.md"
    path.write_text("\n".join(out) + "\n")
    print("\n".join(out))


if __name__ == "__main__":
    main()
