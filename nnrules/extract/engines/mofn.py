"""Split search for TREPAN: the best single test, then a beam search over m-of-n tests.

An m-of-n test holds when at least ``m`` of its ``n`` conditions hold ("at least 2 of {a1 = 1,
a2 = 1, a3 = 1}"). Following Craven & Shavlik (1996), the search starts from the best single
conditions and repeatedly applies two operators to every test in the beam:

- *m-of-(n+1)*: add a condition, keep ``m`` (the test gets looser);
- *(m+1)-of-(n+1)*: add a condition and raise ``m`` (the test gets stricter).

The beam keeps the ``beam_width`` best tests seen so far; the search stops when a round finds
no better test or the tests reach ``max_conditions`` conditions. Every candidate of a round is
scored at once: with ``c`` the per-row count of a beam test's satisfied conditions and ``L`` the
0/1 matrix of every literal on every row, the candidates are the columns of ``c + L >= m``.

The search explores by raw gain, but a larger test must earn its conditions to be *chosen*
(Craven & Shavlik grow an m-of-n test only when the gain improvement is large enough): every
condition beyond the first must multiply the gain by at least ``1 + min_gain_ratio``. Of all
tests scored, the one with the largest ``gain / (1 + min_gain_ratio) ** (n - 1)`` wins (ties go
to fewer conditions), so a test with ``k`` more conditions than another replaces it only when
its gain is at least ``(1 + min_gain_ratio) ** k`` times larger. ``min_gain_ratio=0`` keeps the
test with the largest gain whatever its size.

Tests are scored by information gain on the node's examples (real rows and labelled queries).
The literal pool holds, for every feature, its best threshold test in both directions
(``x <= t`` and ``x > t``; one-hot and binary columns give ``== 1`` only), and
``x == code`` for every code of a categorical feature.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SplitResult", "best_split", "entropy_gain"]

# A larger test must beat the best smaller one by this much gain (bits) to replace it.
_MIN_IMPROVEMENT = 1e-9


@dataclass(frozen=True)
class SplitResult:
    """The chosen test at a node.

    Attributes
    ----------
    m : int
        Threshold of the test (1 for a single condition).
    literals : tuple of (int, str, float)
        ``(feature, op, value)`` of each condition.
    gain : float
        Information gain in bits on the node's examples.
    mask : ndarray of shape (n,), bool
        Where the test holds on those examples.
    """

    m: int
    literals: tuple[tuple[int, str, float], ...]
    gain: float
    mask: np.ndarray


def _entropy(counts: np.ndarray) -> np.ndarray:
    """Entropy in bits of class counts along the last axis."""
    total = counts.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(total > 0, counts / np.where(total > 0, total, 1), 0.0)
        logs = np.where(p > 0, np.log2(np.where(p > 0, p, 1)), 0.0)
    return -(p * logs).sum(axis=-1)


def entropy_gain(H: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Information gain of candidate splits.

    Parameters
    ----------
    H : ndarray of shape (n, p), bool
        Where each of ``p`` candidate tests holds.
    Y : ndarray of shape (n, k), float
        One-hot class indicators of the ``n`` examples.

    Returns
    -------
    ndarray of shape (p,)
    """
    left = Y.T @ H.astype(np.float64)
    return _gain_from_left(left.T, Y.sum(axis=0))


def _gain_from_left(left: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Gain of splits given the class counts (p, k) of their left sides."""
    n = total.sum()
    nl = left.sum(axis=1)
    gain = _entropy(total) - (nl * _entropy(left) + (n - nl) * _entropy(total - left)) / n
    # Splits that leave one side empty gain nothing.
    return np.where((nl > 0) & (nl < n), gain, -np.inf)


def _best_thresholds(X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best ``x <= t`` threshold of every column (exact, CART-style), and its gain."""
    n, d = X.shape
    order = np.argsort(X, axis=0, kind="stable")
    Xs = np.take_along_axis(X, order, axis=0)
    left = np.cumsum(Y[order], axis=0)[:-1]  # (n-1, d, k): rows 0..i go left
    total = Y.sum(axis=0)
    nl = np.arange(1, n, dtype=np.float64)[:, None]
    gain = _entropy(total) - (nl * _entropy(left) + (n - nl) * _entropy(total - left)) / n
    gain = np.where(Xs[1:] > Xs[:-1], gain, -np.inf)
    if n < 2:
        return np.zeros(d), np.full(d, -np.inf)
    best = np.argmax(gain, axis=0)
    cols = np.arange(d)
    thresholds = (Xs[best, cols] + Xs[best + 1, cols]) / 2.0
    return thresholds, gain[best, cols]


def _literal_pool(
    X: np.ndarray, Y: np.ndarray, kinds: tuple[str, ...], categories: dict[int, int]
) -> tuple[list[tuple[int, str, float]], np.ndarray, np.ndarray]:
    """Candidate conditions, their truth on the examples (n, p) and their single-test gains."""
    thresholds, gains = _best_thresholds(X, Y)
    literals: list[tuple[int, str, float]] = []
    columns: list[np.ndarray] = []
    for j, kind in enumerate(kinds):
        if kind == "categorical":
            for code in range(categories.get(j, 0)):
                hit = X[:, j] == code
                if hit.any() and not hit.all():
                    literals.append((j, "==", float(code)))
                    columns.append(hit)
            continue
        if not np.isfinite(gains[j]):
            continue
        t = float(thresholds[j])
        below = X[:, j] <= t
        if kind in ("onehot", "binary"):
            # Only "== 1": an m-of-n test over "== 0" literals is the negation of one over
            # "== 1" literals (the same split), and mixing both forms reads badly.
            literals.append((j, ">", 0.5))
            columns.append(~below)
        else:
            literals += [(j, "<=", t), (j, ">", t)]
            columns += [below, ~below]
    if not literals:
        return [], np.zeros((X.shape[0], 0), dtype=bool), np.zeros(0)
    L = np.column_stack(columns)
    return literals, L, entropy_gain(L, Y)


def _negation(lit: tuple[int, str, float]) -> tuple[int, str, float]:
    flip = {"<=": ">", ">": "<=", "==": "!=", "!=": "=="}
    return (lit[0], flip[lit[1]], lit[2])


def best_split(
    X: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    *,
    kinds: tuple[str, ...],
    categories: dict[int, int] | None = None,
    mofn: bool = True,
    beam_width: int = 3,
    max_conditions: int = 8,
    min_gain_ratio: float = 0.0,
) -> SplitResult | None:
    """The best test at a node: a single condition, or an m-of-n test when it gains more.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        The node's examples (real rows and queries).
    y : ndarray of shape (n,), int
        Class indices (the network's answers).
    n_classes : int
    kinds : tuple of str, length d
        Schema kinds of the columns.
    categories : dict int -> int, optional
        Number of codes of each categorical column.
    mofn : bool, default=True
        Search m-of-n tests; False keeps single conditions.
    beam_width : int >= 1, default=3
    max_conditions : int >= 1, default=8
        Largest ``n`` of an m-of-n test.
    min_gain_ratio : float >= 0, default=0.0
        Relative gain every condition beyond the first must add for a larger test to be chosen
        (see the module docstring).

    Returns
    -------
    SplitResult or None
        None when no test separates the examples with positive gain.
    """
    Y = np.eye(n_classes)[np.asarray(y, dtype=np.int64)]
    literals, L, gains = _literal_pool(np.asarray(X, dtype=np.float64), Y, kinds,
                                       categories or {})
    if not literals or not np.any(gains > _MIN_IMPROVEMENT):
        return None
    top = int(np.argmax(gains))
    best = (float(gains[top]), 1, (top,))
    if not mofn or max_conditions < 2:
        return _result(best, literals, L)
    class_total = Y.sum(axis=0)
    neg = {lit: i for i, lit in enumerate(literals)}
    partner = np.array([neg.get(_negation(lit), -1) for lit in literals])
    order = np.argsort(-gains, kind="stable")
    beam = [(float(gains[i]), 1, (int(i),)) for i in order[:beam_width] if gains[i] > 0]
    seen = {(1, (i,)) for _, _, (i,) in beam}
    scored = list(beam)  # every test the search evaluated, for the final choice
    while beam:
        candidates = []
        for _, m, members in beam:
            if len(members) >= max_conditions:
                continue
            count = L[:, list(members)].sum(axis=1)
            allowed = np.ones(len(literals), dtype=bool)
            allowed[list(members)] = False
            blocked = partner[list(members)]
            allowed[blocked[blocked >= 0]] = False
            idx = np.flatnonzero(allowed)
            if idx.size == 0:
                continue
            for new_m in (m, m + 1):
                # Adding literal l makes the test hold where count >= new_m, or where
                # count == new_m - 1 and l holds: only those edge rows need a product.
                edge = count == new_m - 1
                left = Y[count >= new_m].sum(axis=0)[None, :] + (
                    L[edge][:, idx].T.astype(np.float64) @ Y[edge]
                )
                g = _gain_from_left(left, class_total)
                for k in np.argsort(-g, kind="stable")[:beam_width]:
                    key = (new_m, tuple(sorted((*members, int(idx[k])))))
                    if np.isfinite(g[k]) and key not in seen:
                        seen.add(key)
                        candidates.append((float(g[k]), key[0], key[1]))
        scored += candidates
        pool = sorted(beam + candidates, key=lambda c: (-c[0], len(c[2]), c[1], c[2]))
        new_beam = pool[:beam_width]
        improved = new_beam[0][0] > best[0] + _MIN_IMPROVEMENT
        if improved:
            best = new_beam[0]
        if not improved or new_beam == beam:
            break
        beam = new_beam
    if min_gain_ratio > 0:
        best = _earned(scored, min_gain_ratio)
    return _result(best, literals, L)


def _earned(scored: list[tuple], ratio: float) -> tuple:
    """The test whose gain best pays for its size: max ``gain / (1 + ratio) ** (n - 1)``."""
    def key(c):
        gain, m, members = c
        return (-gain / (1.0 + ratio) ** (len(members) - 1), len(members), m, members)
    return min(scored, key=key)


def _result(best: tuple, literals: list, L: np.ndarray) -> SplitResult:
    gain, m, members = best
    mask = L[:, list(members)].sum(axis=1) >= m
    lits = tuple(literals[i] for i in sorted(members, key=lambda i: literals[i]))
    return SplitResult(m=int(m), literals=lits, gain=float(gain), mask=mask)
