"""Does ``setiono`` generalise on MONK's problems to networks it was not chosen on?

``make_setiono.py``'s ``make_monk`` keeps, per problem and width, the best of 8 seeds x 2
penalties. This script keeps *every* network: MONK-1, -2, -3 x widths 3, 4, 5 x seeds 0..5 x
``eps1`` in (3e-3, 1e-2), trained by ``make_setiono.train`` (Setiono's penalty, 1,500 epochs)
and written by ``make_setiono.export`` to ``OUT/nets/`` (the ``train`` step needs torch; it
skips networks already there). The ``extract`` step fits ``setiono`` with its defaults on the
training rows, as ``tests/test_setiono.py`` does, and records per network: its accuracy on the
432 points against the concept, setiono's fidelity to it there, whether the rules' truth table
equals the network's and the concept's, the rule count, exactness, ``partial_reason_``, seconds
and ``stages_`` (``OUT/rows<tag>.json``), then prints a table per problem and per penalty::

    python scripts/sweep_monk_setiono.py OUT                    # train, then extract
    python scripts/sweep_monk_setiono.py OUT extract --tolerance 0 --tag _tol0
    python scripts/sweep_monk_setiono.py OUT extract --rows domain --tag _domain

``--rows domain`` fits on the 432 points instead of the training rows. A network answering one
class on every row it is fitted on is refused by setiono (``DataError``) and counted apart.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import nnrules
from nnrules.datasets import load_monk
from nnrules.exceptions import DataError
from nnrules.extract import get_extractor

ROOT = Path(__file__).resolve().parents[1]
PROBLEMS, WIDTHS, SEEDS, EPS1S = (1, 2, 3), (3, 4, 5), range(6), (3e-3, 1e-2)


def networks():
    """(problem, width, seed, eps1, name) of every network of the sweep."""
    for p in PROBLEMS:
        for w in WIDTHS:
            for s in SEEDS:
                for e in EPS1S:
                    yield p, w, s, e, f"monk{p}_h{w}_s{s}_e{e:g}"


def train_all(out: Path) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    import make_setiono as ms
    import torch

    torch.set_num_threads(1)
    (out / "nets").mkdir(parents=True, exist_ok=True)
    for p, w, s, e, name in networks():
        path = out / "nets" / f"{name}.onnx"
        if path.exists():
            continue
        d = load_monk(p)
        net, mean, std = ms.train(d.X_train, d.y_train, w, seed=s, epochs=1500, scale=False,
                                  eps1=e)
        ms.export(net, mean, std, list(d.feature_names), path, scale=False)
        print("trained", name, flush=True)


def extract_one(path: Path, problem: int, params: dict, rows: str) -> dict:
    d = load_monk(problem)
    assert len(d.X_test) == 432 and len(np.unique(d.X_test, axis=0)) == 432  # the domain
    net = nnrules.load(path)
    y_net = net.predict(d.X_test)
    row = {"net_acc": float(np.mean(y_net == d.y_test)),
           "net_train_acc": float(np.mean(net.predict(d.X_train) == d.y_train))}
    X = d.X_train if rows == "train" else d.X_test
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ex = get_extractor("setiono")(net, random_state=0, **params).fit(
                X, feature_names=list(d.feature_names))
    except DataError as err:  # one class on every row
        return {**row, "refused": str(err)}
    y_rules = ex.surrogate_.predict_index(d.X_test)
    return {**row, "fidelity": float(np.mean(y_rules == y_net)),
            "rules_eq_net": bool(np.array_equal(y_rules, y_net)),
            "rules_eq_concept": bool(np.array_equal(y_rules, d.y_test)),
            "n_rules": len(ex.surrogate_.rules), "exact": bool(ex.exact_),
            "partial": ex.partial_reason_, "seconds": round(time.perf_counter() - start, 2),
            "stages": ex.stages_}


def extract_all(out: Path, params: dict, rows: str, only: list[str] | None) -> list[dict]:
    result = []
    for p, w, s, e, name in networks():
        if only and name not in only:
            continue
        r = {"name": name, "problem": p, "width": w, "seed": s, "eps1": e,
             **extract_one(out / "nets" / f"{name}.onnx", p, params, rows)}
        result.append(r)
        if "refused" in r:
            print(f"{name:22s} net {r['net_acc']:.3f} refused: {r['refused']}", flush=True)
            continue
        print(f"{name:22s} net {r['net_acc']:.3f} fid {r['fidelity']:.3f} "
              f"=net {r['rules_eq_net']!s:5} =concept {r['rules_eq_concept']!s:5} "
              f"rules {r['n_rules']:3d} exact {r['exact']!s:5} {r['seconds']:5.1f}s "
              f"{r['partial'] or ''}", flush=True)
    return result


def _line(label: str, rows: list[dict]) -> str | None:
    fitted = [x for x in rows if "refused" not in x]
    if not fitted:
        return None
    fid = np.array([x["fidelity"] for x in fitted])
    concept = [x for x in fitted if x["net_acc"] == 1.0]
    clean = sum(x["rules_eq_concept"] and not x["partial"] and x["exact"] for x in concept)
    return (f"| {label} | {len(fitted)} ({len(rows) - len(fitted)}) | {np.median(fid):.3f} | "
            f"{fid.min():.3f} | {len(concept)} | "
            f"{sum(x['rules_eq_concept'] for x in concept)}/{len(concept)} | "
            f"{clean}/{len(concept)} | {sum(x['rules_eq_concept'] for x in fitted)} | "
            f"{int(np.sum(fid >= 0.97))}/{len(fitted)} | "
            f"{sum(bool(x['partial']) for x in fitted)} |")


def summary(rows: list[dict]) -> str:
    """Per problem, then per problem and penalty: networks fitted (refused), median / worst
    fidelity on the 432 points, networks computing the concept, how many of those get rules
    equal to it (and also not partial and exact, as tests/test_setiono.py asserts), networks of
    any accuracy whose rules are the concept, fidelity >= 0.97, partial results."""
    out = ["| networks | fitted (refused) | median fidelity | worst fidelity | net = concept | "
           "rules = concept among them | and not partial, exact | rules = concept (all) | "
           "fidelity >= 0.97 | partial |", "|---|---|---|---|---|---|---|---|---|---|"]
    groups = [(f"MONK-{p}", [x for x in rows if x["problem"] == p]) for p in PROBLEMS]
    groups += [(f"MONK-{p} eps1={e:g}", [x for x in rows if x["problem"] == p
                                          and x["eps1"] == e]) for p in PROBLEMS for e in EPS1S]
    out += [line for label, r in groups if (line := _line(label, r))]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("steps", nargs="*", choices=["train", "extract"], default=[])
    ap.add_argument("--tolerance", type=float, help="setiono's tolerance (default: its own)")
    ap.add_argument("--rows", choices=["train", "domain"], default="train")
    ap.add_argument("--tag", default="", help="rows<tag>.json")
    ap.add_argument("--only", nargs="+", help="network names")
    a = ap.parse_args(argv)
    steps = a.steps or ["train", "extract"]
    if "train" in steps:
        train_all(a.out)
    if "extract" in steps:
        params = {} if a.tolerance is None else {"tolerance": a.tolerance}
        rows = extract_all(a.out, params, a.rows, a.only)
        path = a.out / f"rows{a.tag}.json"
        path.write_text(json.dumps(rows, indent=1, default=str) + "\n")
        print(summary(rows))


if __name__ == "__main__":
    main()
