"""Assemble docs/benchmarks.md from the latest tables in benchmarks/results/*.md.

Each benchmark script writes its own table (with the command that made it) to
benchmarks/results/<topic>.md; this script only concatenates them in a fixed order.

    python benchmarks/collect.py
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ORDER = ["probe", "trepan", "via", "additive", "automaton", "export"]

HEADER = """# Benchmarks

Latest tables from `benchmarks/`, measured on the project's machine (2 cores, shared; no GPU).
Each section names the command that made it; `python benchmarks/collect.py` rebuilds this page
from `benchmarks/results/`. Ratios are measured in the same run, so they are fairer than the
absolute seconds, which move with the machine's load.
"""


def main() -> None:
    results = ROOT / "benchmarks" / "results"
    found = {p.stem: p for p in results.glob("*.md")}
    names = [n for n in ORDER if n in found] + sorted(set(found) - set(ORDER))
    parts = [HEADER]
    for name in names:
        text = found[name].read_text().strip()
        # Each result is a page of its own; here it is a section, one heading level down.
        lines = ["#" + line if line.startswith("#") else line for line in text.splitlines()]
        parts.append("\n".join(lines) + "\n")
    (ROOT / "docs" / "benchmarks.md").write_text("\n".join(parts))


if __name__ == "__main__":
    main()
