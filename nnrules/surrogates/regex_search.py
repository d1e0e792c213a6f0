"""Short regular expressions for automata, every step checked against the automaton.

State elimination (``nnrules.surrogates.regex.eliminate``) is exact for any elimination order,
but the order decides the length: ``0*1*0*1*`` can come out as ``0*(1+(0+1*)?)?``. Two things
make the printed expression shorter:

1. **Order search.** Small automata (at most ``EXHAUSTIVE_STATES`` live states) try every
   elimination order, larger ones a few heuristic orders; the shortest result is kept.
2. **Checked rewrites.** Local rewrites, some of them sound only in context (``(x+ y)?`` →
   ``x* y``, dropping an alternative or an optional part, ``x+`` → ``x*``), are proposed
   shortest first; a rewrite is kept only when the rewritten expression's language is exactly
   the automaton's, decided by compiling the expression to a DFA (Glushkov's position automaton
   and the subset construction) and comparing with the product construction
   (:func:`nnrules.surrogates.automaton.equivalent`). The starting expression is checked the
   same way; if it were ever found different (a bug), the plain elimination result is returned.

Everything is deterministic: orders and rewrites are tried in a fixed order, ties go to the
first found.

Examples
--------
>>> import numpy as np
>>> from nnrules.surrogates.regex import to_readable
>>> from nnrules.surrogates.regex_search import shortest_regex
>>> delta = np.array([[0, 1], [2, 1], [2, 3], [4, 3], [4, 4]])  # Tomita 7
>>> to_readable(shortest_regex(delta, ("0", "1"), 0, np.array([1, 1, 1, 1, 0], bool)))
'0*1*0*1*'
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np

from nnrules.exceptions import BudgetExceededError
from nnrules.surrogates.regex import (
    EMPTY,
    EPS,
    MAX_LENGTH,
    Regex,
    alt,
    cat,
    eliminate,
    star,
    to_readable,
)

__all__ = ["EXHAUSTIVE_STATES", "MAX_CHECKED", "language_table", "same_language",
           "shortest_regex"]

EXHAUSTIVE_STATES = 5  # live states up to which every elimination order is tried (5! = 120)
MAX_CHECKED = 200      # characters: longer expressions are not rewritten (checks get costly)
MAX_CHECKS = 150       # equivalence checks per expression
_MAX_POSITION_STATES = 4096


# --------------------------------------------------------------------------- regex -> DFA


def _nullable(r: Regex) -> bool:
    if r.kind in ("eps", "star"):
        return True
    if r.kind in ("empty", "sym"):
        return False
    if r.kind == "cat":
        return all(_nullable(p) for p in r.parts)
    return any(_nullable(p) for p in r.parts)


def _glushkov(r: Regex, labels: list[frozenset[str]], follow: list[set[int]]):
    """(nullable, first, last) of ``r``; fills ``labels`` and ``follow`` per position."""
    if r.kind == "empty":
        return False, set(), set()
    if r.kind == "eps":
        return True, set(), set()
    if r.kind == "sym":
        labels.append(frozenset(r.symbols))
        follow.append(set())
        p = len(labels) - 1
        return False, {p}, {p}
    if r.kind == "star":
        _, first, last = _glushkov(r.parts[0], labels, follow)
        for p in last:
            follow[p] |= first
        return True, first, last
    if r.kind == "alt":
        null, first, last = False, set(), set()
        for part in r.parts:
            n, f, la = _glushkov(part, labels, follow)
            null, first, last = null or n, first | f, last | la
        return null, first, last
    # cat
    null, first, last = True, set(), set()
    for part in r.parts:
        n, f, la = _glushkov(part, labels, follow)
        for p in last:
            follow[p] |= f
        first = first | f if null else first
        last = (last | la) if n else la
        null = null and n
    return null, first, last


def language_table(r: Regex, alphabet: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """A complete DFA for ``r`` over ``alphabet``: ``(delta, accepting)``, start state 0.

    Raises
    ------
    BudgetExceededError
        The subset construction passes ``_MAX_POSITION_STATES`` states.
    """
    labels: list[frozenset[str]] = []
    follow: list[set[int]] = []
    null, first, last = _glushkov(r, labels, follow)
    start = frozenset({-1})
    index = {start: 0}
    order = [start]
    rows: list[list[int]] = []
    i = 0
    while i < len(order):
        state = order[i]
        nxt_row = []
        for a in alphabet:
            targets = set()
            for p in state:
                for q in (first if p == -1 else follow[p]):
                    if a in labels[q]:
                        targets.add(q)
            key = frozenset(targets)
            if key not in index:
                if len(order) >= _MAX_POSITION_STATES:
                    raise BudgetExceededError(
                        f"The expression's subset construction passes {_MAX_POSITION_STATES} "
                        "states; it is not checked.")
                index[key] = len(order)
                order.append(key)
            nxt_row.append(index[key])
        rows.append(nxt_row)
        i += 1
    accepting = np.array([bool(s & last) or (s == start and null) for s in order])
    return np.array(rows, dtype=np.int64).reshape(len(order), len(alphabet)), accepting


def same_language(r: Regex, delta: np.ndarray, alphabet: tuple[str, ...], start: int,
                  finals: np.ndarray) -> bool:
    """Whether ``r`` denotes exactly the sequences the DFA ``(delta, start, finals)`` accepts."""
    from nnrules.surrogates.automaton import Automaton, equivalent

    try:
        table, accepting = language_table(r, alphabet)
    except BudgetExceededError:
        return False
    classes = np.array([0, 1])
    ours = Automaton(table, accepting.astype(np.int64), alphabet=alphabet, classes=classes)
    theirs = Automaton(delta, np.asarray(finals, dtype=np.int64), alphabet=alphabet,
                       classes=classes, start=start)
    return equivalent(ours, theirs)


# --------------------------------------------------------------------------- rewrites


def _rebuild(r: Regex, parts: tuple[Regex, ...]) -> Regex:
    if r.kind == "cat":
        return cat(*parts)
    if r.kind == "alt":
        return alt(*parts)
    return star(parts[0])


def _local(r: Regex) -> Iterator[Regex]:
    """Candidate replacements of the node ``r`` itself (not all sound: each is checked)."""
    if r.kind == "alt":
        for i in range(len(r.parts)):
            yield alt(*(r.parts[:i] + r.parts[i + 1:]))  # drop one alternative (or the ε)
        if r.parts[0].kind == "eps":
            body = alt(*r.parts[1:])
            seq = body.parts if body.kind == "cat" else (body,)
            # (x x* y)? -> x* y  and  (x x* y)? -> (x* y)?
            if len(seq) >= 2 and seq[1].kind == "star" and seq[1].parts[0] == seq[0]:
                relaxed = cat(*seq[1:])
                yield relaxed
                yield alt(EPS, relaxed)
            # (x+ y+ z)? -> x* y* z: every plus of the optional sequence relaxed at once
            relaxed_all = _relax_plus(seq)
            if relaxed_all != seq:
                yield cat(*relaxed_all)
    elif r.kind == "cat":
        for i, part in enumerate(r.parts):
            rest = r.parts[:i] + r.parts[i + 1:]
            yield cat(*rest)  # drop one factor
            if part.kind == "star" and i > 0 and r.parts[i - 1] == part.parts[0]:
                yield cat(*(r.parts[:i - 1] + r.parts[i:]))  # x x* -> x*
    elif r.kind == "star":
        body = r.parts[0]
        yield body
        if body.kind == "cat":
            # (x* y*)* and friends -> (x|y)*
            yield star(alt(*(p.parts[0] if p.kind == "star" else p for p in body.parts)))
    if r.kind not in ("eps", "empty"):
        yield EPS
        yield EMPTY


def _relax_plus(seq: tuple[Regex, ...]) -> tuple[Regex, ...]:
    """``x x*`` pairs of a sequence replaced by ``x*``."""
    out: list[Regex] = []
    for part in seq:
        if part.kind == "star" and out and out[-1] == part.parts[0]:
            out[-1] = part
        else:
            out.append(part)
    return tuple(out)


def _variants(r: Regex) -> Iterator[Regex]:
    """Every expression obtained by replacing one node of ``r`` by a local candidate."""
    yield from _local(r)
    for i, child in enumerate(r.parts):
        for new in _variants(child):
            yield _rebuild(r, r.parts[:i] + (new,) + r.parts[i + 1:])


def _rewrite(r: Regex, check) -> Regex:
    """Greedy: take the shortest checked variant while one is shorter than the current one."""
    best, length = r, len(to_readable(r))
    checks = 0
    while checks < MAX_CHECKS:
        seen: dict[str, Regex] = {}
        for v in _variants(best):
            text = to_readable(v)
            if len(text) < length and text not in seen:
                seen[text] = v
        improved = False
        for text in sorted(seen, key=lambda t: (len(t), t)):
            checks += 1
            if check(seen[text]):
                best, length, improved = seen[text], len(text), True
                break
            if checks >= MAX_CHECKS:
                break
        if not improved:
            break
    return best


# --------------------------------------------------------------------------- search


def _live(delta: np.ndarray, finals: np.ndarray) -> np.ndarray:
    reach = np.asarray(finals, dtype=bool).copy()
    while True:
        grown = reach | reach[delta].any(axis=1)
        if (grown == reach).all():
            return reach
        reach = grown


def _orders(delta: np.ndarray, finals: np.ndarray) -> Iterator[list[int] | None]:
    """Elimination orders to try: None (the greedy cheapest-first order), then every
    permutation of the live states when there are few, else a handful of fixed orders."""
    yield None
    live = np.flatnonzero(_live(delta, finals)).tolist()
    if len(live) <= EXHAUSTIVE_STATES:
        yield from (list(p) for p in itertools.permutations(live))
    else:
        yield live
        yield live[::-1]


def shortest_regex(delta: np.ndarray, alphabet: tuple[str, ...], start: int,
                   finals: np.ndarray, *, max_length: int = MAX_LENGTH) -> Regex:
    """The shortest expression found for the DFA's language, checked equal to it.

    Parameters
    ----------
    delta : ndarray of int, shape (n_states, n_symbols)
    alphabet : tuple of str
    start : int
    finals : ndarray of bool, shape (n_states,)
    max_length : int
        Budget of each state elimination (see ``eliminate``).

    Returns
    -------
    Regex
        Expressions up to ``MAX_CHECKED`` characters are checked and rewritten; longer ones are
        the shortest elimination result, exact by construction.

    Raises
    ------
    BudgetExceededError
        Every elimination order grew an expression past ``max_length`` characters.
    """
    finals = np.asarray(finals, dtype=bool)
    found: dict[str, Regex] = {}
    first_error: BudgetExceededError | None = None
    plain: Regex | None = None
    for order in _orders(delta, finals):
        try:
            r = eliminate(delta, alphabet, start, finals, max_length=max_length, order=order)
        except BudgetExceededError as err:
            first_error = first_error or err
            if order is None:
                break  # the greedy order is the cheapest; others would not do better in time
            continue
        plain = plain or r
        found.setdefault(to_readable(r), r)
    if plain is None:
        assert first_error is not None
        raise first_error

    def check(candidate: Regex) -> bool:
        return same_language(candidate, delta, alphabet, start, finals)

    for text in sorted(found, key=lambda t: (len(t), t)):
        if len(text) > MAX_CHECKED:
            return found[text]  # too long to check cheaply: exact by construction
        if check(found[text]):
            return _rewrite(found[text], check)
    return plain
