"""nnrules: turn a trained neural network (ONNX) into readable, auditable surrogates.

Public names are imported lazily so ``import nnrules`` stays cheap.

Examples
--------
>>> import nnrules
>>> sorted(nnrules.__all__)[:3]
['AdditiveExtractor', 'Automaton', 'AutomatonExtractor']
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "AdditiveExtractor": "nnrules.extract.additive",
    "Automaton": "nnrules.surrogates.automaton",
    "AutomatonExtractor": "nnrules.extract.automaton",
    "CredExtractor": "nnrules.extract.cred",
    "DeepRedExtractor": "nnrules.extract.deepred",
    "EclaireExtractor": "nnrules.extract.eclaire",
    "FeatureSchema": "nnrules.schema",
    "FidelityReport": "nnrules.fidelity",
    "NNRulesError": "nnrules.exceptions",
    "Network": "nnrules.io.model",
    "SetionoExtractor": "nnrules.extract.setiono",
    "TreeExtractor": "nnrules.extract.tree",
    "certify": "nnrules.certification",
    "TrepanExtractor": "nnrules.extract.trepan",
    "VIAExtractor": "nnrules.extract.via",
    "difference": "nnrules.surrogates.automaton",
    "equivalent": "nnrules.surrogates.automaton",
    "evaluate": "nnrules.fidelity",
    "load": "nnrules.io.model",
    "prune_inputs": "nnrules.extract.decompose.prune",
    "read_data": "nnrules.io.data",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'nnrules' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
