"""Train small GRU / LSTM classifiers on the Tomita grammars and export them to ONNX (seeded).

Writes tests/fixtures/tomita/:
- ``tomita{k}_{cell}.onnx``: one-hot input, output ``proba`` of shape (batch, 2) (softmax over
  reject / accept). GRU models read batch-first ``[batch, time, 2]``; LSTM models read
  time-first ``[time, batch, 2]`` (both layouts are then covered by the fixtures).
  ``tomita5_gru2`` is a stacked two-layer GRU. All are TorchScript exports (ONNX GRU / LSTM ops,
  GRU with ``linear_before_reset=1``) except ``tomita4_gru_dynamo``, the Tomita 4 GRU again
  through the dynamo exporter (needs onnxscript).
- ``tomita{k}_train.txt``: a sample of training strings (length 1..15), one per line.
- ``tomita{k}_test.txt``: held-out strings of length 16..30, balanced, with near misses.
- ``accuracy.json``: every network's accuracy on a larger held-out set (lengths 16..30).

Run: ``python scripts/make_tomita.py`` (about 3 minutes on 2 cores; torch 2.13.0).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from nnrules.datasets.languages import TOMITA, Language, sample_strings

SEED = 0
OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "tomita"
TRAIN_LENGTHS = range(1, 16)
TEST_LENGTHS = range(16, 31)


def mutations(strings: list[str], language: Language, rng: np.random.Generator) -> list[str]:
    """Near misses: one symbol flipped, inserted or deleted, kept when the label changes."""
    out = []
    for s in strings:
        if not s:
            continue
        i = int(rng.integers(len(s)))
        a = language.alphabet[int(rng.integers(len(language.alphabet)))]
        kind = int(rng.integers(3))
        t = s[:i] + a + s[i + 1:] if kind == 0 else (s[:i] + a + s[i:] if kind == 1 else s[:i] + s[i + 1:])
        if t and language.accepts(t) != language.accepts(s):
            out.append(t)
    return out


def dataset(language: Language, lengths, n: int, rng) -> tuple[list[str], np.ndarray]:
    pos = sample_strings(language, lengths, n, accept=True, random_state=rng)
    neg = sample_strings(language, lengths, n, accept=False, random_state=rng)
    # Near misses stay within the lengths asked for, so held-out strings are all longer.
    near = [t for t in mutations(pos * 2, language, rng) if len(t) in lengths]
    strings = sorted(set(pos) | set(neg) | set(near))
    labels = np.array([int(language.accepts(s)) for s in strings])
    return strings, labels


def one_hot(strings: list[str], alphabet) -> np.ndarray:
    index = {a: i for i, a in enumerate(alphabet)}
    ids = np.array([[index[c] for c in s] for s in strings])
    return np.eye(len(alphabet), dtype=np.float32)[ids]


class Net(nn.Module):
    def __init__(self, cell: str, hidden: int, layers: int, batch_first: bool) -> None:
        super().__init__()
        kind = nn.GRU if cell == "gru" else nn.LSTM
        self.rnn = kind(2, hidden, num_layers=layers, batch_first=batch_first)
        self.head = nn.Linear(hidden, 2)
        self.lstm = cell == "lstm"

    def logits(self, x):
        _, h = self.rnn(x)
        if self.lstm:
            h = h[0]
        return self.head(h[-1])

    def forward(self, x):
        return torch.softmax(self.logits(x), dim=-1)


def buckets(strings, labels, alphabet, batch_first):
    by_len: dict[int, list[int]] = {}
    for i, s in enumerate(strings):
        by_len.setdefault(len(s), []).append(i)
    out = []
    for idx in by_len.values():
        x = torch.tensor(one_hot([strings[i] for i in idx], alphabet))
        if not batch_first:
            x = x.transpose(0, 1)
        out.append((x, torch.tensor(labels[idx], dtype=torch.long)))
    return out


def accuracy(net, data) -> float:
    with torch.no_grad():
        right = sum(int((net.logits(x).argmax(-1) == y).sum()) for x, y in data)
    return right / sum(len(y) for _, y in data)


def train(k: int, cell: str, layers: int, seed: int, train_set, test_set) -> tuple[Net, float]:
    torch.manual_seed(seed)
    batch_first = cell == "gru"
    net = Net(cell, 16, layers, batch_first)
    tr = buckets(*train_set, ("0", "1"), batch_first)
    te = buckets(*test_set, ("0", "1"), batch_first)
    rng = np.random.default_rng(seed)
    return fit_until_perfect(net, tr, te, torch.zeros(1, 16),
                             torch.tensor([int(TOMITA[k].accepts(""))]), 250, rng)


def fit_until_perfect(net, tr, te, zero, eps_label, epochs: int, rng, *,
                      check_empty: bool = True) -> tuple[nn.Module, float]:
    """Adam on the length buckets ``tr`` until train and held-out ``te`` accuracy are 1.0
    (and, with ``check_empty``, the empty string is right), checked every 5 epochs; returns
    the best held-out state (evaluation mode) and its accuracy."""
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    best, best_state = -1.0, None
    for epoch in range(epochs):
        for j in rng.permutation(len(tr)):
            x, y = tr[j]
            opt.zero_grad()
            loss = nn.functional.cross_entropy(net.logits(x), y)
            # The empty string: the head on the initial (zero) state. Torch and ONNX runtimes
            # cannot run a zero-length sequence, so train the answer there explicitly.
            loss = loss + nn.functional.cross_entropy(net.head(zero), eps_label)
            loss.backward()
            opt.step()
        if epoch % 5 == 4:
            acc = accuracy(net, te)
            if acc > best:
                best, best_state = acc, {n: v.clone() for n, v in net.state_dict().items()}
            eps_ok = not check_empty or int(net.head(zero).argmax()) == int(eps_label[0])
            if acc == 1.0 and accuracy(net, tr) == 1.0 and eps_ok:
                break
    net.load_state_dict(best_state)
    return net.eval(), best


def export(net: Net, path: Path, batch_first: bool, dynamo: bool = False) -> None:
    dummy = torch.zeros((3, 5, 2) if batch_first else (5, 3, 2))
    axes = {0: "batch", 1: "time"} if batch_first else {0: "time", 1: "batch"}
    if dynamo:  # torch.export-based exporter (needs onnxscript): initial state built in-graph
        dims = {i: torch.export.Dim(name) for i, name in axes.items()}
        torch.onnx.export(net, (dummy,), str(path), input_names=["x"], output_names=["proba"],
                          dynamic_shapes={"x": dims}, dynamo=True, opset_version=18)
        # One self-contained file: fold the weights the exporter wrote beside it back in.
        import onnx

        model = onnx.load(str(path))
        onnx.save(model, str(path), save_as_external_data=False)
        Path(str(path) + ".data").unlink(missing_ok=True)
        return
    torch.onnx.export(
        net, (dummy,), str(path), input_names=["x"], output_names=["proba"],
        dynamic_axes={"x": axes, "proba": {0: "batch"}}, dynamo=False, opset_version=17,
    )


def main(only: list[int]) -> None:
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    report_path = OUT / "accuracy.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    for k in only:
        language = TOMITA[k]
        rng = np.random.default_rng(SEED + k)
        train_set = dataset(language, TRAIN_LENGTHS, 60, rng)
        test_set = dataset(language, TEST_LENGTHS, 100, rng)
        # Small committed files: a sample of the training strings and a held-out sample.
        pick = np.sort(rng.choice(len(train_set[0]), size=min(300, len(train_set[0])), replace=False))
        (OUT / f"tomita{k}_train.txt").write_text("".join(train_set[0][i] + "\n" for i in pick))
        pick = np.sort(rng.choice(len(test_set[0]), size=min(400, len(test_set[0])), replace=False))
        (OUT / f"tomita{k}_test.txt").write_text("".join(test_set[0][i] + "\n" for i in pick))
        variants = [("gru", 1), ("lstm", 1)] + ([("gru2", 2)] if k == 5 else [])
        for name, layers in variants:
            cell = name.rstrip("2")
            start = time.perf_counter()
            # A few seeds at most: keep the first network that is exact on the held-out set.
            best = (None, -1.0)
            for attempt in range(3):
                seed = SEED + 100 * attempt + 10 * k + layers
                net, acc = train(k, cell, layers, seed, train_set, test_set)
                if acc > best[1]:
                    best = (net, acc)
                if acc == 1.0:
                    break
            net, acc = best
            path = OUT / f"tomita{k}_{name}.onnx"
            export(net, path, cell == "gru")
            report[f"tomita{k}_{name}"] = {
                "grammar": k, "cell": cell, "layers": layers, "hidden": 16,
                "layout": "batch-first" if cell == "gru" else "time-first",
                "heldout_accuracy": acc, "heldout_strings": len(test_set[0]),
                "heldout_lengths": [TEST_LENGTHS.start, TEST_LENGTHS.stop - 1],
                "train_strings": len(train_set[0]),
                "train_lengths": [TRAIN_LENGTHS.start, TRAIN_LENGTHS.stop - 1],
            }
            print(f"tomita{k}_{name}: held-out accuracy {acc:.4f} "
                  f"({time.perf_counter() - start:.1f} s)", flush=True)
            if k == 4 and name == "gru":
                # The same network through the dynamo exporter: a second graph shape to read.
                export(net, OUT / f"tomita{k}_gru_dynamo.onnx", True, dynamo=True)
                report[f"tomita{k}_gru_dynamo"] = {**report[f"tomita{k}_{name}"],
                                                   "export": "dynamo"}
            report_path.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or list(TOMITA))
