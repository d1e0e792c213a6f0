"""Input pruning after RxREN (Augasta & Kathirvalavakumar, 2012).

An input whose removal — set to its training median on every row — changes the network's
predictions on at most ``tolerance`` of the rows is dropped. The candidates are removed together
and, while the joint removal changes more than ``tolerance`` of the rows, the candidate whose
own removal changed the most is put back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from nnrules.exceptions import DataError, ParameterError

__all__ = ["PrunedInputs", "prune_inputs"]


@dataclass(frozen=True)
class PrunedInputs:
    """Which inputs stay.

    Attributes
    ----------
    kept : tuple of int
        Input columns the network still needs.
    dropped : tuple of int
        Input columns set to their median without changing more than ``tolerance`` of the
        predictions (jointly).
    medians : tuple of float
        The training median of every input column.
    changed : tuple of float
        Per input column, the fraction of rows whose prediction changes when that column alone
        is set to its median.
    joint_change : float
        Fraction of rows whose prediction changes when all dropped columns are at their medians.
    """

    kept: tuple[int, ...]
    dropped: tuple[int, ...]
    medians: tuple[float, ...]
    changed: tuple[float, ...]
    joint_change: float

    def to_dict(self, names: Any = None) -> dict[str, Any]:
        """JSON-ready summary; ``names`` (sequence of str) labels the columns."""
        label = (lambda j: str(names[j])) if names is not None else (lambda j: f"x{j}")
        return {"kept": [label(j) for j in self.kept],
                "dropped": [label(j) for j in self.dropped],
                "joint_change": self.joint_change}


def _predict(network: Any, X: np.ndarray) -> np.ndarray:
    if hasattr(network, "predict_index"):
        return np.asarray(network.predict_index(X))
    if hasattr(network, "predict"):
        return np.asarray(network.predict(X))
    return np.asarray(network(X))


def prune_inputs(network: Any, X: Any, tolerance: float = 0.01, *,
                 reference: Any = None) -> PrunedInputs:
    """Inputs the network's predictions on ``X`` barely depend on.

    Parameters
    ----------
    network : Network, Oracle, callable or object with ``predict``
        Answers labels for rows of ``X``.
    X : array-like of shape (n_samples, n_features)
        Training rows.
    tolerance : float, default=0.01
        Largest fraction of rows whose prediction may change, in [0, 1).
    reference : array-like of shape (n_samples,), optional
        The network's labels on ``X`` as ``network`` answers them, when the caller has them
        (saves one pass over the network); None asks the network.

    Returns
    -------
    PrunedInputs

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).uniform(size=(200, 3))
    >>> pruned = prune_inputs(lambda X: (X[:, 1] > 0.5).astype(int), X, tolerance=0.0)
    >>> pruned.kept, pruned.dropped
    ((1,), (0, 2))
    """
    if not (isinstance(tolerance, (int, float)) and 0.0 <= tolerance < 1.0):
        raise ParameterError(
            f"The 'tolerance' parameter of prune_inputs must be a float in [0, 1). "
            f"Got {tolerance!r} instead."
        )
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or len(X) == 0:
        raise DataError(f"prune_inputs needs a non-empty 2-D array; got shape {X.shape!r}.")
    base = _predict(network, X) if reference is None else np.asarray(reference)
    medians = np.median(X, axis=0)
    changed = np.zeros(X.shape[1])
    Xj = X.copy()  # one working copy: each column in turn at its median, then restored
    for j in range(X.shape[1]):
        Xj[:, j] = medians[j]
        changed[j] = float(np.mean(_predict(network, Xj) != base))
        Xj[:, j] = X[:, j]
    candidates = [j for j in range(X.shape[1]) if changed[j] <= tolerance]
    candidates.sort(key=lambda j: (changed[j], j))
    while candidates:
        Xd = X.copy()
        Xd[:, candidates] = medians[candidates]
        joint = float(np.mean(_predict(network, Xd) != base))
        if joint <= tolerance:
            break
        candidates.pop()  # the one whose own removal changed the most
    else:
        joint = 0.0
    if len(candidates) == X.shape[1]:  # keep at least the most influential input
        candidates.pop()
        Xd = X.copy()
        Xd[:, candidates] = medians[candidates]
        joint = float(np.mean(_predict(network, Xd) != base)) if candidates else 0.0
    dropped = tuple(sorted(candidates))
    kept = tuple(j for j in range(X.shape[1]) if j not in set(dropped))
    return PrunedInputs(kept, dropped, tuple(float(m) for m in medians),
                        tuple(float(c) for c in changed), joint)
