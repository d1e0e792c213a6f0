"""A copy of a one-hidden-layer network that can be pruned and discretised (for ``setiono``).

:class:`OneLayerNet` holds the weights of ``logits = W2 @ act(W1 @ x + b1) + b2`` as NumPy
arrays copied from the layer IR; pruning sets entries to zero *in the copy* (the ONNX file and
the :class:`~nnrules.io.model.Network` are never touched, and the original network stays the
oracle of every reported fidelity). With :attr:`clusters` set, each hidden unit's activation is
replaced by its cluster's centre before the output layer (:meth:`predict_discrete`).

:func:`prune_connections` drops connections smallest contribution first, each only when the
predictions on the training rows stay within a tolerance of a reference.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from nnrules.exceptions import UnsupportedModelError
from nnrules.extract.decompose.cluster import UnitClusters
from nnrules.io.graph import Activation, Affine

__all__ = ["OneLayerNet", "prune_connections"]


@dataclass
class OneLayerNet:
    """``logits = act(X @ W1.T + b1) @ W2.T + b2`` (copied arrays, float64)."""

    W1: np.ndarray
    b1: np.ndarray
    act: Activation
    W2: np.ndarray
    b2: np.ndarray
    clusters: list[UnitClusters | None] = field(default_factory=list)

    @classmethod
    def from_stack(cls, stack) -> OneLayerNet:
        """Copy the weights of a :class:`LayerStack` with exactly one hidden layer."""
        layers = stack.ir.layers
        shape = [type(layer).__name__ for layer in layers]
        if (len(layers) != 3 or not isinstance(layers[0], Affine)
                or not isinstance(layers[1], Activation) or not isinstance(layers[2], Affine)):
            raise UnsupportedModelError(
                f"setiono reads networks with one hidden layer (Affine, Activation, Affine); "
                f"this one's layers are {shape}. Use --method deepred or --method eclaire "
                "for deeper networks."
            )
        a, act, b = layers
        return cls(np.array(a.weight, dtype=np.float64), np.array(a.bias, dtype=np.float64),
                   act, np.array(b.weight, dtype=np.float64), np.array(b.bias, dtype=np.float64),
                   [None] * a.n_out)

    def copy(self) -> OneLayerNet:
        return replace(self, W1=self.W1.copy(), b1=self.b1.copy(), W2=self.W2.copy(),
                       b2=self.b2.copy(), clusters=list(self.clusters))

    @property
    def n_hidden(self) -> int:
        return int(self.W1.shape[0])

    def pre(self, X: np.ndarray) -> np.ndarray:
        """Pre-activations, shape (n_samples, n_hidden)."""
        return X @ self.W1.T + self.b1

    def hidden(self, X: np.ndarray) -> np.ndarray:
        """Activations, shape (n_samples, n_hidden)."""
        return self.act(self.pre(X))

    def discretise(self, H: np.ndarray) -> np.ndarray:
        """Activations with every clustered unit replaced by its cluster centres."""
        H = np.array(H, dtype=np.float64)
        for j, c in enumerate(self.clusters):
            if c is not None:
                H[:, j] = c.discretise(H[:, j])
        return H

    def classes_of_hidden(self, H: np.ndarray) -> np.ndarray:
        """Class index for activations ``H``: argmax of the logits (or ``z > 0``)."""
        Z = H @ self.W2.T + self.b2
        if Z.shape[1] == 1:
            return (Z[:, 0] > 0).astype(np.int64)
        return np.argmax(Z, axis=1).astype(np.int64)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Class index of the (pruned) network, continuous activations."""
        return self.classes_of_hidden(self.hidden(X))

    def predict_discrete(self, X: np.ndarray) -> np.ndarray:
        """Class index with every clustered unit fed forward as its cluster centre."""
        return self.classes_of_hidden(self.discretise(self.hidden(X)))

    def states(self, X: np.ndarray) -> np.ndarray:
        """Cluster index of every unit (0 for unclustered ones), shape (n, n_hidden)."""
        H = self.hidden(X)
        S = np.zeros(H.shape, dtype=np.int64)
        for j, c in enumerate(self.clusters):
            if c is not None:
                S[:, j] = c.assign(H[:, j])
        return S

    def n_connections(self) -> int:
        return int(np.count_nonzero(self.W1) + np.count_nonzero(self.W2))


def prune_connections(net: OneLayerNet, X: np.ndarray, reference: np.ndarray,
                      tolerance: float, *,
                      tick: Callable[[], None] | None = None) -> tuple[OneLayerNet, float]:
    """Zero connections of a copy of ``net`` while its predictions stay near ``reference``.

    Each connection's contribution on the training rows is the largest ``|w * (x - m)|``
    (input weights, ``m`` the input's median) or ``|v * (h - m)|`` (output weights, ``h`` the
    unit's activation); connections are tried smallest contribution first. A dropped weight's
    median contribution ``w * m`` moves into the bias, so a weight on a constant input costs
    nothing. A drop is kept when, with every drop kept so far, the predictions on ``X`` differ
    from ``reference`` on at most ``tolerance`` of the rows.

    Returns
    -------
    (OneLayerNet, float)
        The pruned copy and the fraction of rows whose prediction it changes.
    """
    out = net.copy()
    n = len(X)
    med_x = np.median(X, axis=0)
    H = out.hidden(X)
    med_h = np.median(H, axis=0)
    cand = []
    for j in range(out.n_hidden):
        for i in np.flatnonzero(out.W1[j]):
            c = float(np.max(np.abs(out.W1[j, i] * (X[:, i] - med_x[i]))))
            cand.append((c, 0, j, int(i)))
    for k in range(out.W2.shape[0]):
        for j in np.flatnonzero(out.W2[k]):
            c = float(np.max(np.abs(out.W2[k, j] * (H[:, j] - med_h[j]))))
            cand.append((c, 1, k, int(j)))
    cand.sort()
    allowed = int(np.floor(tolerance * n + 1e-9))
    changed = int(np.sum(out.predict(X) != reference))
    for _, layer, r, c in cand:
        if tick is not None:
            tick()
        trial = out.copy()
        if layer == 0:
            trial.b1[r] += trial.W1[r, c] * med_x[c]
            trial.W1[r, c] = 0.0
        else:
            trial.b2[r] += trial.W2[r, c] * float(np.median(trial.hidden(X)[:, c]))
            trial.W2[r, c] = 0.0
        got = int(np.sum(trial.predict(X) != reference))
        if got <= allowed:
            out, changed = trial, got
    return out, changed / n if n else 0.0
