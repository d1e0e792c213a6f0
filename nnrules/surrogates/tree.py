"""A decision tree surrogate held in plain node arrays (no sklearn object is stored).

Node ``i`` is internal when ``left[i] >= 0``; then ``tests[i]`` is a :class:`Condition` or an
:class:`MofN` and rows where it holds go to ``left[i]``, the others to ``right[i]``. Leaves have
``tests[i] is None`` and ``left[i] == right[i] == -1``. ``value[i]`` is the class distribution
(probabilities or counts; :meth:`TreeSurrogate.predict_proba` normalises) or the regression mean.
Node 0 is the root. TREPAN builds trees directly through the constructor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from nnrules.exceptions import FormatError, ParameterError
from nnrules.surrogates.base import (
    TableSurrogate,
    annotations_from_dict,
    annotations_to_dict,
    check_header,
    plain,
    schema_from_dict,
    schema_to_dict,
)
from nnrules.surrogates.rules import (
    Condition,
    MofN,
    RuleSet,
    conjunction_sympy,
    output_text,
    simplify_conditions,
    symbol_names,
    test_from_dict,
)
from nnrules.surrogates.structure import check_tree

if TYPE_CHECKING:
    from nnrules.schema import FeatureSchema

__all__ = ["TreeSurrogate", "negate_test"]


# apply() computes every test on every row when the tree has at most this many internal nodes
# (cheaper than grouping rows by node); bigger trees group rows by node, level by level.
_ALL_TESTS_UP_TO = 64
# ... and with at most this many, looks the leaf up from the tests' outcomes (a 2**k table).
_LEAF_TABLE_UP_TO = 16


def negate_test(test: Condition | MofN) -> Condition | MofN:
    """The complement: ``not (at least m of n)`` is ``at least n-m+1 of the negations``."""
    if isinstance(test, Condition):
        return test.negate()
    n = len(test.conditions)
    return MofN(n - test.m + 1, tuple(c.negate() for c in test.conditions))


def _node_test(d: Mapping[str, Any]) -> Any:
    """A node's test from its JSON; linear (oblique) tests belong in rule sets only."""
    if "weights" in d:
        raise ValueError("a node has a linear (oblique) test; tree nodes test one feature or m "
                         "of n conditions (linear conditions belong in rule sets)")
    return test_from_dict(d)


class TreeSurrogate(TableSurrogate):
    """Binary decision tree over node arrays.

    Parameters
    ----------
    tests : sequence of Condition, MofN or None, length n_nodes
        The split of each internal node; None at leaves.
    left, right : int array-like of shape (n_nodes,)
        Children (-1 at leaves); rows where the test holds go left.
    value : array-like of shape (n_nodes, n_outputs)
        Class distribution per node (n_outputs = n_classes) or regression mean (n_outputs = 1).
    classes : tuple or None
        Class labels (classification); default ``0..n_classes-1``.
    schema : FeatureSchema or None
    task : {"classification", "regression"}
    n_node_samples : int array-like of shape (n_nodes,) or None
        Rows that reached each node when the tree was built (zeros if unknown).
    notes : dict or None
        Provenance kept in the JSON (for example what ``simplify`` did).
    """

    FORMAT = "nnrules/tree"
    VERSION = 2  # 2: version 1 plus the optional local_fidelity and reason_stats

    def __init__(self, tests: Sequence[Condition | MofN | None], left, right, value, *,
                 classes: tuple | None = None, schema: FeatureSchema | None = None,
                 task: Literal["classification", "regression"] = "classification",
                 n_node_samples=None, notes: dict | None = None) -> None:
        self.tests = tuple(tests)
        self.notes = dict(notes or {})
        self.left = np.asarray(left, dtype=np.int64).reshape(-1)
        self.right = np.asarray(right, dtype=np.int64).reshape(-1)
        value = np.asarray(value, dtype=float)
        self.value = value.reshape(value.shape[0], -1)
        n = len(self.tests)
        if task not in ("classification", "regression"):
            raise ParameterError(f"task must be 'classification' or 'regression'; got {task!r}.")
        if not (self.left.size == self.right.size == self.value.shape[0] == n) or n == 0:
            raise ParameterError(
                f"tests, left, right and value must have one entry per node; got lengths "
                f"{n}, {self.left.size}, {self.right.size}, {self.value.shape[0]}.")
        for i, t in enumerate(self.tests):
            internal = self.left[i] >= 0
            if internal != (t is not None) or internal != (self.right[i] >= 0):
                raise ParameterError(
                    f"Node {i} is inconsistent: test {t!r}, left {self.left[i]}, right "
                    f"{self.right[i]}; internal nodes need a test and two children, leaves none.")
        self.task = task
        self.schema = schema
        if task == "classification" and classes is None:
            classes = tuple(range(self.value.shape[1]))
        self.classes = None if classes is None else tuple(plain(c) for c in classes)
        self.n_node_samples = (np.zeros(n, dtype=np.int64) if n_node_samples is None
                               else np.asarray(n_node_samples, dtype=np.int64).reshape(-1))
        used = [c.feature for t in self.tests if t is not None
                for c in (t.conditions if isinstance(t, MofN) else (t,))]
        self.n_features = schema.n_features if schema is not None else max(used, default=-1) + 1

    @classmethod
    def from_sklearn(cls, estimator, *, schema: FeatureSchema | None = None,
                     classes: tuple | None = None,
                     task: Literal["classification", "regression"] | None = None) -> TreeSurrogate:
        """Convert a fitted ``DecisionTreeClassifier`` / ``DecisionTreeRegressor``.

        sklearn sends ``x <= t`` left, which becomes ``Condition(f, "<=", t)``. When ``classes``
        is given and the estimator saw fewer classes, its ``classes_`` are read as indices into
        ``classes`` and the distributions are widened with zeros.
        """
        t = getattr(estimator, "tree_", None)
        if t is None:
            raise ParameterError(f"Expected a fitted sklearn decision tree; got {estimator!r}.")
        if task is None:
            task = "classification" if hasattr(estimator, "classes_") else "regression"
        left, right = t.children_left.astype(np.int64), t.children_right.astype(np.int64)
        tests = [None if left[i] < 0 else Condition(int(t.feature[i]), "<=", float(t.threshold[i]))
                 for i in range(t.node_count)]
        value = np.asarray(t.value[:, 0, :], dtype=float)
        if task == "classification":
            seen = list(np.asarray(estimator.classes_).tolist())
            if classes is None:
                classes = tuple(seen)
            elif len(classes) != len(seen):
                wide = np.zeros((value.shape[0], len(classes)))
                wide[:, [int(c) for c in seen]] = value
                value = wide
        return cls(tests, left, right, value, classes=classes, schema=schema, task=task,
                   n_node_samples=t.n_node_samples)

    # -- prediction ----------------------------------------------------------------------
    def apply(self, X: np.ndarray) -> np.ndarray:
        """Leaf id per row, shape (n_samples,); one vectorised test per node visited.
        ``DataError`` when ``X`` holds NaN or inf (see ``TableSurrogate._rows``)."""
        X = self._rows(X)
        if X.ndim == 2 and X.shape[0] == 1:  # one row: walk the nodes with Python numbers
            return np.array([self._walk(X[0].tolist())], dtype=np.int64)
        inner_nodes = np.flatnonzero(self.left >= 0)
        if 0 < inner_nodes.size <= _ALL_TESTS_UP_TO and X.shape[0] > 1:
            return self._apply_all_tests(X, inner_nodes)
        node = np.zeros(X.shape[0], dtype=np.int64)
        while True:
            inner = self.left[node] >= 0
            if not inner.any():
                return node
            for u in np.unique(node[inner]):
                rows = np.flatnonzero(node == u)
                h = self.tests[u].holds(X[rows])
                node[rows] = np.where(h, self.left[u], self.right[u])

    explain = apply

    def _apply_all_tests(self, X: np.ndarray, inner_nodes: np.ndarray) -> np.ndarray:
        """``apply`` for small trees: every internal node's test on every row once (a few
        vectorised comparisons), then one step down per level for all rows at a time."""
        n = X.shape[0]
        if inner_nodes.size <= _LEAF_TABLE_UP_TO:
            # Every row's test outcomes as one small integer (bit k: test of inner node k),
            # then a table from outcomes to leaf, built once per tree: no per-level gathers.
            code = np.zeros(n, dtype=np.uint16)
            for k, u in enumerate(inner_nodes.tolist()):
                held = np.asarray(self.tests[u].holds(X), dtype=bool)
                code |= held.view(np.uint8).astype(np.uint16) << k
            return self._leaf_table(inner_nodes)[code]
        slot = np.full(self.left.shape[0], -1, dtype=np.int64)
        slot[inner_nodes] = np.arange(inner_nodes.size)
        holds = np.empty((inner_nodes.size, n), dtype=bool)
        for k, u in enumerate(inner_nodes.tolist()):
            holds[k] = self.tests[u].holds(X)
        rows = np.arange(n)
        node = np.zeros(n, dtype=np.int64)
        while True:
            at = slot[node]
            inner = at >= 0
            if not inner.any():
                return node
            step = np.where(holds[np.maximum(at, 0), rows], self.left[node], self.right[node])
            node = np.where(inner, step, node)

    def _leaf_table(self, inner_nodes: np.ndarray) -> np.ndarray:
        """Leaf reached for every combination of test outcomes (bit k of the index: the test of
        ``inner_nodes[k]`` holds), shape (2 ** n_inner,); cached like ``_children``."""
        table = self.__dict__.get("_leaf_table_cache")
        if table is None:
            slot = np.full(self.left.shape[0], -1, dtype=np.int64)
            slot[inner_nodes] = np.arange(inner_nodes.size)
            codes = np.arange(1 << inner_nodes.size, dtype=np.int64)
            node = np.zeros(codes.size, dtype=np.int64)
            while True:
                at = slot[node]
                inner = at >= 0
                if not inner.any():
                    break
                holds = (codes >> np.maximum(at, 0)) & 1 == 1
                node = np.where(inner, np.where(holds, self.left[node], self.right[node]), node)
            table = self.__dict__["_leaf_table_cache"] = node
        return table

    def _walk(self, x: list) -> int:
        """The leaf one row (a list of floats) reaches; the same tests as ``apply``."""
        left, right = self._children()
        tests = self.tests
        u = 0
        while left[u] >= 0:
            t = tests[u]
            if type(t) is Condition:
                v, op = x[t.feature], t.op
                if op == "<=":
                    h = v <= t.value
                elif op == ">":
                    h = v > t.value
                elif op == "==":
                    h = v == t.value
                else:
                    h = v != t.value
            else:
                h = bool(t.holds(np.asarray([x], dtype=float))[0])
            u = left[u] if h else right[u]
        return u

    def _children(self) -> tuple[list[int], list[int]]:
        cached = self.__dict__.get("_children_lists")
        if cached is None:
            cached = self.__dict__["_children_lists"] = (self.left.tolist(), self.right.tolist())
        return cached

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes)."""
        if self.task != "classification":
            raise ParameterError("predict_proba needs a classification tree; this is regression.")
        v = self.value[self.apply(X)]
        s = v.sum(axis=1, keepdims=True)
        return np.divide(v, s, out=np.full_like(v, 1.0 / v.shape[1]), where=s > 0)

    def _leaf_outputs(self) -> np.ndarray:
        if self.task == "regression":
            return self.value[:, 0]
        return np.argmax(self.value, axis=1)

    def predict_index(self, X: np.ndarray) -> np.ndarray:
        """Class index or regression value per row."""
        return self._leaf_outputs()[self.apply(X)]

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Labels (``classes`` values) or values, shape (n_samples,)."""
        return self.predict_leaves(self.apply(X))

    def predict_leaves(self, leaves: np.ndarray) -> np.ndarray:
        """``predict`` of rows whose leaves (``apply``) are known: ``predict(X)`` is
        ``predict_leaves(apply(X))``."""
        out = self._leaf_outputs()[leaves]
        if self.task == "regression":
            return out
        labels = self.__dict__.get("_labels")
        if labels is None:
            labels = self.__dict__["_labels"] = np.asarray(self.classes, dtype=object if any(
                isinstance(c, str) for c in self.classes) else None)
        return labels[out]

    # -- paths ---------------------------------------------------------------------------
    def leaves(self) -> np.ndarray:
        return np.flatnonzero(self.left < 0)

    def paths(self) -> dict[int, tuple]:
        """Leaf id -> the conjunction of (possibly negated) tests from the root."""
        out: dict[int, tuple] = {}
        stack: list[tuple[int, tuple]] = [(0, ())]
        while stack:
            u, path = stack.pop()
            if self.left[u] < 0:
                out[u] = path
                continue
            t = self.tests[u]
            stack.append((int(self.right[u]), path + (negate_test(t),)))
            stack.append((int(self.left[u]), path + (t,)))
        return dict(sorted(out.items()))

    def _out_text(self, leaf: int) -> str:
        return output_text(self.task, self.classes, self._leaf_outputs()[leaf])

    def reasons(self, X: np.ndarray, *, k: int | None = None) -> list[str] | list[dict]:
        """Per row: the simplified path to its leaf and the output.

        With ``k`` (1..10): the principal reasons instead, as dicts (prediction, up to ``k``
        reasons with signed contributions, the region's local fidelity); see
        :func:`nnrules.surrogates.reasons.reasons`.
        """
        if k is not None:
            from nnrules.surrogates.reasons import reasons

            return reasons(self, X, k)
        paths = self.paths()
        text = {}
        for leaf, p in paths.items():
            s = simplify_conditions(p, schema=self.schema)
            body = " and ".join(c.to_text(self.schema) for c in (s if s is not None else p))
            text[leaf] = f"leaf {leaf}: {body or 'true'} -> {self._out_text(leaf)}"
        return [text[int(i)] for i in self.apply(X)]

    def to_rules(self) -> RuleSet:
        """The tree as a short rule set: one rule per leaf of the non-default outputs, each
        path shortened while it stays off the other outputs' leaves (exact on rows that obey
        the schema; see ``nnrules.surrogates.simplify.tree_rules``)."""
        from nnrules.surrogates.simplify import tree_rules

        return tree_rules(self)

    def symbols(self):
        import sympy

        return tuple(sympy.Symbol(n, real=True)
                     for n in symbol_names(self.schema, self.n_features))

    def to_sympy(self):
        """Classification: ``dict[label, sympy.Boolean]`` (a disjunction over that label's
        leaves of their path conjunctions); regression: a ``Piecewise`` over leaves."""
        import sympy

        syms = self.symbols()
        outs = self._leaf_outputs()
        paths = self.paths()
        if self.task == "regression":
            return sympy.Piecewise(
                *[(sympy.Float(float(outs[leaf]), 17), conjunction_sympy(p, syms))
                  for leaf, p in paths.items()], (sympy.Float(float(outs[0]), 17), True))
        terms: dict[int, list] = {k: [] for k in range(len(self.classes))}
        for leaf, p in paths.items():
            terms[int(outs[leaf])].append(conjunction_sympy(p, syms))
        return {self.classes[k]: sympy.Or(*t) for k, t in terms.items()}

    def to_networkx(self):
        """``networkx.DiGraph``: node attrs ``label`` (test text or leaf output), ``leaf``,
        ``samples``; edge attr ``holds`` (True to the left child)."""
        import networkx as nx

        g = nx.DiGraph()
        for i, t in enumerate(self.tests):
            label = self._out_text(i) if t is None else t.to_text(self.schema)
            g.add_node(i, label=label, leaf=t is None, samples=int(self.n_node_samples[i]))
        for i in np.flatnonzero(self.left >= 0):
            g.add_edge(int(i), int(self.left[i]), holds=True)
            g.add_edge(int(i), int(self.right[i]), holds=False)
        return g

    def to_text(self) -> str:
        """Indented tree: ``if <test>:`` / ``else:`` blocks and ``-> output`` leaves."""
        lines: list[str] = []

        def walk(u: int, depth: int) -> None:
            pad = "  " * depth
            if self.left[u] < 0:
                lines.append(f"{pad}-> {self._out_text(u)}  (leaf {u}, n={self.n_node_samples[u]})")
                return
            lines.append(f"{pad}if {self.tests[u].to_text(self.schema)}:")
            walk(int(self.left[u]), depth + 1)
            lines.append(f"{pad}else:")
            walk(int(self.right[u]), depth + 1)

        walk(0, 0)
        return "\n".join(lines)

    def depth(self) -> int:
        """Longest root-to-leaf path (edges)."""
        stack = [(0, 0)]
        best = 0
        while stack:
            u, k = stack.pop()
            best = max(best, k)
            if self.left[u] >= 0:
                stack += [(int(self.left[u]), k + 1), (int(self.right[u]), k + 1)]
        return best

    def complexity(self) -> dict[str, int | float]:
        """leaves, depth, nodes, and the rule view's rules, conditions, mean_rule_length."""
        out: dict[str, int | float] = {"leaves": int(self.leaves().size), "depth": self.depth(),
                                       "nodes": len(self.tests)}
        out.update(self.to_rules().complexity())
        return out

    # -- files ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.FORMAT,
            "version": self.VERSION,
            "task": self.task,
            "classes": None if self.classes is None else list(self.classes),
            "n_features": self.n_features,
            "nodes": [
                {"test": None if t is None else t.to_dict(), "left": int(self.left[i]),
                 "right": int(self.right[i]), "value": [float(v) for v in self.value[i]],
                 "samples": int(self.n_node_samples[i])}
                for i, t in enumerate(self.tests)],
            "schema": schema_to_dict(self.schema),
            **annotations_to_dict(self),
            **({"notes": self.notes} if self.notes else {}),
        }

    def report_details(self, X: Any, reference: Any) -> dict[str, Any]:
        """What simplification and pruning did (sizes before and after, branches no row
        reached, fidelity given up on the pruning rows)."""
        out: dict[str, Any] = {}
        pruned = self.notes.get("pruned")
        if pruned:
            lb, la = pruned["literals"]
            fb, fa = pruned["path_fidelity"]
            out["pruned"] = (f"literals {lb} -> {la}, fidelity on the extraction rows and queries "
                             f"{fb:.4f} -> {fa:.4f}")
        chose = self.notes.get("queries")  # TREPAN's n_queries="auto"
        if chose and chose.get("validation_fidelity"):
            f = chose["validation_fidelity"]
            out["queries"] = (f"chose {chose['chosen']} (fidelity on {chose['validation_rows']} "
                              f"rows held apart: queries {f['queries']:.4f}, none "
                              f"{f['none']:.4f})")
        elif chose:
            out["queries"] = f"chose {chose['chosen']} ({chose.get('reason', '')})"
        done = self.notes.get("simplified")
        if not done:
            return out
        b, a = done["before"], done["after"]
        out["simplified"] = (f"leaves {b.get('leaves')} -> {a.get('leaves')}, conditions "
                             f"{b.get('conditions')} -> {a.get('conditions')}")
        if done.get("unreached"):
            out["simplified_unreached_branches"] = "; ".join(
                f"{u['test']} {u['branch']}: {'/'.join(u['predicted'])} -> {u['now']}"
                for u in done["unreached"])
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TreeSurrogate:
        check_header(d, cls)
        try:
            schema = schema_from_dict(d)
            nodes = d["nodes"]
            tree = cls([None if n["test"] is None else _node_test(n["test"]) for n in nodes],
                       [n["left"] for n in nodes], [n["right"] for n in nodes],
                       [n["value"] for n in nodes],
                       classes=None if d.get("classes") is None else tuple(d["classes"]),
                       schema=schema, task=d["task"],
                       n_node_samples=[n.get("samples", 0) for n in nodes],
                       notes=d.get("notes"))
        except (KeyError, TypeError, ValueError) as e:
            raise FormatError(f"Malformed {cls.FORMAT} file: {e!r}. Re-create it with "
                              "nnrules extract.") from e
        if d.get("n_features") is not None:
            tree.n_features = d["n_features"]
        return check_tree(annotations_from_dict(tree, d))

    def __repr__(self) -> str:
        return f"TreeSurrogate(n_nodes={len(self.tests)}, task={self.task!r})"
