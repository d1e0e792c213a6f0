"""The extractor base: scikit-learn style estimators that turn a network into a surrogate.

``__init__`` stores parameters only; ``fit(X, y=None)`` validates them from
``_parameter_constraints``, builds the schema and the oracle, calls ``_fit`` and returns
``self``. Learned state ends in ``_``: ``surrogate_``, ``schema_``, ``n_queries_``,
``fit_seconds_``, ``n_train_``.
"""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from nnrules.extract.params import Params

from nnrules._validation import validate_params
from nnrules.exceptions import NotFittedError
from nnrules.extract.oracle import as_oracle

if TYPE_CHECKING:
    from nnrules.fidelity import FidelityReport

__all__ = ["Extractor", "fingerprint", "row_hashes"]


def fingerprint(X: np.ndarray) -> str:
    """SHA-256 of a float64 array's bytes and shape: tells whether two data sets are the same."""
    X = np.ascontiguousarray(np.asarray(X, dtype=np.float64))
    digest = hashlib.sha256(str(X.shape).encode())
    digest.update(memoryview(X).cast("B"))  # the same bytes as X.tobytes(), without a copy
    return digest.hexdigest()


def row_hashes(X: np.ndarray) -> np.ndarray:
    """A 64-bit hash of every row of a 2-D float array, shape (n_rows,) of uint64.

    Used to tell which evaluation rows were also extraction rows (equal rows, equal hashes;
    unequal rows collide with probability about 2^-64).
    """
    X = np.ascontiguousarray(np.asarray(X, dtype=np.float64))
    bits = X.view(np.uint64)
    # Fixed odd multipliers, one per column (seeded, so hashes agree across runs).
    keys = np.random.default_rng(20261122).integers(
        1, 2**63 - 1, size=bits.shape[1], dtype=np.uint64) | np.uint64(1)
    out = np.zeros(len(bits), dtype=np.uint64)
    for j in range(bits.shape[1]):  # column by column: no (n, d) temporary
        out = (out ^ bits[:, j]) * keys[j]
    return out


class Extractor(Params):
    """Base of every extraction method.

    Subclasses set ``method`` (the registry name), ``family`` ("pedagogical" or
    "decompositional"), ``_parameter_constraints``, and implement ``_fit(X, y)`` returning the
    surrogate. Inside ``_fit``, ``self.oracle_`` answers queries in the schema's space and
    ``self.schema_`` describes the features.
    """

    method: ClassVar[str] = ""
    family: ClassVar[str] = "pedagogical"
    _parameter_constraints: ClassVar[dict] = {}

    def fit(self, X: Any, y: Any = None, *, schema: Any = None, feature_names: Any = None):
        """Extract a surrogate from the network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), DataFrame, or Dataset
            Rows the network could meet (the extraction data).
        y : array-like of shape (n_samples,), optional
            True labels; used only by methods that say so, never to fit the surrogate's outputs.
        schema : FeatureSchema, optional
            Feature kinds and bounds; inferred from ``X`` when not given.
        feature_names : sequence of str, optional
            Column names when ``X`` is a bare array.

        Returns
        -------
        self
        """
        from nnrules.io.data import as_dataset

        validate_params(self)
        start = time.perf_counter()
        data = as_dataset(X, y=y, schema=schema, feature_names=feature_names)
        self.schema_ = data.schema
        self.oracle_ = as_oracle(self.network, data.schema, getattr(self, "task", None))
        self.surrogate_ = self._fit(data.X, data.y)
        self.n_queries_ = self.oracle_.n_queries
        self.n_train_ = int(data.X.shape[0])
        self.train_fingerprint_ = fingerprint(data.X)
        self.train_row_hashes_ = np.unique(row_hashes(data.X))
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def _fit(self, X: np.ndarray, y: np.ndarray | None):  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_fitted(self) -> None:
        if not hasattr(self, "surrogate_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet; call fit(X) before using it."
            )

    def predict(self, X: Any) -> np.ndarray:
        """The surrogate's predictions (labels as the network names them, or values)."""
        self._check_fitted()
        from nnrules.io.data import as_dataset

        data = as_dataset(X, schema=self.schema_)
        return self.surrogate_.predict(data.X)

    def report(self, X: Any, y: Any = None, *, data_name: str = "evaluation data") -> FidelityReport:
        """A fidelity report of the surrogate against the network on ``X``."""
        self._check_fitted()
        from nnrules.fidelity import evaluate
        from nnrules.io.data import as_dataset

        data = as_dataset(X, y=y, schema=self.schema_)
        return evaluate(
            self.surrogate_,
            self.oracle_,
            data.X,
            data.y,
            data_name=data_name,
            extractor=self,
        )
