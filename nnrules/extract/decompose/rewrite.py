"""DeepRED's term-wise substitution: an output clause on the last hidden layer rewritten, layer
by layer, into clauses on the inputs.

:class:`TermRewriter` is the stage of :class:`~nnrules.extract.deepred.DeepRedExtractor` (and
so of ``cred``) that does it, as a mixin: every term ``h_k[j] > t`` of a clause is replaced by
the clauses that predict it from layer ``k - 1`` -- one tree per unit answering every threshold
on it (``term_learner="unit"``, :mod:`~nnrules.extract.decompose.unit_terms`), or one tree per
term as in Zilke et al. (``"term"``) -- and the factors are multiplied out through the training
rows (:func:`~nnrules.extract.decompose.unit_terms.unit_product` /
:func:`~nnrules.extract.decompose.substitute.conjoin`), at most ``beam`` products kept per
clause and layer. Every term learned is charged to the budget and put in the trace.

It reads what the extractor's ``_fit`` set up: the parameters ``beam``, ``min_support``,
``term_learner``, ``term_leaves``, ``max_depth``; ``schema_``; ``_units`` (the unit trees),
``_book`` (the terms learned so far), ``_rows`` / ``_n_term_min`` (the rows term trees learn
from and their leaf size) and ``_columns`` (the inputs input pruning kept).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nnrules.extract.decompose.extractor import Workspace
from nnrules.extract.decompose.substitute import conjoin
from nnrules.extract.decompose.terms import Term, clause_mask, learn_clauses
from nnrules.extract.decompose.unit_terms import unit_product
from nnrules.surrogates.rules import simplify_conditions

__all__ = ["TermRewriter"]


class TermRewriter:
    """The substitution stage of DeepRED (see the module docstring); a mixin of
    :class:`~nnrules.extract.decompose.extractor.DecompositionalExtractor` subclasses."""

    def _rewrite(self, ws: Workspace, clause: tuple, level: int, node: str) -> list[tuple]:
        """Clauses on the inputs equivalent (up to pruning) to ``clause`` on ``level``."""
        current = [clause]
        for k in range(level, 0, -1):
            pooled: dict[tuple, np.ndarray] = {}
            for c in current:
                ws.budget.tick()
                for p, mask in self._product(ws, c, k):
                    pooled[p] = pooled[p] | mask if p in pooled else mask
            ranked = sorted(pooled.items(), key=lambda kv: (-int(kv[1].sum()), kv[0]))
            current = [c for c, _ in ranked[: self.beam]]
        return current

    def _product(self, ws: Workspace, clause: tuple, k: int) -> list[tuple[tuple, np.ndarray]]:
        """``clause`` on level k rewritten on level k-1: (clause, training-row mask) pairs."""
        schema = self.schema_ if k == 1 else None
        if self.term_learner == "unit":
            by_unit: dict[int, list] = {}
            for cond in clause:
                by_unit.setdefault(cond.feature, []).append(cond)
            factors = []
            for unit, conds in sorted(by_unit.items()):
                for cond in conds:
                    self._note(ws, Term(k, unit, cond.value))
                factors.append(self._units.tree(k, unit).factor(conds))
            if self.min_support > 0:
                out = unit_product(factors, ws.n_rows, min_support=self.min_support,
                                   beam=self.beam, schema=schema)
            else:  # the exact composition: every satisfiable product, supported or not
                dnfs = [[(c, ids == i) for i, c in enumerate(cl)] for cl, ids in factors]
                product = conjoin(dnfs, ws.n_rows, min_support=0, beam=self.beam,
                                  schema=schema, tick=ws.budget.tick)
                out = list(zip(product.clauses, product.masks))
        else:
            factors = [self._dnf(ws, Term(k, cond.feature, cond.value), cond.op == ">")
                       for cond in clause]
            product = conjoin(factors, ws.n_rows, min_support=self.min_support,
                              beam=self.beam, schema=schema, tick=ws.budget.tick)
            out = list(zip(product.clauses, product.masks))
        return out

    def _close_trace(self, ws: Workspace) -> None:
        """Note every hidden term named by a recorded leaf whose unit has a tree (uncharged),
        so the trace's intermediate rules compose down to the inputs (the exact mode)."""
        todo = list(self._book)
        while todo:
            term = todo.pop()
            tree = self._units.tree(term.level, term.unit)
            if term.level < 2:
                continue
            for leaf in tree.leaves:
                for c in tree.paths[leaf]:
                    lower = Term(term.level - 1, c.feature, c.value)
                    if lower not in self._book and self._units.has(lower.level, lower.unit):
                        self._note(ws, lower, charge=False)
                        todo.append(lower)

    def _note(self, ws: Workspace, term: Term, charge: bool = True) -> None:
        """Charge a new term to the budget and put its leaves in the trace (unit learner)."""
        if term in self._book:
            return
        if charge:
            ws.budget.charge_terms(1)
        if not self._units.has(term.level, term.unit):
            ws.budget.tick()
        tree = self._units.tree(term.level, term.unit)
        ws.trace.note_term(term, int(term.holds(ws.levels).sum()))
        for leaf in tree.leaves:
            share = tree.share_above(leaf, term.threshold)
            positive = tree.positive(leaf, term.threshold)
            ws.trace.add(term.level - 1, simplify_conditions(tree.paths[leaf]) or (), term,
                         positive=positive, support=len(tree.values[leaf]),
                         confidence=share if positive else 1.0 - share)
        self._book[term] = ([], [])

    def _dnf(self, ws: Workspace, term: Term, positive: bool) -> list[tuple[tuple, Any]]:
        """The clauses on ``term.level - 1`` predicting the term true (or false), with masks
        (one tree per term, as Zilke et al.)."""
        if term not in self._book:
            ws.budget.charge_terms(1)
            ws.budget.tick()
            truth = term.holds(ws.levels)
            ws.trace.note_term(term, int(truth.sum()))
            below = term.level - 1
            A, target = ws.levels[below], truth.astype(np.int64)
            if self._rows is not None:
                A, target = A[self._rows], target[self._rows]
            leaves = learn_clauses(
                A, target, min_samples_leaf=self._n_term_min, max_leaves=self.term_leaves,
                max_depth=self.max_depth, columns=self._columns if below == 0 else None,
                schema=self.schema_ if below == 0 else None, random_state=ws.seed)
            pos, neg = [], []
            for leaf in leaves:
                ws.trace.add(below, leaf.clause, term, positive=leaf.value == 1,
                             support=leaf.support, confidence=leaf.confidence)
                item = (leaf.clause, clause_mask(leaf.clause, ws.levels[below]))
                (pos if leaf.value == 1 else neg).append(item)
            self._book[term] = (pos, neg)
        pos, neg = self._book[term]
        return pos if positive else neg
