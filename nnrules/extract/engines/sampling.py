"""Query generation: rows the network could really meet, conditioned on a tree node's path.

Pedagogical methods (``trepan``, ``tree``, ``additive``, ``via``) label generated rows with the
network to learn where real data is thin. Those rows must lie on the data manifold: a query with
two hot columns in one one-hot group, a fractional age or a value far outside the observed range
asks the network about inputs it was never trained on, and learning its answers there makes
fidelity on real data worse (on a MONK's network, 20,000 independent-marginal queries lowered
CART's fidelity from 0.93 to 0.70).

Every query respects the ``FeatureSchema``:

- a one-hot group is sampled as one unit, so exactly one of its columns is 1;
- integer, binary and categorical features take only whole values of their observed range;
- every value lies within the feature's observed bounds.

Data models (``method``)
------------------------
``"perturb"`` (default)
    Start from real rows inside the node (rows that satisfy every constraint; failing that, the
    rows inside the node's box; failing that, all rows) and re-draw each feature unit from its
    marginal with probability ``p_change``; continuous features are also jittered by their
    kernel bandwidth. Keeps most of the dependence between features.
``"kde"``
    A product-kernel density estimate of the joint data: a random real row plus Gaussian noise
    on continuous features, with each discrete unit re-drawn from its marginal with probability
    ``p_change``; units that leave the node's box are re-drawn from the box-restricted marginal.
``"marginal"``
    Craven & Shavlik's model: every unit drawn independently from its marginal (kernel-smoothed
    for continuous features) restricted to the node's box. Ignores dependence; use with care.

Constraints
-----------
A node's path is a sequence of ``(test, holds)`` pairs, ``test`` a ``Condition`` or ``MofN``
(``nnrules.surrogates.rules``) and ``holds`` whether rows at the node satisfy it. Conditions
narrow each unit's allowed values (the node's *box*), which the samplers respect by construction.
M-of-n constraints are then met by repair: a row with too few satisfied conditions has randomly
chosen unsatisfied ones made true (the unit re-drawn from the marginal restricted to the
condition's region inside the box), a row with too many has satisfied ones made false; repair
rounds repeat, and a final check keeps only rows that satisfy the whole path. ``sample`` returns
fewer than ``n`` rows (possibly none) when the path leaves almost no room.

Everything is vectorised over rows and seeded: the same seed and inputs give identical arrays.

Examples
--------
>>> import numpy as np
>>> from nnrules.schema import FeatureSchema
>>> X = np.array([[1, 0, 2.5], [0, 1, 3.0], [1, 0, 4.0]])
>>> schema = FeatureSchema.infer(X, ["c_a", "c_b", "size"])
>>> Q = QuerySampler(schema, X, random_state=0).sample(5)
>>> Q.shape, bool(np.all(Q[:, :2].sum(axis=1) == 1))
((5, 3), True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nnrules._validation import check_random_state
from nnrules.exceptions import DataError, ParameterError

__all__ = ["METHODS", "QuerySampler", "evaluate_test", "sample_queries", "satisfies"]

METHODS = ("perturb", "kde", "marginal")
# Integer features with more distinct values than this are sampled as rounded continuous ones.
_MAX_DISCRETE = 1024
_REPAIR_ROUNDS = 6
_DRAW_ROUNDS = 4


# -- evaluating tests ---------------------------------------------------------------------
def _is_mofn(test: Any) -> bool:
    return hasattr(test, "m") and hasattr(test, "conditions")


def _condition_mask(feature: int, op: str, value: float, X: np.ndarray) -> np.ndarray:
    col = X[:, feature]
    if op == "<=":
        return col <= value
    if op == ">":
        return col > value
    if op == "==":
        return col == value
    if op == "!=":
        return col != value
    raise ParameterError(f"Unknown condition operator {op!r}; valid operators are <=, >, ==, !=.")


def evaluate_test(test: Any, X: np.ndarray) -> np.ndarray:
    """Where a ``Condition`` or ``MofN`` holds.

    Parameters
    ----------
    test : Condition or MofN
    X : ndarray of shape (n, n_features)

    Returns
    -------
    ndarray of shape (n,), bool
    """
    X = np.asarray(X, dtype=np.float64)
    if _is_mofn(test):
        count = np.zeros(X.shape[0], dtype=np.int64)
        for c in test.conditions:
            count += _condition_mask(c.feature, c.op, c.value, X)
        return count >= test.m
    return _condition_mask(test.feature, test.op, test.value, X)


def satisfies(constraints: Sequence[tuple[Any, bool]], X: np.ndarray) -> np.ndarray:
    """Rows that satisfy a whole path of ``(test, holds)`` pairs; shape (n,), bool."""
    X = np.asarray(X, dtype=np.float64)
    ok = np.ones(X.shape[0], dtype=bool)
    for test, holds in constraints:
        ok &= evaluate_test(test, X) == bool(holds)
    return ok


# -- feature units -------------------------------------------------------------------------
#: Values in all numeric columns from which the data model sorts them two at a time.
_PARALLEL_SORT_FROM = 2_000_000


@dataclass(frozen=True)
class _Unit:
    """One independently sampled piece of a row: a column, or a whole one-hot group.

    ``kind`` is "numeric" (continuous, or integer with a wide range: ``integer`` says to round),
    "discrete" (binary / categorical / narrow integer: ``values`` is the domain) or "group"
    (one-hot: the domain is the group's columns). ``probs`` is the marginal over the domain;
    ``observed`` the sorted observed values of a numeric unit.
    """

    kind: str
    columns: tuple[int, ...]
    lower: float
    upper: float
    values: np.ndarray | None = None
    probs: np.ndarray | None = None
    observed: np.ndarray | None = None
    bandwidth: float = 0.0
    integer: bool = False


def _silverman(x: np.ndarray, ordered: np.ndarray | None = None, *,
               std: float | None = None) -> float:
    """Silverman's rule-of-thumb bandwidth for a 1-D sample (0 for a constant column).

    ``ordered`` is ``x`` sorted, when the caller has it: the quartiles are read from it (the
    same order statistics, so the same values) instead of partitioning ``x`` again. ``std`` is
    ``np.std`` of ``x`` in its data order, when the caller has it (a sum in another order can
    differ in the last bit).
    """
    n = x.size
    std = float(np.std(x)) if std is None else std
    q75, q25 = np.percentile(x if ordered is None else ordered, [75, 25])
    spread = min(std, (q75 - q25) / 1.34) if q75 > q25 else std
    return 0.9 * spread * n ** (-0.2)


def _build_units(schema: Any, X: np.ndarray, bandwidth: float) -> list[_Unit]:
    units: list[_Unit] = []
    pending: list[tuple] = []  # numeric units waiting for their sorted column
    seen_groups: set[str] = set()
    for j, f in enumerate(schema.features):
        if f.kind == "onehot":
            if f.group in seen_groups:
                continue
            seen_groups.add(f.group)
            cols = tuple(schema.groups[f.group])
            counts = X[:, list(cols)].sum(axis=0)
            units.append(_Unit("group", cols, 0.0, 1.0, probs=counts / counts.sum()))
            continue
        col = X[:, j]
        lower = max(float(f.lower), float(col.min())) if np.isfinite(f.lower) else float(col.min())
        upper = min(float(f.upper), float(col.max())) if np.isfinite(f.upper) else float(col.max())
        if f.kind in ("continuous", "integer") and not (
                f.kind == "integer" and upper - lower + 1 <= _MAX_DISCRETE):
            # One contiguous copy of the column: the std reads it in data order (the same sum,
            # so the same bits), then it is sorted in place (quartiles and observed values).
            ordered = np.array(col, dtype=np.float64, order="C", copy=True)
            pending.append((len(units), j, lower, upper, ordered, float(np.std(ordered)),
                            f.kind == "integer"))
            units.append(None)  # type: ignore[arg-type]  # made below, once sorted
            continue
        if f.kind == "binary":
            domain = np.array([0.0, 1.0])
        elif f.kind == "categorical":
            domain = np.arange(len(f.categories), dtype=np.float64)
        elif f.kind == "integer" and upper - lower + 1 <= _MAX_DISCRETE:
            domain = np.arange(np.ceil(lower), np.floor(upper) + 1)
        else:
            units.append(
                _Unit("numeric", (j,), lower, upper, observed=np.sort(col),
                      bandwidth=bandwidth * _silverman(col), integer=f.kind == "integer")
            )
            continue
        counts = (col[:, None] == domain[None, :]).sum(axis=0).astype(np.float64)
        units.append(
            _Unit("discrete", (j,), lower, upper, values=domain, probs=counts / counts.sum())
        )
    _sort_columns([p[4] for p in pending])
    for at, j, lower, upper, ordered, std, integer in pending:
        units[at] = _Unit("numeric", (j,), lower, upper, observed=ordered,
                          bandwidth=bandwidth * _silverman(ordered, ordered, std=std),
                          integer=integer)
    return units


def _sort_columns(columns: list[np.ndarray]) -> None:
    """Sort each array in place; two at a time on large data (numpy's sort releases the GIL:
    on a 1M x 20 table this halves the ~1 s the sampler's data model spent sorting). Sorting
    is exact, so the result is the same whatever the order the threads finish in."""
    if sum(c.size for c in columns) < _PARALLEL_SORT_FROM or len(columns) < 2:
        for c in columns:
            c.sort()
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(np.ndarray.sort, columns))


# -- regions: what a unit may take ---------------------------------------------------------
# numeric region: (lo, hi) meaning lo < x <= hi; discrete / group region: bool mask over domain.
def _full_region(unit: _Unit) -> Any:
    if unit.kind == "numeric":
        return (np.nextafter(unit.lower, -np.inf), unit.upper)
    size = len(unit.columns) if unit.kind == "group" else unit.values.size
    return np.ones(size, dtype=bool)


def _condition_region(unit: _Unit, cond: Any, holds: bool) -> Any:
    """The unit values where ``cond`` evaluates to ``holds``."""
    if unit.kind == "numeric":
        v = float(cond.value)
        if cond.op in ("<=", ">"):
            below = (cond.op == "<=") == holds
            return (-np.inf, v) if below else (v, np.inf)
        if (cond.op == "==") == holds:
            return (np.nextafter(v, -np.inf), v)
        return (-np.inf, np.inf)  # "x != v" excludes a single point: checked after drawing
    if unit.kind == "group":
        dom = (np.asarray(unit.columns) == cond.feature).astype(np.float64)
    else:
        dom = unit.values
    mask = _condition_mask(0, cond.op, float(cond.value), dom[:, None])
    return mask if holds else ~mask


def _intersect(unit: _Unit, a: Any, b: Any) -> Any:
    if unit.kind == "numeric":
        return (max(a[0], b[0]), min(a[1], b[1]))
    return a & b


def _is_empty(unit: _Unit, region: Any) -> bool:
    if unit.kind != "numeric":
        return not bool(np.any(region))
    lo, hi = region
    if unit.integer:
        return np.floor(lo) + 1 > np.floor(hi)
    return not lo < hi


class QuerySampler:
    """Draws schema-respecting rows from a model of the data, conditioned on a node's path.

    Parameters
    ----------
    schema : FeatureSchema
        Kinds, one-hot groups and bounds of the columns.
    X : ndarray of shape (n_samples, n_features)
        Real rows (the extraction data); must obey ``schema`` (``schema.validate``).
    method : {"perturb", "kde", "marginal"}, default="perturb"
        The data model; see the module docstring.
    p_change : float in [0, 1], default=0.1
        Probability that a unit of a base row is re-drawn ("perturb", "kde").
    bandwidth : float >= 0, default=0.5
        Multiplier of Silverman's bandwidth for continuous features (0: no smoothing).
    random_state : int, Generator or None, default=None
        Seed; None means seed 0.
    validate : bool, default=True
        Check ``X`` against ``schema`` (False when the caller already has).

    Raises
    ------
    SchemaError
        ``X`` contradicts the schema (e.g. two hot columns in a one-hot group).
    DataError
        ``X`` is empty or not finite.
    ParameterError
        An unknown method or an out-of-range ``p_change`` / ``bandwidth``.
    """

    def __init__(
        self,
        schema: Any,
        X: Any,
        *,
        method: str = "perturb",
        p_change: float = 0.1,
        bandwidth: float = 0.5,
        random_state: Any = None,
        validate: bool = True,
    ):
        if method not in METHODS:
            raise ParameterError(
                f"Unknown query method {method!r}; valid methods are {list(METHODS)}."
            )
        if not 0.0 <= float(p_change) <= 1.0:
            raise ParameterError(f"p_change must lie in [0, 1]; got {p_change!r}.")
        if not float(bandwidth) >= 0.0:
            raise ParameterError(f"bandwidth must be a number >= 0; got {bandwidth!r}.")
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] == 0:
            raise DataError(
                f"QuerySampler needs a non-empty 2-D array of real rows; got shape {X.shape}."
            )
        if not np.all(np.isfinite(X)):
            raise DataError("QuerySampler got NaN or inf in its rows; drop or impute them first.")
        if validate:
            schema.validate(X)
        self.schema = schema
        self.X = X
        self.method = method
        self.p_change = float(p_change)
        self.bandwidth = float(bandwidth)
        self.rng = check_random_state(random_state)
        self.units = _build_units(schema, X, self.bandwidth)
        self._unit_of = {}
        for u, unit in enumerate(self.units):
            for c in unit.columns:
                self._unit_of[c] = u

    # -- public ------------------------------------------------------------------------
    def sibling(self, method: str, random_state: Any = None) -> QuerySampler:
        """A sampler of another ``method`` on the same rows and schema, with its own seed.

        It shares this one's data model (bounds, sorted observed values, bandwidths, marginals:
        they depend on ``X`` alone), so nothing is computed from ``X`` again; it draws exactly
        what ``QuerySampler(schema, X, method=method, random_state=random_state,
        validate=False)`` with this one's ``p_change`` and ``bandwidth`` would.
        """
        if method not in METHODS:
            raise ParameterError(
                f"Unknown query method {method!r}; valid methods are {list(METHODS)}."
            )
        other = object.__new__(QuerySampler)
        other.__dict__.update(self.__dict__)
        other.method = method
        other.rng = check_random_state(random_state)
        return other

    def sample(self, n: int, constraints: Sequence[tuple[Any, bool]] = ()) -> np.ndarray:
        """Draw up to ``n`` rows that satisfy every ``(test, holds)`` constraint.

        Parameters
        ----------
        n : int >= 0
        constraints : sequence of (Condition or MofN, bool)
            The node's path; ``holds`` says whether the test is true at the node.

        Returns
        -------
        ndarray of shape (k, n_features), float64, k <= n
            ``k < n`` only when the constraints leave almost no room (``k = 0`` when they are
            contradictory within the observed bounds).
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ParameterError(f"The number of queries must be an int >= 0; got {n!r}.")
        constraints = [(t, bool(h)) for t, h in constraints]
        d = self.X.shape[1]
        box = self._box(constraints)
        if n == 0 or box is None:
            return np.empty((0, d))
        mofns = [(t, h) for t, h in constraints if _is_mofn(t)]
        out, total = [], 0
        for _ in range(_DRAW_ROUNDS):
            Q = self._draw(n, box, constraints)
            if mofns:
                Q = self._repair(Q, box, mofns)
            Q = Q[satisfies(constraints, Q)]
            out.append(Q)
            total += Q.shape[0]
            if total >= n:
                break
        return np.vstack(out)[:n]

    # -- internals ---------------------------------------------------------------------
    def _box(self, constraints: list[tuple[Any, bool]]) -> list[Any] | None:
        """Per-unit regions allowed by the plain conditions; None when one is empty."""
        box = [_full_region(u) for u in self.units]
        for test, holds in constraints:
            if _is_mofn(test):
                if len(test.conditions) != 1 or test.m != 1:
                    continue
                test = test.conditions[0]
            u = self._unit(test.feature)
            region = _condition_region(self.units[u], test, holds)
            box[u] = _intersect(self.units[u], box[u], region)
        if any(_is_empty(unit, r) for unit, r in zip(self.units, box)):
            return None
        return box

    def _unit(self, feature: int) -> int:
        if feature not in self._unit_of:
            raise ParameterError(
                f"A constraint names feature {feature!r}, but the schema has features "
                f"0..{self.X.shape[1] - 1}."
            )
        return self._unit_of[feature]

    def _draw_unit(self, u: int, region: Any, size: int) -> np.ndarray:
        """``size`` values of unit ``u`` from its marginal restricted to ``region``.

        Numeric units give values; discrete units give domain values; groups give the index of
        the hot column within the group.
        """
        unit, rng = self.units[u], self.rng
        if unit.kind != "numeric":
            p = np.where(region, unit.probs, 0.0)
            p = p / p.sum() if p.sum() > 0 else region / region.sum()
            idx = np.searchsorted(np.cumsum(p), rng.random(size) * (1 - 1e-12), side="right")
            idx = np.minimum(idx, p.size - 1)
            return idx if unit.kind == "group" else unit.values[idx]
        lo, hi = max(region[0], np.nextafter(unit.lower, -np.inf)), min(region[1], unit.upper)
        obs = unit.observed
        start, stop = np.searchsorted(obs, lo, side="right"), np.searchsorted(obs, hi, "right")
        if stop > start:
            x = obs[rng.integers(start, stop, size=size)]
            x = x + rng.normal(0.0, 1.0, size=size) * unit.bandwidth
        else:
            x = np.full(size, np.inf)
        return self._fit_into(unit, x, lo, hi)

    def _fit_into(self, unit: _Unit, x: np.ndarray, lo: float, hi: float) -> np.ndarray:
        """Reflect values at the region's edges; values still outside are drawn uniformly."""
        x = np.where(x > hi, 2 * hi - x, x)
        x = np.where(x <= lo, 2 * lo - x, x)
        if unit.integer:
            x = np.round(x)
            ilo, ihi = np.floor(lo) + 1, np.floor(hi)
            bad = (x < ilo) | (x > ihi)
            if np.any(bad):
                x[bad] = self.rng.integers(int(ilo), int(ihi) + 1, size=int(bad.sum()))
            return x
        bad = ~((x > lo) & (x <= hi))
        if np.any(bad):
            a = max(lo, unit.lower)
            x[bad] = a + (hi - a) * (1.0 - self.rng.random(int(bad.sum())))  # in (a, hi]
            x[bad] = np.clip(x[bad], np.nextafter(lo, np.inf), hi)
        return x

    def _write(self, Q: np.ndarray, rows: np.ndarray, u: int, values: np.ndarray) -> None:
        unit = self.units[u]
        if unit.kind == "group":
            cols = np.asarray(unit.columns)
            Q[np.ix_(rows, cols)] = 0.0
            Q[rows, cols[values]] = 1.0
        else:
            Q[rows, unit.columns[0]] = values

    def _inside(self, u: int, region: Any, Q: np.ndarray) -> np.ndarray:
        unit = self.units[u]
        if unit.kind == "numeric":
            x = Q[:, unit.columns[0]]
            return (x > region[0]) & (x <= region[1])
        if unit.kind == "group":
            hot = np.argmax(Q[:, list(unit.columns)], axis=1)
            return region[hot]
        pos = np.searchsorted(unit.values, Q[:, unit.columns[0]])
        pos = np.minimum(pos, unit.values.size - 1)
        return region[pos] & (unit.values[pos] == Q[:, unit.columns[0]])

    def _draw(self, n: int, box: list[Any], constraints: list[tuple[Any, bool]]) -> np.ndarray:
        rng = self.rng
        if self.method == "marginal":
            Q = np.zeros((n, self.X.shape[1]))
            rows = np.arange(n)
            for u, region in enumerate(box):
                self._write(Q, rows, u, self._draw_unit(u, region, n))
            return Q
        pool = self.X
        if self.method == "perturb":
            # The box test only when no row satisfies the path (a generator: lazily).
            for ok in (f() for f in (lambda: satisfies(constraints, self.X),
                                     lambda: self._in_box(self.X, box))):
                if np.any(ok):
                    # Every row qualifies (no constraints): X itself, not a copy of it.
                    pool = self.X if ok.all() else self.X[ok]
                    break
        Q = pool[rng.integers(0, pool.shape[0], size=n)].copy()
        for u, unit in enumerate(self.units):
            if unit.kind == "numeric" and unit.bandwidth > 0:
                col = unit.columns[0]
                x = Q[:, col] + rng.normal(0.0, 1.0, size=n) * unit.bandwidth
                Q[:, col] = self._fit_into(unit, x, max(box[u][0], np.nextafter(
                    unit.lower, -np.inf)), min(box[u][1], unit.upper))
            redraw = (rng.random(n) < self.p_change) | ~self._inside(u, box[u], Q)
            rows = np.flatnonzero(redraw)
            if rows.size:
                self._write(Q, rows, u, self._draw_unit(u, box[u], rows.size))
        return Q

    def _in_box(self, X: np.ndarray, box: list[Any]) -> np.ndarray:
        ok = np.ones(X.shape[0], dtype=bool)
        for u, region in enumerate(box):
            ok &= self._inside(u, region, X)
        return ok

    def _repair(self, Q: np.ndarray, box: list[Any], mofns: list[tuple[Any, bool]]) -> np.ndarray:
        """Make m-of-n constraints hold by re-drawing the units of chosen conditions."""
        rng = self.rng
        for _ in range(_REPAIR_ROUNDS):
            changed = False
            for test, holds in mofns:
                conds = list(test.conditions)
                units = [self._unit(c.feature) for c in conds]
                sat = np.column_stack([evaluate_test(c, Q) for c in conds])
                count = sat.sum(axis=1)
                # Rows needing more true conditions flip false ones; the others flip true ones.
                need = np.where(holds, test.m - count, count - test.m + 1)
                need = np.maximum(need, 0)
                if not np.any(need):
                    continue
                changed = True
                targets = []
                for c, u in zip(conds, units):
                    region = _intersect(self.units[u], box[u],
                                        _condition_region(self.units[u], c, holds))
                    targets.append(None if _is_empty(self.units[u], region) else region)
                can = np.array([t is not None for t in targets])
                eligible = (sat != holds) & can[None, :]
                keys = np.where(eligible, rng.random(sat.shape), 2.0)
                rank = np.argsort(np.argsort(keys, axis=1, kind="stable"), axis=1, kind="stable")
                pick = eligible & (rank < need[:, None])
                for k, (u, region) in enumerate(zip(units, targets)):
                    rows = np.flatnonzero(pick[:, k])
                    if rows.size:
                        self._write(Q, rows, u, self._draw_unit(u, region, rows.size))
            if not changed:
                break
        return Q


def sample_queries(
    schema: Any,
    X: Any,
    n: int,
    *,
    random_state: Any = None,
    method: str = "perturb",
    constraints: Sequence[tuple[Any, bool]] = (),
) -> np.ndarray:
    """Draw ``n`` schema-respecting query rows modelled on ``X`` (one-shot ``QuerySampler``).

    Parameters
    ----------
    schema : FeatureSchema
    X : ndarray of shape (n_samples, n_features)
        Real rows.
    n : int >= 0
        Number of queries.
    random_state : int, Generator or None, default=None
    method : {"perturb", "kde", "marginal"}, default="perturb"
    constraints : sequence of (Condition or MofN, bool), default=()

    Returns
    -------
    ndarray of shape (k, n_features), k <= n (k = n without constraints)
    """
    sampler = QuerySampler(schema, X, method=method, random_state=random_state)
    return sampler.sample(n, constraints)
