"""What the decompositional strategies share: reading the network, budgets, partial results.

:class:`DecompositionalExtractor` is the base of ``cred``, ``deepred`` and ``eclaire`` (and of
``setiono`` later). In ``_fit`` a strategy calls :meth:`_prepare` to get a :class:`Workspace` —
the levels of the training rows, the network's labels, the budget and the trace — learns its
clauses, and returns :meth:`_finish` of them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from nnrules._validation import RANDOM_STATE, Interval, check_random_state
from nnrules.exceptions import DataError, UnsupportedModelError
from nnrules.extract.base import Extractor
from nnrules.extract.decompose.budget import Budget, OutOfBudget
from nnrules.extract.decompose.layers import LayerStack, read_layers
from nnrules.extract.decompose.trace import Trace

__all__ = ["DecompositionalExtractor", "Workspace"]

_FILL_ROWS = 2000  # n_queries=None: generated rows bring smaller data sets up to this many
_REFINE_MAX_ROWS = 200_000  # most generated rows for ``refine``
# Most cells (rows x features) of ``refine``'s pool, training rows included: 2**23 cells are
# 64 MiB of float64, and refine holds about 3.4 times the pool again at its peak (column copies,
# bin codes), so about 0.3 GB in all. Generated rows are what gives way (784 features: about
# 10,700 rows; 20 features: the row cap above binds first); training rows are always used.
_REFINE_MAX_CELLS = 2**23

COMMON_CONSTRAINTS: dict = {
    "max_seconds": Interval(float, 0, None, closed="neither", allow_none=True),
    "max_rules": Interval(int, 1, None, allow_none=True),
    "max_terms": Interval(int, 1, None, allow_none=True),
    "min_samples_leaf": Interval(float, 0, None, closed="neither"),
    "max_depth": Interval(int, 1, None, allow_none=True),
    "random_state": RANDOM_STATE,
}


@dataclass
class Workspace:
    """Everything a strategy reads while it learns.

    Attributes
    ----------
    stack : LayerStack
    levels : list of ndarray
        ``[X, H_1, ..., H_K]`` on the training rows (X in the schema's space).
    labels : ndarray of int
        The network's class index per training row.
    classes : tuple
        The network's class labels.
    budget : Budget
    trace : Trace
    seed : int
        Tie-breaking seed for every tree.
    """

    stack: LayerStack
    levels: list[np.ndarray]
    labels: np.ndarray
    classes: tuple
    budget: Budget
    trace: Trace
    seed: int

    @property
    def n_rows(self) -> int:
        return int(self.levels[0].shape[0])


class DecompositionalExtractor(Extractor):
    """Base of the strategies that read hidden layers (see module docstring)."""

    family: ClassVar[str] = "decompositional"
    _parameter_constraints: ClassVar[dict] = dict(COMMON_CONSTRAINTS)

    def _min_leaf(self, n_rows: int, value: float | None = None) -> int:
        """``min_samples_leaf`` as a row count: a fraction of the rows below 1, else a count."""
        v = self.min_samples_leaf if value is None else value
        return max(1, int(round(v * n_rows))) if v < 1 else int(v)

    def _with_queries(self, X: np.ndarray) -> np.ndarray:
        """The training rows and ``n_queries`` generated rows after them (schema-valid, seeded;
        the network labels them like the real rows). ``n_queries=None`` tops the rows up to
        ``_FILL_ROWS``."""
        n = max(0, _FILL_ROWS - len(X)) if self.n_queries is None else self.n_queries
        if not n:
            return X
        from nnrules.extract.engines.sampling import QuerySampler

        seed = int(check_random_state(self.random_state).integers(0, 2**31 - 1))
        sampler = QuerySampler(self.schema_, X, random_state=seed + 1, validate=False)
        return np.vstack([X, sampler.sample(n)])

    def _prepare(self, X: np.ndarray) -> Workspace:
        self.partial_reason_ = None
        stack = read_layers(self.network)
        if self.oracle_.task != "classification":
            raise UnsupportedModelError(
                f"{type(self).__name__} explains classifiers; this network's task is "
                f"{self.oracle_.task!r}. Use --method tree or --method additive for regression."
            )
        model_input = self.schema_.to_model_input(X)
        if not isinstance(model_input, np.ndarray):
            raise UnsupportedModelError(
                "The network takes several inputs or string categories; decompositional methods "
                "read one numeric input tensor. Use --method tree or --method trepan."
            )
        levels = stack.levels(model_input)
        levels[0] = np.asarray(X, dtype=np.float64)
        # Kept for the annotation after the fit when X is the fit's rows (one network pass).
        labels = self.oracle_.as_index(self._network_labels(X))
        classes = tuple(self.oracle_.classes.tolist())
        seen = np.unique(labels)
        if len(seen) < 2:
            raise DataError(
                f"The network gives all {len(labels)} extraction rows the class "
                f"{classes[int(seen[0])]!r}: there is nothing to tell apart. Pass rows on which "
                "the network predicts at least two classes."
            )
        budget = Budget(self.max_seconds, self.max_rules, self.max_terms)
        seed = int(check_random_state(self.random_state).integers(0, 2**31 - 1))
        trace = Trace(classes, stack.n_hidden, self.schema_)
        return Workspace(stack, levels, labels, classes, budget, trace, seed)

    def _refined(self, ws: Workspace, ruleset, queries: bool = True,
                 max_cells: int | None = None, refiner=None):
        """The decision list tuned on the training rows and ``refine_queries`` generated rows
        per training row (:func:`~nnrules.extract.decompose.refine.refine`, added conditions
        only on ``self._columns`` when set), support and confidence re-counted on the training
        rows; ``refinement_`` and ``notes["refined"]`` say what it did. It runs in what is left
        of ``max_seconds``; when that runs out mid-pass the changes so far are kept and the
        result marked partial. ``queries=False`` refines on the training rows only (an
        enumerated input domain has no other rows); ``max_cells`` (optional) caps the pool's rows
        times the list's rules, so a long list gets fewer generated rows (refine keeps one bit
        per row and rule, so no extractor needs it now). Generated rows stop where the pool
        would pass ``_REFINE_MAX_CELLS`` rows x features (wide inputs: fewer rows). ``refiner``
        (optional) replaces ``refine``: a function of (ruleset, rows, labels, max_seconds=...)
        returning (ruleset, RefineInfo), e.g.
        :func:`~nnrules.extract.decompose.refine_mofn.refine_mofn`."""
        from nnrules.extract.decompose.refine import recount, refine

        X = ws.levels[0]
        pool, labels = X, ws.labels
        n = min(_REFINE_MAX_ROWS, int(round(self.refine_queries * len(X)))) if queries else 0
        if max_cells is not None:
            n = max(0, min(n, max_cells // max(1, len(ruleset.rules)) - len(X)))
        n = max(0, min(n, _REFINE_MAX_CELLS // max(1, X.shape[1]) - len(X)))
        if n:
            from nnrules.extract.engines.sampling import QuerySampler

            seed = int(check_random_state(self.random_state).integers(0, 2**31 - 1))
            sampler = QuerySampler(self.schema_, X, method="kde", p_change=0.05,
                                   bandwidth=1.0, random_state=seed + 2, validate=False)
            Q = sampler.sample(n)
            pool = np.vstack([X, Q])
            labels = np.concatenate([ws.labels, self.oracle_.as_index(self._network_labels(Q))])
        left = None
        if self.max_seconds is not None:
            left = self.max_seconds - ws.budget.elapsed()
            if left <= 0:
                if self.partial_reason_ is None:
                    self._stopped(f"max_seconds={self.max_seconds:g} reached before refining")
                return ruleset
        if refiner is None:
            out, info = refine(ruleset, pool, labels, columns=getattr(self, "_columns", None),
                               max_seconds=left)
        else:
            out, info = refiner(ruleset, pool, labels, max_seconds=left)
        self.refinement_ = info
        if info.stopped and self.partial_reason_ is None:
            self._stopped(f"max_seconds={self.max_seconds:g} reached while refining")
        out = recount(out, X, ws.labels)
        out.notes["refined"] = info.to_dict()
        return out

    def _timed(self, ws: Workspace, items: list, step) -> list:
        """``step(clause, k)`` on each item, ticking the budget every 32; once the time is up
        the remaining items are kept as they are (and the result marked partial)."""
        out: list = []
        try:
            for i, (c, k) in enumerate(items):
                if i % 32 == 0:
                    ws.budget.tick()
                out.append(step(c, k))
        except OutOfBudget as stop:
            out += items[len(out):]
            if self.partial_reason_ is None:
                self._stopped(stop.reason)
        return out

    def _stopped(self, reason: str) -> None:
        """Mark the result partial and say so in one line."""
        self.partial_reason_ = reason
        warnings.warn(
            f"{self.method}: stopped early ({reason}); the rule set holds the rules finished "
            "so far. Raise the budget for a complete result.",
            UserWarning, stacklevel=4,
        )

    def _finish(self, ws: Workspace, ruleset, truncated: bool):
        if truncated and self.partial_reason_ is None:
            self._stopped(f"max_rules={self.max_rules} reached")
        self.trace_ = ws.trace
        self.budget_ = ws.budget
        self.n_terms_ = ws.budget.n_terms
        return self._simplified(ruleset, ws.levels[0])

    def _simplified(self, ruleset, X: np.ndarray):
        """The rule set after the exact rule-set simplification (on unless ``simplify=False``).

        :func:`nnrules.extract.engines.simplify.simplify_rules` with ``prune_unreached=False``:
        conditions a rule's own body decides go, contradictory rules go, and the last rules that
        only repeat the default's class go. Each step leaves every prediction on every row
        unchanged (no rule is dropped for merely deciding no training row). What it did, with
        the sizes before and after, is in ``simplification_`` and the surrogate's
        ``notes["simplified"]``, as for ``tree`` and ``trepan``.
        """
        self.simplification_ = None
        if not getattr(self, "simplify", True) or not getattr(ruleset, "ordered", False):
            return ruleset
        from nnrules.extract.engines.simplify import simplify_rules

        out, info = simplify_rules(ruleset, X, prune_unreached=False)
        out.notes.update(ruleset.notes)
        out.notes["simplified"] = info
        self.simplification_ = info
        return out

    def to_networkx(self):
        """The extraction trace as a ``networkx.DiGraph`` (see ``docs/formats.md``)."""
        self._check_fitted()
        return self.trace_.to_networkx()
