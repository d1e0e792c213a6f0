"""Labels of hidden-state combinations by the network's own answers (``setiono``'s table).

Setiono's hidden-states -> class table labels each combination of cluster indices by feeding
its cluster centres forward. When the hidden units are not saturated, that discretised copy
of the network answers differently from the network on many rows, and rules describing the
copy inherit the difference. :func:`network_labels` instead labels every combination that
occurs on the training rows by the majority of the **network's** answers on the rows that
fall in it (ties: the centre-fed label when it is among the most frequent, else the lowest
class index); combinations seen on no row keep the centre-fed label. :func:`table_lookup`
gives the class the table holds for any rows' combinations, so the rules can be checked
against what they describe; :func:`held_out_lookup` the class each training row gets from the
other rows, so a table that merely memorises its rows is not taken for one that fits them.
"""

from __future__ import annotations

import math

import numpy as np

from nnrules.surrogates.rules import Condition

__all__ = ["held_out_lookup", "hidden_clauses", "network_labels", "state_table", "table_changes",
           "table_lookup"]


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


def held_out_lookup(D: np.ndarray, observed: np.ndarray, labels: np.ndarray,
                    centred: np.ndarray, n_classes: int) -> np.ndarray:
    """Each row's class from the table labelled by :func:`network_labels` on the *other* rows:
    its combination's majority of the network's answers without its own (ties as there), the
    centre-fed class ``centred`` when no other row shares it or ``D`` lacks it. A table that
    only memorises rows (one combination per row) answers as the centres do."""
    n = len(observed)
    row = _index(D, observed)
    votes = np.zeros((len(D) + 1, n_classes), dtype=np.int64)
    np.add.at(votes, (row, labels), 1)  # row -1: combinations D does not hold
    others = votes[row]
    others[np.arange(n), labels] -= 1
    top = others.max(axis=1)
    held = np.where(others[np.arange(n), centred] == top, centred, others.argmax(axis=1))
    return np.where((others.sum(axis=1) == 0) | (row < 0), centred, held).astype(np.int64)


def table_changes(table: dict, net, pruned, X: np.ndarray, labels: np.ndarray,
                  n_classes: int) -> tuple[float, int]:
    """How far the network-labelled ``table`` (``setiono``'s ``table_``) of the clustered
    ``net`` is from the ``pruned`` copy on the rows ``X`` (``labels``: the network's answers):
    the share of the rows it changes as labelled, and the rows it changes held out
    (:func:`held_out_lookup`)."""
    observed = net.states(X)[:, table["units"]]
    centred, reference = net.predict_discrete(X), pruned.predict(X)
    labelled = table_lookup(table["states"], table["classes"], observed, centred)
    held = held_out_lookup(table["states"], observed, labels, centred, n_classes)
    return float(np.mean(labelled != reference)), int(np.sum(held != reference))


def hidden_clauses(covers: dict, default: int, units: list[int],
                   boundaries: list[tuple[float, ...]], *, of_default: bool = False
                   ) -> list[tuple[tuple, int]]:
    """The table's DNF as clauses on the hidden activations: each cube of ``covers[k]`` (a
    set of cluster indices per kept unit, an interval) as conditions ``h[j] > b`` /
    ``h[j] <= b`` on the cluster boundaries, with class ``k``; the default class's cubes are
    left out (it is the else), or, with ``of_default``, only they are given."""
    out = []
    for k in sorted(covers):
        if (k == default) != of_default:
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


def state_table(net, X: np.ndarray, labels: np.ndarray, n_classes: int, *,
                max_combinations: int, how: str, tick=None) -> tuple[dict, list, int, list]:
    """Setiono's hidden states -> class table of a clustered :class:`OneLayerNet`, as DNFs.

    Every combination of the kept units' cluster indices when there are at most
    ``max_combinations``, else those seen on the training rows (the most frequent
    ``max_combinations``); each labelled by its centres fed forward, or with
    ``how="network"`` by :func:`network_labels`. Each class's combinations become a short DNF
    (:func:`~nnrules.extract.decompose.cover.cover`); the class with the most cubes is the
    default.

    Returns
    -------
    (table, hidden_rules, default, reasons, default_rules)
        ``table``: ``units``, ``states``, ``classes``, ``complete``, ``labels``,
        ``relabelled``; ``hidden_rules``: :func:`hidden_clauses`; ``reasons``: what the cap
        cut (for the partial report); ``default_rules``: the default class's own clauses
        (candidates when the rules on the inputs are learned, not exact).
    """
    import itertools

    from nnrules.extract.decompose.cover import cover

    units = [j for j, c in enumerate(net.clusters) if c is not None]
    sizes = [net.clusters[j].n_clusters for j in units]
    total = math.prod(int(s) for s in sizes) if units else 1
    observed = net.states(X)[:, units]
    complete = total <= max_combinations
    reasons: list[str] = []
    if complete:
        D = np.array(list(itertools.product(*[range(s) for s in sizes])), dtype=np.int64)
        D = D.reshape(total, len(units))
    else:
        D, counts = np.unique(observed, axis=0, return_counts=True)
        if len(D) > max_combinations:
            keep = np.sort(np.argsort(-counts, kind="stable")[:max_combinations])
            reasons.append(
                f"table: {len(D)} distinct hidden states on the training rows, more than "
                f"max_combinations={max_combinations}; the most frequent kept")
            D = D[keep]
    Hc = np.zeros((len(D), net.n_hidden))
    for a, j in enumerate(units):
        Hc[:, j] = np.asarray(net.clusters[j].centres)[D[:, a]]
    cls = net.classes_of_hidden(Hc) if len(D) else np.zeros(0, dtype=np.int64)
    relabelled = 0
    if how == "network":
        cls, relabelled = network_labels(D, cls, observed, labels, n_classes)
    covers = {}
    for k in range(n_classes):
        if np.any(cls == k):
            covers[k] = cover(D, cls == k, sizes=sizes, ordered=[True] * len(units), tick=tick)
    counts = np.bincount(labels, minlength=n_classes)
    default = max(covers, key=lambda k: (len(covers[k]), counts[k], -k)) if covers else \
        int(np.argmax(counts))
    boundaries = [net.clusters[j].boundaries for j in units]
    hidden_rules = hidden_clauses(covers, default, units, boundaries)
    default_rules = hidden_clauses(covers, default, units, boundaries, of_default=True)
    table = {"units": units, "states": D, "classes": cls, "complete": complete,
             "labels": how, "relabelled": relabelled}
    return table, hidden_rules, default, reasons, default_rules
