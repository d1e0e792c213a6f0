"""Evaluate a surrogate's ``to_sympy()`` with ``sympy.lambdify``, independently of ``predict``.

Used by the common checks: ``predict`` must equal what the symbolic form says on every row.
Forms understood: ``dict[label, Boolean]`` (the label whose condition holds), ``dict[label, Expr]``
(the label with the largest score), and one ``Expr`` (a value; or, for classification, the score
of the second class whose sign decides).
"""

from __future__ import annotations

import numpy as np
import sympy


def _columns(surrogate, expr_symbols):
    symbols = list(surrogate.symbols())
    index = {s: i for i, s in enumerate(symbols)}
    return symbols, index


def _evaluate(expr, symbols, X):
    fn = sympy.lambdify(symbols, expr, modules="numpy")
    out = fn(*[X[:, i] for i in range(X.shape[1])])
    return np.broadcast_to(np.asarray(out), (X.shape[0],)).copy()


def sympy_predict(surrogate, X):
    X = np.asarray(X, dtype=np.float64)
    form = surrogate.to_sympy()
    symbols, _ = _columns(surrogate, None)
    if isinstance(form, dict):
        labels = list(form)
        values = np.column_stack([_evaluate(form[k], symbols, X) for k in labels])
        if values.dtype == bool:
            assert np.all(values.sum(axis=1) == 1), "exactly one class condition must hold"
            return np.asarray(labels)[values.argmax(axis=1)]
        return np.asarray(labels)[np.asarray(values, dtype=np.float64).argmax(axis=1)]
    values = _evaluate(form, symbols, X)
    if getattr(surrogate, "task", "regression") == "classification":
        classes = np.asarray(surrogate.classes)
        return classes[(np.asarray(values, dtype=np.float64) > 0).astype(int)]
    return np.asarray(values, dtype=np.float64)
