"""The fidelity report: the ``nnrules/report`` record, its JSON and its Markdown.

Split out of ``nnrules.fidelity`` (which re-exports every name here): ``FidelityReport`` with
``to_dict`` / ``from_dict`` / ``to_markdown``, and the helpers they use (``_versions``,
``_jsonable``, ``_num``, ``_cell``).
"""

from __future__ import annotations

import math
import platform
from dataclasses import asdict, dataclass, field
from importlib import metadata
from typing import Any

import numpy as np

from nnrules.exceptions import FormatError

__all__ = ["FidelityReport"]


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("nnrules", "numpy", "onnx", "onnxruntime", "scikit-learn"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def _jsonable(value: Any) -> Any:
    """Parameters as JSON: numbers, strings, bools, None, lists; anything else by repr."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.random.Generator):
        # repr would carry a memory address: the same run would give different bytes.
        return f"Generator({type(value.bit_generator).__name__})"
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else repr(float(value))
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return repr(value)


@dataclass
class FidelityReport:
    """Everything needed to judge a surrogate: see ``docs/formats.md`` (format ``nnrules/report``)."""

    FORMAT = "nnrules/report"
    VERSION = 1

    task: str
    method: str | None
    parameters: dict
    seed: Any
    model_sha256: str | None
    data: dict
    n_eval: int
    fidelity: float | None
    fidelity_ci95: list | None
    per_class: list = field(default_factory=list)
    accuracy: dict | None = None
    complexity: dict = field(default_factory=dict)
    n_queries: int | None = None
    timings: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    versions: dict = field(default_factory=_versions)
    partial: bool = False
    partial_reason: str | None = None
    certified_fraction: float | None = None  # share of rows in proven boxes (nnrules certify)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["format"], out["version"] = self.FORMAT, self.VERSION
        return _jsonable(out)

    @classmethod
    def from_dict(cls, d: dict) -> FidelityReport:
        try:
            fields = {k: v for k, v in d.items() if k not in ("format", "version")}
            return cls(**fields)
        except TypeError as exc:
            raise FormatError(f"Malformed nnrules/report: {exc}.") from None

    def to_markdown(self) -> str:
        """The report as a Markdown section for a model card (every table followed by a blank
        line, so it renders as written)."""
        lines = [f"## Fidelity report: `{self.method or 'unnamed method'}`", ""]
        regression = self.task != "classification"
        what = "R² against the network" if regression else "agreement with the network"
        fid = "n/a" if self.fidelity is None else f"{self.fidelity:.4f}"
        ci = self.fidelity_ci95
        ci_text = "n/a" if ci is None else f"[{ci[0]:.4f}, {ci[1]:.4f}]"
        lines += [
            (f"- Evaluated on **{self.data.get('name')}** ({self.n_eval} rows"
             + (f", a stratified sample of {self.data['sampled_from']}"
                if self.data.get("sampled_from") else "")
             + f"; {self.data.get('kind', 'evaluation data')})."),
            f"- Fidelity ({what}): **{fid}**, 95% interval {ci_text}.",
        ]
        if self.certified_fraction is not None:
            lines.append(f"- Certified fraction (rows inside boxes proven to agree with the "
                         f"network): **{self.certified_fraction:.4f}**.")
        if self.accuracy:
            acc = self.accuracy
            metric = "R² against true values" if regression else "Accuracy against true labels"
            lines.append(f"- {metric}: network {_num(acc['network'])}, surrogate "
                         f"{_num(acc['surrogate'])}.")
        if self.complexity:
            size = ", ".join(f"{k.replace('_', ' ')} {v:g}" if isinstance(v, float)
                             else f"{k.replace('_', ' ')} {v}"
                             for k, v in sorted(self.complexity.items()) if v is not None)
            lines.append(f"- Size: {size}.")
        if self.n_queries is not None:
            lines.append(f"- Oracle queries during extraction: {self.n_queries}.")
        if self.partial:
            lines.append(f"- **Partial result:** the extraction stopped early "
                         f"({self.partial_reason}); partial: true.")
        if self.model_sha256:
            lines.append(f"- Model SHA-256: `{self.model_sha256}`.")
        for warning in self.warnings:
            lines.append(f"- **Warning:** {warning}")
        if self.per_class:
            lines += ["", "| class (network's label) | rows | fidelity | 95% interval |",
                      "|---|---|---|---|"]
            for row in self.per_class:
                f = "n/a" if row["fidelity"] is None else f"{row['fidelity']:.4f}"
                c = row["ci95"]
                c_text = "n/a" if c is None else f"[{c[0]:.3f}, {c[1]:.3f}]"
                lines.append(f"| {_cell(row['label'])} | {row['n']} | {f} | {c_text} |")
        plain_details = {k: v for k, v in self.details.items() if k != "stages"}
        if plain_details:
            lines += ["", "| detail | value |", "|---|---|"]
            for key in sorted(plain_details):
                lines.append(f"| {_cell(key.replace('_', ' '))} | {_cell(plain_details[key])} |")
        if isinstance(self.details.get("stages"), list):
            lines += ["", "| extraction stage | what it did | training-row fidelity after it |",
                      "|---|---|---|"]
            for st in self.details["stages"]:
                what = ", ".join(
                    f"{k.replace('_', ' ')} {v:.4g}" if isinstance(v, float)
                    else f"{k.replace('_', ' ')} {v}"
                    for k, v in st.items() if k not in ("stage", "fidelity"))
                f = st.get("fidelity")
                f_text = f"{f:.4f}" if isinstance(f, (int, float)) else "n/a"
                lines.append(f"| {_cell(st.get('stage'))} | {_cell(what)} | {f_text} |")
        lines.append("")
        if self.parameters:
            lines += ["Parameters: " + ", ".join(
                f"`{k}={v!r}`" for k, v in sorted(self.parameters.items())) + ".", ""]
        versions = ", ".join(f"{k} {v}" for k, v in sorted(self.versions.items()))
        seed = "" if self.seed is None else f"Seed: `{self.seed!r}`. "
        lines += [f"{seed}Versions: {versions}.", ""]
        return "\n".join(lines)


def _num(v: Any) -> str:
    return "n/a" if v is None else f"{v:.4f}"


def _cell(value: Any) -> str:
    """A Markdown table cell: pipes escaped, one line."""
    text = f"{value:.4f}" if isinstance(value, float) else str(value)
    return text.replace("|", "\\|").replace("\n", " ")
