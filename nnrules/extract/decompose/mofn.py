"""An M-of-N test that approximates a linear threshold ``w . x + b > theta`` (``setiono``).

A hidden unit of a one-hot-heavy network sums small contributions of many inputs; a few
axis-aligned boxes (a tree's leaves) describe such a sum poorly, while "at least ``m`` of these
``n`` conditions" is the classic readable form of a linear threshold (Towell & Shavlik's M-of-N
rules; a credit scorecard). :func:`learn_mofn` builds one greedily:

* candidate conditions on the unit's input columns: for a column with two values (one-hot,
  binary) both ``x > t`` and ``x <= t`` at the midpoint; for other columns both directions at
  the 10/25/50/75/90% quantiles of the real rows;
* forward selection up to ``max_conditions``: at each step the condition (and the best ``m``
  for the enlarged set) that agrees most with the target on the rows; the result is the prefix
  with the most rows right less ``min_gain`` rows per condition (so the selection passes
  plateaus: the first condition of a 3-of-4 concept alone beats no constant answer).

The agreement of every ``m`` for a candidate set is read from two histograms of the per-row
count of true conditions (one per target value), so a step costs one pass over the rows per
candidate condition.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nnrules.surrogates.rules import Condition, MofN

__all__ = ["best_m", "candidate_conditions", "learn_mofn", "negate_mofn"]

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


def candidate_conditions(X: np.ndarray, columns: Sequence[int]) -> list[Condition]:
    """Both directions of a few thresholds per column (see the module docstring)."""
    out: list[Condition] = []
    for j in sorted(int(c) for c in columns):
        values = np.unique(X[:, j])
        if len(values) <= 1:
            continue
        if len(values) == 2:
            cuts = [float(values.mean())]
        else:
            cuts = np.unique(np.quantile(X[:, j], QUANTILES, method="lower")).tolist()
            cuts = [float(t) for t in cuts if t < values[-1]]
        for t in cuts:
            out += [Condition(j, ">", t), Condition(j, "<=", t)]
    return out


def best_m(count: np.ndarray, target: np.ndarray, n: int) -> tuple[int, int]:
    """(rows right, m) of the best ``count >= m`` (m in 1..n) against ``target``."""
    pos = np.bincount(count[target], minlength=n + 1)
    neg = np.bincount(count[~target], minlength=n + 1)
    # count >= m predicted true: right = positives with count >= m + negatives with count < m
    pos_at_least = np.cumsum(pos[::-1])[::-1]  # [m] = positives with count >= m
    neg_below = np.concatenate([[0], np.cumsum(neg)[:-1]])  # [m] = negatives with count < m
    right = pos_at_least[1:n + 1] + neg_below[1:n + 1]
    m = int(np.argmax(right)) + 1
    return int(right[m - 1]), m


def learn_mofn(A: np.ndarray, target: np.ndarray, candidates: Sequence[Condition], *,
               max_conditions: int = 16, min_gain: int = 1) -> tuple[MofN | None, int]:
    """Greedy forward selection of an M-of-N test agreeing with ``target`` on the rows ``A``.

    Parameters
    ----------
    A : ndarray of shape (n_samples, n_features)
    target : ndarray of bool, shape (n_samples,)
    candidates : sequence of Condition
    max_conditions : int, default=16
        Most conditions in the test.
    min_gain : int, default=1
        The cost, in rows right, of each condition when the prefix is chosen.

    Returns
    -------
    (MofN or None, int)
        The test (None when no condition beats the constant answer) and the rows it gets
        right; ties broken by candidate order, so the result is deterministic.
    """
    target = np.asarray(target, dtype=bool)
    if not len(candidates) or not len(A):
        return None, int(max(target.sum(), (~target).sum()))
    H = np.stack([c.holds(A) for c in candidates], axis=1).astype(np.int64)
    count = np.zeros(len(A), dtype=np.int64)
    chosen: list[int] = []
    ms: list[int] = []
    rights = [int(max(target.sum(), (~target).sum()))]  # [k]: best with k conditions
    while len(chosen) < min(max_conditions, H.shape[1]):
        top = None
        for c in range(H.shape[1]):
            if c in chosen:
                continue
            right, m = best_m(count + H[:, c], target, len(chosen) + 1)
            if top is None or right > top[0]:
                top = (right, c, m)
        right, c, m = top
        chosen.append(c)
        ms.append(m)
        rights.append(right)
        count += H[:, c]
    # The prefix with the most right answers less min_gain per condition (the forward pass
    # runs on through plateaus: a 3-of-4 concept gains nothing from its first condition).
    k = int(np.argmax([r - min_gain * i for i, r in enumerate(rights)]))
    if k == 0:
        return None, rights[0]
    return MofN(ms[k - 1], tuple(candidates[c] for c in chosen[:k])), rights[k]


def negate_mofn(test: MofN) -> MofN:
    """"Fewer than m of n hold" as an M-of-N: at least ``n - m + 1`` of the negations."""
    n = len(test.conditions)
    return MofN(n - test.m + 1, tuple(c.negate() for c in test.conditions))
