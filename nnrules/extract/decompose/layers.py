"""Layers and activations: read a dense network layer by layer with NumPy, in batches.

The engine sees a network as a stack of *levels*: level 0 is the input (the schema's feature
space), levels 1..K are the post-activation outputs of the K hidden layers of the dense layer IR
(:func:`nnrules.io.graph.read_dense`), and the logits come after level K. Every level is a float64
array with one row per sample; rules of the engine are conjunctions of thresholds on one level.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from nnrules.exceptions import DataError, UnsupportedModelError

__all__ = ["LayerStack", "read_layers"]

_PEDAGOGICAL_HINT = (
    "Decompositional methods (cred, deepred, eclaire) read a dense feed-forward network layer "
    "by layer; use a pedagogical method instead (--method tree or --method trepan), which only "
    "queries the network."
)


@dataclass(frozen=True)
class LayerStack:
    """A dense network cut at its hidden activations.

    Parameters
    ----------
    ir : DenseIR
        The layer IR the stack was read from.
    cuts : tuple of int
        Index into ``ir.layers`` of each hidden Activation layer, in order; level ``k``
        (1-based) is the output of ``ir.layers[cuts[k - 1]]``.
    names : tuple of str
        The ONNX node name of each hidden activation (for messages and differential tests).
    """

    ir: Any
    cuts: tuple[int, ...]
    names: tuple[str, ...]

    @property
    def n_hidden(self) -> int:
        """Number of hidden layers K."""
        return len(self.cuts)

    @property
    def widths(self) -> tuple[int, ...]:
        """Units per level, input first: (n_inputs, n_1, ..., n_K)."""
        sizes = [z.shape[1] for z in self.ir.forward_all(np.zeros((1, self.ir.n_inputs)))]
        return (self.ir.n_inputs, *[sizes[c] for c in self.cuts])

    def levels(self, X: np.ndarray, *, batch_size: int = 8192) -> list[np.ndarray]:
        """Every level's values for rows ``X``, computed in batches.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_inputs)
            Rows as the network takes them.
        batch_size : int, default=8192
            Rows per NumPy pass; bounds the temporary memory.

        Returns
        -------
        list of K + 1 ndarrays, float64
            ``[X, H_1, ..., H_K]``.
        """
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.ir.n_inputs:
            raise DataError(
                f"The network reads {self.ir.n_inputs} input features; got rows of shape "
                f"{X.shape!r}. Pass one row per sample with {self.ir.n_inputs} columns."
            )
        out = [np.empty((len(X), w)) for w in self.widths[1:]]
        for start in range(0, len(X), batch_size):
            Z = X[start:start + batch_size]
            level = 0
            for i, layer in enumerate(self.ir.layers[: self.cuts[-1] + 1]):
                Z = layer(Z)
                if i in self.cuts:
                    out[level][start:start + len(Z)] = Z
                    level += 1
        return [X, *out]

    def logits(self, X: np.ndarray, *, batch_size: int = 8192) -> np.ndarray:
        """The logits (before the head) for rows ``X``, in batches."""
        X = np.asarray(X, dtype=np.float64)
        parts = [self.ir.forward(X[s:s + batch_size]) for s in range(0, len(X), batch_size)]
        return np.vstack(parts) if parts else np.empty((0, self.ir.n_outputs))

    def classes_of_logits(self, Z: np.ndarray) -> np.ndarray:
        """Class index per row from logits: argmax, or ``z > 0`` for a single sigmoid logit."""
        if Z.shape[1] == 1:
            return (Z[:, 0] > 0).astype(np.int64)
        return np.argmax(Z, axis=1).astype(np.int64)


def read_layers(network: Any) -> LayerStack:
    """Cut ``network`` at its hidden activations.

    Parameters
    ----------
    network : Network
        A loaded nnrules network (``nnrules.load``).

    Returns
    -------
    LayerStack

    Raises
    ------
    UnsupportedModelError
        The network is not a Network (a black box), its graph is not a dense feed-forward chain
        (Conv, LSTM/GRU, a branch; the message names the op and node), or it has no hidden layer.
    """
    if not hasattr(type(network), "layers") or not hasattr(network, "model"):
        raise UnsupportedModelError(
            f"Got a {type(network).__name__!r}, not an nnrules Network: a decompositional "
            f"method needs the ONNX graph's weights. Load the model with nnrules.load(path). "
            f"{_PEDAGOGICAL_HINT}"
        )
    try:
        ir = network.layers
    except UnsupportedModelError as e:
        raise UnsupportedModelError(f"{e} {_PEDAGOGICAL_HINT}") from None
    cuts = tuple(ir.hidden_layers())
    if not cuts:
        raise UnsupportedModelError(
            "The network has no hidden layer (it is a linear or logistic model): there are no "
            "hidden units to read rules from. Its weights are already the explanation; or use "
            "--method tree."
        )
    node_names = tuple(ir.layers[c].name for c in cuts)
    return LayerStack(ir, cuts, node_names)
