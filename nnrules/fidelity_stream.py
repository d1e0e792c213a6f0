"""Fidelity over data that comes in batches: counts that add up exactly, then one report.

Classification keeps integers only (rows, agreements, per-label rows and agreements, correct
labels of network and surrogate, rows also seen in extraction), so batches can be counted in any
order, in one process or on Dask workers, and merged into the same numbers; the Wilson interval
is computed once from the totals. Regression keeps the network's and the surrogate's values
(two floats per row, concatenated in batch order) so R² and its bootstrap interval are those of
``nnrules.fidelity.evaluate`` on the same rows.

A report made here equals ``evaluate``'s on the same rows, with two documented differences when
the data spans more than one batch: ``report_details`` (coverage and the like) is computed on the
first batch only (``details["details_rows"]`` says how many rows), and "the extraction data
itself" is recognised by every row being an extraction row and the row counts matching (instead
of a fingerprint of the whole matrix).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nnrules.evaluation_checks import DomainCount, constant_baseline, invalid_rows_warning
from nnrules.exceptions import DataError
from nnrules.fidelity import (
    FidelityReport,
    _jsonable,
    columns_by_position,
    extraction_details,
    regression_figures,
    report_fields,
    wilson_interval,
)
from nnrules.io.hashing import count_members, row_hashes
from nnrules.surrogates.base import plain as _label

__all__ = ["Counts", "count_batch", "report_from_counts"]


@dataclass
class Counts:
    """What a fidelity report needs from a set of rows, mergeable with ``+``."""

    task: str
    n: int = 0
    agree: int = 0
    labels: dict = field(default_factory=dict)      # label -> [rows, agreements]
    correct: list | None = None                     # [network, surrogate, labelled rows]
    seen: int = 0                                   # rows that were also extraction rows
    reference: list = field(default_factory=list)   # regression: arrays per batch
    predicted: list = field(default_factory=list)
    true: list = field(default_factory=list)
    details: dict | None = None                     # report_details of the first batch
    details_rows: int = 0
    domain: DomainCount = field(default_factory=DomainCount)  # rows outside the domain
    true_labels: set = field(default_factory=set)   # distinct true labels (classification)
    dropped: int = 0                                # rows read and dropped (drop_invalid)
    map_keys: set = field(default_factory=set)      # label_map's keys (given a map)
    label_keys: set = field(default_factory=set)    # the true labels as text, before the map

    def __add__(self, other: Counts) -> Counts:
        labels = {k: list(v) for k, v in self.labels.items()}
        for k, (m, a) in other.labels.items():
            cur = labels.setdefault(k, [0, 0])
            cur[0] += m
            cur[1] += a
        correct = self.correct
        if other.correct is not None:
            correct = ([a + b for a, b in zip(correct, other.correct)] if correct is not None
                       else list(other.correct))
        first = self if self.details is not None else other
        return Counts(self.task, self.n + other.n, self.agree + other.agree, labels, correct,
                      self.seen + other.seen, self.reference + other.reference,
                      self.predicted + other.predicted, self.true + other.true,
                      first.details, first.details_rows, self.domain + other.domain,
                      self.true_labels | other.true_labels, self.dropped + other.dropped,
                      self.map_keys | other.map_keys, self.label_keys | other.label_keys)


def count_batch(surrogate: Any, oracle: Any, X: np.ndarray, y: Any = None, *,
                train_hashes: np.ndarray | None = None, details: bool = False,
                label_map: Any = None) -> Counts:
    """The counts of one batch (``details``: also call ``surrogate.report_details`` on it;
    ``label_map``: the data's label -> the network's class, applied to ``y``;
    ``train_hashes``: the extraction rows' hashes, sorted and distinct as
    ``Provenance.train_row_hashes`` keeps them)."""
    from nnrules.evaluation_checks import label_keys, map_labels, same_labels

    task = getattr(oracle, "task", "classification")
    queries = getattr(oracle, "n_queries", 0)
    reference = np.asarray(oracle.predict(X))
    if hasattr(oracle, "n_queries"):
        oracle.n_queries = queries  # evaluation queries are not extraction queries
    predicted = np.asarray(surrogate.predict(X))
    c = Counts(task, n=len(X))
    if train_hashes is not None and len(X):
        c.seen = count_members(row_hashes(X), train_hashes)
    c.domain.add(getattr(surrogate, "schema", None), X)
    if task == "classification":
        agree = reference == predicted
        c.agree = int(np.sum(agree))
        c.labels = _per_label(reference, agree, getattr(oracle, "classes", None))
        if y is not None:
            y = np.asarray(y)
            if label_map:  # checked once over every batch, in report_from_counts
                c.map_keys, c.label_keys = set(label_map), label_keys(y)
            y = map_labels(y, label_map, check=False)
            c.correct = [int(np.sum(same_labels(reference, y))),
                         int(np.sum(same_labels(predicted, y))), len(y)]
            c.true_labels = set((y.astype(str) if y.dtype == object else y).tolist())
    else:
        c.reference, c.predicted = [reference], [predicted]
        if y is not None:
            c.true = [np.asarray(y, dtype=np.float64)]
    if details and hasattr(surrogate, "report_details"):
        c.details, c.details_rows = surrogate.report_details(X, reference), len(X)
    return c


def _per_label(reference: np.ndarray, agree: np.ndarray, classes: Any) -> dict:
    """label -> [rows, agreements]: one comparison per known class (no sort) when the labels
    are the network's classes, else through ``np.unique``."""
    if classes is not None and 0 < len(classes) <= 256:
        out, total = {}, 0
        for v in classes:
            mask = reference == v
            m = int(np.count_nonzero(mask))
            if m:
                out[_label(v)] = [m, int(np.count_nonzero(agree & mask))]
                total += m
        if total == len(reference):
            return out
    values, inverse = np.unique(reference, return_inverse=True)
    rows = np.bincount(inverse, minlength=len(values))
    hits = np.bincount(inverse, weights=agree, minlength=len(values))
    return {_label(v): [int(r), int(h)] for v, r, h in zip(values, rows, hits)}


def report_from_counts(counts: Counts, surrogate: Any, oracle: Any, *, data_name: str,
                       n_batches: int = 1, provenance: Any = None,
                       start: float | None = None) -> FidelityReport:
    """The fidelity report of the merged counts (see the module notes); ``provenance`` is the
    extraction's record (``Extractor.provenance_``), as ``nnrules.fidelity.evaluate`` takes."""
    n = counts.n
    if n == 0:
        raise DataError(f"Cannot measure fidelity on {data_name!r}: it has no rows.")
    task = counts.task
    warnings: list[str] = []
    kind, seen = _kind(counts, provenance)
    if kind == "the extraction data itself":
        warnings.append(
            "The evaluation data is the extraction data: this fidelity is optimistic. "
            "Pass held-out rows (CLI: --eval TEST) for an honest figure."
        )
    elif seen:
        warnings.append(
            f"{seen} of the {n} evaluation rows were also used for extraction: this fidelity is "
            "optimistic. Pass held-out rows kept apart from extraction for an honest figure."
        )
    schema = getattr(surrogate, "schema", None)
    if counts.domain.rows:
        warnings.append(counts.domain.warning(data_name, schema))
    outside = counts.domain.entry(schema)
    columns = {}
    if _unnamed(oracle):
        columns = columns_by_position(getattr(surrogate, "schema", None), warnings)
    per_class: list[dict] = []
    accuracy = None
    if task == "classification":
        fidelity = counts.agree / n
        ci = list(wilson_interval(counts.agree, n))
        classes = getattr(oracle, "classes", None)
        labels = ([_label(c) for c in classes] if classes is not None
                  else sorted(counts.labels))
        for label in labels:
            m, k = counts.labels.get(label, (0, 0))
            if m == 0:
                per_class.append({"label": label, "n": 0, "fidelity": None, "ci95": None})
            else:
                per_class.append({"label": label, "n": m, "fidelity": k / m,
                                  "ci95": list(wilson_interval(k, m))})
        constant_baseline(per_class, fidelity, data_name, warnings)
        present = [k for k, (m, _) in counts.labels.items() if m]
        if len(present) == 1:
            warnings.append(
                f"The network predicts only class {present[0]!r} on {data_name!r}: "
                "agreement there says little about the surrogate. Evaluate on data where the "
                "network predicts more than one class."
            )
        if counts.correct is not None:
            from nnrules.evaluation_checks import check_label_map, check_labels

            check_label_map(counts.map_keys, counts.label_keys, data_name)
            check_labels(np.asarray(sorted(counts.true_labels, key=str)), np.asarray(labels),
                         data_name, warnings)
            net, sur, m = counts.correct
            accuracy = {"network": net / m, "surrogate": sur / m}
    else:
        reference = np.concatenate(counts.reference)
        predicted = np.concatenate(counts.predicted)
        fidelity, ci, accuracy = regression_figures(
            reference, predicted, np.concatenate(counts.true) if counts.true else None,
            data_name, warnings)
    details = dict(counts.details or {})
    if details and counts.details_rows != n:
        details["details_rows"] = counts.details_rows
    details.update(extraction_details(provenance))
    timings: dict = {}
    if start is not None:
        timings["evaluate_seconds"] = time.perf_counter() - start
    method, parameters, seed, n_queries, sha, partial_reason = report_fields(
        provenance, surrogate, None, timings)
    data = {"name": data_name, "n_rows": n, "kind": kind, **outside, **columns}
    if counts.dropped:
        data["invalid_dropped"] = counts.dropped
        warnings.append(invalid_rows_warning(counts.dropped, n, data_name))  # never a sample
    if n_batches > 1:
        data["n_batches"] = n_batches
    return FidelityReport(
        task=task, method=method, parameters=parameters or {}, seed=seed, model_sha256=sha,
        data=data, n_eval=n, fidelity=fidelity, fidelity_ci95=ci, per_class=per_class,
        accuracy=accuracy, complexity=dict(surrogate.complexity()), n_queries=n_queries,
        timings=timings, details=_jsonable(details), warnings=warnings,
        partial=partial_reason is not None, partial_reason=partial_reason,
    )


def _unnamed(oracle: Any) -> bool:
    """Whether the oracle asks a single-input Network without feature names (columns matched
    by position only)."""
    from nnrules.evaluation_checks import unnamed_model

    return unnamed_model(oracle, np.zeros((0, 0)))


def _kind(counts: Counts, provenance: Any) -> tuple[str, int]:
    unseen = "held-out rows the extractor did not see"
    if provenance is None or provenance.train_row_hashes is None:
        return "rows not compared with the extraction data, which is not at hand", 0
    seen, n = counts.seen, counts.n
    if seen == n and n == provenance.n_train:
        return "the extraction data itself", n
    if seen == 0:
        return unseen, 0
    if seen == n:
        return "rows taken from the extraction data", seen
    return f"{seen} of {n} rows were also extraction rows", seen
