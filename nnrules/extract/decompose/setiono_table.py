"""``setiono``'s table stage: hidden states to classes, and whether that table meets the
tolerance where the clustering did not.

:class:`TableStage` is a mixin of :class:`~nnrules.extract.setiono.SetionoExtractor` (it reads
the extractor's parameters and writes its ``table_``, ``hidden_rules_``, ``hidden_default_``
and ``stages_``); the table itself comes from
:func:`~nnrules.extract.decompose.state_labels.state_table`.
"""

from __future__ import annotations

import numpy as np

from nnrules.extract.decompose.onelayer import OneLayerNet
from nnrules.extract.decompose.state_labels import state_table, table_changes
from nnrules.extract.decompose.terms import clause_mask

__all__ = ["TableStage"]


class TableStage:
    """The table stage of :class:`~nnrules.extract.setiono.SetionoExtractor`."""

    def _table(self, net: OneLayerNet, X, labels, ws):
        self._stage = "table"
        how = self.state_labels
        if how == "auto":  # the network's labels when the clustering missed the tolerance
            how = ("centres", "network")[any(r.startswith("cluster:") for r in self._reasons)]
        table, hidden_rules, default, reasons, self._default_rules = state_table(
            net, X, labels, len(ws.classes), max_combinations=self.max_combinations, how=how,
            tick=ws.budget.tick)
        self._reasons += reasons
        relabelled = table.pop("relabelled")
        self.table_ = table
        units, D, complete = table["units"], table["states"], table["complete"]
        change = held_out = None
        if how == "network":
            change, held_out = self._recovered_clustering(net, X, labels, len(ws.classes))
        self.hidden_rules_ = hidden_rules
        self.hidden_default_ = default
        H = net.hidden(X)
        pred = np.full(len(X), default, dtype=np.int64)
        for clause, k in reversed(hidden_rules):
            pred[clause_mask(clause, H)] = k
        self._hidden_nodes = [ws.trace.add(1, clause, k,
                                           support=int(clause_mask(clause, H).sum()))
                              for clause, k in hidden_rules]
        self.stages_.append({
            "stage": "table", "units": units, "combinations": len(D),
            "complete": complete, "labels": how, "relabelled": relabelled,
            "change": change, "held_out_change": held_out, "hidden_rules": len(hidden_rules),
            "fidelity": self._fidelity(pred, labels)})
        return hidden_rules, default

    def _recovered_clustering(self, net: OneLayerNet, X, labels,
                              n_classes: int) -> tuple[float, float]:
        """:func:`table_changes`; held out within ``tolerance``, the cluster stage's shortfall
        (its ``change`` stays in ``stages_``) leaves the partial report: the rules describe
        the table, not the centres fed forward (a MONK-1 network computing the concept was
        marked partial, its rules the concept)."""
        change, held_out = table_changes(self.table_, net, self.pruned_net_, X, labels,
                                         n_classes)
        if held_out <= int(np.floor(self.tolerance * len(X) + 1e-9)):
            self._reasons[:] = [r for r in self._reasons if not r.startswith("cluster:")]
        return change, held_out / len(X)
