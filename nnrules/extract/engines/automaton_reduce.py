"""The smallest automaton that stays within a disagreement budget on given sequences.

A network that is not exactly regular (a few long strings answered wrongly) gives a faithful
automaton with many states and a regular expression too long to print. A person usually wants
the small automaton that agrees with the network on nearly everything, with the disagreement
measured. :func:`reduce_within` finds one greedily:

1. Start from the (minimised) faithful automaton.
2. For every ordered pair of states ``(q, p)``, the candidate "remove ``q``": every transition
   into ``q`` goes to ``p`` instead (the result stays deterministic and complete).
3. Pairs with equal outputs are tried first; the first removal that adds no disagreement with
   the reference answers is taken at once, else the candidate with the fewest disagreements
   (ties: fewest states after minimisation, then the smallest ``(q, p)``), if its disagreement
   rate is at most ``tolerance``; minimise; repeat. Stop when no candidate fits.

The disagreement is measured on the sequences given (the extractor's validation sequences:
random ones up to twice the longest extraction sequence, the extraction sequences and their
one-symbol mutations), and reported with the result.

Examples
--------
>>> import numpy as np
>>> from nnrules.surrogates.automaton import Automaton
>>> from nnrules.extract.engines.automaton_reduce import reduce_within
>>> # "an even number of 1s, or at least three": wrong, on the data, about "111"
>>> auto = Automaton(np.array([[0, 1], [1, 2], [2, 3], [3, 2]]), np.array([1, 0, 1, 1]),
...                  alphabet=("0", "1"), classes=np.array([0, 1]))
>>> ids = [np.array(s, dtype=np.int64) for s in ([1, 1], [1, 0, 1], [0], [1], [1, 1, 1])]
>>> small, info = reduce_within(auto, ids, np.array([1, 1, 1, 0, 0]), tolerance=0.0)
>>> small.n_states, info["states_before"], info["disagreement"]
(2, 3, 0.0)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nnrules.surrogates.automaton import Automaton

__all__ = ["MAX_REDUCE_STATES", "reduce_within"]

MAX_REDUCE_STATES = 256  # larger automata are returned as they are (n^2 candidates per step)


def _run(delta: np.ndarray, output: np.ndarray, start: int, padded: np.ndarray,
         mask: np.ndarray) -> np.ndarray:
    states = np.full(padded.shape[0], start, dtype=np.int64)
    for t in range(padded.shape[1]):
        live = mask[:, t]
        states[live] = delta[states[live], padded[live, t]]
    return output[states]


def _pairs(a: Automaton):
    """(q, p) pairs to try, states with the same output first, each group in index order."""
    n = a.n_states
    same = [(q, p) for q in range(n) for p in range(n) if p != q and a.output[p] == a.output[q]]
    other = [(q, p) for q in range(n) for p in range(n) if a.output[p] != a.output[q]]
    return same + other


def reduce_within(automaton: Automaton, ids: list[np.ndarray], reference: np.ndarray, *,
                  tolerance: float) -> tuple[Automaton, dict[str, Any]]:
    """Greedy state removal while the disagreement with ``reference`` stays within ``tolerance``.

    Parameters
    ----------
    automaton : Automaton
    ids : list of int arrays
        Sequences as symbol indices into ``automaton.alphabet``.
    reference : ndarray of shape (n_sequences,)
        Class indices (into ``automaton.classes``) the network gives each sequence.
    tolerance : float in [0, 1)
        Largest disagreement rate accepted.

    Returns
    -------
    (Automaton, dict)
        The reduced, minimised automaton and what was done: ``states_before``,
        ``states_after``, ``disagreement`` (rate on the sequences), ``disagreements`` (count),
        ``sequences``, ``tolerance``.
    """
    reference = np.asarray(reference, dtype=np.int64)
    n_seq = len(ids)
    lengths = np.array([len(s) for s in ids], dtype=np.int64)
    width = int(lengths.max(initial=0))
    padded = np.zeros((n_seq, width), dtype=np.int64)
    mask = np.arange(width) < lengths[:, None]
    if n_seq and width:
        padded[mask] = np.concatenate([np.asarray(s, dtype=np.int64) for s in ids])
    current = automaton.minimize()
    before = current.n_states
    budget = int(np.floor(tolerance * n_seq + 1e-9))

    def wrong(a: Automaton) -> int:
        return int((_run(a.delta, a.output, a.start, padded, mask) != reference).sum())

    errors = wrong(current)
    while 1 < current.n_states <= MAX_REDUCE_STATES:
        best: tuple[int, int, int, int] | None = None
        best_auto: Automaton | None = None
        n = current.n_states
        for q, p in _pairs(current):
            if best is not None and best[0] <= errors:
                break  # a removal that costs nothing: take the first one found
            delta = np.where(current.delta == q, p, current.delta)
            start = p if current.start == q else current.start
            errs = int((_run(delta, current.output, start, padded, mask) != reference).sum())
            if errs > budget or (best is not None and errs > best[0]):
                continue
            cand = Automaton(delta, current.output, alphabet=current.alphabet,
                             classes=current.classes, start=start).minimize()
            key = (errs, cand.n_states, q, p)
            if best is None or key < best:
                best, best_auto = key, cand
        if best_auto is None or best_auto.n_states >= n:
            break
        current, errors = best_auto, best[0]
    current.notes = dict(automaton.notes)
    info = {"tolerance": float(tolerance), "states_before": int(before),
            "states_after": int(current.n_states), "sequences": int(n_seq),
            "disagreements": int(errors),
            "disagreement": float(errors / n_seq) if n_seq else 0.0}
    return current, info
