"""The extraction trace: which clauses realise which terms, layer by layer, down to the classes.

Every intermediate rule a method learns is recorded as ``clause (on level k) -> target``, where
the target is a term of a higher level or an output class. :meth:`Trace.to_networkx` turns the
record into a ``networkx.DiGraph`` (documented in ``docs/formats.md``):

* ``class:<label>`` nodes — ``kind="class"``, ``label``, ``layer`` = K + 1;
* ``term:h<k>[<j>]><t>`` nodes — ``kind="term"``, ``layer`` k, ``unit`` j, ``threshold`` t,
  ``support`` (training rows where the unit exceeds t);
* ``clause:<k>:<n>`` nodes — ``kind="clause"``, ``layer`` k, ``text``, ``support``,
  ``confidence``, ``positive`` (whether the clause predicts its target true), and
  ``fallback=True`` on an input clause learned directly for a hidden-layer clause (deepred's
  fallback, when substitution left that clause's rows uncovered);
* edges ``clause -> target`` with ``relation="realises"`` (the target is a term, a class, or —
  for clause-wise substitution — the hidden-layer clause an input clause stands for) and
  ``term -> clause`` with
  ``relation="used-in"`` when the clause tests that term.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nnrules.extract.decompose.terms import Clause, Term, clause_text

__all__ = ["Trace"]


@dataclass
class _Record:
    level: int
    clause: Clause
    target: Any  # Term or class index
    positive: bool
    support: int
    confidence: float
    node: str
    fallback: bool = False


@dataclass
class Trace:
    """A growing record of intermediate rules.

    Parameters
    ----------
    classes : tuple
        Class labels as the network names them.
    n_hidden : int
        K, the number of hidden layers.
    schema : FeatureSchema, optional
        Names the input features in clause texts.
    """

    classes: tuple
    n_hidden: int
    schema: Any = None
    records: list[_Record] = field(default_factory=list)
    term_support: dict[Term, int] = field(default_factory=dict)
    _counters: dict[int, int] = field(default_factory=dict, repr=False)

    def add(self, level: int, clause: Clause, target: Any, *, positive: bool = True,
            support: int = 0, confidence: float = 0.0, fallback: bool = False) -> str:
        """Record that ``clause`` on ``level`` predicts ``target``: a Term, a class index, or
        the node id of an earlier clause (returned by this method). Returns the clause's id.
        ``fallback``: an input clause learned directly for a hidden-layer clause that
        substitution left short (deepred), marked so in the graph."""
        n = self._counters.get(level, 0)
        self._counters[level] = n + 1
        self.records.append(_Record(level, tuple(clause), target, positive, int(support),
                                    float(confidence), f"clause:{level}:{n}", bool(fallback)))
        return self.records[-1].node

    def note_term(self, term: Term, support: int) -> None:
        """Record a term and how many training rows satisfy it."""
        self.term_support[term] = int(support)

    def _target_id(self, target: Any) -> str:
        if isinstance(target, str):
            return target
        if isinstance(target, Term):
            return "term:" + target.key()
        return f"class:{self.classes[int(target)]}"

    def to_networkx(self):
        """The trace as a ``networkx.DiGraph`` (node and edge attributes: module docstring)."""
        import networkx as nx

        g = nx.DiGraph()
        for k, label in enumerate(self.classes):
            g.add_node(f"class:{label}", kind="class", label=str(label), index=k,
                       layer=self.n_hidden + 1)
        for term, support in sorted(self.term_support.items()):
            g.add_node("term:" + term.key(), kind="term", layer=term.level, unit=term.unit,
                       threshold=term.threshold, support=support)
        for rec in self.records:
            cid = rec.node
            g.add_node(cid, kind="clause", layer=rec.level,
                       text=clause_text(rec.clause, rec.level, self.schema),
                       support=rec.support, confidence=rec.confidence, positive=rec.positive)
            if rec.fallback:
                g.nodes[cid]["fallback"] = True
            target = self._target_id(rec.target)
            if target not in g:
                t = rec.target
                g.add_node(target, kind="term", layer=t.level, unit=t.unit,
                           threshold=t.threshold, support=0)
            g.add_edge(cid, target, relation="realises")
            if rec.level > 0:
                for c in rec.clause:
                    term = Term(rec.level, c.feature, c.value)
                    tid = "term:" + term.key()
                    if tid not in g:
                        g.add_node(tid, kind="term", layer=rec.level, unit=c.feature,
                                   threshold=c.value, support=self.term_support.get(term, 0))
                    g.add_edge(tid, cid, relation="used-in")
        return g
