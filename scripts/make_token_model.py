"""Train a token-id classifier (embedding -> GRU -> linear) on a decimal-number pattern (seeded).

The language is ``-?[012]+(\\.[012]+)?`` over the alphabet ``-.012`` (token ids 0..4 in that
order). Writes tests/fixtures/tomita/:
- ``decimal_gru.onnx``: int64 input ``ids`` of shape (batch, time), output ``proba`` (batch, 2);
- ``decimal_train.txt`` (lengths 1..12) and ``decimal_test.txt`` (lengths 13..24);
- ``decimal_test.npy``: the held-out strings as token ids, -1 padded;
- an entry ``decimal_gru`` in ``accuracy.json``.

Run: ``python scripts/make_token_model.py`` (under a minute).
"""

from __future__ import annotations

import json

import numpy as np
import torch
from make_tomita import (  # scripts/ is on sys.path when run as a script
    OUT,
    dataset,
    fit_until_perfect,
)
from torch import nn

from nnrules.datasets.languages import DECIMAL

SEED = 7
TRAIN_LENGTHS = range(1, 13)
TEST_LENGTHS = range(13, 25)


class Net(nn.Module):
    def __init__(self, vocab: int, hidden: int = 24) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, 8)
        self.rnn = nn.GRU(8, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 2)

    def logits(self, ids):
        _, h = self.rnn(self.emb(ids))
        return self.head(h[-1])

    def forward(self, ids):
        return torch.softmax(self.logits(ids), dim=-1)


def buckets(strings, labels):
    index = {a: i for i, a in enumerate(DECIMAL.alphabet)}
    by_len: dict[int, list[int]] = {}
    for i, s in enumerate(strings):
        by_len.setdefault(len(s), []).append(i)
    return [(torch.tensor([[index[c] for c in strings[i]] for i in idx]),
             torch.tensor(labels[idx], dtype=torch.long)) for idx in by_len.values()]


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    train_set = dataset(DECIMAL, TRAIN_LENGTHS, 80, rng)
    test_set = dataset(DECIMAL, TEST_LENGTHS, 60, rng)
    tr, te = buckets(*train_set), buckets(*test_set)
    net = Net(len(DECIMAL.alphabet))
    net, best = fit_until_perfect(net, tr, te, torch.zeros(1, 24), torch.tensor([0]), 300, rng,
                                  check_empty=False)
    torch.onnx.export(
        net, (torch.zeros((3, 5), dtype=torch.long),), str(OUT / "decimal_gru.onnx"),
        input_names=["ids"], output_names=["proba"],
        dynamic_axes={"ids": {0: "batch", 1: "time"}, "proba": {0: "batch"}},
        dynamo=False, opset_version=17,
    )
    pick = np.sort(rng.choice(len(train_set[0]), size=min(300, len(train_set[0])), replace=False))
    (OUT / "decimal_train.txt").write_text("".join(train_set[0][i] + "\n" for i in pick))
    pick = np.sort(rng.choice(len(test_set[0]), size=min(300, len(test_set[0])), replace=False))
    held = [test_set[0][i] for i in pick]
    (OUT / "decimal_test.txt").write_text("".join(s + "\n" for s in held))
    index = {a: i for i, a in enumerate(DECIMAL.alphabet)}
    ids = np.full((len(held), max(map(len, held))), -1, dtype=np.int64)
    for r, s in enumerate(held):
        ids[r, :len(s)] = [index[c] for c in s]
    np.save(OUT / "decimal_test.npy", ids)
    path = OUT / "accuracy.json"
    report = json.loads(path.read_text()) if path.exists() else {}
    report["decimal_gru"] = {
        "grammar": "decimal", "cell": "gru", "layers": 1, "hidden": 24, "layout": "batch-first",
        "input": "int64 token ids via Embedding (Gather)", "heldout_accuracy": best,
        "heldout_strings": len(test_set[0]), "heldout_lengths": [13, 24],
        "train_strings": len(train_set[0]), "train_lengths": [1, 12],
    }
    path.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    print(f"decimal_gru: held-out accuracy {best:.4f}")


if __name__ == "__main__":
    main()
