"""Automaton extraction beside AALpy's L* with the same network as its system under learning.

Run from the repository root (needs AALpy, only for this benchmark: ``pip install -e .[bench]``):

    python benchmarks/automaton.py

For every committed recurrent fixture (Tomita 1-7, GRU and LSTM, a stacked GRU, and the token-id
decimal-number GRU) both learners get the same ONNX network:

- **nnrules**: ``AutomatonExtractor`` with its defaults (white-box k-means abstraction of the
  hidden states, then L* refined against it and against sampled strings up to twice the longest
  extraction string), extraction strings from ``tomita{k}_train.txt``.
- **AALpy**: ``run_Lstar`` (DFA, Rivest-Schapire counterexample processing, its cache), the
  network wrapped as a ``SUL`` whose ``step`` asks the network about the prefix read so far
  (through a fresh, cached ``SequenceOracle``: one onnxruntime call per new prefix, the usual
  way to put a recurrent network behind AALpy's step interface), and a ``RandomWordEqOracle``
  of 2000 random words of lengths 1..2x the longest extraction string (the same sampling budget
  and range as nnrules' equivalence check). Python's ``random`` is seeded per network.

"exact" means equivalent (product construction) to the grammar's hand-written minimal DFA;
fidelity is agreement with the network on the held-out strings of ``tomita{k}_test.txt`` (all
longer than the extraction strings), with a Wilson 95% interval. "net calls" counts sequences
the network was asked about. Seconds are wall time of one extraction.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

import numpy as np

import nnrules
from nnrules.datasets.languages import DECIMAL, TOMITA
from nnrules.extract.automaton import AutomatonExtractor
from nnrules.fidelity import wilson_interval
from nnrules.io.sequences import read_sequences
from nnrules.oracles import SequenceOracle
from nnrules.surrogates.automaton import Automaton, equivalent

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "tomita"
OUT = ROOT / "benchmarks" / "results" / "automaton.md"
N_WALKS = 2000
NOTES = """Notes: nnrules' equivalence check passes when the hypothesis disagrees with the network on at
most `tolerance` = 0.1% of the checked strings, so a network's isolated mistakes on long strings
do not grow the automaton; AALpy chases every disagreement its random words find (on
`tomita3_lstm` it learned 14 states that encode some of the network's mistakes and miss others).
AALpy's SUL answers through the step interface, one network call per new prefix; nnrules
batches each round's membership queries by length, and reads the white-box states and answers
of all prefixes from one run per extraction sequence (the recurrent ops' per-step output `Y`,
then the classifier head per prefix length; "net calls" counts whole-network sequences). `tomita7_gru` is 99.95% accurate on its
larger held-out set; both learners recover the grammar and the 0.25% disagreement is the
network's own errors.
"""


def networks() -> list[str]:
    accuracy = json.loads((FIXTURES / "accuracy.json").read_text())
    return sorted(accuracy, key=lambda n: (n.startswith("decimal"), n))


def _aalpy_learn(network, alphabet: tuple[str, ...], longest: int, seed: int):
    from aalpy.base import SUL
    from aalpy.learning_algs import run_Lstar
    from aalpy.oracles import RandomWordEqOracle

    oracle = SequenceOracle(network, alphabet=alphabet)
    index = {a: i for i, a in enumerate(alphabet)}

    class NetworkSUL(SUL):
        def __init__(self) -> None:
            super().__init__()
            self.prefix: list[int] = []

        def pre(self) -> None:
            self.prefix = []

        def post(self) -> None:
            self.prefix = []

        def step(self, letter):
            if letter is not None:
                self.prefix.append(index[letter])
            return bool(oracle.classify([np.array(self.prefix, dtype=np.int64)])[0])

    random.seed(seed)
    sul = NetworkSUL()
    eq = RandomWordEqOracle(list(alphabet), sul, num_walks=N_WALKS, min_walk_len=1,
                            max_walk_len=2 * longest)
    start = time.perf_counter()
    dfa = run_Lstar(list(alphabet), sul, eq, automaton_type="dfa", print_level=0)
    seconds = time.perf_counter() - start
    states = list(dfa.states)
    number = {id(s): i for i, s in enumerate(states)}
    delta = np.array([[number[id(s.transitions[a])] for a in alphabet] for s in states])
    output = np.array([int(s.is_accepting) for s in states])
    auto = Automaton(delta, output, alphabet=alphabet, classes=np.array([0, 1]),
                     start=number[id(dfa.initial_state)]).minimize()
    return auto, seconds, oracle.n_queries


def _fidelity(network, auto: Automaton, test) -> tuple[float, tuple[float, float]]:
    truth = SequenceOracle(network, alphabet=test.alphabet).predict(test)
    k = int(np.sum(auto.predict(test) == truth))
    return k / len(test), wilson_interval(k, len(test))


def main() -> None:
    rows = []
    totals = {"ours": [0, 0.0], "aalpy": [0, 0.0]}
    for name in networks():
        prefix = name.split("_")[0]
        language = DECIMAL if prefix == "decimal" else TOMITA[int(prefix[6:])]
        alphabet = "".join(language.alphabet)
        network = nnrules.load(FIXTURES / f"{name}.onnx")
        train = read_sequences(FIXTURES / f"{prefix}_train.txt", alphabet=alphabet)
        test = read_sequences(FIXTURES / f"{prefix}_test.txt", alphabet=alphabet)
        truth = language.to_automaton()

        start = time.perf_counter()
        extractor = AutomatonExtractor(network, random_state=0).fit(train)
        ours_s = time.perf_counter() - start
        ours = extractor.surrogate_
        theirs, theirs_s, theirs_q = _aalpy_learn(network, train.alphabet,
                                                  int(train.lengths.max()), seed=0)
        row = [name, truth.n_states]
        for key, auto, secs, calls in (("ours", ours, ours_s, extractor.n_queries_),
                                       ("aalpy", theirs, theirs_s, theirs_q)):
            fid, (lo, hi) = _fidelity(network, auto, test)
            exact = equivalent(auto, truth)
            totals[key][0] += exact
            totals[key][1] += secs
            row += [auto.n_states, "yes" if exact else "no", f"{fid:.4f} [{lo:.3f}, {hi:.3f}]",
                    f"{secs:.2f}", calls]
        rows.append(row)
        print(" | ".join(map(str, row)), file=sys.stderr, flush=True)

    head = ("| network | minimal DFA states | nnrules states | exact | fidelity [95% CI] | "
            "seconds | net calls | AALpy states | exact | fidelity [95% CI] | seconds | "
            "net calls |")
    lines = [
        "# Automata from recurrent networks: nnrules vs AALpy L*",
        "",
        ("Command: `python benchmarks/automaton.py` (AALpy "
        f"{_aalpy_version()}; the same ONNX network is nnrules' oracle and AALpy's SUL, in "
        "the same run). Exact = equivalent to the grammar's minimal DFA (product construction);"
        " fidelity on the held-out strings of `tomita{k}_test.txt`, all longer than the "
        "extraction strings. Goal: exact automata at least as often as AALpy, in less time."),
        "",
        head,
        "|" + "---|" * 12,
    ]
    lines += ["| " + " | ".join(map(str, r)) + " |" for r in rows]
    n = len(rows)
    lines += [
        "",
        (f"Exact: nnrules {totals['ours'][0]}/{n}, AALpy {totals['aalpy'][0]}/{n}. "
        f"Total seconds: nnrules {totals['ours'][1]:.1f}, AALpy {totals['aalpy'][1]:.1f} "
        f"(ratio {totals['aalpy'][1] / max(totals['ours'][1], 1e-9):.1f}x)."),
        "",
    ]
    text = "\n".join(lines) + "\n" + NOTES
    print(text)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text)


def _aalpy_version() -> str:
    from importlib.metadata import version

    return version("aalpy")


if __name__ == "__main__":
    main()
