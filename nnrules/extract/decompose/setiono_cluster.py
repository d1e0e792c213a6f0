"""``setiono``'s cluster stage: each hidden unit's activations as a handful of states.

:class:`ClusterStage` holds the stage's two steps of
:class:`~nnrules.extract.setiono.SetionoExtractor` (a mixin: it reads the extractor's
parameters and writes its ``stages_``, ``pruned_net_`` and ``dropped_centres_``): cluster every
unit (:func:`~nnrules.extract.decompose.cluster.discretise_units`), say in the partial report
when the tolerance could not be met, and fold one-cluster units into the output bias.
"""

from __future__ import annotations

import numpy as np

from nnrules.exceptions import ParameterError
from nnrules.extract.decompose.cluster import discretise_units
from nnrules.extract.decompose.linear_units import linear_collapse
from nnrules.extract.decompose.onelayer import OneLayerNet
from nnrules.extract.decompose.setiono_rules import writes_exactly

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

    def _linear(self, net: OneLayerNet, X, ws) -> OneLayerNet:
        """The linear stage (``linear_units``): a two-class network is read as one linear score
        (:func:`linear_collapse` of the pruned copy) always (``"always"``), or (``"auto"``)
        when the clustering left it unsaturated (it changes more than ``UNSATURATED_CHANGE`` of
        the training predictions, and more than ``tolerance``) and either the rules through its
        states would learn a unit's boundary (approximations conjoined over units; the score's
        one boundary loses less) or, both written exactly, the score's sign changes fewer
        training predictions than the clusters; not with ``mixed_conditions``, which asks for
        rules closer to the network (5-fold CV on nine German networks, median / worst: 0.881 /
        0.821 through the states, 0.843 / 0.749 through the score, one scorecard of 54-71
        conditions). The cluster stage's shortfall then leaves the partial report, and the
        score's own, past ``tolerance``, joins it."""
        two = len(ws.classes) <= 2
        if self.linear_units == "always" and not two:
            raise ParameterError(
                f"linear_units='always' reads a two-class network as the sign of one score; "
                f"this network has {len(ws.classes)} classes. Use linear_units='auto'.")
        clustered = self.stages_[-1]["change"]
        auto = self.linear_units == "auto"
        unsaturated = clustered > max(UNSATURATED_CHANGE, self.tolerance)
        if (self.linear_units == "never" or not two or (auto and (
                not unsaturated or self.mixed_conditions))):
            return net
        self._stage = "linear"
        pruned = self.pruned_net_
        lin = linear_collapse(pruned, X)
        sign = lin.predict_discrete(X)
        change = float(np.mean(sign != pruned.predict(X)))
        if auto:
            exact = {"max_combinations": self.max_combinations, "oblique": self.oblique}
            if writes_exactly(net, self.schema_, **exact) and (
                    change >= clustered or not writes_exactly(lin, self.schema_, **exact)):
                return net
        self._reasons[:] = [r for r in self._reasons if not r.startswith("cluster:")]
        if change > self.tolerance:
            self._reasons.append(
                f"linear: the hidden units were read in their linear range as one score "
                f"(clustered, they change {clustered:.3f} of the training predictions); the "
                f"score's sign changes {change:.3f} of them" + self._unsaturated_advice(
                    pruned, linear=True))
        units = np.flatnonzero(np.any(pruned.W1 != 0, axis=1) & np.any(pruned.W2 != 0, axis=0))
        self.stages_.append({
            "stage": "linear", "units": [int(j) for j in units], "change": change,
            "fidelity": self._fidelity(sign, ws.labels)})
        return lin

    def _unsaturated_advice(self, net: OneLayerNet, linear: bool = False) -> str:
        """What the partial report says when the units are not saturated: why compact rules
        stay far from the network, and the longer forms that stay closer (German credit's
        unsaturated networks, held-out: 0.73-0.80 through the states, 0.84-0.88 with
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
        if linear:
            return (" (the hidden units are not saturated: no handful of states stands for "
                    "them, and compact rules stay far from the network; setiono needs a "
                    f"network trained with its weight penalty. {closer}--method eclaire or "
                    "--method tree)")
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
