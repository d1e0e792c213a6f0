"""The layer IR of a dense feed-forward network: :class:`Affine` and :class:`Activation`
layers and the :class:`DenseIR` that applies them (values only; reading an ONNX graph into
them is :func:`nnrules.io.graph.read_dense`, which re-exports these names).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from nnrules.exceptions import DataError

__all__ = ["Activation", "ActivationKind", "Affine", "DenseIR", "HeadKind"]

ActivationKind = Literal["relu", "leaky_relu", "sigmoid", "tanh"]
HeadKind = Literal["softmax", "log_softmax", "sigmoid", "none"]


@dataclass(frozen=True)
class Affine:
    """One affine layer ``y = x @ weight.T + bias``.

    Parameters
    ----------
    weight : ndarray of shape (n_out, n_in), float64
    bias : ndarray of shape (n_out,), float64
    name : str
        The ONNX node names folded into this layer, joined with ``"+"``.
    """

    weight: np.ndarray
    bias: np.ndarray
    name: str

    @property
    def n_in(self) -> int:
        return int(self.weight.shape[1])

    @property
    def n_out(self) -> int:
        return int(self.weight.shape[0])

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return X @ self.weight.T + self.bias


@dataclass(frozen=True)
class Activation:
    """An elementwise activation; ``alpha`` is the negative slope of ``leaky_relu``."""

    kind: ActivationKind
    alpha: float = 0.01
    name: str = ""

    def __call__(self, X: np.ndarray) -> np.ndarray:
        if self.kind == "relu":
            return np.maximum(X, 0.0)
        if self.kind == "leaky_relu":
            return np.where(X >= 0.0, X, self.alpha * X)
        if self.kind == "sigmoid":
            return _sigmoid(X)
        return np.tanh(X)


def _sigmoid(X: np.ndarray) -> np.ndarray:
    # exp(-log(1 + exp(-x))) never overflows.
    return np.exp(-np.logaddexp(0.0, -X))


@dataclass(frozen=True)
class DenseIR:
    """A dense feed-forward network as a list of layers and a head.

    Parameters
    ----------
    layers : tuple of Affine or Activation
        Applied in order; input normalisation and batch norm are folded into the Affine layers.
    head : {"softmax", "log_softmax", "sigmoid", "none"}
        Applied after the last layer by the network; :meth:`forward` stops before it.
    input_name : str
        The ONNX graph input the features feed.
    n_inputs, n_outputs : int
        Feature count and logit count (1 for a sigmoid head or a single regression output).
    """

    layers: tuple[Affine | Activation, ...]
    head: HeadKind
    input_name: str
    n_inputs: int
    n_outputs: int

    def _as_input(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_inputs:
            raise DataError(
                f"DenseIR expects X of shape (n_samples, {self.n_inputs}); got shape "
                f"{X.shape!r}. Pass one row per sample with the network's {self.n_inputs} "
                "features."
            )
        return X

    def forward(self, X) -> np.ndarray:
        """Logits before the head.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_inputs)

        Returns
        -------
        ndarray of shape (n_samples, n_outputs), float64
        """
        Z = self._as_input(X)
        for layer in self.layers:
            Z = layer(Z)
        return Z

    def forward_all(self, X) -> list[np.ndarray]:
        """The array after every layer, ``len(layers)`` arrays; the last equals :meth:`forward`."""
        Z = self._as_input(X)
        out = []
        for layer in self.layers:
            Z = layer(Z)
            out.append(Z)
        return out

    def apply_head(self, Z: np.ndarray) -> np.ndarray:
        """What the network outputs for logits ``Z`` (shape (n_samples, n_outputs)).

        A ``"sigmoid"`` head gives ``sigmoid(Z)`` (the positive-class probability for
        skl2onnx binary classifiers, whose graph outputs ``[1 - p, p]``).
        """
        Z = np.asarray(Z, dtype=np.float64)
        if self.head == "sigmoid":
            return _sigmoid(Z)
        if self.head in ("softmax", "log_softmax"):
            shifted = Z - Z.max(axis=1, keepdims=True)
            log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            return log_p if self.head == "log_softmax" else np.exp(log_p)
        return Z

    def hidden_layers(self) -> list[int]:
        """Indices into ``layers`` of the Activation layers."""
        return [i for i, layer in enumerate(self.layers) if isinstance(layer, Activation)]
