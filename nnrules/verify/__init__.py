"""The verification engine: certified bounds, splitting, mixed-integer programming, search.

One object answers every question: a :class:`Verifier`, built once from a network (or its layer
IR) and the settings, proves boxes for a class or a regression range, bounds outputs over
boxes and finds counterexamples that onnxruntime confirms. ``via`` uses it; so will the
certification of other surrogates and the decompositional engine.

Modules, each one piece of the engine:

- :mod:`~nnrules.verify.verifier`: :class:`Verifier`, :class:`Verdict`, :class:`Budget`;
- :mod:`~nnrules.verify.bounds`: interval and linear (back-substituted) bounds, float32 error;
- :mod:`~nnrules.verify.alpha`: optimised ReLU slopes for the linear bound;
- :mod:`~nnrules.verify.relu_split` / :mod:`~nnrules.verify.input_split`: branch and bound
  on first-layer ReLU signs / on input intervals;
- :mod:`~nnrules.verify.milp`: complete verification of ReLU networks;
- :mod:`~nnrules.verify.attack`: the counterexample search;
- :mod:`~nnrules.verify.domain`: boxes in schema space (whole numbers, one-hot groups).
"""

from __future__ import annotations

from nnrules.verify.domain import Domain
from nnrules.verify.verifier import Budget, Verdict, Verifier

__all__ = ["Budget", "Domain", "Verdict", "Verifier"]
