r"""Recurrent classifier → minimal DFA (Moore machine) and regular expression.

Two steps (ALGORITHMS.md, "automaton"):

1. **White-box abstraction** (Omlin & Giles 1996; Wang et al. 2018): the hidden state after
   every prefix of the extraction sequences is read from the recurrent ops (``Y_h``, and
   ``Y_c`` for LSTM), clustered with k-means for growing ``k``; each partition gives a
   transition graph (majority vote where prefixes of one cluster disagree, a representative
   prefix's successor where no prefix was seen), states labelled by the network's majority
   answer, minimised. The smallest ``k`` whose automaton agrees with the network on the
   validation sequences (longer than the extraction ones) is kept: the number of states is
   chosen by fidelity, not fixed.
2. **L\* refinement** (Weiss, Goldberg & Yahav 2018): the network answers membership queries;
   a hypothesis is checked against the abstraction (product construction: sequences where the
   two differ are asked of the network) and against sampled sequences up to twice the longest
   extraction sequence, drawn so every output class of the hypothesis is tested; a
   counterexample refines the hypothesis. Query and time budgets end the loop gracefully.

Graphs without a recurrent op (unrolled or custom loops) go straight to L*.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import numpy as np

from nnrules._validation import (
    RANDOM_STATE,
    Interval,
    Options,
    check_random_state,
    validate_params,
)
from nnrules.extract.base import Extractor
from nnrules.extract.engines.lstar import lstar, sample_by_output
from nnrules.io.sequences import Sequences, as_sequences
from nnrules.oracles import SequenceOracle, prefix_answers
from nnrules.surrogates.automaton import Automaton

__all__ = ["AutomatonExtractor", "budget_warning", "run_table", "whitebox_abstraction"]


def run_table(delta: np.ndarray, output: np.ndarray, ids: list[np.ndarray],
              start: int = 0) -> np.ndarray:
    """Outputs of a transition table on token-index sequences, all stepped at once, shape (n,)."""
    n = len(ids)
    lengths = np.array([len(s) for s in ids], dtype=np.int64)
    states = np.full(n, start, dtype=np.int64)
    if n and lengths.max() > 0:
        padded = np.zeros((n, int(lengths.max())), dtype=np.int64)
        mask = np.arange(padded.shape[1]) < lengths[:, None]
        padded[mask] = np.concatenate(ids)
        for t in range(padded.shape[1]):
            live = mask[:, t]
            states[live] = delta[states[live], padded[live, t]]
    return output[states]


def _prefixes(ids: list[np.ndarray]) -> list[tuple[int, ...]]:
    seen = {()}
    for seq in ids:
        t = tuple(int(a) for a in seq)
        seen.update(t[:i] for i in range(1, len(t) + 1))
    return sorted(seen, key=lambda w: (len(w), w))


def _partition_automaton(read: Any, prefixes: list[tuple[int, ...]],
                         labels: np.ndarray, states: np.ndarray, cluster: np.ndarray,
                         centers: np.ndarray, n_symbols: int) -> tuple[np.ndarray, np.ndarray]:
    """Transition table and outputs of one partition of the state space (start = ε's cluster,
    renumbered to 0 by the caller's minimisation)."""
    k = centers.shape[0]
    index = {p: i for i, p in enumerate(prefixes)}
    votes = np.zeros((k, n_symbols, k), dtype=np.int64)
    child = np.array([i for i, p in enumerate(prefixes) if p], dtype=np.int64)
    if child.size:
        parent = np.array([index[prefixes[i][:-1]] for i in child])
        symbol = np.array([prefixes[i][-1] for i in child])
        np.add.at(votes, (cluster[parent], symbol, cluster[child]), 1)
    delta = votes.argmax(axis=2)
    missing = votes.sum(axis=2) == 0
    if missing.any():
        # Follow the prefix nearest each cluster centre one symbol further.
        dist = ((states - centers[cluster]) ** 2).sum(axis=1)
        rep = np.full(k, -1)
        for c in range(k):
            members = np.flatnonzero(cluster == c)
            if members.size:
                rep[c] = members[np.argmin(dist[members])]
        pairs = [(c, a) for c, a in zip(*np.nonzero(missing), strict=True) if rep[c] >= 0]
        if pairs:
            words = [np.array(prefixes[rep[c]] + (a,), dtype=np.int64) for c, a in pairs]
            st = read(words)
            near = ((st[:, None, :] - centers[None]) ** 2).sum(axis=2).argmin(axis=1)
            for (c, a), t in zip(pairs, near, strict=True):
                delta[c, a] = t
    n_classes = int(labels.max()) + 1
    output = np.zeros(k, dtype=np.int64)
    counts = np.zeros((k, n_classes), dtype=np.int64)
    np.add.at(counts, (cluster, labels), 1)
    output[:] = counts.argmax(axis=1)
    return delta, output


def whitebox_abstraction(oracle: SequenceOracle, ids: list[np.ndarray],
                         validation: list[np.ndarray], reference: np.ndarray, *,
                         max_states: int, random_state: int,
                         tolerance: float = 0.0) -> tuple[Automaton | None, dict]:
    """Partition the hidden states, pick the number of clusters by fidelity on ``validation``.

    Returns the minimised automaton of the first partition that agrees with ``reference`` on
    all but a ``tolerance`` fraction of the validation sequences (else the most faithful one)
    and a dict of what was tried.
    """
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    # States after every prefix from the ops' per-step output Y (one network run per length);
    # else (the head reads an LSTM cell state) one run per prefix.
    got = prefix_answers(oracle, ids)
    if got is None:
        prefixes = _prefixes(ids)
        labels, states = oracle.states([np.array(p, dtype=np.int64) for p in prefixes])

        def read(words: list[np.ndarray]) -> np.ndarray:
            return oracle.states(words)[1]
    else:
        prefixes, labels, states = got

        def read(words: list[np.ndarray]) -> np.ndarray:
            seen, _, st = prefix_answers(oracle, words)
            index = {w: i for i, w in enumerate(seen)}
            return st[[index[tuple(int(a) for a in w)] for w in words]]
    n_symbols = len(oracle.alphabet)
    uniq = np.unique(np.round(states, 6), axis=0).shape[0]
    best: tuple[float, Automaton | None] = (-1.0, None)
    tried: list[dict] = []
    k = 2
    while k <= min(max_states, uniq):
        # One thread: k-means on a few thousand states is fast, but its thread pool on a
        # shared machine can be 10x slower than a single thread.
        with threadpool_limits(limits=1):
            km = KMeans(n_clusters=k, n_init=3, random_state=random_state).fit(states)
        delta, output = _partition_automaton(read, prefixes, labels, states, km.labels_,
                                             km.cluster_centers_, n_symbols)
        start = int(km.labels_[0])  # prefixes[0] is ε
        agree = float(np.mean(run_table(delta, output, validation, start) == reference))
        tried.append({"clusters": k, "fidelity": agree})
        if agree > best[0]:
            auto = Automaton(delta, output, alphabet=oracle.alphabet,
                             classes=oracle.classes_or_default(), start=start).minimize()
            best = (agree, auto)
        if agree >= 1.0 - tolerance:
            break
        k = k + 1 if k < 8 else int(k * 1.5)
    return best[1], {"partitions_tried": tried, "prefixes": len(prefixes),
                     "abstraction_fidelity": best[0]}


def _mutations(ids: list[np.ndarray], n_symbols: int, rng: np.random.Generator) -> list:
    """One symbol changed in each sequence: near misses that probe the language's edges."""
    out = []
    for seq in ids:
        if len(seq):
            s = seq.copy()
            s[rng.integers(len(s))] = rng.integers(n_symbols)
            out.append(s)
    return out


class AutomatonExtractor(Extractor):
    """Extract a minimal DFA (Moore machine) and a regular expression from a recurrent network.

    Parameters
    ----------
    network : Network
        A recurrent sequence classifier (``nnrules.io.model.load``).
    strategy : {"auto", "whitebox", "lstar"}, default "auto"
        "auto": white-box abstraction, then L* refined against it and against sampling (L*
        alone when the graph has no recurrent op).
    max_states : int, default 64
    n_samples : int, default 2000
        Random validation sequences (lengths 1 .. 2 × the longest extraction sequence).
    tolerance : float, default 0.001
        Equivalence by sampling passes when the hypothesis disagrees with the network on at
        most this fraction of the sampled sequences (0: chase every disagreement, which follows
        a network's isolated mistakes into large automata).
    max_queries : int, default 2_000_000
    max_seconds : float, default 60
    layout : {"batch_first", "time_first"} or None
        Overrides the input layout read from the graph.
    id_offset : int, default 0
        Token-id models: ``alphabet[i]`` has id ``i + id_offset``.
    empty_label : optional
        The answer on the empty sequence for graphs with no recurrent op.
    progress : bool, default False
    random_state : int, numpy.random.Generator or None
    """

    method: ClassVar[str] = "automaton"
    family: ClassVar[str] = "decompositional"
    data_kind: ClassVar[str] = "sequences"
    _parameter_constraints: ClassVar[dict] = {
        "strategy": Options(("auto", "whitebox", "lstar")),
        "max_states": Interval(int, 1, None),
        "n_samples": Interval(int, 1, None),
        "max_queries": Interval(int, 1, None),
        "tolerance": Interval(float, 0, 1, closed="left"),
        "max_seconds": Interval(float, 0, None, closed="neither"),
        "layout": Options(("batch_first", "time_first"), allow_none=True),
        "id_offset": Interval(int, 0, None),
        "progress": Options((True, False)),
        "random_state": RANDOM_STATE,
    }

    def __init__(self, network: Any, *, strategy: str = "auto", max_states: int = 64,
                 n_samples: int = 2000, tolerance: float = 0.001,
                 max_queries: int = 2_000_000, max_seconds: float = 60.0,
                 layout: str | None = None, id_offset: int = 0, empty_label: Any = None,
                 progress: bool = False, random_state: int | None = None) -> None:
        self.network = network
        self.strategy = strategy
        self.max_states = max_states
        self.n_samples = n_samples
        self.max_queries = max_queries
        self.tolerance = tolerance
        self.max_seconds = max_seconds
        self.layout = layout
        self.id_offset = id_offset
        self.empty_label = empty_label
        self.progress = progress
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None, *, alphabet: Any = None):
        """Extract the automaton.

        Parameters
        ----------
        X : Sequences or list of str
            Sequences the network could meet (from ``read_sequences``).
        y : ignored
        alphabet : str or sequence of str, optional
            Defaults to ``X.alphabet``.

        Returns
        -------
        self
        """
        validate_params(self)
        start = time.perf_counter()
        data = as_sequences(X, alphabet=alphabet, name="extraction sequences")
        self.oracle_ = SequenceOracle(self.network, alphabet=data.alphabet, layout=self.layout,
                                      id_offset=self.id_offset, empty_label=self.empty_label)
        self.alphabet_ = data.alphabet
        self.partial_reason_ = None
        self.surrogate_ = self._fit(data, None)
        self.n_queries_ = self.oracle_.n_queries
        self.n_train_ = len(data)
        self.fit_seconds_ = time.perf_counter() - start
        self.provenance_ = self._provenance(train_tokens=data.tokens)
        return self

    def _fit(self, data: Sequences, y: Any):
        oracle = self.oracle_
        seed = int(check_random_state(self.random_state).integers(2**31 - 1))
        rng = np.random.default_rng(seed)
        ids = data.ids
        k = len(data.alphabet)
        longest = max(1, int(data.lengths.max(initial=0)))
        # Validation: random sequences up to twice the longest seen, the extraction sequences
        # and their near misses.
        lengths = rng.integers(1, 2 * longest + 1, size=self.n_samples)
        validation = [rng.integers(k, size=n) for n in lengths] + ids + _mutations(ids, k, rng)
        reference = oracle.classify(validation)
        enc = oracle.encoding
        notes: dict[str, Any] = {"train_max_length": int(data.lengths.max(initial=0)),
                                 "validation_max_length": 2 * longest,
                                 "recurrent_ops": list(oracle.recurrent),
                                 "encoding": {"kind": enc.kind, "layout": enc.layout,
                                              "id_offset": enc.id_offset}}
        if not oracle.recurrent:
            # No initial state to read: the empty sequence's answer is given or guessed.
            notes["empty_answer"] = ("given (empty_label)" if self.empty_label is not None else
                                     "guessed: the network's most common answer on "
                                     "one-symbol sequences; pass empty_label to set it")
        abstraction = None
        if oracle.recurrent and self.strategy in ("auto", "whitebox"):
            abstraction, info = whitebox_abstraction(
                oracle, ids, validation, reference, max_states=self.max_states,
                random_state=seed, tolerance=self.tolerance)
            notes.update(info)
            notes["whitebox_states"] = abstraction.n_states if abstraction else None
            if self.strategy == "whitebox" and abstraction is not None:
                notes["strategy"] = "whitebox"
                abstraction.notes = notes
                return abstraction
        classes = oracle.classes_or_default()

        def equivalence(delta: np.ndarray, output: np.ndarray):
            words: list[np.ndarray] = []
            if abstraction is not None:
                hyp = Automaton(delta, output, alphabet=data.alphabet, classes=classes)
                words += _distinguishing(hyp, abstraction, limit=64)
            words += sample_by_output(delta, output, 0, range(1, 2 * longest + 1), 8, rng)
            words += validation
            truth = oracle.classify(words)
            wrong = np.flatnonzero(run_table(delta, output, words) != truth)
            # A sampling equivalence query with a tolerance: a network that is not exactly
            # regular (a few misclassified strings) should not blow the automaton up.
            if wrong.size <= self.tolerance * len(words):
                return None
            best = min(wrong.tolist(), key=lambda i: (len(words[i]), tuple(words[i])))
            return tuple(int(a) for a in words[best])

        result = lstar(oracle.classify, k, equivalence, queries=lambda: oracle.n_queries,
                       max_queries=self.max_queries, max_seconds=self.max_seconds,
                       max_states=self.max_states, progress=self.progress)
        learned = Automaton(result.delta, result.output, alphabet=data.alphabet,
                            classes=classes).minimize()
        notes.update({"strategy": "lstar" if abstraction is None else "whitebox+lstar",
                      "lstar_rounds": result.rounds, "lstar_stopped": result.stopped,
                      "counterexamples": len(result.counterexamples)})
        if result.stopped != "equivalent" and abstraction is not None:
            # Out of budget: keep whichever agrees more with the network on validation.
            got = np.mean(learned.predict(_tokens(validation, data.alphabet)) ==
                          classes[reference])
            if notes["abstraction_fidelity"] > got:
                learned = abstraction
                notes["strategy"] = "whitebox (L* out of budget)"
        learned.notes = notes
        return learned

    def report(self, X: Any, y: Any = None, *, data_name: str = "held-out sequences"):
        """A fidelity report (``nnrules.fidelity.FidelityReport``) on held-out sequences."""
        self._check_fitted()
        from nnrules.fidelity import evaluate

        data = as_sequences(X, alphabet=self.alphabet_, name=data_name)
        report = evaluate(self.surrogate_, self.oracle_, data, y, data_name=data_name,
                          provenance=self.provenance_)
        warning = budget_warning(self.surrogate_)
        if warning:
            report.warnings.append(warning)
        return report

    def predict(self, X: Any) -> np.ndarray:
        """The automaton's labels on sequences."""
        self._check_fitted()
        return self.surrogate_.predict(as_sequences(X, alphabet=self.alphabet_))


def budget_warning(automaton: Automaton) -> str | None:
    """The warning a report carries when L* stopped on a budget (read from the automaton's
    notes, so a saved automaton gets it too), else None."""
    stopped = (automaton.notes or {}).get("lstar_stopped")
    if stopped in (None, "equivalent"):
        return None
    return (f"L* stopped on its {stopped!r} budget before the equivalence check passed: "
            "the automaton may miss part of the network's behaviour. Raise max_queries, "
            "max_seconds or max_states.")


def _tokens(ids: list[np.ndarray], alphabet: tuple[str, ...]) -> list[tuple[str, ...]]:
    return [tuple(alphabet[a] for a in seq) for seq in ids]


def _distinguishing(a: Automaton, b: Automaton, *, limit: int) -> list[np.ndarray]:
    """Up to ``limit`` shortest sequences reaching pairs of states with different outputs in the
    product of ``a`` and ``b`` (both over the same alphabet order)."""
    from collections import deque

    oa, ob = a.classes[a.output], b.classes[b.output]
    start = (a.start, b.start)
    parent: dict = {start: None}
    queue, found = deque([start]), []
    while queue and len(found) < limit:
        p, q = queue.popleft()
        if oa[p] != ob[q]:
            word, node = [], (p, q)
            while parent[node] is not None:
                node, s = parent[node]
                word.append(s)
            found.append(np.array(word[::-1], dtype=np.int64))
        for s in range(len(a.alphabet)):
            nxt = (int(a.delta[p, s]), int(b.delta[q, s]))
            if nxt not in parent:
                parent[nxt] = ((p, q), s)
                queue.append(nxt)
    return found
