"""The extractor base: scikit-learn style estimators that turn a network into a surrogate.

``__init__`` stores parameters only; ``fit(X, y=None)`` validates them from
``_parameter_constraints``, turns ``X`` into a ``Dataset`` once (a ``Dataset`` passes through
as it is), checks its columns against the network's inputs, builds the oracle, calls ``_fit``
and returns ``self``. Learned state ends in ``_``: ``surrogate_``, ``schema_``, ``oracle_``,
``n_queries_``, ``fit_seconds_``, ``n_train_``, ``partial_reason_`` and ``provenance_`` (the
record ``nnrules.fidelity.evaluate`` reads; fidelity never looks at the extractor itself).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from nnrules._validation import validate_params
from nnrules.exceptions import NotFittedError
from nnrules._params import Params
from nnrules.oracles import as_oracle

if TYPE_CHECKING:
    from nnrules.fidelity import FidelityReport
    from nnrules.io.data import Dataset
    from nnrules.provenance import Provenance

__all__ = ["Extractor"]


class Extractor(Params):
    """Base of every extraction method.

    Subclasses set ``method`` (the registry name), ``family`` ("pedagogical" or
    "decompositional"), ``_parameter_constraints``, and implement ``_fit(X, y)`` returning the
    surrogate. Inside ``_fit``, ``self.oracle_`` answers queries in the schema's space and
    ``self.schema_`` describes the features. A method that a budget stops before it finishes
    sets ``self.partial_reason_`` (a sentence) there; ``fit`` resets it to None first.
    """

    method: ClassVar[str] = ""
    family: ClassVar[str] = "pedagogical"
    _parameter_constraints: ClassVar[dict] = {}

    def fit(self, X: Any, y: Any = None, *, schema: Any = None, feature_names: Any = None):
        """Extract a surrogate from the network.

        Parameters
        ----------
        X : Dataset, DataFrame, or array-like of shape (n_samples, n_features)
            Rows the network could meet (the extraction data). A ``Dataset`` (from
            ``read_data``) is used as it is: it was validated when it was read.
        y : array-like of shape (n_samples,), optional
            True labels; used only by methods that say so, never to fit the surrogate's outputs.
        schema : FeatureSchema, optional
            Feature kinds and bounds; inferred from ``X`` when not given.
        feature_names : sequence of str, optional
            Column names when ``X`` is a bare array.

        Returns
        -------
        self

        Raises
        ------
        DataError
            The data's columns do not fit the network's inputs (count, names, order).
        """
        from nnrules.io.data import as_dataset

        validate_params(self)
        start = time.perf_counter()
        data = self._checked(as_dataset(X, y=y, schema=schema, feature_names=feature_names))
        self.schema_ = data.schema
        self.oracle_ = as_oracle(self.network, data.schema, getattr(self, "task", None))
        self.partial_reason_ = None
        self.surrogate_ = self._fit(data.X, data.y)
        self.n_queries_ = self.oracle_.n_queries
        self.n_train_ = int(data.X.shape[0])
        self.fit_seconds_ = time.perf_counter() - start
        self.provenance_ = self._provenance(
            train_fingerprint=data.fingerprint(),
            train_row_hashes=np.unique(data.row_hashes()),
        )
        return self

    def _fit(self, X: np.ndarray, y: np.ndarray | None):  # pragma: no cover - abstract
        raise NotImplementedError

    def _provenance(self, **train: Any) -> Provenance:
        """The record of this fit for ``nnrules.fidelity.evaluate``; ``train`` names the
        extraction data (``train_fingerprint`` and ``train_row_hashes``, or ``train_tokens``)."""
        from nnrules.provenance import Provenance

        params = self.get_params(deep=False)
        params.pop("network", None)
        return Provenance(
            method=self.method or type(self).__name__,
            parameters=params,
            seed=params.get("random_state"),
            n_train=self.n_train_,
            n_queries=self.n_queries_,
            fit_seconds=self.fit_seconds_,
            model_sha256=getattr(self.network, "sha256", None),
            partial_reason=getattr(self, "partial_reason_", None),
            **train,
        )

    def _check_fitted(self) -> None:
        if not hasattr(self, "surrogate_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet; call fit(X) before using it."
            )

    def _checked(self, data: Dataset) -> Dataset:
        """``data`` with its columns checked against the network's inputs (``check_columns``):
        a bare array's columns take the model's names, and for multi-input models the schema
        learns which graph input each column feeds. Names only: the rows are not read again."""
        from nnrules.io.columns import check_columns

        checked = check_columns(data, self.network)
        return data if checked is data.schema else replace(data, schema=checked)

    def _data(self, X: Any, y: Any = None) -> Dataset:
        """``X`` (and ``y``) as a Dataset in the fitted schema; a Dataset passes through without
        being rebuilt or validated again (it was validated when it was read)."""
        from nnrules.io.data import Dataset, as_dataset

        if isinstance(X, Dataset):
            X = self._checked(X)
        return as_dataset(X, y=y, schema=self.schema_)

    def predict(self, X: Any) -> np.ndarray:
        """The surrogate's predictions (labels as the network names them, or values)."""
        self._check_fitted()
        return self.surrogate_.predict(self._data(X).X)

    def report(self, X: Any, y: Any = None, *, data_name: str = "evaluation data") -> FidelityReport:
        """A fidelity report of the surrogate against the network on ``X`` (a Dataset, a
        DataFrame or an array in the fitted schema)."""
        self._check_fitted()
        from nnrules.fidelity import evaluate

        data = self._data(X, y)
        return evaluate(self.surrogate_, self.oracle_, data, data_name=data_name,
                        provenance=self.provenance_)
