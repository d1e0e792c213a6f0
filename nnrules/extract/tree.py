"""Distilled decision tree (``tree``): CART fitted to the network's answers.

The plain baseline every other method is compared with. The tree learns the network's labels
(classification) or outputs (regression) on the extraction rows, plus ``n_queries`` generated
rows labelled by the network when asked. ``max_leaves`` and ``max_depth`` set its size.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from nnrules._validation import RANDOM_STATE, Interval, Options, check_random_state
from nnrules.extract.base import Extractor

__all__ = ["TreeExtractor"]


class TreeExtractor(Extractor):
    """CART distilled from the network.

    Parameters
    ----------
    network : Network, callable, or object with ``predict``
        The model to explain (any black box works: this method never opens it).
    max_leaves : int, default=16
        Largest number of leaves (the size control shared by tree-shaped methods).
    max_depth : int or None, default=None
        Largest depth; None leaves only ``max_leaves`` in charge.
    min_samples_leaf : int, default=1
        Fewest rows in a leaf.
    n_queries : int, default=0
        Generated rows (schema-respecting, drawn by ``nnrules.extract.engines.sampling``)
        labelled by the network and added to the extraction rows.
    task : {"classification", "regression"} or None, default=None
        Overrides the task the network declares.
    simplify : bool, default=True
        Simplify the fitted tree without changing its answer on the extraction rows and 20,000
        generated rows (``nnrules.extract.engines.simplify``): sibling leaves with one output merge,
        tests the path decides go. What it did is in ``simplification_`` and the surrogate's
        ``notes["simplified"]``.
    random_state : int, numpy.random.Generator or None, default=None
        Seeds the queries and the tree's tie-breaking; the same seed gives the same file.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(200, 2))
    >>> black_box = lambda X: (X[:, 0] > 0.5).astype(int)
    >>> extractor = TreeExtractor(black_box, max_leaves=2, random_state=0).fit(X)
    >>> print(extractor.surrogate_.to_rules().to_text().splitlines()[0])  # doctest: +SKIP
    """

    method = "tree"
    family = "pedagogical"
    _parameter_constraints: ClassVar[dict] = {
        "max_leaves": Interval(int, 2, None),
        "max_depth": Interval(int, 1, None, allow_none=True),
        "min_samples_leaf": Interval(int, 1, None),
        "n_queries": Interval(int, 0, None),
        "task": Options(("classification", "regression"), allow_none=True),
        "simplify": Options((True, False)),
        "random_state": RANDOM_STATE,
    }

    def __init__(
        self,
        network,
        *,
        max_leaves: int = 16,
        max_depth: int | None = None,
        min_samples_leaf: int = 1,
        n_queries: int = 0,
        task: str | None = None,
        simplify: bool = True,
        random_state: int | None = None,
    ):
        self.network = network
        self.max_leaves = max_leaves
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.n_queries = n_queries
        self.task = task
        self.simplify = simplify
        self.random_state = random_state

    def _fit(self, X: np.ndarray, y: np.ndarray | None):
        from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor  # 1-3 s: here

        from nnrules.surrogates.tree import TreeSurrogate

        rng = check_random_state(self.random_state)
        rows = X
        if self.n_queries > 0:
            from nnrules.extract.engines.sampling import sample_queries

            queries = sample_queries(self.schema_, X, self.n_queries, random_state=rng)
            rows = np.vstack([X, queries])
        # Asked once: with no queries, rows is X and the annotation reuses these labels.
        answers = self.oracle_.as_index(self._network_labels(rows))
        seed = int(rng.integers(0, 2**31 - 1))
        if self.oracle_.task == "classification":
            cart = DecisionTreeClassifier(
                max_leaf_nodes=self.max_leaves, max_depth=self.max_depth,
                min_samples_leaf=self.min_samples_leaf, random_state=seed,
            )
        else:
            cart = DecisionTreeRegressor(
                max_leaf_nodes=self.max_leaves, max_depth=self.max_depth,
                min_samples_leaf=self.min_samples_leaf, random_state=seed,
            )
        cart.fit(rows, answers)
        classes = None if self.oracle_.classes is None else tuple(self.oracle_.classes.tolist())
        tree = TreeSurrogate.from_sklearn(
            cart, schema=self.schema_, classes=classes, task=self.oracle_.task
        )
        if not self.simplify:
            return tree
        from nnrules.extract.engines.simplify import generate_rows, simplify_tree

        generated = generate_rows(self.schema_, X, random_state=int(rng.integers(0, 2**31 - 1)))
        tree, self.simplification_ = simplify_tree(tree, rows, generated=generated)
        tree.notes["simplified"] = self.simplification_
        return tree
