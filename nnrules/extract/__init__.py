"""Extraction methods, one per module, found by name through a small registry.

The modules at the top of ``extract/`` are the methods (``additive``, ``automaton``, ``tree``,
``trepan``, ``via``) and ``base.py`` (the ``Extractor`` they derive from). What methods are built
from lives in subpackages: ``engines/`` (query sampling, m-of-n split search, L*). The oracles
they ask are in ``nnrules.oracles``, the surrogates they build in ``nnrules.surrogates``.

The CLI and the common tests read ``REGISTRY``; adding a method means one line here.
``describe_method`` / ``method_help`` describe any registered method's parameters.
"""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

from nnrules.exceptions import ParameterError

__all__ = ["KINDS", "ONE_HIDDEN_LAYER", "REGISTRY", "describe_method", "get_extractor",
           "method_help", "method_names", "parameter_docs"]

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

# method name -> (family, data kind): what `nnrules inspect` lists, without importing the method
# (tests/test_startup.py checks these against the classes).
KINDS: dict[str, tuple[str, str]] = {
    "additive": ("pedagogical", "table"),
    "automaton": ("decompositional", "sequences"),
    "cred": ("decompositional", "table"),
    "deepred": ("decompositional", "table"),
    "eclaire": ("decompositional", "table"),
    "setiono": ("decompositional", "table"),
    "tree": ("pedagogical", "table"),
    "trepan": ("pedagogical", "table"),
    "via": ("decompositional", "table"),
}

# Methods that read exactly one hidden layer (they refuse deeper networks at fit).
ONE_HIDDEN_LAYER = frozenset({"cred", "setiono"})


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


# -- describing a method: defaults, accepted values, one line each (nnrules methods M) --------
# A sentence ends at ". " before a capital letter (not at "1 .. 2" or "e.g. x") or at "; ".
_SENTENCE_END = re.compile(r"(?<=[^.\s][.])\s+(?=[A-Z])|(?<=;)\s+")


def parameter_docs(doc: str | None) -> dict[str, str]:
    """``name -> first sentence`` from a numpydoc ``Parameters`` section (``a, b : type``
    entries give both names the same text)."""
    if not doc:
        return {}
    lines = inspect.cleandoc(doc).splitlines()
    try:
        start = next(i for i, ln in enumerate(lines)
                     if ln.strip() == "Parameters" and i + 1 < len(lines)
                     and set(lines[i + 1].strip()) == {"-"}) + 2
    except StopIteration:
        return {}
    out: dict[str, str] = {}
    names: list[str] = []
    text: list[str] = []
    type_text = ""

    def flush() -> None:
        if names:
            body = " ".join(text).strip()
            sentence = _SENTENCE_END.split(body, maxsplit=1)[0] if body else type_text
            for n in names:
                out[n] = sentence.rstrip(";")

    for i in range(start, len(lines)):
        ln = lines[i]
        if ln and not ln.startswith(" "):
            if i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"} and lines[i + 1].strip():
                break  # the next section
            flush()
            head, _, type_text = ln.partition(" : ")
            names = [n.strip() for n in head.split(",") if n.strip()]
            text = []
        elif ln.strip():
            text.append(ln.strip())
    flush()
    return out


def describe_method(name: str) -> list[dict[str, str]]:
    """One dict per parameter of method ``name`` (``network`` excluded): ``name``, ``default``,
    ``accepts`` (from ``_parameter_constraints``; "" if undeclared), ``doc`` (one line).

    Read generically from the registry: defaults from ``__init__``'s signature, accepted values
    from ``_parameter_constraints``, the meaning from the first sentence of the class's numpydoc
    ``Parameters`` entry. ``nnrules methods M`` and ``nnrules extract --method M --help`` print
    :func:`method_help`.

    Examples
    --------
    >>> row = next(p for p in describe_method("tree") if p["name"] == "max_leaves")
    >>> row["default"], row["accepts"]
    ('16', 'an int in [2, inf)')
    """
    cls = get_extractor(name)
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):  # a subclass's text wins; inherited ones fill gaps
        docs.update(parameter_docs(klass.__doc__ if klass.__module__.startswith("nnrules")
                                   else None))
    constraints: dict[str, Any] = getattr(cls, "_parameter_constraints", {})
    rows = []
    for p in inspect.signature(cls.__init__).parameters.values():
        if p.name in ("self", "network") or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        c = constraints.get(p.name)
        accepts = c.describe() if hasattr(c, "describe") else ""
        default = "required" if p.default is inspect.Parameter.empty else repr(p.default)
        rows.append({"name": p.name, "default": default, "accepts": accepts,
                     "doc": docs.get(p.name, "")})
    return rows


def method_help(name: str) -> str:
    """Aligned text: the method's summary line, then its parameters with default, accepted
    values and meaning, and how to pass them on the command line."""
    cls = get_extractor(name)
    summary = inspect.cleandoc(cls.__doc__ or "").splitlines()[:1]
    family = getattr(cls, "family", "")
    rows = describe_method(name)
    head = [f"{name}: {summary[0] if summary else cls.__name__}"
            + (f" ({family})" if family else ""), ""]
    if not rows:
        return "\n".join(head + ["No parameters."])
    import textwrap

    w_name = max(len("parameter"), *(len(r["name"]) for r in rows))
    w_def = max(len("default"), *(len(r["default"]) for r in rows))
    indent = " " * (2 + w_name + 2 + w_def + 2)
    lines = [f"  {'parameter'.ljust(w_name)}  {'default'.ljust(w_def)}  meaning"]
    for r in rows:
        meaning = r["doc"] or "(not documented)"
        if r["accepts"]:
            meaning += f" [{r['accepts']}]"
        first = f"  {r['name'].ljust(w_name)}  {r['default'].ljust(w_def)}  "
        lines += textwrap.wrap(meaning, width=max(60, 100 - len(indent)) + len(indent),
                               initial_indent=first, subsequent_indent=indent)
    tail = ["", f"Pass as: nnrules extract MODEL --method {name} --param NAME=VALUE ..."]
    return "\n".join(head + lines + tail)
