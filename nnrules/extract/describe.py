"""What a method's parameters are, read from the registry: defaults, accepted values, one line each.

Nothing is listed by hand: the parameters and defaults come from the extractor's ``__init__``
signature, the accepted values from its ``_parameter_constraints`` and the one-line meaning
from the first sentence of its numpydoc ``Parameters`` section. A method another branch
registers is described the same way. ``nnrules methods M`` and ``nnrules extract --method M
--help`` print :func:`method_help`.

Examples
--------
>>> from nnrules.extract.describe import describe_method
>>> row = next(p for p in describe_method("tree") if p["name"] == "max_leaves")
>>> row["default"], row["accepts"]
('16', 'an int in [2, inf)')
"""

from __future__ import annotations

import inspect
import re
from typing import Any

__all__ = ["describe_method", "method_help", "parameter_docs"]

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
    ``accepts`` (from ``_parameter_constraints``; "" if undeclared), ``doc`` (one line)."""
    from nnrules.extract import get_extractor

    cls = get_extractor(name)
    docs = parameter_docs(cls.__doc__)
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
    from nnrules.extract import get_extractor

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
