"""Labels of hidden-state combinations by the network's own answers (``setiono``'s table).

Setiono's hidden-states -> class table labels each combination of cluster indices by feeding
its cluster centres forward. When the hidden units are not saturated, that discretised copy
of the network answers differently from the network on many rows, and rules describing the
copy inherit the difference. :func:`network_labels` instead labels every combination that
occurs on the training rows by the majority of the **network's** answers on the rows that
fall in it (ties: the centre-fed label when it is among the most frequent, else the lowest
class index); combinations seen on no row keep the centre-fed label. :func:`table_lookup`
gives the class the table holds for any rows' combinations, so the rules can be checked
against what they describe.
"""

from __future__ import annotations

import numpy as np

from nnrules.surrogates.rules import Condition

__all__ = ["hidden_clauses", "network_labels", "table_lookup"]


def _index(D: np.ndarray, states: np.ndarray) -> np.ndarray:
    """Row of ``D`` holding each row of ``states`` (-1 when absent)."""
    if D.shape[1] == 0:
        return np.zeros(len(states), dtype=np.int64) if len(D) else \
            np.full(len(states), -1, dtype=np.int64)
    table = {tuple(row): i for i, row in enumerate(D.tolist())}
    return np.array([table.get(tuple(row), -1) for row in states.tolist()], dtype=np.int64)


def network_labels(D: np.ndarray, centre_classes: np.ndarray, observed: np.ndarray,
                   labels: np.ndarray, n_classes: int) -> tuple[np.ndarray, int]:
    """Each occurring combination's class as the network's majority on its rows.

    Parameters
    ----------
    D : ndarray of int, shape (m, u)
        The table's combinations of cluster indices.
    centre_classes : ndarray of int, shape (m,)
        Their classes with the centres fed forward.
    observed : ndarray of int, shape (n, u)
        The combination of every training row.
    labels : ndarray of int, shape (n,)
        The network's class index on every training row.
    n_classes : int

    Returns
    -------
    classes : ndarray of int, shape (m,)
    relabelled : int
        How many combinations changed class.
    """
    classes = np.asarray(centre_classes, dtype=np.int64).copy()
    where = _index(D, observed)
    seen = where >= 0
    votes = np.zeros((len(D), n_classes), dtype=np.int64)
    np.add.at(votes, (where[seen], labels[seen]), 1)
    for i in np.flatnonzero(votes.sum(axis=1)):
        best = np.flatnonzero(votes[i] == votes[i].max())
        classes[i] = classes[i] if classes[i] in best else int(best[0])
    return classes, int(np.sum(classes != centre_classes))


def table_lookup(D: np.ndarray, classes: np.ndarray, states: np.ndarray,
                 fallback: np.ndarray) -> np.ndarray:
    """The table's class for each row of ``states``; ``fallback`` where it holds none."""
    where = _index(D, states)
    return np.where(where >= 0, np.asarray(classes)[np.maximum(where, 0)], fallback)


def hidden_clauses(covers: dict, default: int, units: list[int],
                   boundaries: list[tuple[float, ...]]) -> list[tuple[tuple, int]]:
    """The table's DNF as clauses on the hidden activations: each cube of ``covers[k]`` (a
    set of cluster indices per kept unit, an interval) as conditions ``h[j] > b`` /
    ``h[j] <= b`` on the cluster boundaries, with class ``k``; the default class's cubes are
    left out (it is the else)."""
    out = []
    for k in sorted(covers):
        if k == default:
            continue
        for cube in covers[k]:
            clause = []
            for a, j in enumerate(units):
                lo, hi, b = min(cube[a]), max(cube[a]), boundaries[a]
                if lo > 0:
                    clause.append(Condition(j, ">", b[lo - 1]))
                if hi < len(b):
                    clause.append(Condition(j, "<=", b[hi]))
            out.append((tuple(clause), k))
    return out
