"""Export a surrogate as one dependency-free Python module: ``predict(row)``,
``predict_many(rows)``.

The module needs only the standard library. ``row`` is a mapping from the schema's column names
to values: numbers (or numeric strings, as ``csv.DictReader`` gives them) for numeric and 0/1
columns, the category's text for categorical columns. Comparisons are float64, exactly the
surrogate's own; thresholds are written with ``repr`` so they parse back to the same double.
An unknown category or a missing value (``None``, NaN) raises ``ValueError``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nnrules.io.export._ir import (
    AtLeast,
    Atom,
    LinearAtom,
    categories_where,
    decision_list,
    kind_of,
    linear_sum,
)

__all__ = ["to_python"]

_HELPERS = '''

def _num(row, name):
    value = None if row[name] is None else float(row[name])
    if value is None or value != value:
        raise ValueError(f"column {name!r} is missing ({row[name]!r}); give a number")
    return value


def _cat(row, name):
    value = str(row[name])
    if value not in _CATEGORIES[name]:
        raise ValueError(
            f"column {name!r} has category {value!r}; known: {sorted(_CATEGORIES[name])}")
    return value
'''


def _lit(v: Any) -> str:
    if isinstance(v, float):
        return repr(v) if np.isfinite(v) else f"float({str(v)!r})"
    return repr(v)


def _atom_py(atom: Atom, schema: Any) -> str:
    f = schema.features[atom.feature]
    name = repr(f.name)
    if f.kind == "categorical":
        chosen = categories_where(f.categories, atom)
        if not chosen:
            return f"(_cat(row, {name}) and False)"
        if len(chosen) == len(f.categories):
            return f"(_cat(row, {name}) or True)"
        if len(chosen) == 1:
            return f"_cat(row, {name}) == {chosen[0]!r}"
        return f"_cat(row, {name}) in {tuple(chosen)!r}"
    return f"_num(row, {name}) {atom.op} {_lit(float(atom.value))}"


def _linear_py(atom: LinearAtom, schema: Any) -> str:
    """The sum formed left to right, as the surrogate forms it."""
    total = linear_sum(atom, schema, "Python", lambda w, name: f"{_lit(w)} * _num(row, {name!r})")
    return f"{total} {atom.op} {_lit(float(atom.value))}"


def _test_py(test: Any, schema: Any) -> str:
    if isinstance(test, LinearAtom):
        return _linear_py(test, schema)
    if isinstance(test, AtLeast):
        parts = " + ".join(f"({_atom_py(a, schema)})" for a in test.atoms)
        return f"({parts}) >= {test.m}"
    return _atom_py(test, schema)


def _header(surrogate: Any, provenance: dict) -> list[str]:
    lines = ['"""Surrogate exported by nnrules: predict(row: dict) -> label; '
             'predict_many(rows).', ""]
    for key in sorted(provenance):
        text = str(provenance[key]).replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f"{key}: {text}")  # escaped: stays inside the docstring
    lines += ["", "Dependency-free (standard library only). Comparisons are float64, exactly the",
              "surrogate's own. Generated file: do not edit; re-export instead.", '"""', ""]
    return lines


def _categories(schema: Any) -> str:
    cats = {f.name: tuple(f.categories) for f in schema.features if f.kind == "categorical"}
    return f"_CATEGORIES = {cats!r}"


def to_python(surrogate: Any, provenance: dict | None = None) -> str:
    """The module's source text.

    Parameters
    ----------
    surrogate : TreeSurrogate, RuleSet, BoxRuleSet or AdditiveSurrogate
        With a schema (the row's keys are its names).
    provenance : dict, optional
        Lines for the module docstring (model SHA-256, fidelity...).
    """
    from nnrules.io.export import require_schema

    schema = require_schema(surrogate, "python")
    lines = _header(surrogate, provenance or {})
    lines.append(_categories(schema))
    lines.append(_HELPERS)
    if kind_of(surrogate) == "additive":
        lines += _additive_body(surrogate)
    else:
        dl = decision_list(surrogate)
        lines += ["", "def predict(row):",
                  '    """The surrogate\'s output for one row (a dict)."""']
        for body, out in zip(dl.bodies, dl.outputs):
            cond = " and ".join(f"({_test_py(t, schema)})" for t in body) or "True"
            lines += [f"    if {cond}:", f"        return {_lit(out)}"]
        lines.append(f"    return {_lit(dl.default)}")
    lines += ["", "", "def predict_many(rows):",
              '    """predict() of every row, as a list."""',
              "    return [predict(row) for row in rows]", ""]
    return "\n".join(lines)


# -- additive ------------------------------------------------------------------------------

_ADDITIVE = '''

def _locate(axis, row):
    kind, names, edges = axis[0], axis[1], axis[2]
    if kind == "onehot":
        block = [_num(row, n) for n in names]
        cell = block.index(max(block))
        return cell, 0.0, block[cell]
    x = _num(row, names[0]) if names[0] not in _CATEGORIES else float(
        _CATEGORIES[names[0]].index(_cat(row, names[0])))
    if kind == "steps":
        return sum(1 for e in edges if e < x), 0.0, 1.0
    xc = min(max(x, edges[0]), edges[-1])
    cell = sum(1 for e in edges[1:-1] if e < xc)
    return cell, xc - edges[cell], 1.0


def _scores(row):
    out = [0.0] * len(_INTERCEPT)
    for axes, coef in _TERMS:
        parts = [_locate(a, row) for a in axes]
        for k in range(len(out)):
            if len(parts) == 1:
                (cell, u, s), = parts
                c = coef[k][cell]
                total = 0.0
                for p in range(len(c)):
                    total += c[p] * u ** p
                out[k] += total * s
            else:
                (c1, u1, s1), (c2, u2, s2) = parts
                grid = coef[k][c1]
                total = 0.0
                for a in range(len(grid)):
                    for b in range(len(grid[a][c2])):
                        total += grid[a][c2][b] * u1 ** a * u2 ** b
                out[k] += total * (s1 * s2)
    return [b + v for b, v in zip(_INTERCEPT, out)]
'''


def _nested(a: np.ndarray) -> Any:
    return [_nested(x) for x in a] if a.ndim > 0 else float(a)


def _additive_body(s: Any) -> list[str]:
    names = s.schema.names
    terms = []
    for t in s.terms:
        axes = [(a.kind, tuple(names[c] for c in a.columns), tuple(a.edges)) for a in t.axes]
        terms.append((axes, _nested(t.coef)))
    lines = [f"_INTERCEPT = {[float(v) for v in s.intercept]!r}", f"_TERMS = {terms!r}"]
    lines.append(_ADDITIVE)
    lines += ["", "def predict(row):", '    """The surrogate\'s output for one row (a dict)."""',
              "    scores = _scores(row)"]
    if s.output == "value":
        lines.append("    return scores[0]")
    elif s.output == "logit":
        first, second = [c.item() if isinstance(c, np.generic) else c for c in s.classes]
        lines.append(f"    return {second!r} if scores[0] > 0 else {first!r}")
    else:
        classes = [c.item() if isinstance(c, np.generic) else c for c in s.classes]
        lines += [f"    classes = {classes!r}",
                  "    return classes[scores.index(max(scores))]"]
    return lines
