"""The final rule list of ``setiono`` when the domain re-minimisation does not apply.

:func:`final_rules` turns the substituted clauses (``candidates``: clause on the inputs, class)
into a decision list: each class's clauses are simplified as one DNF (the engine's
:func:`~nnrules.extract.decompose.simplify.simplify_dnf`, an equivalence; clauses with oblique
or M-of-N tests are only deduplicated, as that simplification reads axis conditions). Exact clauses are all kept,
in class order (the list then decides as the discretised network does); learned ones are ranked
and kept only when they earn right answers
(:func:`~nnrules.extract.decompose.assemble.ranked_rules`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nnrules.extract.decompose.assemble import ranked_rules
from nnrules.extract.decompose.simplify import simplify_dnf
from nnrules.extract.decompose.terms import Clause, clause_mask
from nnrules.surrogates.rules import Rule, RuleSet

__all__ = ["final_rules"]


def final_rules(candidates: Sequence[tuple[Clause, int]], default: int, X: np.ndarray,
                labels: np.ndarray, *, classes: tuple, schema: Any, exact: bool,
                opaque: bool, max_rules: int | None, min_gain: int
                ) -> tuple[RuleSet, bool]:
    """The decision list of ``candidates`` (see the module docstring).

    Parameters
    ----------
    candidates : sequence of (clause, class index)
    default : int
        The hidden rules' default class (kept when the clauses are exact).
    X, labels : the training rows and the network's class index on each.
    classes : tuple
    schema : FeatureSchema
    exact : bool
        Every clause decides exactly as the discretised network does.
    opaque : bool
        Some clause holds a linear condition or an M-of-N test (only deduplicated then).
    max_rules : int or None
    min_gain : int
        Rows a learned rule must decide correctly that no earlier rule decided.

    Returns
    -------
    (RuleSet, truncated)
        ``truncated``: ``max_rules`` cut rules off.
    """
    by_class: dict[int, list] = {}
    for c, k in candidates:
        by_class.setdefault(k, []).append(c)
    if opaque:
        kept = [(c, k) for k in sorted(by_class) for c in dict.fromkeys(by_class[k])]
    else:
        kept = [(c, k) for k in sorted(by_class)
                for c in simplify_dnf(by_class[k], schema=schema)]
    if not exact:
        return ranked_rules(kept, X, labels, classes=classes, schema=schema,
                            max_rules=max_rules, min_gain=min_gain)
    rules = []
    for c, k in kept:
        mask = clause_mask(c, X)
        conf = float(np.mean(labels[mask] == k)) if mask.any() else 0.0
        rules.append(Rule(c, k, int(mask.sum()), conf))
    truncated = max_rules is not None and len(rules) > max_rules
    return RuleSet(rules[:max_rules], default, ordered=True, classes=classes, schema=schema,
                   n_features=X.shape[1]), truncated
