"""Export a surrogate as one SQL ``SELECT`` with ``CASE`` expressions.

The query reads a table whose columns are the schema's names (numeric columns as numbers,
categorical columns as their text, one-hot columns as 0/1 columns) and returns the column
``prediction`` (after the ``--key`` column when one is given). It is plain standard SQL that
SQLite (Python's standard library) and DuckDB run unchanged:

* identifiers in double quotes (a ``"`` inside a name is doubled), strings in single quotes;
* thresholds as approximate-numeric literals with 17 significant digits (``3.7500000000000000e+01``)
  so both engines read them as the same IEEE double; comparisons are float64, the surrogate's own;
* m-of-n tests as sums of ``CASE WHEN ... THEN 1 ELSE 0 END``; no vendor functions;
* oblique (linear) tests as the weighted sum in the surrogate's order, fully parenthesised
  (``((w1 * "a") + w2 * "b") > v``), so the double arithmetic is the surrogate's own.

Rows no rule covers, abstaining boxes, and rows with a ``NULL`` (or a category the surrogate
does not know) in a column it reads give ``NULL``. Additive models compute their scores in
a derived table (``FROM (SELECT ... ) AS scores``) and decide in the outer ``SELECT``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nnrules.exceptions import ParameterError
from nnrules.io.export._ir import (
    AtLeast,
    Atom,
    LinearAtom,
    categories_where,
    decision_list,
    kind_of,
    linear_sum,
)

__all__ = ["quote_identifier", "to_sql"]


def quote_identifier(name: str) -> str:
    """``"name"`` with inner double quotes doubled (standard SQL)."""
    if not isinstance(name, str) or not name or "\x00" in name:
        raise ParameterError(f"Cannot use {name!r} as an SQL identifier; give a non-empty name.")
    return '"' + name.replace('"', '""') + '"'


def _str(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _num(v: float) -> str:
    v = float(v)
    if not math.isfinite(v):
        raise ParameterError(f"Cannot write the non-finite number {v!r} in SQL.")
    return f"{v:.16e}"


def _value(v: Any) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, (bool, np.bool_)):
        return "1" if v else "0"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return _num(v)
    return _str(v)


def _atom_sql(atom: Atom, schema: Any) -> str:
    f = schema.features[atom.feature]
    col = quote_identifier(f.name)
    if f.kind == "categorical":
        chosen = categories_where(f.categories, atom)
        if not chosen:
            return "(1 = 0)"
        if len(chosen) == len(f.categories):
            return f"({col} IS NOT NULL)"
        if len(chosen) == 1:
            return f"({col} = {_str(chosen[0])})"
        return f"({col} IN ({', '.join(_str(c) for c in chosen)}))"
    op = {"==": "=", "!=": "<>"}.get(atom.op, atom.op)
    if not math.isfinite(atom.value):
        holds = atom.holds(0.0)  # the same answer for every finite value
        return "(1 = 1)" if holds else "(1 = 0)"
    return f"({col} {op} {_num(atom.value)})"


def _linear_sql(atom: LinearAtom, schema: Any) -> str:
    total = linear_sum(atom, schema, "SQL",
                       lambda w, name: f"{_num(w)} * {quote_identifier(name)}", bracket_later=True)
    return f"({total} {atom.op} {_num(atom.value)})"


def _test_sql(test: Any, schema: Any) -> str:
    if isinstance(test, LinearAtom):
        return _linear_sql(test, schema)
    if isinstance(test, AtLeast):
        parts = " + ".join(f"(CASE WHEN {_atom_sql(a, schema)} THEN 1 ELSE 0 END)"
                           for a in test.atoms)
        return f"(({parts}) >= {test.m})"
    return _atom_sql(test, schema)


def to_sql(surrogate: Any, *, table: str = "data", key: str | None = None,
           provenance: dict | None = None) -> str:
    """The query text (ends with ``;`` and a newline).

    Parameters
    ----------
    surrogate : TreeSurrogate, RuleSet, BoxRuleSet or AdditiveSurrogate
        With a schema: its names are the table's columns.
    table : str, default "data"
    key : str, optional
        A column carried through to the result before ``prediction``.
    provenance : dict, optional
        Comment lines at the top (model SHA-256, fidelity...).
    """
    from nnrules.io.export import require_schema

    schema = require_schema(surrogate, "sql")
    head = [f"-- {k}: " + " ".join(str(provenance[k]).splitlines())  # one comment line each
            for k in sorted(provenance or {})]
    head.insert(0, "-- Surrogate exported by nnrules: one row per input row, column 'prediction'.")
    key_sql = "" if key is None else quote_identifier(key) + ", "
    if kind_of(surrogate) == "additive":
        body = _additive_sql(surrogate, schema, table, key)
    else:
        dl = decision_list(surrogate)
        guard = _missing(schema, {j for b in dl.bodies for t in b for j in _reads(t)})
        whens = [f"    WHEN {guard} THEN NULL"] if guard else []
        for b, out in zip(dl.bodies, dl.outputs):
            cond = " AND ".join(_test_sql(t, schema) for t in b) or "(1 = 1)"
            whens.append(f"    WHEN {cond} THEN {_value(out)}")
        case = "CASE\n" + "\n".join(whens) + f"\n    ELSE {_value(dl.default)}\n  END"
        if not whens:
            case = _value(dl.default)
        body = f"SELECT {key_sql}{case} AS prediction\nFROM {quote_identifier(table)}"
    return "\n".join(head) + "\n" + body + ";\n"


def _reads(test: Any) -> tuple[int, ...]:
    """The features a test reads."""
    if isinstance(test, LinearAtom):
        return test.features
    return tuple(a.feature for a in (test.atoms if isinstance(test, AtLeast) else (test,)))


def _missing(schema: Any, features: set[int]) -> str:
    """Holds when a column the surrogate reads is NULL or holds a category it does not know."""
    parts = []
    for j in sorted(features):
        f = schema.features[j]
        col = quote_identifier(f.name)
        parts.append(f"{col} IS NULL")
        if f.kind == "categorical":
            parts.append(f"{col} NOT IN ({', '.join(_str(c) for c in f.categories)})")
    return " OR ".join(parts)


# -- additive ------------------------------------------------------------------------------

def _column_sql(schema: Any, j: int) -> str:
    """The column's value as a number: categorical text becomes its code."""
    f = schema.features[j]
    col = quote_identifier(f.name)
    if f.kind != "categorical":
        return col
    whens = " ".join(f"WHEN {_str(c)} THEN {i}" for i, c in enumerate(f.categories))
    return f"(CASE {col} {whens} END)"


def _poly(coefs, u: str) -> str:
    terms = [_num(coefs[0])]
    for p in range(1, len(coefs)):
        terms.append(f"{_num(coefs[p])} * " + " * ".join([u] * p))
    return " + ".join(terms)


def _axis_cells(axis: Any, schema: Any) -> tuple[list[str], str, str]:
    """Per cell a condition, the local variable ``u`` and the scale expression."""
    if axis.kind == "onehot":
        cols = [quote_identifier(schema.names[c]) for c in axis.columns]
        conds = []
        for j, c in enumerate(cols):
            # numpy's argmax: the first column holding the row's largest value
            earlier = [f"{c} > {o}" for o in cols[:j]]
            later = [f"{c} >= {o}" for o in cols[j + 1:]]
            conds.append(" AND ".join(earlier + later) or "(1 = 1)")
        scale = "(CASE " + " ".join(f"WHEN {cond} THEN {c}" for cond, c in zip(conds, cols)) \
            + " END)"
        return conds, "0", scale
    x = _column_sql(schema, axis.columns[0])
    e = axis.edges
    if axis.kind == "steps":
        if not e:
            return ["(1 = 1)"], "0", "1"
        conds = [f"{x} <= {_num(e[0])}"]
        conds += [f"{x} > {_num(e[i - 1])} AND {x} <= {_num(e[i])}" for i in range(1, len(e))]
        conds.append(f"{x} > {_num(e[-1])}")
        return conds, "0", "1"
    t0, tm = _num(e[0]), _num(e[-1])
    xc = f"(CASE WHEN {x} < {t0} THEN {t0} WHEN {x} > {tm} THEN {tm} ELSE {x} END)"
    inner = e[1:-1]
    conds = []
    for j in range(len(e) - 1):
        parts = []
        if j > 0:
            parts.append(f"{xc} > {_num(inner[j - 1])}")
        if j < len(inner):
            parts.append(f"{xc} <= {_num(inner[j])}")
        conds.append(" AND ".join(parts) or "(1 = 1)")
    return conds, xc, "1"


def _term_sql(term: Any, k: int, schema: Any) -> str:
    axes = term.axes
    if len(axes) == 1:
        conds, u, scale = _axis_cells(axes[0], schema)
        whens = []
        for j, cond in enumerate(conds):
            uj = "0" if axes[0].kind != "spline" else f"({u} - {_num(axes[0].edges[j])})"
            whens.append(f"WHEN {cond} THEN ({_poly(term.coef[k, j], uj)}) * {scale}")
        return "(CASE " + " ".join(whens) + " END)"
    (c1, u1, s1), (c2, u2, s2) = (_axis_cells(a, schema) for a in axes)
    whens = []
    for j1, cond1 in enumerate(c1):
        for j2, cond2 in enumerate(c2):
            v1 = "0" if axes[0].kind != "spline" else f"({u1} - {_num(axes[0].edges[j1])})"
            v2 = "0" if axes[1].kind != "spline" else f"({u2} - {_num(axes[1].edges[j2])})"
            grid = term.coef[k, j1, :, j2, :]
            parts = []
            for a in range(grid.shape[0]):
                for b in range(grid.shape[1]):
                    factors = [_num(grid[a, b])] + [v1] * a + [v2] * b
                    parts.append(" * ".join(factors))
            whens.append(f"WHEN ({cond1}) AND ({cond2}) THEN ({' + '.join(parts)}) * "
                         f"{s1} * {s2}")
    return "(CASE " + " ".join(whens) + " END)"


def _additive_sql(s: Any, schema: Any, table: str, key: str | None) -> str:
    k_out = s.intercept.size
    scores = []
    for k in range(k_out):
        terms = " + ".join(_term_sql(t, k, schema) for t in s.terms) or "0"
        scores.append(f"  {_num(s.intercept[k])} + ({terms}) AS s{k}")
    key_inner = "" if key is None else f"  {quote_identifier(key)},\n"
    key_outer = "" if key is None else f"{quote_identifier(key)}, "
    inner = f"SELECT\n{key_inner}" + ",\n".join(scores) + f"\nFROM {quote_identifier(table)}"
    classes = None if s.classes is None else [c.item() if isinstance(c, np.generic) else c
                                              for c in s.classes]
    if s.output == "value":
        decide = "s0"
    elif s.output == "logit":
        decide = f"CASE WHEN s0 IS NULL THEN NULL WHEN s0 > 0 THEN {_value(classes[1])} ELSE {_value(classes[0])} END"
    else:
        whens = []
        for j in range(k_out):
            # numpy's argmax: strictly above every earlier score, not below any later one
            conds = [f"s{j} > s{i}" for i in range(j)] + [f"s{j} >= s{i}"
                                                          for i in range(j + 1, k_out)]
            whens.append(f"WHEN {' AND '.join(conds) or '(1 = 1)'} THEN {_value(classes[j])}")
        decide = "CASE " + " ".join(whens) + " END"
    return f"SELECT {key_outer}{decide} AS prediction\nFROM (\n{inner}\n) AS scores"
