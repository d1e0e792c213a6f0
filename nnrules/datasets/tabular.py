"""Fixed held-out splits of scikit-learn's bundled classification data sets.

Every split is stratified, 30% held out, seed 0, made by ``sklearn.model_selection.
train_test_split``; the committed fixtures under ``tests/fixtures/tabular/`` (``<name>.onnx``,
``<name>_train.csv``, ``<name>_test.csv``, ``split.json``) were made from exactly these splits by
``scripts/make_tabular_fixtures.py``. Column names are sanitised to ``[A-Za-z0-9_]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from nnrules.exceptions import ParameterError

__all__ = [
    "SPLIT_SEED",
    "TABULAR_NAMES",
    "TEST_SIZE",
    "TabularSplit",
    "load_tabular",
    "tabular_split",
]

TABULAR_NAMES = ("breast_cancer", "digits", "iris", "wine")
SPLIT_SEED = 0
TEST_SIZE = 0.3


@dataclass(frozen=True)
class TabularSplit:
    """A held-out split.

    Attributes
    ----------
    name : str
    X_train, X_test : ndarray of shape (n_train, d) / (n_test, d), float64
    y_train, y_test : ndarray of shape (n_train,) / (n_test,), int64
    feature_names : tuple of str, length d
    train_index, test_index : ndarray of int64
        Rows of the original scikit-learn data set.
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    feature_names: tuple[str, ...]
    train_index: np.ndarray
    test_index: np.ndarray


def _sanitise(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z_]+", "_", str(name)).strip("_")


def load_tabular(name: str) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """The whole scikit-learn data set.

    Parameters
    ----------
    name : {"breast_cancer", "digits", "iris", "wine"}

    Returns
    -------
    X : ndarray of shape (n, d), float64
    y : ndarray of shape (n,), int64
    feature_names : tuple of str
    """
    from sklearn import datasets

    if name not in TABULAR_NAMES:
        raise ParameterError(
            f"Unknown tabular data set {name!r}; valid names are {list(TABULAR_NAMES)}."
        )
    bunch = getattr(datasets, f"load_{name}")()
    names = getattr(bunch, "feature_names", None)
    if names is None or len(names) != bunch.data.shape[1]:
        names = [f"x{i}" for i in range(bunch.data.shape[1])]
    return (
        np.asarray(bunch.data, dtype=np.float64),
        np.asarray(bunch.target, dtype=np.int64),
        tuple(_sanitise(n) for n in names),
    )


def tabular_split(name: str, *, random_state: int = SPLIT_SEED) -> TabularSplit:
    """A stratified 70/30 split of a bundled data set (seed 0 is the fixtures' split).

    Parameters
    ----------
    name : {"breast_cancer", "digits", "iris", "wine"}
    random_state : int, default 0

    Returns
    -------
    TabularSplit
    """
    from sklearn.model_selection import train_test_split

    X, y, names = load_tabular(name)
    index = np.arange(X.shape[0])
    train_index, test_index = train_test_split(
        index, test_size=TEST_SIZE, stratify=y, random_state=random_state
    )
    train_index = np.asarray(train_index, dtype=np.int64)
    test_index = np.asarray(test_index, dtype=np.int64)
    return TabularSplit(
        name=name,
        X_train=X[train_index],
        y_train=y[train_index],
        X_test=X[test_index],
        y_test=y[test_index],
        feature_names=names,
        train_index=train_index,
        test_index=test_index,
    )
