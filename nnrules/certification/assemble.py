"""From the search's boxes to a :class:`Certificate`: merging, volumes and row shares."""

from __future__ import annotations

from typing import Any

import numpy as np

from nnrules.certification.certificate import Certificate
from nnrules.certification.search import Part

__all__ = ["assemble"]

_SAMPLES = 256  # points per box whose region holds only part of it (additive models)


def _share(part: Part, regions, dom, rng) -> float:
    """Fraction of the box's valid points in the part's region (1 for whole boxes)."""
    if part.whole:
        return 1.0
    lo = np.broadcast_to(part.lo, (_SAMPLES, dom.d))
    hi = np.broadcast_to(part.hi, (_SAMPLES, dom.d))
    P = dom.project(lo + rng.random((_SAMPLES, dom.d)) * (hi - lo), lo.copy(), hi.copy())
    return float(np.mean(regions.region_of(P) == part.region))


def _merge(dom, parts: list[Part]) -> list[Part]:
    """Merge proven whole boxes that touch along one unit (the union is exactly the box)."""
    whole = [p for p in parts if p.whole]
    rest = [p for p in parts if not p.whole]
    if len(whole) < 2:
        return parts
    lo, hi, _ = dom.merge(np.array([p.lo for p in whole]), np.array([p.hi for p in whole]),
                          np.zeros(len(whole), dtype=np.int64))
    r = whole[0].region
    merged = [Part(r, a, b, np.zeros(dom.d, dtype=bool), status="proven") for a, b in zip(lo, hi)]
    return merged + rest


def _order(parts: list[Part]) -> list[Part]:
    return sorted(parts, key=lambda p: (tuple(p.lo), tuple(p.hi)))


def assemble(parts, regions, dom, schema, network, X_eval, *, kind: str, used: int,
             settings: dict, regions_text: str, sha: str | None, eval_name: str,
             seed: int) -> Certificate:
    rng = np.random.default_rng(seed)
    n_regions = len(regions.regions)
    by_region: list[dict[str, list[Part]]] = [
        {"proven": [], "refuted": [], "unknown": []} for _ in range(n_regions)]
    for p in parts:
        by_region[p.region][p.status].append(p)
    region_eval = regions.region_of(X_eval) if len(X_eval) else np.zeros(0, dtype=np.int64)
    rules: list[dict[str, Any]] = []
    total = {"proven": 0.0, "refuted": 0.0, "unknown": 0.0}
    for r, reg in enumerate(regions.regions):
        groups = by_region[r]
        groups["proven"] = _order(_merge(dom, groups["proven"]))
        groups["refuted"] = _order(groups["refuted"])
        groups["unknown"] = _order(groups["unknown"])
        vol = {s: sum(dom.count_points(p.lo, p.hi) * _share(p, regions, dom, rng) for p in ps)
               for s, ps in groups.items()}
        region_volume = sum(vol.values())
        for s in total:
            total[s] += vol[s]
        entry: dict[str, Any] = {"name": reg.name, "rule": reg.text, "class": reg.label,
                                 "volume": region_volume}
        for s in ("proven", "refuted", "unknown"):
            entry[f"{s}_volume_share"] = vol[s] / region_volume if region_volume > 0 else None
            boxes = []
            for p in groups[s]:
                box: dict[str, Any] = {"lower": p.lo, "upper": p.hi, "whole": p.whole}
                if s == "refuted":
                    box["counterexample"] = p.counterexample
                    label = network.predict(p.counterexample[None, :])[0]
                    box["network_class"] = label.item() if isinstance(label, np.generic) \
                        else label
                boxes.append(box)
            entry[s] = boxes
        rules.append(entry)
    cert = Certificate(schema, rules, {})
    proven = cert.proven_rows(X_eval, region_eval) if len(X_eval) else np.zeros(0, dtype=bool)
    for r, entry in enumerate(rules):
        mine = region_eval == r
        entry["n_rows"] = int(mine.sum())
        entry["proven_rows"] = int((proven & mine).sum())
        entry["proven_row_share"] = (entry["proven_rows"] / entry["n_rows"]
                                     if entry["n_rows"] else None)
    volume = sum(total.values())
    n_eval = len(X_eval)
    cert.info = {
        "certified_fraction": float(proven.mean()) if n_eval else None,
        "evaluation": {"name": eval_name, "n_rows": int(n_eval)},
        "surrogate": {"kind": kind, "regions": n_regions},
        "regions": regions_text,
        "model_sha256": sha,
        "proven_volume_share": total["proven"] / volume if volume > 0 else None,
        "refuted_volume_share": total["refuted"] / volume if volume > 0 else None,
        "unknown_volume_share": total["unknown"] / volume if volume > 0 else None,
        "verifications": int(used),
        "settings": settings,
    }
    return cert
