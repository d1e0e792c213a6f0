"""MONK's problems (Thrun et al., 1991), generated from their definitions.

Six attributes with values starting at 1: a1, a2, a4 in {1, 2, 3}; a3, a6 in {1, 2}; a5 in
{1, 2, 3, 4}. All 432 combinations form the test set. The network input is one-hot, 17 columns
named ``a1_1, a1_2, a1_3, a2_1, ...`` so that ``FeatureSchema.infer`` sees six one-hot groups.

Concepts (class 1):

- MONK-1: ``(a1 = a2) or (a5 = 1)``; 124 training rows.
- MONK-2: exactly two of the six attributes take their first value (= 1); 169 training rows.
- MONK-3: ``(a5 = 3 and a4 = 1) or (a5 != 4 and a2 != 3)``; 122 training rows, 5% of whose labels
  are flipped (6 rows).

Training rows are a seeded random subset of the 432 (the original files are not bundled; the
sizes match them). Same ``random_state`` -> identical arrays.

Examples
--------
>>> from nnrules.datasets import load_monk
>>> data = load_monk(1)
>>> data.X_train.shape, data.X_test.shape, len(data.feature_names)
((124, 17), (432, 17), 17)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnrules.exceptions import ParameterError

__all__ = [
    "ATTRIBUTE_SIZES",
    "MONK_TRAIN_SIZES",
    "MonkData",
    "load_monk",
    "monk_attributes",
    "monk_concept",
    "monk_feature_names",
    "monk_onehot",
]

ATTRIBUTE_SIZES: tuple[int, ...] = (3, 3, 2, 3, 4, 2)
MONK_TRAIN_SIZES: dict[int, int] = {1: 124, 2: 169, 3: 122}
_NOISE = {1: 0.0, 2: 0.0, 3: 0.05}
# Per-problem default seeds keep the three subsets independent of each other.
_SEED_OFFSET = {1: 101, 2: 202, 3: 303}


@dataclass(frozen=True)
class MonkData:
    """One MONK's problem.

    Attributes
    ----------
    problem : int
        1, 2 or 3.
    X_train : ndarray of shape (n_train, 17), float64
        One-hot training rows.
    y_train : ndarray of shape (n_train,), int64
        Training labels (0/1), with MONK-3's flipped labels.
    X_test : ndarray of shape (432, 17), float64
        The whole domain, in the order of ``monk_attributes()``.
    y_test : ndarray of shape (432,), int64
        The true concept on the whole domain (no noise).
    feature_names : tuple of str, length 17
        ``a1_1, a1_2, a1_3, a2_1, ...``.
    train_index : ndarray of shape (n_train,), int64
        Rows of the domain chosen for training (sorted).
    flipped : ndarray of shape (n_flipped,), int64
        Positions in the training set whose labels were flipped (empty unless MONK-3).
    """

    problem: int
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    feature_names: tuple[str, ...]
    train_index: np.ndarray
    flipped: np.ndarray


def _check_problem(problem: int) -> int:
    if isinstance(problem, bool) or not isinstance(problem, (int, np.integer)) or problem not in (
        1,
        2,
        3,
    ):
        raise ParameterError(
            f"MONK's problem must be 1, 2 or 3; got {problem!r}. Pass one of 1, 2, 3."
        )
    return int(problem)


def monk_feature_names() -> tuple[str, ...]:
    """The 17 one-hot column names ``a1_1, a1_2, a1_3, a2_1, ..., a6_2``."""
    return tuple(
        f"a{a + 1}_{v + 1}" for a, size in enumerate(ATTRIBUTE_SIZES) for v in range(size)
    )


def monk_attributes() -> np.ndarray:
    """All 432 attribute combinations.

    Returns
    -------
    ndarray of shape (432, 6), int64
        Values start at 1; rows in lexicographic order (a1 slowest, a6 fastest).
    """
    grids = np.meshgrid(*[np.arange(1, s + 1) for s in ATTRIBUTE_SIZES], indexing="ij")
    return np.stack([g.ravel() for g in grids], axis=1).astype(np.int64)


def monk_onehot(A: np.ndarray) -> np.ndarray:
    """One-hot encode attribute rows.

    Parameters
    ----------
    A : ndarray of shape (n, 6)
        Attribute values starting at 1.

    Returns
    -------
    ndarray of shape (n, 17), float64
    """
    A = np.asarray(A, dtype=np.int64)
    sizes = np.asarray(ATTRIBUTE_SIZES)
    if A.ndim != 2 or A.shape[1] != 6 or np.any(A < 1) or np.any(A > sizes):
        raise ParameterError(
            f"MONK attribute rows must have shape (n, 6) with values 1..{list(ATTRIBUTE_SIZES)}; "
            f"got shape {A.shape}."
        )
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    X = np.zeros((A.shape[0], int(sizes.sum())), dtype=np.float64)
    rows = np.repeat(np.arange(A.shape[0]), 6)
    X[rows, (A - 1 + offsets).ravel()] = 1.0
    return X


def monk_concept(problem: int, A: np.ndarray) -> np.ndarray:
    """The target concept of a MONK's problem.

    Parameters
    ----------
    problem : {1, 2, 3}
    A : ndarray of shape (n, 6)
        Attribute values starting at 1.

    Returns
    -------
    ndarray of shape (n,), int64
        1 where the concept holds, else 0.
    """
    problem = _check_problem(problem)
    A = np.asarray(A, dtype=np.int64)
    a1, a2, a4, a5 = A[:, 0], A[:, 1], A[:, 3], A[:, 4]
    if problem == 1:
        y = (a1 == a2) | (a5 == 1)
    elif problem == 2:
        y = (A == 1).sum(axis=1) == 2
    else:
        y = ((a5 == 3) & (a4 == 1)) | ((a5 != 4) & (a2 != 3))
    return y.astype(np.int64)


def load_monk(problem: int, *, random_state: int | None = None) -> MonkData:
    """Generate one MONK's problem: a seeded training subset and the full 432-row test set.

    Parameters
    ----------
    problem : {1, 2, 3}
    random_state : int or None, default None
        Seed of the training subset and of MONK-3's label flips. None uses a fixed per-problem
        seed, so the default data never changes.

    Returns
    -------
    MonkData
    """
    problem = _check_problem(problem)
    seed = _SEED_OFFSET[problem] if random_state is None else int(random_state)
    rng = np.random.default_rng(seed)
    A = monk_attributes()
    X = monk_onehot(A)
    y = monk_concept(problem, A)
    n_train = MONK_TRAIN_SIZES[problem]
    train_index = np.sort(rng.choice(A.shape[0], size=n_train, replace=False)).astype(np.int64)
    y_train = y[train_index].copy()
    n_flip = round(_NOISE[problem] * n_train)
    flipped = np.sort(rng.choice(n_train, size=n_flip, replace=False)).astype(np.int64)
    y_train[flipped] = 1 - y_train[flipped]
    return MonkData(
        problem=problem,
        X_train=X[train_index].copy(),
        y_train=y_train,
        X_test=X,
        y_test=y,
        feature_names=monk_feature_names(),
        train_index=train_index,
        flipped=flipped,
    )
