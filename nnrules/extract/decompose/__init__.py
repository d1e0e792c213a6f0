"""The shared decompositional engine: layers, terms, intermediate rules, substitution,
simplification, input pruning, budgets and the extraction trace.

Used by ``cred``, ``deepred`` and ``eclaire`` (``nnrules/extract/<method>.py``); each module
here is one piece (see ``docs/architecture.md``).
"""

from __future__ import annotations

from nnrules.extract.decompose.budget import Budget, OutOfBudget
from nnrules.extract.decompose.layers import LayerStack, read_layers
from nnrules.extract.decompose.prune import PrunedInputs, prune_inputs
from nnrules.extract.decompose.simplify import implies, simplify_dnf, subsumes
from nnrules.extract.decompose.substitute import Product, conjoin
from nnrules.extract.decompose.terms import Leaf, Term, clause_mask, clause_text, learn_clauses
from nnrules.extract.decompose.trace import Trace

__all__ = [
    "Budget",
    "LayerStack",
    "Leaf",
    "OutOfBudget",
    "Product",
    "PrunedInputs",
    "Term",
    "Trace",
    "clause_mask",
    "clause_text",
    "conjoin",
    "implies",
    "learn_clauses",
    "prune_inputs",
    "read_layers",
    "simplify_dnf",
    "subsumes",
]
