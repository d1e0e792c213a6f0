"""Surrogates outside nnrules: ONNX, SQL, Python, and an automaton's transition table / regex.

``export(surrogate, to, path, ...)`` writes one file atomically. Exporters only read
surrogates (they never import ``nnrules.extract``). The formats:

* ``onnx``   — :mod:`nnrules.io.export.onnx` (reads the network's own inputs);
* ``sql``    — :mod:`nnrules.io.export.sql` (one ``SELECT``; SQLite and DuckDB);
* ``python`` — :mod:`nnrules.io.export.python` (one dependency-free module);
* ``json`` / ``csv`` / ``regex`` — automata: the DFA's transition table and its regular
  expression per class.

Every export carries its provenance: the nnrules version, the surrogate's format, and, from the
fidelity report when given, the network's SHA-256, the fidelity and its 95% interval.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

from nnrules.exceptions import ParameterError, SchemaError, UnsupportedModelError

__all__ = ["TARGETS", "export", "export_bytes", "model_inputs", "provenance", "require_schema"]

TARGETS = ("csv", "json", "onnx", "python", "regex", "sql")
_TABLE_TARGETS = ("onnx", "python", "sql")
_AUTOMATON_TARGETS = ("csv", "json", "regex")


def require_schema(surrogate: Any, target: str) -> Any:
    """The surrogate's schema; a clear error when it has none (names are needed)."""
    schema = getattr(surrogate, "schema", None)
    if schema is None:
        raise SchemaError(
            f"Exporting to {target} needs the features' names, but this "
            f"{type(surrogate).__name__} has no schema. Extract it from named data (a CSV "
            "with a header, or pass feature_names / a schema to fit) and export again.")
    names = list(schema.names)
    if target == "sql" and names == [f"x{i}" for i in range(len(names))]:
        raise SchemaError(
            f"Exporting to SQL needs the table's column names, but this surrogate's schema has "
            f"only the placeholder names {names[0]!r}..{names[-1]!r} of a bare array. Extract "
            "it from named data (a CSV with a header, or fit(..., feature_names=[...])) and "
            "export again.")
    return schema


def provenance(surrogate: Any, report: Any = None) -> dict[str, str]:
    """Facts every exported artefact records (strings)."""
    from nnrules import __version__

    out = {"nnrules_version": __version__, "surrogate_format": str(getattr(
        surrogate, "FORMAT", type(surrogate).__name__))}
    if report is not None:
        get = report.get if isinstance(report, dict) else (lambda k: getattr(report, k, None))
        if get("model_sha256"):
            out["model_sha256"] = str(get("model_sha256"))
        if get("fidelity") is not None:
            out["fidelity"] = repr(float(get("fidelity")))
        ci = get("fidelity_ci95")
        if ci:
            out["fidelity_ci95"] = f"[{float(ci[0])!r}, {float(ci[1])!r}]"
        if get("method"):
            out["method"] = str(get("method"))
        data = get("data") or {}
        if data.get("name"):
            out["fidelity_data"] = f"{data.get('name')} ({data.get('n_rows')} rows; " \
                                   f"{data.get('kind')})"
    return out


def model_inputs(network: Any) -> list:
    """The network's graph inputs as :class:`nnrules.io.export.onnx.InputSpec`."""
    from nnrules.io.export.onnx import InputSpec

    specs = []
    for spec in network.inputs:
        shape = spec.shape or (None, 1)
        width = (shape[-1] if len(shape) >= 2 else 1) or 0  # 0: not fixed by the graph
        dtype = "str" if spec.dtype == object else str(spec.dtype)
        specs.append(InputSpec(spec.name, dtype, int(width)))
    return specs


def _automaton_bytes(automaton: Any, to: str) -> bytes:
    labels = [c.item() if hasattr(c, "item") else c for c in automaton.classes]
    if to == "json":
        table = {
            "format": "nnrules/automaton-table", "version": 1,
            "alphabet": list(automaton.alphabet), "classes": labels, "start": automaton.start,
            "states": [{"id": q, "output": labels[int(automaton.output[q])],
                        "next": {a: int(automaton.delta[q, s])
                                 for s, a in enumerate(automaton.alphabet)}}
                       for q in range(automaton.n_states)],
        }
        return (json.dumps(table, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
    if to == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["state", "start", "output", *automaton.alphabet])
        for q in range(automaton.n_states):
            w.writerow([q, int(q == automaton.start), labels[int(automaton.output[q])],
                        *[int(v) for v in automaton.delta[q]]])
        return buf.getvalue().encode()
    lines = []
    for c in labels:
        lines.append(f"# strings the automaton labels {c!r} (Python re.fullmatch syntax)")
        lines.append(automaton.to_regex(c))
    return ("\n".join(lines) + "\n").encode()


def export_bytes(surrogate: Any, to: str, *, table: str = "data", key: str | None = None,
                 report: Any = None, network: Any = None, input_name: str = "input",
                 scores: bool = True) -> bytes:
    """The exported artefact's bytes (see :func:`export`)."""
    from nnrules.io.export._ir import kind_of

    if to not in TARGETS:
        raise ParameterError(f"Unknown export format {to!r}; valid formats are {list(TARGETS)}.")
    kind = kind_of(surrogate)
    if kind == "automaton":
        if to not in _AUTOMATON_TARGETS:
            raise UnsupportedModelError(
                f"An automaton exports to {list(_AUTOMATON_TARGETS)} (its transition table and "
                f"regex); got {to!r}.")
        return _automaton_bytes(surrogate, to)
    if to not in _TABLE_TARGETS:
        raise UnsupportedModelError(
            f"A {kind} surrogate exports to {list(_TABLE_TARGETS)}; {to!r} is for automata.")
    facts = provenance(surrogate, report)
    if to == "python":
        from nnrules.io.export.python import to_python

        return to_python(surrogate, facts).encode()
    if to == "sql":
        from nnrules.io.export.sql import to_sql

        return to_sql(surrogate, table=table, key=key, provenance=facts).encode()
    from nnrules.io.export.onnx import to_onnx

    specs = None if network is None else model_inputs(network)
    if network is not None:
        facts.setdefault("model_sha256", network.sha256)
        if facts["model_sha256"] != network.sha256:
            raise ParameterError(
                f"The report was measured on the model with SHA-256 {facts['model_sha256']}, but "
                f"the model given has {network.sha256}. Give the report and model that belong "
                "together.")
    return to_onnx(surrogate, input_name=input_name, model_inputs=specs,
                   provenance=facts, scores=scores).SerializeToString()


def export(surrogate: Any, to: str, path: str | os.PathLike, **options: Any) -> Path:
    """Export ``surrogate`` to ``path`` (atomically; nothing is written on error).

    Parameters
    ----------
    surrogate : TreeSurrogate, RuleSet, BoxRuleSet, AdditiveSurrogate or Automaton
    to : {"onnx", "sql", "python", "json", "csv", "regex"}
        The first three for tabular surrogates, the last three for automata.
    path : path-like
    **options
        ``table`` (SQL, default "data"), ``key`` (SQL key column), ``report`` (a
        FidelityReport or its dict: SHA-256 and fidelity for the metadata), ``network`` (ONNX:
        the original Network, whose inputs the export reads), ``input_name`` (ONNX single-input
        name when no network is given, default "input"), ``scores`` (ONNX: also output the
        class scores, default True; False gives a label-only model, faster in onnxruntime,
        which computes every output whichever are fetched).

    Returns
    -------
    Path
    """
    from nnrules.io.files import atomic_write_bytes

    path = Path(path)
    if path.is_dir():
        raise ParameterError(f"The export path {str(path)!r} is a directory; give a file name.")
    data = export_bytes(surrogate, to, **options)
    atomic_write_bytes(path, data)
    return path
