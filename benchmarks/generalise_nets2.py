"""Second set of throw-away networks for ``benchmarks/generalise.py --variant 2``.

Unlike the first set (``generalise_nets.py``): other seeds and training subsets, deeper (2-3
hidden layers), very narrow (2-4 units) and wide (128) networks; tanh, sigmoid, LeakyReLU and
GELU activations; float64 and batch-fixed (``[1, d]``) exports; opsets 11, 13 and 18;
skl2onnx ``MLPClassifier`` with ``tanh`` / ``logistic`` activations and a Pipeline with a
``OneHotEncoder`` over MONK's raw attributes; LSTMs and narrow / wide GRUs on Tomita.
Made in a temporary folder, never committed. Needs torch, onnxscript and skl2onnx.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

try:
    import onnx
    import torch
    from skl2onnx import to_onnx
    from sklearn.neural_network import MLPClassifier
except ImportError as exc:  # pragma: no cover - a benchmark, not a test
    raise SystemExit(f"generalise_nets2 needs torch, onnxscript and skl2onnx ({exc})") from exc

from generalise_nets import (Net, _names, export_rnn, tomita_strings, train_mlp, train_rnn,
                             write_csv)
from nnrules.datasets import load_monk, tabular_split

def _export(net, d, path: Path, how: str, *, opset=17, dtype=torch.float32) -> None:
    """``how``: "torchscript", "dynamo" or "fixed" (TorchScript, batch fixed to 1)."""
    x = torch.zeros(1, d, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if how == "dynamo":
            torch.onnx.export(net, (x,), str(path), input_names=["x"], output_names=["y"],
                              dynamic_shapes={"x": {0: torch.export.Dim("batch")}},
                              dynamo=True, verbose=False, opset_version=opset)
        else:
            axes = None if how == "fixed" else {"input": {0: "n"}, "output": {0: "n"}}
            torch.onnx.export(net, (x,), str(path), input_names=["input"],
                              output_names=["output"], dynamic_axes=axes, dynamo=False,
                              opset_version=opset)


def _torch_net(folder, data, X, y, names, spec, *, named=True, epochs=300, wd=1e-4):
    """spec: (sizes, seed, act, how, opset, dtype name, softmax)."""
    sizes, seed, act, how, opset, dt, softmax = spec
    dtype = torch.float64 if dt == "f64" else torch.float32
    tag = f"{act}_{how}_{'-'.join(map(str, sizes))}_s{seed}_o{opset}" + (
        "_f64" if dt == "f64" else "") + ("" if softmax else "_logits")
    path = folder / f"{tag}.onnx"
    if not path.exists():
        net = train_mlp(X, y, sizes, seed, epochs=epochs, weight_decay=wd, act=act,
                        dtype=dtype)
        net.softmax = softmax
        _export(net, X.shape[1], path, how, opset=opset, dtype=dtype)
    if named:
        _names(path, names)
    label = f"{how} opset {opset}" + (" float64" if dt == "f64" else "") + (
        "" if softmax else ", no softmax")
    return Net(data, tag, label, path, folder / "train.csv", folder / "test.csv", sizes, named)


def _skl_net(folder, data, X, y, names, hidden, seed, act, *, zipmap=False, alpha=1e-3,
             opset=15):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    path = folder / f"skl_{act}_{'-'.join(map(str, hidden))}_s{seed}.onnx"
    if not path.exists():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf = MLPClassifier(hidden_layer_sizes=hidden, activation=act, solver="lbfgs",
                                alpha=alpha, max_iter=2000, random_state=seed)
            model = make_pipeline(StandardScaler(), clf).fit(X, y)
        options = None if zipmap else {id(clf): {"zipmap": False}}
        onnx.save(to_onnx(model, X[:1].astype(np.float32), target_opset=opset, options=options),
                  str(path))
    _names(path, names)
    return Net(data, path.stem, f"skl2onnx {act}" + (" +zipmap" if zipmap else ""), path,
               folder / "train.csv", folder / "test.csv", hidden, True)


TABULAR = {  # torch specs then skl2onnx specs, per data set
    "iris": ([((3,), 31, "sigmoid", "torchscript", 11, "f32", True),
              ((16, 16, 8), 32, "tanh", "dynamo", 18, "f32", True),
              ((8,), 33, "relu", "torchscript", 17, "f64", True)],
             [((128,), 34, "logistic", True)]),
    "wine": ([((4,), 41, "leaky", "fixed", 13, "f32", True),
              ((32, 16), 42, "gelu", "dynamo", 18, "f32", True)],
             [((2,), 43, "tanh", False)]),
    "breast_cancer": ([((32,), 51, "gelu", "torchscript", 17, "f32", False),
                       ((2,), 52, "relu", "torchscript", 13, "f32", True),
                       ((64, 32, 16), 53, "leaky", "dynamo", 18, "f32", False)],
                      [((3,), 54, "logistic", False)]),
    "digits": ([((128,), 61, "relu", "torchscript", 13, "f32", True),
                ((32, 16), 62, "tanh", "fixed", 17, "f32", True)],
               [((16, 8), 63, "logistic", False)]),
}


def tabular_nets2(name: str, out: Path, split_seed: int = 7) -> list[Net]:
    sp = tabular_split(name, random_state=split_seed)
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(folder / "train.csv", sp.feature_names, sp.X_train, sp.y_train)
    write_csv(folder / "test.csv", sp.feature_names, sp.X_test, sp.y_test)
    torch_specs, skl_specs = TABULAR[name]
    nets = [_torch_net(folder, name, sp.X_train, sp.y_train, sp.feature_names, s,
                       named=s[3] != "dynamo") for s in torch_specs]
    nets += [_skl_net(folder, name, sp.X_train, sp.y_train, sp.feature_names, h, seed, act,
                      zipmap=z) for h, seed, act, z in skl_specs]
    return nets


MONK = {
    1: [((4,), 71, "tanh", "torchscript", 13, "f32", True),
        ((8, 4), 72, "sigmoid", "dynamo", 18, "f32", True)],
    2: [((128,), 73, "leaky", "torchscript", 17, "f32", True),
        ((16, 8, 4), 74, "relu", "fixed", 17, "f32", True)],
    3: [((2,), 75, "tanh", "torchscript", 11, "f32", True),
        ((32,), 76, "gelu", "dynamo", 18, "f32", True),
        ((6,), 77, "relu", "torchscript", 17, "f64", True)],
}
MONK_SKL = {1: ((3,), 78, "logistic"), 2: ((3,), 79, "tanh"), 3: ((4, 4), 80, "tanh")}


def monk_nets2(problem: int, out: Path) -> list[Net]:
    """Another training subset (random_state 1000 + problem); the 432 rows are held out."""
    data = load_monk(problem, random_state=1000 + problem)
    folder = out / f"monk{problem}"
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(folder / "train.csv", data.feature_names, data.X_train, data.y_train, integer=True)
    write_csv(folder / "test.csv", data.feature_names, data.X_test, data.y_test, integer=True)
    wd = 1e-2 if problem == 3 else 1e-3
    nets = [_torch_net(folder, f"monk{problem}", data.X_train.astype(np.float64), data.y_train,
                       data.feature_names, s, epochs=500, wd=wd) for s in MONK[problem]]
    hidden, seed, act = MONK_SKL[problem]
    nets.append(_skl_net(folder, f"monk{problem}", data.X_train.astype(np.float64), data.y_train,
                         data.feature_names, hidden, seed, act,
                         alpha=1.0 if problem == 3 else 0.01))
    return nets


def monk_pipeline_net(problem: int, out: Path) -> Net:
    """skl2onnx Pipeline(OneHotEncoder, MLPClassifier) over MONK's six raw attributes."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    data = load_monk(problem, random_state=2000 + problem)
    names = [f"a{i}" for i in range(1, 7)]

    def raw(X):  # one-hot rows back to the attribute values 1..k
        cols, start = [], 0
        for k in (3, 3, 2, 3, 4, 2):
            cols.append(X[:, start:start + k].argmax(axis=1) + 1)
            start += k
        return np.stack(cols, axis=1).astype(np.float64)

    folder = out / f"monk{problem}_raw"
    folder.mkdir(parents=True, exist_ok=True)
    Xtr, Xte = raw(data.X_train), raw(data.X_test)
    write_csv(folder / "train.csv", names, Xtr, data.y_train, integer=True)
    write_csv(folder / "test.csv", names, Xte, data.y_test, integer=True)
    path = folder / "skl_onehot_pipeline_8.onnx"
    if not path.exists():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf = MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=2000,
                                alpha=1.0 if problem == 3 else 0.01, random_state=problem)
            model = make_pipeline(OneHotEncoder(handle_unknown="ignore"), clf)
            model.fit(Xtr, data.y_train)
        onnx.save(to_onnx(model, Xtr[:1].astype(np.float32), target_opset=15,
                          options={id(clf): {"zipmap": False}}), str(path))
    _names(path, names)
    return Net(f"monk{problem}_raw", path.stem, "skl2onnx OneHotEncoder pipeline", path,
               folder / "train.csv", folder / "test.csv", (8,), True)


TOMITA_SPECS = (("lstm", 4, 81, "torchscript"), ("lstm", 16, 82, "dynamo"),
                ("gru", 3, 83, "torchscript"), ("gru", 32, 84, "torchscript"))


def tomita_nets2(k: int, out: Path, specs=TOMITA_SPECS) -> list[Net]:
    lang, train, test, by_len = tomita_strings(k, out / f"tomita{k}", 100 + k)
    nets = []
    for kind, hidden, seed, how in specs:
        path = train.parent / f"{kind}_{how}_{hidden}_s{seed}.onnx"
        nets.append(Net(f"tomita{k}", path.stem, how, path, train, test, (hidden,), False,
                        layout="batch_first", extra={"language": lang}))
        if not path.exists():
            export_rnn(train_rnn(kind, hidden, seed, lang, by_len), path, how == "dynamo",
                       output="p", opset=14)
    return nets
