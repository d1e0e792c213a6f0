"""Counterexample search: points of a box where the network answers another class.

Candidates per box are its centre, the vertex that minimises the linear lower bound of the
margin (when the bound engine gave its coefficients), random points (a quarter of them
corners), all then moved by a few projected signed-gradient steps on the float64 margin
(``logit_c - max_j logit_j``); the point of least margin is kept. A candidate with a negative
float64 margin is a counterexample only once :func:`confirm` has checked it on the network
itself (onnxruntime), or on the IR's float64 forward pass when there is no ONNX session.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nnrules.verify.bounds import _act_grad, _is_affine

__all__ = ["attack", "confirm", "margin_gradient", "margins"]

# (points (N, d), owner box of each point (N,)) -> points moved onto valid rows of their box
Project = Callable[[np.ndarray, np.ndarray], np.ndarray]


def margins(ir, Z: np.ndarray, cls: np.ndarray) -> np.ndarray:
    """Exact margin of class cls per row of logits Z (negative: another class wins)."""
    if ir.n_outputs == 1:
        return np.where(cls == 1, Z[:, 0], -Z[:, 0])
    rows = np.arange(len(Z))
    zc = Z[rows, cls]
    other = Z.copy()
    other[rows, cls] = -np.inf
    return zc - other.max(axis=1)


def margin_gradient(ir, X: np.ndarray, cls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Margins and their gradients w.r.t. the inputs (float64 IR), rows of X."""
    acts = [X]
    for layer in ir.layers:
        acts.append(layer(acts[-1]))
    Z = acts[-1]
    if ir.n_outputs == 1:
        v = np.where(cls == 1, 1.0, -1.0)[:, None]
    else:
        rows = np.arange(len(Z))
        other = Z.copy()
        other[rows, cls] = -np.inf
        j = other.argmax(axis=1)
        v = np.zeros_like(Z)
        v[rows, cls] += 1.0
        v[rows, j] -= 1.0
    for i in range(len(ir.layers) - 1, -1, -1):
        layer = ir.layers[i]
        if _is_affine(layer):
            v = v @ layer.weight
        else:
            v = v * _act_grad(layer.kind, layer.alpha, acts[i])
    return margins(ir, Z, cls), v


def attack(ir, lo, hi, cls, coef, rng, n_samples: int, project: Project | None,
           n_steps: int = 12):
    """Candidate counterexamples: (B, d) points with the smallest float64 margin found."""
    B, d = lo.shape
    cands = [(lo + hi)[:, None, :] / 2.0]
    if coef is not None:  # the vertex minimising each linear lower bound
        cands.append(np.where(coef > 0, lo[:, None, :], hi[:, None, :]))
    if n_samples > 0:
        u = rng.random((B, n_samples, d))
        u[:, : n_samples // 4] = np.round(u[:, : n_samples // 4])  # some corners
        cands.append(lo[:, None, :] + u * (hi - lo)[:, None, :])
    P = np.concatenate(cands, axis=1)
    k = P.shape[1]
    owner = np.repeat(np.arange(B), k)
    flat = P.reshape(-1, d)
    c_flat = cls[owner]
    width = (hi - lo)[owner]
    step = 0.25
    for _ in range(n_steps):
        _, g = margin_gradient(ir, flat, c_flat)
        flat = np.clip(flat - step * np.sign(g) * width, lo[owner], hi[owner])
        step *= 0.7
    if project is not None:
        flat = project(flat, owner)
    m = margins(ir, ir.forward(flat), c_flat).reshape(B, k)
    best = m.argmin(axis=1)
    pts = flat.reshape(B, k, d)[np.arange(B), best]
    return pts, m[np.arange(B), best]


def confirm(ir, network, pts: np.ndarray, cls: np.ndarray) -> np.ndarray:
    """True where the network (onnxruntime if available) answers a class other than cls."""
    if network is not None and hasattr(network, "logits"):
        try:
            Z = np.asarray(network.logits(pts), dtype=np.float64)
        except Exception:  # noqa: BLE001 - fall back to labels if logits are unavailable
            Z = None
        if Z is not None:
            if Z.shape[1] == 1:
                return np.where(cls == 1, Z[:, 0] <= 0, Z[:, 0] > 0)
            return Z.argmax(axis=1) != cls
        labels = np.asarray(network.predict(pts))
        classes = np.asarray(network.classes_)
        return labels != classes[cls]
    return margins(ir, ir.forward(pts), cls) < 0
