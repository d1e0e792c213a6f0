"""Angluin's L* for Moore machines, with the network answering membership queries.

The observation table keeps prefixes ``S`` with pairwise different rows (so it is always
consistent) and suffixes ``E``; a counterexample adds all its suffixes to ``E`` (Maler &
Pnueli), which splits at least one state. Every round fills the table's missing cells with one
batched call to ``classify``. Weiss, Goldberg & Yahav (ICML 2018) use the same loop with a
recurrent network as the teacher.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["LStarResult", "lstar", "sample_by_output"]

Word = tuple[int, ...]


@dataclass
class LStarResult:
    """What L* learned: a transition table, outputs, and how it ended."""

    delta: np.ndarray
    output: np.ndarray
    rounds: int
    counterexamples: list[Word] = field(default_factory=list)
    stopped: str = "equivalent"  # or "queries", "seconds", "states"


def lstar(
    classify: Callable[[Sequence[np.ndarray]], np.ndarray],
    n_symbols: int,
    equivalence: Callable[[np.ndarray, np.ndarray], Word | None],
    *,
    queries: Callable[[], int],
    max_queries: int,
    max_seconds: float,
    max_states: int,
    progress: bool = False,
) -> LStarResult:
    """Learn a Moore machine from membership and equivalence queries.

    Parameters
    ----------
    classify : callable
        Class indices of token-index sequences, shape (n,).
    n_symbols : int
    equivalence : callable (delta, output) -> word or None
        A sequence the hypothesis gets wrong, or None when none was found.
    queries : callable () -> int
        Queries spent so far (for the budget).
    max_queries, max_seconds, max_states : budgets; when one runs out, the last hypothesis is
        returned with ``stopped`` naming the budget.
    progress : bool
        Show a tqdm bar of rounds.
    """
    start = time.perf_counter()
    table: dict[Word, int] = {}
    S: list[Word] = [()]
    E: list[Word] = [()]
    result = LStarResult(np.zeros((1, n_symbols), dtype=np.int64), np.zeros(1, np.int64), 0)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(desc="L* rounds", unit="round")

    def fill(words: list[Word]) -> None:
        todo = sorted({w for w in words if w not in table})
        if todo:
            labels = classify([np.array(w, dtype=np.int64) for w in todo])
            table.update(zip(todo, labels.tolist(), strict=True))

    def row(w: Word) -> tuple[int, ...]:
        return tuple(table[w + e] for e in E)

    while True:
        result.rounds += 1
        if bar is not None:
            bar.update(1)
        # Close the table: every one-symbol extension's row must be some S row.
        full = False
        while True:
            ext = [s + (a,) for s in S for a in range(n_symbols)]
            fill([w + e for w in S + ext for e in E])
            rows = {row(s): i for i, s in enumerate(S)}
            new = next((t for t in ext if row(t) not in rows), None)
            if new is None:
                break
            if len(S) >= max_states:
                # No room for another state: unclosed rows go to state 0 below.
                full = True
                break
            S.append(new)
        fill([s + (a,) + e for s in S for a in range(n_symbols) for e in E])
        rows = {row(s): i for i, s in enumerate(S)}
        delta = np.array([[rows.get(row(s + (a,)), 0) for a in range(n_symbols)] for s in S],
                         dtype=np.int64)
        output = np.array([table[s] for s in S], dtype=np.int64)
        result.delta, result.output = delta, output
        if full:
            result.stopped = "states"
            break
        if queries() > max_queries:
            result.stopped = "queries"
            break
        if time.perf_counter() - start > max_seconds:
            result.stopped = "seconds"
            break
        cex = equivalence(delta, output)
        if cex is None:
            result.stopped = "equivalent"
            break
        result.counterexamples.append(tuple(cex))
        for i in range(len(cex) + 1):
            suffix = tuple(cex[i:])
            if suffix not in E:
                E.append(suffix)
    if bar is not None:
        bar.close()
    return result


def sample_by_output(delta: np.ndarray, output: np.ndarray, start: int, lengths: Sequence[int],
                     n_per_length: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Sequences drawn so that each output class of the automaton is equally represented.

    For every length and every class the automaton can produce at that length, draw
    ``n_per_length`` sequences uniformly among those it gives that class (path counting), so
    that rare classes, e.g. the few members of a sparse language, are tested as often as
    common ones. Vectorised over the sequences of one (length, class) pair.
    """
    n, k = delta.shape
    longest = max(lengths, default=0)
    out: list[np.ndarray] = []
    for c in np.unique(output):
        # counts[m, q]: fraction-free path counts, normalised per step to avoid overflow.
        counts = np.zeros((longest + 1, n))
        counts[0] = output == c
        for m in range(1, longest + 1):
            counts[m] = counts[m - 1][delta].sum(axis=1)
            top = counts[m].max()
            if top > 0:
                counts[m] /= top
        for length in lengths:
            if counts[length, start] <= 0:
                continue
            states = np.full(n_per_length, start)
            word = np.zeros((n_per_length, length), dtype=np.int64)
            for t in range(length):
                weights = counts[length - t - 1][delta[states]]  # (m, k)
                weights = weights / weights.sum(axis=1, keepdims=True)
                pick = (rng.random((n_per_length, 1)) > np.cumsum(weights, axis=1)).sum(axis=1)
                pick = np.minimum(pick, k - 1)
                word[:, t] = pick
                states = delta[states, pick]
            out.extend(word)
    return out
