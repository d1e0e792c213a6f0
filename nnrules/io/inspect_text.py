"""``nnrules inspect`` as a person reads it: aligned label / value lines, no Python reprs.

Examples
--------
>>> print(inspect_text({"path": "m.onnx", "sha256": "ab", "files_sha256": {}, "task": "regression",
...     "classes": None, "inputs": [{"name": "x", "dtype": "float32", "shape": [None, 3]}],
...     "outputs": [{"name": "y", "dtype": "float32", "shape": [None, 1]}],
...     "feature_names": ["a", "b", "c"], "n_features": 3, "opset": {"ai.onnx": 17},
...     "ir_version": 8, "producer": "", "logits_available": False, "layers_readable": False,
...     "layers_error": "Conv is not a dense layer"}, methods=["tree"]))
Model     m.onnx
SHA-256   ab
Task      regression
Inputs    x  float32  [batch, 3]
Outputs   y  float32  [batch, 1]
Features  3: a, b, c
Format    ONNX IR 8, opset ai.onnx 17
Layers    not readable by white-box methods: Conv is not a dense layer
Methods   tree
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["inspect_text"]

MAX_NAMES = 6
WIDTH = 100


def _shape(shape: Sequence[Any] | None) -> str:
    if shape is None:
        return "[?]"
    return "[" + ", ".join("batch" if i == 0 and d is None else "?" if d is None else str(d)
                           for i, d in enumerate(shape)) + "]"


def _table(specs: list[dict]) -> list[str]:
    rows = [(s.get("name", ""), str(s.get("dtype", "")), _shape(s.get("shape"))) for s in specs]
    if not rows:
        return ["none"]
    w = [max(len(r[i]) for r in rows) for i in range(3)]
    return [f"{r[0].ljust(w[0])}  {r[1].ljust(w[1])}  {r[2]}".rstrip() for r in rows]


def _names(names: Sequence[Any] | None, n: Any) -> str:
    if not names:
        return f"{n} (unnamed: x0, x1, ...)" if n is not None else "unknown"
    shown = ", ".join(str(x) for x in names[:MAX_NAMES])
    more = f", ... ({len(names)} in all)" if len(names) > MAX_NAMES else ""
    return f"{len(names)}: {shown}{more}"


def inspect_text(info: dict[str, Any], *, layers: str | None = None,
                 methods: Sequence[str] = ()) -> str:
    """Aligned text of ``Network.describe()``; ``layers`` is the layer IR summary when the
    graph is readable, ``methods`` the usable method names."""
    rows: list[tuple[str, list[str]]] = [("Model", [str(info.get("path", ""))]),
                                         ("SHA-256", [str(info.get("sha256", ""))])]
    files = info.get("files_sha256") or {}
    if files:
        rows.append(("External data", [f"{k}  {v}" for k, v in sorted(files.items())]))
    task = str(info.get("task"))
    classes = info.get("classes")
    if classes:
        task += ", classes " + ", ".join(str(c) for c in classes)
    rows.append(("Task", [task]))
    rows.append(("Inputs", _table(info.get("inputs") or [])))
    rows.append(("Outputs", _table(info.get("outputs") or [])))
    rows.append(("Features", [_names(info.get("feature_names"), info.get("n_features"))]))
    fmt = f"ONNX IR {info.get('ir_version')}"
    opset = info.get("opset") or {}
    if opset:
        fmt += ", opset " + ", ".join(f"{k} {v}" for k, v in sorted(opset.items()))
    if info.get("producer"):
        fmt += f", made by {info['producer']}"
    rows.append(("Format", [fmt]))
    if info.get("task") == "classification":
        rows.append(("Logits", ["available (white-box methods compare logits)"
                                if info.get("logits_available") else
                                "not available (classifier heads without logits compare "
                                "probabilities)"]))
    if info.get("layers_readable"):
        rows.append(("Layers", [layers or "readable"]))
    else:
        rows.append(("Layers", [("not readable by white-box methods: "
                                f"{info.get('layers_error') or 'unknown reason'}")]))
    rows.append(("Methods", [", ".join(methods) or "none"]))
    import textwrap

    width = max(len(k) for k, _ in rows) + 2
    out = []
    for key, values in rows:
        for i, v in enumerate(values):
            lines = textwrap.wrap(v, WIDTH - width) or [""]
            for j, line in enumerate(lines):
                out.append(f"{(key if i == 0 and j == 0 else '').ljust(width)}{line}".rstrip())
    return "\n".join(out)
