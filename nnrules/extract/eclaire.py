"""ECLAIRE (``eclaire``): Espinosa Zarlenga, Shams & Jamnik, 2021.

For every hidden layer, a tree learns the network's classes from that layer's activations; each
of its leaves is an intermediate rule "clause on layer k -> class". Then, clause-wise, a tree
learns from the *inputs* where that clause holds (no layer-by-layer chain), and its "holds"
leaves become input rules for the clause's class. The rules of all layers are pooled
(optionally with rules learned on the inputs directly), simplified per class, ranked by
confidence on the training rows, and kept as a decision list while each rule still adds correct
decisions (:func:`nnrules.extract.decompose.assemble.ranked_rules`). Last, the list's thresholds,
conditions and classes are tuned on the network's labels of the training rows and of generated
rows near them (:func:`nnrules.extract.decompose.refine.refine`; ``refine=True``). Cheaper than
DeepRED: no products of rule sets, one input tree per intermediate clause.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from nnrules._validation import Interval, Options
from nnrules.extract.decompose.assemble import ranked_rules
from nnrules.extract.decompose.binning import Binned, bin_columns
from nnrules.extract.decompose.budget import OutOfBudget
from nnrules.extract.decompose.extractor import COMMON_CONSTRAINTS, DecompositionalExtractor
from nnrules.extract.decompose.prune import prune_inputs
from nnrules.extract.decompose.terms import Term, clause_mask, learn_clauses
from nnrules.extract.decompose.widen import ConditionMasks, widen

__all__ = ["EclaireExtractor"]

_BIN_MIN_ROWS = 4000  # fits on fewer training rows learn from the raw values


class EclaireExtractor(DecompositionalExtractor):
    """Rules from every hidden layer, each rewritten on the inputs directly.

    Parameters
    ----------
    network : Network
        A dense feed-forward classifier (``nnrules.load``).
    min_samples_leaf : float, default=0.005
        Fewest training rows in a leaf of every tree: a fraction below 1, else a count. With
        ``per_class`` the fraction is of the rows of one class: for the input trees of a rule,
        the class it predicts; for the layer-to-class trees, the smallest class.
    max_depth : int or None, default=None
        Depth limit of every tree.
    max_leaves : int or None, default=32
        Leaf limit of the layer-to-class trees, per class with ``per_class`` (the trees get
        ``max_leaves`` times the number of classes); None: only ``min_samples_leaf`` limits
        them. Each of their leaves costs one input tree, so this bounds the time.
    include_input : bool, default=True
        Also learn rules from the inputs to the classes directly (the paper's optional input
        layer). On by default: it raised validation fidelity on MAGIC (+0.01-0.02) and letter
        and cost XOR nothing with ``prune``.
    min_gain : float, default=0.001
        A ranked rule is kept when it decides at least this many training rows correctly that
        no earlier rule decided (and more correctly than wrongly): a fraction below 1 (of the
        rule's class's rows with ``per_class``, else of all rows), else a count; at least 1.
    generalise : float or None, default=None
        Before ranking, drop a rule's conditions greedily while its confidence on the training
        rows falls by at most this much (:func:`~nnrules.extract.decompose.assemble.generalise`);
        None keeps the rules as learned. Off by default: 0.0 widens rules into regions without
        training rows and cost 0.04 on MAGIC's and letter's validation rows (MAGIC: 0.880 with
        14 rules against 0.928 with 65); on XOR its benefit (dropping thresholds on noise
        inputs) comes from ``prune`` instead.
    prune : bool, default=True
        RxREN input pruning (:func:`~nnrules.extract.decompose.prune_inputs`) before the
        input trees: inputs the network barely reads are never tested. On by default: on XOR's
        validation rows it lifted the 64-32-16 networks from 0.95-0.96 to 0.99-1.00 (without
        ``generalise``) and changed nothing on MAGIC, where every input matters.
    prune_tolerance : float, default=0.01
        Largest fraction of training rows whose prediction may change when the pruned inputs
        are set to their medians.
    max_samples : int or None, default=2000
        Rows each input tree learns from when there are more training rows: every row where
        its clause holds (up to half) and a seeded sample of the others, each sampled row
        weighted to stand for the rows of its kind left out. None uses every training row.
        The input trees are most of the time (1,664 of them on letter); 1,500 rows instead of
        4,000 cut letter's time by 30% for -0.004 on its validation rows.
    n_bins : int or None, default=64
        Every tree learns from its level's values coded by at most this many quantile bins per
        column (:func:`~nnrules.extract.decompose.binning.bin_columns`; thresholds are mapped
        back to real values). Columns with fewer distinct values are not changed, and neither
        are fits on at most 4,000 rows (their trees are fast, and bins of a few rows cost
        fidelity: measured on XOR's 800 rows); None learns from the raw values (slower on
        continuous inputs).
    per_class : bool, default=True
        ``min_samples_leaf``, ``min_gain`` and ``max_leaves`` are relative to each class (see
        them) rather than to all rows. With fractions of all rows, letter's 26 classes of 3.8%
        each got leaves of a quarter of a class and 0.28-0.31 fidelity; per class, the same
        defaults serve 2 and 26 classes.
    n_queries : int or None, default=None
        Generated rows added to the training rows (schema-valid, drawn near real rows by
        :class:`~nnrules.extract.engines.sampling.QuerySampler`, seeded) and labelled by the
        network; every tree, the ranking and the drop pass learn from both. None: as many as
        bring the rows to 2,000 (none for larger data). Small data sets gain most: MONK-2's
        169 rows gave 0.889 on its 432 points, 2,000 rows 0.991; on XOR's validation rows the
        median rose 0.981 -> 0.991. On MAGIC (12k rows) 8,000 more did not help.
    drop : bool, default=True
        After ranking, drop the rules whose removal does not lower the list's fidelity on the
        training (and generated) rows, and with ``max_rules`` cut the list to that size by
        removing the rules that cost least
        (:func:`~nnrules.extract.decompose.assemble.drop_idle`). It halved the rules on MAGIC
        (113 -> 65, validation fidelity 0.929 -> 0.928) and XOR.
    merge : bool, default=True
        Simplify each class's candidates as one DNF before ranking (touching clauses merged,
        subsumed ones dropped); False ranks the candidates as learned and merges only runs of
        consecutive rules of one class afterwards (exact). Merged clauses are fewer, but a
        low-confidence clause merged into a high-confidence one can decide a small class's rows
        before that class's own rules (a 4% class lost its rules that way in a test). Kept on:
        on validation rows it was level on MAGIC (0.931 / 0.943 against 0.932 / 0.940) and
        letter (0.839 against 0.837) and better on XOR (5-26 rules against 11-37, median
        fidelity 0.991 against 0.985).
    refine : bool, default=True
        After ranking (and the cut to ``max_rules``), tune the decision list on the network's
        labels (:func:`~nnrules.extract.decompose.refine.refine`): each rule's thresholds move
        to the cut point, condition drop, added condition or class that raises the list's right
        answers most, rule by rule, two rounds; then the rules left idle go. It learns from
        the training rows plus ``refine_queries`` generated rows per training row, so that it
        follows the network rather than the training rows: on the training rows alone it
        raised MAGIC's training fidelity 0.945 -> 0.969 and validation by only 0.001. Measured
        on the validation rows split from the training rows (never the test rows), with
        against without: MAGIC s0 / s1 / s2 0.931 / 0.927 / 0.943 -> 0.934 / 0.932 / 0.946;
        letter at ``max_rules=600`` 0.841 / 0.834 / 0.837 -> 0.876 / 0.872 / 0.870 (uncapped
        letter lists stay larger than 600). With ``random_state`` 0-3 on MAGIC's three
        networks it raised validation fidelity in 11 of 12 fits (mean +0.007, one -0.006); on
        letter at 600 rules with seed 1, +0.029 and +0.036. Costs about a third of the fit's
        time on MAGIC and a fifth on letter. The result's rules are no longer the trace's
        input clauses as learned: ``trace_`` keeps those.
    refine_queries : float, default=4.0
        Generated rows per training row for ``refine`` (at most 200,000, and only as many as
        keep the pool, training rows included, within 2**23 values: about 10,700 rows at 784
        features): a random real row with Gaussian noise of its kernel bandwidth on
        continuous features and each feature re-drawn from its marginal with probability 0.05
        (:class:`~nnrules.extract.engines.sampling.QuerySampler` ``"kde"``, seeded), labelled
        by the network. 0 refines on the training rows only.
    simplify : bool, default=True
        The exact rule-set simplification last (never changes a prediction; see
        :meth:`~nnrules.extract.decompose.DecompositionalExtractor._simplified`): the sizes
        before and after are in ``simplification_`` and ``notes["simplified"]``.
    max_rules : int or None, default=None
        Most rules in the result; reaching it marks the result partial. With ``drop`` the
        list is cut to this size by removing the rules that cost the fewest right answers on
        the training rows, not by keeping the most confident ones. When the defaults make fewer
        rules than allowed, spending the allowance does not pay: on MAGIC (about 72 rules of
        128) finer leaves, more layer leaves, smaller gains, no merge or 12,000 generated rows,
        each cut to 128, all scored below the defaults on validation rows (mean over three
        networks 0.928-0.933 against 0.934; ``benchmarks/decompositional.py --budget``). The
        extra rules fit the training rows (0.945 -> 0.957 on s0), not the network.
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
    refinement_ : RefineInfo or None
        What ``refine`` did (right answers on its rows before and after, changes), else None.
    """

    method = "eclaire"
    _parameter_constraints: ClassVar[dict] = {
        **COMMON_CONSTRAINTS,
        "max_leaves": Interval(int, 1, None, allow_none=True),
        "include_input": Options((True, False)),
        "min_gain": Interval(float, 0, None, closed="neither"),
        "generalise": Interval(float, 0, 1, allow_none=True),
        "prune": Options((True, False)),
        "max_samples": Interval(int, 2, None, allow_none=True),
        "n_bins": Interval(int, 2, None, allow_none=True),
        "prune_tolerance": Interval(float, 0, 1, closed="left"),
        "per_class": Options((True, False)),
        "n_queries": Interval(int, 0, None, allow_none=True),
        "drop": Options((True, False)),
        "simplify": Options((True, False)),
        "merge": Options((True, False)),
        "refine": Options((True, False)),
        "refine_queries": Interval(float, 0, None, closed="left"),
    }

    def __init__(self, network, *, min_samples_leaf: float = 0.005,
                 max_depth: int | None = None, max_leaves: int | None = 32,
                 include_input: bool = True, min_gain: float = 0.001,
                 generalise: float | None = None, prune: bool = True,
                 prune_tolerance: float = 0.01, max_samples: int | None = 2000,
                 n_bins: int | None = 64, per_class: bool = True, n_queries: int | None = None,
                 drop: bool = True, merge: bool = True, refine: bool = True,
                 refine_queries: float = 4.0, simplify: bool = True,
                 max_rules: int | None = None,
                 max_terms: int | None = None, max_seconds: float | None = 60.0,
                 random_state: int | None = None):
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
        self.n_bins = n_bins
        self.per_class = per_class
        self.n_queries = n_queries
        self.drop = drop
        self.refine = refine
        self.refine_queries = refine_queries
        self.simplify = simplify
        self.merge = merge
        self.max_rules = max_rules
        self.max_terms = max_terms
        self.max_seconds = max_seconds
        self.random_state = random_state

    def _fit(self, X: np.ndarray, y: np.ndarray | None):
        ws = self._prepare(self._with_queries(X))
        self._binned: dict[int, Binned] = {}
        self._fortran: dict[int, np.ndarray] = {}
        counts = np.bincount(ws.labels, minlength=len(ws.classes))
        # Leaf sizes and gains per class: a fraction of the rows of the class a rule predicts
        # (the layer trees: of the smallest class), so 26 classes of 3.8% each get leaves as
        # fine, relative to their class, as 2 classes of 50% (see the class docstring).
        base = counts if self.per_class else np.full(len(counts), ws.n_rows)
        smallest = int(base[counts > 0].min())
        leaf_of = np.array([self._min_leaf(int(b)) for b in base])
        gains = np.array([self._min_leaf(int(b), self.min_gain) for b in base])
        n_min = self._min_leaf(smallest)
        max_leaves = self.max_leaves
        if max_leaves is not None and self.per_class:
            max_leaves = max(2, max_leaves * int(np.sum(counts > 0)))
        self.pruned_inputs_ = None
        self.refinement_ = None
        self._columns = None
        if self.prune:
            # ws.labels are the network's on X when no rows were generated (else asked again:
            # answers on a larger batch need not match to the last bit).
            reference = ws.labels if ws.n_rows == len(X) else None
            self.pruned_inputs_ = prune_inputs(self.oracle_, X, self.prune_tolerance,
                                               reference=reference)
            self._columns = np.asarray(self.pruned_inputs_.kept, dtype=np.int64)
        candidates: list[tuple[tuple, int]] = []
        first = 0 if self.include_input else 1
        try:
            for level in range(ws.stack.n_hidden, first - 1, -1):
                ws.budget.tick()
                leaves = learn_clauses(ws.levels[level], ws.labels, min_samples_leaf=n_min,
                                       max_depth=self.max_depth, max_leaves=max_leaves,
                                       columns=self._columns if level == 0 else None,
                                       schema=self.schema_ if level == 0 else None,
                                       random_state=ws.seed, binned=self._bins(ws, level))
                leaves.sort(key=lambda leaf: (-leaf.support, leaf.clause))
                for leaf in leaves:
                    node = ws.trace.add(level, leaf.clause, leaf.value, support=leaf.support,
                                        confidence=leaf.confidence)
                    if level == 0:
                        candidates.append((leaf.clause, leaf.value))
                        continue
                    if leaf.support < gains[leaf.value]:
                        continue  # no rule inside it could decide enough rows to be kept
                    self._rewrite(ws, level, leaf, node, int(leaf_of[leaf.value]), candidates)
        except OutOfBudget as stop:
            self._stopped(stop.reason)
        self._fortran = {}  # the copies are not kept on the fitted object
        if self.generalise is not None:
            # widen: what assemble.generalise returns (tested), one pass over the rows per
            # step, each condition's rows computed once for all candidates.
            X0 = ws.levels[0]
            masks = ConditionMasks(X0)
            candidates = [(widen(c, k, X0, ws.labels, tolerance=self.generalise, masks=masks), k)
                          for c, k in candidates]
        # Ranked by the Laplace estimate of a rule as a two-outcome claim ("class k or not"):
        # (right + 1) / (support + 2). With the K-class prior (support + K) a pure 5-row rule of
        # letter's 26 classes ranked below a 40-of-50 one, so the pure input-tree leaves came
        # last and decided only leftovers; two outcomes raised letter's validation fidelity
        # 0.839 -> 0.855 (defaults) and 0.825 -> 0.841 at 600 rules. Identical for 2 classes.
        ruleset, truncated = ranked_rules(candidates, ws.levels[0], ws.labels,
                                          classes=ws.classes, schema=self.schema_,
                                          max_rules=self.max_rules,
                                          min_gain=gains, drop=self.drop,
                                          merge=self.merge, outcomes=2)
        if self.refine and ruleset.rules:
            ruleset = self._refined(ws, ruleset)
        return self._finish(ws, ruleset, truncated)

    def _bins(self, ws, level: int) -> Binned | None:
        """The level's binned values, coded once per fit (None when ``n_bins`` is None)."""
        if self.n_bins is None or ws.n_rows <= _BIN_MIN_ROWS:
            return None
        if level not in self._binned:
            self._binned[level] = bin_columns(ws.levels[level], self.n_bins)
        return self._binned[level]

    def _columnwise(self, ws, level: int) -> np.ndarray:
        """The level's values with contiguous columns (copied once per fit): a clause's mask
        reads whole columns, which a row-major array serves strided (about 4x slower on
        letter's 128 units)."""
        if level not in self._fortran:
            self._fortran[level] = np.asfortranarray(ws.levels[level])
        return self._fortran[level]

    def _sample(self, target: np.ndarray, seed: int) -> np.ndarray:
        """Rows for one input tree: every row where the clause holds (up to half the sample)
        and a seeded random share of the others, sorted. :meth:`_weights` makes each sampled
        row stand for the rows of its kind left out."""
        rng = np.random.default_rng(seed + int(target.sum()))
        pos, neg = np.flatnonzero(target), np.flatnonzero(target == 0)
        half = self.max_samples // 2
        if len(pos) > half:
            pos = np.sort(rng.choice(pos, size=half, replace=False))
        k = min(len(neg), self.max_samples - len(pos))
        neg = np.sort(rng.choice(neg, size=k, replace=False))
        return np.sort(np.concatenate([pos, neg]))

    @staticmethod
    def _weights(target: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Per sampled row, (rows of its target value) / (sampled rows of that value)."""
        t = target[rows]
        w = np.empty(len(rows), dtype=np.float64)
        for v in (0, 1):
            n_all, n_kept = int(np.sum(target == v)), int(np.sum(t == v))
            if n_kept:
                w[t == v] = n_all / n_kept
        return w

    def _rewrite(self, ws, level, leaf, node, n_min, candidates) -> None:
        """Learn where ``leaf.clause`` holds from the inputs; add its input clauses."""
        new = {Term(level, c.feature, c.value) for c in leaf.clause} - set(ws.trace.term_support)
        ws.budget.charge_terms(len(new))
        for term in sorted(new):
            ws.trace.note_term(term, int(term.holds(ws.levels).sum()))
        ws.budget.tick()
        target = clause_mask(leaf.clause, self._columnwise(ws, level)).astype(np.int64)
        X0 = ws.levels[0]
        binned = self._bins(ws, 0)
        weight, n_rows = None, n_min
        if self.max_samples is not None and len(target) > self.max_samples:
            rows = self._sample(target, ws.seed)
            weight = self._weights(target, rows)
            X0, target = X0[rows], target[rows]
            if binned is not None:
                binned = Binned(binned.codes[rows], binned.cuts)
            # A leaf of sampled rows must stand for n_min rows (by weight), as on all rows; a
            # plain row count would make leaves of weighted negatives up to n / max_samples
            # times coarser (MAGIC's validation: 0.916 with 2,000 samples, against 0.928 with
            # 4,000 when leaves counted rows).
            n_rows = 1
        for il in learn_clauses(X0, target, min_samples_leaf=n_rows,
                                max_depth=self.max_depth, schema=self.schema_,
                                columns=self._columns,
                                random_state=ws.seed, binned=binned,
                                sample_weight=weight, min_weight_leaf=n_min):
            if il.value == 1:
                ws.trace.add(0, il.clause, node, support=il.support, confidence=il.confidence)
                candidates.append((il.clause, leaf.value))
