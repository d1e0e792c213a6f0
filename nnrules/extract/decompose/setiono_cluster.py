"""``setiono``'s cluster stage: each hidden unit's activations as a handful of states.

:class:`ClusterStage` holds the stage's two steps of
:class:`~nnrules.extract.setiono.SetionoExtractor` (a mixin: it reads the extractor's
parameters and writes its ``stages_``, ``pruned_net_`` and ``dropped_centres_``): cluster every
unit (:func:`~nnrules.extract.decompose.cluster.discretise_units`), say in the partial report
when the tolerance could not be met, and fold one-cluster units into the output bias.
"""

from __future__ import annotations

import numpy as np

from nnrules.extract.decompose.cluster import discretise_units
from nnrules.extract.decompose.onelayer import OneLayerNet

__all__ = ["UNSATURATED_CHANGE", "ClusterStage"]

# A discretised network changing more than this share of the training predictions is called
# unsaturated: k-means is tried beside greedy clustering, and the partial report says so.
UNSATURATED_CHANGE = 0.05


class ClusterStage:
    """The cluster stage of :class:`~nnrules.extract.setiono.SetionoExtractor`."""

    def _discretise(self, net: OneLayerNet, X, ws) -> OneLayerNet:
        """The cluster stage with ``clustering``; when greedy clustering leaves the network
        unsaturated (its discretised copy changes more than ``UNSATURATED_CHANGE`` of the
        training predictions), k-means is tried too and the clustering that changes fewer
        predictions is kept (ties: greedy)."""
        n_reasons, n_stages = len(self._reasons), len(self.stages_)
        base = net.copy()
        first = self._cluster(net, X, ws, self.clustering)
        change = self.stages_[-1]["change"]
        if self.clustering != "greedy" or change <= UNSATURATED_CHANGE:
            return first
        kept = (self._reasons[n_reasons:], self.stages_[n_stages:], self.pruned_net_,
                self.dropped_centres_)
        del self._reasons[n_reasons:], self.stages_[n_stages:]
        second = self._cluster(base, X, ws, "kmeans")
        if self.stages_[-1]["change"] < change:
            return second
        del self._reasons[n_reasons:], self.stages_[n_stages:]
        self._reasons += kept[0]
        self.stages_ += kept[1]
        self.pruned_net_, self.dropped_centres_ = kept[2], kept[3]
        return first

    def _unsaturated_advice(self, net: OneLayerNet) -> str:
        """What the partial report says when the units are not saturated: why compact rules
        stay far from the network, and the longer forms that stay closer (German credit's
        unsaturated networks, held-out: 0.73-0.80 with the defaults, 0.84-0.88 with
        ``mixed_conditions=48``, ``eclaire`` at that rule count 0.75-0.82)."""
        read = np.flatnonzero(np.any(net.W1 != 0, axis=0))
        kinds = {self.schema_.features[int(j)].kind for j in read}
        longer = []  # the forms not already asked for
        if kinds & {"onehot", "binary", "categorical"} and not self.mixed_conditions:
            longer.append("--param mixed_conditions=48 (each boundary a points scorecard over "
                          "its inputs)")
        if not self.oblique:
            longer.append("--param oblique=true (each boundary one linear condition)")
        closer = f"Longer rules that stay closer: {' or '.join(longer)}; or " if longer else ""
        return (f" (more than {UNSATURATED_CHANGE}: the hidden units are not saturated, no "
                "handful of states stands for them, and compact rules through them stay far "
                "from the network; setiono needs a network trained with its weight penalty. "
                f"{closer}--method eclaire or --method tree)")

    def _cluster(self, net: OneLayerNet, X, ws, how: str) -> OneLayerNet:
        self._stage = "cluster"
        self.pruned_net_ = net.copy()
        failed, change = discretise_units(net, X, how, self.max_clusters, self.tolerance,
                                          tick=ws.budget.tick)
        if failed:
            advice = ""
            if change > UNSATURATED_CHANGE:
                advice = self._unsaturated_advice(net)
            self._reasons.append(
                f"cluster: units {failed} need more than max_clusters={self.max_clusters} "
                f"clusters ({how}) to keep the predictions within tolerance={self.tolerance}; "
                f"the discretised network changes {change:.3f} of the training predictions"
                + advice)
        dropped = []
        self.dropped_centres_: dict[int, float] = {}
        for j, c in enumerate(net.clusters):
            if c is not None and c.n_clusters == 1:
                self.dropped_centres_[j] = float(c.centres[0])
                net.b2 += net.W2[:, j] * c.centres[0]
                net.W2[:, j] = 0.0
                net.clusters[j] = None
                dropped.append(j)
            elif c is not None and not np.any(net.W2[:, j]):
                net.clusters[j] = None  # the output layer no longer reads it
                dropped.append(j)
        self.stages_.append({
            "stage": "cluster", "clustering": how,
            "clusters": [0 if c is None else c.n_clusters for c in net.clusters],
            "dropped_units": dropped, "change": change,
            "fidelity": self._fidelity(net.predict_discrete(X), ws.labels)})
        return net
