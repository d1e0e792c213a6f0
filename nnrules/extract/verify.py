"""Verify "x in B => class c" (or "=> y in [lo, hi]") on a dense network, soundly.

A rule is **proven** when, for every other class j, the certified lower bound of
``logit_c - logit_j`` over the box (from :mod:`nnrules.extract.bounds`) exceeds the float32
runtime's possible error plus a head margin; for a sigmoid head (one logit) the logit's sign is
checked the same way. It is **refuted** when a concrete point of the box is found (centre, the
vertex that minimises the linear bound, random points, then a few projected signed-gradient
steps) on which the network itself, run by onnxruntime, answers another class. Otherwise it is
**unknown**. When only an IR is given (no ONNX session), counterexamples are confirmed by the
IR's float64 forward pass instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from nnrules._validation import check_random_state
from nnrules.exceptions import DataError, ParameterError
from nnrules.extract.bounds import (
    FLOAT64_SLACK,
    HEAD_MARGIN,
    U32,
    _act_grad,
    _check_box,
    _is_affine,
    check_ir,
    spec_lower_bounds,
)

__all__ = ["Verdict", "class_spec", "output_range", "resolve", "verify_box", "verify_boxes"]

Status = Literal["proven", "refuted", "unknown"]
_BOUNDS = ("interval", "linear", "alpha")


@dataclass(frozen=True)
class Verdict:
    """The answer to one verification.

    Attributes
    ----------
    status : {"proven", "refuted", "unknown"}
    counterexample : ndarray of shape (n_inputs,) or None
        A point of the box the network classifies otherwise (``status == "refuted"``).
    certified_margin : float
        Certified lower bound of ``logit_c - max_j logit_j`` minus the floating-point margins;
        positive exactly when proven.
    """

    status: Status
    counterexample: np.ndarray | None
    certified_margin: float


def resolve(network_or_ir: Any):
    """(ir, network or None) from a Network (has an ONNX session) or a bare DenseIR."""
    layers = getattr(network_or_ir, "layers", None)
    if isinstance(layers, tuple) and hasattr(network_or_ir, "n_inputs"):
        return network_or_ir, None
    if layers is None:
        check_ir(network_or_ir)  # raises with a clear message
    ir = layers
    check_ir(ir)
    return ir, network_or_ir


def class_spec(ir, cls: np.ndarray) -> np.ndarray:
    """Linear forms of the logits that must all be positive for class ``cls[b]``.

    Returns an array of shape (n_boxes, m, n_outputs): ``e_c - e_j`` for every j != c
    (m = n_outputs - 1), or ``+z`` / ``-z`` for one logit (class 1 / class 0).
    """
    cls = np.asarray(cls, dtype=np.int64).reshape(-1)
    k = ir.n_outputs
    n_classes = 2 if k == 1 else k
    if np.any((cls < 0) | (cls >= n_classes)):
        raise ParameterError(
            f"Class indices must be in 0..{n_classes - 1} for this network; got "
            f"{sorted(set(cls.tolist()))!r}."
        )
    if k == 1:
        return np.where(cls == 1, 1.0, -1.0).reshape(-1, 1, 1)
    eye = np.eye(k)
    others = np.array([[j for j in range(k) if j != c] for c in range(k)])  # (k, k-1)
    spec = eye[cls][:, None, :] - eye[others[cls]]
    return spec


def _margins(ir, Z: np.ndarray, cls: np.ndarray) -> np.ndarray:
    """Exact margin of class cls per row of logits Z (negative: another class wins)."""
    if ir.n_outputs == 1:
        return np.where(cls == 1, Z[:, 0], -Z[:, 0])
    rows = np.arange(len(Z))
    zc = Z[rows, cls]
    other = Z.copy()
    other[rows, cls] = -np.inf
    return zc - other.max(axis=1)


def _margin_grad(ir, X: np.ndarray, cls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
    return _margins(ir, Z, cls), v


def _attack(ir, lo, hi, cls, coef, rng, n_samples: int, project, n_steps: int = 12):
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
        _, g = _margin_grad(ir, flat, c_flat)
        flat = np.clip(flat - step * np.sign(g) * width, lo[owner], hi[owner])
        step *= 0.7
    if project is not None:
        flat = project(flat, owner)
    m = _margins(ir, ir.forward(flat), c_flat).reshape(B, k)
    best = m.argmin(axis=1)
    pts = flat.reshape(B, k, d)[np.arange(B), best]
    return pts, m[np.arange(B), best]


def _confirm(ir, network, pts: np.ndarray, cls: np.ndarray) -> np.ndarray:
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
    return _margins(ir, ir.forward(pts), cls) < 0


def _certify(ir, lo: np.ndarray, hi: np.ndarray, cls: np.ndarray, bound: str):
    """Certified margin of each box (positive = proven) and the bound engine's result."""
    res = spec_lower_bounds(ir, lo, hi, class_spec(ir, cls), method=bound)
    slack = HEAD_MARGIN + (4 * U32 + FLOAT64_SLACK) * (1.0 + res["scale"])
    return (res["bound"] - res["error"]).min(axis=1) - slack, res


def verify_boxes(
    network_or_ir: Any,
    lower,
    upper,
    cls,
    *,
    bound: str = "linear",
    n_samples: int = 32,
    random_state: Any = None,
    project: Callable | None = None,
    search: bool = True,
    ir: Any = None,
    split_depth: int = 0,
    relu_split: int = 0,
    complete: bool = False,
) -> dict[str, np.ndarray]:
    """Verify many rules at once.

    Parameters
    ----------
    network_or_ir : Network or DenseIR
    lower, upper : array-like of shape (n_boxes, n_inputs)
    cls : array-like of int of shape (n_boxes,)
        Class index (into the logits; 0/1 for a sigmoid head) each box claims.
    bound : {"interval", "linear", "alpha"}
        Bound engine (:mod:`nnrules.extract.bounds`): interval arithmetic, back-substituted
        linear relaxation, or the same with optimised ReLU slopes (tighter, slower).
    n_samples : int
        Random points per unproven box in the counterexample search.
    random_state : int or None
    project : callable (points (N, d), owner (N,)) -> points, optional
        Maps search points onto valid rows (integers, one-hot groups) of their box.
    search : bool
        Look for counterexamples for unproven boxes.
    ir : DenseIR, optional
        The network's IR when already read (saves re-reading the ONNX graph).
    split_depth : int
        Boxes neither proven nor refuted are split up to this many rounds (at most
        ``2 ** split_depth`` parts each) and proven when every part is
        (:mod:`nnrules.extract.input_split`). 0 = bound the whole box only.
    relu_split : int
        Before input splitting, boxes neither proven nor refuted are split on the signs of
        their unstable first-layer ReLUs up to this many rounds, each part bounded with
        optimised slopes and split multipliers (:mod:`nnrules.extract.relu_split`). Used
        only when the first hidden layer is a ReLU / LeakyReLU; 0 = off.
    complete : bool
        Boxes still unknown after all that are settled by mixed-integer programming
        (:mod:`nnrules.extract.milp`): exact for ReLU / LeakyReLU networks up to a node limit
        per box; ignored for sigmoid / tanh networks.

    Returns
    -------
    dict with ``status`` (n_boxes,) of str, ``counterexample`` (n_boxes, n_inputs) (NaN
    where none), ``certified_margin`` (n_boxes,) of the whole box (a box proven in parts
    keeps its whole-box margin, which is <= 0), ``coef`` (n_boxes, m, n_inputs) or None.
    """
    if bound not in _BOUNDS:
        raise ParameterError(f"bound must be one of {list(_BOUNDS)}; got {bound!r}.")
    if ir is None:
        ir, network = resolve(network_or_ir)
    else:
        network = network_or_ir
    lo, hi = _check_box(lower, upper, ir.n_inputs)
    cls = np.asarray(cls, dtype=np.int64).reshape(-1)
    if cls.size == 1 and lo.shape[0] > 1:
        cls = np.repeat(cls, lo.shape[0])
    if cls.shape[0] != lo.shape[0]:
        raise DataError(f"Got {cls.shape[0]} classes for {lo.shape[0]} boxes; give one per box.")
    certified, res = _certify(ir, lo, hi, cls, bound)
    status = np.where(certified > 0, "proven", "unknown").astype(object)
    cex = np.full(lo.shape, np.nan)
    todo = np.flatnonzero(certified <= 0)
    if search and todo.size:
        rng = check_random_state(random_state)
        coef = None if res["coef"] is None else res["coef"][todo]
        sub_project = None
        if project is not None:
            def sub_project(P, owner):
                return project(P, todo[owner])
        pts, margin = _attack(ir, lo[todo], hi[todo], cls[todo], coef, rng, n_samples,
                              sub_project)
        neg = np.flatnonzero(margin < 0)
        if neg.size:
            ok = _confirm(ir, network, pts[neg], cls[todo[neg]])
            hit = todo[neg[ok]]
            status[hit] = "refuted"
            cex[hit] = pts[neg[ok]]
    todo = np.flatnonzero(status == "unknown")
    if relu_split and todo.size and bound != "interval":
        from nnrules.extract.relu_split import applicable, prove_by_relu_splitting

        if applicable(ir):
            won = prove_by_relu_splitting(ir, lo[todo], hi[todo], class_spec(ir, cls[todo]),
                                          depth=relu_split)
            status[todo[won]] = "proven"
    todo = np.flatnonzero(status == "unknown")
    if split_depth and todo.size:
        from nnrules.extract.input_split import prove_by_splitting

        def certify(a, b, c):
            margin, r = _certify(ir, a, b, c, bound)
            return margin, r["coef"]

        coef = None if res["coef"] is None else res["coef"][todo]
        won = prove_by_splitting(certify, lo[todo], hi[todo], cls[todo], coef,
                                 depth=split_depth)
        status[todo[won]] = "proven"
    todo = np.flatnonzero(status == "unknown")
    if complete and todo.size:
        _settle(ir, network, lo, hi, cls, todo, status, cex, project)
    return {"status": status.astype(str), "counterexample": cex, "certified_margin": certified,
            "coef": res["coef"]}


def _settle(ir, network, lo, hi, cls, todo, status, cex, project) -> None:
    """Mixed-integer programming for the boxes in ``todo`` (updates status / cex)."""
    from nnrules.extract.milp import applicable, settle_by_milp

    if not applicable(ir):
        return
    won, cand = settle_by_milp(ir, lo[todo], hi[todo], class_spec(ir, cls[todo]))
    status[todo[won]] = "proven"
    has = np.flatnonzero(~np.isnan(cand[:, 0]))
    if has.size == 0:
        return
    pts = cand[has]
    if project is not None:
        pts = project(pts, todo[has])
    ok = _confirm(ir, network, pts, cls[todo[has]])
    status[todo[has[ok]]] = "refuted"
    cex[todo[has[ok]]] = pts[ok]


def verify_box(network_or_ir: Any, lower, upper, cls: int, *, bound: str = "linear",
               n_samples: int = 256, random_state: Any = None, relu_split: int = 0,
               complete: bool = True) -> Verdict:
    """Verify one rule "x in [lower, upper] => class cls".

    Parameters
    ----------
    network_or_ir : Network or DenseIR
    lower, upper : array-like of shape (n_inputs,)
        Closed bounds of the box (lower <= upper, finite).
    cls : int
        Class index into the logits (for a sigmoid head: 1 = positive class, 0 = negative).
    bound : {"interval", "linear", "alpha"}
    n_samples, random_state
        Counterexample search effort and seed.
    relu_split : int
        Rounds of first-layer ReLU splitting for a box left unknown (see
        :func:`verify_boxes`).
    complete : bool
        Settle a box the bounds leave unknown by mixed-integer programming (ReLU /
        LeakyReLU networks; see :func:`verify_boxes`). On by default: one rule is cheap to
        settle, and "unknown" then only means the node limit was reached.

    Returns
    -------
    Verdict

    Raises
    ------
    DataError
        Empty (inverted), non-finite or wrongly shaped box.
    UnsupportedModelError
        The network's graph is not a dense ReLU / LeakyReLU / sigmoid / tanh network.

    Examples
    --------
    >>> import numpy as np
    >>> from nnrules.io.graph import Affine, DenseIR
    >>> ir = DenseIR((Affine(np.array([[1.0, 0.0], [0.0, 1.0]]), np.zeros(2), "a"),),
    ...              "softmax", "x", 2, 2)
    >>> verify_box(ir, [1.0, 0.0], [2.0, 0.5], 0).status
    'proven'
    """
    res = verify_boxes(network_or_ir, np.reshape(lower, (1, -1)), np.reshape(upper, (1, -1)),
                       [cls], bound=bound, n_samples=n_samples, random_state=random_state,
                       relu_split=relu_split, complete=complete)
    status = str(res["status"][0])
    cex = res["counterexample"][0] if status == "refuted" else None
    return Verdict(status, cex, float(res["certified_margin"][0]))


def output_range(network_or_ir: Any, lower, upper, *, bound: str = "linear", ir: Any = None,
                 complete: bool = False):
    """Sound range of every output over each box, float32 runtime error included.

    Parameters
    ----------
    network_or_ir : Network or DenseIR
    lower, upper : array-like of shape (n_boxes, n_inputs)
    bound : {"interval", "linear", "alpha"}
    complete : bool
        Exact ranges (up to the margins) by mixed-integer programming for ReLU / LeakyReLU
        networks (:mod:`nnrules.extract.milp`); ignored for other networks.

    Returns
    -------
    lo, hi : ndarray of shape (n_boxes, n_outputs)
        For every x in box b, the network's output k lies in ``[lo[b, k], hi[b, k]]``
        (before any head; regression networks have none).
    """
    if bound not in _BOUNDS:
        raise ParameterError(f"bound must be one of {list(_BOUNDS)}; got {bound!r}.")
    if ir is None:
        ir, _ = resolve(network_or_ir)
    lo, hi = _check_box(lower, upper, ir.n_inputs)
    if complete:
        from nnrules.extract.milp import applicable, output_range_by_milp

        if applicable(ir):
            return output_range_by_milp(ir, lo, hi)
    n = ir.n_outputs
    eye = np.eye(n)
    spec = np.broadcast_to(np.concatenate([eye, -eye])[None], (lo.shape[0], 2 * n, n))
    res = spec_lower_bounds(ir, lo, hi, spec, method=bound)
    slack = res["error"] + FLOAT64_SLACK * (1.0 + res["scale"])[:, None]
    low = res["bound"][:, :n] - slack[:, :n]
    high = -res["bound"][:, n:] + slack[:, n:]
    return low, high

