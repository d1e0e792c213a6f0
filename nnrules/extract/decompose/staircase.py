"""An M-of-N test read from a linear threshold's weights (``setiono``): a staircase.

A hidden unit's cluster boundary is ``z = w . x + b > theta``. When every input it reads is
continuous, each term ``w_i x_i`` can be written as a staircase of conditions on ``x_i``, each
step worth the same amount ``delta`` of the sum: ``x_i > t_i1, x_i > t_i2, ...`` (``<=`` for a
negative weight) with ``|w_i| (t_i,k+1 - t_i,k) = delta``. The number of true conditions of all
the staircases then follows ``z / delta`` up to a rounding per input, and the boundary becomes
"at least ``m`` of these ``n`` conditions" — an M-of-N test (a points scorecard: one point per
step) built from the unit's weights instead of searched for.

* The steps span the inputs' values where they matter: the ``NEAR`` share of the rows nearest
  the boundary (smallest ``|z - theta|``), between their ``QUANTILE`` and ``1 - QUANTILE``
  quantiles; a row far from the boundary is decided right even where a staircase is flat.
* ``n_conditions`` steps are shared out in proportion to each input's span ``|w_i| (hi - lo)``;
  an input whose share rounds to no step is left out (its variation joins the rounding).
* the thresholds are rounded to a few significant digits (each moves by at most
  ``ROUNDING`` of its step), then ``m`` is the count that agrees with the boundary on most of
  the rows.

Chosen by 5-fold CV on the training rows of seven breast-cancer networks (each network's own
rows; their held-out rows were not used), setiono's fidelity with 16 conditions, median /
worst: steps spanning 2-98% of all rows 0.970 / 0.962, 5-95% 0.977 / 0.960, 5-95% of the 25%
nearest the boundary 0.977 / 0.975 (10%: 0.980 / 0.970; 50%: 0.982 / 0.972); rounding the
thresholds to 3 digits or more 0.977 / 0.972 (2 digits within a tenth of a step: 0.977 /
0.970). Without staircases (trees and the searched test): 0.970 / 0.957.

A unit that reads one-hot or binary columns too (German credit: a dozen one-hot groups beside
duration, amount and age) gets :func:`mixed_staircase_mofn`: a two-valued condition cannot be
cut into steps, so one worth ``k`` steps is listed ``k`` times in the test (each copy counts
towards ``m``; ``MofN.to_text`` writes it once, ``(x3)``). 5-fold CV on the training rows of
six German networks: median / worst 0.811 / 0.704 without it, 0.887 / 0.833 with 48 steps.

A one-hot group's value ``v`` is worth ``k_v = round((w_v - w_min) / delta)`` steps, but
exactly one value of a group holds on a row, so adding the same number to every ``k_v`` only
shifts every row's count by that number, and ``m`` (chosen afterwards on the rows) absorbs
it. The copies are therefore counted from the group's (lower) median ``k_med``, which lists
the fewest: a value above it holds ``k_v - k_med`` copies of ``group == v``, one below it
``k_med - k_v`` copies of ``group != v`` (every other value scores them, so ``v`` is that
many steps behind). On rows with one value per group this decides as counting from the
smallest does; a row where no value of a group is hot (a dropped reference category) now
counts as the median value, where it counted as the smallest. 5-fold CV on the training rows
of nine German networks (48 steps): before ``refine`` both decide the same (median / worst
0.840 / 0.803 and 0.840 / 0.804; two networks differ by 1-2 rows of 700 where clauses tied
on support are ordered by their text) with rule sets of about half the conditions, copies
counted (median 844 -> 515). ``refine`` moves ``m`` and drops copies; dropping a ``!=`` copy
raises its value, so it also adds copies to such tests
(:mod:`~nnrules.extract.decompose.refine_mofn`): refined, 0.873 / 0.821 counted from the
smallest, 0.863 / 0.817 from the median without adds, 0.881 / 0.821 with them (per network
3 higher and 6 lower than from the smallest, by at most 0.017: refine climbs from other
moves); conditions median 767 -> 486, most 5476 -> 3280.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from nnrules.extract.decompose.mofn import best_m
from nnrules.surrogates.rules import Condition, MofN

__all__ = ["mixed_staircase_mofn", "staircase_mofn"]

NEAR = 0.25  # share of the rows nearest the boundary whose values the steps span
QUANTILE = 0.05  # the steps span these quantiles of those rows' values
ROUNDING = 0.05  # a threshold is rounded for reading by at most this share of its step
MAX_STEP_VALUES = 16  # an integer column with at most this many values steps over all of them


def staircase_mofn(w: np.ndarray, bias: float, theta: float, columns: Sequence[int],
                   A: np.ndarray, *, n_conditions: int = 16) -> MofN | None:
    """The staircase M-of-N test for ``w . x + bias > theta`` on the rows ``A``.

    Parameters
    ----------
    w : ndarray of shape (n_features,)
        The unit's input weights.
    bias, theta : float
        Its bias and the boundary on its pre-activation.
    columns : sequence of int
        The (continuous) inputs the unit reads.
    A : ndarray of shape (n_samples, n_features)
        Rows that place the steps and choose ``m`` (the training rows and generated ones).
    n_conditions : int, default=16
        Steps in all (rounding per input may give one or two more or fewer).

    Returns
    -------
    MofN or None
        None when no input spans any values near the boundary or no row is on one side.
    """
    cols = np.asarray(sorted(int(c) for c in columns), dtype=np.int64)
    sides = _sides(w, bias, theta, A) if len(cols) else None
    if sides is None:
        return None
    truth, near = sides
    lo = np.quantile(near[:, cols], QUANTILE, axis=0)
    hi = np.quantile(near[:, cols], 1 - QUANTILE, axis=0)
    span = np.abs(w[cols]) * (hi - lo)
    if not np.any(span > 0):
        return None
    delta = float(span.sum()) / n_conditions
    conditions = [c for j, a, b in zip(cols.tolist(), lo.tolist(), hi.tolist())
                  for c in _numeric_steps(j, float(w[j]), a, b)(delta)]
    return _with_best_m(conditions, A, truth)


def _readable(cuts: list[float], step: float) -> list[float]:
    """``cuts`` rounded to the fewest significant digits (3 to 6) that move none of them by
    more than ``ROUNDING`` of a step (``worst_radius > 14.6``, not ``> 14.6050``)."""
    for digits in range(3, 7):
        rounded = [float(f"{t:.{digits}g}") for t in cuts]
        if all(abs(r - t) <= ROUNDING * step for r, t in zip(rounded, cuts)):
            return rounded
    return cuts


def mixed_staircase_mofn(w: np.ndarray, bias: float, theta: float, columns: Sequence[int],
                         A: np.ndarray, schema, *, n_conditions: int = 48) -> MofN | None:
    """The staircase M-of-N test for a unit that reads one-hot, binary and numeric inputs.

    Every input's share of the sum is cut into steps of one worth ``delta`` (the inputs' spans
    summed, over ``n_conditions``); a condition worth ``k`` steps is listed ``k`` times, and
    counts ``k`` times towards ``m`` (``checking_account == A14 (x3)``):

    * a one-hot group: its value ``v`` is worth ``k_v = round((w_v - w_min) / delta)``
      steps (a column input pruning or connection pruning removed weighs 0), counted from
      the group's lower median ``k_med``: ``k_v - k_med`` copies of ``group == v`` above
      it, ``k_med - k_v`` copies of ``group != v`` below it, none at it (one value holds
      per row, so the shift moves every count alike and ``m`` absorbs it);
    * a column with two values (binary, or so on the rows): ``round(|w| (hi - lo) / delta)``
      copies of one condition at their midpoint, its direction the weight's sign;
    * an integer column of at most ``MAX_STEP_VALUES`` values: equal steps over all its values
      on the rows; any other numeric column: equal steps over the ``QUANTILE`` quantiles of the
      ``NEAR`` share of the rows nearest the boundary, as :func:`staircase_mofn` does.

    Parameters
    ----------
    w, bias, theta, columns, A
        As :func:`staircase_mofn`; ``columns`` may be of any kind.
    schema : FeatureSchema
        Names each column's kind and the one-hot groups.
    n_conditions : int, default=48
        Steps the inputs' spans are cut into. The test lists about as many conditions, copies
        counted, except that each value of a one-hot group holds its own copies (a group
        spanning ``K`` steps may list up to ``K`` for each of its values, fewer about its
        median).

    Returns
    -------
    MofN or None
        None when no input moves the sum or no row is on one side.
    """
    cols = sorted(int(c) for c in columns)
    sides = _sides(w, bias, theta, A) if cols else None
    if sides is None:
        return None
    truth, near = sides
    parts: list[tuple[float, Callable[[float], list[Condition]]]] = []
    groups: set[str] = set()
    for j in cols:
        f = schema.features[j]
        if f.kind == "onehot":
            if f.group not in groups:
                groups.add(f.group)
                members = [int(c) for c in schema.groups[f.group]]
                wg = w[members]
                parts.append((float(wg.max() - wg.min()), _onehot_steps(members, wg)))
            continue
        values = np.unique(A[:, j])
        if len(values) < 2:
            continue
        if len(values) == 2:
            lo, hi = float(values[0]), float(values[1])
            parts.append((abs(float(w[j])) * (hi - lo), _binary_steps(j, float(w[j]), lo, hi)))
            continue
        whole = f.kind in ("integer", "categorical") and len(values) <= MAX_STEP_VALUES
        if whole:
            lo, hi = float(values[0]), float(values[-1])
        else:
            lo = float(np.quantile(near[:, j], QUANTILE))
            hi = float(np.quantile(near[:, j], 1 - QUANTILE))
        parts.append((abs(float(w[j])) * (hi - lo),
                      _numeric_steps(j, float(w[j]), lo, hi, whole=whole)))
    total = sum(span for span, _ in parts)
    if total <= 0:
        return None
    delta = total / n_conditions
    conditions = [c for _, steps in parts for c in steps(delta)]
    return _with_best_m(conditions, A, truth)


def _sides(w: np.ndarray, bias: float, theta: float, A: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray] | None:
    """(which rows are above the boundary, the ``NEAR`` share of rows nearest it), or None
    when there are no rows or all are on one side."""
    if len(A) == 0:
        return None
    z = A @ w + bias
    truth = z > theta
    if truth.all() or not truth.any():
        return None
    distance = np.abs(z - theta)
    return truth, A[distance <= np.quantile(distance, NEAR)]


def _with_best_m(conditions: list[Condition], A: np.ndarray, truth: np.ndarray
                 ) -> MofN | None:
    """"At least m of ``conditions``" with the ``m`` agreeing with ``truth`` on most rows."""
    if not conditions:
        return None
    test = MofN(1, tuple(conditions))
    _, m = best_m(test.count(A), truth, len(conditions))
    return MofN(m, test.conditions)


def _onehot_steps(members: list[int], wg: np.ndarray) -> Callable[[float], list[Condition]]:
    """Copies of ``group == v`` (``group != v`` below the median) worth ``w_v`` per value,
    counted from the group's median count."""
    low = float(wg.min())

    def steps(delta: float) -> list[Condition]:
        counts = [int(round((wv - low) / delta)) for wv in wg.tolist()]
        # One value holds per row, so shifting every count by the same amount shifts a
        # row's total by a constant (m absorbs it); the (lower) median lists fewest copies.
        median = sorted(counts)[(len(counts) - 1) // 2]
        out: list[Condition] = []
        for c, k in zip(members, counts):
            if k > median:
                out += [Condition(c, ">", 0.5)] * (k - median)
            else:  # "not v": every other value gains a copy, so v loses one against them
                out += [Condition(c, "<=", 0.5)] * (median - k)
        return out
    return steps


def _binary_steps(j: int, wj: float, lo: float, hi: float
                  ) -> Callable[[float], list[Condition]]:
    """Copies of one condition at the midpoint of a two-valued column."""
    def steps(delta: float) -> list[Condition]:
        k = int(round(abs(wj) * (hi - lo) / delta))
        return [Condition(j, ">" if wj > 0 else "<=", (lo + hi) / 2)] * k
    return steps


def _numeric_steps(j: int, wj: float, lo: float, hi: float, *, whole: bool = False
                   ) -> Callable[[float], list[Condition]]:
    """Equal steps between ``lo`` and ``hi``, thresholds rounded for reading; with ``whole``
    (a column of whole values) each threshold moves to the half-way point below it, which
    decides every whole value alike, so two steps between the same two values become one
    condition listed twice (``existing_credits <= 2.5 (x2)``, not ``<= 2.12, <= 2.88``)."""
    def steps(delta: float) -> list[Condition]:
        k = int(round(abs(wj) * (hi - lo) / delta))
        if k == 0:
            return []
        op = ">" if wj > 0 else "<="
        cuts = [lo + (i + 0.5) * (hi - lo) / k for i in range(k)]
        cuts = ([float(np.floor(t)) + 0.5 for t in cuts] if whole
                else _readable(cuts, (hi - lo) / k))
        return [Condition(j, op, t) for t in cuts]
    return steps
