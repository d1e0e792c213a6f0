"""Extraction methods, one per module, found by name through a small registry.

The modules at the top of ``extract/`` are the methods (``additive``, ``automaton``, ``tree``,
``trepan``, ``via``) and ``base.py`` (the ``Extractor`` they derive from). What methods are built
from lives in subpackages: ``engines/`` (query sampling, m-of-n split search, L*). The oracles
they ask are in ``nnrules.oracles``, the surrogates they build in ``nnrules.surrogates``.

The CLI and the common tests read ``REGISTRY``; adding a method means one line here.
"""

from __future__ import annotations

import importlib

from nnrules.exceptions import ParameterError

__all__ = ["REGISTRY", "get_extractor", "method_names"]

# method name -> "module:Class"; imported lazily so a method's heavy imports cost nothing until used.
REGISTRY: dict[str, str] = {
    "additive": "nnrules.extract.additive:AdditiveExtractor",
    "automaton": "nnrules.extract.automaton:AutomatonExtractor",
    "cred": "nnrules.extract.cred:CredExtractor",
    "deepred": "nnrules.extract.deepred:DeepRedExtractor",
    "eclaire": "nnrules.extract.eclaire:EclaireExtractor",
    "setiono": "nnrules.extract.setiono:SetionoExtractor",
    "tree": "nnrules.extract.tree:TreeExtractor",
    "trepan": "nnrules.extract.trepan:TrepanExtractor",
    "via": "nnrules.extract.via:VIAExtractor",
}


def method_names() -> list[str]:
    """The registered method names, sorted."""
    return sorted(REGISTRY)


def get_extractor(name: str) -> type:
    """The extractor class registered under ``name``."""
    if name not in REGISTRY:
        raise ParameterError(
            f"Unknown method {name!r}. Known methods: {', '.join(method_names())}."
        )
    module_name, class_name = REGISTRY[name].split(":")
    return getattr(importlib.import_module(module_name), class_name)
