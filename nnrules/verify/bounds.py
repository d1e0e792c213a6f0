"""Sound bounds on a dense network's outputs over input boxes (the engine under ``via``).

Three methods, all batched over boxes:

``"interval"``
    Plain interval arithmetic: each affine layer maps a box to the tightest box around its
    image, each activation maps interval ends (monotone pieces).
``"linear"``
    Linear relaxation with back-substitution (DeepPoly / CROWN style). Every unstable neuron
    gets a lower and an upper line (ReLU: the chord above, a line through the origin below;
    sigmoid / tanh: chord or minimum-slope tangent lines); bounds of every layer are found by
    substituting these lines back to the input box, and intersected with the interval bounds,
    so they are never looser than interval arithmetic. The output property (``C @ logits``)
    is back-substituted as one expression, which is what makes it much tighter than
    comparing separately bounded logits.
``"alpha"``
    ``"linear"`` with the lower-line slope of every unstable ReLU / LeakyReLU optimised by
    gradient ascent on the bound (alpha-CROWN style, :mod:`nnrules.verify.alpha`), separately
    for each bounded form: the spec rows, and each hidden layer's neuron bounds. Never looser
    than ``"linear"`` (the heuristic slopes are the starting point and the best bound is
    kept). Sigmoid / tanh layers keep the ``"linear"`` lines.

Floating point
--------------
The bounds are exact-real bounds of the network whose float32 weights are read into float64,
computed in float64. What the ONNX runtime computes is float32 arithmetic; :func:`float32_error`
bounds the difference per output, layer by layer: the cast of the input to float32
(relative 2^-24), every dot product with the classical ``gamma_{n+1} * (|W| |a| + |b|)``
bound (true for any summation order, with or without FMA), the Lipschitz constants of the
activations, and an absolute ``ACTIVATION_ERROR`` for float32 sigmoid / tanh kernels (which
use polynomial approximations). Callers subtract this error, plus ``HEAD_MARGIN`` for the
softmax / sigmoid head and a relative ``FLOAT64_SLACK`` for the float64 bound computation.
Affine layers folded from several ONNX nodes (input normalisation, batch norm) get their
rounding term multiplied by the number of folded nodes: an engineering bound, not a proof.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from nnrules.exceptions import DataError, UnsupportedModelError

__all__ = [
    "ACTIVATION_ERROR",
    "FLOAT64_SLACK",
    "HEAD_MARGIN",
    "BoundMethod",
    "check_ir",
    "float32_error",
    "layer_bounds",
    "spec_lower_bounds",
]

BoundMethod = Literal["interval", "linear", "alpha"]
U32 = 2.0**-24  # unit roundoff of float32
ACTIVATION_ERROR = 1e-6  # absolute error allowed for float32 sigmoid / tanh kernels
HEAD_MARGIN = 1e-5  # softmax / sigmoid in float32 must not turn a proven order into a tie
FLOAT64_SLACK = 1e-9  # relative slack for the float64 bound computation itself
_LINE_TOL = 1e-12  # outward shift of sigmoid / tanh relaxation lines (float64 rounding)
_KINDS = ("relu", "leaky_relu", "sigmoid", "tanh")
_PEDAGOGICAL = "Use a pedagogical method (tree, trepan, additive): they only query the network."
_CHUNK_FLOATS = 2.5e7  # largest back-substitution tensor (floats) held at once


def check_ir(ir) -> None:
    """Refuse an IR the bound engine cannot read.

    Raises
    ------
    UnsupportedModelError
        A layer that is neither ``Affine`` nor an ``Activation`` of a supported kind; the
        message names it and suggests a pedagogical method.
    """
    layers = getattr(ir, "layers", None)
    if layers is None:
        raise UnsupportedModelError(
            f"Validity interval analysis needs a dense layer IR; got {type(ir).__name__!r}. "
            f"{_PEDAGOGICAL}"
        )
    for layer in layers:
        if hasattr(layer, "weight") and hasattr(layer, "bias"):
            continue
        kind = getattr(layer, "kind", None)
        if kind not in _KINDS:
            name = getattr(layer, "name", "")
            raise UnsupportedModelError(
                f"Validity interval analysis cannot bound layer {name!r} of kind "
                f"{kind or type(layer).__name__!r}; it bounds affine layers and "
                f"{', '.join(_KINDS)} activations. {_PEDAGOGICAL}"
            )


def _is_affine(layer) -> bool:
    return hasattr(layer, "weight")


def _check_box(lower: np.ndarray, upper: np.ndarray, n_inputs: int) -> tuple[np.ndarray, ...]:
    lower = np.atleast_2d(np.asarray(lower, dtype=np.float64))
    upper = np.atleast_2d(np.asarray(upper, dtype=np.float64))
    if lower.shape != upper.shape or lower.ndim != 2 or lower.shape[1] != n_inputs:
        raise DataError(
            f"Boxes need lower and upper arrays of the same shape (n_boxes, {n_inputs}); got "
            f"{lower.shape!r} and {upper.shape!r}."
        )
    if not (np.all(np.isfinite(lower)) and np.all(np.isfinite(upper))):
        raise DataError("Box bounds must be finite numbers; got NaN or inf. Bound every feature.")
    if np.any(lower > upper):
        b, j = np.argwhere(lower > upper)[0]
        raise DataError(
            f"Box {b} is empty: feature {j} has lower {lower[b, j]!r} above upper "
            f"{upper[b, j]!r}. Give lower <= upper for every feature."
        )
    return lower, upper


# -- activations ---------------------------------------------------------------------------
def _act(kind: str, alpha: float, z: np.ndarray) -> np.ndarray:
    if kind == "relu":
        return np.maximum(z, 0.0)
    if kind == "leaky_relu":
        return np.where(z >= 0.0, z, alpha * z)
    if kind == "sigmoid":
        return np.exp(-np.logaddexp(0.0, -z))
    return np.tanh(z)


def _act_grad(kind: str, alpha: float, z: np.ndarray) -> np.ndarray:
    if kind == "relu":
        return (z > 0).astype(np.float64)
    if kind == "leaky_relu":
        return np.where(z >= 0.0, 1.0, alpha)
    if kind == "sigmoid":
        s = _act("sigmoid", alpha, z)
        return s * (1.0 - s)
    return 1.0 - np.tanh(z) ** 2


def _act_interval(kind: str, alpha: float, lo: np.ndarray, hi: np.ndarray):
    """Image bounds of [lo, hi]: monotone kinds map ends; leaky ReLU also looks at 0."""
    f_lo, f_hi = _act(kind, alpha, lo), _act(kind, alpha, hi)
    if kind in ("relu", "sigmoid", "tanh") or (kind == "leaky_relu" and alpha >= 0):
        out_lo, out_hi = f_lo, f_hi
    else:
        f_0 = _act(kind, alpha, np.clip(0.0, lo, hi))
        out_lo = np.minimum(np.minimum(f_lo, f_hi), f_0)
        out_hi = np.maximum(np.maximum(f_lo, f_hi), f_0)
    if kind in ("sigmoid", "tanh"):  # transcendental: widen by float64 rounding
        out_lo, out_hi = out_lo - _LINE_TOL, out_hi + _LINE_TOL
    return out_lo, out_hi


def _relax(kind: str, alpha: float, l: np.ndarray, u: np.ndarray):
    """Lines ``aL z + bL <= f(z) <= aU z + bU`` valid for z in [l, u] (arrays like l)."""
    if kind in ("relu", "leaky_relu"):
        a = 0.0 if kind == "relu" else float(alpha)
        width = np.maximum(u - l, 1e-300)
        chord = (_act(kind, a, u) - _act(kind, a, l)) / width
        chord_b = _act(kind, a, l) - chord * l
        active, inactive = l >= 0, u <= 0
        # A line through the origin of slope s in [a, 1] bounds a convex kink from below
        # (from above when a > 1); pick the slope that fits the longer side better.
        s = np.where(u > -l, 1.0, a)
        if a <= 1.0:
            aL, bL, aU, bU = s, np.zeros_like(l), chord, chord_b
        else:
            aL, bL, aU, bU = chord, chord_b, s, np.zeros_like(l)
        aL = np.where(active, 1.0, np.where(inactive, a, aL))
        aU = np.where(active, 1.0, np.where(inactive, a, aU))
        bL = np.where(active | inactive, 0.0, bL)
        bU = np.where(active | inactive, 0.0, bU)
        return aL, bL, aU, bU
    f_l, f_u = _act(kind, alpha, l), _act(kind, alpha, u)
    narrow = (u - l) < 1e-9
    width = np.where(narrow, 1.0, u - l)
    chord = (f_u - f_l) / width
    tangent = np.minimum(_act_grad(kind, alpha, l), _act_grad(kind, alpha, u))
    # f' is unimodal with its peak at 0, so f' >= min(f'(l), f'(u)) on [l, u]; the chord is
    # below f where f is concave (z >= 0) and above where f is convex (z <= 0).
    aL = np.where(l >= 0, chord, tangent)
    bL = f_l - aL * l
    aU = np.where(u <= 0, chord, tangent)
    bU = f_u - aU * u
    aL = np.where(narrow, 0.0, aL)
    aU = np.where(narrow, 0.0, aU)
    bL = np.where(narrow, f_l, bL) - _LINE_TOL
    bU = np.where(narrow, f_u, bU) + _LINE_TOL
    return aL, bL, aU, bU


# -- the engine ----------------------------------------------------------------------------
def _affine_interval(W: np.ndarray, b: np.ndarray, lo: np.ndarray, hi: np.ndarray):
    mid, rad = (lo + hi) / 2.0, (hi - lo) / 2.0
    centre = mid @ W.T + b
    spread = rad @ np.abs(W).T
    return centre - spread, centre + spread


def _back_substitute(layers, start: int, lam: np.ndarray, relax: dict, x_lo, x_hi):
    """Lower bound of ``lam @ (output of layer start)`` over the input box.

    lam : (B, m, n_start). Returns the bound (B, m) and the input coefficients (B, m, d).
    """
    const = np.zeros(lam.shape[:2])
    for i in range(start, -1, -1):
        layer = layers[i]
        if _is_affine(layer):
            const = const + lam @ layer.bias
            lam = lam @ layer.weight
        else:
            aL, bL, aU, bU = relax[i]
            pos, neg = np.maximum(lam, 0.0), np.minimum(lam, 0.0)
            const = const + np.einsum("bmn,bn->bm", pos, bL) + np.einsum("bmn,bn->bm", neg, bU)
            lam = pos * aL[:, None, :] + neg * aU[:, None, :]
    pos, neg = np.maximum(lam, 0.0), np.minimum(lam, 0.0)
    bound = const + np.einsum("bmd,bd->bm", pos, x_lo) + np.einsum("bmd,bd->bm", neg, x_hi)
    return bound, lam


def _propagate(ir, x_lo, x_hi, method: str, spec: np.ndarray | None, phase=None):
    """Bounds of every layer's input/output; with ``spec``, the back-substituted spec bound.

    ``phase`` (B, n) in {-1, 0, 1}: bound only the part of each box where the first layer's
    output (the input of ``layers[1]``, a ReLU) has these signs (``result["empty"]`` marks
    parts with no point).
    """
    layers = ir.layers
    relaxed = method in ("linear", "alpha")
    back = spec_back = _back_substitute
    if method == "alpha":
        from functools import partial

        from nnrules.verify.alpha import optimise_back_substitution as back

        spec_back = back if phase is None else partial(back, phase=phase, n_steps=20)
    empty = np.zeros(len(x_lo), dtype=bool)
    lo, hi = x_lo, x_hi
    inputs = []  # (lo, hi) of each layer's input
    relax: dict[int, tuple] = {}
    seen_activation = False
    for i, layer in enumerate(layers):
        inputs.append((lo, hi))
        if _is_affine(layer):
            lo, hi = _affine_interval(layer.weight, layer.bias, lo, hi)
            if relaxed and seen_activation:
                n = layer.n_out
                eye = np.eye(n)
                lam = np.broadcast_to(np.concatenate([eye, -eye])[None], (lo.shape[0], 2 * n, n))
                bound, _ = back(layers, i, lam, relax, x_lo, x_hi)
                lo = np.maximum(lo, bound[:, :n])
                hi = np.minimum(hi, -bound[:, n:])
                hi = np.maximum(hi, lo)  # rounding can cross them by an ulp; keep them sound
        else:
            seen_activation = True
            if phase is not None and i == 1:  # the part of the box where z_0 has these signs
                lo = np.where(phase > 0, np.maximum(lo, 0.0), lo)
                hi = np.where(phase < 0, np.minimum(hi, 0.0), hi)
                empty = np.any(lo > hi, axis=1)
                hi = np.maximum(hi, lo)
                inputs[-1] = (lo, hi)
            if relaxed:
                relax[i] = _relax(layer.kind, layer.alpha, lo, hi)
            lo, hi = _act_interval(layer.kind, layer.alpha, lo, hi)
    result = {"inputs": inputs, "out": (lo, hi)}
    if spec is not None:
        # Interval bound of the spec from the output box (always sound), then the tighter
        # back-substituted one.
        pos, neg = np.maximum(spec, 0.0), np.minimum(spec, 0.0)
        iv = np.einsum("bmn,bn->bm", pos, lo) + np.einsum("bmn,bn->bm", neg, hi)
        coef = None
        if relaxed:
            lin, coef = spec_back(layers, len(layers) - 1, spec, relax, x_lo, x_hi)
            iv = np.maximum(iv, lin)
        result["spec"] = iv
        result["coef"] = coef
    result["empty"] = empty
    return result


def _chunks(n_boxes: int, ir, m: int, method: str):
    widths = [getattr(layer, "n_out", 0) for layer in ir.layers] + [ir.n_inputs]
    per_box = max(2 * max(widths), m) * max(widths)
    if method == "alpha":  # keeps every layer's coefficients, slopes and gradients
        per_box *= len(ir.layers) + 3
    size = max(1, int(_CHUNK_FLOATS // max(per_box, 1)))
    for start in range(0, n_boxes, size):
        yield slice(start, min(n_boxes, start + size))


def layer_bounds(ir, lower, upper, *, method: BoundMethod = "linear"):
    """Bounds of the logits and of every layer's input over each box.

    Parameters
    ----------
    ir : DenseIR
    lower, upper : array-like of shape (n_boxes, n_inputs)
    method : {"interval", "linear", "alpha"}

    Returns
    -------
    out : tuple of two ndarrays of shape (n_boxes, n_outputs)
        Lower and upper bounds of the logits (exact-real arithmetic).
    inputs : list of tuples of ndarrays
        ``inputs[i]`` bounds the input of ``ir.layers[i]``.
    """
    check_ir(ir)
    x_lo, x_hi = _check_box(lower, upper, ir.n_inputs)
    parts = [_propagate(ir, x_lo[s], x_hi[s], method, None)
             for s in _chunks(len(x_lo), ir, 1, method)]
    out = tuple(np.concatenate([p["out"][k] for p in parts]) for k in range(2))
    inputs = [
        tuple(np.concatenate([p["inputs"][i][k] for p in parts]) for k in range(2))
        for i in range(len(ir.layers))
    ]
    return out, inputs


def spec_lower_bounds(ir, lower, upper, spec, *, method: BoundMethod = "linear", phase=None):
    """Lower bounds of ``spec @ logits`` over each box, and what they need for soundness.

    Parameters
    ----------
    ir : DenseIR
    lower, upper : array-like of shape (n_boxes, n_inputs)
    spec : ndarray of shape (n_boxes, m, n_outputs)
        One linear form of the logits per row; e.g. ``e_c - e_j`` for every class j != c.
    method : {"interval", "linear", "alpha"}
    phase : ndarray of shape (n_boxes, n) or None
        Signs {-1, 0, 1} the first layer's outputs (inputs of ``ir.layers[1]``, a ReLU or
        LeakyReLU) take: the bounds then hold on that part of each box only
        (:mod:`nnrules.verify.relu_split`).

    Returns
    -------
    dict with
        ``bound`` (n_boxes, m): exact-real lower bounds of the forms;
        ``error`` (n_boxes, m): the float32 runtime's possible deviation of each form;
        ``scale`` (n_boxes,): magnitude of the logits (for the float64 slack);
        ``coef`` (n_boxes, m, n_inputs) or None: input coefficients of the linear bound;
        ``empty`` (n_boxes,): parts (with ``phase``) that contain no point.
    """
    check_ir(ir)
    x_lo, x_hi = _check_box(lower, upper, ir.n_inputs)
    spec = np.asarray(spec, dtype=np.float64)
    if spec.ndim != 3 or spec.shape[0] != x_lo.shape[0] or spec.shape[2] != ir.n_outputs:
        raise DataError(
            f"spec must have shape ({x_lo.shape[0]}, m, {ir.n_outputs}); got {spec.shape!r}."
        )
    bounds, errors, scales, coefs, empty = [], [], [], [], []
    for s in _chunks(len(x_lo), ir, spec.shape[1], method):
        res = _propagate(ir, x_lo[s], x_hi[s], method, spec[s],
                         None if phase is None else phase[s])
        empty.append(res["empty"])
        e_out = float32_error(ir, x_lo[s], x_hi[s], res["inputs"])
        bounds.append(res["spec"])
        errors.append(np.einsum("bmn,bn->bm", np.abs(spec[s]), e_out))
        lo, hi = res["out"]
        scales.append(np.max(np.maximum(np.abs(lo), np.abs(hi)), axis=1))
        coefs.append(res["coef"])
    coef = None if method == "interval" else np.concatenate(coefs)
    return {
        "bound": np.concatenate(bounds),
        "error": np.concatenate(errors),
        "scale": np.concatenate(scales),
        "coef": coef,
        "empty": np.concatenate(empty),
    }


def _gamma(n: int) -> float:
    return n * U32 / (1.0 - n * U32)


def float32_error(ir, x_lo: np.ndarray, x_hi: np.ndarray, inputs) -> np.ndarray:
    """Bound on |float32 runtime logits - exact logits| for every point of each box.

    Parameters
    ----------
    ir : DenseIR
    x_lo, x_hi : ndarray of shape (n_boxes, n_inputs)
    inputs : list of (lo, hi)
        Bounds of each layer's input (from :func:`layer_bounds`).

    Returns
    -------
    ndarray of shape (n_boxes, n_outputs)
    """
    err = U32 * np.maximum(np.abs(x_lo), np.abs(x_hi))  # the cast of the input to float32
    for layer, (lo, hi) in zip(ir.layers, inputs):
        mag = np.maximum(np.abs(lo), np.abs(hi)) + err
        if _is_affine(layer):
            absW = np.abs(layer.weight)
            folded = max(1, str(layer.name).count("+") + 1)
            rounding = _gamma(layer.n_in + 1 + folded) * folded
            err = err @ absW.T + rounding * (mag @ absW.T + np.abs(layer.bias))
        elif layer.kind == "relu":
            pass  # exact in float32, and 1-Lipschitz
        elif layer.kind == "leaky_relu":
            a = abs(float(layer.alpha))
            err = max(1.0, a) * err + U32 * a * mag
        elif layer.kind == "sigmoid":
            err = err / 4.0 + ACTIVATION_ERROR
        else:
            err = err + ACTIVATION_ERROR
    return err
