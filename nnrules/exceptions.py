"""Typed errors: one root, each subclass also a matching built-in.

Every error a user can cause is one of these, with a message that says what was wrong, the
offending value, what is accepted, and what to do. The CLI prints ``str(error)`` on one line.
"""

from __future__ import annotations

__all__ = [
    "BudgetExceededError",
    "ColumnsRenamedWarning",
    "ColumnsReorderedWarning",
    "DataError",
    "FormatError",
    "InputFileError",
    "LabelMapWarning",
    "ModelLoadError",
    "NNRulesError",
    "NNRulesWarning",
    "NotFittedError",
    "OracleError",
    "ParameterError",
    "PlotsSkippedWarning",
    "SchemaError",
    "UnsafeModelError",
    "UnsupportedModelError",
]


class NNRulesError(Exception):
    """Root of every error nnrules raises on purpose."""


class InputFileError(NNRulesError, FileNotFoundError):
    """A path the user gave does not exist or is not a readable file."""


class ModelLoadError(NNRulesError, ValueError):
    """The file is not a valid ONNX model (not ONNX, truncated, fails the checker)."""


class UnsafeModelError(NNRulesError, ValueError):
    """The model is refused for safety: external data outside its folder, a custom-domain op,
    or a tensor that would be too large to materialise."""


class UnsupportedModelError(NNRulesError, NotImplementedError):
    """The graph is valid but not of a shape a white-box method can read."""


class DataError(NNRulesError, ValueError):
    """Input data is unusable: wrong columns, non-numeric values, NaN, empty, one class only."""


class SchemaError(DataError):
    """A feature schema is malformed or contradicts the data."""


class ParameterError(NNRulesError, ValueError):
    """A method parameter is out of its valid range or of the wrong type."""


class NotFittedError(NNRulesError, AttributeError):
    """An extractor was used before ``fit``."""


class FormatError(NNRulesError, ValueError):
    """A file written by nnrules is malformed, of an unknown format, or of an unknown version."""


class OracleError(NNRulesError, RuntimeError):
    """The network answered something unusable (NaN, inf, wrong shape) to a query."""


class BudgetExceededError(NNRulesError, RuntimeError):
    """An exponential step passed its documented budget."""


class NNRulesWarning(UserWarning):
    """Root of the warnings nnrules gives (the CLI prints them once, as notes)."""


class ColumnsRenamedWarning(NNRulesWarning):
    """Data columns were matched to the expected names ignoring case and surrounding spaces."""


class ColumnsReorderedWarning(NNRulesWarning):
    """Data columns were put in the order of the model's named inputs (same names, another
    order)."""


class LabelMapWarning(NNRulesWarning):
    """Some keys of ``label_map`` match no label in the data (a typo, most often)."""


class PlotsSkippedWarning(NNRulesWarning):
    """Plots were not written because the ``[plot]`` extra (matplotlib) is missing."""


def warn_at_caller(message: str, category: type[Warning]) -> None:
    """``warnings.warn`` pointed at the first frame outside the nnrules package: the user's
    line that called a public entry point, however deep inside nnrules the warning is raised
    (a fixed ``stacklevel`` names a line of nnrules from most entry points)."""
    import os
    import sys
    import warnings

    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frame, level = sys._getframe(1), 2  # stacklevel 2: the caller of this function
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
