"""Regular expression lengths for Tomita 1-7, before and after the readable-regex search.

Run from the repository root:

    python benchmarks/regex_lengths.py

"before" is state elimination in the greedy cheapest-first order alone (what nnrules printed
before); "after" is ``Automaton.to_regex(readable=True)``: the shortest of several elimination
orders, then rewrites kept only when the rewritten expression's DFA is equivalent (product
construction) to the automaton (``nnrules.surrogates.regex_search``). "exact" checks the printed
expression against the grammar's hand-written minimal DFA the same way. The network columns are
the regexes of the automata extracted (defaults, seed 0) from the committed GRU and LSTM
fixtures; the last row is Tomita 6's GRU extracted with ``tolerance=0`` (L* chases the
network's rare mistakes) without and with ``max_disagreement=0.01``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nnrules
from nnrules.datasets.languages import TOMITA
from nnrules.extract.automaton import AutomatonExtractor
from nnrules.io.sequences import read_sequences
from nnrules.surrogates.regex import eliminate, to_readable
from nnrules.surrogates.regex_search import same_language, shortest_regex

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "tomita"
OUT = ROOT / "benchmarks" / "results" / "readable_regex.md"
HAND = {1: "1*", 2: "(10)*", 3: "(0|11)*(1(00(00|1)*)?)?", 4: "(0?0?1)*0?0?",
        5: "((01|10)(00|11)*(01|10)|00|11)*", 6: "(01|(1|00)(10)*(11|0))*", 7: "0*1*0*1*"}


def _net_regex(name: str, **params) -> tuple[int, int | None]:
    train = read_sequences(FIXTURES / f"{name.split('_')[0]}_train.txt", alphabet="01")
    ex = AutomatonExtractor(nnrules.load(FIXTURES / f"{name}.onnx"), random_state=0,
                            **params).fit(train)
    s = ex.surrogate_
    return s.n_states, s.complexity()["regex_length"], s.notes.get("reduced")


def _code(text: str) -> str:
    """A code span that a Markdown table does not split at its ``|``."""
    return "`" + text.replace("|", "\\|") + "`"


def main() -> None:
    rows = [("| grammar | shortest hand-written | len | before | after | after / hand | exact | "
            "GRU net | LSTM net | printed (after) |"),
            "|---|---|---:|---:|---:|---:|---|---:|---:|---|"]
    for k, language in TOMITA.items():
        t = language.to_automaton()
        finals = t.output == 1
        before = to_readable(eliminate(t.delta, t.alphabet, t.start, finals))
        start = time.perf_counter()
        tree = shortest_regex(t.delta, t.alphabet, t.start, finals)
        after = to_readable(tree)
        exact = same_language(tree, t.delta, t.alphabet, t.start, finals)
        nets = [_net_regex(f"tomita{k}_{cell}")[1] for cell in ("gru", "lstm")]
        rows.append(f"| Tomita {k} | {_code(HAND[k])} | {len(HAND[k])} | {len(before)} | {len(after)} | "
                    f"{len(after) / len(HAND[k]):.2f} | {'yes' if exact else 'NO'} | "
                    f"{nets[0]} | {nets[1]} | {_code(after)} |")
        print(rows[-1], f"({time.perf_counter() - start:.2f} s)", file=sys.stderr)
    big = _net_regex("tomita6_gru", tolerance=0.0)
    small = _net_regex("tomita6_gru", tolerance=0.0, max_disagreement=0.01)
    info = small[2]
    text = ["## Readable regular expressions (Tomita 1-7)", "",
            ("Command: `python benchmarks/regex_lengths.py`. Lengths in characters of the readable "
            "form (plain parentheses). \"before\": greedy state-elimination order only; \"after\": "
            "order search plus rewrites, each checked equivalent to the DFA (product "
            "construction)."), "", *rows, "",
            ("Imperfect network (Tomita 6 GRU extracted with `tolerance=0`, so L* follows the "
            "network's rare mistakes):"), "",
            ("| extraction | states | regex length | disagreement with the network on the "
            "validation sequences |"), "|---|---:|---:|---:|",
            (f"| faithful (`tolerance=0`) | {big[0]} | {big[1]} | 0 by construction on the "
            "checked strings |"),
            (f"| `max_disagreement=0.01` | {small[0]} | {small[1]} | {info['disagreements']} of "
            f"{info['sequences']} ({info['disagreement']:.4%}) |"), ""]
    OUT.write_text("\n".join(text))
    print("\n".join(text))


if __name__ == "__main__":
    main()
