"""A deterministic finite automaton with an output per state (a Moore machine) as a surrogate.

Binary classifiers give a DFA (outputs 0 = reject, 1 = accept); multi-class ones a Moore
machine. States are numbered canonically (breadth first from the start state, symbols in
alphabet order), so two equal languages give identical automata, texts and JSON.

Examples
--------
>>> import numpy as np
>>> from nnrules.surrogates.automaton import Automaton
>>> even_ones = Automaton.from_table(np.array([[0, 1], [1, 0]]), np.array([1, 0]),
...                                  alphabet=("0", "1"), classes=np.array([0, 1]))
>>> even_ones.predict(["", "1", "0110"]).tolist()
[1, 0, 1]
>>> even_ones.to_regex()
'(?:0|10*1)*'
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from nnrules.exceptions import BudgetExceededError, DataError, FormatError, ParameterError
from nnrules.surrogates.base import SequenceSurrogate, check_header, plain
from nnrules.surrogates.regex import MAX_LENGTH, eliminate, to_python, to_readable
from nnrules.surrogates.structure import check_automaton_transitions

__all__ = ["Automaton", "counterexample", "difference", "equivalent"]


class Automaton(SequenceSurrogate):
    """A complete DFA whose states carry class outputs.

    Parameters
    ----------
    delta : ndarray of int, shape (n_states, n_symbols)
        ``delta[q, a]``: the state after symbol ``alphabet[a]`` in state ``q``.
    output : ndarray of int, shape (n_states,)
        Index into ``classes`` of each state's output.
    alphabet : tuple of str
        The symbols (tokens); one character each for text alphabets.
    classes : ndarray of shape (n_classes,)
        The network's labels.
    start : int, default 0
    notes : dict, optional
        Provenance kept in the JSON (method, training lengths, ...).
    """

    FORMAT: ClassVar[str] = "nnrules/automaton"
    VERSION: ClassVar[int] = 1

    def __init__(self, delta: np.ndarray, output: np.ndarray, *, alphabet: Sequence[str],
                 classes: np.ndarray, start: int = 0, notes: dict | None = None) -> None:
        delta = np.asarray(delta, dtype=np.int64)
        output = np.asarray(output, dtype=np.int64)
        alphabet = tuple(str(a) for a in alphabet)
        n = output.shape[0]
        if delta.ndim != 2 or delta.shape != (n, len(alphabet)):
            raise ParameterError(
                f"delta must have shape (n_states, n_symbols) = ({n}, {len(alphabet)}); got "
                f"{delta.shape}.")
        if n == 0 or delta.min() < 0 or delta.max() >= n or not 0 <= start < n:
            raise ParameterError(f"delta and start must name states 0..{n - 1}.")
        if len(set(alphabet)) != len(alphabet) or "" in alphabet:
            raise ParameterError(f"The alphabet must hold distinct non-empty symbols; got "
                                 f"{alphabet!r}.")
        self.delta, self.output, self.alphabet = delta, output, alphabet
        self.classes = np.asarray(classes)
        self.start = int(start)
        self.notes = dict(notes or {})
        self._regex_cache: dict[int, Any] = {}

    @classmethod
    def from_table(cls, delta: np.ndarray, output: np.ndarray, *, alphabet: Sequence[str],
                   classes: np.ndarray, start: int = 0, notes: dict | None = None) -> Automaton:
        """Build from a transition table (same parameters as the constructor)."""
        return cls(delta, output, alphabet=alphabet, classes=classes, start=start, notes=notes)

    # ------------------------------------------------------------------ basic properties
    @property
    def n_states(self) -> int:
        return int(self.output.shape[0])

    def __repr__(self) -> str:
        return (f"Automaton(n_states={self.n_states}, alphabet={self.alphabet!r}, "
                f"classes={self.classes.tolist()!r})")

    # ------------------------------------------------------------------ running
    def encode(self, X: Any) -> list[np.ndarray]:
        """Token indices of each sequence.

        ``X`` is a ``Sequences`` container (anything with ``tokens``), a list of strings (one
        character per symbol when every symbol is one character, else whitespace-separated
        tokens) or a list of token lists. Raises ``DataError`` naming an unknown symbol.
        """
        seqs = getattr(X, "tokens", X)
        if isinstance(seqs, str):
            raise DataError("Pass a list of sequences, not one string: e.g. predict(['0110']).")
        index = {a: i for i, a in enumerate(self.alphabet)}
        chars = all(len(a) == 1 for a in self.alphabet)
        out = []
        for row, seq in enumerate(seqs):
            if isinstance(seq, str):
                seq = list(seq) if chars else seq.split()
            try:
                out.append(np.fromiter((index[t] for t in seq), dtype=np.int64, count=len(seq)))
            except KeyError as err:
                raise DataError(
                    f"Sequence {row} holds the symbol {err.args[0]!r}, which is not in the "
                    f"automaton's alphabet {list(self.alphabet)!r}. Use the alphabet the "
                    "automaton was extracted with.") from None
        return out

    def run(self, X: Any) -> np.ndarray:
        """The state each sequence ends in, shape (n_sequences,), all sequences stepped at once."""
        ids = self.encode(X)
        n = len(ids)
        lengths = np.fromiter((len(s) for s in ids), dtype=np.int64, count=n)
        states = np.full(n, self.start, dtype=np.int64)
        if n == 0 or lengths.max(initial=0) == 0:
            return states
        padded = np.zeros((n, int(lengths.max())), dtype=np.int64)
        mask = np.arange(padded.shape[1]) < lengths[:, None]
        padded[mask] = np.concatenate(ids)
        for t in range(padded.shape[1]):
            live = mask[:, t]
            states[live] = self.delta[states[live], padded[live, t]]
        return states

    def predict(self, X: Any) -> np.ndarray:
        """The output label of each sequence, shape (n_sequences,)."""
        return self.classes[self.output[self.run(X)]]

    def explain(self, X: Any) -> np.ndarray:
        """The state that decided each sequence (the state it ends in), shape (n_sequences,)."""
        return self.run(X)

    def path(self, sequence: Any) -> list[int]:
        """The states visited reading one sequence, start state first."""
        ids = self.encode([sequence])[0]
        states = [self.start]
        for a in ids:
            states.append(int(self.delta[states[-1], a]))
        return states

    def reasons(self, X: Any) -> list[str]:
        """The state path of each sequence: ``q0 -1-> q1 -0-> q2 => 1``."""
        out = []
        for seq, ids in zip(getattr(X, "tokens", X), self.encode(X), strict=True):
            del seq
            q, parts = self.start, [f"q{self.start}"]
            for a in ids:
                q = int(self.delta[q, a])
                parts.append(f"-{self.alphabet[a]}-> q{q}")
            parts.append(f"=> {plain(self.classes[self.output[q]])}")
            out.append(" ".join(parts))
        return out

    # ------------------------------------------------------------------ minimisation
    def reachable(self) -> Automaton:
        """The same automaton with unreachable states removed, renumbered canonically."""
        order, seen = [self.start], {self.start: 0}
        queue = deque([self.start])
        while queue:
            q = queue.popleft()
            for t in self.delta[q]:
                t = int(t)
                if t not in seen:
                    seen[t] = len(order)
                    order.append(t)
                    queue.append(t)
        remap = np.full(self.n_states, -1, dtype=np.int64)
        remap[order] = np.arange(len(order))
        return Automaton(remap[self.delta[order]], self.output[order], alphabet=self.alphabet,
                         classes=self.classes, start=0, notes=self.notes)

    def minimize(self) -> Automaton:
        """The minimal equivalent Moore machine (Hopcroft's partition refinement).

        Starts from the partition by output and splits blocks by the inverse transitions of
        waiting splitters, each time keeping the smaller half waiting.
        """
        a = self.reachable()
        n, k = a.n_states, len(a.alphabet)
        block = np.unique(a.output, return_inverse=True)[1].astype(np.int64)
        blocks: list[set[int]] = [set(np.flatnonzero(block == b).tolist())
                                  for b in range(int(block.max()) + 1)]
        # inverse[s][q]: states going to q on symbol s
        inverse = [[[] for _ in range(n)] for _ in range(k)]
        for q in range(n):
            for s in range(k):
                inverse[s][int(a.delta[q, s])].append(q)
        waiting = deque((b, s) for b in range(len(blocks)) for s in range(k))
        in_waiting = set(waiting)
        while waiting:
            b, s = waiting.popleft()
            in_waiting.discard((b, s))
            pre = {p for q in blocks[b] for p in inverse[s][q]}
            if not pre:
                continue
            for c in sorted({int(block[p]) for p in pre}):
                inside = blocks[c] & pre
                if len(inside) == len(blocks[c]):
                    continue
                outside = blocks[c] - inside
                new = len(blocks)
                small, large = (inside, outside) if len(inside) <= len(outside) else (outside, inside)
                blocks[c], blocks_new = large, small
                blocks.append(blocks_new)
                block[list(blocks_new)] = new
                # Whether or not (c, t) still waits (now with the larger half), the smaller
                # half must wait: Hopcroft's "process the smaller half" rule.
                for t in range(k):
                    waiting.append((new, t))
                    in_waiting.add((new, t))
        reps = [min(bl) for bl in blocks]
        delta = block[a.delta[reps]]
        out = a.output[reps]
        return Automaton(delta, out, alphabet=a.alphabet, classes=a.classes,
                         start=int(block[a.start]), notes=a.notes).reachable()

    # ------------------------------------------------------------------ views
    def _class_index(self, label: Any) -> int:
        where = np.flatnonzero(self.classes == label)
        if where.size == 0:
            raise ParameterError(f"Unknown class {label!r}; the classes are "
                                 f"{self.classes.tolist()!r}.")
        return int(where[0])

    def _regex_tree(self, label: Any = None):
        c = len(self.classes) - 1 if label is None else self._class_index(label)
        if c not in self._regex_cache:
            try:
                self._regex_cache[c] = eliminate(self.delta, self.alphabet, self.start,
                                                 self.output == c)
            except BudgetExceededError as err:
                self._regex_cache[c] = err  # remember: the budget is spent once
        found = self._regex_cache[c]
        if isinstance(found, BudgetExceededError):
            raise found
        return found

    def _regex_or_none(self, label: Any = None, *, readable: bool = False) -> str | None:
        """``to_regex`` or None when the expression is past its budget."""
        try:
            return self.to_regex(label, readable=readable)
        except BudgetExceededError:
            return None

    def to_regex(self, label: Any = None, *, readable: bool = False) -> str:
        """A regular expression for the sequences labelled ``label`` (default: the last class,
        i.e. "accept" for a binary network).

        The pattern is Python ``re`` syntax, meant for ``re.fullmatch`` on the concatenated
        tokens; ``readable=True`` gives plain parentheses, ``ε`` and ``∅``.

        Raises
        ------
        BudgetExceededError
            The expression grows past ``nnrules.surrogates.regex.MAX_LENGTH`` characters (state
            elimination is exponential in the worst case); JSON and text then omit it.
        """
        tree = self._regex_tree(label)
        return to_readable(tree) if readable else to_python(tree)

    def regex_predict(self, X: Any, label: Any = None) -> np.ndarray:
        """Whether each sequence fully matches ``to_regex(label)``, shape (n_sequences,)."""
        pattern = re.compile(self.to_regex(label))
        seqs = getattr(X, "tokens", X)
        return np.array([pattern.fullmatch(s if isinstance(s, str) else "".join(s)) is not None
                         for s in seqs], dtype=bool)

    def _edge_labels(self) -> dict[tuple[int, int], list[str]]:
        labels: dict[tuple[int, int], list[str]] = {}
        for q in range(self.n_states):
            for s, t in enumerate(self.delta[q]):
                labels.setdefault((q, int(t)), []).append(self.alphabet[s])
        return labels

    def to_networkx(self):
        """A ``networkx.DiGraph``: node attributes ``output``, ``start``; edge attribute
        ``symbols`` (list) and ``label`` (comma-joined)."""
        import networkx as nx

        g = nx.DiGraph()
        for q in range(self.n_states):
            g.add_node(q, output=plain(self.classes[self.output[q]]), start=q == self.start)
        for (q, t), symbols in self._edge_labels().items():
            g.add_edge(q, t, symbols=symbols, label=",".join(symbols))
        return g

    def to_dot(self) -> str:
        """Graphviz DOT text; accepting (last-class) states drawn with a double circle."""
        last = len(self.classes) - 1
        lines = ["digraph automaton {", "  rankdir=LR;", '  __start [shape=point, label=""];']
        for q in range(self.n_states):
            shape = "doublecircle" if self.output[q] == last else "circle"
            out = plain(self.classes[self.output[q]])
            lines.append(f'  q{q} [shape={shape}, label="q{q}\\n{out}"];')
        lines.append(f"  __start -> q{self.start};")
        for (q, t), symbols in self._edge_labels().items():
            text = ",".join(symbols).replace("\\", "\\\\").replace('"', '\\"')
            lines.append(f'  q{q} -> q{t} [label="{text}"];')
        lines.append("}")
        return "\n".join(lines) + "\n"

    def to_text(self) -> str:
        """The transition table, each state's output and the regular expression."""
        width = max(len(a) for a in self.alphabet)
        head = "state  output  " + "  ".join(a.rjust(width + 1) for a in self.alphabet)
        rows = [(f"Automaton: {self.n_states} states over {list(self.alphabet)!r}, "
                f"start q{self.start}"), head]
        for q in range(self.n_states):
            cells = "  ".join(f"q{int(t)}".rjust(width + 1) for t in self.delta[q])
            rows.append(f"q{q:<5d} {plain(self.classes[self.output[q]])!s:<7s} {cells}")
        regex = self._regex_or_none(readable=True)
        rows.append(f"regex ({plain(self.classes[-1])}): " + (
            regex if regex is not None else
            f"omitted, longer than {MAX_LENGTH} characters (read the transitions above)"))
        return "\n".join(rows)

    def complexity(self) -> dict[str, int]:
        """States, transitions that do not go to a rejecting sink, alphabet size, regex length."""
        sinks = [q for q in range(self.n_states)
                 if (self.delta[q] == q).all()]
        into_sink = int(np.isin(self.delta, sinks).sum()) if sinks else 0
        return {"states": self.n_states, "transitions": int(self.delta.size) - into_sink,
                "sink_states": len(sinks), "alphabet": len(self.alphabet),
                "regex_length": len(regex) if (regex := self._regex_or_none(
                    readable=True)) is not None else None}

    def report_details(self, X: Any, reference: np.ndarray) -> dict[str, Any]:
        """Lengths of the evaluation sequences next to the longest training sequence."""
        lengths = np.array([len(s) for s in self.encode(X)])
        details: dict[str, Any] = {"eval_min_length": int(lengths.min()) if lengths.size else 0,
                                   "eval_max_length": int(lengths.max(initial=0))}
        train_max = self.notes.get("train_max_length")
        if train_max is not None and lengths.size:
            details["train_max_length"] = int(train_max)
            details["eval_longer_than_training"] = float(np.mean(lengths > train_max))
        return details

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: states with outputs, start, labelled transitions, alphabet, regexes."""
        return {
            "format": self.FORMAT,
            "version": self.VERSION,
            "alphabet": list(self.alphabet),
            "classes": [plain(c) for c in self.classes],
            "start": self.start,
            "states": [{"id": q, "output": plain(self.classes[self.output[q]])}
                       for q in range(self.n_states)],
            "transitions": [{"from": q, "symbol": self.alphabet[s], "to": int(self.delta[q, s])}
                            for q in range(self.n_states) for s in range(len(self.alphabet))],
            "regex": self._regex_or_none(),  # None: past the length budget
            "regex_readable": self._regex_or_none(readable=True),
            "regexes": {str(plain(c)): self._regex_or_none(c) for c in self.classes},
            "notes": self.notes,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Automaton:
        """Rebuild from ``to_dict`` output; ``FormatError`` on another format or version."""
        check_header(d, cls)
        try:
            alphabet = tuple(d["alphabet"])
            classes = np.asarray(d["classes"])
            ids = [s["id"] for s in d["states"]]
            n = len(ids)
            if sorted(ids) != list(range(n)):
                raise FormatError(f"State ids must be 0..{n - 1}; got {sorted(ids)!r}.")
            labels = [plain(c) for c in classes]
            output = np.array([labels.index(s["output"]) for s in sorted(
                d["states"], key=lambda s: s["id"])], dtype=np.int64)
            delta = np.full((n, len(alphabet)), -1, dtype=np.int64)
            for src, symbol, dst in check_automaton_transitions(d["transitions"], n, alphabet):
                delta[src, symbol] = dst
            start = d["start"]
            if not isinstance(start, int) or isinstance(start, bool) or not 0 <= start < n:
                raise FormatError(f"Malformed automaton JSON: start state {start!r} is not a "
                                  f"state 0..{n - 1}.")
            return cls(delta, output, alphabet=alphabet, classes=classes, start=start,
                       notes=d.get("notes"))
        except (KeyError, ValueError, TypeError, IndexError, OverflowError) as err:
            if isinstance(err, FormatError):
                raise
            raise FormatError(f"Malformed automaton JSON: {err!r}.") from None


# ---------------------------------------------------------------------- comparing automata


def _aligned(a: Automaton, b: Automaton) -> np.ndarray:
    """``b``'s transition columns in ``a``'s alphabet order; refuses different alphabets."""
    if set(a.alphabet) != set(b.alphabet):
        raise ParameterError(
            f"The automata read different alphabets: {sorted(a.alphabet)!r} and "
            f"{sorted(b.alphabet)!r}. Compare automata over one alphabet.")
    return b.delta[:, [b.alphabet.index(s) for s in a.alphabet]]


def _outputs(a: Automaton) -> list:
    return [plain(c) for c in a.classes[a.output]]


def counterexample(a: Automaton, b: Automaton) -> tuple[str, ...] | None:
    """A shortest sequence the two automata label differently, or None if they agree on all.

    Breadth-first search of the product automaton (pairs of states), symbols in ``a``'s
    alphabet order, so the answer is the shortest and, among those, the first.
    """
    bd = _aligned(a, b)
    oa, ob = _outputs(a), _outputs(b)
    start = (a.start, b.start)
    parent: dict[tuple[int, int], tuple[tuple[int, int], int] | None] = {start: None}
    queue = deque([start])
    while queue:
        p, q = queue.popleft()
        if oa[p] != ob[q]:
            word, node = [], (p, q)
            while parent[node] is not None:
                node, s = parent[node]
                word.append(a.alphabet[s])
            return tuple(reversed(word))
        for s in range(len(a.alphabet)):
            nxt = (int(a.delta[p, s]), int(bd[q, s]))
            if nxt not in parent:
                parent[nxt] = ((p, q), s)
                queue.append(nxt)
    return None


def equivalent(a: Automaton, b: Automaton) -> bool:
    """Whether ``a`` and ``b`` give every sequence the same label (product construction)."""
    return counterexample(a, b) is None


def difference(a: Automaton, b: Automaton) -> Automaton:
    """A DFA accepting exactly the sequences on which ``a`` and ``b`` disagree (minimised).

    Its classes are ``[False, True]``; ``to_regex()`` describes the disagreement.
    """
    bd = _aligned(a, b)
    oa, ob = _outputs(a), _outputs(b)
    index = {(a.start, b.start): 0}
    pairs = [(a.start, b.start)]
    rows: list[list[int]] = []
    i = 0
    while i < len(pairs):
        p, q = pairs[i]
        row = []
        for s in range(len(a.alphabet)):
            nxt = (int(a.delta[p, s]), int(bd[q, s]))
            if nxt not in index:
                index[nxt] = len(pairs)
                pairs.append(nxt)
            row.append(index[nxt])
        rows.append(row)
        i += 1
    out = np.array([int(oa[p] != ob[q]) for p, q in pairs])
    return Automaton(np.array(rows), out, alphabet=a.alphabet,
                     classes=np.array([False, True])).minimize()
