"""DeepRED (``deepred``): Zilke, Loza Mencía & Janssen, 2016.

A tree learns the network's classes from the last hidden layer; each of its leaves is a clause
of terms ``h_K[j] > t`` (or their negations). Layer by layer, every term is replaced by the
clauses that predict it from the layer below (term-wise substitution), down to the inputs,
where RxREN input pruning (:func:`~nnrules.extract.decompose.prune_inputs`) has dropped inputs
the network barely uses. Each output clause is carried all the way down before the next one
starts (best supported first), and a budget stops the work cleanly, keeping the clauses
finished so far.

Bounded by construction (the default, ``term_learner="unit"``): terms are learned only for the
units the rules being rewritten name, by one tree per unit that answers every threshold on it
(:mod:`~nnrules.extract.decompose.unit_terms`), so a layer costs at most one tree per unit; the
product of a clause's factors is counted through the training rows (only products that cover a
row are ever made, at most ``beam`` kept per clause and per layer), so no product is enumerated
and filtered afterwards. ``term_learner="term"`` learns one tree per term as in the paper (its
products formed by :func:`~nnrules.extract.decompose.conjoin`); it is much slower on wide
layers (MAGIC's 64-32-16 network did not finish in 60 s).

Default budget: ``max_seconds=120`` (a quarter of it kept for relabelling, widening and ranking
the substituted clauses), ``max_terms=2000``, no rule limit. Measured within it on every
network of ``benchmarks/decompositional.py`` (XOR, MONK-2, MAGIC 64-32-16, letter 128-64) with
at most ~0.6 GB peak resident memory: letter, the slowest, takes ~20 s of CPU, up to ~50 s
of wall time on the shared 2-core machine.

The learning rows and the last steps (defaults chosen on validation rows, see the parameters):
on a discrete schema of at most ``max_domain`` points the trees learn from the whole enumerated
domain, labelled by the network; an output clause whose substituted input clauses leave rows
uncovered also gets input clauses learned directly for it (``fallback``, marked in the trace);
the candidates are relabelled, widened, and chosen as a decision list by sequential covering
with eclaire's drop pass.

The leaves of one tree partition its layer, so with no pruning (``min_support=0``, unlimited
``beam``) the rules compute the composition of the intermediate rules (``generalise=None``,
``relabel=False``): exactly through one hidden layer.
"""

from __future__ import annotations

import sys
from typing import Any, ClassVar

import numpy as np

from nnrules._validation import Interval, Options
from nnrules.extract.decompose.assemble import exact_rules, ranked_rules, relabel_one
from nnrules.extract.decompose.binning import bin_columns
from nnrules.extract.decompose.budget import OutOfBudget
from nnrules.extract.decompose.covering import covering_rules
from nnrules.extract.decompose.domain import discrete_domain
from nnrules.extract.decompose.fallback import fallback_clauses
from nnrules.extract.decompose.extractor import (
    COMMON_CONSTRAINTS,
    DecompositionalExtractor,
    Workspace,
)
from nnrules.extract.decompose.prune import prune_inputs
from nnrules.extract.decompose.rewrite import TermRewriter
from nnrules.extract.decompose.terms import Term, learn_clauses
from nnrules.extract.decompose.unit_terms import UnitTrees
from nnrules.extract.decompose.widen import ConditionMasks, widen

__all__ = ["DeepRedExtractor"]

_BIN_MIN_ROWS = 4000  # unit trees on fewer training rows learn from the raw values
# Share of max_seconds kept for relabelling, widening and ranking the substituted clauses.
_FINISH_SHARE = 0.25
_REFINE_CELLS = None  # cap on refine's pool rows x rules; None: none (its masks are bit-packed)


class DeepRedExtractor(TermRewriter, DecompositionalExtractor):
    """Layer-by-layer, term-wise rule extraction for networks of any depth.

    Parameters
    ----------
    network : Network
        A dense feed-forward classifier (``nnrules.load``).
    min_samples_leaf : float, default=0.01
        Fewest training rows in a leaf of every tree: a fraction of the rows below 1, else a
        count.
    max_depth : int or None, default=None
        Depth limit of every tree.
    min_support : int, default=1
        A partial clause covering fewer training rows is dropped as soon as it is made (0 keeps
        every satisfiable clause: the exact composition).
    beam : int, default=256
        Most clauses kept per output clause and layer (the best supported). On validation
        rows with the other defaults, 128 -> 256 gave MAGIC 0.901 -> 0.901 (s0) and
        0.890 -> 0.897 (s1), letter 0.719 -> 0.723 (s0), at about the same CPU.
    prune : bool, default=True
        RxREN input pruning before learning from the inputs.
    prune_tolerance : float, default=0.01
        Largest fraction of training rows whose prediction may change when the pruned inputs
        are set to their medians.
    relabel : bool, default=True
        Give each input clause the network's majority class on the training rows it covers
        (:func:`~nnrules.extract.decompose.assemble.relabel`); False keeps the class of the
        output clause it came from (the exact composition).
    generalise : float or None, default=0.05
        Widen after substitution: drop each substituted clause's conditions while its
        confidence on the training rows falls by at most this much; the candidates then go
        through the final pass (``drop``). None does not widen; with ``relabel=False`` too it
        keeps every substituted clause, simplified only by logical equivalence, and no
        fallback (the exact composition when ``min_support=0``).
    max_samples : int or None, default=None
        Rows each term's (or unit's) tree learns from (a seeded sample, the same for every
        tree; the output tree and every support count use all rows). None uses every row:
        on MAGIC a 2,000-row sample made the result depend on the seed (0.83-0.90 on
        validation rows over three seeds; all rows: 0.89-0.90).
    n_bins : int or None, default=64
        Unit trees on more than 4,000 training rows learn from their level's values coded by
        at most this many quantile bins per column (thresholds mapped back to real values,
        see :mod:`~nnrules.extract.decompose.binning`); None learns from the raw values.
    unit_columns : int or None, default=32
        A unit's tree tests only this many columns of the layer below: those most correlated
        with the unit on the training rows (a hidden unit reads the layer below through one
        weighted sum). On validation rows: MAGIC 0.893 -> 0.901 (s0), 0.883 -> 0.890 (s1),
        letter 0.731 -> 0.719 in two thirds of the CPU time. None tests every column.
    n_queries : int or None, default=0
        Generated rows added to the training rows (schema-valid, drawn near real rows by
        :class:`~nnrules.extract.engines.sampling.QuerySampler`, seeded) and labelled by the
        network, as ``eclaire`` does; None: as many as bring the rows to 2,000 (none for
        larger data). Not the default: in one trial (test rows, not for choosing) it raised
        MONK-2 0.769 -> 0.857 but dropped xor_16-8_s0 0.925 -> 0.785.
    max_domain : int or None, default=100_000
        When every input column is discrete by the schema (one-hot groups, binary columns,
        integer columns of at most 16 values) and the input domain has at most this many
        points, every tree learns from the whole domain, each point labelled by the network,
        instead of from the rows passed (:mod:`~nnrules.extract.decompose.domain`): no
        sampling noise, and the training fidelity is the fidelity on the whole domain (so no
        widening: ``generalise`` is not applied). ``domain_rows_`` and
        ``notes["enumerated_domain"]`` give the number of points. MONK-2 (432 points, 169
        training rows): 0.769 / 0.806 -> 1.000 / 1.000 on the domain (monk2_8 / monk2_12).
        None never enumerates.
    fallback : float, default=1.0
        An output clause whose substituted input clauses leave at least ``fallback`` times a
        leaf's worth of its training rows uncovered (a product covering no row drops them)
        also gets input clauses learned directly: a tree on the inputs learns where that
        output clause holds, and its "holds" leaves join the candidates of its class (recorded
        in the trace with ``fallback=True``; their number in ``notes["fallback_clauses"]``).
        0 turns it off. Not applied in the exact mode (``generalise=None``, ``relabel=False``).
    per_class : bool, default=True
        The fallback trees' leaves (``min_samples_leaf``) and the ranking's ``min_gain`` are
        fractions of the rows of the class concerned, as in ``eclaire``.
    drop : bool, default=True
        The final pass as ``eclaire``'s: candidates ranked by the two-outcome Laplace estimate,
        then the rules whose removal does not lower the training fidelity dropped
        (:func:`~nnrules.extract.decompose.assemble.ranked_rules` with ``drop=True``).
        Read only with ``selection="ranked"``: the default covering selection always runs
        the drop pass.
    merge : bool, default=False
        Simplify each class's candidates as one DNF before ranking (as ``eclaire``'s
        default); False ranks them as made and merges only runs of consecutive rules of one
        class afterwards (exact). On validation rows (with ranked selection) False gave MAGIC
        s1 0.911 -> 0.916, s0 0.906 -> 0.904, letter s0 0.785 -> 0.788, XOR unchanged.
        Read only with ``selection="ranked"`` (covering never merges a class's DNF).
    selection : {"covering", "ranked"}, default="covering"
        How the decision list is chosen from the candidates. "covering": sequential covering
        (:func:`~nnrules.extract.decompose.covering.covering_rules`: each next rule is the
        best Laplace estimate on the rows no earlier rule covers; a clause inside a broader one
        of its class stays a candidate), then the drop pass. "ranked": one ranking on all rows
        (:func:`~nnrules.extract.decompose.assemble.ranked_rules`, eclaire's). On validation
        rows covering raised MAGIC 0.904 / 0.916 / 0.906 -> 0.924 / 0.918 / 0.931 (s0/s1/s2;
        56/63/35 -> 201/146/149 rules), letter level (0.788 / 0.804 / 0.800 -> 0.788 / 0.803 /
        0.801), XOR level except xor_16-8_s0 0.950 -> 0.938. With the ranking, DeepRED's
        overlapping candidates (products of the same unit trees, widened) let a broad rule
        right on 95% of its rows take rows that narrower rules decide better: the list scored
        below a subset of its own candidates on the training rows.
    refine : bool, default=True
        Tune the chosen decision list on the network's labels, as ``eclaire`` does (see its
        ``refine``; :func:`~nnrules.extract.decompose.refine.refine`, added conditions only on
        the inputs RxREN kept). On an enumerated domain it learns from the domain's points.
        On validation rows, without -> with: MAGIC s0/s1/s2 0.924/0.918/0.931 -> 0.942/0.934/
        0.940, letter s0/s1/s2 0.788/0.803/0.801 -> 0.853/0.852/0.856, XOR 0.994/0.988/0.938/0.969 -> 0.988/
        0.988/0.950/0.994, MONK-2 1.000 (deepred and cred). The pool is not capped by the
        list's length: refine keeps its rule masks bit-packed.
    refine_queries : float, default=4.0
        Generated rows per training row for ``refine``, as ``eclaire``'s.
    min_gain : float, default=1
        A ranked rule is kept when it decides at least this many training rows correctly that
        no earlier rule decided: a fraction of the rows below 1 (of its class's rows with
        ``per_class``), else a count.
    term_cut : {"majority", "lift"}, default="majority"
        When a leaf of a unit tree stands for ``h[j] > t``: most of its rows exceed ``t``
        ("majority"), or a larger share than among all rows ("lift": rare terms and narrow
        bands keep the leaves where they concentrate; mixed on validation rows, not the
        default).
    term_leaves : int or None, default=16
        Most leaves of a term's (or unit's) tree: bounds how many clauses replace one
        condition, so the products stay small. None: only ``min_samples_leaf`` limits them.
    term_learner : {"unit", "term"}, default="unit"
        "unit": one regression tree per hidden unit (on the rank of its value) answers every
        threshold on that unit — a leaf stands for the term when most of its training rows
        satisfy it. "term": one classification tree per term, as Zilke et al.
    max_rules : int or None, default=None
        Most rules in the result; reaching it marks the result partial.
    max_terms : int or None, default=2000
        Most hidden-unit terms whose rules may be learned.
    max_seconds : float or None, default=120.0
        Time budget. Substitution stops at three quarters of it; the rest is kept for
        relabelling and widening (clauses not widened in time are kept as substituted) and
        ranking. Past it the rules finished so far are returned, marked partial.
    verbose : bool, default=False
        Print one progress line per output clause to stderr.
    random_state : int or None, default=None
        Seeds the trees' tie-breaking; the same seed gives the same file.

    Attributes
    ----------
    surrogate_ : RuleSet
    partial_reason_ : str or None
    pruned_inputs_ : PrunedInputs or None
        What RxREN dropped (None when ``prune=False``).
    domain_rows_ : int or None
        Points of the enumerated input domain the trees learned from (``max_domain``), else
        None.
    trace_ : Trace
    refinement_ : RefineInfo or None
        What ``refine`` did, else None.
    """

    method = "deepred"
    max_hidden: ClassVar[int | None] = None
    _parameter_constraints: ClassVar[dict] = {
        **COMMON_CONSTRAINTS,
        "min_support": Interval(int, 0, None),
        "beam": Interval(int, 1, None),
        "prune": Options((True, False)),
        "prune_tolerance": Interval(float, 0, 1, closed="left"),
        "verbose": Options((True, False)),
        "relabel": Options((True, False)),
        "generalise": Interval(float, 0, 1, allow_none=True),
        "max_samples": Interval(int, 2, None, allow_none=True),
        "term_leaves": Interval(int, 2, None, allow_none=True),
        "term_learner": Options(("unit", "term")),
        "term_cut": Options(("majority", "lift")),
        "min_gain": Interval(float, 0, None, closed="neither"),
        "n_bins": Interval(int, 2, None, allow_none=True),
        "unit_columns": Interval(int, 1, None, allow_none=True),
        "n_queries": Interval(int, 0, None, allow_none=True),
        "max_domain": Interval(int, 1, None, allow_none=True),
        "fallback": Interval(float, 0, None),
        "per_class": Options((True, False)),
        "drop": Options((True, False)),
        "merge": Options((True, False)),
        "selection": Options(("covering", "ranked")),
        "refine": Options((True, False)),
        "refine_queries": Interval(float, 0, None, closed="left"),
    }

    def __init__(self, network, *, min_samples_leaf: float = 0.01, max_depth: int | None = None,
                 min_support: int = 1, beam: int = 256, prune: bool = True,
                 prune_tolerance: float = 0.01, relabel: bool = True,
                 generalise: float | None = 0.05, max_samples: int | None = None,
                 term_leaves: int | None = 16, term_learner: str = "unit",
                 term_cut: str = "majority", min_gain: float = 1,
                 n_bins: int | None = 64, unit_columns: int | None = 32,
                 n_queries: int | None = 0, max_domain: int | None = 100_000,
                 fallback: float = 1.0, per_class: bool = True, drop: bool = True,
                 merge: bool = False, selection: str = "covering", refine: bool = True,
                 refine_queries: float = 4.0, max_rules: int | None = None, max_terms: int | None = 2000,
                 max_seconds: float | None = 120.0, verbose: bool = False,
                 random_state: int | None = None):
        self.network = network
        self.min_samples_leaf = min_samples_leaf
        self.max_depth = max_depth
        self.min_support = min_support
        self.beam = beam
        self.prune = prune
        self.prune_tolerance = prune_tolerance
        self.relabel = relabel
        self.generalise = generalise
        self.max_samples = max_samples
        self.term_leaves = term_leaves
        self.term_learner = term_learner
        self.term_cut = term_cut
        self.min_gain = min_gain
        self.n_bins = n_bins
        self.unit_columns = unit_columns
        self.n_queries = n_queries
        self.max_domain = max_domain
        self.fallback = fallback
        self.per_class = per_class
        self.drop = drop
        self.merge = merge
        self.selection = selection
        self.refine = refine
        self.refine_queries = refine_queries
        self.max_rules = max_rules
        self.max_terms = max_terms
        self.max_seconds = max_seconds
        self.verbose = verbose
        self.random_state = random_state

    # -- the strategy ---------------------------------------------------------------------
    def _check_depth(self, ws: Workspace) -> None:
        """Hook for CRED: refuse networks deeper than it handles."""

    def _learning_rows(self, X: np.ndarray) -> np.ndarray:
        """The rows every tree learns from: the whole discrete input domain when the schema
        has one of at most ``max_domain`` points (``domain_rows_`` says how many), else the
        training rows with ``n_queries`` generated rows after them."""
        self.domain_rows_ = None
        if self.max_domain is not None:
            D = discrete_domain(self.schema_, self.max_domain)
            if D is not None:
                self.domain_rows_ = len(D)
                return D
        return self._with_queries(X)

    def _fit(self, X: np.ndarray, y: np.ndarray | None):
        X = self._learning_rows(X)
        ws = self._prepare(X)
        self._check_depth(ws)
        self._n_min = self._min_leaf(ws.n_rows)
        self._rows = None  # the rows term trees learn from
        if self.max_samples is not None and ws.n_rows > self.max_samples:
            rng = np.random.default_rng(ws.seed)
            self._rows = np.sort(rng.choice(ws.n_rows, size=self.max_samples, replace=False))
            self._n_term_min = self._min_leaf(self.max_samples)
        else:
            self._n_term_min = self._n_min
        self._book: dict[Term, tuple[list, list]] = {}
        self._units = UnitTrees(ws.levels, self._rows, min_samples_leaf=self._n_term_min,
                                max_leaves=self.term_leaves, max_depth=self.max_depth,
                                columns=None, schema=self.schema_, seed=ws.seed,
                                lift=self.term_cut == "lift",
                                n_bins=self.n_bins if ws.n_rows > _BIN_MIN_ROWS else None,
                                max_columns=self.unit_columns)
        self.pruned_inputs_ = None
        self._columns = None
        if self.prune:
            self.pruned_inputs_ = prune_inputs(self.oracle_, X, self.prune_tolerance,
                                               reference=ws.labels)
            self._columns = np.asarray(self.pruned_inputs_.kept, dtype=np.int64)
            self._units.columns = self._columns
        K = ws.stack.n_hidden
        finished: list[tuple[tuple, int]] = []
        outputs: list[tuple[Any, str, int, int]] = []  # (leaf, node, first, count)
        ws.budget.reserve(_FINISH_SHARE)
        try:
            ws.budget.tick()
            leaves = learn_clauses(ws.levels[K], ws.labels, min_samples_leaf=self._n_min,
                                   max_depth=self.max_depth, random_state=ws.seed)
            leaves.sort(key=lambda leaf: (-leaf.support, leaf.clause))
            for i, leaf in enumerate(leaves):
                node = ws.trace.add(K, leaf.clause, leaf.value, support=leaf.support,
                                    confidence=leaf.confidence)
                if leaf.support < self.min_support:
                    continue
                clauses = self._rewrite(ws, leaf.clause, K, node)
                room = ws.budget.room_for_rules()
                if room is not None and len(clauses) > room:
                    finished += [(c, leaf.value) for c in clauses[:room]]
                    ws.budget.charge_rules(len(clauses))  # raises: max_rules reached
                ws.budget.charge_rules(len(clauses))
                outputs.append((leaf, node, len(finished), len(clauses)))
                finished += [(c, leaf.value) for c in clauses]
                if self.verbose:
                    print(f"{self.method}: output clause {i + 1}/{len(leaves)} "
                          f"({leaf.support} rows, {len(leaf.clause)} conditions) -> "
                          f"{len(clauses)} input clauses, {ws.budget.n_terms} terms, "
                          f"{ws.budget.elapsed():.1f} s", file=sys.stderr)
        except OutOfBudget as stop:
            self._stopped(stop.reason)
        ws.budget.release()
        if self.term_learner == "unit" and self.min_support == 0:
            self._close_trace(ws)
        X0 = ws.levels[0]
        masks = ConditionMasks(X0)
        counts = np.bincount(ws.labels, minlength=len(ws.classes))
        exact = self.generalise is None and not self.relabel
        fallback = []
        if self.fallback and not exact:
            fallback = self._fallback(ws, outputs, finished, masks, counts)
        if self.relabel:
            relabel = lambda c, k: relabel_one(c, k, masks.clause(c), ws.labels)  # noqa: E731
            finished = self._timed(ws, finished, relabel)
            fallback = self._timed(ws, fallback, relabel)
        finished = list(dict.fromkeys(finished))
        if exact:
            ruleset, truncated = exact_rules(finished, X0, ws.labels, classes=ws.classes,
                                             schema=self.schema_, max_rules=self.max_rules)
        else:
            if self.generalise is not None and self.domain_rows_ is None:
                # (on an enumerated domain there are no unseen rows to generalise to)
                finished = self._timed(ws, finished, lambda c, k: (
                    widen(c, k, X0, ws.labels, tolerance=self.generalise, masks=masks), k))
            finished = list(dict.fromkeys(finished + fallback))
            if self.per_class:
                gains = np.array([self._min_leaf(int(n), self.min_gain) for n in counts])
            else:
                gains = self._min_leaf(ws.n_rows, self.min_gain)
            # The final pass as eclaire's: Laplace ranking as a two-outcome claim, then the
            # drop pass (assemble.ranked_rules / drop_idle, shared).
            if self.selection == "covering":
                try:
                    ruleset, truncated = covering_rules(
                        finished, X0, ws.labels, classes=ws.classes, schema=self.schema_,
                        max_rules=self.max_rules, min_gain=gains, tick=ws.budget.tick)
                except OutOfBudget as stop:  # out of time while covering: rank once instead
                    if self.partial_reason_ is None:
                        self._stopped(stop.reason)
                    ruleset, truncated = ranked_rules(
                        finished, X0, ws.labels, classes=ws.classes, schema=self.schema_,
                        max_rules=self.max_rules, min_gain=gains, drop=self.drop,
                        merge=self.merge, outcomes=2)
            else:
                ruleset, truncated = ranked_rules(
                    finished, X0, ws.labels, classes=ws.classes, schema=self.schema_,
                    max_rules=self.max_rules, min_gain=gains, drop=self.drop, merge=self.merge,
                    outcomes=2 if self.drop else None)
        self.refinement_ = None
        if self.refine and ruleset.rules and not exact:
            ruleset = self._refined(ws, ruleset, queries=self.domain_rows_ is None,
                                    max_cells=_REFINE_CELLS)
        ruleset.notes["fallback_clauses"] = len(fallback)
        if self.domain_rows_ is not None:
            ruleset.notes["enumerated_domain"] = self.domain_rows_
        return self._finish(ws, ruleset, truncated)

    def _fallback(self, ws: Workspace, outputs: list, finished: list, masks: ConditionMasks,
                  counts: np.ndarray) -> list[tuple[tuple, int]]:
        """:func:`~nnrules.extract.decompose.fallback.fallback_clauses` with this fit's leaf
        sizes; when the time is up the clauses learned so far are kept (marked partial)."""
        sizes = [self._min_leaf(int(c)) if self.per_class else self._n_min for c in counts]
        binned = None
        if self.n_bins is not None and ws.n_rows > _BIN_MIN_ROWS:
            binned = bin_columns(ws.levels[0], self.n_bins)
        out: list[tuple[tuple, int]] = []
        try:
            fallback_clauses(ws, outputs, finished, masks, sizes, factor=self.fallback,
                             max_depth=self.max_depth, schema=self.schema_,
                             columns=self._columns, binned=binned, out=out)
        except OutOfBudget as stop:
            if self.partial_reason_ is None:
                self._stopped(stop.reason)
        return out
