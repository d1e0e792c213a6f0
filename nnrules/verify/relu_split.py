"""ReLU phase splitting: prove a box by proving every sign pattern of its first-layer ReLUs.

Over a wide box most first-layer ReLUs are unstable (their input takes both signs), and the
convex relaxation of each costs the bound more than any choice of slopes can win back. Each
round picks, for every unproven part, the unstable first-layer neuron whose relaxation gap
(``u * -l / (u - l)``, times the norm of its outgoing weights) is largest, and splits the part
in two: one where that neuron's input ``z`` is >= 0 (the ReLU is the identity there) and one
where it is <= 0 (the ReLU is constant). The two parts cover the box, so the box is proven when
every part is (a part whose sign pattern no point of the box has is proven vacuously).

Each part is bounded over the whole box with the relaxation that holds on the part, plus the
split constraints carried into the bound: ``-beta * z`` (``+beta * z`` for an inactive
split) with a multiplier ``beta >= 0`` per split neuron and bounded form, which is <= 0 on the
part, so any ``beta`` keeps the bound sound; the multipliers are optimised together with the
ReLU slopes (:mod:`nnrules.verify.alpha`; Wang et al., NeurIPS 2021, "beta-CROWN"). Only the
first layer is split: its inputs ``z = W x + b`` are exact affine functions of the input, so
the constraints are exact.
"""

from __future__ import annotations

import numpy as np

from nnrules.verify.bounds import FLOAT64_SLACK, HEAD_MARGIN, U32, spec_lower_bounds

__all__ = ["applicable", "prove_by_relu_splitting"]

MAX_PARTS = 1024  # parts in flight at once (memory: each is a full optimised bound)


def applicable(ir) -> bool:
    """True when the network starts with an affine layer followed by a ReLU / LeakyReLU."""
    layers = ir.layers
    return (len(layers) >= 3 and hasattr(layers[0], "weight")
            and getattr(layers[1], "kind", None) in ("relu", "leaky_relu"))


def _margins(ir, lo, hi, spec, phase):
    res = spec_lower_bounds(ir, lo, hi, spec, method="alpha", phase=phase)
    slack = HEAD_MARGIN + (4 * U32 + FLOAT64_SLACK) * (1.0 + res["scale"])
    margin = (res["bound"] - res["error"]).min(axis=1) - slack
    return np.where(res["empty"], np.inf, margin)


def _pick(ir, lo, hi, phase):
    """Index of the unstable, unsplit first-layer neuron to split in each part (-1: none)."""
    first = ir.layers[0]
    mid, rad = (lo + hi) / 2.0, (hi - lo) / 2.0
    centre = mid @ first.weight.T + first.bias
    spread = rad @ np.abs(first.weight).T
    l, u = centre - spread, centre + spread
    gap = np.maximum(u, 0.0) * np.maximum(-l, 0.0) / np.maximum(u - l, 1e-300)
    out = np.abs(ir.layers[2].weight).sum(axis=0) if hasattr(ir.layers[2], "weight") else 1.0
    score = np.where((phase == 0) & (l < 0) & (u > 0), gap * out, -1.0)
    j = score.argmax(axis=1)
    return np.where(score.max(axis=1) > 0, j, -1)


def prove_by_relu_splitting(ir, lo, hi, spec, *, depth: int,
                            max_parts: int = MAX_PARTS) -> np.ndarray:
    """Which boxes are proven once their first-layer ReLUs are split up to ``depth`` times.

    Parameters
    ----------
    ir : DenseIR
        Must satisfy :func:`applicable`.
    lo, hi : ndarray of shape (n, d)
        Boxes the engine could not prove whole.
    spec : ndarray of shape (n, m, n_outputs)
        The linear forms of the logits that must all be positive (see ``class_spec``).
    depth : int
        Rounds of splitting (at most ``2 ** depth`` parts per box).
    max_parts : int
        Parts in flight at once; boxes beyond it are given up (left unproven).

    Returns
    -------
    ndarray of bool of shape (n,)
    """
    n, width = len(lo), ir.layers[0].n_out
    owner = np.arange(n)
    phase = np.zeros((n, width))
    failed = np.zeros(n, dtype=bool)
    for _ in range(depth):
        keep = ~failed[owner]
        owner, phase = owner[keep], phase[keep]
        if owner.size == 0:
            break
        j = _pick(ir, lo[owner], hi[owner], phase)
        failed[owner[j < 0]] = True  # every unstable neuron fixed and still unproven
        keep = (j >= 0) & ~failed[owner]
        owner, phase, j = owner[keep], phase[keep], j[keep]
        if 2 * owner.size > max_parts:
            failed[owner] = True
            owner = owner[:0]
            break
        if owner.size == 0:
            break
        rows = np.arange(owner.size)
        active, inactive = phase.copy(), phase.copy()
        active[rows, j], inactive[rows, j] = 1.0, -1.0
        owner, phase = np.concatenate([owner, owner]), np.concatenate([active, inactive])
        margin = _margins(ir, lo[owner], hi[owner], spec[owner], phase)
        open_ = margin <= 0
        owner, phase = owner[open_], phase[open_]
    failed[owner] = True
    return ~failed
