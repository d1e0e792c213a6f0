"""Activation clustering (``setiono``): Setiono & Liu, IJCAI 1995 (NeuroRule); Setiono 1997.

Reads a network with one hidden layer as a handful of discrete hidden states:

1. **prune** (on a copy of the weights; the original network stays the oracle): RxREN input
   pruning, then connections smallest contribution first
   (:func:`~nnrules.extract.decompose.onelayer.prune_connections`), each kept only while at
   most ``tolerance`` of the training predictions change;
2. **cluster** each hidden unit's activations (greedy epsilon-clustering or 1-D k-means,
   :mod:`~nnrules.extract.decompose.cluster`), coarse to fine, keeping the coarsest clustering
   whose centres, fed forward, change at most ``tolerance`` of the pruned network's
   predictions; one-cluster units are dropped (their centre moves into the output bias).
   When the clustering leaves a two-class network unsaturated, its units may instead be
   read in their linear range as one score (``linear_units``,
   :mod:`~nnrules.extract.decompose.linear_units`): a one-unit network whose two states
   are the score's sign, run through the stages below unchanged;
3. **hidden states -> class**: every combination of cluster indices (or, past
   ``max_combinations``, those seen on the training rows, the rest don't-cares) is labelled by
   feeding its centres forward, or, when the clustering could not meet the tolerance, those
   seen on training rows by the network's majority there
   (:mod:`~nnrules.extract.decompose.state_labels`); each class's combinations become a short
   DNF on the hidden units (:func:`~nnrules.extract.decompose.cover.cover`); the class with the
   longest DNF is the default;
4. **inputs -> each cluster**: a cluster is an interval of the unit's pre-activation. For a unit
   whose remaining inputs are one-hot groups and binary columns, its cluster conditions are
   found exactly by enumerating those inputs; a unit with a single remaining input gives one
   exact threshold; otherwise a tree or an M-of-N test learns the condition (searched,
   :mod:`~nnrules.extract.decompose.mofn`, or a staircase read from the unit's weights,
   :mod:`~nnrules.extract.decompose.staircase`), or, with ``oblique=True``, the boundary is one
   exact oblique condition on the pre-activation (``0.52·radius + texture > 1.7``);
5. **substitute and simplify** with the engine (:func:`~nnrules.extract.decompose.conjoin`,
   :func:`~nnrules.extract.decompose.simplify_dnf`). When every step was exact and the inputs
   the rules read are discrete with at most ``max_combinations`` combinations, the rule set is
   re-minimised on that domain (an equivalence there); otherwise the rules are ranked as in
   ECLAIRE, written for every class but the training rows' majority (the list's default);
6. **refine** (learned rules only): the M-of-N tests' thresholds and conditions are tuned on
   the network's labels (:mod:`~nnrules.extract.decompose.refine_mofn`; never fewer right
   answers on its rows, never more rules).

The weight penalty the network was trained with is what makes this work: a network trained
with Setiono's penalty has few connections and saturated units with two or three states; a
plainly trained network usually needs many clusters per unit, and the method then says which
stage could not meet the tolerance (``partial_reason_``).
"""

from __future__ import annotations

import warnings
from typing import ClassVar

import numpy as np

from nnrules._validation import RANDOM_STATE, Interval, Options
from nnrules.exceptions import ParameterError, UnsupportedModelError
from nnrules.extract.decompose.budget import OutOfBudget
from nnrules.extract.decompose.extractor import DecompositionalExtractor
from nnrules.extract.decompose.onelayer import OneLayerNet, prune_connections
from nnrules.extract.decompose.prune import prune_inputs
from nnrules.extract.decompose.refine_mofn import refine_mofn
from nnrules.extract.decompose.setiono_cluster import ClusterStage
from nnrules.extract.decompose.setiono_rules import (
    InputRules,
    conjoin_oblique,
    minimise_on_domain,
)
from nnrules.extract.decompose.setiono_select import final_rules
from nnrules.extract.decompose.setiono_table import TableStage
from nnrules.extract.decompose.state_labels import table_lookup
from nnrules.extract.decompose.substitute import conjoin
from nnrules.extract.decompose.terms import clause_mask
from nnrules.surrogates.rules import MofN, RuleSet

__all__ = ["SetionoExtractor"]


class SetionoExtractor(ClusterStage, TableStage, DecompositionalExtractor):
    """Rules through a one-hidden-layer network's discretised hidden units.

    Parameters
    ----------
    network : Network
        A dense classifier with one hidden layer (``nnrules.load``).
    tolerance : float, default=0.01
        Largest fraction of training rows whose prediction each stage may change: pruning
        (against the network), clustering (against the pruned copy). In [0, 1).
    prune : bool, default=True
        Prune inputs (RxREN) and connections first.
    clustering : {"greedy", "kmeans"}, default="greedy"
        Setiono's greedy epsilon-clustering, or 1-D k-means with the number of clusters chosen
        by the tolerance. When greedy clustering changes more than ``UNSATURATED_CHANGE``
        (0.05) of the training predictions, k-means is tried too and the clustering changing
        fewer is kept (``stages_`` names it).
    max_clusters : int, default=4
        Most clusters per hidden unit; a unit that needs more to meet the tolerance keeps this
        many and the result is marked partial.
    max_combinations : int, default=4096
        Cap on every enumeration: the hidden-state table has every combination of cluster
        indices when their number is within it, else only the combinations seen on the
        training rows (at most this many, the most frequent); a unit's inputs, and the final
        domain, are enumerated only within it. A network with more hidden units than this is
        refused (ParameterError).
    oblique : bool, default=False
        Allow oblique conditions: a unit with several inputs that cannot be enumerated becomes
        one linear condition on its pre-activation per cluster boundary (exact: the rules then
        decide as the discretised network does) instead of a tree's axis-aligned
        approximation. Such rules export to Python, SQL and ONNX, and certify.
    linear_units : {"auto", "always", "never"}, default="auto"
        Two classes only: read the hidden units in their linear range as one score of the
        inputs (each activation replaced by its least-squares line over the training rows), and
        the rules say where it is positive, usually one M-of-N test
        (:mod:`~nnrules.extract.decompose.linear_units`; a ``linear`` stage in ``stages_``).
        ``"auto"``: when the clustering changes more than 0.05 of the training predictions (and
        more than ``tolerance``) and the rules through the states would learn a unit's boundary
        (or, both exact, the score changes fewer), unless ``mixed_conditions`` asks for closer
        rules. German credit, 5-fold CV on nine networks' training rows, median / worst: states
        0.807 / 0.704 (1-12 rules), score 0.804 / 0.739 (one rule); held out on 25: 0.817 /
        0.720 and 0.837 / 0.743, as faithful as ``tree`` and ``eclaire`` at equal rule count on
        24 instead of 19. ``"always"``: every two-class network; ``"never"``: the states.
    state_labels : {"auto", "centres", "network"}, default="auto"
        How the hidden-state table labels a combination: ``"centres"`` feeds its cluster
        centres forward; ``"network"`` gives each combination seen on training rows the
        network's majority answer on them (the others keep the centre-fed label); ``"auto"``
        is ``"network"`` when the clustering could not meet the tolerance, else
        ``"centres"``.
    mofn : bool, default=True
        Where a tree would learn a cluster boundary, learn an M-of-N test too ("at least 9 of
        {...}") and keep it when, on the training rows, it is about as faithful (see
        :mod:`~nnrules.extract.decompose.setiono_rules`): one test instead of many boxes on
        one-hot-heavy units.
    mofn_conditions : int, default=16
        When every input a unit reads is continuous, an M-of-N test is also read from its
        weights: a staircase of this many conditions, each step worth the same part of the
        unit's sum (:mod:`~nnrules.extract.decompose.staircase`); the search's test or the
        staircase, whichever agrees with the boundary on more rows, is the one weighed against
        the tree. More steps follow the boundary more closely and read longer (16, the
        searched test's own cap, was chosen by 5-fold CV on breast cancer's training rows:
        ``docs/architecture.md``).
    mixed_conditions : int or None, default=None
        Off by default. With an int, a unit reading one-hot or binary columns too also gets a
        staircase of this many steps, a condition worth ``k`` steps listed ``k`` times (a
        one-hot value's copies counted from its group's median: ``group != v`` below it):
        "at least 30 of {checking_account == A14 (x3), duration <= 18, ...}", a points
        scorecard (:func:`~nnrules.extract.decompose.staircase.mixed_staircase_mofn`); the
        linear stage is then not taken. Far more faithful and far longer: 5-fold CV on nine
        German credit networks' training rows, median / worst, 0.881 / 0.821 with 48 steps
        against 0.804 / 0.739 without, with 65-3,280 conditions (copies counted) against
        10-41 (``docs/architecture.md``). Not the compact rule set this method is for, so an
        option (the partial report names it when the units are not saturated).
    max_leaves : int, default=16
        Leaf limit of the trees that learn a cluster's condition from continuous inputs.
    queries : int, default=16
        Those trees learn from the training rows and this many generated rows per training row
        (the sampling engine's ``perturb`` model, at most 50,000 in all), each labelled exactly
        by the unit's pre-activation; 0 = the training rows only.
    min_samples_leaf : float, default=0.01
        Fewest training rows in a leaf of those trees (a fraction below 1, else a count).
    max_depth : int or None, default=None
        Depth limit of those trees.
    beam : int, default=64
        Most partial clauses kept while substituting (see :func:`conjoin`).
    min_gain : float, default=0.005
        When the rules are ranked (not exact), a rule is kept when it decides at least this
        many training rows correctly that no earlier rule decided (fraction below 1, else a
        count).
    refine : {"mofn", "all", "none"}, default="mofn"
        When the rules are learned (not exact), tune the list on the network's labels over
        the training rows and ``refine_queries`` generated rows per training row: ``"mofn"``
        moves each M-of-N test's ``m``, drops its conditions and, in a test that lists a
        condition more than once (``mixed_conditions``), adds a copy
        (:func:`~nnrules.extract.decompose.refine_mofn.refine_mofn`); ``"all"`` then also
        refines axis conditions as ``eclaire`` does. Never fewer right answers on those rows,
        never more rules (chosen by 5-fold CV on training rows: ``docs/architecture.md``).
    refine_queries : float, default=16.0
        Generated rows per training row for ``refine`` (at most 200,000; 0: none).
    max_rules : int or None, default=None
        Most rules; reaching it marks the result partial.
    max_seconds : float or None, default=60.0
        Time budget; when it runs out the rules finished so far are returned, marked partial.
    random_state : int or None, default=None
        Seeds the trees' tie-breaking; the same seed gives the same file.

    Attributes
    ----------
    surrogate_ : RuleSet
    net_ : OneLayerNet
        The pruned, clustered copy of the network (dropped units' centres folded into the
        output bias), or, after the ``linear`` stage, the one-unit network of the score.
    pruned_net_ : OneLayerNet
        The pruned copy before clustering (what the clustering tolerance is measured against).
    dropped_centres_ : dict of int to float
        Units that collapsed to one cluster, and that cluster's centre.
    clusters_ : list of UnitClusters or None
        Per hidden unit: its clusters, or None when it was dropped.
    table_ : dict
        ``units`` (kept unit indices), ``states`` (combinations of cluster indices, one row
        each), ``classes`` (class index per combination), ``complete`` (all combinations),
        ``labels`` (``"centres"`` or ``"network"``: how ``classes`` were made).
    hidden_rules_ : list of (tuple of Condition, int)
        The DNF of the table: clauses on the hidden activations (level 1) and their class;
        other combinations get ``hidden_default_``.
    stages_ : list of dict
        Per stage (``prune``, ``cluster``, ``linear`` when taken, ``table``, ``rules``): what
        it did — inputs and connections before, kept and pruned; clusters per unit and dropped
        units; units folded into the score and the share its sign changes; hidden-state
        combinations, hidden rules, rows the network-labelled table changes against the pruned
        copy (``change``, ``held_out_change``); rules, exactness, oblique conditions and M-of-N
        tests — and ``fidelity``, the training-row fidelity to the network after it (also in
        the report, ``details["stages"]``).
    partial_reason_ : str or None
        Which stage could not finish or meet the tolerance, else None (then one
        ``UserWarning`` says the same). A clustering that missed the tolerance is not named
        when the table labelled by the network's answers meets it, held out.
    refinement_ : RefineInfo or None
        What the last ``refine`` pass did (right answers on its rows before and after), else
        None.
    exact_ : bool
        Whether every cluster condition was rewritten on the inputs exactly (enumeration or a
        single threshold) and no product was cut by the beam.

    Raises
    ------
    ParameterError
        At fit: a parameter outside its range (``tolerance`` must be in [0, 1)), or a network
        with more hidden units than ``max_combinations``.
    DataError
        At fit: the network gives every training row the same class.
    UnsupportedModelError
        At fit: not a classifier with exactly one hidden layer, or a schema that transforms the
        columns before the network reads them.

    Examples
    --------
    >>> ex = SetionoExtractor(nnrules.load("tests/fixtures/setiono/monk3_h3.onnx")).fit(
    ...     load_monk(3).X_train)  # doctest: +SKIP
    >>> print(ex.surrogate_.to_text())  # doctest: +SKIP
    IF a2 != 3 and a5 != 4 THEN 1
    ELSE IF a4 == 1 and a5 == 3 THEN 1
    ELSE 0
    """

    method = "setiono"
    max_terms = None  # the engine's term budget has no meaning here
    _parameter_constraints: ClassVar[dict] = {
        "tolerance": Interval(float, 0, 1, closed="left"),
        "prune": Options((True, False)),
        "clustering": Options(("greedy", "kmeans")),
        "max_clusters": Interval(int, 2, None),
        "max_combinations": Interval(int, 2, None),
        "oblique": Options((True, False)),
        "linear_units": Options(("auto", "always", "never")),
        "state_labels": Options(("auto", "centres", "network")),
        "mofn": Options((True, False)),
        "mofn_conditions": Interval(int, 1, None),
        "mixed_conditions": Interval(int, 1, None, allow_none=True),
        "max_leaves": Interval(int, 2, None),
        "queries": Interval(int, 0, None),
        "min_samples_leaf": Interval(float, 0, None, closed="neither"),
        "max_depth": Interval(int, 1, None, allow_none=True),
        "beam": Interval(int, 1, None),
        "min_gain": Interval(float, 0, None, closed="neither"),
        "refine": Options(("mofn", "all", "none")),
        "refine_queries": Interval(float, 0, None, closed="left"),
        "max_rules": Interval(int, 1, None, allow_none=True),
        "max_seconds": Interval(float, 0, None, closed="neither", allow_none=True),
        "random_state": RANDOM_STATE,
    }

    def __init__(self, network, *, tolerance: float = 0.01, prune: bool = True,
                 clustering: str = "greedy", max_clusters: int = 4,
                 max_combinations: int = 4096, oblique: bool = False,
                 linear_units: str = "auto", state_labels: str = "auto", mofn: bool = True,
                 mofn_conditions: int = 16,
                 mixed_conditions: int | None = None,
                 max_leaves: int = 16, queries: int = 16,
                 min_samples_leaf: float = 0.01, max_depth: int | None = None, beam: int = 64,
                 min_gain: float = 0.005, refine: str = "mofn", refine_queries: float = 16.0,
                 max_rules: int | None = None, max_seconds: float | None = 60.0,
                 random_state: int | None = None):
        self.network = network
        self.tolerance = tolerance
        self.prune = prune
        self.clustering = clustering
        self.max_clusters = max_clusters
        self.max_combinations = max_combinations
        self.oblique = oblique
        self.linear_units = linear_units
        self.state_labels = state_labels
        self.mofn = mofn
        self.mofn_conditions = mofn_conditions
        self.mixed_conditions = mixed_conditions
        self.max_leaves = max_leaves
        self.queries = queries
        self.min_samples_leaf = min_samples_leaf
        self.max_depth = max_depth
        self.beam = beam
        self.min_gain = min_gain
        self.refine = refine
        self.refine_queries = refine_queries
        self.max_rules = max_rules
        self.max_seconds = max_seconds
        self.random_state = random_state

    # -- the stages ----------------------------------------------------------------------
    def _fit(self, X: np.ndarray, y: np.ndarray | None):
        ws = self._prepare(X)
        net = OneLayerNet.from_stack(ws.stack)
        if net.n_hidden > self.max_combinations:
            raise ParameterError(
                f"The network has {net.n_hidden} hidden units, more than "
                f"max_combinations={self.max_combinations}: its hidden states cannot be "
                "tabulated within the cap. Raise max_combinations, or use --method eclaire."
            )
        if not np.allclose(np.asarray(self.schema_.to_model_input(X), dtype=np.float64), X):
            raise UnsupportedModelError(
                "setiono reads the network's input as the schema's columns; this schema "
                "transforms them. Use --method eclaire or --method tree.")
        self._reasons: list[str] = []
        self.stages_: list[dict] = []
        self.__dict__.pop("table_", None)  # a refit stopped before its table keeps no old one
        labels = ws.labels
        self.pruned_inputs_ = self.refinement_ = None
        self._columns = None  # refine adds conditions only on the inputs input pruning kept
        try:
            net = self._prune(net, X, labels, ws)
            net = self._discretise(net, X, ws)
            net = self._linear(net, X, ws)
            hidden_rules, default = self._table(net, X, labels, ws)
            ruleset = self._rules(net, X, labels, hidden_rules, default, ws)
        except OutOfBudget as stop:
            self._reasons.append(f"{self._stage}: {stop.reason}")
            ruleset = getattr(self, "_best", None) or RuleSet(
                [], int(np.bincount(labels).argmax()), ordered=True, classes=ws.classes,
                schema=self.schema_, n_features=X.shape[1])
        self.net_ = net
        self.clusters_ = list(net.clusters)
        if self._reasons:
            self.partial_reason_ = "; ".join(self._reasons)
            warnings.warn(f"setiono: partial result ({self.partial_reason_}).", UserWarning,
                          stacklevel=3)
        self.trace_ = ws.trace
        self.budget_ = ws.budget
        return self._simplified(ruleset, X)

    def _extraction_figures(self) -> dict:
        """``stages``: per stage what it did and the training-row fidelity after it (the
        report's ``details.stages``)."""
        return {"stages": [dict(st) for st in getattr(self, "stages_", [])]}

    def _fidelity(self, pred: np.ndarray, labels: np.ndarray) -> float:
        return float(np.mean(pred == labels))

    def _prune(self, net: OneLayerNet, X, labels, ws) -> OneLayerNet:
        self._stage = "prune"
        n_conn = net.n_connections()
        change = 0.0
        if self.prune:
            pi = prune_inputs(self.oracle_, X, self.tolerance, reference=ws.labels)
            self.pruned_inputs_ = pi
            self._columns = np.asarray(pi.kept, dtype=np.int64)
            for j in pi.dropped:
                net.b1 += net.W1[:, j] * pi.medians[j]
                net.W1[:, j] = 0.0
            net, change = prune_connections(net, X, labels, self.tolerance,
                                            tick=ws.budget.tick)
        kept = int(np.count_nonzero(np.any(net.W1 != 0, axis=0)))
        self.stages_.append({
            "stage": "prune", "inputs_before": int(X.shape[1]), "inputs_kept": kept,
            "inputs_pruned": int(X.shape[1]) - kept,
            "connections_before": n_conn, "connections_kept": net.n_connections(),
            "connections_pruned": n_conn - net.n_connections(),
            "change": change, "fidelity": self._fidelity(net.predict(X), labels)})
        return net

    def _rules(self, net: OneLayerNet, X, labels, hidden_rules, default, ws) -> RuleSet:
        self._stage = "substitute"
        inputs = InputRules(net, X, self.schema_, max_combinations=self.max_combinations,
                            max_leaves=self.max_leaves, max_depth=self.max_depth,
                            min_samples_leaf=self._min_leaf(len(X)), seed=ws.seed,
                            queries=self.queries, oblique=self.oblique, mofn=self.mofn,
                            mofn_conditions=self.mofn_conditions,
                            mixed_conditions=self.mixed_conditions)
        for clause, _ in hidden_rules:  # every condition's input DNF first: is it exact?
            for c in clause:
                inputs.dnf(c, tick=ws.budget.tick)
        exact = inputs.exact
        # Exact rules keep every clause (a clause no training row meets still decides points
        # of the domain); learned ones keep only clauses some training row meets.
        min_support = 0 if exact else 1
        candidates: list[tuple[tuple, int]] = []
        if not exact:
            hidden_rules = self._learned_targets(hidden_rules, default, labels, ws)
        for n_rule, (clause, k) in enumerate(hidden_rules):
            ws.budget.tick()
            dnfs = [inputs.dnf(c) for c in clause]
            if inputs.n_oblique or inputs.n_mofn:  # the engine's conjoin reads axis tests
                clauses, masks, cut = conjoin_oblique(
                    dnfs, len(X), min_support=min_support, beam=self.beam,
                    schema=self.schema_, tick=ws.budget.tick)
            else:
                product = conjoin(dnfs, len(X), min_support=min_support, beam=self.beam,
                                  schema=self.schema_, tick=ws.budget.tick)
                clauses, masks, cut = product.clauses, product.masks, product.truncated
            exact = exact and not cut
            node = self._hidden_nodes[n_rule]
            for c, mask in zip(clauses, masks):
                candidates.append((c, k))
                ws.trace.add(0, c, node, support=int(mask.sum()))
        ruleset, truncated = None, False
        self._stage = "simplify"
        if exact:
            ruleset = minimise_on_domain(candidates, default, X, labels, self.schema_,
                                         ws.classes,
                                         max_combinations=self.max_combinations,
                                         tick=ws.budget.tick)
        if ruleset is None:
            ws.budget.tick()
            ruleset, truncated = final_rules(
                candidates, default, X, labels, classes=ws.classes, schema=self.schema_,
                exact=exact, opaque=bool(inputs.n_oblique or inputs.n_mofn),
                max_rules=self.max_rules,
                min_gain=self._min_leaf(len(X), self.min_gain))
        elif self.max_rules is not None and len(ruleset.rules) > self.max_rules:
            truncated = True
            ruleset = RuleSet(ruleset.rules[:self.max_rules], ruleset.default, ordered=True,
                              classes=ws.classes, schema=self.schema_, n_features=X.shape[1])
        if truncated:
            self._reasons.append(f"rules: max_rules={self.max_rules} reached")
        self.exact_ = bool(exact)
        self.refinement_ = None
        if self.refine != "none" and not exact and ruleset.rules:
            self._stage = "refine"  # learned rules only: exact ones decide as the table does
            if any(isinstance(t, MofN) for r in ruleset.rules for t in r.conditions):
                ruleset = self._refined(ws, ruleset, refiner=refine_mofn)
            if self.refine == "all":
                ruleset = self._refined(ws, ruleset)
        self.stages_.append({
            "stage": "rules", "exact": bool(exact), "oblique_conditions": inputs.n_oblique,
            "mofn_tests": inputs.n_mofn,
            "refined": None if self.refinement_ is None else self.refinement_.to_dict(),
            "rules": len(ruleset.rules),
            "fidelity": self._fidelity(ruleset.predict_index(X), labels)})
        return ruleset

    def _learned_targets(self, hidden_rules, default: int, labels, ws) -> list:
        """The hidden clauses whose input rules become candidates when those rules are learned.

        The table's default is the class with the longest DNF (fewest rules when every step is
        exact). Learned rules are ranked on the training rows and the list's default becomes
        the majority of the rows they leave, so when the table's default is not the majority
        class the candidates all say the majority class and the list can end up empty (a
        German-credit network gave no rules at all). Then the candidates are the clauses of
        every class but the majority, the table's default class's own clauses included.
        """
        majority = int(np.bincount(labels, minlength=len(ws.classes)).argmax())
        if majority == default:
            return hidden_rules
        kept = [(rule, node) for rule, node in zip(hidden_rules, self._hidden_nodes)
                if rule[1] != majority]
        kept += [((clause, k), ws.trace.add(1, clause, k)) for clause, k in self._default_rules]
        self._hidden_nodes = [node for _, node in kept]
        return [rule for rule, _ in kept]

    def _stopped(self, reason: str) -> None:
        """A budget stop inside the engine (``_refined``) joins the stage reasons."""
        self._reasons.append(f"{self._stage}: {reason}")

    def discretised_predict_index(self, X) -> np.ndarray:
        """Class index the hidden-state table gives rows in the schema's space (what the rules
        describe): the pruned network with cluster centres fed forward, except for the
        combinations the table labels by the network's answers (``table_["labels"]``)."""
        self._check_fitted()
        X = np.asarray(X, dtype=np.float64)
        centred = self.net_.predict_discrete(X)
        t = getattr(self, "table_", None)  # None: the fit stopped before the table stage
        if t is None or t["labels"] == "centres":
            return centred
        return table_lookup(t["states"], t["classes"], self.net_.states(X)[:, t["units"]],
                            centred)

    def hidden_predict_index(self, H) -> np.ndarray:
        """Class index that :attr:`hidden_rules_` give hidden activations ``H``."""
        self._check_fitted()
        H = np.asarray(H, dtype=np.float64)
        pred = np.full(len(H), self.hidden_default_, dtype=np.int64)
        for clause, k in reversed(self.hidden_rules_):
            pred[clause_mask(clause, H)] = k
        return pred
