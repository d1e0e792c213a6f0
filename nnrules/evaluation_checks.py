"""Checks of evaluation data against the network and the surrogate, for the fidelity report.

What ``nnrules.fidelity.evaluate`` says about the data besides agreement: true labels that are
not the network's classes (refused when none is, warned when some are; ``label_map`` maps
them), rows outside the domain the surrogate was extracted on (counted, warned), and a model
that carries no feature names (its columns were matched by position only). Knows networks and
schemas, never extractors.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nnrules.exceptions import DataError, ParameterError
from nnrules.surrogates.base import plain

__all__ = [
    "DomainCount", "check_label_map", "check_labels", "constant_baseline", "invalid_rows_warning",
    "is_network", "label_keys", "map_labels", "outside_domain", "same_labels", "unnamed_model",
]


def is_network(obj: Any) -> bool:
    """Whether ``obj`` is a loaded ``nnrules.io.model.Network``."""
    from nnrules.io.model import Network

    return isinstance(obj, Network)


def same_labels(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise label equality that tolerates 1 vs 1.0 (CSV labels are often floats)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind in "iufb" and b.dtype.kind in "iufb":
        return a.astype(np.float64) == b.astype(np.float64)
    return a.astype(str) == b.astype(str)


def map_labels(y: Any, label_map: Mapping[Any, Any] | None, *, data_name: str = "the data",
               check: bool = True) -> np.ndarray:
    """``y`` with every label named in ``label_map`` replaced by its value (the others kept).

    Keys match labels by text, so ``{"1": "yes"}`` maps a label read as 1 or 1.0. With
    ``check`` (the default), keys that match no label of ``y`` are reported by
    :func:`check_label_map`; a caller that maps data batch by batch passes ``check=False`` and
    checks the labels of every batch together.

    Raises
    ------
    ParameterError
        ``label_map`` is not a mapping.
    DataError
        ``check`` and no key of ``label_map`` matches a label of ``y``.

    Warns
    -----
    LabelMapWarning
        ``check`` and some keys match no label of ``y``.

    Examples
    --------
    >>> map_labels(["cls0", "cls1", "cls1"], {"cls0": 0, "cls1": 1}).tolist()
    [0, 1, 1]
    """
    y = np.asarray(y)
    if label_map is not None and not isinstance(label_map, Mapping):
        raise ParameterError(
            f"label_map must map data labels to the network's classes, e.g. {{'yes': 1}}; got "
            f"{type(label_map).__name__} {label_map!r}. (CLI: --label-map DATA=CLASS,...)")
    if not label_map:
        return y
    lookup = {_label_key(k): v for k, v in label_map.items()}
    keys = [_label_key(v) for v in y.tolist()]
    if check:
        check_label_map(label_map.keys(), set(keys), data_name)
    return np.asarray([lookup.get(key, v) for key, v in zip(keys, y.tolist())])


def label_keys(y: Any) -> set[str]:
    """The distinct labels of ``y`` as ``label_map`` keys match them (by text, 1.0 as 1)."""
    return {_label_key(v) for v in set(np.asarray(y).tolist())}


def check_label_map(keys: Iterable[Any], present: set[str], data_name: str) -> None:
    """Refuse a ``label_map`` none of whose keys matches a label in the data; warn (pointing
    at the user's line) about the keys that match none when others do.

    ``keys``: the keys of ``label_map``; ``present``: the data's distinct labels as
    :func:`label_keys` gives them. A key matching
    no label is almost always a typo, or a map written the wrong way round (keys are the
    data's labels, values the network's classes), so it is never passed over in silence.
    """
    wanted = {_label_key(k) for k in keys}
    if not wanted or not present:
        return
    unmatched = sorted(wanted - present)
    if not unmatched:
        return
    shown = sorted(present)[:10]
    there = f"{shown}{' ...' if len(present) > 10 else ''}"
    if len(unmatched) == len(wanted):
        raise DataError(
            f"None of the label_map keys {unmatched} is a label in {data_name!r}, whose labels "
            f"are {there}: the map would change nothing. Keys are the data's labels and values "
            "the network's classes (CLI --label-map DATA=CLASS,...); correct the keys, or leave "
            "label_map out if the labels already are the network's classes.")
    from nnrules.exceptions import LabelMapWarning, warn_at_caller

    warn_at_caller(
        f"label_map keys {unmatched} match no label in {data_name!r}, whose labels are "
        f"{there}; they were not used. Check them for typos (keys are the data's labels, "
        "values the network's classes; CLI --label-map DATA=CLASS,...).", LabelMapWarning)


def _label_key(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def check_labels(y: np.ndarray, classes: np.ndarray, data_name: str,
                  warnings: list[str]) -> None:
    """Refuse true labels none of which is a network class; warn when some are not."""
    if classes is None or len(classes) == 0 or len(y) == 0:
        return
    values = np.unique(y.astype(str)) if y.dtype == object else np.unique(y)
    known = np.array([bool(np.any(same_labels(np.asarray([v] * len(classes)), classes)))
                      for v in values])
    shown_classes = [plain(c) for c in classes]
    if not known.any():
        raise DataError(
            f"None of the labels in {data_name!r} is one of the network's classes: the data has "
            f"{[plain(v) for v in values[:10]]}{' ...' if len(values) > 10 else ''}, the "
            f"network answers {shown_classes}. Map them with label_map= (CLI --label-map "
            "DATA=CLASS,...), or name the classes with classes= (CLI --classes)."
        )
    if not known.all():
        unknown = [plain(v) for v in values[~known]][:10]
        warnings.append(
            f"Labels {unknown} in {data_name!r} are not among the network's classes "
            f"{shown_classes}: those rows count as wrong for both network and surrogate. Map "
            "them with label_map= (CLI --label-map) if they name a class differently."
        )


def constant_baseline(per_class: list[dict], fidelity: float, data_name: str,
                      warnings: list[str]) -> None:
    """Warn when the surrogate agrees with the network no more often than one constant answer
    (the network's most common class) would: a method that fell back to (nearly) a single
    class must not read as a plain figure. ``per_class``: the report's rows (label, n)."""
    counts = [(row["n"], row["label"]) for row in per_class if row.get("n")]
    if len(counts) < 2:  # one class only has its own warning
        return
    n = sum(m for m, _ in counts)
    m, label = max(counts, key=lambda t: t[0])
    share = m / n
    if fidelity <= share:
        warnings.append(
            f"Answering class {label!r} (the network's most common answer) on every row of "
            f"{data_name!r} would agree with the network on {share:.4f} of them; this "
            f"surrogate agrees on {fidelity:.4f}: it does no better than a constant. Try "
            "another method (e.g. --method trepan or eclaire) or more extraction rows.")


def unnamed_model(oracle: Any, X: Any) -> bool:
    """Whether ``oracle`` is (or wraps) a single-input Network without feature names that
    reads a table (so its columns were matched by position only)."""
    if hasattr(X, "tokens"):
        return False
    network = oracle if is_network(oracle) else getattr(oracle, "model", None)
    if not is_network(network) or len(network.inputs) != 1:
        return False
    shape = network.inputs[0].shape
    return network.feature_names is None and shape is not None and len(shape) == 2


@dataclass
class DomainCount:
    """Rows outside the domain a surrogate was extracted on (its schema: kinds and observed
    bounds), over one array or many batches: the one count behind the in-memory report, the
    batched report and the CLI's ``predict`` warning.

    ``add(schema, X)`` counts a batch; ``+`` merges counts made apart (batches on Dask);
    :meth:`warning` and :meth:`entry` say it, features in the order
    ``FeatureSchema.outside_domain`` lists them (columns, then one-hot groups).
    """

    n: int = 0                                      # rows counted
    rows: int = 0                                   # of which outside the domain
    features: dict = field(default_factory=dict)    # feature or one-hot group -> such rows

    def add(self, schema: Any, X: Any) -> None:
        """Count the rows of ``X`` (nothing outside when there is no schema, for sequences,
        or when the rows do not fit the schema: predicting on them says so)."""
        self.n += len(X)
        if schema is None or hasattr(X, "tokens") or not hasattr(schema, "outside_domain"):
            return
        try:
            mask, features = schema.outside_domain(X)
        except (TypeError, ValueError):
            return
        self.rows += int(mask.sum())
        for name, m in features.items():
            self.features[name] = self.features.get(name, 0) + m

    def __add__(self, other: DomainCount) -> DomainCount:
        features = dict(self.features)
        for name, m in other.features.items():
            features[name] = features.get(name, 0) + m
        return DomainCount(self.n + other.n, self.rows + other.rows, features)

    def ordered(self, schema: Any) -> dict:
        """``features`` as ``schema.outside_domain`` lists them: columns, then groups."""
        names = list(getattr(schema, "names", ()))
        groups = list(getattr(schema, "groups", {}) or {})
        position = {name: j for j, name in enumerate(names)}
        position.update({g: len(names) + k for k, g in enumerate(groups)})
        end = len(position)
        return {k: self.features[k] for k in sorted(self.features,
                                                    key=lambda k: position.get(k, end))}

    def warning(self, data_name: str, schema: Any) -> str:
        """The one warning for rows outside the domain (when :attr:`rows` > 0)."""
        features = self.ordered(schema)
        shown = ", ".join(f"{name} ({m} row{'s' if m > 1 else ''})"
                          for name, m in list(features.items())[:8])
        more = f" and {len(features) - 8} more" if len(features) > 8 else ""
        return (
            f"{self.rows} of {self.n} rows of {data_name!r} lie outside the domain the "
            f"surrogate was extracted on (values beyond the extraction data's bounds or kinds: "
            f"{shown}{more}). The surrogate was not fitted there; read its answers on those "
            "rows with care, or extract on data that covers them."
        )

    def entry(self, schema: Any) -> dict:
        """``{"outside_domain": {"rows": k, "features": {name: rows}}}`` for a report's
        ``data``; ``{}`` when no row is outside."""
        if not self.rows:
            return {}
        return {"outside_domain": {"rows": self.rows, "features": self.ordered(schema)}}


def outside_domain(surrogate: Any, X: Any, data: Any, data_name: str,
                   warnings: list[str]) -> dict:
    """``{"outside_domain": {"rows": k, "features": {name: rows}}}`` for evaluation rows outside
    the domain the surrogate was extracted on (its schema, else the data's), with a warning
    (see :class:`DomainCount`); ``{}`` when every row is inside or there is no schema."""
    schema = getattr(surrogate, "schema", None)
    if schema is None and data is not None:
        schema = getattr(data, "schema", None)
    count = DomainCount()
    count.add(schema, X)
    if count.rows:
        warnings.append(count.warning(data_name, schema))
    return count.entry(schema)


def invalid_rows_warning(invalid: int, n: int, data_name: str, sampled_from: int = 0) -> str:
    """The warning of a report whose data lost ``invalid`` rows to ``drop_invalid`` before it
    was measured on ``n`` rows: the other rows, or a sample of ``n`` drawn from
    ``sampled_from`` of them (``extract --sample``), so the counts add up either way."""
    kept = sampled_from or n
    measured = (f"on a stratified sample of {n} of the other {kept} rows" if sampled_from else
                f"on the other {n} rows")
    return (f"{invalid} of {invalid + kept} rows of {data_name!r} were dropped before evaluation "
            "(drop_invalid: missing values, NaN or inf, or categories the surrogate does not "
            f"know); the fidelity is measured {measured}.")
