"""Regular languages with known answers: the Tomita grammars and a decimal-number pattern.

Each language is given twice, independently: as a minimal DFA (a transition table written by
hand) and as a predicate written from the textual definition in BENCHMARKS.md. The tests check
the two agree on every string up to length 12, so the tables can serve as ground truth when an
extracted automaton is checked for exact equivalence.

Examples
--------
>>> from nnrules.datasets.languages import TOMITA
>>> TOMITA[3].accepts("100110"), TOMITA[3].accepts("1100")
(False, True)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from nnrules.exceptions import ParameterError

if TYPE_CHECKING:
    from nnrules.surrogates.automaton import Automaton

__all__ = ["DECIMAL", "TOMITA", "Language", "sample_strings"]


@dataclass(frozen=True)
class Language:
    """A regular language as a complete DFA plus an independent definition.

    Attributes
    ----------
    name : str
    description : str
    alphabet : tuple of str
        One-character symbols, in the order the networks' one-hot columns use.
    delta : tuple of tuple of int
        ``delta[q][a]`` is the state after reading symbol ``alphabet[a]`` in state ``q``.
    accepting : frozenset of int
    definition : callable str -> bool
        The language written from its definition (not from the table).
    start : int
    """

    name: str
    description: str
    alphabet: tuple[str, ...]
    delta: tuple[tuple[int, ...], ...]
    accepting: frozenset[int]
    definition: Callable[[str], bool]
    start: int = 0

    @property
    def n_states(self) -> int:
        return len(self.delta)

    def accepts(self, string: str) -> bool:
        """Run the DFA on ``string`` (characters of ``alphabet``)."""
        index = {a: i for i, a in enumerate(self.alphabet)}
        state = self.start
        for ch in string:
            state = self.delta[state][index[ch]]
        return state in self.accepting

    def to_automaton(self) -> Automaton:
        """This DFA as a surrogate ``Automaton`` with outputs 1 (accept) and 0 (reject)."""
        from nnrules.surrogates.automaton import Automaton

        out = np.array([int(q in self.accepting) for q in range(self.n_states)])
        return Automaton.from_table(
            np.asarray(self.delta, dtype=np.int64), out, alphabet=self.alphabet,
            classes=np.array([0, 1]), start=self.start,
        ).minimize()


def _runs(s: str) -> list[tuple[str, int]]:
    return [(m.group()[0], len(m.group())) for m in re.finditer(r"0+|1+", s)]


def _tomita3(s: str) -> bool:
    # Reject when an odd run of 1s is followed, anywhere later, by an odd run of 0s.
    seen_odd_ones = False
    for symbol, length in _runs(s):
        if symbol == "1" and length % 2:
            seen_odd_ones = True
        elif symbol == "0" and length % 2 and seen_odd_ones:
            return False
    return True


_B = ("0", "1")
TOMITA: dict[int, Language] = {
    1: Language("tomita1", "1*", _B, ((1, 0), (1, 1)), frozenset({0}),
                lambda s: re.fullmatch("1*", s) is not None),
    2: Language("tomita2", "(10)*", _B, ((2, 1), (0, 2), (2, 2)), frozenset({0}),
                lambda s: re.fullmatch("(10)*", s) is not None),
    # 0: no odd 1-run yet / even, 1: odd 1-run open, 2: odd 0-run open after one,
    # 3: flag set and even 0-run (or inside 1s), 4: sink.
    3: Language("tomita3", "no odd run of 0s anywhere after an odd run of 1s", _B,
                ((0, 1), (2, 0), (3, 4), (2, 3), (4, 4)), frozenset({0, 1, 3}), _tomita3),
    4: Language("tomita4", "no 000 substring", _B,
                ((1, 0), (2, 0), (3, 0), (3, 3)), frozenset({0, 1, 2}),
                lambda s: "000" not in s),
    5: Language("tomita5", "even number of 0s and even number of 1s", _B,
                ((1, 2), (0, 3), (3, 0), (2, 1)), frozenset({0}),
                lambda s: s.count("0") % 2 == 0 and s.count("1") % 2 == 0),
    6: Language("tomita6", "(number of 0s - number of 1s) divisible by 3", _B,
                ((1, 2), (2, 0), (0, 1)), frozenset({0}),
                lambda s: (s.count("0") - s.count("1")) % 3 == 0),
    7: Language("tomita7", "0*1*0*1*", _B,
                ((0, 1), (2, 1), (2, 3), (4, 3), (4, 4)), frozenset({0, 1, 2, 3}),
                lambda s: re.fullmatch("0*1*0*1*", s) is not None),
}

# A simplified decimal number over a small character alphabet: -?[012]+(\.[012]+)?
# 0: start, 1: after '-', 2: integer digits (accept), 3: after '.', 4: fraction (accept), 5: sink.
_D = ("-", ".", "0", "1", "2")
DECIMAL = Language(
    "decimal", r"-?[012]+(\.[012]+)?", _D,
    ((1, 5, 2, 2, 2), (5, 5, 2, 2, 2), (5, 3, 2, 2, 2), (5, 5, 4, 4, 4), (5, 5, 4, 4, 4),
     (5, 5, 5, 5, 5)),
    frozenset({2, 4}),
    lambda s: re.fullmatch(r"-?[012]+(\.[012]+)?", s) is not None,
)


def _counts(language: Language, length: int, accept: bool) -> np.ndarray:
    """``c[n, q]``: strings of length n from state q that end accepted (or rejected)."""
    delta = np.asarray(language.delta)
    c = np.zeros((length + 1, language.n_states), dtype=object)  # exact big integers
    c[0] = [int((q in language.accepting) == accept) for q in range(language.n_states)]
    for n in range(1, length + 1):
        c[n] = c[n - 1][delta].sum(axis=1)
    return c


def sample_strings(
    language: Language,
    lengths: Sequence[int],
    n_per_length: int,
    *,
    accept: bool,
    random_state: int | np.random.Generator | None = None,
) -> list[str]:
    """Strings drawn uniformly among those of each length the language accepts (or rejects).

    Parameters
    ----------
    language : Language
    lengths : sequence of int
        Lengths to draw; a length with no such strings contributes none.
    n_per_length : int
        Strings per length (with replacement).
    accept : bool
        Draw members (True) or non-members (False).
    random_state : int, Generator or None

    Returns
    -------
    list of str
    """
    if n_per_length < 0:
        raise ParameterError(f"n_per_length must be >= 0; got {n_per_length!r}.")
    rng = np.random.default_rng(random_state)
    delta = np.asarray(language.delta)
    longest = max(lengths, default=0)
    counts = _counts(language, longest, accept)
    out: list[str] = []
    for length in lengths:
        if counts[length, language.start] == 0:
            continue
        for _ in range(n_per_length):
            state, chars = language.start, []
            for remaining in range(length, 0, -1):
                weights = np.array([float(counts[remaining - 1, q]) for q in delta[state]])
                a = int(rng.choice(len(weights), p=weights / weights.sum()))
                chars.append(language.alphabet[a])
                state = int(delta[state, a])
            out.append("".join(chars))
    return out
