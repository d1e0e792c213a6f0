"""One verifier for a dense network: prove boxes, bound outputs, find counterexamples.

A claim "x in B => class c" is **proven** when, for every other class j, the certified lower
bound of ``logit_c - logit_j`` over the box (:mod:`nnrules.verify.bounds`) exceeds the float32
runtime's possible error plus a head margin; for a sigmoid head (one logit) the logit's sign is
checked the same way. It is **refuted** when a point of the box is found
(:mod:`nnrules.verify.attack`) on which the network itself, run by onnxruntime, answers another
class. Otherwise it is **unknown**. Boxes the bound leaves unknown go, in this order and as the
settings ask, to ReLU phase splitting (:mod:`nnrules.verify.relu_split`), input splitting
(:mod:`nnrules.verify.input_split`) and mixed-integer programming (:mod:`nnrules.verify.milp`).

The :class:`Verifier` is built once from the network (or a bare layer IR) and the settings;
its methods take boxes only. With a :class:`~nnrules.verify.domain.Domain`, search points are
valid rows (integers whole, one-hot groups exactly one hot). A :class:`Budget` counts
verifications for callers that ration them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from nnrules._validation import check_random_state
from nnrules.exceptions import DataError, ParameterError
from nnrules.verify.attack import attack, confirm, margin_gradient
from nnrules.verify.bounds import (
    FLOAT64_SLACK,
    HEAD_MARGIN,
    U32,
    BoundMethod,
    _check_box,
    check_ir,
    spec_lower_bounds,
)

if TYPE_CHECKING:
    from nnrules.verify.domain import Domain

__all__ = ["Budget", "Verdict", "Verifier", "class_spec"]

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


class Budget:
    """Verifications allowed and spent, by outcome.

    Parameters
    ----------
    total : int
        Boxes that may be verified in all.

    Attributes
    ----------
    counts : dict
        ``{"proven": int, "refuted": int, "unknown": int}``, boxes verified so far.
    """

    def __init__(self, total: int) -> None:
        self.total = int(total)
        self.counts = {"proven": 0, "refuted": 0, "unknown": 0}

    @property
    def left(self) -> int:
        """Verifications still allowed (negative never: callers check before spending)."""
        return self.total - sum(self.counts.values())

    def spend(self, status) -> None:
        """Count one verification per entry of ``status`` (array of outcome strings)."""
        for s in status:
            self.counts[str(s)] += 1


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
    return eye[cls][:, None, :] - eye[others[cls]]


def _per_box(cls, n_boxes: int) -> np.ndarray:
    """Class indices, one per box (one index given for many boxes is repeated)."""
    cls = np.asarray(cls, dtype=np.int64).reshape(-1)
    if cls.size == 1 and n_boxes > 1:
        cls = np.repeat(cls, n_boxes)
    if cls.shape[0] != n_boxes:
        raise DataError(f"Got {cls.shape[0]} classes for {n_boxes} boxes; give one per box.")
    return cls


def _read(network: Any):
    """(ir, network or None) from a Network (has an ONNX session) or a bare DenseIR."""
    layers = getattr(network, "layers", None)
    if isinstance(layers, tuple) and hasattr(network, "n_inputs"):
        check_ir(network)
        return network, None
    if layers is None:
        check_ir(network)  # raises with a clear message
    check_ir(layers)
    return layers, network


class Verifier:
    """Sound answers about a dense network over input boxes.

    Parameters
    ----------
    network : Network or DenseIR
        A loaded network (its ``layers`` IR is bounded; counterexamples are confirmed by
        onnxruntime) or a bare layer IR (counterexamples confirmed by its float64 forward
        pass).
    bound : {"interval", "linear", "alpha"}, default="linear"
        Bound engine (:mod:`nnrules.verify.bounds`): interval arithmetic, back-substituted
        linear relaxation, or the same with optimised ReLU slopes (tighter, slower).
    n_samples : int, default=32
        Random points per unproven box in the counterexample search.
    split_depth : int, default=0
        Boxes neither proven nor refuted are split up to this many rounds (at most
        ``2 ** split_depth`` parts each) and proven when every part is
        (:mod:`nnrules.verify.input_split`). 0 = bound the whole box only.
    relu_split : int, default=0
        Before input splitting, such boxes are split on the signs of their unstable
        first-layer ReLUs up to this many rounds (:mod:`nnrules.verify.relu_split`). Used only
        when the first hidden layer is a ReLU / LeakyReLU and ``bound`` is not "interval".
    complete : bool, default=False
        Boxes still unknown after all that are settled by mixed-integer programming
        (:mod:`nnrules.verify.milp`; ReLU / LeakyReLU networks, ignored otherwise), and
        :meth:`output_range` is exact there.
    domain : Domain or None
        Where search points must lie: valid rows of each box (integers whole, one-hot groups
        exactly one hot). None: any point of the box.

    Raises
    ------
    ParameterError
        Unknown ``bound``.
    UnsupportedModelError
        The network's graph is not a dense ReLU / LeakyReLU / sigmoid / tanh network, or it
        is a black box without a layer IR.

    Examples
    --------
    >>> import numpy as np
    >>> from nnrules.io.graph import Affine, DenseIR
    >>> ir = DenseIR((Affine(np.array([[1.0, 0.0], [0.0, 1.0]]), np.zeros(2), "a"),),
    ...              "softmax", "x", 2, 2)
    >>> Verifier(ir, complete=True).prove_box([1.0, 0.0], [2.0, 0.5], 0).status
    'proven'
    """

    def __init__(self, network: Any, *, bound: BoundMethod = "linear", n_samples: int = 32,
                 split_depth: int = 0, relu_split: int = 0, complete: bool = False,
                 domain: Domain | None = None) -> None:
        if bound not in _BOUNDS:
            raise ParameterError(f"bound must be one of {list(_BOUNDS)}; got {bound!r}.")
        self.ir, self.network = _read(network)
        self.bound = bound
        self.n_samples = n_samples
        self.split_depth = split_depth
        self.relu_split = relu_split
        self.complete = complete
        self.domain = domain

    @property
    def n_inputs(self) -> int:
        """Features a box has."""
        return self.ir.n_inputs

    @property
    def n_outputs(self) -> int:
        """Logits (or regression outputs) of the network."""
        return self.ir.n_outputs

    # -- classification claims ---------------------------------------------------------
    def prove(self, lower, upper, cls, *, search: bool = True,
              random_state: Any = None) -> dict[str, Any]:
        """Verify "x in box b => class cls[b]" for many boxes at once.

        Parameters
        ----------
        lower, upper : array-like of shape (n_boxes, n_inputs)
        cls : array-like of int of shape (n_boxes,) (or one int for every box)
            Class index (into the logits; 0/1 for a sigmoid head) each box claims.
        search : bool, default=True
            Look for counterexamples for boxes the bound does not prove.
        random_state : int, Generator or None
            Seeds the counterexample search.

        Returns
        -------
        dict with ``status`` (n_boxes,) of str, ``counterexample`` (n_boxes, n_inputs) (NaN
        where none), ``certified_margin`` (n_boxes,) of the whole box (a box proven in parts
        keeps its whole-box margin, which is <= 0), ``coef`` (n_boxes, m, n_inputs) (the
        linear bound's input coefficients) or None.

        Raises
        ------
        DataError
            Empty (inverted), non-finite or wrongly shaped boxes; not one class per box.
        ParameterError
            A class index the network does not have.
        """
        ir = self.ir
        lo, hi = _check_box(lower, upper, ir.n_inputs)
        cls = _per_box(cls, lo.shape[0])
        certified, res = self._certify(lo, hi, cls)
        status = np.where(certified > 0, "proven", "unknown").astype(object)
        cex = np.full(lo.shape, np.nan)
        todo = np.flatnonzero(certified <= 0)
        if search and todo.size:
            coef = None if res["coef"] is None else res["coef"][todo]
            pts, found = self._search(lo[todo], hi[todo], cls[todo], coef, random_state)
            status[todo[found]] = "refuted"
            cex[todo[found]] = pts[found]
        todo = np.flatnonzero(status == "unknown")
        if self.relu_split and todo.size and self.bound != "interval":
            from nnrules.verify.relu_split import applicable, prove_by_relu_splitting

            if applicable(ir):
                won = prove_by_relu_splitting(ir, lo[todo], hi[todo], class_spec(ir, cls[todo]),
                                              depth=self.relu_split)
                status[todo[won]] = "proven"
        todo = np.flatnonzero(status == "unknown")
        if self.split_depth and todo.size:
            from nnrules.verify.input_split import prove_by_splitting

            def certify(a, b, c):
                margin, r = self._certify(a, b, c)
                return margin, r["coef"]

            coef = None if res["coef"] is None else res["coef"][todo]
            won = prove_by_splitting(certify, lo[todo], hi[todo], cls[todo], coef,
                                     depth=self.split_depth)
            status[todo[won]] = "proven"
        todo = np.flatnonzero(status == "unknown")
        if self.complete and todo.size:
            self._settle(lo[todo], hi[todo], cls[todo], todo, status, cex)
        return {"status": status.astype(str), "counterexample": cex,
                "certified_margin": certified, "coef": res["coef"]}

    def prove_box(self, lower, upper, cls: int, *, random_state: Any = None) -> Verdict:
        """Verify one claim "x in [lower, upper] => class cls" (see :meth:`prove`).

        Parameters
        ----------
        lower, upper : array-like of shape (n_inputs,)
            Closed bounds of the box (lower <= upper, finite).
        cls : int
            Class index into the logits (for a sigmoid head: 1 = positive, 0 = negative).
        random_state : int, Generator or None

        Returns
        -------
        Verdict
        """
        res = self.prove(np.reshape(lower, (1, -1)), np.reshape(upper, (1, -1)), [cls],
                         random_state=random_state)
        status = str(res["status"][0])
        cex = res["counterexample"][0] if status == "refuted" else None
        return Verdict(status, cex, float(res["certified_margin"][0]))

    def find_counterexample(self, lower, upper, cls, *, random_state: Any = None) -> np.ndarray:
        """Points where the network (confirmed by onnxruntime) answers another class.

        The search alone, with no proof: ``(n_boxes, n_inputs)``, NaN rows where none was
        found (which proves nothing).
        """
        lo, hi = _check_box(lower, upper, self.ir.n_inputs)
        cls = _per_box(cls, lo.shape[0])
        class_spec(self.ir, cls)  # refuses unknown classes
        out = np.full(lo.shape, np.nan)
        pts, found = self._search(lo, hi, cls, None, random_state)
        out[found] = pts[found]
        return out

    def margins(self, X, cls) -> tuple[np.ndarray, np.ndarray]:
        """Float64 margins ``logit_c - max_j logit_j`` at rows of X and their input gradients.

        Returns
        -------
        margin : ndarray of shape (n_rows,)
        gradient : ndarray of shape (n_rows, n_inputs)
        """
        return margin_gradient(self.ir, np.asarray(X, dtype=np.float64),
                               np.asarray(cls, dtype=np.int64))

    # -- output ranges (regression) ------------------------------------------------------
    def output_range(self, lower, upper, *, complete: bool | None = None,
                     bound: BoundMethod | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Sound range of every output over each box, float32 runtime error included.

        Parameters
        ----------
        lower, upper : array-like of shape (n_boxes, n_inputs)
        complete : bool or None
            Exact ranges (up to the margins) by mixed-integer programming for ReLU / LeakyReLU
            networks; ignored for others. None: the verifier's ``complete``.
        bound : {"interval", "linear", "alpha"} or None
            Bound engine where the range is not exact. None: the verifier's ``bound``.

        Returns
        -------
        lo, hi : ndarray of shape (n_boxes, n_outputs)
            For every x in box b, output k lies in ``[lo[b, k], hi[b, k]]`` (before any head;
            regression networks have none).
        """
        ir = self.ir
        lo, hi = _check_box(lower, upper, ir.n_inputs)
        if self.complete if complete is None else complete:
            from nnrules.verify.milp import applicable, output_range_by_milp

            if applicable(ir):
                return output_range_by_milp(ir, lo, hi)
        n = ir.n_outputs
        eye = np.eye(n)
        spec = np.broadcast_to(np.concatenate([eye, -eye])[None], (lo.shape[0], 2 * n, n))
        res = spec_lower_bounds(ir, lo, hi, spec, method=bound or self.bound)
        slack = res["error"] + FLOAT64_SLACK * (1.0 + res["scale"])[:, None]
        low = res["bound"][:, :n] - slack[:, :n]
        high = -res["bound"][:, n:] + slack[:, n:]
        return low, high

    def prove_range(self, lower, upper, width: float) -> dict[str, Any]:
        """Verify "x in box b => output 0 stays in an interval at most ``width`` wide".

        The verifier's bound first; with ``complete``, boxes still too wide get exact ranges
        (mixed-integer programming; the linear bound where that does not apply).

        Returns
        -------
        dict with ``status`` (n_boxes,) of "proven" / "unknown" and ``coef`` None.
        """
        lo, hi = _check_box(lower, upper, self.ir.n_inputs)
        out_lo, out_hi = self.output_range(lo, hi, complete=False)
        ok = (out_hi[:, 0] - out_lo[:, 0]) <= width
        if self.complete and not ok.all():
            wide = np.flatnonzero(~ok)
            e_lo, e_hi = self.output_range(lo[wide], hi[wide], complete=True, bound="linear")
            ok[wide] = (e_hi[:, 0] - e_lo[:, 0]) <= width
        return {"status": np.where(ok, "proven", "unknown"), "coef": None}

    # -- internals -------------------------------------------------------------------------
    def _certify(self, lo: np.ndarray, hi: np.ndarray, cls: np.ndarray):
        """Certified margin of each box (positive = proven) and the bound engine's result."""
        ir = self.ir
        res = spec_lower_bounds(ir, lo, hi, class_spec(ir, cls), method=self.bound)
        slack = HEAD_MARGIN + (4 * U32 + FLOAT64_SLACK) * (1.0 + res["scale"])
        return (res["bound"] - res["error"]).min(axis=1) - slack, res

    def _project(self, lo: np.ndarray, hi: np.ndarray):
        """Points -> valid rows of their boxes (None without a domain)."""
        if self.domain is None:
            return None
        dom = self.domain

        def project(P, owner):
            return dom.project(P, lo[owner], hi[owner])

        return project

    def _search(self, lo, hi, cls, coef, random_state):
        """(points (n, d), confirmed (n,) bool): the search, confirmed on the network."""
        rng = check_random_state(random_state)
        pts, margin = attack(self.ir, lo, hi, cls, coef, rng, self.n_samples,
                             self._project(lo, hi))
        found = np.zeros(len(lo), dtype=bool)
        neg = np.flatnonzero(margin < 0)
        if neg.size:
            found[neg] = confirm(self.ir, self.network, pts[neg], cls[neg])
        return pts, found

    def _settle(self, lo, hi, cls, todo, status, cex) -> None:
        """Mixed-integer programming for boxes ``todo`` of the call (updates status / cex)."""
        from nnrules.verify.milp import applicable, settle_by_milp

        ir = self.ir
        if not applicable(ir):
            return
        won, cand = settle_by_milp(ir, lo, hi, class_spec(ir, cls))
        status[todo[won]] = "proven"
        has = np.flatnonzero(~np.isnan(cand[:, 0]))
        if has.size == 0:
            return
        pts = cand[has]
        project = self._project(lo, hi)
        if project is not None:
            pts = project(pts, has)
        ok = confirm(ir, self.network, pts, cls[has])
        status[todo[has[ok]]] = "refuted"
        cex[todo[has[ok]]] = pts[ok]
