"""TREPAN's ``n_queries="auto"``: grow with the network's queries or without, chosen on rows
held apart by a one-sided sign test (``TrepanExtractor`` documents what was measured).

Both trees are grown from one seed on the same share of the rows; the queries are dropped only
when the rows only the tree without them gets right outnumber the rows only the other gets
right at the level ``AUTO_EVIDENCE``. Else the queries stay (TREPAN's way).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from nnrules._validation import Interval

__all__ = ["AUTO_EVIDENCE", "CountOrAuto", "choose_queries"]

AUTO_EVIDENCE = 0.05     # n_queries="auto" drops the queries only at this one-sided sign-test level


class CountOrAuto:
    """``n_queries``'s constraint: a non-negative int, None or "auto"."""

    def accepts(self, value) -> bool:
        return (value is None or (isinstance(value, str) and value == "auto")
                or Interval(int, 0, None).accepts(value))

    def describe(self) -> str:
        return 'an int in [0, inf), None or "auto"'


def choose_queries(grow: Callable[[int | None, np.ndarray, np.random.Generator], Any],
                   oracle: Any, X: np.ndarray, rng: np.random.Generator, *,
                   validation_share: float, min_rows: int) -> tuple[int | None, dict]:
    """``n_queries`` (None: queries, or 0: none) and the record of the choice.

    Parameters
    ----------
    grow : callable
        ``grow(n_queries, X_fit, rng) -> tree``: a tree (with ``predict_index`` and
        ``complexity``) grown on ``X_fit`` with that query budget.
    oracle : object with ``predict_index``
        The network, answering class indices.
    X : ndarray of shape (n_rows, n_features)
        The extraction rows; ``validation_share`` of them are held apart.
    rng : numpy.random.Generator
        Not advanced: the seed is drawn from a copy, so the tree grown after the choice is the
        one ``n_queries`` None or 0 would give with the same seed.
    validation_share : float
        Share of the rows held apart.
    min_rows : int
        Fewer rows: too few to hold some apart; the queries stay.

    Returns
    -------
    (int or None, dict)
        The budget chosen and ``queries_choice_`` (chosen, fidelities and sizes, sign test).
    """
    n = X.shape[0]
    if n < min_rows:
        return None, {"chosen": "queries", "n_queries": None, "validation_rows": 0,
                      "reason": f"only {n} rows: too few to hold some apart"}
    seed = int(copy.deepcopy(rng).integers(0, 2**31 - 1))
    order = np.random.default_rng(seed).permutation(n)
    n_val = round(n * validation_share)
    X_val, X_fit = X[np.sort(order[:n_val])], X[np.sort(order[n_val:])]
    ref = oracle.predict_index(X_val)
    right, literals = {}, {}
    for name, n_queries in (("queries", None), ("none", 0)):
        tree = grow(n_queries, X_fit, np.random.default_rng(seed + 1))  # both from one seed
        right[name] = tree.predict_index(X_val) == ref
        literals[name] = int(tree.complexity()["conditions"])
    only = {"queries": int(np.sum(right["queries"] & ~right["none"])),
            "none": int(np.sum(right["none"] & ~right["queries"]))}
    b, n_apart = only["none"], only["none"] + only["queries"]
    # P(at least b of n_apart rows favour "none" | both trees equally faithful)
    p_value = sum(math.comb(n_apart, i) for i in range(b, n_apart + 1)) / 2**n_apart
    chosen = "none" if b > only["queries"] and p_value <= AUTO_EVIDENCE else "queries"
    n_queries = 0 if chosen == "none" else None
    return n_queries, {
        "chosen": chosen, "n_queries": n_queries, "validation_rows": n_val,
        "validation_fidelity": {k: float(np.mean(v)) for k, v in right.items()},
        "only_right": only, "p_value": float(p_value), "literals": literals}
