"""Oracles: the network (or any black box) asked questions, with the questions counted.

An oracle stands between a method and the model it explains, and between the fidelity report
and the network: ``Oracle`` answers on rows in a schema's space (``as_oracle`` wraps a
``Network``, a callable or a scikit-learn style model); ``SequenceOracle`` answers on whole
sequences of a recurrent classifier, batched by length and cached, and reads its hidden states
(``prefix_answers`` reads the state after every prefix in one run per length).

Modules: ``tabular.py`` (``Oracle``, ``as_oracle``), ``sequence.py`` (``SequenceOracle``),
``prefixes.py`` (``prefix_answers``). Oracles use ``nnrules.io`` and never ``nnrules.extract``,
so methods and ``nnrules.fidelity`` share them. The sequence oracle (which imports onnx) is
loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from nnrules.oracles.tabular import Oracle, as_oracle

__all__ = ["Oracle", "SequenceOracle", "as_oracle", "prefix_answers"]

_LAZY = {"SequenceOracle": "nnrules.oracles.sequence", "prefix_answers": "nnrules.oracles.prefixes"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'nnrules.oracles' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
