"""TREPAN and CART compared at equal held-out fidelity, along their size/fidelity curves.

Run from the repository root:

    python benchmarks/trepan_prune.py [--german PATH/TO/german.data] [--only NAME]
                                      [--trepan NAME=VALUE ...]

``--trepan NAME=VALUE`` (repeatable) sets a ``TrepanExtractor`` parameter for every TREPAN
run (e.g. ``--trepan n_queries=0``); the table then goes to its own section
(``SECTION`` + the parameters), after the default one.

Options used to choose defaults and to try variants (results printed, not written):
``--validation`` (the networks learn 75% of the training rows and the extraction uses the same
75%; fidelity is scored on the other 25%, rows the networks never saw, like the held-out rows,
which are not touched), ``--curves`` (skip ``prune=EPS``), ``--weighting uniform|reach``,
``--cost both|rules|tree`` (``prune_cost``), ``--grow N`` (TREPAN's curve starts from N leaves), ``--no-mofn``
(TREPAN with single-condition tests), ``--networks SEED:WIDTH,...`` (other networks than
the three below, e.g. ``--only digits --networks 3:32,4:16,5:48 --curves``; printed only).

Networks and data as ``benchmarks/simplify.py`` (three scikit-learn MLPs per data set, seeds
0/1/2, 16/32/64 hidden units; held-out 30%). Per network:

- TREPAN's curve: the default tree (leaf budget 16, digits 32; simplified) and every tree of its
  pruning path (``nnrules.extract.engines.prune_tree``; fidelity for the path measured on the
  extraction rows and TREPAN's queries, never on the held-out rows);
- CART's curve: ``tree`` at leaf budgets 2, 3, 4, 6, ..., 256 (simplified).

Literals are the conditions written in each tree's rule view (``complexity()["conditions"]``;
an m-of-n test over n conditions counts n), the same count for both methods. The comparison
picks, for a fidelity level, the smallest tree of each curve whose held-out fidelity reaches
it (the same use of held-out rows for both methods: it compares curves, it does not choose a
model). Also reported: ``trepan --param prune=EPS`` as a user would run it (the pruned tree
chosen on a 25% validation split of the extraction rows), against CART at its default budget.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from simplify import BUDGET, MATCH_BUDGETS, NETWORKS, _data, _network

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "results" / "simplify.md"
SECTION = "## Pruning: TREPAN and CART at equal held-out fidelity"
EPS = 0.01


def _is(f, v) -> bool:
    try:
        f(v)
    except ValueError:
        return False
    return True


VALIDATION = "--validation" in sys.argv
# --trepan NAME=VALUE: TREPAN parameters (int, float, or text).
TREPAN = {}
for _i, _a in enumerate(sys.argv):
    if _a == "--trepan":
        _k, _v = sys.argv[_i + 1].split("=", 1)
        TREPAN[_k] = next((f(_v) for f in (int, float) if _is(f, _v)), _v)
if "--cost" in sys.argv:  # the same as --trepan prune_cost=...
    TREPAN["prune_cost"] = sys.argv[sys.argv.index("--cost") + 1]
if TREPAN:
    SECTION += " (TREPAN " + ", ".join(f"{k}={v}" for k, v in TREPAN.items()) + ")"
# --networks SEED:WIDTH,...: networks other than benchmarks/simplify.py's (printed, not written).
NETS = (NETWORKS if "--networks" not in sys.argv else tuple(
    tuple(int(v) for v in n.split(":")) for n in sys.argv[sys.argv.index("--networks") + 1]
    .split(",")))
# --grow N: TREPAN's curve starts from a tree of N leaves (default: the data set's budget).
GROW = ({} if "--grow" not in sys.argv else
        {n: int(sys.argv[sys.argv.index("--grow") + 1]) for n in BUDGET})


def _literals(tree) -> int:
    return int(tree.complexity()["conditions"])


def _smallest(curve, target):
    """Fewest literals among the curve's points with held-out fidelity >= target (or None)."""
    ok = [p for p in curve if p[1] >= target - 1e-12]
    return min(ok, key=lambda p: (p[0], -p[1])) if ok else None


def _run(name, german):
    from nnrules.extract.tree import TreeExtractor
    from nnrules.extract.trepan import TrepanExtractor

    X_train, X_test, y, names = _data(name, german)
    X = X_train
    if VALIDATION:  # choose defaults: networks and extraction on 75% of the training rows,
        from sklearn.model_selection import train_test_split  # fidelity on the other 25%

        # (The networks must not see the scoring rows: a network that fits its training rows
        # answers the true labels there, and on digits every network then agreed on them.)
        X, X_test, y, _ = train_test_split(X_train, y, test_size=0.25, random_state=1)
        X_train = X
    rows = []
    for seed, width in NETS:
        net = _network(X_train, y, seed, width)
        ref = net.predict(X_test)

        def fid(tree, ref=ref):
            return float(np.mean(tree.predict(X_test) == ref))

        start = time.perf_counter()
        ex = TrepanExtractor(net.predict, max_leaves=GROW.get(name, BUDGET[name]),
                             max_literals=10**9, **{"mofn": "--no-mofn" not in sys.argv,
                                                    **TREPAN}, random_state=0).fit(
            X, feature_names=names)
        full = ex.surrogate_
        choice = ex.queries_choice_  # n_queries="auto": what it chose (else None)
        trepan = [(_literals(full), fid(full), "full")]
        trepan += [(_literals(p.tree), fid(p.tree), "path") for p in ex.pruning_path_]
        t_trepan = time.perf_counter() - start
        cart = []
        for leaves in MATCH_BUDGETS:
            s = TreeExtractor(net.predict, max_leaves=leaves, random_state=0).fit(
                X, feature_names=names).surrogate_
            cart.append((_literals(s), fid(s), leaves))
        default = next(p for p in cart if p[2] == BUDGET[name])
        honest = full if "--curves" in sys.argv else TrepanExtractor(  # --curves: skip it
            net.predict, max_leaves=BUDGET[name], prune=EPS, random_state=0, **TREPAN).fit(
            X, feature_names=names).surrogate_
        # Every CART size TREPAN's curve reaches, and every TREPAN size CART's reaches.
        c_vs = [(c, _smallest(trepan, c[1])) for c in cart]
        t_vs = [(t, _smallest(cart, t[1])) for t in trepan]
        rows.append({
            "data": name, "net": f"seed {seed}, {width} hidden"
                                 + ("" if choice is None else f", auto: {choice['chosen']}"),
            "cart": default, "trepan_at_cart": _smallest(trepan, default[1]),
            "trepan_full": trepan[0], "cart_at_trepan": _smallest(cart, trepan[0][1]),
            "honest": (_literals(honest), fid(honest)),
            "c_wins": (sum(1 for c, t in c_vs if t is not None and t[0] <= c[0]),
                       sum(1 for _, t in c_vs if t is not None)),
            "t_wins": (sum(1 for t, c in t_vs if c is not None and t[0] <= c[0]),
                       sum(1 for _, c in t_vs if c is not None), len(t_vs)),
            "path": len(ex.pruning_path_), "seconds": t_trepan, "choice": choice})
        print({k: v for k, v in rows[-1].items()}, file=sys.stderr)
    return rows


def _fmt(p):
    return "not reached" if p is None else f"{p[0]} ({p[1]:.3f})"


def _table(rows, names) -> list[str]:
    command = " ".join(["python benchmarks/trepan_prune.py --german german.data"]
                       + [f"--trepan {k}={v}" for k, v in TREPAN.items()])
    lines = [SECTION, "",
             (f"Command: `{command}`. Literals (held-out "
              "fidelity). \"TREPAN at CART's fidelity\": the smallest tree on TREPAN's pruning "
              "path whose held-out fidelity is at least CART's at its default budget (16 leaves, "
              "digits 32); \"CART at TREPAN's\": the smallest CART (2-256 leaves) at least as "
              "faithful as the unpruned TREPAN tree. \"CART sizes\": of CART's 15 sizes that "
              "TREPAN's curve reaches, those where TREPAN needs at most CART's literals; "
              "\"TREPAN sizes\" the reverse (of TREPAN's path trees CART reaches). "
              f"`prune={EPS}`: TREPAN pruned as a user runs it (chosen on a validation split of "
              "the extraction rows)."),
             "", ("| data | network | CART default | TREPAN at CART's fidelity | ratio | "
                  "TREPAN unpruned | CART at TREPAN's fidelity | TREPAN prune=" f"{EPS} | "
                  "CART sizes where TREPAN ≤ CART | TREPAN sizes where TREPAN ≤ CART |"),
             "|---|---|---|---|---:|---|---|---|---|---|"]
    for r in rows:
        t = r["trepan_at_cart"]
        ratio = "–" if t is None else f"{t[0] / max(r['cart'][0], 1):.2f}"
        lines.append(
            f"| {r['data']} | {r['net']} | {_fmt(r['cart'])} | {_fmt(t)} | {ratio} | "
            f"{_fmt(r['trepan_full'])} | {_fmt(r['cart_at_trepan'])} | {_fmt(r['honest'])} | "
            f"{r['c_wins'][0]} of {r['c_wins'][1]} | {r['t_wins'][0]} of {r['t_wins'][1]} |")
    lines += ["", "Per data set (median / worst over its networks):", "",
              ("| data | TREPAN / CART literals at CART's default fidelity | CART literals | "
               "TREPAN literals at CART's fidelity | TREPAN prune=" f"{EPS} literals | "
               "its fidelity − CART's |"),
              "|---|---|---|---|---|---|"]
    for name in names:
        rs = [r for r in rows if r["data"] == name]
        ratio = [np.inf if r["trepan_at_cart"] is None else
                 r["trepan_at_cart"][0] / max(r["cart"][0], 1) for r in rs]
        cl = [r["cart"][0] for r in rs]
        tl = [np.inf if r["trepan_at_cart"] is None else r["trepan_at_cart"][0] for r in rs]
        hl = [r["honest"][0] for r in rs]
        hd = [r["honest"][1] - r["cart"][1] for r in rs]
        lines.append(f"| {name} | {np.median(ratio):.2f} / {max(ratio):.2f} | "
                     f"{np.median(cl):g} / {max(cl):g} | {np.median(tl):g} / {max(tl):g} | "
                     f"{np.median(hl):g} / {max(hl):g} | {np.median(hd):+.3f} / {min(hd):+.3f} |")
    return lines


def main() -> None:
    german = sys.argv[sys.argv.index("--german") + 1] if "--german" in sys.argv else None
    names = ["breast_cancer", "wine", "digits"] + (["german"] if german else [])
    if "--only" in sys.argv:
        names = [sys.argv[sys.argv.index("--only") + 1]]
    if "--weighting" in sys.argv:
        from nnrules.extract import trepan

        trepan.QUERY_WEIGHTING = sys.argv[sys.argv.index("--weighting") + 1]
    rows = [r for name in names for r in _run(name, german)]
    lines = _table(rows, names)
    print("\n".join(lines))
    if "--only" in sys.argv or VALIDATION or "--networks" in sys.argv:
        return
    text = OUT.read_text() if OUT.exists() else ""
    if SECTION + "\n" in text:  # this section and any after it (variants follow the default)
        text = text[:text.index(SECTION + "\n")].rstrip("\n") + "\n"
    OUT.write_text(text + "\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
