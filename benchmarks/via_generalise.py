"""VIA defaults on iris networks nnrules was never tuned on: a choosing set and a checking set.

Command (repository root): ``python benchmarks/via_generalise.py [--settings a,b] [--sets choose,check]``

Trains eight throw-away iris networks in a temporary folder (other split seeds, seeds, widths,
one and two hidden layers; PyTorch TorchScript / dynamo and skl2onnx exports; see
``benchmarks/generalise_nets.py``), four to choose settings on and four to check them on, plus
the sweep's failing network (dynamo 4-10-6-3, split seed 1) and the committed fixture. For each
setting it fits ``VIAExtractor`` (seed 0) on the training split and prints held-out coverage of
the proven boxes, boxes, seconds and the soundness check: 64 points sampled uniformly in every
proven box, answered by onnxruntime (no nnrules code), points answered otherwise ("wrong").
Needs torch, onnxscript and skl2onnx (the ``[train]`` extra).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import onnxruntime as ort

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generalise_nets import _export_torch, _skl, train_mlp  # noqa: E402

from nnrules.datasets.tabular import tabular_split  # noqa: E402
from nnrules.extract.via import VIAExtractor  # noqa: E402
from nnrules.io.model import load  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "via_iris.onnx"

# (set, split seed, kind, hidden sizes, seed); kind: torchscript / dynamo / skl
NETS = [
    ("choose", 2, "torchscript", (8,), 11),
    ("choose", 2, "dynamo", (10, 6), 12),
    ("choose", 3, "skl", (6,), 13),
    ("choose", 3, "torchscript", (16, 8), 14),
    ("check", 4, "dynamo", (12,), 21),
    ("check", 4, "torchscript", (10, 6), 22),
    ("check", 5, "skl", (8,), 23),
    ("check", 5, "dynamo", (6, 6), 24),
    ("sweep", 1, "dynamo", (10, 6), 2),  # the generalise sweep's failing network
]

SETTINGS = {
    "old": {"domain_margin": 0.0},  # the defaults before this benchmark
    "default": {},  # domain_margin=0.1
    "margin0.05": {"domain_margin": 0.05},
    "margin0.2": {"domain_margin": 0.2},
    "budget8000": {"domain_margin": 0.0, "max_verifications": 8000},
    "best": {"domain_margin": 0.0, "candidates": "best"},
    "depth12": {"domain_margin": 0.0, "split_depth": 12},
    "boxes128": {"domain_margin": 0.0, "max_boxes": 128},
}


def make(out: Path, split_seed: int, kind: str, sizes, seed: int) -> Path:
    sp = tabular_split("iris", random_state=split_seed)
    path = out / f"iris_{kind}_{'-'.join(map(str, sizes))}_s{seed}_split{split_seed}.onnx"
    if kind == "skl":
        _skl(sp.X_train, sp.y_train, sizes, seed, path, zipmap=True, scale=True)
    else:
        _export_torch(train_mlp(sp.X_train, sp.y_train, sizes, seed), 4, path,
                      kind == "dynamo")
    return path


def ort_labels(path: Path, X: np.ndarray) -> np.ndarray:
    """The network's class index for every row, by onnxruntime alone."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    outs = sess.run(None, {sess.get_inputs()[0].name: X.astype(np.float32)})
    for meta, value in zip(sess.get_outputs(), outs):
        if "label" in meta.name:
            return np.asarray(value).ravel().astype(int)
    return np.asarray(outs[0]).argmax(axis=1)


def soundness(path: Path, s, rng, per_box: int = 64) -> tuple[int, int]:
    if s.n_boxes == 0:
        return 0, 0
    P = np.vstack([rng.uniform(lo, hi, (per_box, len(lo))) for lo, hi in zip(s.lower, s.upper)])
    want = np.repeat([int(v) for v in s.outputs], per_box)
    return len(P), int(np.sum(ort_labels(path, P) != want))


def fit(path: Path, split_seed: int | None, params: dict) -> dict:
    sp = (tabular_split("iris") if split_seed is None
          else tabular_split("iris", random_state=split_seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = load(str(path))
        t = time.perf_counter()
        ex = VIAExtractor(net, random_state=0, **params).fit(sp.X_train)
        seconds = time.perf_counter() - t
    s = ex.surrogate_
    n, wrong = soundness(path, s, np.random.default_rng(0))
    return {"coverage": float(s.covered(sp.X_test).mean()), "boxes": s.n_boxes,
            "seconds": seconds, "points": n, "wrong": wrong, "counts": dict(ex.counts_)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--settings", default=",".join(SETTINGS))
    ap.add_argument("--sets", default="choose,check,sweep,fixture")
    args = ap.parse_args()
    sets = args.sets.split(",")
    names = args.settings.split(",")
    rows: dict[tuple[str, str], list[dict]] = {}
    print("| set | network | setting | coverage | boxes | proven/refuted/unknown | seconds | "
          "wrong / points |")
    print("|---|---|---|---:|---:|---|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        nets = [(st, ss, make(Path(tmp), ss, k, h, sd)) for st, ss, k, h, sd in NETS
                if st in sets]
        if "fixture" in sets:
            nets.append(("fixture", None, FIXTURE))  # via_coverage.py's split
        for st, ss, path in nets:
            for name in names:
                r = fit(path, ss, SETTINGS[name])
                rows.setdefault((st, name), []).append(r)
                c = r["counts"]
                print(f"| {st} | {path.stem} | {name} | {r['coverage']:.3f} | {r['boxes']} | "
                      f"{c['proven']}/{c['refuted']}/{c['unknown']} | {r['seconds']:.1f} | "
                      f"{r['wrong']} / {r['points']} |", flush=True)
    print("\n| set | setting | networks | median coverage | worst coverage | median seconds | "
          "worst seconds | wrong points |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for (st, name), rs in rows.items():
        cov = [r["coverage"] for r in rs]
        sec = [r["seconds"] for r in rs]
        print(f"| {st} | {name} | {len(rs)} | {np.median(cov):.3f} | {min(cov):.3f} | "
              f"{np.median(sec):.1f} | {max(sec):.1f} | {sum(r['wrong'] for r in rs)} |")


if __name__ == "__main__":
    main()
