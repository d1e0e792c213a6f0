"""The parts methods are built from; none of them is a method.

- ``sampling.py``: schema-respecting query generation (``sample_queries`` for ``tree`` and
  ``additive``; ``QuerySampler`` under a tree node's path constraints for ``trepan``).
- ``mofn.py``: the split search of ``trepan`` (best single test, beam search over m-of-n tests).
- ``lstar.py``: Angluin's L* for Moore machines, the learner of ``automaton``.

Each module is one algorithm, usable on its own (they take arrays and callables, not
extractors). Larger engines have rooms of their own: the verifier in ``nnrules.verify``, the
oracles in ``nnrules.oracles``.
"""
