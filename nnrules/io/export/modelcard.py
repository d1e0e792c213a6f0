"""Fidelity figures into a Hugging Face model card (YAML ``model-index`` + a Markdown section)
and a Model Card Toolkit–style JSON document.

``update_card(card_path, out_dirs)`` reads each ``nnrules extract`` output folder
(``report.json``, ``surrogate.json``, ``rules.txt``) and writes, atomically:

* in the YAML front matter, between ``# nnrules:begin`` and ``# nnrules:end`` comment lines, one
  ``model-index`` entry per surrogate (metric ``type: fidelity``, its value, the data it was
  measured on, the method and size in the metric's ``name`` and ``config``, the 95% interval
  in ``args``). When the card already has a block-style ``model-index`` of its own, the entries
  are appended to that list (still between the markers); otherwise the block adds the key;
* in the body, between ``<!-- nnrules:begin -->`` and ``<!-- nnrules:end -->``, the section
  "Interpretable surrogates".

Every byte outside the markers is kept; running twice changes nothing (the output depends only
on the folders' files). A card without front matter gets one; a missing card is created. The
YAML is written by this module (no YAML library needed at run time: quoted JSON strings and
plain numbers, which YAML reads back exactly); when PyYAML is installed, the card's existing
front matter is parsed first and a malformed one is refused with the file untouched.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from nnrules.exceptions import FormatError, InputFileError, ParameterError

__all__ = ["card_json", "read_out_dir", "render_section", "render_yaml_block", "update_card",
           "update_card_text"]

YAML_BEGIN = "# nnrules:begin"
YAML_END = "# nnrules:end"
MD_BEGIN = "<!-- nnrules:begin -->"
MD_END = "<!-- nnrules:end -->"
MAX_RULE_LINES = 40


# -- reading -------------------------------------------------------------------------------

def read_out_dir(folder: str | os.PathLike) -> dict[str, Any]:
    """``report`` (dict), ``surrogate`` (dict, may be None) and ``rules`` (text) of a folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputFileError(f"{str(folder)!r} is not an nnrules output folder (not a folder). "
                             "Give folders written by nnrules extract.")
    report_path = folder / "report.json"
    if not report_path.is_file():
        raise InputFileError(f"{str(folder)!r} has no report.json; give a folder written by "
                             "nnrules extract (or nnrules evaluate --out).")
    try:
        report = json.loads(report_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise FormatError(f"{str(report_path)!r} is not valid JSON: {e}.") from None
    if not isinstance(report, dict) or report.get("format") != "nnrules/report":
        raise FormatError(f"{str(report_path)!r} is not an nnrules report (format "
                          f"{report.get('format') if isinstance(report, dict) else None!r}).")
    surrogate = None
    if (folder / "surrogate.json").is_file():
        surrogate = json.loads((folder / "surrogate.json").read_text(encoding="utf-8"))
    rules = (folder / "rules.txt").read_text(encoding="utf-8") if (
        folder / "rules.txt").is_file() else ""
    return {"folder": folder.name or str(folder), "report": report, "surrogate": surrogate,
            "rules": rules}


def _held_out(report: dict) -> str:
    kind = str((report.get("data") or {}).get("kind", ""))
    if kind.startswith("held-out"):
        return "yes"
    if kind == "the extraction data itself" or kind.endswith("taken from the extraction data"):
        return "no (the extraction data)"
    if "were also extraction" in kind:
        return f"partly ({kind})"
    return "unknown"


def _size(report: dict) -> str:
    comp = report.get("complexity") or {}
    parts = []
    for key in sorted(comp):
        v = comp[key]
        parts.append(f"{key} {v:g}" if isinstance(v, float) else f"{key} {v}")
    return ", ".join(parts)


def _short_size(report: dict) -> str:
    comp = report.get("complexity") or {}
    for keys in (("leaves", "depth"), ("boxes",), ("rules", "conditions"), ("terms",),
                 ("states",)):
        if all(k in comp for k in keys):
            return ", ".join(f"{k} {comp[k]}" for k in keys)
    return _size(report)


def _method(entry: dict) -> str:
    return str(entry["report"].get("method") or entry["folder"])


# -- YAML ----------------------------------------------------------------------------------

def _yq(text: Any) -> str:
    """A YAML double-quoted scalar (JSON string escapes are valid YAML)."""
    return json.dumps(str(text), ensure_ascii=False)


def _ynum(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    text = repr(float(v))
    if "e" in text or "inf" in text or "nan" in text:
        if not (text.lstrip("-")[0].isdigit()):
            raise FormatError(f"Cannot write the number {v!r} in a model card.")
        import numpy as np  # YAML 1.1 needs a dot, no bare exponent; shortest exact digits

        text = np.format_float_positional(float(v), unique=True, trim="0")
    return text


def render_yaml_block(entries: list[dict], model_name: str, *, with_key: bool,
                      newline: str = "\n") -> str:
    """The marked block of ``model-index`` items (with the ``model-index:`` key or not)."""
    lines = [YAML_BEGIN + " (written by nnrules card; edits between the markers are replaced)"]
    if with_key:
        lines.append("model-index:")
    for e in entries:
        r = e["report"]
        data = r.get("data") or {}
        task = "tabular-regression" if r.get("task") == "regression" else "tabular-classification"
        what = ("R² vs the network" if r.get("task") == "regression"
                else "agreement with the network")
        data_name = str(data.get("name", "evaluation data"))
        held = _held_out(r)
        split = "held-out" if held == "yes" else "extraction" if held.startswith("no") else \
            "mixed or unknown"
        metric_name = f"fidelity ({what}) of the {_method(e)} surrogate, {_short_size(r)}"
        ci = r.get("fidelity_ci95") or [None, None]
        lines += [
            f"- name: {_yq(model_name)}",
            "  results:",
            "  - task:",
            f"      type: {_yq(task)}",
            f"      name: {_yq('surrogate fidelity (' + _method(e) + ')')}",
            "    dataset:",
            f"      type: {_yq(data_name)}",
            f"      name: {_yq(data_name + ' (' + str(data.get('kind', '')) + ')')}",
            f"      split: {_yq(split)}",
            "    metrics:",
            "    - type: \"fidelity\"",
            f"      value: {_ynum(r.get('fidelity'))}",
            f"      name: {_yq(metric_name)}",
            f"      config: {_yq(_method(e))}",
            "      args:",
            f"        ci95_lower: {_ynum(ci[0])}",
            f"        ci95_upper: {_ynum(ci[1])}",
            f"        n_rows: {_ynum(r.get('n_eval'))}",
            f"        model_sha256: {_yq(r.get('model_sha256') or '')}",
            "      verified: false",
        ]
    lines.append(YAML_END)
    return newline.join(lines) + newline


# -- Markdown ------------------------------------------------------------------------------

def _f4(v: Any) -> str:
    return "n/a" if v is None else f"{float(v):.4f}"


def render_section(entries: list[dict], *, newline: str = "\n") -> str:
    """The marked Markdown section "Interpretable surrogates"."""
    lines = [MD_BEGIN, "## Interpretable surrogates", "",
             "Readable models extracted from this network by nnrules. *Fidelity* is how often a "
             "surrogate agrees with the network (R² against the network's output for regression) on the "
             "data named, with a 95% interval. Written by `nnrules card`; edits between the "
             "markers are replaced.", ""]
    for e in entries:
        r = e["report"]
        data = r.get("data") or {}
        ci = r.get("fidelity_ci95")
        ci_text = "n/a" if not ci else f"[{_f4(ci[0])}, {_f4(ci[1])}]"
        versions = r.get("versions") or {}
        lines += [f"### `{_method(e)}` ({e['folder']})", "",
                  "| | |", "|---|---|",
                  f"| method | `{_method(e)}` |",
                  f"| size | {_size(r)} |",
                  f"| fidelity | **{_f4(r.get('fidelity'))}** (95% interval {ci_text}) |",
                  f"| measured on | {data.get('name')} ({r.get('n_eval')} rows; "
                  f"{data.get('kind', 'n/a')}) |",
                  f"| held out | {_held_out(r)} |",
                  f"| model SHA-256 | `{r.get('model_sha256') or 'n/a'}` |",
                  f"| nnrules version | {versions.get('nnrules', 'n/a')} |", ""]
        if r.get("per_class"):
            lines += ["| class (network's label) | rows | fidelity | 95% interval |",
                      "|---|---|---|---|"]
            for row in r["per_class"]:
                c = row.get("ci95")
                c_text = "n/a" if not c else f"[{_f4(c[0])}, {_f4(c[1])}]"
                lines.append(f"| {row['label']} | {row['n']} | {_f4(row['fidelity'])} | "
                             f"{c_text} |")
            lines.append("")
        for w in r.get("warnings") or []:
            lines += [f"> **Warning:** {w}", ""]
        rules = e["rules"].rstrip("\n")
        if rules and len(rules.splitlines()) <= MAX_RULE_LINES:
            lines += ["```text", *[" " + ln if ln.startswith("<!-- nnrules:") else ln
                                   for ln in rules.splitlines()], "```", ""]
        elif rules:
            lines += [f"The rules ({len(rules.splitlines())} lines) are in `rules.txt` of "
                      f"`{e['folder']}`.", ""]
    lines.append(MD_END)
    return newline.join(lines) + newline


# -- the card ------------------------------------------------------------------------------

_FM_OPEN = re.compile(r"\A---[ \t]*\r?\n")
_FM_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*(\r?\n|\Z)", re.MULTILINE)


def _split_front_matter(text: str, source: str) -> tuple[str | None, str, str]:
    """(front matter body or None, the part before the body, the rest after the closing line)."""
    m = _FM_OPEN.match(text)
    if not m:
        return None, "", text
    close = _FM_CLOSE.search(text, m.end())
    if close is None:
        raise FormatError(f"{source} starts YAML front matter with '---' but never closes it; "
                          "add a closing '---' line (or remove the opening one). File untouched.")
    return text[m.end():close.start()], text[:m.end()], text[close.start():]


def _check_yaml(body: str, source: str) -> None:
    try:
        import yaml
    except ImportError:  # no parser at hand: the structural checks above are what we can do
        return
    try:
        data = yaml.safe_load(body)
    except yaml.YAMLError as e:
        where = getattr(e, "problem_mark", None)
        line = f" (line {where.line + 2})" if where is not None else ""
        raise FormatError(f"{source} has malformed YAML front matter{line}: "
                          f"{' '.join(str(getattr(e, 'problem', e)).split())}. Fix it; the file "
                          "was left untouched.") from None
    if data is not None and not isinstance(data, dict):
        raise FormatError(f"{source}'s YAML front matter is a {type(data).__name__}, not a "
                          "mapping of keys; fix it. The file was left untouched.")


def _find_marker(text: str, marker: str, start: int = 0) -> int:
    """Where a line starts with ``marker`` (at or after ``start``), else -1: the same words
    inside a figure's text (a method name, a rule) are not a marker."""
    m = re.compile("^" + re.escape(marker), re.MULTILINE).search(text, start)
    return m.start() if m else -1


def _replace_marked(text: str, begin: str, end: str, block: str, source: str) -> str | None:
    """``text`` with the marked block replaced, or None when there are no markers."""
    i = _find_marker(text, begin)
    if i < 0:
        return None
    j = _find_marker(text, end, i)
    if j < 0:
        raise FormatError(f"{source} has {begin!r} without {end!r}; restore the end marker or "
                          "remove the begin marker. File untouched.")
    k = text.find("\n", j)
    k = len(text) if k < 0 else k + 1
    line_start = text.rfind("\n", 0, i) + 1
    return text[:line_start] + block + text[k:]


def _model_index_end(lines: list[str]) -> int | None:
    """Index of the line after the user's block-style ``model-index`` list, or None."""
    for i, line in enumerate(lines):
        if re.match(r"^model-index\s*:", line):
            if line.split(":", 1)[1].strip() not in ("", "#"):
                raise FormatError("The card's model-index is written in flow style "
                                  f"({line.strip()!r}); write it as a block list so nnrules can "
                                  "add its entries. File untouched.")
            j = i + 1
            while j < len(lines) and (lines[j].startswith((" ", "\t", "-")) or not lines[j].strip()
                                      or lines[j].startswith("#")):
                if lines[j].startswith(YAML_BEGIN):
                    break
                j += 1
            while j > i + 1 and not lines[j - 1].strip():
                j -= 1
            return j
    return None


def update_card_text(text: str, entries: list[dict], model_name: str, *,
                     source: str = "the card") -> str:
    """The card's new text (see the module docstring)."""
    newline = "\r\n" if "\r\n" in text else "\n"
    body_fm, head, rest = _split_front_matter(text, source)
    if body_fm is not None:
        _check_yaml(body_fm, source)
        outside = body_fm
        i = _find_marker(body_fm, YAML_BEGIN)
        if i >= 0:
            j = _find_marker(body_fm, YAML_END, i)
            if j < 0:
                raise FormatError(f"{source}'s front matter has {YAML_BEGIN!r} without "
                                  f"{YAML_END!r}; restore it. File untouched.")
            outside = body_fm[:i] + body_fm[j:]
        has_key = _model_index_end(outside.splitlines()) is not None
        block = render_yaml_block(entries, model_name, with_key=not has_key, newline=newline)
        new_fm = _replace_marked(body_fm, YAML_BEGIN, YAML_END, block, source)
        if new_fm is None:
            lines = body_fm.splitlines(keepends=True)
            end = _model_index_end([ln.rstrip("\r\n") for ln in lines])
            if end is None:
                sep = "" if not body_fm or body_fm.endswith("\n") else newline
                new_fm = body_fm + sep + block
            else:
                new_fm = "".join(lines[:end]) + block + "".join(lines[end:])
        front = head + new_fm
    else:
        block = render_yaml_block(entries, model_name, with_key=True, newline=newline)
        front, rest = "---" + newline + block, "---" + newline + text
    section = render_section(entries, newline=newline)
    replaced = _replace_marked(rest, MD_BEGIN, MD_END, section, source)
    if replaced is None:
        # The marker must start a line: a line break is added only when the text lacks one.
        replaced = rest + ("" if not rest or rest.endswith("\n") else newline) + section
    out = front + replaced
    _check_yaml(_split_front_matter(out, source)[0] or "", "the updated card")
    return out


def update_card(card: str | os.PathLike, out_dirs: list, *, model_name: str | None = None,
                json_path: str | os.PathLike | None = None) -> Path:
    """Add or update the surrogates' figures in the model card at ``card`` (and write the JSON).

    Parameters
    ----------
    card : path-like
        The card (usually ``README.md``); created when missing.
    out_dirs : list of path-like
        Folders written by ``nnrules extract``.
    model_name : str, optional
        The ``model-index`` name; default: the card's ``model_name`` key if any, else the
        card's folder name.
    json_path : path-like, optional
        Also write the Model Card Toolkit–style JSON here.

    Raises
    ------
    ParameterError
        ``card`` is a directory.
    FormatError
        Malformed front matter or markers (the file is left untouched).
    """
    from nnrules.io.files import atomic_write_bytes, atomic_write_text

    card = Path(card)
    if card.is_dir():
        raise ParameterError(f"The card path {str(card)!r} is a directory; give the card's file "
                             "(for example README.md in that folder).")
    if not out_dirs:
        raise ParameterError("Give at least one nnrules output folder.")
    entries = [read_out_dir(d) for d in out_dirs]
    if card.exists():
        try:
            text = card.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise FormatError(f"{str(card)!r} is not UTF-8 text; a model card must be. File "
                              "untouched.") from None
    else:
        text = ""
    name = model_name or _card_model_name(text) or (card.resolve().parent.name or "model")
    new = update_card_text(text, entries, name, source=repr(str(card)))
    if json_path is not None:
        jp = Path(json_path)
        if jp.is_dir():
            raise ParameterError(f"The JSON path {str(jp)!r} is a directory; give a file name.")
        atomic_write_text(jp, json.dumps(card_json(entries, name), indent=2, sort_keys=True,
                                         ensure_ascii=False, allow_nan=False) + "\n")
    if new != text or not card.exists():
        atomic_write_bytes(card, new.encode("utf-8"))
    return card


def _card_model_name(text: str) -> str | None:
    fm = _split_front_matter(text, "the card")[0] if text else None
    if not fm:
        return None
    m = re.search(r"^model_name\s*:\s*(.+?)\s*$", fm, re.MULTILINE)
    if not m:
        return None
    value = m.group(1)
    return value[1:-1] if len(value) > 1 and value[0] == value[-1] and value[0] in "'\"" \
        else value


# -- JSON ----------------------------------------------------------------------------------

def card_json(entries: list[dict], model_name: str) -> dict:
    """A Model Card Toolkit–style document with the same facts as the card."""
    metrics = []
    shas = sorted({e["report"].get("model_sha256") or "" for e in entries} - {""})
    versions = sorted({(e["report"].get("versions") or {}).get("nnrules", "") for e in entries}
                      - {""})
    for e in entries:
        r = e["report"]
        data = r.get("data") or {}
        base = f"{_method(e)} surrogate ({e['folder']}) on {data.get('name')}"
        ci = r.get("fidelity_ci95")
        metrics.append({
            "type": "fidelity", "value": r.get("fidelity"),
            "confidence_interval": None if not ci else {"lower_bound": ci[0], "upper_bound": ci[1]},
            "slice": base, "method": _method(e), "size": r.get("complexity") or {},
            "n_rows": r.get("n_eval"), "held_out": _held_out(r),
            "data_kind": data.get("kind"), "model_sha256": r.get("model_sha256"),
        })
        for row in r.get("per_class") or []:
            c = row.get("ci95")
            metrics.append({
                "type": "fidelity", "value": row.get("fidelity"),
                "confidence_interval": None if not c else {"lower_bound": c[0],
                                                           "upper_bound": c[1]},
                "slice": f"{base}; network label = {row['label']}", "method": _method(e),
                "n_rows": row.get("n"),
            })
    return {
        "schema_version": "0.0.2",
        "model_details": {
            "name": model_name,
            "overview": "Interpretable surrogates of this network extracted by nnrules, with "
                        "their fidelity (agreement with the network).",
            "model_sha256": shas,
            "version": {"name": ", ".join(f"nnrules {v}" for v in versions)},
        },
        "quantitative_analysis": {"performance_metrics": metrics},
    }
