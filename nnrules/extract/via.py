"""Validity interval analysis (``via``): input boxes proven to get one answer from the network.

Thrun (NIPS 1995) attached intervals to every unit and tightened them forward and backward
until a rule "x in B => class c" was proven or could not be; Maire (IEEE TNN 2000) made the
backward step exact for sigmoid networks. This module keeps the idea and uses a modern bound
engine (:mod:`nnrules.verify.bounds`: interval arithmetic, or back-substituted linear
relaxations) behind a verifier that also looks for counterexamples
(:class:`nnrules.verify.Verifier`, built once per fit).

Extraction:

1. Candidate boxes: the leaves of a tree distilled from the network (``candidates="tree"``),
   bounded by the schema's feature bounds; or boxes grown around training rows
   (``candidates="rows"``: nearest neighbours, a uniform scale-up, then each face pushed out
   in turn, every step proven; :mod:`nnrules.extract.engines.via_growth`).
2. Verify each box for the class the network gives most of its rows; split unproven boxes
   along the most promising unit (linear-bound coefficient x width; one-hot groups are split
   over their categories, integers at whole numbers), best-first by rows covered, until
   ``max_verifications`` verifications are spent.
3. Merge neighbours that prove the same class (no new proof needed: the union is exact), keep
   the ``max_boxes`` boxes covering most rows, and return a
   :class:`~nnrules.surrogates.boxes.BoxRuleSet` with the chosen fallback. Before that,
   faces of kept boxes lying on the edge of the rows' range are pushed ``domain_margin`` of the
   range further out where proven, so new rows just outside the range can be covered
   (``benchmarks/results/via_generalise.md``).

Regression: boxes grown around extraction rows get proven output ranges; a box is kept while
its range is no wider than ``output_tolerance`` times the network's output spread on the
extraction rows (:mod:`nnrules.extract.engines.via_regression`).
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from nnrules._validation import RANDOM_STATE, Interval, Options, check_random_state
from nnrules.exceptions import DataError, ParameterError, UnsupportedModelError
from nnrules.extract.base import Extractor
from nnrules.extract.engines.via_growth import check, grow_boxes, reach_margin
from nnrules.extract.engines.via_regression import grow_output_boxes
from nnrules.verify import Budget, Domain, Verdict, Verifier
from nnrules.verify.domain import closed_box, tree_leaf_boxes

__all__ = ["VIAExtractor"]

_BATCH = 128


class VIAExtractor(Extractor):
    """Proven input boxes by validity interval analysis.

    Parameters
    ----------
    network : Network
        A dense ReLU / LeakyReLU / sigmoid / tanh network (its ``layers`` IR is read).
    max_boxes : int, default=64
        Most boxes returned (those covering most extraction rows are kept).
    max_verifications : int, default=4000
        Budget of box verifications; 0 proves nothing (every row goes to the fallback).
    bound : {"linear", "alpha", "interval"}, default="linear"
        Bound engine: back-substituted linear relaxation, the same with optimised ReLU
        slopes (``"alpha"``, alpha-CROWN style: tighter, several times slower; sigmoid / tanh
        layers keep the linear lines), or plain interval arithmetic.
    candidates : {"rows", "tree", "certified", "best"}, default="rows"
        Grow boxes around extraction rows (``"rows"``); split a distilled tree's leaves
        (``"tree"``); certify the distilled tree (``"certified"``: :func:`nnrules.certify`
        partitions every leaf into proven / refuted / unknown boxes, boxes holding most rows
        first) and keep its proven boxes; or ``"best"``: certify with half the budget, grow
        rows with the rest, and keep whichever covers more extraction rows
        (``seeded_by_`` says which).
    fallback : {"tree", "abstain"}, default="tree"
        What rows outside every proven box get: the distilled tree (not proven, marked in
        ``explain``) or no answer.
    max_leaves : int, default=32
        Leaves of the distilled tree (candidates and fallback).
    n_samples : int, default=32
        Random points per unproven box in the counterexample search.
    output_tolerance : float, default=0.1
        Regression: widest proven output range kept, as a fraction of the network's output
        spread on the extraction rows.
    split_depth : int, default=8
        A box the bounds cannot prove whole (and no counterexample refutes) is split in two
        up to this many rounds and proven when every part is; one verification still counts
        once. Proves more boxes at up to ``2 ** split_depth`` times the cost.
    relu_split : int, default=0
        Before input splitting, such a box is split on the signs of its unstable first-layer
        ReLUs up to this many rounds (parts bounded with optimised slopes and split
        multipliers, beta-CROWN style; :mod:`nnrules.verify.relu_split`). Needs a ReLU or
        LeakyReLU first hidden layer (ignored otherwise); 0 = off.
    complete : bool, default=False
        Boxes still unknown after all that are settled by mixed-integer programming
        (:mod:`nnrules.verify.milp`): proven or refuted exactly, for ReLU / LeakyReLU
        networks (ignored otherwise). Tens to hundreds of milliseconds per such box.
    domain_margin : float, default=0.1
        After the boxes are chosen, each face lying on the edge of the extraction rows' range
        (continuous features) is pushed out by this fraction of the range, all of a box's
        such faces in one verification (``min(max_boxes, max_verifications // 20)``
        verifications kept back from the budget for it, so none below 20 verifications),
        kept only where proven: proven boxes can then reach new rows a little outside the
        rows' range. 0 = off. Classification only (regression boxes are not pushed).
    task : {"classification", "regression"} or None
        Overrides the task the network declares.
    random_state : int, numpy.random.Generator or None
        Seeds the tree and the counterexample search; the same seed gives the same file.

    Examples
    --------
    >>> from nnrules.io.model import load  # doctest: +SKIP
    >>> via = VIAExtractor(load("iris.onnx"), candidates="rows").fit(X_train)  # doctest: +SKIP
    >>> print(via.surrogate_.to_text())  # doctest: +SKIP
    """

    method = "via"
    family = "decompositional"
    _parameter_constraints: ClassVar[dict] = {
        "max_boxes": Interval(int, 1, None),
        "max_verifications": Interval(int, 0, None),
        "bound": Options(("interval", "linear", "alpha")),
        "candidates": Options(("best", "certified", "rows", "tree")),
        "fallback": Options(("abstain", "tree")),
        "max_leaves": Interval(int, 2, None),
        "n_samples": Interval(int, 0, None),
        "output_tolerance": Interval(float, 0, None, closed="neither"),
        "split_depth": Interval(int, 0, 16),
        "relu_split": Interval(int, 0, 16),
        "complete": Options((True, False)),
        "domain_margin": Interval(float, 0, None),
        "task": Options(("classification", "regression"), allow_none=True),
        "random_state": RANDOM_STATE,
    }

    def __init__(self, network, *, max_boxes: int = 64, max_verifications: int = 4000,
                 bound: str = "linear", candidates: str = "rows", fallback: str = "tree",
                 max_leaves: int = 32, n_samples: int = 32, output_tolerance: float = 0.1,
                 split_depth: int = 8, relu_split: int = 0, complete: bool = False,
                 domain_margin: float = 0.1, task: str | None = None,
                 random_state: int | None = None):
        self.network = network
        self.max_boxes = max_boxes
        self.max_verifications = max_verifications
        self.bound = bound
        self.candidates = candidates
        self.fallback = fallback
        self.max_leaves = max_leaves
        self.n_samples = n_samples
        self.output_tolerance = output_tolerance
        self.split_depth = split_depth
        self.relu_split = relu_split
        self.domain_margin = domain_margin
        self.complete = complete
        self.task = task
        self.random_state = random_state

    # -- setup ---------------------------------------------------------------------------
    def _setup(self, X: np.ndarray) -> None:
        if not hasattr(self.network, "layers"):
            raise UnsupportedModelError(
                f"Validity interval analysis opens the network, but {type(self.network).__name__!r} "
                "has no layer IR (it is a black box). Load an ONNX file with nnrules.load, or use "
                "a pedagogical method (tree, trepan, additive)."
            )
        self.verifier_ = Verifier(self.network, bound=self.bound, n_samples=self.n_samples,
                                  split_depth=self.split_depth, relu_split=self.relu_split,
                                  complete=self.complete)
        if self.verifier_.n_inputs != X.shape[1]:
            raise DataError(
                f"The network reads {self.verifier_.n_inputs} features but the data has "
                f"{X.shape[1]} columns; pass the columns the network was trained on."
            )
        bad = [f.name for f in self.schema_.features
               if not (np.isfinite(f.lower) and np.isfinite(f.upper))]
        if bad:
            raise DataError(
                f"Features {bad!r} have unbounded schema bounds; validity interval analysis needs "
                "a bounded box. Give a schema with finite lower/upper bounds."
            )
        self.domain_ = Domain(self.schema_)
        self.verifier_.domain = self.domain_  # search points are valid rows of the schema
        self.rng_ = check_random_state(self.random_state)
        self.reserve_ = (min(self.max_boxes, self.max_verifications // 20)
                         if self.domain_margin > 0 else 0)
        self.budget_ = Budget(self.max_verifications - self.reserve_)
        self.counts_ = self.budget_.counts

    def _labels_of(self, lo: np.ndarray, hi: np.ndarray, X: np.ndarray, y_idx: np.ndarray):
        """Majority network class among the rows in each box (the centre's class if none)."""
        out = np.empty(len(lo), dtype=np.int64)
        empty = []
        n_rows = np.zeros(len(lo), dtype=np.int64)
        for k in range(len(lo)):
            inside = y_idx[self.domain_.contains(X, lo[k], hi[k])]
            n_rows[k] = inside.size
            if inside.size:
                out[k] = np.bincount(inside).argmax()
            else:
                empty.append(k)
        if empty:
            centres = self.domain_.centre(lo[empty], hi[empty])
            out[empty] = self.oracle_.predict_index(centres)
        return out, n_rows

    def _tree(self, X: np.ndarray, y_idx: np.ndarray):
        from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

        seed = int(self.rng_.integers(0, 2**31 - 1))
        if self.oracle_.task == "classification":
            cart = DecisionTreeClassifier(max_leaf_nodes=self.max_leaves, random_state=seed)
        else:
            cart = DecisionTreeRegressor(max_leaf_nodes=self.max_leaves, random_state=seed)
        return cart.fit(X, y_idx)

    # -- candidates ----------------------------------------------------------------------
    def _tree_candidates(self, tree):
        _, open_lo, hi = tree_leaf_boxes(tree, self.domain_, self.domain_.d)
        boxes = [closed_box(self.domain_, open_lo[i], hi[i]) for i in range(len(hi))]
        return [(a, b) for a, b, ok in boxes if ok]

    def _influence(self, coef: np.ndarray | None, lo, hi, cls) -> np.ndarray:
        """Per-feature weight of each box's bound: |linear coefficients|, or |gradient|."""
        if coef is not None:
            return np.abs(coef).sum(axis=1)
        _, grad = self.verifier_.margins((lo + hi) / 2.0, cls)
        return np.abs(grad) + 1e-9

    def _split_search(self, start: list, X: np.ndarray, y_idx: np.ndarray):
        """Best-first verify-and-split from the start boxes; returns proven (lo, hi, cls)."""
        proven: list[tuple[np.ndarray, np.ndarray, int]] = []
        heap: list = []
        counter = 0

        def push(boxes):
            nonlocal counter
            if not boxes:
                return
            lo = np.array([b[0] for b in boxes])
            hi = np.array([b[1] for b in boxes])
            cls, n_rows = self._labels_of(lo, hi, X, y_idx)
            for k in range(len(boxes)):
                vol = self.domain_.count_points(lo[k], hi[k])
                heapq.heappush(heap, (-int(n_rows[k]), -vol, counter, lo[k], hi[k], int(cls[k])))
                counter += 1

        push(start)
        while heap and self.budget_.left > 0:
            take = min(_BATCH, self.budget_.left, len(heap))
            batch = [heapq.heappop(heap) for _ in range(take)]
            lo = np.array([b[3] for b in batch])
            hi = np.array([b[4] for b in batch])
            cls = np.array([b[5] for b in batch])
            res = check(self.verifier_, self.budget_, self.rng_, lo, hi, cls)
            status = res["status"]
            todo = np.flatnonzero(status != "proven")
            for k in np.flatnonzero(status == "proven"):
                proven.append((lo[k], hi[k], int(cls[k])))
            if todo.size == 0:
                continue
            coef = None if res["coef"] is None else res["coef"][todo]
            influence = self._influence(coef, lo[todo], hi[todo], cls[todo])
            children = []
            for row, k in enumerate(todo):
                scores = self.domain_.unit_scores(lo[k], hi[k], influence[row])
                if scores.max() <= 0:
                    continue  # a single point (or below resolution) that cannot be proven
                children += self.domain_.split(lo[k], hi[k], int(scores.argmax()))
            push(children)
        return proven

    def _certified(self, tree, X, classes):
        """Selected proven boxes of the certified distilled tree (half the budget for "best")."""
        from nnrules.extract.engines.via_certified import certified_boxes

        share = self.budget_.left if self.candidates == "certified" else self.budget_.left // 2
        proven, used, counts = certified_boxes(
            self.network, tree, self.schema_, classes, X, budget=share,
            random_state=int(self.rng_.integers(0, 2**31 - 1)), bound=self.bound,
            complete=self.complete, split_depth=self.split_depth, n_samples=self.n_samples)
        self.budget_.counts["proven"] += counts["proven"]
        self.budget_.counts["refuted"] += counts["refuted"]
        self.budget_.counts["unknown"] += max(0, used - counts["proven"] - counts["refuted"])
        return self._select(proven, X)

    # -- assembly ------------------------------------------------------------------------
    def _select(self, proven, X):
        """Merge, drop boxes inside others, keep the max_boxes covering most rows (greedy)."""
        if not proven:
            d = self.domain_.d
            return np.zeros((0, d)), np.zeros((0, d)), np.zeros(0, dtype=np.int64)
        lo = np.array([p[0] for p in proven])
        hi = np.array([p[1] for p in proven])
        cls = np.array([p[2] for p in proven])
        lo, hi, cls = self.domain_.merge(lo, hi, cls)
        inside = np.array([[self.domain_.contains(X, lo[k], hi[k])] for k in range(len(lo))])
        inside = inside.reshape(len(lo), len(X))
        vol = np.array([self.domain_.count_points(lo[k], hi[k]) for k in range(len(lo))])
        chosen, covered = [], np.zeros(len(X), dtype=bool)
        remaining = list(range(len(lo)))
        while remaining and len(chosen) < self.max_boxes:
            gain = np.array([np.sum(inside[k] & ~covered) for k in remaining])
            key = gain + vol[remaining] * 1e-6  # rows first, then volume
            pick = remaining[int(np.argmax(key))]
            if gain.max() == 0 and vol[pick] == 0:
                break
            chosen.append(pick)
            covered |= inside[pick]
            remaining.remove(pick)
        chosen = np.array(chosen, dtype=np.int64)
        return lo[chosen], hi[chosen], cls[chosen]

    def _fallback_parts(self, tree, classes):
        if self.fallback != "tree":
            return {}
        leaves, open_lo, hi = tree_leaf_boxes(tree, None, self.domain_.d)
        values = tree.tree_.value[leaves]
        if self.oracle_.task == "classification":
            outputs = [classes[int(i)] for i in tree.classes_[values[:, 0, :].argmax(axis=1)]]
        else:
            outputs = [float(v) for v in values[:, 0, 0]]
        return {"fallback_lower": open_lo, "fallback_upper": hi, "fallback_outputs": outputs}

    def _fit(self, X: np.ndarray, y: np.ndarray | None):
        from nnrules.surrogates.boxes import BoxRuleSet

        self._setup(X)
        task = self.oracle_.task
        if task == "regression":
            return self._fit_regression(X)
        y_idx = self.oracle_.predict_index(X)
        classes = [c.item() if hasattr(c, "item") else c for c in self.oracle_.classes]
        n_outputs = self.verifier_.n_outputs
        if n_outputs not in (1, len(classes)) or (n_outputs == 1 and len(classes) != 2):
            raise UnsupportedModelError(
                f"The network has {n_outputs} logits for {len(classes)} classes; "
                "validity interval analysis needs one logit per class (or one sigmoid logit "
                "for two classes). Use a pedagogical method (tree, trepan, additive)."
            )
        tree = self._tree(X, y_idx)
        chosen = None
        if self.candidates in ("certified", "best"):
            chosen = self._certified(tree, X, classes)
        if self.candidates == "tree":
            proven = self._split_search(self._tree_candidates(tree), X, y_idx)
            lo, hi, cls = self._select(proven, X)
        elif self.candidates in ("rows", "best"):
            proven, pool, labels = grow_boxes(self.verifier_, self.domain_, self.rng_,
                                              self.budget_, self.oracle_, X, y_idx,
                                              max_boxes=self.max_boxes)
            self.pool_ = (pool, labels)
            lo, hi, cls = self._select(proven, pool)
        if chosen is not None:  # "certified", or "best" when the certified tree covers more
            from nnrules.extract.engines.via_certified import rows_covered

            if self.candidates == "certified" or (
                    rows_covered(self.domain_, chosen[0], chosen[1], X)
                    >= rows_covered(self.domain_, lo, hi, X)):
                lo, hi, cls = chosen
                self.seeded_by_ = "certified tree"
            else:
                self.seeded_by_ = "rows"
        if self.reserve_ and len(lo):
            self.budget_.total += self.reserve_
            lo, hi = reach_margin(self.verifier_, self.domain_, self.rng_, self.budget_,
                                  lo, hi, np.asarray(cls), self.domain_margin)
        verification = dict(self.counts_, bound=self.bound, candidates=self.candidates,
                            max_verifications=self.max_verifications, complete=self.complete)
        return BoxRuleSet(lo, hi, [classes[c] for c in cls], schema=self.schema_,
                          task="classification", classes=classes, fallback=self.fallback,
                          verification=verification, **self._fallback_parts(tree, classes))

    def _fit_regression(self, X: np.ndarray):
        from nnrules.surrogates.boxes import BoxRuleSet

        if self.verifier_.n_outputs != 1:
            raise UnsupportedModelError(
                f"Regression boxes need a network with one output; this one has "
                f"{self.verifier_.n_outputs}. Use a pedagogical method (tree, additive)."
            )
        self.budget_.total += self.reserve_  # domain_margin's reserve: classification only
        self.reserve_ = 0
        values = self.oracle_.predict_index(X).reshape(len(X), -1)[:, 0]
        tol = self.output_tolerance * max(float(np.ptp(values)), 1e-12)
        tree = self._tree(X, values)
        self.output_tol_ = tol
        lo, hi = grow_output_boxes(self.verifier_, self.domain_, self.rng_, self.budget_, X,
                                   width=tol, max_boxes=self.max_boxes)
        rows = np.array([self.domain_.contains(X, a, b).sum() for a, b in zip(lo, hi)])
        keep = np.argsort(-rows, kind="stable")[: self.max_boxes]
        lo, hi = lo[keep], hi[keep]
        # The proven ranges themselves (the deterministic engine that proved each box, or
        # with ``complete`` the exact one, which is never wider).
        out_lo, out_hi = self.verifier_.output_range(lo, hi)
        ranges = [(float(a), float(b)) for a, b in zip(out_lo[:, 0], out_hi[:, 0])]
        verification = dict(self.counts_, bound=self.bound, candidates="rows",
                            max_verifications=self.max_verifications, output_tolerance=tol,
                            complete=self.complete)
        return BoxRuleSet(lo, hi, ranges, schema=self.schema_, task="regression",
                          fallback=self.fallback, verification=verification,
                          **self._fallback_parts(tree, None))

    # -- checking a user's rule ----------------------------------------------------------
    def verify(self, bounds: Mapping[str, Any], label: Any, *, bound: str | None = None
               ) -> Verdict:
        """Verify a rule given in the data's own terms, after ``fit``.

        Parameters
        ----------
        bounds : mapping feature name -> (lo, hi)
            Closed bounds; features left out take the schema's bounds.
        label : class label as the network names it
        bound : {"interval", "linear", "alpha"} or None
            Defaults to the extractor's ``bound``. A rule the bound leaves unknown is
            settled by mixed-integer programming (ReLU / LeakyReLU networks), whatever
            ``complete`` says.

        Raises
        ------
        DataError
            Unknown feature, empty (inverted) interval, or an interval outside the schema's
            bounds (the network was never shown such inputs; widen the schema to ask).
        """
        self._check_fitted()
        schema = self.schema_
        lo = np.array([f.lower for f in schema.features])
        hi = np.array([f.upper for f in schema.features])
        for name, pair in bounds.items():
            j = schema.index(name)
            a, b = (float(v) for v in pair)
            if not a <= b:
                raise DataError(
                    f"The interval for {name!r} is empty: [{a!r}, {b!r}]. Give lower <= upper.")
            f = schema.features[j]
            if a < f.lower or b > f.upper:
                raise DataError(
                    f"The interval for {name!r} is [{a!r}, {b!r}], outside the schema's bounds "
                    f"[{f.lower!r}, {f.upper!r}]. Clip it, or pass a schema with wider bounds.")
            lo[j], hi[j] = a, b
        classes = list(self.oracle_.classes.tolist())
        if label not in classes:
            raise ParameterError(f"Unknown class {label!r}; the network's classes are {classes}.")
        # One rule is cheap to settle: more search points, and mixed-integer programming.
        verifier = Verifier(self.network, bound=bound or self.bound, n_samples=256,
                            relu_split=self.relu_split, complete=True)
        return verifier.prove_box(lo, hi, classes.index(label), random_state=self.random_state)

