"""Complete verification of ReLU networks by mixed-integer linear programming.

Bound engines relax every unstable ReLU, so over a wide box they can leave a rule unknown
that is in fact true. A piecewise-linear network is exactly a mixed-integer linear program
(Tjeng, Xiao and Tedrake, ICLR 2019): each unstable ReLU / LeakyReLU ``a = max(z, alpha z)``
with pre-activation bounds ``l < 0 < u`` gets one binary ``d`` (1: active) and the four
constraints

    a >= z,   a >= alpha z,   a <= z - (1 - alpha) l (1 - d),   a <= alpha z + (1 - alpha) u d

which hold exactly for ``d`` in {0, 1}; stable neurons are linear. The smallest value of each
spec form ``spec @ logits`` over the box is then bounded, first by the linear relaxation
(``d`` in [0, 1]: a few milliseconds, and it settles about half of the proofs), then by branch
and bound (HiGHS, shipped with scipy). A box is **proven** when the solver's lower (dual)
bound of every form exceeds the float32 runtime error plus a margin; **refuted** when a
solution the solver found is confirmed by the network (onnxruntime) to get another class;
otherwise **unknown** (node limit reached).

Soundness: the neuron bounds ``l, u`` come from the sound linear engine and are widened
outwards before use, so the program contains every real point of the box. The solver's
tolerances (feasibility 1e-7) only enlarge its feasible set, which lowers the bound it reports;
what remains is the floating-point arithmetic of its LP solves, covered by a relative
``SOLVER_SLACK`` on top of the bound engine's own margins.

Cost: one program per spec row and box, a few to a few hundred milliseconds for the networks
of the tabular fixtures; the node limit (not a clock) bounds the work so that results are
the same on every run.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings

import numpy as np

from nnrules.verify.bounds import (
    FLOAT64_SLACK,
    HEAD_MARGIN,
    U32,
    _is_affine,
    float32_error,
    layer_bounds,
)

__all__ = ["applicable", "output_range_by_milp", "settle_by_milp"]

NODE_LIMIT = 2000  # branch-and-bound nodes per program; deterministic, unlike a time limit
SOLVER_SLACK = 1e-6  # relative allowance for the LP solves' floating-point arithmetic
_WIDEN = 1e-7  # outward widening (relative) of the neuron bounds fed to the program
_STOP_GAP = 0.999  # stop once the lower bound is positive (see _Program.solve)
_RANGE_GAP = 1e-4  # output ranges: near-exact optimum


def applicable(ir) -> bool:
    """True when every activation is a ReLU or LeakyReLU (the network is piecewise linear)."""
    return all(_is_affine(layer) or layer.kind in ("relu", "leaky_relu") for layer in ir.layers)


class _Program:
    """The network over one box as sparse constraints (built once, solved per spec row)."""

    def __init__(self, ir, lo: np.ndarray, hi: np.ndarray, inputs, out):
        self.n = 0
        self.v_lo: list[np.ndarray] = []
        self.v_hi: list[np.ndarray] = []
        self.integer: list[np.ndarray] = []
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.c_lo: list[float] = []
        self.c_hi: list[float] = []
        # Each layer's output as (variable index, multiplier) per unit; index -1 is the
        # constant 0 (an inactive ReLU).
        idx, mult = self._new(lo, hi), np.ones(len(lo))
        n_layers = len(ir.layers)
        for i, layer in enumerate(ir.layers):
            if _is_affine(layer):
                b_lo, b_hi = (inputs[i + 1] if i + 1 < n_layers else out)
                idx, mult = self._affine(layer, idx, mult, _widen(b_lo, -1), _widen(b_hi, 1))
            else:
                z_lo, z_hi = inputs[i]
                alpha = float(layer.alpha) if layer.kind == "leaky_relu" else 0.0
                idx, mult = self._relu(idx, mult, _widen(z_lo, -1), _widen(z_hi, 1), alpha)
        self.out_idx, self.out_mult = idx, mult

    def _new(self, lo, hi, integer=False) -> np.ndarray:
        k = len(lo)
        self.v_lo.append(np.asarray(lo, dtype=np.float64))
        self.v_hi.append(np.asarray(hi, dtype=np.float64))
        self.integer.append(np.full(k, 1 if integer else 0))
        out = np.arange(self.n, self.n + k)
        self.n += k
        return out

    def _row(self, cols, vals, lo, hi):
        keep = cols >= 0
        self.rows.append(np.full(int(keep.sum()), len(self.c_lo)))
        self.cols.append(cols[keep])
        self.vals.append(vals[keep])
        self.c_lo.append(lo)
        self.c_hi.append(hi)

    def _affine(self, layer, idx, mult, lo, hi):
        z = self._new(lo, hi)
        W = layer.weight * mult[None, :]
        for r in range(layer.n_out):  # W x - z = -b
            self._row(np.append(idx, z[r]), np.append(W[r], -1.0), -layer.bias[r],
                      -layer.bias[r])
        return z, np.ones(layer.n_out)

    def _relu(self, idx, mult, l, u, alpha):
        out_idx, out_mult = idx.copy(), mult.copy()
        inactive = u <= 0
        out_mult[inactive] *= alpha
        if alpha == 0.0:
            out_idx[inactive] = -1
        for k in np.flatnonzero((l < 0) & (u > 0)):
            z, m = idx[k], mult[k]
            a, d = self._new([alpha * l[k]], [u[k]])[0], self._new([0.0], [1.0], True)[0]
            cols = np.array([a, z, d])
            self._row(cols, np.array([1.0, -m, 0.0]), 0.0, np.inf)  # a >= z
            if alpha:  # a >= alpha z (for a ReLU, a >= 0 is a's lower bound)
                self._row(cols, np.array([1.0, -alpha * m, 0.0]), 0.0, np.inf)
            # a <= z - (1 - alpha) l (1 - d)
            g = (1.0 - alpha) * l[k]
            self._row(cols, np.array([1.0, -m, -g]), -np.inf, -g)
            # a <= alpha z + (1 - alpha) u d
            self._row(cols, np.array([1.0, -alpha * m, -(1.0 - alpha) * u[k]]), -np.inf, 0.0)
            out_idx[k], out_mult[k] = a, 1.0
        return out_idx, out_mult

    def solve(self, form: np.ndarray, gap: float = _STOP_GAP, relax: bool = False):
        """Minimise ``form @ outputs``: (solver lower bound, best point found or None, value).

        ``gap`` is the relative gap at which the solver stops; the default answers a sign
        question (see below), ranges ask for a small gap. ``relax`` solves the linear
        relaxation instead (binaries in [0, 1]): a weaker bound, found in a few milliseconds.
        """
        from scipy.optimize import Bounds, LinearConstraint, milp
        from scipy.sparse import csr_matrix

        c = np.zeros(self.n)
        weight = form * self.out_mult
        keep = self.out_idx >= 0
        np.add.at(c, self.out_idx[keep], weight[keep])
        if not hasattr(self, "_arrays"):  # assembled once, solved up to 2 x (forms) times
            A = csr_matrix((np.concatenate(self.vals), (np.concatenate(self.rows),
                                                        np.concatenate(self.cols))),
                           shape=(len(self.c_lo), self.n))
            self._arrays = (Bounds(np.concatenate(self.v_lo), np.concatenate(self.v_hi)),
                            LinearConstraint(A, np.array(self.c_lo), np.array(self.c_hi)),
                            np.concatenate(self.integer))
        bounds, constraints, integrality = self._arrays
        # With gap 0.999 the solver stops as soon as its lower bound is positive while a
        # positive value is known; once a negative value is known it runs on only until the
        # bound is within about twice that value (or to the node limit): the counterexample
        # candidate is already at hand.
        # One thread: the same answer on every run, and no thread start-up per small program.
        options = {"node_limit": NODE_LIMIT, "mip_rel_gap": gap, "threads": 1,
                   "output_flag": False}
        with warnings.catch_warnings(), _silent_stdout():
            warnings.simplefilter("ignore", RuntimeWarning)  # "passed to HiGHS verbatim"
            res = milp(c, integrality=0 * integrality if relax else integrality,
                       bounds=bounds, constraints=constraints, options=options)
        # The solver's lower bound; without one (no solve, or a solver that does not report
        # it) nothing is proven: ``res.fun`` is a value found, not a bound.
        bound = getattr(res, "mip_dual_bound", None)
        if relax:  # a linear program's optimum is its bound
            bound = res.fun if res.status == 0 else None
        if bound is None or not np.isfinite(bound):
            bound = -np.inf
        x = None if res.x is None else np.asarray(res.x)
        return float(bound), x, (np.inf if x is None else float(res.fun))


@contextlib.contextmanager
def _silent_stdout():
    """Mute file descriptor 1: the solver library prints progress notes from C++."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError, AttributeError):  # no real stdout (embedded interpreters)
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _widen(v: np.ndarray, sign: int) -> np.ndarray:
    return v + sign * _WIDEN * (1.0 + np.abs(v))


def _programs(ir, lo: np.ndarray, hi: np.ndarray):
    """Per box: (index, its program, its logit bounds (lo, hi), float32 error, logit scale);
    the linear bounds of all boxes are computed at once, each program when it is reached."""
    (out_lo, out_hi), inputs = layer_bounds(ir, lo, hi, method="linear")
    err = float32_error(ir, lo, hi, inputs)
    scale = np.max(np.maximum(np.abs(out_lo), np.abs(out_hi)), axis=1)
    for b in range(len(lo)):
        prog = _Program(ir, lo[b], hi[b], [(a[b], c[b]) for a, c in inputs],
                        (out_lo[b], out_hi[b]))
        yield b, prog, (out_lo[b], out_hi[b]), err[b], scale[b]


def settle_by_milp(ir, lo: np.ndarray, hi: np.ndarray, spec: np.ndarray):
    """Prove or find counterexample candidates for boxes by mixed-integer programming.

    Parameters
    ----------
    ir : DenseIR
        ReLU / LeakyReLU network (:func:`applicable`).
    lo, hi : ndarray of shape (n_boxes, n_inputs)
    spec : ndarray of shape (n_boxes, m, n_outputs)
        Forms of the logits that must all be positive.

    Returns
    -------
    proven : ndarray of bool, shape (n_boxes,)
    candidate : ndarray of shape (n_boxes, n_inputs)
        A point the program says makes some form non-positive (NaN where none): to be
        confirmed by the network before it counts as a counterexample.
    """
    n_boxes, d = lo.shape
    proven = np.zeros(n_boxes, dtype=bool)
    candidate = np.full((n_boxes, d), np.nan)
    for b, prog, (out_lo, out_hi), err, scale in _programs(ir, lo, hi):
        slack = (HEAD_MARGIN + (4 * U32 + FLOAT64_SLACK + SOLVER_SLACK) * (1.0 + scale)
                 + np.abs(spec[b]) @ err)
        # Weakest form first: a counterexample there ends the box's work soonest.
        order = np.argsort(spec[b] @ ((out_lo + out_hi) / 2.0), kind="stable")
        ok = True
        for r in order:
            if prog.solve(spec[b, r], relax=True)[0] > slack[r]:
                continue  # the relaxation already proves this form
            bound, x, value = prog.solve(spec[b, r])
            if x is not None and value <= 0:
                candidate[b] = np.clip(x[:d], lo[b], hi[b])
                ok = False
                break
            if bound <= slack[r]:
                ok = False
                break
        proven[b] = ok
    return proven, candidate


def output_range_by_milp(ir, lo: np.ndarray, hi: np.ndarray):
    """Sound range of every output over each box, from the programs' lower bounds.

    Parameters
    ----------
    ir : DenseIR
        ReLU / LeakyReLU network (:func:`applicable`).
    lo, hi : ndarray of shape (n_boxes, n_inputs)

    Returns
    -------
    low, high : ndarray of shape (n_boxes, n_outputs)
        For every x in box b the float32 network's output k lies in ``[low, high]``; where
        the solver stops at its node limit without a bound, the linear bound engine's range
        is returned (both ranges are sound, so their intersection is kept).
    """
    n_out = ir.n_outputs
    low, high = np.empty((len(lo), n_out)), np.empty((len(lo), n_out))
    for b, prog, (out_lo, out_hi), err, scale in _programs(ir, lo, hi):
        linear_slack = err + FLOAT64_SLACK * (1.0 + scale)  # as output_range's
        low[b], high[b] = out_lo - linear_slack, out_hi + linear_slack
        slack = (FLOAT64_SLACK + SOLVER_SLACK) * (1.0 + scale) + err
        for k in range(n_out):
            form = np.zeros(n_out)
            form[k] = 1.0
            below = prog.solve(form, _RANGE_GAP)[0] - slack[k]
            above = -prog.solve(-form, _RANGE_GAP)[0] + slack[k]
            low[b, k] = max(low[b, k], below)
            high[b, k] = min(high[b, k], above)
    return low, high
