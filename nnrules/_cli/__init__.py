"""The implementation of ``nnrules.cli``: shared helpers, the verbs, the batched paths."""
