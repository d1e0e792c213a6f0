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

from nnrules.exceptions import FormatError, SchemaError

__all__ = ["KINDS", "OPS", "Feature", "FeatureSchema", "format_number"]

KINDS = ("binary", "categorical", "continuous", "integer", "onehot")
OPS = ("!=", "<=", "==", ">")
SCHEMA_FORMAT = "nnrules/schema"
SCHEMA_VERSION = 1
_FEATURE_KEYS = frozenset({"name", "kind", "lower", "upper", "group", "category", "categories"})
_REPR_MAX = 10

Kind = Literal["continuous", "integer", "binary", "onehot", "categorical"]


def format_number(value: float) -> str:
    """Compact text for a number: ``37`` for whole numbers, ``repr`` if short, else ``%.6g``.

    Examples
    --------
    >>> format_number(37.0), format_number(0.25), format_number(1 / 3)
    ('37', '0.25', '0.333333')
    """
    value = float(value)
    if math.isfinite(value) and value == math.floor(value) and abs(value) < 1e15:
        return str(int(value))
    text = repr(value)
    return text if len(text) <= _REPR_MAX else f"{value:.6g}"


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
    """

    features: tuple[Feature, ...]
    input_names: tuple[str, ...] | None = None
    input_dtypes: tuple[str, ...] | None = field(default=None)

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
        for group, idx in self.groups.items():
            if len(idx) < 2:
                raise SchemaError(
                    f"One-hot group {group!r} has a single column {names[idx[0]]!r}; a group "
                    "needs at least two (use kind 'binary' for a lone 0/1 column)."
                )

    # -- lookups ------------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        """Feature names in column order."""
        return tuple(f.name for f in self.features)

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
        X = self._check_shape(X)
        where = f"{data_name!r}: " if data_name else ""
        for j, f in enumerate(self.features):
            col = X[:, j]
            integer_input = (self.input_dtypes is not None
                             and self.input_dtypes[j].startswith(("int", "uint")))
            if hard_only and f.kind != "categorical" and not integer_input:
                continue
            if f.kind == "integer" or (hard_only and integer_input):
                bad = np.flatnonzero(np.isfinite(col) & (col != np.round(col)))
                what = "a whole number"
            elif f.kind in ("binary", "onehot"):
                bad = np.flatnonzero((col != 0) & (col != 1) & ~np.isnan(col))
                what = "0 or 1"
            elif f.kind == "categorical":
                k = len(f.categories)
                ok = (col == np.round(col)) & (col >= 0) & (col < k)
                bad = np.flatnonzero(~ok & ~np.isnan(col))
                what = f"a category code in 0..{k - 1} (for {list(f.categories)})"
            else:
                continue
            if bad.size:
                r = int(bad[0])
                raise SchemaError(
                    f"{where}Feature {f.name!r} ({f.kind}) must be {what}; row {r} has "
                    f"{float(col[r])!r} ({bad.size} rows affected). Fix the data or declare the "
                    "feature 'continuous' in the schema."
                )
        if hard_only:
            return
        for group, idx in self._groups.items():
            hot = X[:, list(idx)].sum(axis=1)
            bad = np.flatnonzero(hot != 1)
            if bad.size:
                r = int(bad[0])
                cols = [self.features[i].name for i in idx]
                n_hot = int(hot[r]) if np.isfinite(hot[r]) else float(hot[r])
                raise SchemaError(
                    f"{where}One-hot group {group!r} (columns {cols}) must have exactly one column "
                    f"equal to 1 in every row; row {r} has {n_hot} ({bad.size} rows affected). "
                    "Fix the data or give a schema in which these columns are not one group."
                )

    def outside_domain(self, X: Any) -> tuple[np.ndarray, dict[str, int]]:
        """Rows outside the domain this schema describes, and which features put them there.

        A row is outside when a feature's value lies outside ``[lower, upper]``, is not whole
        in an integer feature, is not 0/1 in a binary one, or when a one-hot group has not
        exactly one hot column (counted under the group's name).

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
        X = self._check_shape(X)
        outside = np.zeros(X.shape[0], dtype=bool)
        counts: dict[str, int] = {}
        for j, f in enumerate(self.features):
            col = X[:, j]
            bad = (col < f.lower) | (col > f.upper)
            if f.kind == "integer":
                bad |= np.isfinite(col) & (col != np.round(col))
            elif f.kind == "binary":
                bad |= (col != 0) & (col != 1)
            if f.kind == "onehot":
                bad = (col != 0) & (col != 1)
            if bad.any():
                counts[f.name] = int(bad.sum())
                outside |= bad
        for group, idx in self._groups.items():
            bad = X[:, list(idx)].sum(axis=1) != 1
            if bad.any():
                counts[group] = int(bad.sum())
                outside |= bad
        return outside, counts

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
        if op not in OPS:
            raise SchemaError(f"Unknown comparison {op!r}; valid ones are {list(OPS)}.")
        if not isinstance(feature_index, (int, np.integer)) or not (
            0 <= feature_index < self.n_features
        ):
            raise SchemaError(
                f"Feature index {feature_index!r} is out of range; valid is 0..{self.n_features - 1}."
            )
        f = self.features[int(feature_index)]
        value = float(value)
        if f.kind in ("binary", "onehot"):
            hot = _zero_one_test(op, value)
            if hot is not None:
                if f.kind == "onehot":
                    return f"{f.group} {'==' if hot else '!='} {f.category}"
                return f"{f.name} == {int(hot)}"
        elif f.kind == "categorical":
            text = _categorical_test(f, op, value)
            if text is not None:
                return text
        elif f.kind == "integer" and op in ("<=", ">") and math.isfinite(value):
            # For whole numbers, x <= 37.5 is x <= 37 and x > 37.5 is x > 37.
            return f"{f.name} {op} {format_number(math.floor(value))}"
        return f"{f.name} {op} {format_number(value)}"

    def to_text(self) -> str:
        """A printable table of the features (one line each)."""
        rows = [("#", "name", "kind", "lower", "upper", "details")]
        for i, f in enumerate(self.features):
            if f.kind == "onehot":
                detail = f"{f.group} = {f.category}"
            elif f.kind == "categorical":
                shown = ", ".join(f.categories[:6]) + (", ..." if len(f.categories) > 6 else "")
                detail = f"{len(f.categories)} categories: {shown}"
            else:
                detail = ""
            if self.input_names is not None and self.input_names[i] != f.name:
                detail = (detail + f" (input {self.input_names[i]!r})").strip()
            rows.append(
                (str(i), f.name, f.kind, format_number(f.lower), format_number(f.upper), detail)
            )
        widths = [max(len(r[c]) for r in rows) for c in range(5)]
        lines = ["  ".join(r[c].ljust(widths[c]) for c in range(5)) + "  " + r[5] for r in rows]
        return "\n".join(line.rstrip() for line in lines)

    # -- files ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with ``"format": "nnrules/schema"`` and ``"version": 1``."""
        return {
            "format": SCHEMA_FORMAT,
            "version": SCHEMA_VERSION,
            "features": [f.to_dict() for f in self.features],
            "input_names": None if self.input_names is None else list(self.input_names),
            "input_dtypes": None if self.input_dtypes is None else list(self.input_dtypes),
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
        unknown = sorted(set(d) - {"format", "version", "features", "input_names", "input_dtypes"})
        if unknown:
            raise SchemaError(
                f"Unknown schema keys {unknown}; valid keys are 'features', 'input_names', "
                "'input_dtypes', 'format', 'version'."
            )
        feats = d.get("features")
        if not isinstance(feats, Sequence) or isinstance(feats, str):
            raise SchemaError(f"'features' must be a list of feature objects; got {feats!r}.")
        names, dtypes = d.get("input_names"), d.get("input_dtypes")
        return cls(
            features=tuple(Feature.from_dict(f) for f in feats),
            input_names=None if names is None else tuple(names),
            input_dtypes=None if dtypes is None else tuple(dtypes),
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
        X = np.asarray(X, dtype=np.float64)
        names = tuple(str(n) for n in names)
        raw = dict(raw_columns or {})
        if X.ndim != 2 or X.shape[1] != len(names):
            raise SchemaError(
                f"Data of shape {X.shape} does not match {len(names)} names; pass a 2-D array "
                "with one column per name."
            )
        if X.shape[0] == 0:
            raise SchemaError("Cannot infer a schema from data with no rows; give some rows.")
        if not np.all(np.isfinite(X)):
            raise SchemaError("Cannot infer a schema from data with NaN or inf; drop those rows.")
        lower, upper = X.min(axis=0), X.max(axis=0)
        zero_one = np.all((X == 0) | (X == 1), axis=0)
        whole = np.all(X == np.round(X), axis=0)
        # One-hot candidates: 0/1 columns grouped by the prefix before the last "_" or "=".
        prefixes: dict[str, list[int]] = {}
        for j, name in enumerate(names):
            cut = max(name.rfind("_"), name.rfind("="))
            if zero_one[j] and name not in raw and 0 < cut < len(name) - 1:
                prefixes.setdefault(name[:cut], []).append(j)
        onehot: dict[int, tuple[str, str]] = {}
        for prefix, idx in prefixes.items():
            if len(idx) >= 2 and np.all(X[:, idx].sum(axis=1) == 1):
                for j in idx:
                    onehot[j] = (prefix, names[j][len(prefix) + 1 :])
        features = []
        for j, name in enumerate(names):
            if name in raw:
                kind: Kind = "categorical"
            elif j in onehot:
                kind = "onehot"
            elif whole[j]:
                kind = "integer"
            else:
                kind = "continuous"
            group, category = onehot.get(j, (None, None))
            features.append(
                Feature(
                    name,
                    kind,
                    float(lower[j]),
                    float(upper[j]),
                    group=group,
                    category=category,
                    categories=tuple(raw[name]) if name in raw else None,
                )
            )
        return cls(tuple(features))


def _zero_one_test(op: str, value: float) -> bool | None:
    """For a 0/1 column: True if the test means "is 1", False if "is 0", None if neither."""
    if op == ">" and 0 <= value < 1:
        return True
    if op == "<=" and 0 <= value < 1:
        return False
    if op in ("==", "!=") and value in (0.0, 1.0):
        return (value == 1.0) == (op == "==")
    return None


def _categorical_test(f: Feature, op: str, value: float) -> str | None:
    """Text of a test on category codes, or None when it is not about whole codes."""
    cats = f.categories
    k = len(cats)
    if not math.isfinite(value):  # no whole code (and math.floor(inf) raises)
        return None
    if op in ("==", "!="):
        if value == math.floor(value) and 0 <= value < k:
            return f"{f.name} {op} {cats[int(value)]!r}"
        return None
    cut = math.floor(value)  # codes <= cut satisfy "<="
    chosen = [c for i, c in enumerate(cats) if (i <= cut) == (op == "<=")]
    if not chosen:
        return None
    if len(chosen) == 1:
        return f"{f.name} == {chosen[0]!r}"
    return f"{f.name} in {{{', '.join(repr(c) for c in chosen)}}}"
