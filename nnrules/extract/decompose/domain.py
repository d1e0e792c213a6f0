"""The whole input domain as rows, when the schema makes it discrete and small.

A schema whose every column is a one-hot group, a binary column or an integer column of at most
16 values (by its bounds) has a finite input domain: the product of the attributes' values. When
that product is small (MONK's 432 points), a method can learn from every point of it, each
labelled by the network, instead of from a sample of it: nothing is left to chance, and a rule
set's fidelity on these rows is its fidelity on the whole domain.

The attributes are read as :mod:`~nnrules.extract.decompose.setiono_rules` reads them for its
exact unit enumeration (one reading of "discrete" for the engine).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nnrules.extract.decompose.setiono_rules import _attributes, _domain, _rows, _sizes

__all__ = ["discrete_domain", "domain_size"]


def domain_size(schema: Any) -> int | None:
    """Points of the schema's input domain, or None when a column is not discrete (continuous,
    categorical codes, an integer column with more than 16 values or unknown bounds)."""
    if schema is None:
        return None
    attrs = _attributes(range(schema.n_features), schema)
    # an exact integer product: a float one overflows past ~1024 binary columns
    return None if attrs is None else math.prod(_sizes(attrs))


def discrete_domain(schema: Any, max_points: int) -> np.ndarray | None:
    """Every point of the schema's discrete input domain, in a fixed order, or None when the
    domain is not discrete (:func:`domain_size`) or has more than ``max_points`` points.

    Parameters
    ----------
    schema : FeatureSchema
    max_points : int
        Largest domain enumerated.

    Returns
    -------
    ndarray of shape (n_points, n_features) or None
        One-hot groups with exactly one column set, integer and binary columns at each of
        their values; the order is lexicographic in the attributes (column order).
    """
    size = domain_size(schema)
    if size is None or size > max_points:
        return None
    attrs = _attributes(range(schema.n_features), schema)
    return _rows(_domain(attrs), attrs, schema.n_features)
