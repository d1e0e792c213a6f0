"""The tables of ``benchmarks/generalise.py``: one row per (network, method), median and
worst per data set and method, and the evaluation-file checks (split out of that script)."""

from __future__ import annotations

import statistics
from pathlib import Path


def _f(v, digits=3):
    return "" if v is None else f"{v:.{digits}f}"


SET1 = ("Networks trained by the script in a temporary folder (never committed): other "
        "seeds, widths and data splits than the committed fixtures; exporters PyTorch "
        "TorchScript (`dynamo=False`), PyTorch dynamo (with a softmax; `*_logits`: without "
        "one, raw logits), skl2onnx `MLPClassifier` (tabular: behind a `StandardScaler`; "
        "iris and wine with ZipMap). ")
SET2 = ("Second set of networks (`benchmarks/generalise_nets2.py`), trained in a temporary "
        "folder (never committed), unlike the first set and the committed fixtures: other "
        "seeds, data splits (tabular `random_state=7`) and MONK training subsets "
        "(`load_monk(k, random_state=1000 + k)`); 2-3 hidden layers, 2-4 units and 128 units; "
        "tanh, sigmoid, LeakyReLU(0.1) and GELU; float64 and batch-fixed (`[1, d]`) "
        "TorchScript exports; opsets 11, 13, 17, 18; dynamo exports; skl2onnx `MLPClassifier` "
        "(tanh / logistic) behind a `StandardScaler`, and a Pipeline(OneHotEncoder, "
        "MLPClassifier) over MONK's six raw attributes (`monk*_raw`); Tomita LSTMs (4, 16 "
        "units) and GRUs (3, 32 units). The network name says activation, exporter, widths, "
        "seed, opset. ")


def write_table(path: Path, rows: list[dict], checks: list[dict], seconds: float, *,
                command: str, params: dict, quick: bool = False, variant: int = 1) -> None:
    """Write the Markdown tables of ``rows`` and ``checks`` (see generalise.py) to ``path``."""
    title = "" if variant == 1 else " (second set)"
    lines = [f"# Generalisation sweep{title}: new networks, seeds, widths and exporters", "",
             f"Command (repository root): `{command}" + (" --quick" if quick else "")
             + ("" if variant == 1 else " --variant 2") + "`", "",
             (SET1 if variant == 1 else SET2) + "Every method through the "
             "CLI (`extract --eval`, `export --to python/onnx`, `predict`, `evaluate`). "
             "Fidelity: held-out rows (MONK: the 432 rows; Tomita: strings of length 13-24). "
             "\"recomputed\": the network run by onnxruntime in the script and the surrogate "
             "by its exported Python module (no nnrules code). Budgets: "
             + ", ".join(f"{m} `{' '.join(p)}`" for m, p in params.items())
             + f"; deepred not run on digits. Whole run {seconds:.0f} s of wall time on the "
             "shared, loaded 2-core machine.", "",
             ("| data | network | exporter | method | fidelity | recomputed | seconds | status |"
              " notes |"), "|---|---|---|---|---:|---:|---:|---|---|"]
    for r in rows:
        notes = r["reason"]
        extra = [r["notes"]] if r.get("notes") else []
        if "coverage" in r:
            extra.append(f"{r['boxes']} boxes cover {r['coverage']:.3f} of held-out rows; "
                         f"{r['via_points']} points sampled in them, {r['via_wrong']} wrong")
        if r.get("concept") is not None:
            extra.append(f"= concept on {r['concept']:.3f} (network {r['network_concept']:.3f})")
        if "network_language" in r:
            extra.append(f"{r['states']} states; network = language on "
                         f"{r['network_language']:.3f}")
            if r.get("automaton_language") is not None:
                extra.append(f"automaton = language on {r['automaton_language']:.3f}")
        if r.get("partial"):
            extra.append("partial")
        if r.get("majority") is not None and r["fidelity"] is not None and (
                r["fidelity"] <= r["majority"] + 0.02):
            extra.append(f"NEAR MAJORITY: one class is {r['majority']:.3f} of the network's "
                         "answers")
        notes = "; ".join([n for n in [notes] + extra if n])
        lines.append(f"| {r['data']} | {r['network']} | {r['exporter']} | {r['method']} | "
                     f"{_f(r['fidelity'])} | {_f(r.get('independent'))} | "
                     f"{_f(r['seconds'], 1)} | {r['status']} | {notes.replace('|', '/')} |")
    lines += ["", "### Median and worst fidelity per method and data set", "",
              "| data | method | networks | median | worst | failed / refused / skipped |",
              "|---|---|---:|---:|---:|---|"]
    groups: dict[tuple, list] = {}
    for r in rows:
        groups.setdefault((r["data"], r["method"]), []).append(r)
    for (data, method), rs in groups.items():
        fids = [r["fidelity"] for r in rs if r["fidelity"] is not None]
        bad = sum(r["status"] == "FAILED" for r in rs)
        refused = sum(r["status"] == "refused" for r in rs)
        skipped = sum(r["status"] == "skipped" for r in rs)
        lines.append(f"| {data} | {method} | {len(rs)} | "
                     f"{_f(statistics.median(fids)) if fids else ''} | "
                     f"{_f(min(fids)) if fids else ''} | {bad} / {refused} / {skipped} |")
    lines += ["", "### Input variants (evaluation files rewritten; tree surrogate)", "",
              "| data | network | check | status | notes |", "|---|---|---|---|---|"]
    for c in checks:
        lines.append(f"| {c['data']} | {c['network']} | {c['check']} | {c['status']} | "
                     f"{c['reason'].replace('|', '/')} |")
    path.write_text("\n".join(lines) + "\n")
