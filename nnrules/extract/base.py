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

from nnrules._params import Params
from nnrules._validation import validate_params
from nnrules.exceptions import DataError, NotFittedError, OracleError, ParameterError
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

    def fit(self, X: Any, y: Any = None, *, schema: Any = None, feature_names: Any = None,
            nonfinite: str = "raise"):
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
        nonfinite : {"raise", "drop"}, default "raise"
            Rows of ``X`` the network answers NaN or inf on: refused (``OracleError`` at the
            first query that meets one) or dropped before extraction (their number in
            ``n_nonfinite_dropped_``). Queries the method makes up itself are always refused
            when the answer is NaN or inf: no class is read from NaN.

        Returns
        -------
        self

        Raises
        ------
        DataError
            The data's columns do not fit the network's inputs (count, names, order).
        OracleError
            The network answered NaN or inf (see ``nonfinite``).
        """
        self._fit_data(X, y, schema=schema, feature_names=feature_names, nonfinite=nonfinite)
        return self

    def _fit_data(self, X: Any, y: Any = None, *, schema: Any = None, feature_names: Any = None,
                  nonfinite: str = "raise", labels: Any = None,
                  ) -> tuple[Dataset, np.ndarray | None, Dataset]:
        """The body of :meth:`fit`: the rows fitted on (after ``nonfinite``), the network's
        labels on them when known (asked by the fit through :meth:`_network_labels`, or given),
        else None, and ``X`` as the checked Dataset (before ``nonfinite``).

        ``labels``: the network's labels on the rows of ``X``, asked already by the caller (the
        CLI's ``--sample`` stratifies by them); used for a classification oracle when no row
        was dropped, counted as the fit's queries when it asks for them (as if it had asked).
        """
        from nnrules.io.data import as_dataset
        from nnrules.io.hashing import distinct_hashes

        validate_params(self)
        start = time.perf_counter()
        data = self._checked(as_dataset(X, y=y, schema=schema, feature_names=feature_names))
        self.schema_ = data.schema
        self.oracle_ = as_oracle(self.network, data.schema, getattr(self, "task", None))
        given = data
        data = self._drop_nonfinite(data, nonfinite)
        self.partial_reason_ = None
        known = None
        if (labels is not None and data is given and self.oracle_.task == "classification"
                and len(labels) == len(data.X)):
            known = np.asarray(labels)
        # The rows whose labels _network_labels keeps for _annotate, for this call only.
        self._fit_rows, self._fit_labels = data.X, known
        try:
            self.surrogate_ = self._fit(data.X, data.y)
            notes = getattr(self.surrogate_, "notes", None)
            if isinstance(notes, dict) and self.method:
                notes.setdefault("method", self.method)  # a saved surrogate names its method
            self.n_queries_ = self.oracle_.n_queries
            self._annotate(data.X, source="training", data="extraction data", stats=True)
            labels = self._fit_labels
        finally:
            self._fit_rows = self._fit_labels = None
        self.n_train_ = int(data.X.shape[0])
        self.fit_seconds_ = time.perf_counter() - start
        self.provenance_ = self._provenance(
            train_fingerprint=data.fingerprint(),
            train_row_hashes=distinct_hashes(data.row_hashes()),
        )
        return data, labels, given

    def _fit_and_report(self, X: Any, *, data_name: str = "extraction data",
                        label_map: Any = None, nonfinite: str = "raise",
                        labels: Any = None) -> FidelityReport:
        """``fit(X, nonfinite=nonfinite)`` then ``report(X, ...)``, in one call: the network's
        labels on the fitted rows, asked during the fit, serve the report (the CLI without
        ``--eval``). Nothing runs between the two, so nothing can have changed the rows; a
        separate ``report`` call always asks the network. ``labels``: as :meth:`_fit_data`."""
        data, labels, given = self._fit_data(X, nonfinite=nonfinite, labels=labels)
        return self._report(given, data_name, label_map, nonfinite,
                            labels if labels is not None and given.X is data.X else None)

    def _drop_nonfinite(self, data: Dataset, nonfinite: str) -> Dataset:
        """``data`` without the rows the network answers NaN or inf on (``nonfinite="drop"``);
        sets ``n_nonfinite_dropped_``."""
        self.n_nonfinite_dropped_ = 0
        if nonfinite not in ("raise", "drop"):
            raise ParameterError(
                f"The 'nonfinite' parameter of {type(self).__name__}.fit must be 'raise' or "
                f"'drop'. Got {nonfinite!r} instead.")
        if nonfinite == "raise":
            return data
        bad = self.oracle_.nonfinite_rows(data.X)
        if bad.all():
            raise OracleError(
                f"The network answered NaN or inf on all {bad.size} rows of {data.name!r}: "
                "nothing is left to extract from. Check the model's weights.")
        self.n_nonfinite_dropped_ = int(bad.sum())
        if not bad.any():
            return data
        keep = ~bad
        return replace(data, X=data.X[keep], y=None if data.y is None else data.y[keep])

    def _network_labels(self, rows: np.ndarray) -> np.ndarray:
        """``oracle_.predict(rows)``; when ``rows`` is the very array ``_fit`` was given, the
        answers are kept, for the rest of this ``fit`` call only, for the annotation after the
        fit (and :meth:`_fit_and_report`'s report), which then ask the network nothing. Labels
        known already (an earlier call, or given to :meth:`_fit_data`) are not asked again but
        counted as queries, as asking would."""
        if rows is not getattr(self, "_fit_rows", None):
            return self.oracle_.predict(rows)
        if self._fit_labels is None:
            self._fit_labels = self.oracle_.predict(rows)
        else:
            self.oracle_.n_queries += len(rows)
        return self._fit_labels

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
            extraction=self._extraction_figures(),
            **train,
        )

    def _extraction_figures(self) -> dict:
        """Method-specific figures for the report's ``details`` (none by default)."""
        return {}

    def _check_fitted(self) -> None:
        if not hasattr(self, "surrogate_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet; call fit(X) before using it."
            )

    def _checked(self, data: Dataset) -> Dataset:
        """``data`` with its columns checked against the network's inputs (``check_columns``):
        a bare array's columns take the model's names, and for multi-input models the schema
        learns which graph input each column feeds. Names only: the rows are not read again,
        unless they hold the model's named columns in another order (``in_model_order`` puts
        them in the model's order, with a warning)."""
        from nnrules.io.columns import check_columns, in_model_order

        data = in_model_order(data, self.network)
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

    def report(self, X: Any, y: Any = None, *, data_name: str = "evaluation data",
               label_map: Any = None, nonfinite: str = "raise") -> FidelityReport:
        """A fidelity report of the surrogate against the network on ``X`` (a Dataset, a
        DataFrame or an array in the fitted schema); ``label_map`` maps true labels to the
        network's classes, ``nonfinite`` says what to do with rows the network answers NaN or
        inf on (see ``nnrules.fidelity.evaluate``)."""
        self._check_fitted()
        return self._report(self._data(X, y), data_name, label_map, nonfinite, None)

    def _report(self, data: Dataset, data_name: str, label_map: Any, nonfinite: str,
                reference: np.ndarray | None, *, answers: dict | None = None,
                ) -> FidelityReport:
        """:meth:`report` on a Dataset; ``reference``: the network's labels on ``data.X``
        when the caller already has them (:meth:`_fit_and_report`); ``answers``: a dict that
        receives the rows measured and the network's answers on them (``X``, ``reference``)."""
        from nnrules.fidelity import evaluate

        return evaluate(self.surrogate_, self.oracle_, data, data_name=data_name,
                        provenance=self.provenance_, label_map=label_map, nonfinite=nonfinite,
                        _reference=reference, _answers=answers)

    def attach_local_fidelity(self, X: Any, report: FidelityReport) -> None:
        """Store on ``surrogate_`` the local fidelity per leaf / rule / box measured on ``X``,
        the rows ``report`` was measured on (``fit`` stores it from the extraction rows; call
        this with held-out rows so the surrogate file carries the honest figures). When
        ``report`` dropped rows the network answered NaN or inf on (``nonfinite="drop"``),
        the figures are measured on the rows it kept, and only those are asked about."""
        from nnrules.fidelity_report import FidelityReport

        self._check_fitted()
        if not isinstance(report, FidelityReport):
            raise ParameterError(
                f"attach_local_fidelity takes the FidelityReport measured on X (from "
                f"report(X)); got {type(report).__name__}.")
        rows = self._data(X).X
        if report.data.get("nonfinite_dropped"):
            kept = getattr(report, "_nonfinite_kept", None)
            if ((kept is None or len(kept) != len(rows))  # a report read back from JSON
                    and hasattr(self.oracle_, "nonfinite_rows")):
                before = self.oracle_.n_queries
                kept = ~np.asarray(self.oracle_.nonfinite_rows(rows), dtype=bool)
                self.oracle_.n_queries = before
            if kept is not None:
                rows = rows[kept]
        if len(rows) != report.n_eval:
            # The figures would carry the report's data name and kind for other rows.
            raise DataError(
                f"attach_local_fidelity takes the rows the report was measured on: the report "
                f"on {report.data.get('name')!r} measured {report.n_eval} rows, X has "
                f"{len(rows)}. Pass the same rows, or make a report on these rows first "
                "(report(X)).")
        self._annotate(rows, source=_source(report), data=str(report.data.get("name", "")))

    def _report_and_attach(self, X: Any, *, data_name: str = "evaluation data",
                           label_map: Any = None, nonfinite: str = "raise") -> FidelityReport:
        """:meth:`report` then :meth:`attach_local_fidelity` on the same rows, the network
        asked once (the CLI's ``extract --eval FILE``): the report's answers on the rows it
        measured serve the per-leaf figures. With ``nonfinite="drop"`` those are the rows the
        network answered finite numbers on."""
        self._check_fitted()
        answers: dict = {}
        report = self._report(self._data(X), data_name, label_map, nonfinite, None,
                              answers=answers)
        self._annotate(np.asarray(answers["X"]), source=_source(report),
                       data=str(report.data.get("name", "")), reference=answers["reference"])
        return report

    def _annotate(self, X: np.ndarray, *, source: str, data: str, stats: bool = False,
                  reference: np.ndarray | None = None) -> None:
        """Store the local fidelity per leaf / rule / box (and with ``stats`` what reason codes
        need) on the surrogate, from the network's answers on ``X`` (``reference`` when the
        caller has them already); not counted as queries."""
        from nnrules.surrogates.reasons import SUPPORTED, attach

        if getattr(self.surrogate_, "FORMAT", None) not in SUPPORTED or len(X) == 0:
            return
        before = self.oracle_.n_queries
        kept = getattr(self, "_fit_labels", None)
        if reference is not None:
            reference = np.asarray(reference)
        elif kept is not None and X is getattr(self, "_fit_rows", None):
            reference = np.asarray(kept)  # the network already answered on these very rows
        else:
            reference = np.asarray(self.oracle_.predict(X))
        self.oracle_.n_queries = before
        attach(self.surrogate_, X, reference, source=source, data=data, stats=stats)


def _source(report: FidelityReport) -> str:
    """What the rows of ``report`` were, in the words of the per-leaf figures' ``source``."""
    kind = str(report.data.get("kind", ""))
    return ("training" if kind.startswith("the extraction data") or
            kind.endswith("taken from the extraction data") else
            "evaluation, partly extraction rows" if "also extraction" in kind else
            "evaluation")
