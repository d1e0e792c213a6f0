"""Simplification of DNFs: never changes which points a DNF accepts.

A DNF here is a list of clauses (tuples of :class:`Condition`), true where any clause holds.
:func:`simplify_dnf` drops unsatisfiable clauses (interval reasoning per feature, one-hot groups
respected through :func:`~nnrules.surrogates.rules.simplify_conditions`), redundant conditions
inside a clause, duplicate and subsumed clauses, and merges two clauses that differ only in the
interval of one feature when the two intervals touch. Every step is a logical equivalence on the
reals, so predictions never change (a property test checks it). Data-driven pruning — dropping
clauses by support or fidelity contribution — is a separate, explicit step of each method.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from nnrules.surrogates.rules import Condition, simplify_conditions

__all__ = ["implies", "simplify_dnf", "subsumes"]

Clause = tuple[Condition, ...]


def _bounds(clause: Clause, j: int) -> tuple[float, float, set, set]:
    lo = max((c.value for c in clause if c.feature == j and c.op == ">"), default=-math.inf)
    hi = min((c.value for c in clause if c.feature == j and c.op == "<="), default=math.inf)
    eq = {c.value for c in clause if c.feature == j and c.op == "=="}
    ne = {c.value for c in clause if c.feature == j and c.op == "!="}
    return lo, hi, eq, ne


def implies(clause: Clause, cond: Condition) -> bool:
    """Whether every point satisfying the (simplified, satisfiable) ``clause`` satisfies
    ``cond``."""
    lo, hi, eq, ne = _bounds(clause, cond.feature)
    if eq:
        (v,) = eq
        return bool(cond.holds([[0.0] * cond.feature + [v]])[0])
    if cond.op == "<=":
        return hi <= cond.value
    if cond.op == ">":
        return lo >= cond.value
    if cond.op == "!=":
        return cond.value in ne or not lo < cond.value <= hi
    return False  # "==" is implied only by an equal "=="


def subsumes(general: Clause, specific: Clause) -> bool:
    """Whether ``general`` holds wherever ``specific`` holds (sufficient test, sound)."""
    return all(implies(specific, c) for c in general)


def _interval_only(clause: Clause, j: int) -> bool:
    return all(c.op in ("<=", ">") for c in clause if c.feature == j)


def _merge_pair(a: Clause, b: Clause) -> Clause | None:
    """``a or b`` as one clause when they differ only in one feature's touching intervals."""
    fa, fb = {c.feature for c in a}, {c.feature for c in b}
    rest_a = {c for c in a}
    rest_b = {c for c in b}
    diff = {c.feature for c in rest_a ^ rest_b}
    if len(diff) != 1:
        return None
    (j,) = diff
    if not (_interval_only(a, j) and _interval_only(b, j)):
        return None
    lo_a, hi_a, _, _ = _bounds(a, j) if j in fa else (-math.inf, math.inf, set(), set())
    lo_b, hi_b, _, _ = _bounds(b, j) if j in fb else (-math.inf, math.inf, set(), set())
    if max(lo_a, lo_b) > min(hi_a, hi_b):
        return None  # a gap between the intervals
    lo, hi = min(lo_a, lo_b), max(hi_a, hi_b)
    kept = [c for c in a if c.feature != j]
    if lo > -math.inf:
        kept.append(Condition(j, ">", lo))
    if hi < math.inf:
        kept.append(Condition(j, "<=", hi))
    return tuple(sorted(kept))


def simplify_dnf(clauses: Sequence[Clause], *, schema: Any = None,
                 max_passes: int = 8, drop_subsumed: bool = True) -> list[Clause]:
    """An equivalent, shorter DNF in canonical order.

    Parameters
    ----------
    clauses : sequence of tuple of Condition
    schema : FeatureSchema, optional
        One-hot groups let contradictory clauses (two hot columns of one group) go.
    max_passes : int, default=8
        Bound on the merge passes (each pass is quadratic in the number of clauses).
    drop_subsumed : bool, default=True
        Drop clauses another clause subsumes. False (with ``max_passes=0``): each clause
        simplified on its own, duplicates and unsatisfiable clauses out, no clause dropped for
        another's sake -- what a decision list needs, where a narrow clause ranked before a
        broader one of its class decides rows that a rule of another class between them would
        otherwise take.

    Returns
    -------
    list of tuple of Condition
        Sorted; true on exactly the points where the input DNF is true.
    """
    out: set[Clause] = set()
    for clause in clauses:
        s = simplify_conditions(clause, schema=schema)
        if s is not None:
            out.add(tuple(s))
    if not drop_subsumed and not max_passes:
        return sorted(out, key=clause_order)
    if () in out:
        return [()]
    if any(not isinstance(c, Condition) for clause in out for c in clause):
        # m-of-n and linear tests are opaque to the merging below: each clause simplified,
        # duplicates dropped, nothing merged
        return sorted(out, key=clause_order)
    current = sorted(out)
    for _ in range(max_passes):
        current = _drop_subsumed(current)
        merged = _merge_once(current)
        if merged is None:
            break
        current = sorted({tuple(c) for c in merged})
    return sorted(_drop_subsumed(current))


def clause_order(clause: Clause) -> tuple:
    """A sort key for clauses that may hold m-of-n or linear tests: clauses of plain
    conditions in their natural order, then the others by text (tests of different kinds do
    not compare)."""
    if all(isinstance(c, Condition) for c in clause):
        return (0, clause)
    return (1, repr(clause))


def _features(clause: Clause) -> int:
    """The features a clause tests, as a bit mask."""
    mask = 0
    for c in clause:
        mask |= 1 << int(c.feature)
    return mask


def _drop_subsumed(clauses: list[Clause]) -> list[Clause]:
    by_len = sorted(clauses, key=lambda c: (len(c), c))
    kept: list[tuple[Clause, int]] = []
    for clause in by_len:
        f = _features(clause)
        # A clause can only subsume one that tests every feature it tests (a condition on a
        # feature the other leaves free is never implied): a cheap filter before the test.
        if not any(fk & ~f == 0 and subsumes(k, clause) for k, fk in kept):
            kept.append((clause, f))
    return [k for k, _ in kept]


def _rest(clause: Clause, j: int) -> Clause:
    return tuple(c for c in clause if c.feature != j)


def _merge_once(clauses: list[Clause]) -> list[Clause] | None:
    """One pass of pairwise merges; None when nothing merged.

    Greedy in order: each clause merges with the first later unused clause it can. Two clauses
    can merge only when they agree outside one feature they both test (a clause without that
    feature would subsume the other, and subsumed clauses are gone before a pass), so
    candidates are looked up by (feature, the conditions on the other features).
    """
    n = len(clauses)
    buckets: dict[tuple[int, Clause], list[int]] = {}
    keys: list[list[tuple[int, Clause]]] = []
    for i, clause in enumerate(clauses):
        ks = [(j, _rest(clause, j)) for j in sorted({int(c.feature) for c in clause})]
        keys.append(ks)
        for key in ks:
            buckets.setdefault(key, []).append(i)
    used = [False] * n
    out: list[Clause] = []
    changed = False
    for i in range(n):
        if used[i]:
            continue
        partners = sorted({k for key in keys[i] for k in buckets[key] if k > i})
        for k in partners:
            if used[k]:
                continue
            m = _merge_pair(clauses[i], clauses[k])
            if m is not None:
                used[i] = used[k] = True
                out.append(m)
                changed = True
                break
        if not used[i]:
            out.append(clauses[i])
    return out if changed else None
