"""The contract every surrogate keeps, and the serialisation helpers they share.

A surrogate is a readable model and a pure value: it never touches a network or a file. Every
kind derives from :class:`Surrogate` and so declares, in one place, what callers may rely on:

* ``FORMAT`` (``"nnrules/<kind>"``) and ``VERSION``: the file it is written as; a reader refuses
  another format or a newer version (:func:`check_header`).
* ``data_kind``: ``"table"`` (rows of features in a :class:`~nnrules.schema.FeatureSchema`'s
  space) or ``"sequences"`` (strings over an alphabet).
* ``predict(X)``, ``explain(X)`` (which rule, leaf, box or state decided each row; for additive
  models each term's contribution),
  ``reasons(X)`` (the same as one sentence per row), ``to_text()``, ``complexity()``,
  ``to_dict()`` / ``from_dict(d)`` (``from_dict(to_dict())`` writes the same bytes again).
* Hooks with defaults: ``report_details(X, reference)`` (extra figures for the fidelity
  report; none by default) and ``write_artifacts(folder)`` (files such as plots beside
  ``surrogate.json``; none by default).

:class:`TableSurrogate` adds ``symbols()`` and ``to_sympy()`` (``predict`` equals the lambdified
expression on every row) and the attributes ``schema``, ``task``, ``classes``, ``n_features``;
:class:`SequenceSurrogate` adds ``alphabet`` and ``to_regex()``. An automaton has no sympy form.

The helpers below are the one place the JSON of every kind is checked and converted:
:func:`check_header`, :func:`schema_to_dict` / :func:`schema_from_dict`, :func:`plain`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from nnrules._finite import all_finite, nonfinite_input_message
from nnrules.exceptions import DataError, FormatError

if TYPE_CHECKING:
    from pathlib import Path

    from nnrules.schema import FeatureSchema

__all__ = [
    "ANNOTATIONS", "SequenceSurrogate", "Surrogate", "TableSurrogate", "annotations_from_dict",
    "annotations_to_dict", "check_header", "nonfinite_input_message", "plain", "schema_from_dict",
    "schema_to_dict",
]

#: Optional keys a table surrogate's file carries since its format's version 2: figures measured
#: at extraction for reason codes (see ``nnrules.surrogates.reasons``).
ANNOTATIONS = ("local_fidelity", "reason_stats")


class Surrogate(ABC):
    """What every surrogate kind provides (see the module docstring)."""

    FORMAT: ClassVar[str]
    VERSION: ClassVar[int]
    data_kind: ClassVar[Literal["table", "sequences"]]

    @abstractmethod
    def predict(self, X: Any) -> np.ndarray:
        """Labels (classification) or values (regression), shape (n_samples,)."""

    @abstractmethod
    def explain(self, X: Any) -> np.ndarray:
        """What decided each row, one entry (or row) per sample: the index of the rule, leaf,
        box or end state (int, shape (n_samples,)), or each term's contribution to the deciding
        score (additive models, shape (n_samples, n_terms))."""

    @abstractmethod
    def reasons(self, X: Any) -> list[str]:
        """One sentence per row saying why it got its prediction."""

    @abstractmethod
    def to_text(self) -> str:
        """The whole surrogate as text a person reads (``rules.txt``)."""

    @abstractmethod
    def complexity(self) -> dict[str, Any]:
        """Size figures (rules, conditions, leaves, terms, states, ...) for the report."""

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict starting with ``"format": FORMAT`` and ``"version": VERSION``."""

    @classmethod
    @abstractmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Surrogate:
        """Inverse of :meth:`to_dict`; ``FormatError`` on another format, a newer version or a
        malformed entry."""

    def report_details(self, X: Any, reference: np.ndarray) -> dict[str, Any]:
        """Extra figures for the fidelity report on ``X`` (``reference``: the network's answers).
        None by default."""
        return {}

    def write_artifacts(self, folder: str | Path, *, plots: Any = "important") -> list[str]:
        """Write extra files (plots) into ``folder``; returns their names. None by default.
        ``plots`` says which plots, for kinds that draw them ("important", "all" or a count)."""
        return []


class TableSurrogate(Surrogate):
    """A surrogate over rows of features in a schema's space, with a sympy form.

    Attributes
    ----------
    schema : FeatureSchema or None
    task : {"classification", "regression"}
    classes : tuple or None
        Class labels as the network names them (classification).
    n_features : int
    local_fidelity : dict or None
        Agreement with the network per leaf / rule / box, stored at extraction (trees, rule
        sets, boxes, additive models; see ``nnrules.surrogates.reasons``).
    reason_stats : dict or None
        What reason codes need from the extraction rows (same kinds).

    Every public method that reads rows (``predict``, ``predict_index``, ``predict_proba``,
    ``explain``, ``apply``, ``reasons``, ...) takes them through :meth:`_rows`, which refuses
    NaN and ±inf with a :class:`~nnrules.exceptions.DataError` naming the columns and the first
    row: no test of a surrogate has an answer for them (``NaN <= t`` is False, so a tree would
    send the row down whichever branch that picks).
    """

    data_kind: ClassVar[Literal["table", "sequences"]] = "table"
    schema: FeatureSchema | None
    task: Literal["classification", "regression"]
    classes: Any
    n_features: int
    local_fidelity: dict | None = None
    reason_stats: dict | None = None

    def _rows(self, X: Any) -> np.ndarray:
        """``X`` as a float64 array (no copy when it is one already), refused when it is not
        rows of the surrogate's columns or any value is NaN or ±inf.

        Raises
        ------
        DataError
            ``X`` is not 2-D, has another number of columns than the schema (without a
            schema: fewer than ``n_features``), or holds NaN or ±inf (the message names the
            columns and the first row).
        """
        X = np.asarray(X, dtype=np.float64)
        width = int(self.n_features if self.schema is None else self.schema.n_features)
        if X.ndim != 2 or (X.shape[1] < width if self.schema is None else X.shape[1] != width):
            # A tree's tests index columns: a wider or narrower row would be answered from
            # other columns (or fail with an IndexError) instead of being refused.
            fix = ("Reshape a single row with X.reshape(1, -1)" if X.ndim == 1 else
                   "Pass the columns the surrogate was extracted on, in order (without the "
                   "target)")
            names = "" if self.schema is None else f" ({', '.join(self.schema.names[:6])}" + (
                ", ...)" if width > 6 else ")")
            raise DataError(f"{type(self).__name__} takes rows of {width} column"
                            f"{'s' * (width != 1)}{names}, shape (n_samples, {width}); got "
                            f"shape {X.shape}. {fix}.")
        if not all_finite(X):
            raise DataError(nonfinite_input_message(X, self.schema, type(self).__name__))
        return X

    @abstractmethod
    def symbols(self) -> tuple[Any, ...]:
        """Sympy symbols, one per column of ``X`` in order (named after the schema's features)."""

    @abstractmethod
    def to_sympy(self) -> Any:
        """A sympy expression over :meth:`symbols` (or a dict of them, one per class) that
        ``predict`` equals on every row."""


class SequenceSurrogate(Surrogate):
    """A surrogate over sequences of symbols.

    Attributes
    ----------
    alphabet : tuple of str
    classes : ndarray
    """

    data_kind: ClassVar[Literal["table", "sequences"]] = "sequences"
    alphabet: tuple[str, ...]
    classes: Any

    @abstractmethod
    def to_regex(self, label: Any = None, *, readable: bool = False) -> str:
        """A regular expression for the sequences labelled ``label``."""


# ----------------------------------------------------------------------------- serialisation
def plain(value: Any) -> Any:
    """A numpy scalar as the Python scalar JSON writes (int stays int, str stays str); anything
    else unchanged."""
    return value.item() if isinstance(value, np.generic) else value


def check_header(d: Any, cls: type) -> None:
    """Refuse ``d`` unless it is a mapping of ``cls.FORMAT`` at a version ``cls`` reads.

    Raises
    ------
    FormatError
        Not a mapping, another format, or a version that is not an int in [1, cls.VERSION].
    """
    if not isinstance(d, Mapping) or d.get("format") != cls.FORMAT:
        got = d.get("format") if isinstance(d, Mapping) else type(d).__name__
        raise FormatError(f"Expected format {cls.FORMAT!r}; got {got!r}.")
    if not isinstance(d.get("version"), int) or d["version"] > cls.VERSION or d["version"] < 1:
        raise FormatError(
            f"Unknown {cls.FORMAT} version {d.get('version')!r}; this nnrules reads version "
            f"{cls.VERSION}. Upgrade nnrules.")


def annotations_to_dict(surrogate: Any) -> dict[str, Any]:
    """The optional ``local_fidelity`` / ``reason_stats`` entries that are set (else nothing)."""
    return {k: getattr(surrogate, k) for k in ANNOTATIONS if getattr(surrogate, k, None)
            is not None}


def annotations_from_dict(surrogate: Any, d: Mapping[str, Any]) -> Any:
    """Set the optional entries of ``d`` on ``surrogate`` (version-1 files have none)."""
    for key in ANNOTATIONS:
        if d.get(key) is not None:
            setattr(surrogate, key, d[key])
    return surrogate


def schema_to_dict(schema: FeatureSchema | None) -> dict[str, Any] | None:
    """The ``"schema"`` entry of a surrogate file (None when the surrogate has no schema)."""
    return None if schema is None else schema.to_dict()


def schema_from_dict(d: Mapping[str, Any]) -> FeatureSchema | None:
    """The schema embedded in a surrogate file's dict ``d`` (its ``"schema"`` entry), or None."""
    if d.get("schema") is None:
        return None
    from nnrules.schema import FeatureSchema

    return FeatureSchema.from_dict(d["schema"])
