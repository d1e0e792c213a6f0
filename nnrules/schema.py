"""Feature schema: names, kinds, bounds and one-hot groups of the columns a network reads.

Pure description, no file I/O. Schema space: every row is a float64 vector; one-hot columns stay
as 0/1 columns, raw string columns are coded as category indices 0..k-1 (kind "categorical").

Kinds
-----
``continuous``  any real number.
``integer``     whole numbers (thresholds print as ints: ``age > 37`` means ``age >= 38``).
``binary``      0 or 1 (``smoker > 0.5`` prints ``smoker == 1``).
``onehot``      one column of a one-hot group: exactly one column of the group is 1 in every row;
                ``color_red > 0.5`` prints ``color == red``.
``categorical`` a raw string column coded 0..k-1 into ``categories`` (sorted);
                a code test prints ``workclass == 'Private'``.

Number formatting in ``describe_condition``: integers print as ints; other numbers print with
Python's shortest round-trip ``repr`` when it is at most 10 characters, else ``%.6g`` (display
only: the exact value always lives in the JSON file).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np

from nnrules import schema_checks as _checks
from nnrules import schema_text as _text
from nnrules.exceptions import FormatError, SchemaError
from nnrules.schema_text import OPS, _zero_one_test, format_number  # noqa: F401 (re-exported)

__all__ = ["KINDS", "OPS", "Feature", "FeatureSchema", "format_number"]

KINDS = ("binary", "categorical", "continuous", "integer", "onehot")
SCHEMA_FORMAT = "nnrules/schema"
SCHEMA_VERSION = 1
_FEATURE_KEYS = frozenset({"name", "kind", "lower", "upper", "group", "category", "categories"})

Kind = Literal["continuous", "integer", "binary", "onehot", "categorical"]


@dataclass(frozen=True)
class Feature:
    """One column in schema space.

    Parameters
    ----------
    name : str
        Column name (unique within a schema).
    kind : {"continuous", "integer", "binary", "onehot", "categorical"}
    lower, upper : float
        Observed bounds in schema space (``-inf`` / ``inf`` when unknown).
    group : str, optional
        Kind "onehot": the group name ("color" for "color_red").
    category : str, optional
        Kind "onehot": this column's category ("red").
    categories : tuple of str, optional
        Kind "categorical": the strings the codes 0..k-1 stand for.
    """

    name: str
    kind: Kind
    lower: float
    upper: float
    group: str | None = None
    category: str | None = None
    categories: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise SchemaError(f"A feature name must be a non-empty string; got {self.name!r}.")
        if self.kind not in KINDS:
            raise SchemaError(
                f"Feature {self.name!r} has kind {self.kind!r}; valid kinds are {list(KINDS)}."
            )
        object.__setattr__(self, "lower", float(self.lower))
        object.__setattr__(self, "upper", float(self.upper))
        if math.isnan(self.lower) or math.isnan(self.upper) or self.lower > self.upper:
            raise SchemaError(
                f"Feature {self.name!r} has bounds [{self.lower!r}, {self.upper!r}]; lower must "
                "be a number not above upper."
            )
        if self.kind == "onehot":
            if not self.group or self.category is None:
                raise SchemaError(
                    f"One-hot feature {self.name!r} needs both 'group' and 'category'; got "
                    f"group={self.group!r}, category={self.category!r}."
                )
        elif self.group is not None or self.category is not None:
            raise SchemaError(
                f"Feature {self.name!r} of kind {self.kind!r} cannot have a group or category; "
                "only kind 'onehot' can."
            )
        if self.kind == "categorical":
            if not self.categories:
                raise SchemaError(
                    f"Categorical feature {self.name!r} needs a non-empty 'categories' list."
                )
            cats = tuple(str(c) for c in self.categories)
            if len(set(cats)) != len(cats):
                raise SchemaError(
                    f"Categorical feature {self.name!r} repeats a category: {list(cats)!r}."
                )
            object.__setattr__(self, "categories", cats)
        elif self.categories is not None:
            raise SchemaError(
                f"Feature {self.name!r} of kind {self.kind!r} cannot have categories; only kind "
                "'categorical' can."
            )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; infinite bounds are written as ``null``."""
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "lower": self.lower if math.isfinite(self.lower) else None,
            "upper": self.upper if math.isfinite(self.upper) else None,
        }
        if self.group is not None:
            out["group"] = self.group
            out["category"] = self.category
        if self.categories is not None:
            out["categories"] = list(self.categories)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Feature:
        """Inverse of ``to_dict``; missing or ``null`` bounds mean unbounded."""
        if not isinstance(d, Mapping):
            raise SchemaError(f"A feature must be a JSON object; got {d!r}.")
        unknown = sorted(set(d) - _FEATURE_KEYS)
        if unknown:
            raise SchemaError(
                f"Feature {d.get('name')!r} has unknown keys {unknown}; valid keys are "
                f"{sorted(_FEATURE_KEYS)}."
            )
        if "name" not in d or "kind" not in d:
            raise SchemaError(f"A feature needs 'name' and 'kind'; got {dict(d)!r}.")
        lower, upper = d.get("lower"), d.get("upper")
        cats = d.get("categories")
        return cls(
            name=d["name"],
            kind=d["kind"],
            lower=-math.inf if lower is None else lower,
            upper=math.inf if upper is None else upper,
            group=d.get("group"),
            category=None if d.get("category") is None else str(d["category"]),
            categories=None if cats is None else tuple(cats),
        )


@dataclass(frozen=True)
class FeatureSchema:
    """The features of schema space, in column order.

    Parameters
    ----------
    features : tuple of Feature
    input_names : tuple of str, optional
        Multi-input models: the graph input fed by each feature (same order as ``features``).
    input_dtypes : tuple of str, optional
        NumPy dtype names (``"float32"``, ``"int64"``, ``"str"``...) of those inputs; by default
        numeric features are fed as float32 and categorical ones as strings.
    labels : dict, optional
        Display names, code meanings and units (``nnrules.labels``); set with
        :meth:`with_labels`. Not part of equality: labels change how rules read, not what they
        decide.
    """

    features: tuple[Feature, ...]
    input_names: tuple[str, ...] | None = None
    input_dtypes: tuple[str, ...] | None = field(default=None)
    labels: Mapping[str, Any] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "features", tuple(self.features))
        if not self.features:
            raise SchemaError("A feature schema needs at least one feature; got none.")
        for f in self.features:
            if not isinstance(f, Feature):
                raise SchemaError(f"Schema features must be Feature objects; got {f!r}.")
        names = [f.name for f in self.features]
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise SchemaError(f"Feature names must be unique; repeated: {dup}.")
        for attr in ("input_names", "input_dtypes"):
            value = getattr(self, attr)
            if value is None:
                continue
            value = tuple(str(v) for v in value)
            if len(value) != len(self.features):
                raise SchemaError(
                    f"{attr} has {len(value)} entries but the schema has {len(self.features)} "
                    "features; give one per feature."
                )
            object.__setattr__(self, attr, value)
        if self.labels is not None:
            from nnrules.labels import check_labels

            object.__setattr__(self, "labels", check_labels(self.labels, self))
        for group, idx in self.groups.items():
            if len(idx) < 2:
                raise SchemaError(
                    f"One-hot group {group!r} has a single column {names[idx[0]]!r}; a group "
                    "needs at least two (use kind 'binary' for a lone 0/1 column)."
                )

    # -- labels -------------------------------------------------------------------------
    def with_labels(self, labels: Mapping[str, Any] | None) -> FeatureSchema:
        """A copy carrying ``labels`` (see ``nnrules.labels``; checked against this schema)."""
        import dataclasses

        return dataclasses.replace(self, labels=labels)

    def _label_entry(self, key: str | None) -> Mapping[str, Any]:
        if not self.labels or key is None:
            return {}
        return self.labels["features"].get(key, {})

    def display_name(self, feature_index: int) -> str:
        """The feature's (or its one-hot group's) display name: its label, else its name."""
        f = self.features[feature_index]
        key = f.group if f.kind == "onehot" else f.name
        return self._label_entry(key).get("name", key)

    def unit(self, feature_index: int) -> str | None:
        """The unit of a numeric feature, if the labels give one."""
        return self._label_entry(self.features[feature_index].name).get("unit")

    def value_label(self, feature_index: int, code: Any) -> str:
        """A code as people read it: ``none (A14)`` when labelled, else the code."""
        f = self.features[feature_index]
        key = f.group if f.kind == "onehot" else f.name
        code = format_number(code) if isinstance(code, (int, float, np.number)) else str(code)
        meaning = self._label_entry(key).get("values", {}).get(code)
        return f"{meaning} ({code})" if meaning else code

    # -- lookups ------------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        """Feature names in column order."""
        names = self.__dict__.get("_names")
        if names is None:  # features never change (frozen): computed once, asked per batch
            names = tuple(f.name for f in self.features)
            object.__setattr__(self, "_names", names)
        return names

    @property
    def n_features(self) -> int:
        """Number of columns."""
        return len(self.features)

    @cached_property
    def _groups(self) -> dict[str, tuple[int, ...]]:
        out: dict[str, list[int]] = {}
        for i, f in enumerate(self.features):
            if f.kind == "onehot":
                out.setdefault(f.group, []).append(i)
        return {g: tuple(sorted(v)) for g, v in sorted(out.items())}

    @property
    def groups(self) -> dict[str, tuple[int, ...]]:
        """One-hot group name -> column indices (sorted), groups in name order."""
        return dict(self._groups)

    @cached_property
    def _index(self) -> dict[str, int]:
        return {f.name: i for i, f in enumerate(self.features)}

    def index(self, name: str) -> int:
        """Column index of feature ``name`` (SchemaError listing the names if unknown)."""
        try:
            return self._index[name]
        except KeyError:
            raise SchemaError(
                f"No feature named {name!r}; the schema has {list(self.names)}."
            ) from None

    # -- data checks ---------------------------------------------------------------------
    def _check_shape(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise SchemaError(
                f"Data of shape {X.shape} does not fit the schema's {self.n_features} features "
                f"{list(self.names)}; pass an array of shape (n_rows, {self.n_features})."
            )
        return X

    def validate(self, X: Any, *, data_name: str | None = None, hard_only: bool = False) -> None:
        """Check that ``X`` (shape (n, n_features)) obeys every feature's kind.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        data_name : str, optional
            Where the rows come from (a file name); named in the message.
        hard_only : bool, default False
            Refuse only what the network cannot take: a code outside a categorical feature's
            categories (no string to feed) and a non-integer for a graph input of integer
            type. Other departures from the schema (a 2 in a binary feature, a broken one-hot
            group, a value outside the bounds) are counted by :meth:`outside_domain` instead.
            ``read_data`` uses this for data read under a given schema (evaluation files).

        Raises
        ------
        SchemaError
            A one-hot group with two hot columns or none in a row, a non-integer in an integer
            feature, a value other than 0/1 in a binary feature, or a code outside a categorical
            feature's categories. Rows are counted from 0.
        """
        _checks.validate(self, X, data_name=data_name, hard_only=hard_only)

    def outside_domain(self, X: Any) -> tuple[np.ndarray, dict[str, int]]:
        """Rows outside the domain this schema describes, and which features put them there.

        A row is outside when a feature's value lies outside ``[lower, upper]``, is not whole
        in an integer feature, is not 0/1 in a binary one, when a one-hot group has not
        exactly one hot column (counted under the group's name), or when its hot column is a
        category the extraction rows never held (upper bound 0).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        outside : ndarray of bool of shape (n_samples,)
        counts : dict of str to int
            Feature (or one-hot group) name -> rows it puts outside, in column order; only
            names with at least one such row.
        """
        return _checks.outside_domain(self, X)

    # -- model input ---------------------------------------------------------------------
    @property
    def has_categorical(self) -> bool:
        """True when some feature is a coded string column."""
        return any(f.kind == "categorical" for f in self.features)

    def to_model_input(self, X: Any) -> np.ndarray | dict[str, np.ndarray]:
        """What the model takes for schema-space rows ``X`` of shape (n, n_features).

        Schemas with ``input_names`` or categorical features give a dict input name ->
        column of shape (n, 1): category codes decoded to their strings, numbers as float32
        (or as ``input_dtypes`` say). Other schemas return ``X`` unchanged.
        """
        if self.input_names is None and not self.has_categorical:
            return X
        X = self._check_shape(X)
        names = self.input_names or self.names
        out: dict[str, np.ndarray] = {}
        for j, f in enumerate(self.features):
            col = X[:, j]
            dtype = None if self.input_dtypes is None else self.input_dtypes[j]
            if f.kind == "categorical":
                codes = np.round(col)
                k = len(f.categories)
                if np.any(~((codes >= 0) & (codes < k))):
                    bad = float(col[~((codes >= 0) & (codes < k))][0])
                    raise SchemaError(
                        f"Feature {f.name!r} got code {bad!r}; valid codes are 0..{k - 1} for "
                        f"{list(f.categories)}."
                    )
                value = np.asarray(f.categories, dtype=object)[codes.astype(np.int64)]
                if dtype not in (None, "str", "object", "string"):
                    value = value.astype(dtype)
            else:
                value = col.astype(dtype or np.float32)
            out[names[j]] = value.reshape(-1, 1)
        return out

    # -- text ----------------------------------------------------------------------------
    def describe_condition(self, feature_index: int, op: str, value: float) -> str:
        """Human-readable text of the test ``x[feature_index] op value``.

        Parameters
        ----------
        feature_index : int
        op : {"<=", ">", "==", "!="}
        value : float

        Examples
        --------
        >>> s = FeatureSchema((Feature("age", "integer", 18, 90),
        ...                    Feature("color_red", "onehot", 0, 1, group="color", category="red"),
        ...                    Feature("color_blue", "onehot", 0, 1, group="color",
        ...                            category="blue")))
        >>> s.describe_condition(0, ">", 37.5), s.describe_condition(1, "<=", 0.5)
        ('age > 37', 'color != red')
        """
        return _text.describe_condition(self, feature_index, op, value)

    def to_text(self) -> str:
        """A printable table of the features (one line each)."""
        return _text.to_text(self)

    # -- files ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with ``"format": "nnrules/schema"`` and ``"version": 1``."""
        return {
            "format": SCHEMA_FORMAT,
            "version": SCHEMA_VERSION,
            "features": [f.to_dict() for f in self.features],
            "input_names": None if self.input_names is None else list(self.input_names),
            "input_dtypes": None if self.input_dtypes is None else list(self.input_dtypes),
            **({"labels": self.labels} if self.labels else {}),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FeatureSchema:
        """Inverse of ``to_dict`` (``format``/``version`` optional, checked when present)."""
        if not isinstance(d, Mapping):
            raise FormatError(f"A feature schema must be a JSON object; got {type(d).__name__}.")
        fmt = d.get("format", SCHEMA_FORMAT)
        if fmt != SCHEMA_FORMAT:
            raise FormatError(f"Expected format {SCHEMA_FORMAT!r}; got {fmt!r}.")
        version = d.get("version", SCHEMA_VERSION)
        if version != SCHEMA_VERSION:
            raise FormatError(
                f"Unknown {SCHEMA_FORMAT} version {version!r}; this nnrules reads version "
                f"{SCHEMA_VERSION}. Upgrade nnrules or rewrite the file."
            )
        unknown = sorted(set(d) - {"format", "version", "features", "input_names", "input_dtypes",
                                   "labels"})
        if unknown:
            raise SchemaError(
                f"Unknown schema keys {unknown}; valid keys are 'features', 'input_names', "
                "'input_dtypes', 'labels', 'format', 'version'."
            )
        feats = d.get("features")
        if not isinstance(feats, Sequence) or isinstance(feats, str):
            raise SchemaError(f"'features' must be a list of feature objects; got {feats!r}.")
        names, dtypes = d.get("input_names"), d.get("input_dtypes")
        return cls(
            features=tuple(Feature.from_dict(f) for f in feats),
            input_names=None if names is None else tuple(names),
            input_dtypes=None if dtypes is None else tuple(dtypes),
            labels=d.get("labels"),
        )

    # -- inference -----------------------------------------------------------------------
    @classmethod
    def infer(
        cls,
        X: Any,
        names: Sequence[str],
        *,
        raw_columns: Mapping[str, Sequence[str]] | None = None,
    ) -> FeatureSchema:
        """Infer kinds, one-hot groups and observed bounds from data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Finite numbers; columns named in ``raw_columns`` hold category codes.
        names : sequence of str of length n_features
        raw_columns : mapping name -> categories, optional
            Columns that were strings, coded 0..k-1 into these categories (kind "categorical").

        Notes
        -----
        Kinds inferred from a sample are guesses, so they stay broad: whole numbers are
        "integer" (0/1 columns too: only a given schema makes a column "binary", since a value
        2 unseen in the sample may still come), the rest "continuous". Columns whose
        names share a prefix before their last ``_`` or ``=`` (``color_red``, ``color=blue``;
        MONK's ``a1_1, a1_2, a1_3``) form a one-hot group when there are at least two of them
        and exactly one of them is 1 in every row.
        """
        from nnrules.schema_infer import infer

        return infer(cls, X, names, raw_columns=raw_columns)
