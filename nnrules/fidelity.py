"""Fidelity: how often a surrogate agrees with the network, said honestly.

Classification: agreement on the evaluation rows with a Wilson 95% interval, per class (by the
network's label), and accuracy of both against true labels when given. Regression: R² of the
surrogate against the network's output, with a seeded bootstrap 95% interval. Every report says
which data it was measured on, how many rows, and warns when that is the extraction data.

This module knows surrogates, oracles and networks, never extractors: what an extraction was
(method, parameters, seed, its data's row hashes, queries, time, whether it stopped early) comes
in as an explicit ``Provenance`` record, and ``evaluate`` works without one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from nnrules.evaluation_checks import (
    check_labels,
    constant_baseline,
    invalid_rows_warning,
    is_network,
    map_labels,
    outside_domain,
    same_labels,
    unnamed_model,
)
from nnrules.exceptions import DataError, OracleError, ParameterError
from nnrules.fidelity_report import (  # noqa: F401  (re-exported: old import paths)
    FidelityReport,
    _cell,
    _jsonable,
    _num,
    _versions,
)
from nnrules.io.data import Dataset
from nnrules.io.hashing import fingerprint, row_hashes
from nnrules.provenance import Provenance
from nnrules.surrogates.base import plain

__all__ = ["FidelityReport", "Provenance", "evaluate", "map_labels", "r2_score", "wilson_interval"]

_Z95 = 1.959963984540054


def columns_by_position(schema: Any, warnings: list[str]) -> dict[str, str]:
    """The report's ``columns_matched`` field for a model without feature names, appending
    the warning that the data's columns (``schema``'s names) were fed by position.

    Shared by :func:`evaluate` and ``nnrules.fidelity_stream.report_from_counts``.
    """
    names = list(getattr(schema, "names", ()))
    shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    warnings.append(
        "The model carries no feature names, so nothing checked that the data's columns "
        f"({shown}) are in the order the network was trained on: they were fed by position "
        "and the surrogate uses these names. If the order differs, its rules name the wrong "
        "features. Store the names in the model (metadata 'feature_names') to have them "
        "checked."
    )
    return {"columns_matched": "by position: the model carries no feature names"}


def wilson_interval(k: int, n: int, z: float = _Z95) -> tuple[float, float]:
    """Wilson score interval for ``k`` successes in ``n`` trials.

    Examples
    --------
    >>> lo, hi = wilson_interval(95, 100)
    >>> round(lo, 4), round(hi, 4)
    (0.8882, 0.9785)
    """
    if n <= 0:
        raise DataError("A fidelity interval needs at least one row; got 0 rows.")
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # The bounds are exactly 0 / 1 at the extremes; say so rather than 0.9999999999999999.
    lo = 0.0 if k == 0 else max(0.0, centre - half)
    hi = 1.0 if k == n else min(1.0, centre + half)
    return lo, hi


def r2_score(reference: np.ndarray, values: np.ndarray) -> float | None:
    """R² of ``values`` against ``reference`` (None when the reference is constant)."""
    reference = np.asarray(reference, dtype=np.float64).reshape(len(reference), -1)
    values = np.asarray(values, dtype=np.float64).reshape(len(values), -1)
    ss_tot = float(np.sum((reference - reference.mean(axis=0)) ** 2))
    if ss_tot == 0.0:
        return None
    return 1.0 - float(np.sum((reference - values) ** 2)) / ss_tot


def _bootstrap_r2(reference: np.ndarray, values: np.ndarray, n_boot: int = 200) -> list | None:
    rng = np.random.default_rng(0)
    n = len(reference)
    ref = np.asarray(reference, dtype=np.float64).reshape(n, -1)
    val = np.asarray(values, dtype=np.float64).reshape(n, -1)
    idx = rng.integers(0, n, size=(n_boot, n))
    r, v = ref[idx], val[idx]  # (n_boot, n, k)
    ss_tot = np.sum((r - r.mean(axis=1, keepdims=True)) ** 2, axis=(1, 2))
    ss_res = np.sum((r - v) ** 2, axis=(1, 2))
    ok = ss_tot > 0
    if not np.any(ok):
        return None
    scores = 1.0 - ss_res[ok] / ss_tot[ok]
    return [float(np.quantile(scores, 0.025)), float(np.quantile(scores, 0.975))]


def _method_of(surrogate: Any) -> str | None:
    """The method a saved surrogate records (``notes["method"]``), else its kind ("tree",
    "additive", "automaton", ...) from its file format."""
    notes = getattr(surrogate, "notes", None)
    if isinstance(notes, dict) and notes.get("method"):
        return str(notes["method"])
    fmt = getattr(surrogate, "FORMAT", None)
    return fmt.split("/", 1)[1] if isinstance(fmt, str) and "/" in fmt else None


def _overlap(X: Any, data: Any, provenance: Provenance | None) -> tuple[str, int]:
    """What the evaluation data is relative to the extraction data, and how many of its rows
    (or sequences) the extraction saw. ``data`` is the Dataset behind ``X``, if any."""
    tokens = getattr(X, "tokens", None)
    unit = "rows" if tokens is None else "sequences"
    unseen = f"held-out {unit} the extractor did not see"
    not_at_hand = f"{unit} not compared with the extraction data, which is not at hand"
    if tokens is not None:
        train = None if provenance is None else provenance.train_tokens
        if train is None:
            return not_at_hand, 0
        if list(tokens) == list(train):
            return "the extraction data itself", len(tokens)
        known = {tuple(t) for t in train}
        seen = sum(tuple(t) in known for t in tokens)
    else:
        if provenance is None or provenance.train_fingerprint is None:
            return not_at_hand, 0
        try:
            if data is None:
                data_print = fingerprint(X)
            else:
                data_print = data.fingerprint()
            if data_print == provenance.train_fingerprint:
                return "the extraction data itself", len(X)
            hashes = provenance.train_row_hashes
            X = np.asarray(X, dtype=np.float64)
            if hashes is None or X.ndim != 2:
                return unseen, 0
            rows = row_hashes(X) if data is None else data.row_hashes()
            seen = int(np.isin(rows, hashes).sum())
        except (TypeError, ValueError):
            return unseen, 0
    if seen == 0:
        return unseen, 0
    if seen == len(X):
        return f"{unit} taken from the extraction data", seen
    return f"{seen} of {len(X)} {unit} were also extraction {unit}", seen


def _network_oracle(network: Any, surrogate: Any, X: Any, schema: Any) -> Any:
    """An oracle asking a loaded ``Network`` about ``X`` as the surrogate reads it.

    Rows are schema space: the schema (the Dataset's, else the surrogate's) turns them into what
    the graph takes. Sequences go through a ``SequenceOracle`` with the input encoding the
    surrogate recorded (its ``notes["encoding"]``), else the one read from the graph.
    """
    if hasattr(X, "tokens"):
        from nnrules.oracles import SequenceOracle

        notes = getattr(surrogate, "notes", None) or {}
        enc = notes.get("encoding", {}) if isinstance(notes, dict) else {}
        return SequenceOracle(network, alphabet=X.alphabet, layout=enc.get("layout"),
                              id_offset=int(enc.get("id_offset", 0) or 0))
    return _NetworkAnswers(network, schema if schema is not None else
                           getattr(surrogate, "schema", None))


class _NetworkAnswers:
    """The part of an oracle ``evaluate`` uses, for a ``Network`` and a feature schema."""

    def __init__(self, network: Any, schema: Any) -> None:
        self.network = network
        self.schema = schema
        self.task = network.task
        self.classes = network.classes_

    @property
    def n_queries(self) -> int:
        return self.network.n_queries

    @n_queries.setter
    def n_queries(self, value: int) -> None:
        self.network.n_queries = value

    def _feed(self, X: np.ndarray) -> Any:
        X = np.asarray(X, dtype=np.float64)
        return X if self.schema is None else self.schema.to_model_input(X)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.network.predict(self._feed(X)))

    def nonfinite_rows(self, X: np.ndarray) -> np.ndarray:
        before = self.network.n_queries
        try:
            return self.network.nonfinite_rows(self._feed(X))
        finally:
            self.network.n_queries = before


def regression_figures(reference: np.ndarray, predicted: np.ndarray, y: np.ndarray | None,
                       data_name: str, warnings: list[str]) -> tuple[Any, Any, dict | None]:
    """``(fidelity, ci95, accuracy)`` of a regression report: R² of ``predicted`` against the
    network's ``reference`` with its bootstrap interval (a warning when R² is undefined), and
    both R² against the true values ``y`` (None without ``y``).

    Shared by :func:`evaluate` and ``nnrules.fidelity_stream.report_from_counts``.
    """
    fidelity = r2_score(reference, predicted)
    ci = _bootstrap_r2(reference, predicted) if fidelity is not None else None
    if fidelity is None:
        warnings.append(
            f"The network's output is constant on {data_name!r}: R² is undefined. Evaluate "
            "on data where the output varies."
        )
    accuracy = None
    if y is not None:
        accuracy = {"network": r2_score(y, reference), "surrogate": r2_score(y, predicted),
                    "metric": "R² against true values"}
    return fidelity, ci, accuracy


def report_fields(provenance: Any, surrogate: Any, sha: str | None,
                  timings: dict) -> tuple[Any, dict | None, Any, Any, str | None, Any]:
    """``(method, parameters, seed, n_queries, model_sha256, partial_reason)`` of a report:
    from the extraction's ``provenance`` when given (adding ``fit_seconds`` to ``timings``;
    its model hash wins over ``sha`` unless it is None), else the surrogate's method name and
    ``sha``.

    Shared by :func:`evaluate` and ``nnrules.fidelity_stream.report_from_counts``.
    """
    if provenance is None:
        return _method_of(surrogate), None, None, None, sha, None
    timings["fit_seconds"] = provenance.fit_seconds
    return (provenance.method, _jsonable(dict(provenance.parameters)), provenance.seed,
            provenance.n_queries,
            provenance.model_sha256 if provenance.model_sha256 is not None else sha,
            provenance.partial_reason)


def extraction_details(provenance: Any) -> dict:
    """The extraction's own figures for the report's ``details`` (``Provenance.extraction``;
    ``setiono``: ``stages``), as JSON values; empty without a provenance."""
    extra = getattr(provenance, "extraction", None) or {}
    return {str(k): _jsonable(v) for k, v in extra.items()}


def evaluate(
    surrogate: Any,
    oracle: Any,
    X: Any,
    y: Any = None,
    *,
    data_name: str = "evaluation data",
    provenance: Provenance | None = None,
    label_map: Mapping[Any, Any] | None = None,
    nonfinite: str = "raise",
    _reference: np.ndarray | None = None,
    _answers: dict | None = None,
) -> FidelityReport:
    """Measure ``surrogate`` against the network behind ``oracle`` on ``X``.

    Parameters
    ----------
    surrogate : surrogate object
        Anything with ``predict(X)`` and ``complexity()`` (``report_details(X, reference)``
        adds method-specific figures).
    oracle : Network, or oracle with ``predict``, ``task``, ``classes``, ``n_queries``
        The network's answers. A loaded ``Network`` is asked through the data's (else the
        surrogate's) schema, or, for sequences, through a ``SequenceOracle``.
    X : Dataset, array-like of shape (n_samples, n_features), or Sequences
        Evaluation rows (a Dataset also gives ``y`` when ``y`` is None).
    y : array-like of shape (n_samples,), optional
        True labels: accuracy of network and surrogate is reported beside fidelity.
    data_name : str
        Which data this is (a file name, "held-out split").
    provenance : Provenance, optional
        What the extraction was (an extractor's ``provenance_``): method, parameters, seed,
        queries, timings, whether it stopped early, and the extraction data's row hashes, so the
        report can say whether ``X`` overlaps it. Without it those fields stay empty.
    label_map : mapping, optional
        Classification: the data's label -> the network's class (``{"cls0": 0, "cls1": 1}``),
        applied to ``y`` before accuracy is measured. Labels it does not name stay as they are.
    nonfinite : {"raise", "drop"}, default "raise"
        What to do with rows the network answers NaN or inf on: refuse the data
        (``OracleError`` counting them and naming the first) or drop them, counted in the
        report's ``data.nonfinite_dropped`` and a warning. Never are they read as a class.

    Raises
    ------
    DataError
        True labels of which none is one of the network's classes (the message lists both;
        pass ``label_map``), or labels of another length than the data.
    OracleError
        The network answered NaN or inf on some rows (``nonfinite="raise"``) or on all of them.

    Returns
    -------
    FidelityReport
    """
    data = None
    if isinstance(X, Dataset):
        data = X
        y = data.y if y is None else y
        X = data.X
    n = len(X)
    if n == 0:
        raise DataError(f"Cannot measure fidelity on {data_name!r}: it has no rows.")
    start = time.perf_counter()
    sha = None
    unnamed = unnamed_model(oracle, X)
    if is_network(oracle):
        sha = oracle.sha256
        oracle = _network_oracle(oracle, surrogate, X, None if data is None else data.schema)
    n_all, dropped = n, 0
    if nonfinite not in ("raise", "drop"):
        raise ParameterError(
            f"The 'nonfinite' parameter of evaluate must be 'raise' or 'drop'. Got "
            f"{nonfinite!r} instead.")
    if nonfinite == "drop" and hasattr(oracle, "nonfinite_rows") and not hasattr(X, "tokens"):
        bad = np.asarray(oracle.nonfinite_rows(X), dtype=bool)
        dropped = int(bad.sum())
        if dropped == n:
            raise OracleError(
                f"The network answered NaN or inf on all {n} rows of {data_name!r}: nothing is "
                "left to evaluate. Check the model's weights and the data's ranges.")
        if dropped:
            keep = ~bad
            X = np.asarray(X)[keep]
            y = None if y is None else np.asarray(y)[keep]
            if data is not None:
                data = replace(data, X=X, y=None if data.y is None else data.y[keep])
            n = len(X)
    queries_before = getattr(oracle, "n_queries", 0)
    if _reference is not None and n == n_all and len(_reference) == n:
        # ``oracle.predict(X)`` already asked by the caller (an extractor that has just fitted
        # on these very rows with this oracle, its provenance fingerprinting them): not asked
        # twice, and the rows are not hashed again below.
        reference = np.asarray(_reference)
    else:
        reference = np.asarray(oracle.predict(X))
    if _answers is not None:
        # The caller reuses the network's answers on the rows measured (an extractor's
        # per-leaf figures on the same held-out rows) instead of asking again.
        _answers.update(X=X, reference=reference)
    # The evaluation's own queries are not extraction queries.
    if hasattr(oracle, "n_queries"):
        oracle.n_queries = queries_before
    predicted = np.asarray(surrogate.predict(X))
    task = getattr(oracle, "task", "classification")
    warnings: list[str] = []

    if (_reference is not None and n == n_all and len(_reference) == n and provenance is not None
            and provenance.train_fingerprint is not None):
        # The caller's rows are the very array the provenance fingerprinted (see _reference):
        # what _overlap would find by hashing them again.
        kind, seen_rows = "the extraction data itself", n
    else:
        kind, seen_rows = _overlap(X, data, provenance)
    held_out = ("held-out sequences, longer than the extraction ones,"
                if hasattr(X, "tokens") else "held-out rows")
    if kind == "the extraction data itself":
        warnings.append(
            "The evaluation data is the extraction data: this fidelity is optimistic. "
            f"Pass {held_out} (CLI: --eval TEST) for an honest figure."
        )
    elif seen_rows:
        warnings.append(
            f"{seen_rows} of the {n} evaluation {'sequences' if hasattr(X, 'tokens') else 'rows'}"
            f" were also used for extraction: this fidelity is optimistic. Pass {held_out} "
            "kept apart from extraction for an honest figure."
        )

    if dropped:
        warnings.append(
            f"{dropped} of {n_all} rows of {data_name!r} were dropped: the network answered NaN "
            f"or inf on them (nonfinite='drop'). Every figure here is measured on the other {n} "
            "rows; check the model's weights and the data's ranges.")
    outside = outside_domain(surrogate, X, data, data_name, warnings)
    columns = {}
    if unnamed:
        schema = getattr(surrogate, "schema", None) or (None if data is None else data.schema)
        columns = columns_by_position(schema, warnings)

    per_class: list[dict] = []
    accuracy = None
    if task == "classification":
        agree = reference == predicted
        k = int(np.sum(agree))
        fidelity = k / n
        ci = list(wilson_interval(k, n))
        classes = getattr(oracle, "classes", None)
        labels = list(classes) if classes is not None else sorted(set(reference.tolist()))
        for label in labels:
            mask = reference == label
            m = int(np.sum(mask))
            if m == 0:
                per_class.append({"label": plain(label), "n": 0, "fidelity": None, "ci95": None})
                continue
            km = int(np.sum(agree[mask]))
            per_class.append({"label": plain(label), "n": m, "fidelity": km / m,
                              "ci95": list(wilson_interval(km, m))})
        constant_baseline(per_class, fidelity, data_name, warnings)
        seen = np.unique(reference)
        if len(seen) == 1:
            warnings.append(
                f"The network predicts only class {plain(seen[0])!r} on {data_name!r}: "
                "agreement there says little about the surrogate. Evaluate on data where the "
                "network predicts more than one class."
            )
        if y is not None:
            if len(y) != n:
                raise DataError(f"Labels have {len(y)} rows but the data has {n}.")
            y = map_labels(y, label_map, data_name=data_name)
            check_labels(y, np.asarray(labels), data_name, warnings)
            accuracy = {"network": float(np.mean(same_labels(reference, y))),
                        "surrogate": float(np.mean(same_labels(predicted, y)))}
    else:
        fidelity, ci, accuracy = regression_figures(
            reference, predicted, None if y is None else np.asarray(y, dtype=np.float64),
            data_name, warnings)

    details = {}
    if hasattr(surrogate, "report_details"):
        details = surrogate.report_details(X, reference)
    details = {**details, **extraction_details(provenance)}

    timings: dict = {"evaluate_seconds": time.perf_counter() - start}
    method, parameters, seed, n_queries, sha, partial_reason = report_fields(
        provenance, surrogate, sha, timings)
    invalid = int(getattr(data, "n_dropped", 0) or 0)
    sampled_from = int(getattr(data, "sampled_from", 0) or 0)
    if invalid:  # (rows the network answered NaN / inf on have their own warning above)
        warnings.append(invalid_rows_warning(invalid, n_all, data_name, sampled_from))

    report = FidelityReport(
        task=task,
        method=method,
        parameters=parameters or {},
        seed=seed,
        model_sha256=sha,
        data={"name": data_name, "n_rows": n, "kind": kind, **outside, **columns,
              **({"nonfinite_dropped": dropped} if dropped else {}),
              **({"invalid_dropped": invalid} if invalid else {}),
              **({"sampled_from": sampled_from} if sampled_from else {})},
        n_eval=n,
        fidelity=fidelity,
        fidelity_ci95=ci,
        per_class=per_class,
        accuracy=accuracy,
        complexity=dict(surrogate.complexity()),
        n_queries=n_queries,
        timings=timings,
        details=_jsonable(details),
        warnings=warnings,
        partial=partial_reason is not None,
        partial_reason=partial_reason,
    )
    if dropped:
        # Which rows were kept, for attach_local_fidelity on the same rows (not serialised).
        report._nonfinite_kept = keep
    return report
