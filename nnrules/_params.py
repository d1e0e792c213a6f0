"""Parameters of an estimator, the scikit-learn way, without importing scikit-learn.

``sklearn.base`` pulls in scipy.stats and more (one to two seconds of start-up on a busy
machine); an extractor only needs the parameter protocol: ``get_params``, ``set_params`` and a
readable ``repr``. ``sklearn.base.clone`` works on these objects (it only calls ``get_params``).
"""

from __future__ import annotations

import inspect
from typing import Any

from nnrules.exceptions import ParameterError

__all__ = ["Params"]


class Params:
    """``get_params`` / ``set_params`` from the keyword arguments of ``__init__``."""

    @classmethod
    def _get_param_names(cls) -> list[str]:
        init = cls.__init__
        if init is object.__init__:
            return []
        params = inspect.signature(init).parameters.values()
        return sorted(p.name for p in params if p.name != "self"
                      and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's parameters as a dict (``deep``: also those of nested estimators,
        as ``name__param``)."""
        out: dict[str, Any] = {}
        for name in self._get_param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update((f"{name}__{k}", v) for k, v in value.get_params().items())
            out[name] = value
        return out

    def set_params(self, **params: Any):
        """Set parameters (``name__param`` for nested ones); returns ``self``."""
        valid = self._get_param_names()
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            name, sep, sub = key.partition("__")
            if name not in valid:
                raise ParameterError(
                    f"Invalid parameter {name!r} for {type(self).__name__}; valid parameters: "
                    f"{', '.join(valid)}."
                )
            if sep:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
        for name, sub_params in nested.items():
            getattr(self, name).set_params(**sub_params)
        return self

    def __repr__(self) -> str:
        defaults = {}
        init = type(self).__init__
        if init is not object.__init__:
            defaults = {p.name: p.default for p in inspect.signature(init).parameters.values()}
        shown = []
        for name in self._get_param_names():
            value = getattr(self, name, None)
            default = defaults.get(name, inspect.Parameter.empty)
            if default is inspect.Parameter.empty or not _same(value, default):
                shown.append(f"{name}={value!r}" if default is not inspect.Parameter.empty
                             else f"{value!r}"[:60])
        return f"{type(self).__name__}({', '.join(shown)})"


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a is b or a == b)
    except Exception:  # arrays and other values without a plain truth value
        return False
