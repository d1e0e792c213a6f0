"""Throw-away networks for ``benchmarks/generalise.py`` (made in a temporary folder, never committed).

Each data set gets networks with other seeds and widths than the committed fixtures, exported
three ways: PyTorch's TorchScript exporter (``dynamo=False``), PyTorch's dynamo exporter and
skl2onnx (``MLPClassifier``, with its default ZipMap output on some). Needs torch, onnxscript
and skl2onnx (``pip install -e ".[train]" onnxscript``); they are imported here only.
"""

from __future__ import annotations

import csv
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

try:
    import onnx
    import torch
    from skl2onnx import to_onnx
    from sklearn.neural_network import MLPClassifier
except ImportError as exc:  # pragma: no cover - a benchmark, not a test
    raise SystemExit(
        f"benchmarks/generalise.py trains throw-away networks and needs torch, onnxscript and "
        f"skl2onnx ({exc}); install them with: pip install torch==2.13.0 onnxscript skl2onnx"
    ) from exc

from nnrules.datasets import load_monk, tabular_split
from nnrules.datasets.languages import TOMITA, sample_strings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
# The fixtures' MLP and its training (standardisation in the graph, ReLU, softmax head; Adam).
from make_tabular_fixtures import train_mlp  # noqa: E402


@dataclass
class Net:
    """One network to explain: its file, data files and how it was made."""

    data: str
    name: str
    exporter: str
    path: Path
    train: Path
    test: Path
    hidden: tuple[int, ...]
    named: bool  # feature names stored in the model's metadata
    layout: str = "table"  # "table", or "batch_first" / "time_first" for sequences
    extra: dict = field(default_factory=dict)


def write_csv(path: Path, names, X: np.ndarray, y: np.ndarray, *, integer: bool = False) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(list(names) + ["target"])
        for row, label in zip(X, y):
            cells = [str(int(v)) for v in row] if integer else [repr(float(v)) for v in row]
            writer.writerow(cells + [int(label)])


def _names(path: Path, names) -> None:
    model = onnx.load(str(path))
    onnx.helper.set_model_props(model, {"feature_names": ",".join(names)})
    onnx.save(model, str(path))


def logits_nets(name: str, out: Path, split_seed: int = 1) -> list[Net]:
    """Classifiers exported without their softmax (raw logits), TorchScript and dynamo."""
    sp = tabular_split(name, random_state=split_seed)
    folder = out / f"{name}_logits"
    folder.mkdir(parents=True, exist_ok=True)
    train, test = folder / "train.csv", folder / "test.csv"
    write_csv(train, sp.feature_names, sp.X_train, sp.y_train)
    write_csv(test, sp.feature_names, sp.X_test, sp.y_test)
    nets = []
    for sizes, seed, dynamo in (((10,), 4, False), ((12, 6), 5, True)):
        exporter = "dynamo" if dynamo else "torchscript"
        path = folder / f"logits_{exporter}_{'-'.join(map(str, sizes))}_s{seed}.onnx"
        if not path.exists():
            net = train_mlp(sp.X_train, sp.y_train, sizes, seed)
            net.softmax = False
            _export_torch(net, sp.X_train.shape[1], path, dynamo)
            _names(path, sp.feature_names)
        nets.append(Net(f"{name}_logits", path.stem, exporter + ", no softmax", path, train,
                        test, sizes, True))
    return nets


def _export_torch(net, d: int, path: Path, dynamo: bool) -> None:
    x = torch.zeros(1, d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dynamo:
            torch.onnx.export(net, (x,), str(path), input_names=["x"], output_names=["proba"],
                              dynamic_shapes={"x": {0: torch.export.Dim("batch")}},
                              dynamo=True, verbose=False)
        else:
            torch.onnx.export(net, (x,), str(path), input_names=["features"],
                              output_names=["probabilities"],
                              dynamic_axes={"features": {0: "batch"}, "probabilities": {0: "batch"}},
                              dynamo=False, opset_version=17)


def _skl(X, y, hidden, seed, path: Path, zipmap: bool, alpha=1e-3, scale=False):
    """skl2onnx export of an MLPClassifier (behind a StandardScaler with ``scale``)."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = MLPClassifier(hidden_layer_sizes=hidden, solver="lbfgs", alpha=alpha,
                            max_iter=1000, random_state=seed)
        if scale:
            net = make_pipeline(StandardScaler(), net)
        net.fit(X, y)
    clf = net.steps[-1][1] if scale else net
    options = None if zipmap else {id(clf): {"zipmap": False}}
    model = to_onnx(net, X[:1].astype(np.float32), target_opset=17, options=options)
    onnx.save(model, str(path))


def tabular_nets(name: str, out: Path, split_seed: int = 1) -> list[Net]:
    """Three networks on another split: torch (TorchScript, named), torch (dynamo), skl2onnx."""
    sp = tabular_split(name, random_state=split_seed)
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    train, test = folder / "train.csv", folder / "test.csv"
    write_csv(train, sp.feature_names, sp.X_train, sp.y_train)
    write_csv(test, sp.feature_names, sp.X_test, sp.y_test)
    d = sp.X_train.shape[1]
    nets = []
    wide = {"iris": (12,), "wine": (24,), "breast_cancer": (24,), "digits": (48,)}[name]
    deep = {"iris": (10, 6), "wine": (12, 8), "breast_cancer": (12, 6), "digits": (24, 16)}[name]
    for sizes, seed, dynamo in ((wide, 1, False), (deep, 2, True)):
        exporter = "dynamo" if dynamo else "torchscript"
        path = folder / f"torch_{exporter}_{'-'.join(map(str, sizes))}_s{seed}.onnx"
        if not path.exists():  # --keep: made by an earlier run
            _export_torch(train_mlp(sp.X_train, sp.y_train, sizes, seed), d, path, dynamo)
        if not dynamo:
            _names(path, sp.feature_names)
        nets.append(Net(name, path.stem, exporter, path, train, test, sizes, not dynamo))
    hidden = {"iris": (6,), "wine": (8,), "breast_cancer": (8,), "digits": (20,)}[name]
    path = folder / f"skl_{hidden[0]}_s3.onnx"
    if not path.exists():
        _skl(sp.X_train, sp.y_train, hidden, 3, path, zipmap=name in ("iris", "wine"), scale=True)
    _names(path, sp.feature_names)
    nets.append(Net(name, path.stem, "skl2onnx" + ("+zipmap" if name in ("iris", "wine") else ""),
                    path, train, test, hidden, True))
    return nets


def monk_nets(problem: int, out: Path) -> list[Net]:
    """MONK networks (17 one-hot inputs) with other seeds / widths; the 432 rows are held out."""
    data = load_monk(problem)
    folder = out / f"monk{problem}"
    folder.mkdir(parents=True, exist_ok=True)
    train, test = folder / "train.csv", folder / "test.csv"
    write_csv(train, data.feature_names, data.X_train, data.y_train, integer=True)
    write_csv(test, data.feature_names, data.X_test, data.y_test, integer=True)
    alpha = 1.0 if problem == 3 else 0.01
    nets = []
    for hidden, seed in (((6,), 7), ((12,), 11)):
        path = folder / f"skl_{hidden[0]}_s{seed}.onnx"
        if not path.exists():
            _skl(data.X_train.astype(np.float64), data.y_train, hidden, seed, path,
                 zipmap=False, alpha=alpha)
        _names(path, data.feature_names)
        nets.append(Net(f"monk{problem}", path.stem, "skl2onnx", path, train, test, hidden, True))
    for sizes, seed, dynamo in (((8,), 5, False), ((10,), 6, True)):
        exporter = "dynamo" if dynamo else "torchscript"
        path = folder / f"torch_{exporter}_{sizes[0]}_s{seed}.onnx"
        if not path.exists():
            net = train_mlp(data.X_train.astype(np.float64), data.y_train, sizes, seed,
                               epochs=400, weight_decay=1e-3 if problem != 3 else 1e-2)
            _export_torch(net, 17, path, dynamo)
        _names(path, data.feature_names)
        nets.append(Net(f"monk{problem}", path.stem, exporter, path, train, test, sizes, True))
    return nets


class _RNN(torch.nn.Module):
    """A GRU or LSTM (``kind``) over one-hot bits, batch first, and a softmax on its last
    state."""

    def __init__(self, kind: str, hidden: int):
        super().__init__()
        self.rnn = (torch.nn.LSTM if kind == "lstm" else torch.nn.GRU)(2, hidden,
                                                                       batch_first=True)
        self.head = torch.nn.Linear(hidden, 2)

    def forward(self, x):
        out, _ = self.rnn(x)
        return torch.softmax(self.head(out[:, -1]), dim=1)


def _onehot(strings: list[str], length: int | None = None) -> np.ndarray:
    length = length or max(len(s) for s in strings)
    X = np.zeros((len(strings), length, 2), dtype=np.float32)
    for i, s in enumerate(strings):
        # Left padding is not neutral for a GRU: only same-length batches are fed (below).
        for t, ch in enumerate(s):
            X[i, t, int(ch)] = 1.0
    return X


def tomita_strings(k: int, folder: Path, seed: int):
    """Tomita ``k``'s training strings (length 1..12, 300 accepted and 300 rejected asked for)
    and held-out ones (13..24, 150 and 150), sampled with ``seed`` and written to ``folder``.

    Returns the language, the two files and the training strings grouped by length.
    """
    lang = TOMITA[k]
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)

    def sample(lengths, n):
        pos = sample_strings(lang, lengths, n, accept=True, random_state=rng)
        neg = sample_strings(lang, lengths, n, accept=False, random_state=rng)
        return sorted(set(pos) | set(neg))

    train_s, test_s = sample(range(1, 13), 300), sample(range(13, 25), 150)
    train, test = folder / "train.txt", folder / "test.txt"
    train.write_text("\n".join(train_s) + "\n")
    test.write_text("\n".join(test_s) + "\n")
    by_len: dict[int, list[str]] = {}
    for s in train_s:
        by_len.setdefault(len(s), []).append(s)
    return lang, train, test, by_len


def train_rnn(kind: str, hidden: int, seed: int, lang, by_len: dict) -> _RNN:
    """An ``_RNN`` trained (seeded) on the strings ``by_len``, one batch per length: Adam
    (lr 0.02), 60 epochs; returned in eval mode."""
    torch.manual_seed(seed)
    net = _RNN(kind, hidden)
    opt = torch.optim.Adam(net.parameters(), lr=2e-2)
    batches = [(torch.tensor(_onehot(v)), torch.tensor([int(lang.accepts(s)) for s in v]))
               for v in by_len.values()]
    for _ in range(60):
        for xb, yb in batches:
            opt.zero_grad()
            torch.nn.functional.nll_loss(torch.log(net(xb) + 1e-9), yb).backward()
            opt.step()
    return net.eval()


def export_rnn(net: _RNN, path: Path, dynamo: bool, *, output: str, opset: int) -> None:
    """ONNX export with dynamic batch and time axes (``opset``: TorchScript's only)."""
    x = torch.zeros(1, 5, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dynamo:
            torch.onnx.export(net, (x,), str(path), input_names=["x"], output_names=[output],
                              dynamic_shapes={"x": {0: torch.export.Dim("batch"),
                                                    1: torch.export.Dim("time")}},
                              dynamo=True, verbose=False)
        else:
            torch.onnx.export(net, (x,), str(path), input_names=["x"], output_names=[output],
                              dynamic_axes={"x": {0: "batch", 1: "time"}, output: {0: "batch"}},
                              dynamo=False, opset_version=opset)


def tomita_nets(k: int, out: Path, hiddens=((8, 1), (12, 2))) -> list[Net]:
    """GRUs on Tomita ``k`` (seeded), TorchScript and dynamo; strings of length 1..12 / 13..24."""
    lang, train, test, by_len = tomita_strings(k, out / f"tomita{k}", k)
    nets = []
    for (hidden, seed), dynamo in zip(hiddens, (False, True)):
        exporter = "dynamo" if dynamo else "torchscript"
        path = train.parent / f"gru_{exporter}_{hidden}_s{seed}.onnx"
        nets.append(Net(f"tomita{k}", path.stem, exporter, path, train, test, (hidden,), False,
                        layout="batch_first", extra={"language": lang}))
        if not path.exists():
            export_rnn(train_rnn("gru", hidden, seed, lang, by_len), path, dynamo,
                       output="proba", opset=17)
    return nets
