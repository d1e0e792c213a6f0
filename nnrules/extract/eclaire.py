"""ECLAIRE (``eclaire``): Espinosa Zarlenga, Shams & Jamnik, 2021.

For every hidden layer, a tree learns the network's classes from that layer's activations; each
of its leaves is an intermediate rule "clause on layer k -> class". Then, clause-wise, a tree
learns from the *inputs* where that clause holds (no layer-by-layer chain), and its "holds"
leaves become input rules for the clause's class. The rules of all layers are pooled
(optionally with rules learned on the inputs directly), simplified per class, ranked by
confidence on the training rows, and kept as a decision list while each rule still adds correct
decisions (:func:`nnrules.extract.decompose.assemble.ranked_rules`). Cheaper than DeepRED: no
products of rule sets, one input tree per intermediate clause.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from nnrules._validation import Interval, Options
from nnrules.extract.decompose.assemble import generalise, ranked_rules
from nnrules.extract.decompose.budget import OutOfBudget
from nnrules.extract.decompose.extractor import COMMON_CONSTRAINTS, DecompositionalExtractor
from nnrules.extract.decompose.prune import prune_inputs
from nnrules.extract.decompose.terms import Term, clause_mask, learn_clauses

__all__ = ["EclaireExtractor"]


class EclaireExtractor(DecompositionalExtractor):
    """Rules from every hidden layer, each rewritten on the inputs directly.

    Parameters
    ----------
    network : Network
        A dense feed-forward classifier (``nnrules.load``).
    min_samples_leaf : float, default=0.01
        Fewest training rows in a leaf of every tree: a fraction of the rows below 1, else a
        count.
    max_depth : int or None, default=None
        Depth limit of every tree.
    max_leaves : int or None, default=None
        Leaf limit of the layer-to-class trees (None: only ``min_samples_leaf`` limits them).
    include_input : bool, default=False
        Also learn rules from the inputs to the classes directly (the paper's optional input
        layer).
    min_gain : float, default=0.005
        A ranked rule is kept when it decides at least this many training rows correctly that
        no earlier rule decided (and more correctly than wrongly): a fraction of the rows below
        1, else a count.
    generalise : float or None, default=0.0
        Before ranking, drop a rule's conditions greedily while its confidence on the training
        rows falls by at most this much (:func:`~nnrules.extract.decompose.assemble.generalise`);
        None keeps the rules as learned.
    prune : bool, default=False
        RxREN input pruning (:func:`~nnrules.extract.decompose.prune_inputs`) before the
        input trees: inputs the network barely reads are never tested.
    prune_tolerance : float, default=0.01
        Largest fraction of training rows whose prediction may change when the pruned inputs
        are set to their medians.
    max_samples : int or None, default=None
        Rows each input tree learns from: every row where its clause holds (up to half) and a
        seeded sample of the others; None uses every training row.
    max_rules : int or None, default=None
        Most rules in the result; reaching it marks the result partial.
    max_terms : int or None, default=None
        Most distinct hidden-unit terms whose clauses are rewritten on the inputs.
    max_seconds : float or None, default=60.0
        Time budget; the rules finished when it runs out are returned, marked partial.
    random_state : int or None, default=None
        Seeds the trees' tie-breaking; the same seed gives the same file.

    Attributes
    ----------
    surrogate_ : RuleSet
        An ordered decision list on the inputs, with a default class.
    partial_reason_ : str or None
        Why a budget stopped the extraction early, else None.
    trace_ : Trace
        The intermediate rules; ``to_networkx()`` returns it as a graph.
    """

    method = "eclaire"
    _parameter_constraints: ClassVar[dict] = {
        **COMMON_CONSTRAINTS,
        "max_leaves": Interval(int, 2, None, allow_none=True),
        "include_input": Options((True, False)),
        "min_gain": Interval(float, 0, None, closed="neither"),
        "generalise": Interval(float, 0, 1, allow_none=True),
        "prune": Options((True, False)),
        "max_samples": Interval(int, 2, None, allow_none=True),
        "prune_tolerance": Interval(float, 0, 1, closed="left"),
    }

    def __init__(self, network, *, min_samples_leaf: float = 0.01, max_depth: int | None = None,
                 max_leaves: int | None = None, include_input: bool = False,
                 min_gain: float = 0.005,
                 generalise: float | None = 0.0, prune: bool = False,
                 prune_tolerance: float = 0.01, max_samples: int | None = None,
                 max_rules: int | None = None, max_terms: int | None = None,
                 max_seconds: float | None = 60.0, random_state: int | None = None):
        self.network = network
        self.min_samples_leaf = min_samples_leaf
        self.max_depth = max_depth
        self.max_leaves = max_leaves
        self.include_input = include_input
        self.min_gain = min_gain
        self.generalise = generalise
        self.prune = prune
        self.prune_tolerance = prune_tolerance
        self.max_samples = max_samples
        self.max_rules = max_rules
        self.max_terms = max_terms
        self.max_seconds = max_seconds
        self.random_state = random_state

    def _fit(self, X: np.ndarray, y: np.ndarray | None):
        ws = self._prepare(X)
        n_min = self._min_leaf(ws.n_rows)
        self.pruned_inputs_ = None
        self._columns = None
        if self.prune:
            self.pruned_inputs_ = prune_inputs(self.oracle_, X, self.prune_tolerance)
            self._columns = np.asarray(self.pruned_inputs_.kept, dtype=np.int64)
        candidates: list[tuple[tuple, int]] = []
        first = 0 if self.include_input else 1
        gain = self._min_leaf(ws.n_rows, self.min_gain)
        try:
            for level in range(ws.stack.n_hidden, first - 1, -1):
                ws.budget.tick()
                leaves = learn_clauses(ws.levels[level], ws.labels, min_samples_leaf=n_min,
                                       max_depth=self.max_depth, max_leaves=self.max_leaves,
                                       columns=self._columns if level == 0 else None,
                                       schema=self.schema_ if level == 0 else None,
                                       random_state=ws.seed)
                leaves.sort(key=lambda leaf: (-leaf.support, leaf.clause))
                for leaf in leaves:
                    node = ws.trace.add(level, leaf.clause, leaf.value, support=leaf.support,
                                        confidence=leaf.confidence)
                    if level == 0:
                        candidates.append((leaf.clause, leaf.value))
                        continue
                    if leaf.support < gain:
                        continue  # no rule inside it could decide enough rows to be kept
                    self._rewrite(ws, level, leaf, node, n_min, candidates)
        except OutOfBudget as stop:
            self._stopped(stop.reason)
        if self.generalise is not None:
            X0 = ws.levels[0]
            candidates = [(generalise(c, k, X0, ws.labels, tolerance=self.generalise), k)
                          for c, k in candidates]
        ruleset, truncated = ranked_rules(candidates, ws.levels[0], ws.labels,
                                          classes=ws.classes, schema=self.schema_,
                                          max_rules=self.max_rules,
                                          min_gain=gain)
        return self._finish(ws, ruleset, truncated)

    def _sample(self, target: np.ndarray, seed: int) -> np.ndarray:
        """Rows for one input tree: every row where the clause holds (up to half the sample)
        and a seeded random share of the others, sorted."""
        rng = np.random.default_rng(seed + int(target.sum()))
        pos, neg = np.flatnonzero(target), np.flatnonzero(target == 0)
        half = self.max_samples // 2
        if len(pos) > half:
            pos = np.sort(rng.choice(pos, size=half, replace=False))
        k = min(len(neg), self.max_samples - len(pos))
        neg = np.sort(rng.choice(neg, size=k, replace=False))
        return np.sort(np.concatenate([pos, neg]))

    def _rewrite(self, ws, level, leaf, node, n_min, candidates) -> None:
        """Learn where ``leaf.clause`` holds from the inputs; add its input clauses."""
        new = {Term(level, c.feature, c.value) for c in leaf.clause} - set(ws.trace.term_support)
        ws.budget.charge_terms(len(new))
        for term in sorted(new):
            ws.trace.note_term(term, int(term.holds(ws.levels).sum()))
        ws.budget.tick()
        target = clause_mask(leaf.clause, ws.levels[level]).astype(np.int64)
        X0 = ws.levels[0]
        if self.max_samples is not None and len(target) > self.max_samples:
            rows = self._sample(target, ws.seed)
            X0, target = X0[rows], target[rows]
            n_min = max(1, round(n_min * len(rows) / ws.n_rows))
        for il in learn_clauses(X0, target, min_samples_leaf=n_min,
                                max_depth=self.max_depth, schema=self.schema_,
                                columns=self._columns,
                                random_state=ws.seed):
            if il.value == 1:
                ws.trace.add(0, il.clause, node, support=il.support, confidence=il.confidence)
                candidates.append((il.clause, leaf.value))
