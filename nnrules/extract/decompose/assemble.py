"""From clauses on the inputs to a :class:`~nnrules.surrogates.rules.RuleSet`.

Two ways, one per family of strategies:

* :func:`exact_rules` (CRED, DeepRED): the clauses of every class, simplified per class (a
  logical equivalence), ordered by confidence on the training rows. When substitution was exact
  the classes' clauses are mutually exclusive, so the order only breaks ties left by pruning.
* :func:`ranked_rules` (ECLAIRE): the union of candidate clauses from every layer, ranked by
  confidence (Laplace-corrected, then support) on the training rows, and kept as a decision
  list only while each rule still decides more training rows correctly than wrongly among
  those no earlier rule decided (its *fidelity contribution*).

Both give the default class as the network's majority answer on the rows no rule covers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nnrules.extract.decompose.simplify import simplify_dnf
from nnrules.extract.decompose.terms import Clause, clause_mask
from nnrules.surrogates.rules import Rule, RuleSet

__all__ = ["exact_rules", "generalise", "ranked_rules", "relabel"]


def generalise(clause: Clause, k: int, X: np.ndarray, labels: np.ndarray, *,
               tolerance: float = 0.0) -> Clause:
    """Drop conditions of a rule while its confidence on the training rows stays up.

    Greedy, one condition at a time (the one whose removal leaves the highest confidence), as
    long as the confidence of ``clause -> k`` stays at least its original value minus
    ``tolerance``. This changes predictions (the rule covers more), so it is data-driven
    pruning, not simplification; it removes conditions the network's labels do not need, such
    as thresholds on inputs the network ignores.
    """
    conds = list(clause)
    if len(conds) < 2:
        return tuple(conds)
    holds = [c.holds(X) for c in conds]
    right = labels == k

    def conf(mask: np.ndarray) -> float:
        n = int(mask.sum())
        return float(np.sum(right & mask)) / n if n else 0.0

    full = np.logical_and.reduce(holds)
    floor = conf(full) - tolerance
    while len(conds) > 1:
        best, best_conf = None, -1.0
        for i in range(len(conds)):
            mask = np.logical_and.reduce([h for j, h in enumerate(holds) if j != i])
            c = conf(mask)
            if c >= floor and c > best_conf:
                best, best_conf = i, c
        if best is None:
            break
        del conds[best], holds[best]
    return tuple(conds)


def _scored(candidates: Sequence[tuple[Clause, int]], X: np.ndarray, labels: np.ndarray,
            schema: Any, n_classes: int) -> list[tuple[float, int, int, Clause, np.ndarray]]:
    by_class: dict[int, list[Clause]] = {}
    for clause, k in candidates:
        by_class.setdefault(int(k), []).append(tuple(clause))
    out = []
    for k in sorted(by_class):
        for clause in simplify_dnf(by_class[k], schema=schema):
            mask = clause_mask(clause, X)
            support = int(mask.sum())
            right = int(np.sum(labels[mask] == k))
            conf = right / support if support else 0.0
            laplace = (right + 1) / (support + n_classes)
            out.append((conf, support, k, clause, mask, laplace))
    # Ranked by the Laplace estimate (CN2): a rule right on 5 of 5 rows ranks below one right
    # on 990 of 1000. The rule keeps its plain confidence.
    out.sort(key=lambda t: (-t[5], -t[1], t[2], t[3]))
    return [t[:5] for t in out]


def _default(labels: np.ndarray, covered: np.ndarray, n_classes: int) -> int:
    rest = labels[~covered] if np.any(~covered) else labels
    return int(np.argmax(np.bincount(rest, minlength=n_classes)))


def _ruleset(chosen, default: int, classes: tuple, schema: Any, n_features: int) -> RuleSet:
    rules = [Rule(clause, int(k), support, conf) for conf, support, k, clause, _ in chosen]
    return RuleSet(rules, default, ordered=True, classes=classes, schema=schema,
                   n_features=n_features)


def relabel(candidates: Sequence[tuple[Clause, int]], X: np.ndarray,
            labels: np.ndarray) -> list[tuple[Clause, int]]:
    """Each clause's class re-estimated as the network's majority answer on the training rows
    it covers (kept as is when it covers none). Substitution fixes a clause's region; the class
    the region gets is then read from the network rather than from the chain of approximations
    that made it."""
    out = []
    for clause, k in candidates:
        mask = clause_mask(clause, X)
        if mask.any():
            k = int(np.argmax(np.bincount(labels[mask])))
        out.append((clause, int(k)))
    return out


def exact_rules(candidates: Sequence[tuple[Clause, int]], X: np.ndarray, labels: np.ndarray,
                *, classes: tuple, schema: Any = None,
                max_rules: int | None = None) -> tuple[RuleSet, bool]:
    """Every candidate clause as a rule (simplified per class), best confidence first.

    Returns
    -------
    (RuleSet, truncated)
        ``truncated`` is True when ``max_rules`` cut rules off (the least confident go).
    """
    scored = _scored(candidates, X, labels, schema, len(classes))
    truncated = max_rules is not None and len(scored) > max_rules
    if truncated:
        scored = scored[:max_rules]
    covered = np.zeros(len(X), dtype=bool)
    for *_, mask in scored:
        covered |= mask
    default = _default(labels, covered, len(classes))
    return _ruleset(scored, default, classes, schema, X.shape[1]), truncated


def ranked_rules(candidates: Sequence[tuple[Clause, int]], X: np.ndarray, labels: np.ndarray,
                 *, classes: tuple, schema: Any = None, max_rules: int | None = None,
                 min_gain: int = 1) -> tuple[RuleSet, bool]:
    """A decision list of the candidates that contribute, best confidence first.

    Parameters
    ----------
    candidates : sequence of (clause on the inputs, class index)
    X : ndarray of shape (n_samples, n_features)
        Training rows (input level).
    labels : ndarray of shape (n_samples,)
        The network's class index per row.
    classes : tuple
    schema : FeatureSchema, optional
    max_rules : int or None
        Most rules kept.
    min_gain : int, default=1
        A rule is kept when, on the rows no earlier rule decided, it is right on at least
        ``min_gain`` rows and on more rows than it is wrong.

    Returns
    -------
    (RuleSet, truncated)
        ``truncated`` is True when ``max_rules`` stopped the selection while contributing
        candidates remained.
    """
    scored = _scored(candidates, X, labels, schema, len(classes))
    covered = np.zeros(len(X), dtype=bool)
    chosen = []
    truncated = False
    for item in scored:
        _, _, k, _, mask = item
        new = mask & ~covered
        right = int(np.sum(labels[new] == k))
        wrong = int(new.sum()) - right
        if right < min_gain or right <= wrong:
            continue
        if max_rules is not None and len(chosen) >= max_rules:
            truncated = True
            break
        chosen.append(item)
        covered |= mask
    # A rule whose class equals the default and that sits last changes nothing: drop the tail.
    default = _default(labels, covered, len(classes))
    while chosen and chosen[-1][2] == default:
        trial = np.zeros(len(X), dtype=bool)
        for *_, mask in chosen[:-1]:
            trial |= mask
        if _default(labels, trial, len(classes)) != default:
            break
        chosen.pop()
        covered = trial
    return _ruleset(chosen, default, classes, schema, X.shape[1]), truncated
