"""Choose TREPAN's ``min_real`` on new MONK networks and check it on others.

Trains throw-away MONK-1/2/3 networks (torch TorchScript / dynamo and skl2onnx, other seeds and
widths than the fixtures; ``benchmarks/generalise_nets.py``) in a temporary folder: a *choosing*
set and a disjoint *checking* set. Prints held-out fidelity (the 432 MONK rows) of
``TrepanExtractor(min_real=m)`` for each candidate ``m``, then median / worst per set.

    python benchmarks/trepan_monk.py [--out DIR] [--candidates 0,1,2,3,4] [--write]

``--write`` puts the table in benchmarks/results/trepan_monk.md (then run
``python benchmarks/collect.py``). "default" is ``min_real=None`` (1 here: MONK's inputs are
all one-hot).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from generalise_nets import _export_torch, _names, _skl, train_mlp  # noqa: E402

from nnrules.datasets import load_monk  # noqa: E402
from nnrules.extract.trepan import TrepanExtractor  # noqa: E402
from nnrules.io.model import load  # noqa: E402

RESULT = Path(__file__).resolve().parent / "results" / "trepan_monk.md"
HEADER = """# TREPAN's min_real on MONK networks it was not tuned on

Command (repository root): `python benchmarks/trepan_monk.py --write` (needs torch, onnxscript,
skl2onnx: the networks are trained in a temporary folder by benchmarks/generalise_nets.py).

Twelve new MONK-1/2/3 networks (skl2onnx `MLPClassifier`, PyTorch TorchScript and dynamo
exports; other seeds and widths than the fixtures): a choosing set and a disjoint checking set.
Cells: fidelity to the network on MONK's 432 rows (leaves). `min_real` is the fewest real rows
a node must hold to be split; "default" is `min_real=None`, which is 1 when every feature is
discrete (here) and 4 otherwise. The old default was 4. Chosen on the choosing set (0 and 1 tie;
1 is the smaller change); the checking set is reported, not used. On the committed fixtures
(benchmarks/trepan.py's MONK rows) the trees are identical with 1 and 4; breast cancer, wine
and digits have continuous or integer features and keep 4 (on wine, 1 lost one held-out row of
54 at L = 8 and 16: 1.000 -> 0.981).

"""

# (exporter, hidden, seed): the choosing set and the checking set never share a network.
CHOOSE = [("skl", 8, 21), ("torchscript", 6, 22)]
CHECK = [("skl", 10, 31), ("dynamo", 12, 32)]


def make(problem: int, exporter: str, hidden: int, seed: int, out: Path) -> Path:
    data = load_monk(problem)
    path = out / f"monk{problem}_{exporter}_{hidden}_s{seed}.onnx"
    if path.exists():
        return path
    X = data.X_train.astype(np.float64)
    if exporter == "skl":
        _skl(X, data.y_train, (hidden,), seed, path, zipmap=False,
             alpha=1.0 if problem == 3 else 0.01)
    else:
        net = train_mlp(X, data.y_train, (hidden,), seed, epochs=400,
                           weight_decay=1e-2 if problem == 3 else 1e-3)
        _export_torch(net, 17, path, exporter == "dynamo")
    _names(path, data.feature_names)
    return path


def fidelity(path: Path, problem: int, min_real: int | None) -> tuple[float, int]:
    data = load_monk(problem)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = load(path)
        ex = TrepanExtractor(net, random_state=0, min_real=min_real).fit(
            data.X_train, feature_names=data.feature_names)
    tree = ex.surrogate_
    fid = float(np.mean(tree.predict(data.X_test) == net.predict(data.X_test)))
    return fid, int(sum(t is None for t in tree.tests))


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--candidates", default="0,1,2,3,4")
    p.add_argument("--write", action="store_true")
    args = p.parse_args(argv)
    cands = [int(c) for c in args.candidates.split(",")] + [None]
    out = args.out or Path(tempfile.mkdtemp(prefix="trepan_monk_"))
    out.mkdir(parents=True, exist_ok=True)
    heads = " | ".join("default" if m is None else f"min_real={m}" for m in cands)
    lines = [f"| set | network | {heads} |", "|---|---|" + "---|" * len(cands)]
    print("\n".join(lines), flush=True)
    summary = {}
    for name, nets in (("choose", CHOOSE), ("check", CHECK)):
        fids = {m: [] for m in cands}
        for problem in (1, 2, 3):
            for exporter, hidden, seed in nets:
                path = make(problem, exporter, hidden, seed, out)
                cells = []
                for m in cands:
                    f, leaves = fidelity(path, problem, m)
                    fids[m].append(f)
                    cells.append(f"{f:.3f} ({leaves})")
                lines.append(f"| {name} | {path.stem} | " + " | ".join(cells) + " |")
                print(lines[-1], flush=True)
        summary[name] = {m: (np.median(v), min(v)) for m, v in fids.items()}
    lines += ["", f"| set | {heads} |", "|---|" + "---|" * len(cands)]
    for name, s in summary.items():
        lines.append(f"| {name}: median / worst | "
                     + " | ".join(f"{s[m][0]:.3f} / {s[m][1]:.3f}" for m in cands) + " |")
    print("\n".join(lines[-4:]))
    if args.write:
        RESULT.write_text(HEADER + "\n".join(lines) + "\n")
        print(f"wrote {RESULT}")


if __name__ == "__main__":
    main()
