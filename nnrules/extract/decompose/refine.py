"""Refine a decision list's thresholds on the network's labels (a RIPPER-style pass).

:func:`refine` takes any ordered :class:`~nnrules.surrogates.rules.RuleSet` and the rows it was
learned from, labelled by the network, and optimises it rule by rule, front to back: for each
rule it tries moving each threshold of a ``<=`` / ``>`` condition to one of a fixed set of cut
points of that feature (:func:`cut_points`), dropping the condition, adding one condition,
and giving the rule another class. The one change that raises the list's right answers on the
rows most is made when it gains at least ``min_gain`` rows; the rule is tried again until no
change pays, then the next rule. The default becomes the network's majority on the rows no rule
covers. Every accepted change raises the right answers, so the pass never lowers the list's
fidelity on its rows (tested); it changes predictions, so it is learning, not simplification.

Each change is scored exactly over the rows it can touch: for a condition of rule ``i`` those
are the rows where the rule's other conditions hold and no earlier rule fires; moving the
threshold covers the rows at or below a cut point (``<=``) or above it (``>``), and covering a
row is worth ``[label == class of rule i] - [label == what decides it otherwise]`` (the next
rule that fires, or the default). Every row is coded once by its bin between the cut points, so
one ``bincount`` and a cumulative sum score every cut point of a feature at once (and one
offset ``bincount`` every feature's, for an added condition).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from nnrules.exceptions import DataError, ParameterError
from nnrules.surrogates.rules import Condition, Rule, RuleSet

__all__ = ["RefineInfo", "climb", "cut_points", "recount", "refine"]


@dataclass(frozen=True)
class RefineInfo:
    """What :func:`refine` did.

    Attributes
    ----------
    right_before, right_after : int
        Rows the list decided as the network does, before and after.
    n_rows : int
    changes : int
        Accepted changes (moved, dropped or added conditions, new classes).
    rounds : int
        Passes over the list that were started.
    stopped : bool
        True when ``max_seconds`` ended the pass early (the changes made so far are kept).
    """

    right_before: int
    right_after: int
    n_rows: int
    changes: int
    rounds: int
    stopped: bool

    def to_dict(self) -> dict:
        return {"right_before": self.right_before, "right_after": self.right_after,
                "n_rows": self.n_rows, "changes": self.changes, "rounds": self.rounds,
                "stopped": self.stopped}


def cut_points(X: np.ndarray, n_cuts: int) -> list[np.ndarray]:
    """Per column, at most ``n_cuts`` candidate thresholds: every midpoint between neighbouring
    distinct values when there are at most ``n_cuts`` of them, else ``n_cuts`` evenly spaced
    quantiles of those midpoints (interpolated)."""
    out = []
    for j in range(X.shape[1]):
        u = np.unique(X[:, j])
        if len(u) < 2:
            out.append(np.empty(0))
            continue
        mids = (u[:-1] + u[1:]) / 2
        if len(mids) > n_cuts:
            mids = np.unique(np.quantile(mids, np.linspace(0, 1, n_cuts)))
        out.append(mids)
    return out


_CACHE_BYTES = 2**26  # condition masks kept for reuse (64 MB)
_OPS = {"<=": np.less_equal, ">": np.greater, "==": np.equal, "!=": np.not_equal}


class _List:
    """The decision list's state on the rows: where each rule holds (bit-packed, rules x
    row bytes, so memory is an eighth of a rows x rules matrix), the first rule that fires per
    row, the rules' classes and the default."""

    def __init__(self, clauses, outputs, default, X, labels, n_classes):
        self.X, self.labels, self.n_classes = X, labels, n_classes
        self.columns = [np.ascontiguousarray(X[:, f]) for f in range(X.shape[1])]
        self.clauses = [list(c) for c in clauses]
        self._holds: dict = {}
        self._cache_size = max(64, _CACHE_BYTES // max(1, len(X)))
        self.outputs = np.asarray(outputs, dtype=np.int64)
        n = len(self.clauses)
        self.fires = _Bits(n, len(X))
        self.first = np.full(len(X), n, dtype=np.int64)
        for i, c in enumerate(self.clauses):
            mask = self._mask(c)
            self.fires.set(i, mask)
            self.first[mask & (self.first == n)] = i
        self.default = int(default)

    def holds(self, c) -> np.ndarray:
        """Where one test holds on the rows (cached: refinement retries the same ones)."""
        m = self._holds.get(c)
        if m is None:
            if len(self._holds) >= self._cache_size:
                self._holds.clear()
            if isinstance(c, Condition):
                m = _OPS[c.op](self.columns[c.feature], c.value)
            else:
                m = c.holds(self.X)
            self._holds[c] = m
        return m

    def _mask(self, clause) -> np.ndarray:
        ok = np.ones(len(self.X), dtype=bool)
        for c in clause:
            ok &= self.holds(c)
        return ok

    def right(self) -> int:
        return int(np.sum(np.append(self.outputs, self.default)[self.first] == self.labels))

    def _after(self, i: int, rows: np.ndarray) -> np.ndarray:
        """Per row of ``rows``: the first rule after ``i`` that fires (the rule count: none)."""
        return self.fires.first_after(i, rows)

    def otherwise(self, i: int, rows: np.ndarray) -> np.ndarray:
        """Per row of ``rows`` (no rule before ``i`` decides them): is the list right on it
        without rule ``i``?"""
        nxt = self.first[rows].copy()
        at_i = nxt == i
        if at_i.any():
            nxt[at_i] = self._after(i, rows[at_i])
        pred = np.append(self.outputs, self.default)[nxt]
        return pred == self.labels[rows]

    def set_rule(self, i: int, clause, output: int) -> None:
        self.clauses[i] = list(clause)
        self.outputs[i] = output
        new = self._mask(clause)
        self.fires.set(i, new)
        self.first[new & (self.first > i)] = i
        lost = np.flatnonzero((self.first == i) & ~new)
        if len(lost):
            self.first[lost] = self._after(i, lost)

    def reset_default(self) -> None:
        rest = self.labels[self.first == len(self.clauses)]
        if len(rest):
            self.default = int(np.argmax(np.bincount(rest, minlength=self.n_classes)))


def _cut_scores(codes: np.ndarray, gain: np.ndarray, n_cuts: int) -> np.ndarray:
    """Per cut point ``b``: the total gain of the rows at or below it (``codes <= b``)."""
    return np.cumsum(np.bincount(codes, weights=gain, minlength=n_cuts + 1))[:n_cuts]


def refine(ruleset: RuleSet, X: np.ndarray, labels: np.ndarray, *, min_gain: int = 1,
           n_cuts: int = 64, rounds: int = 2, add: bool = True, drop: bool = True,
           columns=None, cuts=None, max_seconds: float | None = None) -> tuple[RuleSet, RefineInfo]:
    """A decision list with its thresholds, conditions and classes tuned on the rows.

    Parameters
    ----------
    ruleset : RuleSet
        An ordered classification rule set (a decision list); rules of other tests (m-of-n,
        oblique) are kept as they are.
    X : ndarray of shape (n_samples, n_features)
        The rows (training rows, optionally with generated rows).
    labels : ndarray of int, shape (n_samples,)
        The network's class index per row.
    min_gain : int, default=1
        Fewest extra right answers on the rows for a change to be made.
    n_cuts : int, default=64
        Candidate thresholds per feature (:func:`cut_points`), besides dropping a condition.
    rounds : int, default=2
        Passes over the list; the pass stops early when a round changes nothing.
    add : bool, default=True
        Also try adding one condition to a rule.
    drop : bool, default=True
        Afterwards, drop the rules whose removal does not lower the right answers on the rows
        (:func:`~nnrules.extract.decompose.assemble.drop_idle`; refinement can leave rules
        that no longer decide anything).
    columns : sequence of int, optional
        The only features an added condition may test (e.g. the inputs input pruning kept);
        default: every feature.
    cuts : list of ndarray, optional
        Candidate thresholds per feature (default: ``cut_points(X, n_cuts)``).
    max_seconds : float or None
        Time budget; the changes made when it runs out are kept.

    Returns
    -------
    (RuleSet, RefineInfo)
        The refined list (a decision list, ``ordered=True``; support and confidence counted on
        the rows) and what was done. An added condition can repeat a feature a rule already
        tests; the exact simplification that decompositional extractors run last
        (``_simplified``) merges such pairs.

    Raises
    ------
    ParameterError
        A regression rule set, or an unordered one; ``columns`` that are not feature indices
        of ``X``; ``cuts`` that are not one sorted, finite array per column of ``X``.
    DataError
        Rows narrower than the rule set, a label count that differs from the row count, or
        labels that are not class indices (whole numbers in ``[0, n_classes)``: a label such
        as 1.5 is refused, never truncated).
    """
    start = time.perf_counter()
    if ruleset.task != "classification":
        raise ParameterError(
            f"refine tunes classification decision lists; this rule set's task is "
            f"{ruleset.task!r}. Refine only rule sets that predict classes.")
    if not ruleset.ordered:
        raise ParameterError(
            "refine tunes decision lists (ordered=True: the first rule that fires decides); "
            "this rule set is unordered (ordered=False), and reading it in rule order would "
            "change its predictions. Refine only ordered rule sets.")
    X = np.asarray(X, dtype=np.float64)
    labels = _class_indices(labels)
    if X.ndim != 2 or len(labels) != len(X) or X.shape[1] < ruleset.n_features:
        raise DataError(
            f"refine needs rows of shape (n, {ruleset.n_features}) and one label per row; got "
            f"rows of shape {X.shape} and {len(labels)} labels. Pass the rows the list decides "
            "and the network's class index for each.")
    n_classes = len(ruleset.classes)
    if len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
        raise DataError(
            f"refine's labels are class indices in [0, {n_classes}); got values from "
            f"{labels.min()} to {labels.max()}. Map the network's labels to indices first "
            "(e.g. oracle.as_index).")
    cuts = cut_points(X, n_cuts) if cuts is None else _checked_cuts(cuts, X.shape[1])
    # per feature, the cut-point bin of every row: x <= cuts[f][b] exactly when code <= b
    codes = _Codes(X, cuts)
    if columns is not None:
        allowed = np.zeros(X.shape[1], dtype=bool)
        allowed[_checked_columns(columns, X.shape[1])] = True
        codes.valid &= allowed[:, None]
    state = _List([r.conditions for r in ruleset.rules], [int(r.output) for r in ruleset.rules],
                  ruleset.default, X, labels, n_classes)
    before = state.right()
    simple = [all(isinstance(c, Condition) for c in r.conditions) for r in ruleset.rules]
    changes, stopped, done = climb(state, lambda i: _best_move(state, i, cuts, codes, add),
                                   rounds=rounds, min_gain=min_gain, max_seconds=max_seconds,
                                   start=start, rules=simple)
    n_rules = len(state.clauses)
    keep = np.ones(n_rules, dtype=bool)
    default = state.default
    if drop and n_rules:
        keep, default = _drop_idle(state)
    return finished_list(state, keep, X, labels, default, ruleset, before, changes, done,
                         stopped)


def climb(state: _List, best_move, *, rounds: int, min_gain: float,
          max_seconds: float | None, start: float, rules: list[bool] | None = None
          ) -> tuple[int, bool, int]:
    """Rounds of hill climbing on a decision list: rule by rule (only those ``rules`` marks,
    when given), apply ``best_move(i)`` — (gain, clause, class) or None — while it gains at
    least ``min_gain``; stop after a round that changed nothing, after ``rounds``, or when
    ``max_seconds`` since ``start`` have passed. The default is re-chosen after every round.

    Returns
    -------
    (changes, stopped, rounds done)
    """
    changes, stopped, done = 0, False, 0
    for _ in range(rounds):
        done += 1
        changed = 0
        for i in range(len(state.clauses)):
            if rules is not None and not rules[i]:
                continue
            while True:
                if max_seconds is not None and time.perf_counter() - start > max_seconds:
                    stopped = True
                    break
                move = best_move(i)
                if move is None or move[0] < min_gain:
                    break
                state.set_rule(i, move[1], move[2])
                changed += 1
            if stopped:
                break
        state.reset_default()
        changes += changed
        if stopped or not changed:
            break
    state.reset_default()
    return changes, stopped, done


def _class_indices(labels) -> np.ndarray:
    """``labels`` as int64 class indices; a float label that is not a whole number, or a
    label that is not a number at all, is a DataError (an int64 cast would truncate 1.5 to 1
    or fail deep inside numpy)."""
    raw = np.asarray(labels)
    if raw.dtype.kind in "iub":
        return raw.astype(np.int64)
    if raw.dtype.kind == "f":
        whole = np.isfinite(raw) & (raw == np.round(raw))
        if whole.all():
            return raw.astype(np.int64)
        i = int(np.flatnonzero(~whole)[0])
        raise DataError(
            f"refine's labels are class indices (whole numbers); label {i} is "
            f"{float(raw[i])!r}. Pass the network's class index per row (e.g. "
            "oracle.as_index(labels)), not scores.")
    raise DataError(
        f"refine's labels are class indices (whole numbers); got an array of {raw.dtype} "
        f"(first: {raw.ravel()[:1].tolist()!r}). Map the network's labels to indices first "
        "(e.g. oracle.as_index).")


def _checked_columns(columns, n_features: int) -> np.ndarray:
    """``columns`` as int64 feature indices, each in ``[0, n_features)``."""
    cols = np.asarray(columns).ravel()
    if cols.dtype.kind == "b" or (cols.size and cols.dtype.kind not in "iu"):
        raise ParameterError(
            f"refine's columns are the feature indices an added condition may test, integers "
            f"in [0, {n_features}); got {np.asarray(columns).ravel()[:5].tolist()!r} "
            f"({cols.dtype}). Pass e.g. columns=[0, 2].")
    cols = cols.astype(np.int64)
    bad = cols[(cols < 0) | (cols >= n_features)]
    if bad.size:
        raise ParameterError(
            f"refine's columns are feature indices in [0, {n_features}) (the rows have "
            f"{n_features} columns); got {bad[:5].tolist()!r}. Pass indices of the rows' "
            "columns.")
    return cols


def _checked_cuts(cuts, n_features: int) -> list[np.ndarray]:
    """``cuts`` as one 1-D, sorted, finite float64 array per column of the rows."""
    try:
        n = len(cuts)
    except TypeError:
        n = None
    if n != n_features:
        raise ParameterError(
            f"refine's cuts hold one array of candidate thresholds per column of the rows: "
            f"{n_features} arrays; got {'a ' + type(cuts).__name__ if n is None else n}. Pass "
            "cut_points(X, n_cuts) or a list of that length.")
    out = []
    for f, c in enumerate(cuts):
        try:
            a = np.asarray(c, dtype=np.float64)
        except (TypeError, ValueError):
            a = None
        if a is None or a.ndim != 1 or not np.all(np.isfinite(a)) or np.any(np.diff(a) < 0):
            raise ParameterError(
                f"refine's cuts[{f}] must be a 1-D array of finite thresholds in increasing "
                f"order; got {c!r:.80}. Pass cut_points(X, n_cuts) or sorted arrays.")
        out.append(a)
    return out


def recount(ruleset: RuleSet, X: np.ndarray, labels: np.ndarray) -> RuleSet:
    """The same rule set with each rule's support and confidence counted on ``X``: the rows
    where its body holds, and the share of them whose network class is the rule's."""
    rules = []
    X = np.asfortranarray(X, dtype=np.float64)  # contiguous columns for the tests
    for r in ruleset.rules:
        mask = r.holds(X)
        support = int(mask.sum())
        conf = float(np.mean(labels[mask] == int(r.output))) if support else 0.0
        rules.append(Rule(r.conditions, r.output, support, conf))
    return RuleSet(rules, ruleset.default, ordered=ruleset.ordered, classes=ruleset.classes,
                   schema=ruleset.schema, task=ruleset.task, n_features=ruleset.n_features,
                   notes=ruleset.notes)


def _relabelled(state: _List, i: int, rows: np.ndarray, holds: list[np.ndarray]):
    """The start of a move search on rule ``i``'s open ``rows`` (``holds``: each of its
    conditions there): (worth, covered, now, best). ``worth`` is what covering a row with the
    rule is worth in right answers (1, 0 or -1), ``now`` the worth of the rows it covers, and
    ``best`` the (gain, clause, class) of giving the same region another class (gain 0 and
    clause None when none helps)."""
    clause, k = state.clauses[i], int(state.outputs[i])
    right_out = state.otherwise(i, rows)
    labels = state.labels[rows]
    covered = np.logical_and.reduce(holds) if holds else np.ones(len(rows), dtype=bool)
    worth = (labels == k).astype(np.float64) - right_out
    now = float(np.sum(worth[covered]))
    best: tuple = (0.0, None, k)
    if covered.any():  # another class for the same region
        counts = np.bincount(labels[covered], minlength=state.n_classes)
        top = int(np.argmax(counts))
        g = counts[top] - float(np.sum(right_out[covered])) - now
        if top != k and g > best[0]:
            best = (g, clause, top)
    return worth, covered, now, best


def _others_hold(holds: list[np.ndarray], j: int, n: int) -> np.ndarray:
    """Rows where every condition but the ``j``-th holds."""
    if len(holds) < 2:
        return np.ones(n, dtype=bool)
    return np.logical_and.reduce([h for m, h in enumerate(holds) if m != j])


def _best_move(state: _List, i: int, cuts, codes: np.ndarray, add: bool):
    """(gain, clause, class) of the best single change to rule ``i``, or None."""
    clause = state.clauses[i]
    k = int(state.outputs[i])
    full = [state.holds(c) for c in clause]
    # Only rows no earlier rule decides and where at most one condition fails can change.
    open_ = state.first >= i
    if len(full) > 1:
        held = full[0].view(np.uint8).copy()
        for m in full[1:]:
            held += m.view(np.uint8)
        open_ &= held >= len(full) - 1
    rows = np.flatnonzero(open_)
    if not len(rows):
        return None
    holds = [m[rows] for m in full]
    worth, covered, now, best = _relabelled(state, i, rows, holds)
    for j, c in enumerate(clause):
        if not isinstance(c, Condition) or c.op not in ("<=", ">") or not len(cuts[c.feature]):
            continue
        others = _others_hold(holds, j, len(rows))
        w = worth[others]
        total = float(w.sum())
        if total - now > best[0] and len(clause) > 1:  # drop the condition
            best = (total - now, [*clause[:j], *clause[j + 1:]], k)
        score = _cut_scores(codes[c.feature][rows[others]], w, len(cuts[c.feature]))
        if c.op == ">":
            score = total - score
        b = int(np.argmax(score))
        if score[b] - now > best[0]:
            best = (score[b] - now, [*clause[:j], Condition(c.feature, c.op,
                                                            float(cuts[c.feature][b])),
                                     *clause[j + 1:]], k)
    if add and covered.any():
        w = worth[covered]
        total = float(w.sum())
        # every feature at once: codes offset per feature, one bincount, cumulative per row
        flat, width, valid = codes.flat, codes.width, codes.valid
        n_f = len(codes)
        below = np.bincount(flat[rows[covered]].ravel(), weights=np.repeat(w, n_f),
                            minlength=n_f * width).reshape(n_f, width).cumsum(axis=1)
        for op, score in (("<=", below), (">", total - below)):
            score = np.where(valid, score, -np.inf)
            f, b = np.unravel_index(int(np.argmax(score)), score.shape)
            if score[f, b] - now > best[0]:
                best = (score[f, b] - now, [*clause, Condition(int(f), op,
                                                              float(cuts[f][b]))], k)
    return None if best[1] is None else best


class _Codes(list):
    """Per feature, the cut-point bin of every row (``x <= cuts[f][b]`` exactly when
    ``code <= b``); ``flat`` holds them as one (rows x features) array offset by feature, so
    one ``bincount`` scores every feature's cut points."""

    def __init__(self, X: np.ndarray, cuts) -> None:
        super().__init__(np.searchsorted(cuts[f], X[:, f], side="left").astype(np.int32)
                         for f in range(X.shape[1]))
        self.width = max([len(c) for c in cuts], default=0) + 1
        self.flat = np.stack(self, axis=1) + np.arange(len(self), dtype=np.int32) * self.width \
            if len(self) else np.zeros((len(X), 0), dtype=np.int32)
        self.valid = np.arange(self.width)[None, :] < np.array([len(c) for c in cuts])[:, None]


def _drop_idle(state: _List) -> tuple[np.ndarray, int]:
    """:func:`~nnrules.extract.decompose.assemble.drop_idle` (without ``max_rules``) on the
    packed masks: (which rules stay, the default class). Same decisions, same default."""
    n_rules, labels, n_classes = len(state.clauses), state.labels, state.n_classes
    outputs = state.outputs
    first = state.first.copy()
    default = _majority(labels, first < n_rules, n_classes)
    keep = np.ones(n_rules, dtype=bool)
    for i in range(n_rules - 1, -1, -1):
        rows = np.flatnonzero(first == i)
        nxt = state.fires.first_after(i, rows, keep)
        then = np.where(nxt < n_rules, outputs[np.minimum(nxt, n_rules - 1)], default)
        if np.sum(labels[rows] == then) >= np.sum(labels[rows] == outputs[i]):
            keep[i] = False
            first[rows] = nxt
    return keep, _majority(labels, first < n_rules, n_classes)


def _majority(labels: np.ndarray, covered: np.ndarray, n_classes: int) -> int:
    rest = labels[~covered] if np.any(~covered) else labels
    return int(np.argmax(np.bincount(rest, minlength=n_classes)))


_CHUNK_CELLS = 2**22  # rules x rows unpacked at a time when looking for the next firing rule


class _Bits:
    """Where each rule holds, one bit per row (rules x ceil(rows / 8) bytes)."""

    def __init__(self, n_rules: int, n_rows: int) -> None:
        self.n_rows = n_rows
        self.packed = np.zeros((n_rules, (n_rows + 7) // 8), dtype=np.uint8)

    def set(self, i: int, mask: np.ndarray) -> None:
        self.packed[i] = np.packbits(mask, bitorder="little")

    def get(self, i: int) -> np.ndarray:
        return np.unpackbits(self.packed[i], count=self.n_rows, bitorder="little").view(bool)

    def first_after(self, i: int, rows: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
        """Per row of ``rows``: the first rule after ``i`` (of those ``keep`` marks) that holds
        (the rule count: none). Rules are unpacked a chunk at a time, only for the rows still
        open, so memory stays within ``_CHUNK_CELLS`` bytes."""
        n = len(self.packed)
        out = np.full(len(rows), n, dtype=np.int64)
        open_ = np.arange(len(rows))
        j = i + 1
        while j < n and len(open_):
            sub = rows[open_]
            step = max(1, _CHUNK_CELLS // len(sub))
            idx = np.arange(j, min(n, j + step))
            if keep is not None:
                idx = idx[keep[idx]]
            if len(idx):
                bits = (self.packed[np.ix_(idx, sub >> 3)]
                        & (np.uint8(1) << (sub & 7).astype(np.uint8))) != 0
                hit = bits.any(axis=0)
                out[open_[hit]] = idx[bits[:, hit].argmax(axis=0)]
                open_ = open_[~hit]
            j += step
        return out


def finished_list(state, keep, X, labels, default, ruleset, before, changes, done,
                  stopped):
    """The kept rules as an ordered RuleSet (support and confidence on the rows) and
    what the pass did (shared by :func:`refine` and ``refine_mofn``)."""
    rules, covered = [], np.zeros(len(X), dtype=bool)
    pred = np.full(len(X), default, dtype=np.int64)
    for i in np.flatnonzero(keep):
        mask, k = state.fires.get(i), int(state.outputs[i])
        support = int(mask.sum())
        conf = float(np.mean(labels[mask] == k)) if support else 0.0
        rules.append(Rule(tuple(state.clauses[i]), k, support, conf))
        pred[mask & ~covered] = k
        covered |= mask
    out = RuleSet(rules, default, ordered=True, classes=ruleset.classes, schema=ruleset.schema,
                  n_features=ruleset.n_features, notes=ruleset.notes)
    info = RefineInfo(before, int(np.sum(pred == labels)), len(labels), changes, done, stopped)
    return out, info
