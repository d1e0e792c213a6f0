"""The parts methods are built from; none of them is a method.

- ``sampling.py``: schema-respecting query generation (``sample_queries`` for ``tree`` and
  ``additive``; ``QuerySampler`` under a tree node's path constraints for ``trepan``).
- ``mofn.py``: the split search of ``trepan`` (best single test, beam search over m-of-n tests).
- ``lstar.py``: Angluin's L* for Moore machines, the learner of ``automaton``.
- ``via_growth.py`` / ``via_regression.py``: boxes grown around rows, every step proven by a
  :class:`nnrules.verify.Verifier` (``via``'s candidates, classification and regression).

Each module is one algorithm, usable on its own (they take arrays, callables and verifiers,
not extractors). Larger engines have rooms of their own: the verifier in ``nnrules.verify``, the
oracles in ``nnrules.oracles``.
"""
