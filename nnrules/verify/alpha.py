"""Optimised ReLU relaxation slopes for the back-substituted bound (alpha-CROWN style).

The ``"linear"`` engine (:mod:`nnrules.verify.bounds`) bounds every unstable ReLU on
``[l, u]`` (``l < 0 < u``) from below by a line through the origin whose slope it picks by a
heuristic (1 if ``u > -l`` else 0). *Any* slope ``s`` in ``[0, 1]`` gives a valid lower line
``s z <= relu(z)`` on the whole real line (for LeakyReLU with slope ``a <= 1``, a convex
kink: any ``s`` in ``[a, 1]``), so the slope is a free parameter: Xu et al. (ICLR 2021, "alpha-CROWN") optimise it
by gradient ascent on the certified bound. This module does the same, per neuron *and per
spec row* (each linear form being bounded gets its own slopes), with projected signed-gradient
ascent; the gradient is computed analytically by a reverse pass through the back-substitution,
which is a piecewise-linear function of the slopes.

Soundness does not depend on the optimisation: every iterate is clipped into the valid slope
range before its bound is computed, the upper lines stay the chords, and the best bound found
is kept per row; the starting point is the heuristic choice, so the result is never looser than
``"linear"``. Sigmoid / tanh layers keep their fixed lines (their tangent lower lines are not a
one-parameter family through a fixed point), and so do LeakyReLU layers whose slope is
above 1 (a concave kink: their lower line is the chord).
"""

from __future__ import annotations

import numpy as np

__all__ = ["N_STEPS", "optimise_back_substitution"]

N_STEPS = 12  # gradient steps per bound; the bound rarely improves much after ~10
_STEP0 = 0.5  # first step (slopes live in [0, 1]); shrinks geometrically
_DECAY = 0.75


def _free_slopes(layers, start: int, relax: dict):
    """{layer index: (slope range low, free mask (B, n))} of the activations the slopes tune."""
    free = {}
    for i in range(start, -1, -1):
        layer = layers[i]
        if hasattr(layer, "weight") or i not in relax:
            continue
        a = 0.0 if layer.kind == "relu" else float(layer.alpha)
        if layer.kind not in ("relu", "leaky_relu") or a > 1.0:  # a > 1: concave kink
            continue
        aL, _, aU, _ = relax[i]
        mask = aU != aL  # unstable: chord above, a line through the origin below
        if np.any(mask):
            free[i] = (a, mask)
    return free


def _evaluate(layers, start: int, lam: np.ndarray, relax: dict, slopes: dict, x_lo, x_hi,
              want_grad: bool, beta=None, phase=None):
    """Bound of ``lam @ layer[start] output`` with lower slopes ``slopes`` (B, m, n) per layer.

    With ``phase`` (B, n_0) in {-1, 0, 1} (the sign the first layer's outputs are known to
    have on the part of the box being bounded) and multipliers ``beta`` >= 0 (B, m, n_0),
    ``-beta * phase * z_0`` (<= 0 there) is added to the bounded form.

    Returns the bound (B, m), the input coefficients (B, m, d) and, if asked, the gradient
    of the bound with respect to every slope array (and ``"beta"``).
    """
    const = np.zeros(lam.shape[:2])
    tape = []  # what the reverse pass needs, from the output towards the input
    for i in range(start, -1, -1):
        layer = layers[i]
        if hasattr(layer, "weight"):
            if i == 0 and beta is not None:
                lam = lam - beta * phase[:, None, :]
            const = const + lam @ layer.bias
            tape.append((i, None))
            lam = lam @ layer.weight
        else:
            aL, bL, aU, bU = relax[i]
            pos, neg = np.maximum(lam, 0.0), np.minimum(lam, 0.0)
            const = const + np.einsum("bmn,bn->bm", pos, bL) + np.einsum("bmn,bn->bm", neg, bU)
            low = slopes[i] if i in slopes else aL[:, None, :]
            tape.append((i, (lam, low)))
            lam = pos * low + neg * aU[:, None, :]
    pos, neg = np.maximum(lam, 0.0), np.minimum(lam, 0.0)
    bound = const + np.einsum("bmd,bd->bm", pos, x_lo) + np.einsum("bmd,bd->bm", neg, x_hi)
    if not want_grad:
        return bound, lam, None
    # Reverse pass: g = d bound / d lam at the current stage (B, m, n).
    g = np.where(lam > 0, x_lo[:, None, :], x_hi[:, None, :])
    grads = {}
    for i, saved in reversed(tape):
        layer = layers[i]
        if saved is None:
            g = g @ layer.weight.T + layer.bias
            if i == 0 and beta is not None:
                grads["beta"] = -g * phase[:, None, :]
        else:
            before, low = saved
            aL, bL, aU, bU = relax[i]
            if i in slopes:  # lam_after = pos * low + ..., so d bound / d low = g * pos
                grads[i] = g * np.maximum(before, 0.0)
            up = before > 0
            g = np.where(up, g * low + bL[:, None, :], g * aU[:, None, :] + bU[:, None, :])
    return bound, lam, grads


def optimise_back_substitution(layers, start: int, lam: np.ndarray, relax: dict, x_lo, x_hi,
                               n_steps: int = N_STEPS, phase=None):
    """Lower bound of ``lam @ (output of layer start)`` with optimised ReLU lower slopes.

    Parameters
    ----------
    layers : sequence of IR layers
    start : int
        Index of the layer whose output the forms ``lam`` read.
    lam : ndarray of shape (B, m, n_start)
    relax : dict
        ``{activation index: (aL, bL, aU, bU)}`` as built by the ``"linear"`` engine; the
        ``aL`` of unstable ReLU / LeakyReLU neurons is the starting slope.
    x_lo, x_hi : ndarray of shape (B, d)
    n_steps : int
        Projected signed-gradient steps.
    phase : ndarray of shape (B, n_0) or None
        Known signs of the first layer's outputs (ReLU phase splitting): each split neuron
        gets a multiplier ``beta >= 0`` optimised along with the slopes (beta-CROWN style).

    Returns
    -------
    bound : ndarray of shape (B, m)
        The best bound found per form (at least the heuristic slopes' bound).
    coef : ndarray of shape (B, m, d)
        Input coefficients of the linear bound that achieved it.
    """
    free = _free_slopes(layers, start, relax)
    B, m = lam.shape[:2]
    slopes = {i: np.broadcast_to(relax[i][0][:, None, :], (B, m, relax[i][0].shape[1])).copy()
              for i in free}
    beta = None
    if phase is not None and np.any(phase != 0):
        beta = np.zeros((B, m, phase.shape[1]))
    tune = bool(free) or beta is not None
    best, coef, grads = _evaluate(layers, start, lam, relax, slopes, x_lo, x_hi, tune, beta,
                                  phase)
    if not tune:
        return best, coef
    step = _STEP0
    for k in range(n_steps):
        for i, (a, mask) in free.items():
            # Ascend; only unstable neurons move, and every slope stays in [a, 1].
            move = step * np.sign(grads[i]) * mask[:, None, :]
            slopes[i] = np.clip(slopes[i] + move, a, 1.0)
        if beta is not None:  # any beta >= 0 gives a valid bound on the part
            beta = np.maximum(beta + step * np.sign(grads["beta"]) * (phase != 0)[:, None], 0.0)
        last = k == n_steps - 1
        bound, c, grads = _evaluate(layers, start, lam, relax, slopes, x_lo, x_hi, not last,
                                    beta, phase)
        better = bound > best
        best = np.where(better, bound, best)
        coef = np.where(better[:, :, None], c, coef)
        step *= _DECAY
    return best, coef
