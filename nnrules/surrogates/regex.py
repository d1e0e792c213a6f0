"""Regular expressions from automata by state elimination, with algebraic simplification.

Expressions are small immutable trees (never strings that get re-parsed); smart constructors
simplify as they build (``∅`` absorbs, ``ε`` is a unit, alternatives of single symbols merge into
one character class, ``(ε|x)*`` is ``x*``, ``x x*`` prints as ``x+``). ``to_python`` gives a
pattern Python's ``re`` compiles and matches with ``fullmatch``; ``to_readable`` the same shape
with plain parentheses.

Examples
--------
>>> from nnrules.surrogates.regex import sym, cat, star, alt, to_python
>>> to_python(cat(sym("1"), star(alt(sym("0"), sym("1")))))
'1[01]*'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nnrules.exceptions import BudgetExceededError

__all__ = [
    "EMPTY", "EPS", "MAX_LENGTH", "Regex", "alt", "cat", "eliminate", "star", "sym", "to_python",
    "to_readable",
]

MAX_LENGTH = 50_000  # characters of one intermediate expression in state elimination


@dataclass(frozen=True)
class Regex:
    """One node: ``kind`` in {"empty", "eps", "sym", "cat", "alt", "star"}.

    ``symbols`` holds a sorted character class (kind "sym"); ``parts`` the children.
    """

    kind: str
    symbols: tuple[str, ...] = ()
    parts: tuple[Regex, ...] = ()


EMPTY = Regex("empty")
EPS = Regex("eps")


def sym(*symbols: str) -> Regex:
    """A character class of one or more tokens."""
    return Regex("sym", symbols=tuple(sorted(set(symbols))))


def cat(*items: Regex) -> Regex:
    """Concatenation: ∅ absorbs, ε vanishes, nested concatenations flatten."""
    parts: list[Regex] = []
    for item in items:
        if item.kind == "empty":
            return EMPTY
        if item.kind == "eps":
            continue
        parts.extend(item.parts if item.kind == "cat" else (item,))
    if not parts:
        return EPS
    return parts[0] if len(parts) == 1 else Regex("cat", parts=tuple(parts))


def _key(r: Regex) -> str:
    return to_python(r)


def alt(*items: Regex) -> Regex:
    """Alternation: ∅ vanishes, duplicates merge, single symbols join one class, sorted."""
    opts: dict[str, Regex] = {}
    symbols: set[str] = set()
    has_eps = False
    for item in items:
        for part in item.parts if item.kind == "alt" else (item,):
            if part.kind == "empty":
                continue
            if part.kind == "eps":
                has_eps = True
            elif part.kind == "sym":
                symbols.update(part.symbols)
            else:
                opts[_key(part)] = part
    if symbols:
        s = sym(*symbols)
        opts[_key(s)] = s
    opts = _factor(opts)
    # ε | x* is x*; ε | x+ (x x*) is x*.
    if has_eps:
        for k, part in list(opts.items()):
            if part.kind == "star":
                has_eps = False
            elif _plus_base(part) is not None and len(opts) == 1:
                opts[k] = star(_plus_base(part))
                has_eps = False
    parts = [opts[k] for k in sorted(opts)]
    if has_eps:
        parts.insert(0, EPS)
    if not parts:
        return EMPTY
    return parts[0] if len(parts) == 1 else Regex("alt", parts=tuple(parts))


def _seq(r: Regex) -> tuple[Regex, ...]:
    return r.parts if r.kind == "cat" else (r,)


def _factor(opts: dict[str, Regex]) -> dict[str, Regex]:
    """Factor a common first or last item out of two alternatives: ``x y | x z`` is
    ``x (y|z)`` and ``y x | x`` is ``y? x``. Every merge removes one alternative."""
    merged = True
    while merged and len(opts) > 1:
        merged = False
        keys = sorted(opts)
        for i, ki in enumerate(keys):
            for kj in keys[i + 1:]:
                si, sj = _seq(opts[ki]), _seq(opts[kj])
                if si[-1] == sj[-1]:
                    new = cat(alt(cat(*si[:-1]), cat(*sj[:-1])), si[-1])
                elif si[0] == sj[0]:
                    new = cat(si[0], alt(cat(*si[1:]), cat(*sj[1:])))
                else:
                    continue
                del opts[ki], opts[kj]
                opts[_key(new)] = new
                merged = True
                break
            if merged:
                break
    return opts


def _plus_base(r: Regex) -> Regex | None:
    """``x`` when ``r`` is ``x x*`` (a concatenation ending in the star of its prefix)."""
    if r.kind != "cat" or r.parts[-1].kind != "star":
        return None
    body = r.parts[-1].parts[0]
    prefix = cat(*r.parts[:-1])
    return body if prefix == body else None


def star(item: Regex) -> Regex:
    """Kleene star: ∅* = ε* = ε, x** = x*, (ε|x)* = x*."""
    if item.kind in ("empty", "eps"):
        return EPS
    if item.kind == "star":
        return item
    if item.kind == "alt" and item.parts[0].kind == "eps":
        rest = alt(*item.parts[1:])
        return star(rest)
    base = _plus_base(item)
    if base is not None:
        return star(base)
    # (x*|y)* = (x|y)* and (x* y*)* = (x|y)*: inside a star, inner stars add nothing.
    if item.kind == "alt" and any(p.kind == "star" for p in item.parts):
        return star(alt(*(p.parts[0] if p.kind == "star" else p for p in item.parts)))
    if item.kind == "cat" and all(p.kind == "star" for p in item.parts):
        return star(alt(*(p.parts[0] for p in item.parts)))
    return Regex("star", parts=(item,))


# --------------------------------------------------------------------------- printing


_META = frozenset(".^$*+?{}[]\\|()")


def _class(symbols: tuple[str, ...], python: bool) -> str:
    def esc(s: str) -> str:
        if not python:
            # A literal '.' or '+' must not read as an operator, even for people.
            return "\\" + s if s in _META else s
        return re.escape(s) if len(s) == 1 else "(?:" + re.escape(s) + ")"

    if len(symbols) == 1:
        return esc(symbols[0])
    if all(len(s) == 1 for s in symbols):
        body = "".join(("\\" + s) if s in "\\]^-[" else s for s in symbols) if python else \
            "".join(symbols)
        return "[" + body + "]"
    return ("(?:" if python else "(") + "|".join(esc(s) for s in symbols) + ")"


def _atomic(r: Regex, python: bool) -> bool:
    """Whether ``r`` prints as one unit that a following ``*``, ``+`` or ``?`` applies to whole."""
    if r.kind != "sym":
        return False
    return python or len(r.symbols) > 1 or len(r.symbols[0]) == 1


def _render(r: Regex, python: bool) -> str:
    # Nodes are shared and immutable: keep each node's Python pattern, so building an
    # expression (which renders alternatives to sort and merge them) stays linear in its size.
    slot = "_python" if python else "_readable"
    cached = r.__dict__.get(slot)
    if cached is None:
        cached = _render_node(r, python)
        object.__setattr__(r, slot, cached)
    return cached


def _render_node(r: Regex, python: bool) -> str:
    open_ = "(?:" if python else "("
    if r.kind == "empty":
        return "(?!)" if python else "∅"
    if r.kind == "eps":
        return "" if python else "ε"
    if r.kind == "sym":
        return _class(r.symbols, python)
    if r.kind == "star":
        inner = r.parts[0]
        text = _render(inner, python)
        return (text if _atomic(inner, python) else open_ + text + ")") + "*"
    if r.kind == "cat":
        out, i = [], 0
        parts = r.parts
        while i < len(parts):
            part = parts[i]
            # x x* -> x+
            if i + 1 < len(parts) and parts[i + 1].kind == "star" and parts[i + 1].parts[0] == part:
                text = _render(part, python)
                out.append((text if _atomic(part, python) else open_ + text + ")") + "+")
                i += 2
                continue
            text = _render(part, python)
            out.append(open_ + text + ")" if part.kind == "alt" and not _is_optional(part)
                       else text)
            i += 1
        return "".join(out)
    # alt
    if _is_optional(r):
        rest = alt(*r.parts[1:])
        text = _render(rest, python)
        return (text if _atomic(rest, python) else open_ + text + ")") + "?"
    return "|".join(
        open_ + _render(p, python) + ")" if p.kind == "alt" else _render(p, python)
        for p in r.parts
    )


def _is_optional(r: Regex) -> bool:
    return r.kind == "alt" and r.parts[0].kind == "eps"


def to_python(r: Regex) -> str:
    """A pattern for Python's ``re`` (non-capturing groups), meant for ``re.fullmatch``."""
    return _render(r, True)


def to_readable(r: Regex) -> str:
    """The same expression for people: plain parentheses, ``ε`` and ``∅`` spelled out."""
    return _render(r, False)


# --------------------------------------------------------------------------- elimination


def eliminate(delta: np.ndarray, alphabet: tuple[str, ...], start: int,
              finals: np.ndarray, *, max_length: int = MAX_LENGTH,
              order: Sequence[int] | None = None) -> Regex:
    """The language of a DFA as a regular expression, by state elimination.

    Parameters
    ----------
    delta : ndarray of int, shape (n_states, n_symbols)
    alphabet : tuple of str
    start : int
    finals : ndarray of bool, shape (n_states,)
    max_length : int, default ``MAX_LENGTH`` (50,000)
        Budget: state elimination can grow expressions exponentially in the number of states;
        an intermediate expression longer than this many characters ends it.
    order : sequence of int, optional
        The order in which states are eliminated (states that cannot reach a final state are
        skipped); default: cheapest first (see Returns). Any order gives the same language.

    Returns
    -------
    Regex
        States that cannot reach a final state are dropped first; the rest are eliminated
        cheapest first (fewest in × out edges, ties by state number, so the result is
        deterministic).

    Raises
    ------
    BudgetExceededError
        An expression grew past ``max_length`` characters.
    """
    n = delta.shape[0]
    # Keep states on some path start -> final.
    reach_final = finals.copy()
    while True:
        grown = reach_final | reach_final[delta].any(axis=1)
        if (grown == reach_final).all():
            break
        reach_final = grown
    if not reach_final[start]:
        return EMPTY
    S, F = n, n + 1
    edges: dict[tuple[int, int], Regex] = {}
    for q in range(n):
        if not reach_final[q]:
            continue
        by_target: dict[int, list[str]] = {}
        for a, t in enumerate(delta[q]):
            if reach_final[t]:
                by_target.setdefault(int(t), []).append(alphabet[a])
        for t, symbols in by_target.items():
            edges[(q, t)] = sym(*symbols)
        if finals[q]:
            edges[(q, F)] = EPS
    edges[(S, start)] = EPS
    remaining = {q for q in range(n) if reach_final[q]}
    queue = None if order is None else [int(q) for q in order if reach_final[q]]
    while remaining:
        def cost(q: int) -> tuple[int, int]:
            ins = sum(1 for (a, b) in edges if b == q and a != q)
            outs = sum(1 for (a, b) in edges if a == q and b != q)
            return (ins * outs, q)

        q = queue.pop(0) if queue else min(remaining, key=cost)
        remaining.discard(q)
        loop = star(edges.pop((q, q), EMPTY))
        ins = [(a, r) for (a, b), r in edges.items() if b == q]
        outs = [(b, r) for (a, b), r in edges.items() if a == q]
        for a, _ in ins:
            del edges[(a, q)]
        for b, _ in outs:
            del edges[(q, b)]
        for a, r_in in ins:
            for b, r_out in outs:
                new = cat(r_in, loop, r_out)
                edges[(a, b)] = alt(edges[(a, b)], new) if (a, b) in edges else new
                if len(_key(edges[(a, b)])) > max_length:
                    raise BudgetExceededError(
                        f"The regular expression of this {n}-state automaton grows past "
                        f"{max_length} characters (state elimination is exponential in the "
                        "worst case). Read the automaton's transitions instead (to_text, "
                        "to_dot), or raise max_length.")
    return edges.get((S, F), EMPTY)
