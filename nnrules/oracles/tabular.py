"""The oracle of tabular models: what pedagogical methods ask questions of.

An ``Oracle`` wraps a ``Network`` or any black box (a callable returning labels or values, or an
object with ``predict`` / ``predict_proba`` such as a scikit-learn model) and answers on rows in
the schema's space (numeric arrays of shape (n, n_features)). It counts queries and refuses
unusable answers (NaN, inf, wrong length) with ``OracleError``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from nnrules.exceptions import OracleError, ParameterError
from nnrules.io.model import nonfinite_mask, nonfinite_message

if TYPE_CHECKING:
    from nnrules.schema import FeatureSchema

__all__ = ["Oracle", "as_oracle"]


class Oracle:
    """Uniform access to a network or black box.

    Parameters
    ----------
    model : Network, callable, or object with ``predict``
        What to ask.
    schema : FeatureSchema or None
        Turns schema-space rows into what the model takes (decodes string categories).
    task : {"classification", "regression"} or None
        Overrides the task the model declares.
    """

    def __init__(self, model: Any, schema: FeatureSchema | None = None, task: str | None = None):
        self.model = model
        self.schema = schema
        self.n_queries = 0
        declared = getattr(model, "task", None)
        self.task: Literal["classification", "regression"] = task or declared or "classification"
        classes = getattr(model, "classes_", None)
        self.classes = None if classes is None else np.asarray(classes)

    # -- internals -----------------------------------------------------------------------
    def _feed(self, X: np.ndarray) -> Any:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise ParameterError(f"Queries must be a 2-D array; got shape {X.shape}.")
        self.n_queries += X.shape[0]
        if self.schema is not None:
            return self.schema.to_model_input(X)
        return X

    def _check(self, values: np.ndarray, n: int, what: str) -> np.ndarray:
        values = np.asarray(values)
        if values.shape[0] != n:
            raise OracleError(
                f"The model answered {values.shape[0]} {what} for {n} queries; it must answer one "
                "per row."
            )
        bad = nonfinite_mask(values)
        if bad.any():
            raise OracleError(nonfinite_message(bad, f"The model (asked for {what})"))
        return values

    # -- answers -------------------------------------------------------------------------
    def nonfinite_rows(self, X: np.ndarray) -> np.ndarray:
        """Which rows of ``X`` the model answers NaN or inf on, shape (n_samples,) of bool.

        A ``Network`` is asked for its score tensor (or values); another model's float answers
        are checked as they come (label answers have nothing to check). Not counted as queries.
        """
        if np.asarray(X).shape[0] == 0:  # a Network refuses 0 rows; internal callers may ask
            return np.zeros(0, dtype=bool)
        before = self.n_queries
        feed = self._feed(X)
        self.n_queries = before
        model = self.model
        if hasattr(model, "nonfinite_rows"):
            return np.asarray(model.nonfinite_rows(feed), dtype=bool)
        out = model.predict(feed) if hasattr(model, "predict") else model(feed)
        return nonfinite_mask(out)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Labels as the model names them (classification) or values (regression)."""
        n = np.asarray(X).shape[0]
        if n == 0 and (self.task != "classification" or self.classes is not None):
            # No rows, no question: a Network refuses 0 rows (some exported heads fail on them)
            return np.empty(0, dtype=np.float64 if self.task != "classification"
                            else self.classes.dtype)
        feed = self._feed(X)
        model = self.model
        if hasattr(model, "predict"):
            out = model.predict(feed)
        elif callable(model):
            out = model(feed)
        else:
            path = isinstance(model, (str, os.PathLike))
            raise ParameterError(
                f"Cannot query {type(model).__name__!r}: pass an nnrules Network, a callable, or "
                "an object with a predict method"
                + (f" (for a model file, load it first: nnrules.load({str(model)!r}))."
                   if path else ".")
            )
        out = self._check(out, n, "predictions")
        if self.task == "classification" and self.classes is None:
            self.classes = np.unique(out)
        return out

    def predict_index(self, X: np.ndarray) -> np.ndarray:
        """Class indices into ``classes`` (classification) or values (regression)."""
        return self.as_index(self.predict(X))

    def as_index(self, out: np.ndarray) -> np.ndarray:
        """``predict``'s answers as ``predict_index`` gives them (for a caller that keeps the
        labels too)."""
        if self.task != "classification":
            return np.asarray(out, dtype=np.float64)
        return self.encode(out)

    def encode(self, labels: np.ndarray) -> np.ndarray:
        """Map labels to indices into ``classes``; labels never seen are an OracleError."""
        labels = np.asarray(labels)
        classes = self.classes
        order = np.argsort(classes, kind="stable")
        pos = np.searchsorted(classes[order], labels)
        pos = np.clip(pos, 0, len(classes) - 1)
        idx = order[pos]
        if not np.all(classes[idx] == labels):
            unknown = sorted({str(v) for v in labels[classes[idx] != labels]})[:5]
            raise OracleError(
                f"The model answered labels {unknown} outside its classes {classes.tolist()}."
            )
        return idx.astype(np.int64)

    def scores(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities of shape (n, n_classes)."""
        n = np.asarray(X).shape[0]
        if n == 0 and self.classes is not None:
            return np.zeros((0, len(self.classes)))
        feed = self._feed(X)
        model = self.model
        if hasattr(model, "scores"):
            out = model.scores(feed)
        elif hasattr(model, "predict_proba"):
            out = model.predict_proba(feed)
        else:
            raise ParameterError(
                f"{type(model).__name__!r} gives no class scores; this method needs a Network or "
                "an object with predict_proba."
            )
        return self._check(np.asarray(out, dtype=np.float64), n, "scores")

    def logits(self, X: np.ndarray) -> np.ndarray:
        """Pre-activation class scores where the model has them, else log-odds of ``scores``."""
        n = np.asarray(X).shape[0]
        if hasattr(self.model, "logits"):
            out = self.model.logits(self._feed(X))
            return self._check(np.asarray(out, dtype=np.float64), n, "logits")
        p = np.clip(self.scores(X), 1e-12, 1.0)
        return np.log(p)


def as_oracle(model: Any, schema: FeatureSchema | None = None, task: str | None = None) -> Oracle:
    """Wrap ``model`` in an ``Oracle`` (an Oracle passes through, re-bound to ``schema``)."""
    if isinstance(model, Oracle):
        return Oracle(model.model, schema if schema is not None else model.schema, task or model.task)
    return Oracle(model, schema, task)
