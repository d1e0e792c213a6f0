"""Readable regexes: shortest elimination order plus rewrites, each one checked exactly.

Ground truth: the Tomita grammars' hand-written minimal DFAs (``nnrules.datasets.languages``) and the
shortest hand-written expressions we know for them; the regex compiler (Glushkov + subsets) is
itself checked against Python's ``re`` on every short string.
"""

from __future__ import annotations

import itertools
import re
from functools import cache
from pathlib import Path

import numpy as np
import pytest

import nnrules
from nnrules.datasets.languages import TOMITA
from nnrules.extract.automaton import AutomatonExtractor
from nnrules.extract.engines.automaton_reduce import reduce_within
from nnrules.io.sequences import read_sequences
from nnrules.surrogates.automaton import Automaton, equivalent
from nnrules.surrogates.regex import alt, cat, eliminate, star, sym, to_python, to_readable
from nnrules.surrogates.regex_search import language_table, same_language, shortest_regex

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "tomita"


@cache
def _extract(name: str) -> AutomatonExtractor:
    train = read_sequences(FIXTURES / f"{name.split('_')[0]}_train.txt", alphabet="01")
    return AutomatonExtractor(nnrules.load(FIXTURES / f"{name}.onnx"), random_state=0).fit(train)

# The shortest expressions we could write by hand, in the same syntax (lengths are the bar).
HAND = {1: "1*", 2: "(10)*", 3: "(0|11)*(1(00(00|1)*)?)?", 4: "(0?0?1)*0?0?",
        5: "((01|10)(00|11)*(01|10)|00|11)*", 6: "(01|(1|00)(10)*(11|0))*", 7: "0*1*0*1*"}
STRINGS = ["".join(p) for n in range(11) for p in itertools.product("01", repeat=n)]


@pytest.mark.parametrize("k", sorted(TOMITA))
def test_hand_written_expressions_are_the_grammars(k):
    truth = TOMITA[k].to_automaton()
    matched = [re.fullmatch(HAND[k], s) is not None for s in STRINGS]
    np.testing.assert_array_equal(matched, truth.predict(STRINGS) == 1)


@pytest.mark.parametrize("k", sorted(TOMITA))
def test_tomita_regex_is_at_most_twice_the_hand_written_and_exact(k):
    truth = TOMITA[k].to_automaton()
    text = truth.to_regex(readable=True)
    assert len(text) <= 2 * len(HAND[k]), text
    tree = shortest_regex(truth.delta, truth.alphabet, truth.start, truth.output == 1)
    assert same_language(tree, truth.delta, truth.alphabet, truth.start, truth.output == 1)
    matched = [re.fullmatch(truth.to_regex(), s) is not None for s in STRINGS]
    np.testing.assert_array_equal(matched, truth.predict(STRINGS) == 1)


def test_tomita7_reads_as_written():
    assert TOMITA[7].to_automaton().to_regex(readable=True) == "0*1*0*1*"
    # The greedy elimination order alone gives a longer (equal) expression.
    t = TOMITA[7].to_automaton()
    plain = to_readable(eliminate(t.delta, t.alphabet, t.start, t.output == 1))
    assert len(plain) > len("0*1*0*1*")


@pytest.mark.parametrize("name", ["tomita5_gru", "tomita7_lstm"])
def test_network_fixtures_print_the_short_regex(name):
    k = int(name[6])
    assert len(_extract(name).surrogate_.to_regex(readable=True)) <= 2 * len(HAND[k])


@pytest.mark.parametrize("expr", [
    cat(sym("0"), star(sym("1"))), star(alt(cat(sym("0"), sym("1")), sym("1"))),
    alt(cat(star(sym("0")), sym("1")), cat(sym("1"), sym("0"), star(sym("0", "1")))),
])
def test_compiled_expression_matches_python_re(expr):
    table, accepting = language_table(expr, ("0", "1"))
    auto = Automaton(table, accepting.astype(int), alphabet=("0", "1"), classes=np.array([0, 1]))
    matched = [re.fullmatch(to_python(expr), s) is not None for s in STRINGS]
    np.testing.assert_array_equal(auto.predict(STRINGS) == 1, matched)


def test_a_wrong_expression_fails_the_check():
    t = TOMITA[7].to_automaton()
    wrong = cat(star(sym("0")), star(sym("1")), star(sym("0")))  # 0*1*0*: misses "01 01"
    assert not same_language(wrong, t.delta, t.alphabet, t.start, t.output == 1)


def test_star_collapses_inner_stars():
    a, b = sym("a"), sym("b")
    assert to_readable(star(alt(star(a), cat(b, a)))) == "(b?a)*"
    assert to_readable(star(cat(star(a), star(b)))) == "[ab]*"


def test_reduce_within_gives_the_small_automaton_of_an_imperfect_network():
    # tolerance=0 makes L* chase the network's rare mistakes into a large automaton;
    # max_disagreement shrinks it back to the grammar's, with the disagreement measured.
    language = TOMITA[6]
    train = read_sequences(FIXTURES / "tomita6_train.txt", alphabet="01")
    network = nnrules.load(FIXTURES / "tomita6_gru.onnx")
    big = AutomatonExtractor(network, tolerance=0.0, random_state=0).fit(train).surrogate_
    small = AutomatonExtractor(network, tolerance=0.0, max_disagreement=0.01,
                               random_state=0).fit(train).surrogate_
    assert big.n_states > 10
    info = small.notes["reduced"]
    assert info["states_before"] == big.n_states and info["states_after"] == small.n_states
    assert small.n_states == 3 and equivalent(small, language.to_automaton())
    assert 0 <= info["disagreement"] <= 0.01
    assert len(small.to_regex(readable=True)) <= 2 * len(HAND[6])


def test_reduce_within_respects_the_tolerance():
    truth = TOMITA[5].to_automaton()
    rng = np.random.default_rng(0)
    ids = [rng.integers(2, size=int(n)) for n in rng.integers(0, 12, size=300)]
    ref = np.array([truth.output[_walk(truth, s)] for s in ids])
    same, info = reduce_within(truth, ids, ref, tolerance=0.0)
    assert equivalent(same, truth) and info["disagreement"] == 0.0
    loose, info = reduce_within(truth, ids, ref, tolerance=0.4)
    assert loose.n_states < truth.n_states and info["disagreement"] <= 0.4
    wrong = np.mean([loose.output[_walk(loose, s)] != r for s, r in zip(ids, ref)])
    assert info["disagreement"] == pytest.approx(wrong)


def _walk(a: Automaton, seq) -> int:
    q = a.start
    for s in seq:
        q = int(a.delta[q, s])
    return q
