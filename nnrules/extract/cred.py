"""CRED (``cred``): Sato & Tsukimoto, 2001 — decompositional rules for one hidden layer.

A tree learns the network's classes from the hidden layer; every hidden split ``h[j] > t`` in
its rules is then learned from the inputs by a tree of its own, and the two are multiplied out
and simplified. This is DeepRED's term-wise substitution on a single hidden layer (same engine,
no input pruning by default); on deeper networks CRED refuses and points to ``deepred`` and
``eclaire``.
"""

from __future__ import annotations

from nnrules.exceptions import UnsupportedModelError
from nnrules.extract.deepred import DeepRedExtractor

__all__ = ["CredExtractor"]


class CredExtractor(DeepRedExtractor):
    """Rules through the one hidden layer of a network (see :class:`DeepRedExtractor` for the
    parameters; ``prune`` defaults to False here).

    Raises
    ------
    UnsupportedModelError
        At fit, when the network has more than one hidden layer.
    """

    method = "cred"

    def __init__(self, network, *, min_samples_leaf: float = 0.01, max_depth: int | None = None,
                 min_support: int = 1, beam: int = 256, prune: bool = False,
                 prune_tolerance: float = 0.01, relabel: bool = True,
                 generalise: float | None = 0.05, max_samples: int | None = None,
                 term_leaves: int | None = 16, term_learner: str = "unit",
                 term_cut: str = "majority", min_gain: float = 1, n_bins: int | None = 64,
                 unit_columns: int | None = 32, n_queries: int | None = 0,
                 max_domain: int | None = 100_000, fallback: float = 1.0,
                 per_class: bool = True, drop: bool = True, merge: bool = False,
                 selection: str = "covering", refine: bool = True,
                 refine_queries: float = 4.0, max_rules: int | None = None, max_terms: int | None = 2000,
                 max_seconds: float | None = 120.0, verbose: bool = False,
                 random_state: int | None = None):
        super().__init__(network, min_samples_leaf=min_samples_leaf, max_depth=max_depth,
                         min_support=min_support, beam=beam, prune=prune,
                         prune_tolerance=prune_tolerance, relabel=relabel, generalise=generalise,
                         max_samples=max_samples, term_leaves=term_leaves,
                         term_learner=term_learner, term_cut=term_cut, min_gain=min_gain,
                         n_bins=n_bins, unit_columns=unit_columns, n_queries=n_queries,
                         max_domain=max_domain, fallback=fallback, per_class=per_class,
                         drop=drop, merge=merge, selection=selection,
                         refine=refine, refine_queries=refine_queries,
                         max_rules=max_rules,
                         max_terms=max_terms, max_seconds=max_seconds, verbose=verbose,
                         random_state=random_state)

    def _check_depth(self, ws) -> None:
        if ws.stack.n_hidden != 1:
            raise UnsupportedModelError(
                f"CRED reads networks with one hidden layer; this one has {ws.stack.n_hidden} "
                f"(widths {list(ws.stack.widths[1:])}). Use --method deepred (layer by layer) "
                "or --method eclaire (every layer to the inputs directly)."
            )
