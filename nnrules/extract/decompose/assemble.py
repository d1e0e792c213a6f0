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

from nnrules.extract.decompose.simplify import clause_order, simplify_dnf
from nnrules.extract.decompose.terms import Clause, clause_mask
from nnrules.surrogates.rules import Rule, RuleSet

__all__ = ["drop_idle", "exact_rules", "merge_runs", "generalise", "ranked_rules", "relabel"]


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
            schema: Any, n_classes: int, merge: bool = True,
            outcomes: int | None = None) -> list[tuple[float, int, int, Clause, np.ndarray]]:
    by_class: dict[int, list[Clause]] = {}
    X = np.asfortranarray(X)  # contiguous columns: each clause's mask reads whole columns
    for clause, k in candidates:
        by_class.setdefault(int(k), []).append(tuple(clause))
    out = []
    for k in sorted(by_class):
        # merge=False: each clause only simplified and deduplicated, never merged with or
        # dropped under another of its class (see ranked_rules): in a decision list a clause
        # inside a broader one of its class still decides the rows it reaches first.
        for clause in simplify_dnf(by_class[k], schema=schema, max_passes=8 if merge else 0,
                                   drop_subsumed=merge):
            mask = clause_mask(clause, X)
            support = int(mask.sum())
            right = int(np.sum(labels[mask] == k))
            conf = right / support if support else 0.0
            laplace = (right + 1) / (support + (n_classes if outcomes is None else outcomes))
            out.append((conf, support, k, clause, mask, laplace))
    # Ranked by the Laplace estimate (CN2): a rule right on 5 of 5 rows ranks below one right
    # on 990 of 1000. The rule keeps its plain confidence.
    out.sort(key=lambda t: (-t[5], -t[1], t[2], clause_order(t[3])))
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
    return [relabel_one(clause, k, clause_mask(clause, X), labels) for clause, k in candidates]


def relabel_one(clause: Clause, k: int, mask: np.ndarray,
                labels: np.ndarray) -> tuple[Clause, int]:
    """``clause`` with the majority of ``labels`` on its rows ``mask`` (``k`` if it has none)."""
    if mask.any():
        k = int(np.argmax(np.bincount(labels[mask])))
    return clause, int(k)


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


def _next_firing(masks: np.ndarray, keep: np.ndarray, i: int, rows: np.ndarray) -> np.ndarray:
    """Per row of ``rows``: the first kept rule after ``i`` that fires (len(masks) when none)."""
    n_rules = len(masks)
    later = masks[i + 1:, rows] & keep[i + 1:, None]
    if not len(later):
        return np.full(len(rows), n_rules)
    return np.where(later.any(axis=0), i + 1 + later.argmax(axis=0), n_rules)


def _losses(masks, outputs, labels, keep, default) -> tuple[np.ndarray, np.ndarray]:
    """(kept rule indices, right answers each would cost the list if it alone were removed)."""
    idx = np.flatnonzero(keep)
    fires = masks[idx].any(axis=0)
    first = np.where(fires, idx[masks[idx].argmax(axis=0)], len(masks))
    loss = np.zeros(len(idx), dtype=np.int64)
    for j, i in enumerate(idx):
        rows = np.flatnonzero(first == i)
        nxt = _next_firing(masks, keep, i, rows)
        then = np.where(nxt < len(masks), outputs[np.minimum(nxt, len(masks) - 1)], default)
        loss[j] = np.sum(labels[rows] == outputs[i]) - np.sum(labels[rows] == then)
    return idx, loss


def drop_idle(chosen: list, labels: np.ndarray, n_classes: int,
              max_rules: int | None = None) -> tuple[list, int]:
    """Drop rules of a decision list whose removal does not lower its fidelity on the rows.

    One pass from the last rule to the first: a rule goes when the rows it decides (it fires
    first on them) are decided at least as well by the next firing rule, or by the default,
    once it is gone. Each removal keeps the list's right answers on the rows the same or
    higher, so the pass never lowers the training fidelity; it only shortens the list (ties go
    to the shorter list). A rule that decides no row goes too.

    With ``max_rules``, the list is then cut to that size by removing, in rounds of at most 5%
    of the rules, the rules whose removal costs the fewest right answers (ties: the later,
    less confident rule first), the costs re-computed after every round. This keeps the rules
    that matter most, where cutting the confidence-ranked list at ``max_rules`` keeps the
    first ones (measured on letter's validation rows, 26 classes: 882 rules cut to 600 this
    way lost less than taking the 600 most confident).

    Parameters
    ----------
    chosen : list of (confidence, support, class index, clause, mask)
        The decision list in order; ``mask`` is where the clause holds on the rows.
    labels : ndarray of int
        The network's class per row.
    n_classes : int
    max_rules : int or None

    Returns
    -------
    (list, int)
        The kept rules in their order, and the default class (the network's majority answer on
        the rows no kept rule covers; it can only raise the right answers further).
    """
    n_rules = len(chosen)
    if n_rules == 0:
        return [], _default(labels, np.zeros(len(labels), dtype=bool), n_classes)
    masks = np.stack([item[4] for item in chosen])
    outputs = np.array([item[2] for item in chosen], dtype=np.int64)
    fires = masks.any(axis=0)
    first = np.where(fires, masks.argmax(axis=0), n_rules)
    default = _default(labels, fires, n_classes)
    keep = np.ones(n_rules, dtype=bool)
    for i in range(n_rules - 1, -1, -1):
        rows = np.flatnonzero(first == i)
        nxt = _next_firing(masks, keep, i, rows)
        then = np.where(nxt < n_rules, outputs[np.minimum(nxt, n_rules - 1)], default)
        if np.sum(labels[rows] == then) >= np.sum(labels[rows] == outputs[i]):
            keep[i] = False
            first[rows] = nxt
    while max_rules is not None and keep.sum() > max_rules:
        default = _default(labels, masks[keep].any(axis=0), n_classes)
        idx, loss = _losses(masks, outputs, labels, keep, default)
        cut = max(1, min(len(idx) - max_rules, -(-len(idx) // 20)))
        order = np.lexsort((-idx, loss))[:cut]
        keep[idx[order]] = False
    kept = [item for item, k in zip(chosen, keep) if k]
    covered = masks[keep].any(axis=0) if keep.any() else np.zeros(len(labels), dtype=bool)
    return kept, _default(labels, covered, n_classes)


def merge_runs(chosen: list, X: np.ndarray, labels: np.ndarray, schema: Any = None) -> list:
    """Merge each run of consecutive rules of one class in a decision list (exact).

    Rules ``r_i .. r_j`` in a row that all give class ``k`` decide exactly like one rule
    ``r_i or ... or r_j`` at position ``i``; that union is simplified as a DNF
    (:func:`~nnrules.extract.decompose.simplify.simplify_dnf`, a logical equivalence), and
    replaces the run when it has fewer clauses. No prediction changes anywhere.

    Parameters
    ----------
    chosen : list of (confidence, support, class index, clause, mask)
    X, labels : the rows the statistics of a merged rule are read from.
    schema : FeatureSchema, optional

    Returns
    -------
    list
        Same form; a merged run's clauses ranked by confidence, then support.
    """
    out: list = []
    i = 0
    while i < len(chosen):
        j = i
        while j + 1 < len(chosen) and chosen[j + 1][2] == chosen[i][2]:
            j += 1
        run = chosen[i:j + 1]
        merged = simplify_dnf([item[3] for item in run], schema=schema) if len(run) > 1 else []
        if len(run) == 1 or len(merged) >= len(run):
            out.extend(run)
        else:
            k = run[0][2]
            items = []
            for clause in merged:
                mask = clause_mask(clause, X)
                support = int(mask.sum())
                right = int(np.sum(labels[mask] == k))
                items.append((right / support if support else 0.0, support, k, clause, mask))
            items.sort(key=lambda t: (-t[0], -t[1], t[3]))
            out.extend(items)
        i = j + 1
    return out


def ranked_rules(candidates: Sequence[tuple[Clause, int]], X: np.ndarray, labels: np.ndarray,
                 *, classes: tuple, schema: Any = None, max_rules: int | None = None,
                 min_gain: int | Sequence[int] = 1, drop: bool = False,
                 merge: bool = True, outcomes: int | None = None) -> tuple[RuleSet, bool]:
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
    min_gain : int or sequence of int, default=1
        A rule is kept when, on the rows no earlier rule decided, it is right on at least
        ``min_gain`` rows (per class index when a sequence) and on more rows than it is wrong.
    drop : bool, default=False
        After the selection, :func:`drop_idle` removes the rules whose removal does not lower
        the list's fidelity on the rows (each rule was judged when it was added; rules added
        after it can make it idle), and with ``max_rules`` the selection takes every
        contributing candidate and :func:`drop_idle` cuts the list to ``max_rules`` by
        removing the rules that cost least.
    outcomes : int or None, default=None
        The Laplace estimate's outcome count, ``(right + 1) / (support + outcomes)``; None:
        the number of classes (CN2's). 2 treats each rule as a claim "its class or not".
    merge : bool, default=True
        Simplify each class's candidates as one DNF (subsumed clauses out, touching ones
        merged) before ranking. Exact for the class's union, but not for a decision list: a
        clause of low confidence merged with one of high confidence becomes one broad rule
        ranked by the merged confidence, which can decide a small class's rows before that
        class's own rules (a 4%-class lost all its rules that way in the tests). False ranks
        every simplified candidate as learned, leaves redundancy to ``drop``, and merges only
        runs of consecutive rules of one class in the final list (:func:`merge_runs`, exact).
        With False no candidate is dropped because a broader one of its class holds wherever
        it holds: that is safe for a decision list only when the narrow clause ranks after
        the broad one (it then never fires) or no rule of another class between them fires
        on its rows; ranked by confidence, the narrow clause often comes first, and dropping
        it handed its rows to the other class's rule (a test builds that case).

    Returns
    -------
    (RuleSet, truncated)
        ``truncated`` is True when ``max_rules`` stopped the selection while contributing
        candidates remained.
    """
    scored = _scored(candidates, X, labels, schema, len(classes), merge, outcomes)
    gains = np.broadcast_to(np.asarray(min_gain, dtype=np.int64), (len(classes),))
    covered = np.zeros(len(X), dtype=bool)
    chosen = []
    truncated = False
    for item in scored:
        _, _, k, _, mask = item
        new = mask & ~covered
        right = int(np.sum(labels[new] == k))
        wrong = int(new.sum()) - right
        if right < gains[k] or right <= wrong:
            continue
        if max_rules is not None and len(chosen) >= max_rules and not drop:
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
    if drop:
        chosen, default = drop_idle(chosen, labels, len(classes))
        truncated = max_rules is not None and len(chosen) > max_rules
        if truncated:
            chosen, default = drop_idle(chosen, labels, len(classes), max_rules)
    if not merge:
        chosen = merge_runs(chosen, X, labels, schema)
    return _ruleset(chosen, default, classes, schema, X.shape[1]), truncated
