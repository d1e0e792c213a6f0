"""``Indicator(condition)``: 1 where a sympy condition holds, 0 elsewhere.

m-of-n tests read in sympy as ``Indicator(c1) + ... + Indicator(cn) >= m``. A ``Piecewise`` per
indicator would be the obvious spelling, but sympy folds a condition holding such sums into
``ITE(c, a, False)`` as soon as it sits inside another ``Piecewise`` (a regression rule set),
and numpy's ``lambdify`` prints that as a ``select`` that fails on arrays. This function stays
opaque to sympy's folding and prints to NumPy, SciPy and plain Python directly.
"""

from __future__ import annotations

import sympy

__all__ = ["Indicator"]


class Indicator(sympy.Function):
    """1 where ``condition`` holds, else 0 (a sympy function of one Boolean argument)."""

    is_integer = True
    is_nonnegative = True

    @classmethod
    def eval(cls, condition):
        if condition is sympy.true:
            return sympy.Integer(1)
        if condition is sympy.false:
            return sympy.Integer(0)
        return None

    def _eval_rewrite_as_Piecewise(self, condition, **kwargs):
        return sympy.Piecewise((1, condition), (0, True))

    def _numpycode(self, printer):
        where = printer._module_format(printer._module + ".where")
        return f"{where}({printer._print(self.args[0])}, 1, 0)"

    def _pythoncode(self, printer):
        return f"(1 if {printer._print(self.args[0])} else 0)"

    _lambdacode = _pythoncode
