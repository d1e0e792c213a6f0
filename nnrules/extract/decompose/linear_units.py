"""Unsaturated hidden units read in their linear range: one score whose sign is the class.

A unit trained without enough weight penalty works in the middle of its activation, where no
handful of states stands for it (German credit's networks: four clusters per unit still change
10-15% of the predictions, and rules through those clusters land near the majority class). In
that range the activation is close to a straight line in the pre-activation, so the whole
network is close to one linear score of the inputs:

``logit_1 - logit_0 = sum_j d_j * act(z_j) + d_0 ~ sum_j d_j * (a_j + s_j * z_j) + d_0``,

with ``a_j + s_j * z`` the least-squares line through unit ``j``'s activations on the training
rows and ``z_j = w_j . x + b_j``. :func:`linear_collapse` returns that score as a network with
one saturated unit, ``tanh(score)`` with two states split at 0, so the rest of ``setiono``
(hidden states to class, inputs to each state, M-of-N tests, refinement) runs on it unchanged
and the rules read ``score > 0`` as one M-of-N test. The original network stays the oracle of
every reported fidelity; how far the score is from the network is reported as the stage's
``change``.
"""

from __future__ import annotations

import numpy as np

from nnrules.extract.decompose.cluster import UnitClusters
from nnrules.extract.decompose.onelayer import OneLayerNet
from nnrules.io.graph import Activation

__all__ = ["linear_collapse", "unit_lines"]


def unit_lines(net: OneLayerNet, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per unit, the least-squares line ``act(z) ~ a + s * z`` over the rows ``X``.

    Returns
    -------
    (a, s) : ndarrays of shape (n_hidden,)
        Intercepts and slopes; a unit whose pre-activation is constant on ``X`` (every input
        pruned) gets slope 0 and its constant activation.
    """
    Z = net.pre(X)
    H = net.act(Z)
    zc = Z - Z.mean(axis=0)
    var = np.einsum("ij,ij->j", zc, zc)
    cov = np.einsum("ij,ij->j", zc, H - H.mean(axis=0))
    s = np.divide(cov, var, out=np.zeros_like(cov), where=var > 1e-12 * len(X))
    a = H.mean(axis=0) - s * Z.mean(axis=0)
    return a, s


def linear_collapse(net: OneLayerNet, X: np.ndarray) -> OneLayerNet:
    """``net`` (two classes: one or two logits) as one linear score, a one-unit network.

    The returned network's single unit has pre-activation ``w . x + b``, the linearised
    difference of the two logits (or the single logit), activation ``tanh`` and two cluster
    centres -1 and 1, so fed forward with its centres it says class 1 exactly when the score
    is positive.
    """
    n_out = net.W2.shape[0]
    if n_out > 2:
        raise ValueError("linear_collapse reads a network with one or two logits")
    a, s = unit_lines(net, X)
    d, d0 = (net.W2[1] - net.W2[0], net.b2[1] - net.b2[0]) if n_out == 2 else (net.W2[0],
                                                                                 net.b2[0])
    w = (d * s) @ net.W1
    b = float((d * s) @ net.b1 + d @ a + d0)
    W2 = np.array([[-1.0], [1.0]]) if n_out == 2 else np.array([[1.0]])
    return OneLayerNet(w[None, :].astype(np.float64), np.array([b]), Activation("tanh"), W2,
                       np.zeros(n_out), [UnitClusters((-1.0, 1.0))])
