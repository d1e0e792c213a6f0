"""Global additive model distilled from the network (``additive``).

Tan, Caruana, Hooker, Koch & Gordo (2018), "Learning global additive explanations for neural
nets using model distillation": fit ``F(x) = b + Σ_i h_i(x_i) [+ Σ h_ij(x_i, x_j)]`` to the
network's logits (classification) or output (regression) on the extraction rows plus
schema-respecting queries (``nnrules.extract.engines.sampling``).

Shape functions
---------------
* continuous features: cubic B-splines (``degree``) on ``n_knots`` knots at the data's
  quantiles, with a second-difference penalty (P-splines, Eilers & Marx 1996);
* integer features: one step per value (at most ``max_steps``, quantile-binned beyond that),
  with a first-difference penalty; columns with few distinct values are treated the same way;
* binary features, category codes and one-hot groups: one value per category (a tiny ridge
  only makes the fit unique).

All terms are fitted jointly by penalised least squares; one smoothing strength shared by all
terms is chosen by generalised cross-validation (GCV) over a grid, computed for every grid
value from one eigen-decomposition. Each ``h`` is then centred to mean 0 on the extraction rows.

Classification targets: the logit of the second class against the first (binary: ``z1 - z0``
for softmax heads, the logit itself for sigmoid heads) or, for more classes, the logits centred
per row (softmax is unchanged by that shift); a black box without scores gives ±1 indicators.

Pairs (``n_pairs > 0``): the residuals of the main-effect model are binned on a coarse grid for
every pair of the most important features (FAST, Lou et al. 2013); the pair whose cell means
explain most of the residual is added as a tensor product of linear splines (``pair_knots``
knots per axis), the model is refitted jointly, and the next pair is chosen from the new
residuals. ``pair_gains_`` records how much R² each pair added.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any, ClassVar

import numpy as np

from nnrules._validation import RANDOM_STATE, Interval, Options, check_random_state
from nnrules.exceptions import DataError, ParameterError, UnsupportedModelError
from nnrules.extract.base import Extractor
from nnrules.extract.engines.additive_basis import (  # the shape functions' bases
    _Block,
    _density,
    _onehot_block,
    _spline_block,
    _steps_block,
    _unit_name,
    _units,
)

__all__ = ["AdditiveExtractor"]

_LAMBDAS = np.logspace(-7, 3, 21)  # relative smoothing strengths tried by GCV
_RIDGE = 1e-8                      # relative ridge that makes the least-squares system unique
_SCREEN_BINS = 5                   # coarse bins per continuous feature when screening pairs
_MAX_PAIR_FEATURES = 16            # pairs are screened among this many most important features
_CHUNK = 16384                     # rows per block when accumulating the normal equations


class AdditiveExtractor(Extractor):
    """Generalised additive model distilled from the network's logits or output.

    Parameters
    ----------
    network : Network, callable, or object with ``predict``
        The model to explain; class scores are read with ``logits`` (networks) or
        ``predict_proba`` (other black boxes) when available.
    n_knots : int, default=16
        Knots (boundaries included) of each continuous feature's spline, at the quantiles of
        the extraction rows; a feature with fewer distinct values gets fewer.
    degree : int, default=3
        Degree of the spline pieces.
    max_steps : int, default=32
        Most steps of an integer feature's shape function.
    n_pairs : int, default=0
        Pairwise terms ``h_ij`` to add, chosen greedily from the residuals.
    pair_knots : int, default=6
        Knots per axis of a pair term (a tensor product of linear splines).
    smoothing : float or None, default=None
        Relative smoothing strength; None chooses it by generalised cross-validation.
    n_queries : int, default=2000
        Schema-respecting generated rows labelled by the network and added to the fit.
    task : {"classification", "regression"} or None, default=None
        Overrides the task the network declares.
    random_state : int, numpy.random.Generator or None, default=None
        Seeds the queries; the same seed gives the same file.

    Attributes
    ----------
    surrogate_ : AdditiveSurrogate
    smoothing_ : float
        The smoothing strength used.
    r2_ : float
        R² of the model's scores against the network's on the fitting rows (with queries).
    pair_gains_ : list of dict
        Per pair added: its name, R² before and after.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).uniform(-1, 1, size=(300, 2))
    >>> f = lambda X: np.sin(3 * X[:, 0]) + X[:, 1] ** 2
    >>> ex = AdditiveExtractor(f, task="regression", n_queries=0, random_state=0).fit(X)
    >>> bool(ex.r2_ > 0.99)
    True
    """

    method = "additive"
    family = "pedagogical"
    _parameter_constraints: ClassVar[dict] = {
        "n_knots": Interval(int, 2, None),
        "degree": Interval(int, 1, 5),
        "max_steps": Interval(int, 2, None),
        "n_pairs": Interval(int, 0, None),
        "pair_knots": Interval(int, 2, None),
        "smoothing": Interval(float, 0, None, closed="neither", allow_none=True),
        "n_queries": Interval(int, 0, None),
        "task": Options(("classification", "regression"), allow_none=True),
        "random_state": RANDOM_STATE,
    }

    def __init__(
        self,
        network,
        *,
        n_knots: int = 16,
        degree: int = 3,
        max_steps: int = 32,
        n_pairs: int = 0,
        pair_knots: int = 6,
        smoothing: float | None = None,
        n_queries: int = 2000,
        task: str | None = None,
        random_state: int | None = None,
    ):
        self.network = network
        self.n_knots = n_knots
        self.degree = degree
        self.max_steps = max_steps
        self.n_pairs = n_pairs
        self.pair_knots = pair_knots
        self.smoothing = smoothing
        self.n_queries = n_queries
        self.task = task
        self.random_state = random_state

    # -- targets -------------------------------------------------------------------------
    def _targets(self, rows: np.ndarray) -> tuple[np.ndarray, str]:
        """The scores to distil, shape (n, k), and the surrogate's output kind."""
        oracle = self.oracle_
        if oracle.task == "regression":
            y = np.asarray(oracle.predict(rows), dtype=np.float64)
            return y.reshape(rows.shape[0], -1), "value"
        labels = None
        if oracle.classes is None:  # a black box names its classes by answering
            labels = oracle.predict_index(rows)
        n_classes = len(oracle.classes)
        if n_classes < 2:
            raise DataError(
                f"The network answers only class {oracle.classes.tolist()!r} on these rows; an "
                "additive model of its classes needs rows where it predicts at least two.")
        try:
            z = oracle.logits(rows)
        except (ParameterError, UnsupportedModelError):
            idx = oracle.predict_index(rows) if labels is None else labels
            z = np.eye(n_classes)[idx]
        z = z.reshape(rows.shape[0], -1)
        if n_classes == 2:
            if z.shape[1] == 1:
                return z, "logit"
            return (z[:, 1] - z[:, 0])[:, None], "logit"
        if z.shape[1] != n_classes:
            raise UnsupportedModelError(
                f"The network gives {z.shape[1]} scores for {n_classes} classes; an additive "
                "model needs one score per class.")
        return z - z.mean(axis=1, keepdims=True), "logits"

    # -- bases ---------------------------------------------------------------------------
    def _main_block(self, kind: str, cols: tuple[int, ...], X: np.ndarray) -> _Block | None:
        """The basis of one unit's main term, or None when the unit is constant on X."""
        if kind == "onehot":
            seen = X[:, list(cols)].max(axis=0) > 0
            if seen.sum() < 2:
                return None
            return _Block(*[(v,) for v in _onehot_block(cols)])
        j = cols[0]
        values = X[:, j]
        n_unique = np.unique(values).size
        if n_unique < 2:
            return None
        if kind == "continuous" and n_unique > self.degree + 1:
            parts = _spline_block(j, values, self.n_knots, self.degree)
        else:
            ordered = kind in ("continuous", "integer") and n_unique > 2
            parts = _steps_block(j, values, self.max_steps, kind == "integer", 1 if ordered else 0)
        return _Block(*[(v,) for v in parts])

    def _pair_axis(self, kind: str, cols: tuple[int, ...], X: np.ndarray):
        if kind == "onehot":
            return _onehot_block(cols)
        values = X[:, cols[0]]
        if kind == "continuous" and np.unique(values).size > 2:
            return _spline_block(cols[0], values, self.pair_knots, 1)
        ordered = kind in ("continuous", "integer") and np.unique(values).size > 2
        return _steps_block(cols[0], values, min(self.max_steps, self.pair_knots + 2),
                            kind == "integer", 1 if ordered else 0)

    # -- the penalised fit ---------------------------------------------------------------
    def _solve(self, blocks: list[_Block], rows: np.ndarray, Y: np.ndarray):
        """Joint penalised least squares; returns (beta per block, intercept, fitted, lam)."""
        from threadpoolctl import threadpool_limits

        # Small dense systems: threaded BLAS only contends for the cores (80x slower on a
        # busy 2-core machine), one thread is fastest.
        with threadpool_limits(limits=1, user_api="blas"):
            return self._solve_serial(blocks, rows, Y)

    def _solve_serial(self, blocks: list[_Block], rows: np.ndarray, Y: np.ndarray):
        n, k = Y.shape
        sizes = [b.n_columns for b in blocks]
        p = 1 + sum(sizes)

        def design(lo: int, hi: int) -> np.ndarray:
            part = rows[lo:hi]
            return np.hstack([np.ones((part.shape[0], 1))] + [b.design(part) for b in blocks])

        # Normal equations accumulated over row chunks: memory stays O(chunk x p).
        G = np.zeros((p, p))
        BY = np.zeros((p, k))
        for lo in range(0, n, _CHUNK):
            Bc = design(lo, lo + _CHUNK)
            G += Bc.T @ Bc
            BY += Bc.T @ Y[lo:lo + _CHUNK]
        S = np.zeros((p, p))
        R = np.eye(p)
        R[0, 0] = 0.0
        start = 1
        for blk, size in zip(blocks, sizes):
            P = blk.penalty()
            tr = np.trace(P)
            if tr > 0:
                # Scale each penalty to its block's data so one strength suits every term.
                block_sq = np.trace(G[start:start + size, start:start + size])
                S[start:start + size, start:start + size] = P * (block_sq / tr)
            start += size
        scale = np.trace(G) / p
        for ridge in (_RIDGE, 1e-5, 1e-2):
            try:
                L = np.linalg.cholesky(G + ridge * scale * R)
                break
            except np.linalg.LinAlgError:  # near-duplicate columns: shrink a little harder
                continue
        else:
            raise DataError(
                f"The additive model's {p} basis columns are numerically degenerate on these "
                f"{n} rows (duplicate or constant features?); drop duplicated columns or pass "
                "a smoothing value, e.g. smoothing=1.0.")
        Linv = np.linalg.solve(L, np.eye(p))
        M = Linv @ S @ Linv.T
        lam_values, U = np.linalg.eigh((M + M.T) / 2.0)
        lam_values = np.clip(lam_values, 0.0, None)
        z = U.T @ (Linv @ BY)
        back = Linv.T @ U
        yy = float(np.sum(Y * Y))
        grid = [self.smoothing] if self.smoothing is not None else list(_LAMBDAS)
        best = None
        for lam in grid:
            shrink = 1.0 / (1.0 + lam * lam_values)
            beta = back @ (z * shrink[:, None])
            rss = max(yy - 2.0 * float(np.sum(beta * BY)) + float(np.sum(beta * (G @ beta))), 0.0)
            dof = float(np.sum(shrink))
            gcv = n * rss / max(n - dof, 1e-9) ** 2
            if best is None or gcv < best[0] - 1e-12 * abs(best[0]):
                best = (gcv, lam, beta)
        _, lam, beta = best
        fitted = np.vstack([design(lo, lo + _CHUNK) @ beta for lo in range(0, n, _CHUNK)])
        out, start = [], 1
        for size in sizes:
            out.append(beta[start:start + size])
            start += size
        return out, beta[0], fitted, float(lam)

    def _build(self, blocks, betas, intercept, X: np.ndarray):
        """Centred terms (mean 0 on X) with their spread, and the intercept."""
        from nnrules.surrogates.additive import Term

        terms = []
        intercept = np.array(intercept, dtype=np.float64)
        for blk, beta in zip(blocks, betas):
            coef = blk.coefficients(beta)
            term = Term(blk.axes, coef)
            v = term.values(X)
            mean = v.mean(axis=0)
            if len(blk.axes) == 1:
                coef[:, :, 0] -= mean[:, None]
            else:
                coef[:, :, 0, :, 0] -= mean[:, None, None]
            intercept += mean
            spread = float(np.mean((v - mean).std(axis=0)))
            terms.append(Term(blk.axes, coef, spread, tuple(_density(a, X) for a in blk.axes)))
        return terms, intercept

    # -- pairs ---------------------------------------------------------------------------
    def _screen_codes(self, kind, cols, X_rows, X):
        if kind == "onehot":
            return np.argmax(X_rows[:, list(cols)], axis=1)
        v = X_rows[:, cols[0]]
        uniq = np.unique(X[:, cols[0]])
        if uniq.size <= _SCREEN_BINS:
            cuts = (uniq[:-1] + uniq[1:]) / 2.0
        else:
            cuts = np.unique(np.quantile(X[:, cols[0]], np.linspace(0, 1, _SCREEN_BINS + 1)[1:-1]))
        return np.searchsorted(cuts, v, side="left")

    def _best_pair(self, units, candidates, chosen, rows, X, residual):
        codes = {u: self._screen_codes(*units[u], rows, X) for u in candidates}
        best = None
        for a, b in combinations(sorted(candidates), 2):
            if (a, b) in chosen:
                continue
            cell = codes[a] * (codes[b].max() + 1) + codes[b]
            counts = np.bincount(cell)
            ok = counts > 0
            gain = 0.0
            for k in range(residual.shape[1]):
                sums = np.bincount(cell, weights=residual[:, k])
                gain += float(np.sum(sums[ok] ** 2 / counts[ok]))
            if best is None or gain > best[0]:
                best = (gain, (a, b))
        return None if best is None else best[1]

    # -- fit -----------------------------------------------------------------------------
    def _fit(self, X: np.ndarray, y: np.ndarray | None):
        from nnrules.fidelity import r2_score
        from nnrules.surrogates.additive import AdditiveSurrogate

        rng = check_random_state(self.random_state)
        units = _units(self.schema_)
        if any(k == "continuous" for k, _ in units):
            minimum = self.n_knots + self.degree
            if X.shape[0] < minimum:
                raise DataError(
                    f"AdditiveExtractor needs at least {minimum} rows for splines with "
                    f"n_knots={self.n_knots} and degree={self.degree}; got {X.shape[0]} rows. "
                    "Pass more rows or lower n_knots.")
        rows = X
        if self.n_queries > 0:
            from nnrules.extract.engines.sampling import sample_queries

            rows = np.vstack([X, sample_queries(self.schema_, X, self.n_queries,
                                                random_state=rng)])
        Y, output = self._targets(rows)
        blocks = []
        for u, (kind, cols) in enumerate(units):
            blk = self._main_block(kind, cols, X)
            if blk is not None:
                blk.unit = (u,)
                blocks.append(blk)
        betas, b0, fitted, lam = self._solve(blocks, rows, Y)
        self.pair_gains_ = []
        r2 = r2_score(Y, fitted)
        if self.n_pairs > 0 and blocks:
            terms, _ = self._build(blocks, betas, np.atleast_1d(b0), X)
            ranked = sorted(range(len(blocks)), key=lambda i: (-terms[i].importance, i))
            candidates = [blocks[i].unit[0] for i in ranked[:_MAX_PAIR_FEATURES]]
            chosen: set = set()
            names = self.schema_.names
            for _ in range(self.n_pairs):
                pair = self._best_pair(units, candidates, chosen, rows, X, Y - fitted)
                if pair is None:
                    break
                chosen.add(pair)
                parts = [self._pair_axis(*units[u], X) for u in pair]
                blk = _Block(*[tuple(p[i] for p in parts) for i in range(4)], unit=pair)
                blk.constrain(X)
                blocks.append(blk)
                betas, b0, fitted, lam = self._solve(blocks, rows, Y)
                after = r2_score(Y, fitted)
                label = " x ".join(_unit_name(units[u], self.schema_, names) for u in pair)
                self.pair_gains_.append({"pair": label, "r2_before": r2, "r2_after": after})
                r2 = after
        terms, intercept = self._build(blocks, betas, np.atleast_1d(b0), X)
        self.smoothing_ = lam
        self.r2_ = r2
        classes = None if self.oracle_.classes is None else tuple(self.oracle_.classes.tolist())
        return AdditiveSurrogate(intercept, terms, output=output, classes=classes,
                                 schema=self.schema_, task=self.oracle_.task,
                                 n_features=X.shape[1])

    def _report(self, data: Any, data_name: str, label_map: Any, nonfinite: str,
                reference: np.ndarray | None, *, answers: dict | None = None):
        """The fidelity report (``report``), with R² of the scores against the network's
        logits (or output), per class, and the R² each pair term added."""
        from nnrules.fidelity import r2_score

        rep = super()._report(data, data_name, label_map, nonfinite, reference, answers=answers)
        before = self.oracle_.n_queries
        target, _ = self._targets(data.X)
        self.oracle_.n_queries = before
        scores = self.surrogate_.decision_function(data.X).reshape(target.shape)
        rep.details["r2_scores"] = r2_score(target, scores)
        if target.shape[1] > 1:
            for k, label in enumerate(self.surrogate_.classes):
                rep.details[f"r2_score_class_{label}"] = r2_score(target[:, k], scores[:, k])
        rep.details["smoothing"] = self.smoothing_
        for i, g in enumerate(self.pair_gains_, 1):
            rep.details[f"pair_{i}"] = (f"{g['pair']}: R² {g['r2_before']:.4f} -> "
                                        f"{g['r2_after']:.4f} (extraction rows and queries)")
        return rep
