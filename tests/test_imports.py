"""The package's import graph, read from the source with ``ast`` (nothing is imported).

Arrows go one way: surrogates, oracles and file I/O never reach into the extraction methods, and
``nnrules.fidelity`` measures surrogates against networks without knowing extractors (they hand
it a ``Provenance`` record instead). Imports inside functions and ``TYPE_CHECKING`` blocks count.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "nnrules"

#: (importing modules: a module or a package prefix, forbidden target prefix)
FORBIDDEN = [
    ("nnrules.surrogates", "nnrules.extract"),
    ("nnrules.io", "nnrules.extract"),
    ("nnrules.fidelity", "nnrules.extract"),
    ("nnrules.fidelity_report", "nnrules.extract"),  # fidelity's modules beside it
    ("nnrules.fidelity_stream", "nnrules.extract"),
    ("nnrules.evaluation_checks", "nnrules.extract"),  # fidelity's checks of the data
    ("nnrules.provenance", "nnrules.extract"),
    ("nnrules.oracles", "nnrules.extract"),  # methods and fidelity share the oracles
    ("nnrules.verify", "nnrules.extract"),  # the engine serves methods, never the reverse
    ("nnrules.surrogates", "nnrules.certification"),
    ("nnrules.io", "nnrules.certification"),
    ("nnrules.fidelity", "nnrules.certification"),
    ("nnrules.verify", "nnrules.certification"),
]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every module ``source`` imports (absolute names; relative imports resolved)."""
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            # "from nnrules import extract" imports the subpackage too.
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    graph = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = _module_name(path)
        graph[name] = imports_of(path.read_text(encoding="utf-8"), name,
                                 is_package=path.name == "__init__.py")
    return graph


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations(graph: dict[str, set[str]]) -> list[str]:
    out = []
    for module, targets in sorted(graph.items()):
        for source, forbidden in FORBIDDEN:
            if _under(module, source):
                out += [f"{module} imports {t}" for t in sorted(targets) if _under(t, forbidden)]
    return out


def test_the_graph_covers_the_package():
    graph = _graph()
    assert {"nnrules.fidelity", "nnrules.io.data", "nnrules.extract.base"} <= set(graph)
    assert any(m.startswith("nnrules.surrogates.") for m in graph)
    assert "nnrules.fidelity" in graph["nnrules.extract.base"]  # the arrow that may exist


def test_surrogates_io_and_fidelity_never_import_extract():
    assert violations(_graph()) == []


@pytest.mark.parametrize("module, source", [
    ("nnrules.fidelity", "def f():\n    from nnrules.extract.base import Extractor\n"),
    ("nnrules.io.data", "import nnrules.extract.oracle\n"),
    ("nnrules.surrogates.tree", "from ..extract import get_extractor\n"),
    ("nnrules.io", "from nnrules import extract\n"),
    ("nnrules.surrogates.rules",
     "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from nnrules.extract import x\n"),
])
def test_the_check_catches_each_kind_of_import(module, source):
    graph = _graph()
    graph[module] = imports_of(source, module, is_package=module == "nnrules.io")
    assert violations(graph), source
