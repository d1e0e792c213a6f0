"""Benchmark data sets generated from their definitions (no downloads).

``load_monk(problem)`` gives MONK's problems 1-3 (Thrun et al., 1991) as one-hot arrays;
``load_tabular(name)`` reads the fixed 70/30 splits of scikit-learn's bundled data sets that the
committed test fixtures were trained on; ``TOMITA`` and ``DECIMAL`` (``languages.py``) are
regular languages with hand-written minimal DFAs, the ground truth of the automaton tests and
benchmarks.
"""

from __future__ import annotations

from nnrules.datasets.languages import DECIMAL, TOMITA, Language, sample_strings
from nnrules.datasets.monks import (
    ATTRIBUTE_SIZES,
    MONK_TRAIN_SIZES,
    MonkData,
    load_monk,
    monk_attributes,
    monk_concept,
    monk_feature_names,
    monk_onehot,
)
from nnrules.datasets.tabular import TABULAR_NAMES, TabularSplit, load_tabular, tabular_split

__all__ = [
    "ATTRIBUTE_SIZES",
    "DECIMAL",
    "MONK_TRAIN_SIZES",
    "TABULAR_NAMES",
    "TOMITA",
    "Language",
    "MonkData",
    "TabularSplit",
    "load_monk",
    "load_tabular",
    "monk_attributes",
    "monk_concept",
    "monk_feature_names",
    "monk_onehot",
    "sample_strings",
    "tabular_split",
]
