"""TREPAN (``trepan``): an oracle-driven tree with m-of-n tests (Craven & Shavlik, 1995/1996).

The tree learns the network's answers, not the true labels, and asks the network about rows it
generates wherever the real data are too thin to decide a split:

1. Label the extraction rows with the network.
2. Grow best-first: always expand the leaf with the largest ``reach x (1 - fidelity)``, where
   reach is the share of real rows arriving there and fidelity the share of the leaf's examples
   that agree with its majority class, until the tree has ``max_leaves`` leaves.
3. Every node holds at least ``min_samples`` examples: its real rows, the queries inherited from
   its parent, and new queries drawn by ``nnrules.extract.engines.sampling.QuerySampler`` under
   the constraints of the node's path (m-of-n ones included) and labelled by the network.
   ``n_queries`` caps the total number of generated rows (0 turns queries off; "auto"
   chooses between queries and none on rows held apart, see ``TrepanExtractor``).
4. Split tests are single conditions or m-of-n tests found by beam search
   (``nnrules.extract.engines.mofn``), scored by information gain on the node's examples. A
   larger test must earn its conditions: each one beyond the first must raise the gain by the factor
   ``1 + min_gain_ratio``.
5. A node is not expanded when a one-sided Clopper-Pearson bound says, with confidence
   ``stop_confidence``, that its majority class covers at least ``1 - stop_error`` of it, when
   it holds fewer than ``min_real`` real rows (default: 1 on all-discrete domains, else 4), or
   when no test separates its examples.

The result is a ``TreeSurrogate`` whose internal nodes hold ``Condition`` or ``MofN`` tests;
rows where a test holds go left.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from nnrules._validation import RANDOM_STATE, Interval, Options, check_random_state
from nnrules.exceptions import ParameterError
from nnrules.extract.base import Extractor
from nnrules.extract.engines.mofn import best_split
from nnrules.extract.engines.query_choice import CountOrAuto, choose_queries
from nnrules.extract.engines.sampling import METHODS, QuerySampler

__all__ = ["VALIDATION_QUERIES", "VALIDATION_SHARE", "TrepanExtractor"]

VALIDATION_SHARE = 0.25  # share of the rows ``prune`` keeps apart to choose the pruned tree
VALIDATION_QUERIES = 10  # rows drawn near each validation row to measure fidelity on
QUERY_WEIGHTING = "reach"  # "reach" or "uniform": see ``prune``
_MIN_ROWS_TO_SPLIT = 8   # fewer rows: ``prune`` chooses on the pruning rows themselves


@dataclass
class _Node:
    path: list[tuple[Any, bool]]
    real: np.ndarray           # indices of the real rows at the node
    Q: np.ndarray              # queries at the node, shape (q, d)
    Qy: np.ndarray             # their labels (class indices)
    depth: int
    counts: np.ndarray = field(default=None)  # class counts over real rows and queries
    split: Any = None          # SplitResult or None (a final leaf)
    test: Any = None
    left: int = -1
    right: int = -1


class TrepanExtractor(Extractor):
    """TREPAN: best-first tree with m-of-n splits and network-labelled queries.

    Parameters
    ----------
    network : Network, callable, or object with ``predict``
        The classifier to explain (a black box: TREPAN only asks it for labels).
    max_leaves : int >= 1, default=16
        Leaf budget, the size control shared with ``tree``.
    min_samples : int >= 1, default=1000
        Fewest examples (real rows plus queries) a node is decided on.
    beam_width : int >= 1, default=5
        Beam of the m-of-n search.
    mofn : bool, default=True
        Allow m-of-n tests; False gives single-condition splits only.
    max_conditions : int >= 1, default=8
        Largest number of conditions in an m-of-n test.
    min_gain_ratio : float >= 0, default=0.05
        An m-of-n test is chosen over a smaller one only when each extra condition multiplies
        the information gain by at least ``1 + min_gain_ratio`` (see
        ``nnrules.extract.engines.mofn``); 0 takes the test with the largest gain whatever its
        size. The default is the largest of 0, 0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.25, 0.5
        and 1 that kept held-out fidelity
        within 0.006 of 0's on breast cancer, wine and digits (benchmarks/trepan.py's budgets);
        it cut their literals by a third (522 to 354) and left MONK's trees unchanged.
    min_real : int >= 0 or None, default=None
        Fewest real rows a node must hold to be split (queries alone never decide a split
        below this). None: 1 when every feature is discrete (binary, one-hot or categorical:
        every generated row is then a point of the domain itself, so queries stand in for the
        missing real rows), else 4 (continuous or integer features, where generated rows may
        leave the data's manifold). Chosen on six new MONK-1/2/3 networks and checked on six
        others (``benchmarks/trepan_monk.py``): 4 left new MONK-3 networks at 0.961-0.979
        fidelity, 1 reached 0.979-1.000 (checking set: worst 0.963 -> 0.986); on wine 1 lost a
        held-out row at both leaf budgets, hence 4 off discrete domains.
    n_queries : int >= 0, None or "auto", default=None
        Cap on the number of generated rows; None: as many as ``min_samples`` asks for.
        "auto": choose between None and 0 (no queries) for this network and data: both trees
        are grown on 75% of the rows and the one more faithful to the network on the other
        25% (real rows only: rows generated near them would come from the queries' own data
        model and favour the tree grown on it) is grown again on all rows, the same tree (and
        pruning) ``n_queries`` None or 0 gives with the same ``random_state``. The queries are
        dropped only on evidence: the rows only the tree without them gets right must outnumber
        the rows only the other gets right at the one-sided sign test's level
        ``engines.query_choice.AUTO_EVIDENCE`` (0.05; one row in 31 on wine is not evidence).
        The choice, with both fidelities and sizes, is in ``queries_choice_`` and the surrogate's
        ``notes["queries"]``. It costs two extra growths. Not the default: on breast cancer,
        wine, digits and German credit (3 networks each, held-out and validation protocols
        of benchmarks/trepan_prune.py) it kept the queries on every network, so its trees
        equal the default's; on digits the queries' tree grown on 75% of the rows was the
        more faithful one (0.83-0.86 against 0.80-0.81; sign-test p for "none" 0.80-0.99),
        although the tree grown on all rows without queries prunes to fewer literals at
        CART's fidelity. See docs/benchmarks.md ("Pruning", n_queries=auto).
    sampler : {"perturb", "kde", "marginal", "neighbour"}, default="perturb"
        Data model of the queries (see ``nnrules.extract.engines.sampling``; "neighbour":
        rows between a node's real rows and their nearest neighbours,
        ``nnrules.extract.engines.neighbours``). On digits (validation rows the networks never
        saw) "neighbour" needed fewer literals than "perturb" at CART's fidelity on 2 of 3
        networks, but fewer still came from no queries at all (``n_queries=0``): see
        docs/benchmarks.md, section "Pruning".
    stop_error, stop_confidence : float, default=0.01, 0.95
        A node whose majority class covers at least ``1 - stop_error`` of it with confidence
        ``stop_confidence`` is not expanded.
    max_depth : int >= 1 or None, default=None
        Deepest a leaf may be (None: the leaf budget alone decides).
    simplify : bool, default=True
        Simplify the grown tree without changing its answer on the extraction rows, TREPAN's
        queries and 20,000 generated rows (``nnrules.extract.engines.simplify``): tests the path
        decides go, m-of-n tests become the simplest equal test, sibling leaves with one class
        merge, branches no row reaches take their parent's class (reported). What it did is in
        ``simplification_`` and the surrogate's ``notes["simplified"]``.
    prune : float in [0, 1) or None, default=None
        Prune the grown tree (this changes predictions, unlike ``simplify``). The pruning path
        (``nnrules.extract.engines.prune_tree``) changes, step by step, what loses the least
        fidelity per literal saved (a subtree becomes a leaf, a node gives way to a child, an
        m-of-n test loses a condition), fidelity measured on the extraction rows and TREPAN's
        queries (the queries of a leaf together weigh as much as its real rows). How far to go
        is chosen apart from those rows: a tree grown on 75% of the rows is pruned to the
        smallest tree whose fidelity on the other 25% (plus ``VALIDATION_QUERIES`` network-
        labelled rows drawn near each) stays within ``prune`` of its own; the tree grown on
        all rows then gives up as much fidelity on its pruning rows. Reported in ``pruning_``
        and ``notes["pruned"]``. None: no pruning (the default; see docs/benchmarks.md).
    max_literals : int >= 0 or None, default=None
        Prune along the same path to the largest tree whose rule view writes at most this many
        literals (``complexity()["conditions"]``; an m-of-n test over n conditions counts n).
        None: no bound. With ``prune``, both apply.
    prune_cost : {"both", "rules", "tree"}, default="both"
        What a pruning step saves, the step making the change that loses the least fidelity
        per literal saved: "rules", the literals of the rule view's one rule per leaf (a test
        counts once per leaf below it), close to ``complexity()["conditions"]`` when there are
        many classes; "tree", the conditions written in the tree's tests; "both" (default):
        four paths (each cost, with and without a step that reduces an m-of-n test to one of
        its conditions at once) merged into one frontier, the trees more faithful on the
        pruning rows than every tree whose rule view writes fewer literals
        (``nnrules.extract.engines.prune_tree.merged_frontier``; four paths' time). Used only
        with ``prune`` or ``max_literals``. Chosen on validation rows the networks never saw
        (TREPAN / CART literals at CART's fidelity; breast cancer, wine and German credit 3
        networks each, digits 6): "both" was never worse than "rules" and better on 4 of 15
        networks (German credit seed 0: 0.11 against 0.18; digits, three networks: 0.91,
        1.93, 1.41 against 1.00, 1.96, 1.58); merging the two costs without the one-condition
        step helped only German. "rules" had beaten "tree" on digits (1.96 / 1.32 / 1.11
        against 2.68 / 1.65 / 1.16). See docs/benchmarks.md ("Pruning").
    prune_also : {"no_queries", "single", None}, default="no_queries"
        With ``prune`` or ``max_literals``: grow a second tree on the same rows, without
        queries ("no_queries") or with single-condition tests ("single"), prune both and merge
        their paths into one frontier (``nnrules.extract.engines.prune_pool``; fidelity on the
        real rows and the queries at half weight). The grown tree is unchanged; the pruned tree
        may come from either. None prunes the grown tree alone (so does a first tree grown as
        the second would be: ``n_queries=0`` or ``mofn=False``). Costs a second growth and path
        (digits, this benchmark's machine: 34-142 s without queries, against 100-330 s for the
        default fit). "no_queries" chosen on validation rows (TREPAN / CART literals at CART's
        fidelity, 5 digits, 3 breast cancer, 3 wine, 3 German networks): never worse than None,
        better on digits (median / worst 1.32 / 1.96 -> 0.92 / 1.32), breast cancer and wine;
        docs/benchmarks.md ("Pruning", fourth look).
    random_state : int, numpy.random.Generator or None, default=None
        Seeds the queries; the same seed gives the same tree.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(300, 3))
    >>> black_box = lambda X: ((X[:, 0] > 0).astype(int) + (X[:, 1] > 0) >= 1).astype(int)
    >>> ex = TrepanExtractor(black_box, max_leaves=4, random_state=0).fit(X)
    >>> print(ex.surrogate_.to_text())  # doctest: +SKIP
    """

    method = "trepan"
    family = "pedagogical"
    _parameter_constraints: ClassVar[dict] = {
        "max_leaves": Interval(int, 1, None),
        "min_samples": Interval(int, 1, None),
        "beam_width": Interval(int, 1, None),
        "mofn": Options((True, False)),
        "max_conditions": Interval(int, 1, None),
        "min_gain_ratio": Interval(float, 0.0, None),
        "min_real": Interval(int, 0, None, allow_none=True),
        "n_queries": CountOrAuto(),
        "sampler": Options((*METHODS, "neighbour")),
        "stop_error": Interval(float, 0.0, 1.0, closed="neither"),
        "stop_confidence": Interval(float, 0.0, 1.0, closed="neither"),
        "max_depth": Interval(int, 1, None, allow_none=True),
        "simplify": Options((True, False)),
        "prune": Interval(float, 0.0, 1.0, closed="left", allow_none=True),
        "max_literals": Interval(int, 0, None, allow_none=True),
        "prune_cost": Options(("both", "rules", "tree")),
        "prune_also": Options(("no_queries", "single"), allow_none=True),
        "random_state": RANDOM_STATE,
    }

    def __init__(
        self,
        network,
        *,
        max_leaves: int = 16,
        min_samples: int = 1000,
        beam_width: int = 5,
        mofn: bool = True,
        max_conditions: int = 8,
        min_gain_ratio: float = 0.05,
        min_real: int | None = None,
        n_queries: int | str | None = None,
        sampler: str = "perturb",
        stop_error: float = 0.01,
        stop_confidence: float = 0.95,
        max_depth: int | None = None,
        simplify: bool = True,
        prune: float | None = None,
        max_literals: int | None = None,
        prune_cost: str = "both",
        prune_also: str | None = "no_queries",
        random_state: int | None = None,
    ):
        self.network = network
        self.max_leaves = max_leaves
        self.min_samples = min_samples
        self.beam_width = beam_width
        self.mofn = mofn
        self.max_conditions = max_conditions
        self.min_gain_ratio = min_gain_ratio
        self.min_real = min_real
        self.n_queries = n_queries
        self.sampler = sampler
        self.stop_error = stop_error
        self.stop_confidence = stop_confidence
        self.max_depth = max_depth
        self.simplify = simplify
        self.prune = prune
        self.max_literals = max_literals
        self.prune_cost = prune_cost
        self.prune_also = prune_also
        self.random_state = random_state

    # -- fitting -----------------------------------------------------------------------
    def _fit(self, X: np.ndarray, y: np.ndarray | None):
        oracle = self.oracle_
        if oracle.task != "classification":
            raise ParameterError(
                f"trepan explains classifiers; this network's task is {oracle.task!r}. Use "
                "--method tree or additive for regression."
            )
        self.schema_.validate(X)
        rng = check_random_state(self.random_state)
        self._mofn = self.mofn
        self._n_queries, self.queries_choice_ = self.n_queries, None
        if self.n_queries == "auto":
            self._n_queries, self.queries_choice_ = self._choose_queries(X, rng)
        if self.prune is None and self.max_literals is None:
            tree = self._grow(X, rng)["tree"]
            if self.queries_choice_ is not None:
                tree.notes["queries"] = self.queries_choice_
            return tree
        from nnrules.extract.engines.prune_choose import pruned

        loss, chosen = None, {}
        if self.prune is not None and X.shape[0] >= _MIN_ROWS_TO_SPLIT:
            # How far to prune is chosen on rows kept apart: grow on the rest, keep the
            # smallest tree within ``prune`` of it on them, and note the fidelity it gave up
            # on its pruning rows; the tree grown on all rows then gives up as much.
            split = np.random.default_rng(int(rng.integers(0, 2**31 - 1)))
            order = split.permutation(X.shape[0])
            n_val = round(X.shape[0] * VALIDATION_SHARE)
            X_val = X[np.sort(order[:n_val])]
            g = self._grow(X[np.sort(order[n_val:])], split)
            others = self._grow_also(X[np.sort(order[n_val:])], split)
            # Few validation rows measure fidelity coarsely: rows drawn near them (never near
            # the rows the tree grew on) and labelled by the network join them.
            near = QuerySampler(self.schema_, X_val, method="perturb", random_state=split,
                                validate=False).sample(VALIDATION_QUERIES * n_val)
            X_val = np.vstack([X_val, near])
            _, _, chosen = pruned(
                g["tree"], g["X"], g["labels"], g["queries"], g["query_labels"],
                prune=self.prune, max_literals=None, X_val=X_val,
                val_labels=oracle.predict_index(X_val), query_weights=g["query_weights"],
                cost=self.prune_cost, others=others)
            # (A smaller tree can be more faithful than the grown one: then nothing is given up.)
            loss = max(0.0, chosen["path_fidelity"][0] - chosen["path_fidelity"][1])
        g = self._grow(X, rng)
        others = self._grow_also(X, rng)
        tree, self.pruning_path_, self.pruning_ = pruned(
            g["tree"], X, g["labels"], g["queries"], g["query_labels"],
            prune=self.prune if loss is None else None, max_fidelity_loss=loss,
            max_literals=self.max_literals, generated=g["rows"],
            query_weights=g["query_weights"], cost=self.prune_cost, others=others)
        if chosen:
            self.pruning_["validation"] = {
                k: chosen[k] for k in ("validation_rows", "validation_fidelity", "literals")}
        tree.notes["pruned"] = self.pruning_
        if self.queries_choice_ is not None:
            tree.notes["queries"] = self.queries_choice_
        return tree

    def _grow_also(self, X: np.ndarray, rng: np.random.Generator) -> list[dict]:
        """``prune_also``: the second tree whose pruning path joins the grown tree's, grown on
        the same rows from a seed drawn after the first growth (which it leaves unchanged)."""
        if (self.prune_also is None or (self.prune_also == "no_queries" and self._n_queries == 0)
                or (self.prune_also == "single" and not self._mofn)):
            return []  # the second tree would be grown as the first was: nothing to add
        seed = int(rng.integers(0, 2**31 - 1))
        keep = (self._mofn, self._n_queries, self.n_generated_,
                self.__dict__.get("simplification_"))
        if self.prune_also == "no_queries":
            self._n_queries = 0
        else:
            self._mofn = False
        try:
            g = self._grow(X, np.random.default_rng(seed))
        finally:
            self._mofn, self._n_queries, self.n_generated_ = keep[:3]
            if keep[3] is not None:
                self.simplification_ = keep[3]
        return [g]

    def _choose_queries(self, X: np.ndarray, rng: np.random.Generator):
        """``n_queries="auto"``: queries (None) or none (0), by
        ``nnrules.extract.engines.query_choice.choose_queries`` on 25% of the rows held
        apart."""
        def grow(n_queries, X_fit, seeded):
            self._n_queries = n_queries
            return self._grow(X_fit, seeded)["tree"]

        return choose_queries(grow, self.oracle_, X, rng, validation_share=VALIDATION_SHARE,
                              min_rows=_MIN_ROWS_TO_SPLIT)

    def _grow(self, X: np.ndarray, rng: np.random.Generator) -> dict:
        """Grow (and simplify) a tree on ``X``; also the rows and queries it labelled."""
        from nnrules.surrogates.tree import TreeSurrogate

        oracle = self.oracle_
        self._X = X
        # On the fit's rows, kept for the annotation after the fit (one network pass).
        self._labels = oracle.as_index(self._network_labels(X))
        self._n_classes = len(oracle.classes)
        self._budget = np.inf if self._n_queries is None else int(self._n_queries)
        if self.sampler == "neighbour":
            from nnrules.extract.engines.neighbours import NeighbourSampler

            self._sampler = NeighbourSampler(self.schema_, X, random_state=rng, validate=False)
        else:
            self._sampler = QuerySampler(self.schema_, X, method=self.sampler,
                                         random_state=rng, validate=False)  # _fit validated X
        kinds = tuple(f.kind for f in self.schema_.features)
        self._kinds = kinds
        discrete = all(k in ("binary", "onehot", "categorical") for k in kinds)
        self._min_real = (1 if discrete else 4) if self.min_real is None else int(self.min_real)
        self._categories = {
            j: len(f.categories) for j, f in enumerate(self.schema_.features)
            if f.kind == "categorical"
        }
        d = X.shape[1]
        nodes = [self._make_node([], np.arange(X.shape[0]), np.empty((0, d)),
                                 np.empty(0, dtype=np.int64), 0)]
        heap: list[tuple[float, int]] = []
        self._push(heap, nodes, 0)
        n_leaves = 1
        while heap and n_leaves < self.max_leaves:
            _, i = heapq.heappop(heap)
            node = nodes[i]
            test = self._test(node.split)
            node.test = test
            for holds in (True, False):
                mask = node.split.mask if holds else ~node.split.mask
                n_real = node.real.size
                real = node.real[mask[:n_real]]
                child = self._make_node(
                    [*node.path, (test, holds)], real, node.Q[mask[n_real:]],
                    node.Qy[mask[n_real:]], node.depth + 1,
                )
                nodes.append(child)
                if holds:
                    node.left = len(nodes) - 1
                else:
                    node.right = len(nodes) - 1
                self._push(heap, nodes, len(nodes) - 1)
            n_leaves += 1
        self.n_generated_ = int(sum(n.Q.shape[0] for n in nodes if n.left < 0))
        labels = self._labels
        del self._X, self._labels, self._sampler
        tests = [n.test if n.left >= 0 else None for n in nodes]
        value = np.array([n.counts / max(n.counts.sum(), 1) for n in nodes])
        tree = TreeSurrogate(
            tests=tests,
            left=np.array([n.left for n in nodes], dtype=np.int64),
            right=np.array([n.right for n in nodes], dtype=np.int64),
            value=value,
            classes=tuple(oracle.classes.tolist()),
            schema=self.schema_,
            task="classification",
            n_node_samples=np.array([n.real.size for n in nodes], dtype=np.int64),
        )
        queries = np.vstack([np.empty((0, d))] + [n.Q for n in nodes if n.left < 0])
        query_labels = np.concatenate([np.empty(0, dtype=np.int64)]
                                      + [n.Qy for n in nodes if n.left < 0])
        # A leaf's queries together weigh as much as its real rows (reach-proportional).
        query_weights = np.concatenate([np.empty(0)] + [
            np.full(n.Q.shape[0], n.real.size / max(n.Q.shape[0], 1))
            for n in nodes if n.left < 0]) if QUERY_WEIGHTING == "reach" else None
        rows = None
        if self.simplify:
            from nnrules.extract.engines.simplify import generate_rows, simplify_tree

            rows = np.vstack([queries, generate_rows(self.schema_, X, random_state=int(
                rng.integers(0, 2**31 - 1)))])
            tree, self.simplification_ = simplify_tree(tree, X, generated=rows)
            tree.notes["simplified"] = self.simplification_
        return {"tree": tree, "X": X, "labels": labels, "queries": queries,
                "query_labels": query_labels, "query_weights": query_weights, "rows": rows}

    def _make_node(self, path, real, Q, Qy, depth) -> _Node:
        """A node with its queries topped up to ``min_samples`` and its best split."""
        missing = self.min_samples - real.size - Q.shape[0]
        if missing > 0 and self._budget > 0:
            new = self._sampler.sample(int(min(missing, self._budget)), path)
            if new.shape[0]:
                self._budget -= new.shape[0]
                Q = np.vstack([Q, new])
                Qy = np.concatenate([Qy, self.oracle_.predict_index(new)])
        node = _Node(path, real, Q, Qy, depth)
        labels = np.concatenate([self._labels[real], Qy]).astype(np.int64)
        node.counts = np.bincount(labels, minlength=self._n_classes).astype(np.float64)
        if self._should_stop(node):
            return node
        examples = np.vstack([self._X[real], Q])
        node.split = best_split(
            examples, labels, self._n_classes, kinds=self._kinds, categories=self._categories,
            mofn=self._mofn, beam_width=self.beam_width, max_conditions=self.max_conditions,
            min_gain_ratio=float(self.min_gain_ratio),
        )
        return node

    def _should_stop(self, node: _Node) -> bool:
        total = node.counts.sum()
        if total == 0 or np.count_nonzero(node.counts) <= 1:
            return True
        if self.max_depth is not None and node.depth >= self.max_depth:
            return True
        if node.real.size < self._min_real:
            return True
        from scipy.stats import beta  # loaded when a fit first needs it

        k = node.counts.max()
        # One-sided Clopper-Pearson lower bound on the majority share.
        lower = beta.ppf(1.0 - self.stop_confidence, k, total - k + 1)
        return bool(lower >= 1.0 - self.stop_error)

    def _push(self, heap, nodes, i) -> None:
        node = nodes[i]
        if node.split is None:
            return
        total = node.counts.sum()
        fidelity = node.counts.max() / total
        # Reach is the share of real rows; a node with none still ranks above nothing.
        reach = (node.real.size + 1e-3) / self._X.shape[0]
        heapq.heappush(heap, (-reach * (1.0 - fidelity), i))

    def _test(self, split):
        from nnrules.surrogates.rules import Condition, MofN

        conds = tuple(Condition(j, op, v) for j, op, v in split.literals)
        if len(conds) == 1 and split.m == 1:
            return conds[0]
        return MofN(split.m, conds)
