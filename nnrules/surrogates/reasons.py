"""Reason codes for single decisions, and the local fidelity of the rule that made them.

``reasons(surrogate, X, k=4)`` gives, per row, the prediction and up to ``k`` principal
reasons, most important first, each a short text over the features' names with a signed
contribution:

* **trees and rule sets** — the conditions of the row's leaf / rule (a tree's path merged per
  feature), ranked by how much the probability of the predicted class would drop if that
  condition alone were false: ``p(pred | region) - p(pred | sibling)``, where the sibling region
  is the training rows that meet every other condition of the rule but not this one
  (regression: the change of the mean output, ranked by size). The counts come from the rows
  the surrogate was extracted from, labelled by the network, stored at extraction
  (``reason_stats``). Without them (a hand-made surrogate) a tree uses the leaf the row would
  reach through the sibling branch, a rule set lists its conditions without contributions;
* **additive models** — the terms that push the score furthest toward the predicted class
  relative to the reference row (the training rows' median for numeric columns, the most
  frequent value for categorical columns and one-hot groups): ``h(x) - h(reference)`` on the
  deciding score (binary: the logit, signed toward the predicted class; more classes: the
  predicted class's score minus the runner-up's; regression: the value, ranked by size). Only
  terms that push toward the prediction are reasons;
* **boxes** — the bounds of the deciding box (or fallback leaf) that are tightest on the row;
  the contribution is the slack ``(x - lower)`` or ``(upper - x)`` as a fraction of the
  feature's range (0 = on the bound).

Each row also gets the **local fidelity** of its region (leaf, rule, box or fallback leaf;
additive models: the band of the decision margin the row falls in): how often surrogate and
network agree on the stored rows of that region, with a Wilson 95% interval and the count
(``local_fidelity``, stored at extraction from the evaluation rows when given, else the
training rows; the file says which). Regression regions store the count and the mean absolute
difference; their agreement fields stay empty.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nnrules.exceptions import ParameterError

__all__ = ["MAX_REASONS", "SUPPORTED", "attach", "local_fidelity", "reason_stats", "reasons",
           "regions"]

MAX_REASONS = 10
SUPPORTED = frozenset({"nnrules/additive", "nnrules/boxes", "nnrules/ruleset", "nnrules/tree"})
N_MARGIN_BANDS = 5
_Z95 = 1.959963984540054


def _wilson(k: int, n: int) -> tuple[float, float]:
    p = k / n
    denom = 1.0 + _Z95 ** 2 / n
    centre = (p + _Z95 ** 2 / (2 * n)) / denom
    half = _Z95 * math.sqrt(p * (1 - p) / n + _Z95 ** 2 / (4 * n * n)) / denom
    return (0.0 if k == 0 else max(0.0, centre - half), 1.0 if k == n else min(1.0, centre + half))


_KINDS = {"nnrules/tree": "tree", "nnrules/ruleset": "ruleset", "nnrules/boxes": "boxes",
          "nnrules/additive": "additive"}


def _kind(surrogate: Any) -> str:
    fmt = getattr(surrogate, "FORMAT", None)
    if fmt not in _KINDS:
        raise ParameterError(f"Reasons are for trees, rule sets, boxes and additive models; got "
                             f"a {type(surrogate).__name__} ({fmt!r}). Automata: use "
                             "reasons(X) without k (the path through the automaton).")
    return _KINDS[fmt]


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


# -- regions -------------------------------------------------------------------------------

def _margin(surrogate: Any, X: np.ndarray) -> np.ndarray:
    f = surrogate.decision_function(X)
    if surrogate.output == "logits":
        top2 = np.sort(f, axis=1)[:, -2:]
        return top2[:, 1] - top2[:, 0]
    return np.abs(f) if surrogate.output == "logit" else f


def regions(surrogate: Any, X: np.ndarray, edges: list | None = None) -> np.ndarray:
    """The region deciding each row: leaf id, rule index (-1 default), box / fallback index
    (as ``explain``), or for additive models the margin band (``edges`` are its inner cuts)."""
    X = np.asarray(X, dtype=np.float64)
    kind = _kind(surrogate)
    if kind == "tree":
        return surrogate.apply(X)
    if kind in ("ruleset", "boxes"):
        return surrogate.explain(X)
    if kind == "additive":
        return np.searchsorted(np.asarray(edges or [], float), _margin(surrogate, X), side="right")
    raise ParameterError(f"Reasons are for tables; a {kind} surrogate has none.")  # unreachable


def _region_name(kind: str) -> str:
    return {"tree": "leaf", "ruleset": "rule", "boxes": "box", "additive": "margin band"}[kind]


# -- local fidelity ------------------------------------------------------------------------

def local_fidelity(surrogate: Any, X: np.ndarray, reference: np.ndarray, *, source: str,
                   data: str = "", edges: list | None = None,
                   _leaves: np.ndarray | None = None) -> dict:
    """Per region: rows, agreements with the network (classification) or mean |difference|.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    reference : ndarray of shape (n_samples,)
        The network's labels (or values) on ``X``.
    source : {"evaluation", "training"}
        Which rows these are; stored so the file says it.
    """
    X = np.asarray(X, dtype=np.float64)
    kind = _kind(surrogate)
    if kind == "additive" and edges is None and surrogate.task == "classification":
        m = _margin(surrogate, X)
        qs = np.quantile(m, np.linspace(0, 1, N_MARGIN_BANDS + 1)[1:-1]) if len(m) else []
        edges = sorted({float(v) for v in qs})
    if _leaves is not None and kind == "tree":  # apply(X), already computed by the caller
        reg, pred = _leaves, surrogate.predict_leaves(_leaves)
    else:
        reg = regions(surrogate, X, edges)
        pred = surrogate.predict(X)
    reference = np.asarray(reference)
    out: dict[str, Any] = {"source": source, "data": data, "regions": _region_name(kind),
                           "n_rows": len(X), "counts": []}
    if edges is not None:
        out["edges"] = [float(e) for e in edges]
    for r in np.unique(reg).tolist():
        mask = reg == r
        n = int(mask.sum())
        item: dict[str, Any] = {"region": int(r), "n": n}
        if surrogate.task == "regression":
            diff = np.abs(np.asarray(pred[mask], float) - np.asarray(reference[mask], float)
                          .reshape(n, -1)[:, 0])
            item["mean_abs_difference"] = float(np.nanmean(diff)) if n else None
        else:
            item["agree"] = _agreements(pred[mask], reference[mask])
        out["counts"].append(item)
    return out


# -- reason statistics ---------------------------------------------------------------------

def _rule_view(surrogate: Any) -> dict[int, tuple]:
    """Region id -> its conditions (tree leaves: the path merged per feature)."""
    from nnrules.surrogates.rules import simplify_conditions

    if _kind(surrogate) == "tree":
        out = {}
        for leaf, path in surrogate.paths().items():
            s = simplify_conditions(path)
            out[leaf] = s if s is not None else tuple(path)
        return out
    return {i: tuple(r.conditions) for i, r in enumerate(surrogate.rules)}


def _distinct(values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(first, inverse)``: one position per distinct value of a 1-D array and each row's
    index into them, with "distinct" meaning distinct bits for numbers (so that 0.0 and -0.0,
    or NaNs, never share an entry); None for object arrays and other kinds (no fast path)."""
    if values.ndim != 1 or values.dtype.kind not in "biufUS":
        return None
    keys = values
    if values.dtype.kind == "f":
        keys = np.ascontiguousarray(values).view(f"u{values.dtype.itemsize}")
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


def _class_index(surrogate: Any, reference: np.ndarray) -> np.ndarray:
    labels = [str(_plain(c)) for c in surrogate.classes]
    pos = {c: i for i, c in enumerate(labels)}
    found = _distinct(reference)
    if found is not None:  # the lookup once per distinct value, not per row
        first, inverse = found
        codes = np.array([pos.get(str(_plain(v)), -1) for v in reference[first].tolist()],
                         dtype=np.int64)
        return codes[inverse]
    return np.array([pos.get(str(_plain(v)), -1) for v in reference.tolist()], dtype=np.int64)


def _agreements(pred: np.ndarray, reference: np.ndarray) -> int:
    """Rows where ``p is not None and p == q`` (Python equality of the two labels)."""
    kinds = {pred.dtype.kind, reference.dtype.kind}
    if pred.shape == reference.shape and pred.ndim == 1 and (
            len(kinds) == 1 and kinds <= set("iufbU")):
        # The same answer as Python's == on these kinds (NaN unequal to itself, 0.0 == -0.0,
        # integers compared exactly, strings by content); no None in such arrays.
        return int(np.count_nonzero(pred == reference))
    return int(sum(p is not None and p == q for p, q in zip(pred.tolist(), reference.tolist())))


def _summary(surrogate: Any, mask: np.ndarray, ref: np.ndarray) -> dict:
    n = int(mask.sum())
    if surrogate.task == "regression":
        return {"n": n, "mean": float(ref[mask].mean()) if n else None}
    k = len(surrogate.classes)
    idx = ref[mask]
    return {"n": n, "counts": np.bincount(idx[idx >= 0], minlength=k).astype(int).tolist()}


def reason_stats(surrogate: Any, X: np.ndarray, reference: np.ndarray, *,
                 _leaves: np.ndarray | None = None) -> dict | None:
    """What reasons need from the extraction rows (see the module docstring)."""
    X = np.asarray(X, dtype=np.float64)
    reference = np.asarray(reference)
    kind = _kind(surrogate)
    if kind == "boxes":
        return None
    if kind == "additive":
        return {"source": "training", "reference": _reference_row(surrogate.schema, X)}
    ref = (np.asarray(reference, float).reshape(len(X), -1)[:, 0]
           if surrogate.task == "regression" else _class_index(surrogate, reference))
    reg = _leaves if _leaves is not None and kind == "tree" else regions(surrogate, X)
    out = []
    seen: dict[Any, np.ndarray] = {}  # leaves share conditions: each one evaluated once

    def holds(c: Any) -> np.ndarray:
        try:
            found = seen.get(c)
        except (TypeError, ValueError):  # unhashable, or no plain equality: evaluated anew
            return c.holds(X)
        if found is None:
            found = seen[c] = c.holds(X)
        return found

    for r, conds in _rule_view(surrogate).items():
        # Per condition its rows, and per row how many of the leaf's conditions hold (summed
        # column by column: the counts of a stacked (n, m) matrix without building it).
        H = [np.asarray(holds(c), dtype=bool) for c in conds]
        m = len(conds)
        hits = np.zeros(len(X), dtype=np.int64)
        for h in H:
            hits += h
        siblings = [_summary(surrogate, (hits == m - 1) & ~H[i], ref) for i in range(m)]
        out.append({"region": int(r), "own": _summary(surrogate, reg == r, ref),
                    "siblings": siblings})
    return {"source": "training", "regions": out}


def _reference_row(schema: Any, X: np.ndarray) -> list[float]:
    """Median per numeric column; the most frequent code / one-hot category otherwise."""
    ref = np.median(X, axis=0) if len(X) else np.zeros(X.shape[1])
    if schema is None:
        return [float(v) for v in ref]
    for j, f in enumerate(schema.features):
        if f.kind in ("categorical", "binary"):
            vals, counts = np.unique(X[:, j], return_counts=True)
            ref[j] = vals[np.argmax(counts)]
    for cols in schema.groups.values():
        cols = list(cols)
        hot = np.argmax(X[:, cols].sum(axis=0))
        ref[cols] = 0.0
        ref[cols[hot]] = 1.0
    return [float(v) for v in ref]


def attach(surrogate: Any, X: np.ndarray, reference: np.ndarray, *, source: str, data: str = "",
           stats: bool = False) -> None:
    """Store ``local_fidelity`` (and with ``stats`` the ``reason_stats``) on the surrogate."""
    if getattr(surrogate, "FORMAT", None) not in SUPPORTED:
        return
    X = np.asarray(X, dtype=np.float64)
    # A tree's leaves serve both below (and its predictions): the rows walked once, not thrice.
    leaves = surrogate.apply(X) if _kind(surrogate) == "tree" else None
    if stats:
        surrogate.reason_stats = reason_stats(surrogate, X, reference, _leaves=leaves)
    edges = None
    old = getattr(surrogate, "local_fidelity", None)
    if _kind(surrogate) == "additive" and old and "edges" in old:
        edges = old["edges"]  # keep the bands fixed by the training rows
    surrogate.local_fidelity = local_fidelity(surrogate, X, reference, source=source, data=data,
                                              edges=edges, _leaves=leaves)


# -- reasons -------------------------------------------------------------------------------

def _fmt(v: float) -> str:
    from nnrules.schema import format_number

    return format_number(v)


def _p(summary: dict | None, c: int) -> float | None:
    if not summary or not summary.get("n"):
        return None
    if "mean" in summary:
        return summary["mean"]
    return summary["counts"][c] / summary["n"]


def _rule_reasons(s: Any, X: np.ndarray, k: int) -> list[list[tuple[str, float | None]]]:
    kind = _kind(s)
    reg = regions(s, X)
    view = _rule_view(s)
    stats = {r["region"]: r for r in ((getattr(s, "reason_stats", None) or {})
                                      .get("regions", []))}
    idx = s.predict_index(X)
    out = []
    for i in range(len(X)):
        r = int(reg[i])
        conds = view.get(r, ())
        st = stats.get(r)
        c = idx[i] if s.task == "classification" else 0
        items = []
        for j, cond in enumerate(conds):
            text = cond.to_text(s.schema)
            if st is not None:
                own, sib = _p(st["own"], c), _p(st["siblings"][j], c)
                if own is None and kind == "tree" and s.task == "classification":
                    own = float(s.predict_proba(X[i:i + 1])[0, c])
                contrib = None if own is None or sib is None else own - sib
            elif kind == "tree":
                contrib = _tree_counterfactual(s, X[i], r, cond, c)
            else:
                contrib = None
            items.append((text, contrib))
        key = (lambda t: -abs(t[1])) if s.task == "regression" else (lambda t: -t[1])
        known = sorted([t for t in items if t[1] is not None], key=key)
        out.append((known + [t for t in items if t[1] is None])[:k])
    return out


def _tree_counterfactual(tree: Any, x: np.ndarray, leaf: int, cond: Any, c: int) -> float | None:
    """Own leaf's value minus that of the leaf the row reaches when the path's node behind
    ``cond`` goes the other way (used when no training statistics are stored)."""
    from nnrules.surrogates.tree import negate_test

    row = x.reshape(1, -1)
    node, steps = 0, []
    while tree.left[node] >= 0:
        t = tree.tests[node]
        h = bool(t.holds(row)[0])
        steps.append((node, t if h else negate_test(t), h))
        node = int(tree.left[node] if h else tree.right[node])
    feature = getattr(cond, "feature", None)
    match = [st for st in steps if st[1] == cond] or [
        st for st in steps if feature is not None and getattr(st[1], "feature", None) == feature]
    if not match:
        return None
    u, _, h = match[-1]
    sub = int(tree.right[u] if h else tree.left[u])
    while tree.left[sub] >= 0:
        sub = int(tree.left[sub] if tree.tests[sub].holds(row)[0] else tree.right[sub])
    own, other = tree.value[leaf], tree.value[sub]
    if tree.task == "regression":
        return float(own[0] - other[0])
    p_own = own[c] / own.sum() if own.sum() > 0 else 0.0
    p_other = other[c] / other.sum() if other.sum() > 0 else 0.0
    return float(p_own - p_other)


def _axis_text(s: Any, axis: Any, x: np.ndarray, ref: np.ndarray) -> str:
    schema = s.schema
    names = schema.names if schema is not None else tuple(f"x{j}" for j in range(s.n_features))
    if axis.kind == "onehot":
        cols = list(axis.columns)
        def hot(v):
            f = schema.features[cols[int(np.argmax(v[cols]))]] if schema else None
            return f.category if f is not None else names[cols[int(np.argmax(v[cols]))]]
        group = schema.features[cols[0]].group if schema else "group"
        return f"{group} = {hot(x)} (reference {hot(ref)})"
    j = axis.columns[0]
    f = schema.features[j] if schema is not None else None
    if f is not None and f.kind == "categorical":
        return (f"{f.name} = {f.categories[int(x[j])]!r} (reference "
                f"{f.categories[int(ref[j])]!r})")
    return f"{names[j]} = {_fmt(x[j])} (reference {_fmt(ref[j])})"


def _additive_reasons(s: Any, X: np.ndarray, k: int) -> list[list[tuple[str, float | None]]]:
    stats = getattr(s, "reason_stats", None) or {}
    ref = np.asarray(stats.get("reference") or _reference_row(s.schema, X), float)
    tv = s.term_values(X)                               # (n, T, K)
    tr = s.term_values(ref.reshape(1, -1))[0]           # (T, K)
    d = tv - tr[None]
    if s.output == "logit":
        sign = np.where(s.predict_index(X) == 1, 1.0, -1.0)
        contrib = d[:, :, 0] * sign[:, None]
    elif s.output == "logits":
        f = s.decision_function(X)
        order = np.argsort(-f, axis=1, kind="stable")
        top, second = order[:, 0], order[:, 1]
        rows = np.arange(len(X))
        contrib = d[rows, :, top] - d[rows, :, second]
    else:
        contrib = d[:, :, 0]
    out = []
    for i in range(len(X)):
        if s.task == "regression":
            order = np.argsort(-np.abs(contrib[i]), kind="stable")
        else:
            order = [t for t in np.argsort(-contrib[i], kind="stable") if contrib[i, t] > 0]
        items = []
        for t in list(order)[:k]:
            text = " and ".join(_axis_text(s, a, X[i], ref) for a in s.terms[t].axes)
            items.append((text, float(contrib[i, t])))
        out.append(items)
    return out


def _box_reasons(s: Any, X: np.ndarray, k: int) -> list[list[tuple[str, float | None]]]:
    idx = s.explain(X)
    schema = s.schema
    span = np.array([f.upper - f.lower if math.isfinite(f.upper - f.lower) and f.upper > f.lower
                     else 1.0 for f in schema.features])
    out = []
    for i, b in enumerate(idx.tolist()):
        if b >= 0:
            lo, hi, open_low = s.lower[b], s.upper[b], False
        elif -1 - b < len(s.fallback_outputs):  # a fallback leaf (not "no leaf", -1 - n_leaves)
            lo, hi, open_low = s.fallback_lower[-1 - b], s.fallback_upper[-1 - b], True
        else:
            out.append([])  # abstained: no rule decided
            continue
        items = []
        for j, f in enumerate(schema.features):
            if f.kind == "onehot":
                continue
            x = X[i, j]
            here = f"(here {_fmt(x)})"
            if math.isfinite(lo[j]) and (open_low or lo[j] > f.lower):
                text = schema.describe_condition(j, ">", lo[j]) if open_low else \
                    f"{f.name} >= {_fmt(lo[j])}"
                items.append((f"{text} {here}", float((x - lo[j]) / span[j])))
            if math.isfinite(hi[j]) and (open_low or hi[j] < f.upper):
                items.append((f"{schema.describe_condition(j, '<=', hi[j])} {here}",
                               float((hi[j] - x) / span[j])))
        items.sort(key=lambda t: t[1])
        out.append(items[:k])
    return out


def reasons(surrogate: Any, X: Any, k: int = 4) -> list[dict]:
    """Per row: ``prediction``, ``reasons`` (list of ``{"text", "contribution"}``, most
    important first, at most ``k``), ``region`` and the region's local fidelity
    (``local_fidelity``, ``local_fidelity_low``, ``local_fidelity_high``, ``local_n``; None
    when not stored).

    Parameters
    ----------
    surrogate : TreeSurrogate, RuleSet, BoxRuleSet or AdditiveSurrogate
    X : array-like of shape (n_samples, n_features)
    k : int in [1, 10], default 4

    Raises
    ------
    ParameterError
        ``k`` outside 1..10.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= MAX_REASONS:
        raise ParameterError(f"The number of reasons must be an int in [1, {MAX_REASONS}]; got "
                             f"{k!r}. Adverse-action notices give up to four; ask for 1 to "
                             f"{MAX_REASONS}.")
    X = surrogate._rows(X) if hasattr(surrogate, "_rows") else np.asarray(X, dtype=np.float64)
    kind = _kind(surrogate)
    if kind in ("tree", "ruleset"):
        lists = _rule_reasons(surrogate, X, int(k))
    elif kind == "additive":
        lists = _additive_reasons(surrogate, X, int(k))
    elif kind == "boxes":
        lists = _box_reasons(surrogate, X, int(k))
    else:
        raise ParameterError(f"Reasons are for tables; a {kind} surrogate has none.")
    lf = getattr(surrogate, "local_fidelity", None)
    reg = regions(surrogate, X, (lf or {}).get("edges"))
    table = {c["region"]: c for c in (lf or {}).get("counts", [])}
    pred = surrogate.predict(X)
    out = []
    for i in range(len(X)):
        item = table.get(int(reg[i]))
        n = 0 if item is None else item["n"]
        fid = lo = hi = None
        if n and "agree" in item:
            fid = item["agree"] / n
            lo, hi = _wilson(item["agree"], n)
        out.append({"prediction": _plain(pred[i]),
                    "reasons": [{"text": t, "contribution": c} for t, c in lists[i]],
                    "region": int(reg[i]), "local_fidelity": fid, "local_fidelity_low": lo,
                    "local_fidelity_high": hi, "local_n": None if lf is None else int(n)})
    return out
