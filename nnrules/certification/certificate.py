"""The certificate: every region of a surrogate as proven / refuted / unknown boxes.

``Certificate.to_dict()`` is the ``nnrules/certificate`` file (``certificate.json``, documented
in ``docs/formats.md``, JSON Schema ``nnrules/io/schemas/certificate.json``). Also here: the
Markdown summary, the counterexamples CSV and the repaired surrogate (refuted and unknown boxes
as explicit "defer to the network" exceptions).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from nnrules.exceptions import FormatError
from nnrules.schema import FeatureSchema, format_number

__all__ = ["DEFER", "Certificate"]

DEFER = "defer to the network"
_STATUSES = ("proven", "refuted", "unknown")


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


def _pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


class Certificate:
    """Proven / refuted / unknown boxes of every region of a surrogate.

    Parameters
    ----------
    schema : FeatureSchema
        Features (names, kinds); bounds are the certified domain.
    rules : list of dict
        One per region: ``name``, ``rule`` (text), ``class``, ``proven`` / ``refuted`` /
        ``unknown`` (lists of ``{"lower": (d,), "upper": (d,)}`` arrays, refuted with a
        ``counterexample`` (d,) and ``network_class``), ``volume`` (the region's share of the
        domain), ``proven_volume_share`` (and refuted / unknown), ``n_rows``,
        ``proven_rows``.
    info : dict
        Everything else written at the top level (``certified_fraction``, ``surrogate``,
        ``model_sha256``, ``evaluation``, ``settings``, ``verifications``...).
    """

    FORMAT = "nnrules/certificate"
    VERSION = 1

    def __init__(self, schema: FeatureSchema, rules: list[dict], info: Mapping[str, Any]):
        self.schema = schema
        self.rules = rules
        self.info = dict(info)

    # -- figures ---------------------------------------------------------------------------
    @property
    def certified_fraction(self) -> float | None:
        """Share of evaluation rows inside a proven box of the region that decides them."""
        return self.info.get("certified_fraction")

    def boxes(self, status: str):
        """All boxes of one status: (lower (n, d), upper (n, d), region indices (n,))."""
        lo, hi, idx = [], [], []
        for r, rule in enumerate(self.rules):
            for box in rule[status]:
                lo.append(box["lower"])
                hi.append(box["upper"])
                idx.append(r)
        d = self.schema.n_features
        return (np.array(lo).reshape(-1, d), np.array(hi).reshape(-1, d),
                np.array(idx, dtype=np.int64))

    def n_boxes(self) -> dict[str, int]:
        return {s: sum(len(r[s]) for r in self.rules) for s in _STATUSES}

    # -- files -----------------------------------------------------------------------------
    def _bounds(self, lo, hi) -> dict[str, list]:
        return {n: [float(a), float(b)] for n, a, b in zip(self.schema.names, lo, hi)}

    def to_dict(self) -> dict[str, Any]:
        rules = []
        for rule in self.rules:
            out = {k: _plain(v) for k, v in rule.items() if k not in _STATUSES}
            out["class"] = _plain(rule["class"])
            for s in _STATUSES:
                boxes = []
                for box in rule[s]:
                    b = {"bounds": self._bounds(box["lower"], box["upper"])}
                    if s == "refuted":
                        b["counterexample"] = {n: float(v) for n, v in
                                               zip(self.schema.names, box["counterexample"])}
                        b["network_class"] = _plain(box["network_class"])
                    if not box.get("whole", True):
                        b["whole"] = False
                    boxes.append(b)
                out[s] = boxes
            rules.append(out)
        d = {"format": self.FORMAT, "version": self.VERSION, "rules": rules,
             "schema": self.schema.to_dict()}
        d.update({k: v for k, v in self.info.items()})
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Certificate:
        if not isinstance(d, Mapping) or d.get("format") != cls.FORMAT:
            raise FormatError(f"Expected format {cls.FORMAT!r}; got {d.get('format')!r}.")
        try:
            schema = FeatureSchema.from_dict(d["schema"])
            names = schema.names
            rules = []
            for rule in d["rules"]:
                r = {k: v for k, v in rule.items() if k not in _STATUSES}
                for s in _STATUSES:
                    boxes = []
                    for b in rule[s]:
                        box = {"lower": np.array([b["bounds"][n][0] for n in names], float),
                               "upper": np.array([b["bounds"][n][1] for n in names], float),
                               "whole": bool(b.get("whole", True))}
                        if s == "refuted":
                            box["counterexample"] = np.array(
                                [b["counterexample"][n] for n in names], float)
                            box["network_class"] = b["network_class"]
                        boxes.append(box)
                    r[s] = boxes
                rules.append(r)
        except (KeyError, TypeError, ValueError) as e:
            raise FormatError(f"Malformed {cls.FORMAT} file: {e!r}. Re-create it with "
                              "nnrules certify.") from e
        info = {k: v for k, v in d.items() if k not in ("format", "version", "rules", "schema")}
        return cls(schema, rules, info)

    def counterexamples_csv(self) -> str:
        """One row per refuted box: rule, surrogate's class, network's class, then features."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["rule", "surrogate_class", "network_class", *self.schema.names])
        for rule in self.rules:
            for box in rule["refuted"]:
                w.writerow([rule["name"], _plain(rule["class"]), _plain(box["network_class"]),
                            *[repr(float(v)) for v in box["counterexample"]]])
        return buf.getvalue()

    def _point_text(self, x) -> str:
        parts = []
        for g, cols in self.schema.groups.items():
            hot = [c for c in cols if x[c] >= 0.5]
            if hot:
                parts.append(f"{g} = {self.schema.features[hot[0]].category}")
        grouped = {c for cols in self.schema.groups.values() for c in cols}
        for j, f in enumerate(self.schema.features):
            if j not in grouped:
                parts.append(f"{f.name} = {format_number(float(x[j]))}")
        return ", ".join(parts)

    def to_markdown(self) -> str:
        """A short human summary, one line per rule."""
        info = self.info
        ev = info.get("evaluation", {})
        n_boxes = self.n_boxes()
        lines = [
            (f"## Certificate: `{info.get('surrogate', {}).get('kind', 'surrogate')}` against "
            f"the network"), "",
            (f"- **{_pct(self.certified_fraction)}** of the {ev.get('n_rows')} rows of "
            f"{ev.get('name')!s} lie inside proven boxes of the rule that decides them."),
            (f"- Domain volume: proven {_pct(info.get('proven_volume_share'))}, refuted "
            f"{_pct(info.get('refuted_volume_share'))}, unknown "
            f"{_pct(info.get('unknown_volume_share'))} ({info.get('regions', '')})."),
            (f"- Boxes: {n_boxes['proven']} proven, {n_boxes['refuted']} refuted (counterexamples "
            f"in `counterexamples.csv`), {n_boxes['unknown']} unknown; "
            f"{info.get('verifications')} verifications."),
        ]
        if info.get("model_sha256"):
            lines.append(f"- Model SHA-256: `{info['model_sha256']}`.")
        lines += ["", ("Proven means: for every input in the box (inside the domain), the network "
                  "run in float32 gives the rule's class."), ""]
        for rule in self.rules:
            text = (f"- **{rule['name']}** ({rule['rule']} → {rule['class']}) is proven on "
                    f"{_pct(rule.get('proven_volume_share'))} of its region, "
                    f"{_pct(rule.get('proven_row_share'))} of its {rule.get('n_rows')} rows")
            if rule["refuted"]:
                box = rule["refuted"][0]
                text += (f"; counterexample: {self._point_text(box['counterexample'])} "
                         f"(network: {box['network_class']})")
            lines.append(text + ".")
        return "\n".join(lines) + "\n"

    # -- rows ------------------------------------------------------------------------------
    def proven_rows(self, X: np.ndarray, region_of: np.ndarray) -> np.ndarray:
        """True for rows inside a proven box of the region deciding them."""
        X = np.asarray(X, dtype=np.float64)
        out = np.zeros(len(X), dtype=bool)
        lo, hi, idx = self.boxes("proven")
        for k in range(len(lo)):
            inside = np.all((X >= lo[k]) & (X <= hi[k]), axis=1)
            out |= inside & (region_of == idx[k])
        return out

    # -- repair ----------------------------------------------------------------------------
    def repair(self, surrogate):
        """The surrogate with refuted and unknown boxes (and the outside of the domain) as
        explicit exceptions that answer ``"defer to the network"``.

        Trees and rule sets become an ordered :class:`RuleSet`: the exceptions first, then the
        surrogate's own rules in their first-firing order. Box sets and additive models become
        a :class:`BoxRuleSet` of the proven boxes that abstains (defers) elsewhere. Either way
        the result agrees with the network wherever it does not defer, inside the domain.
        """
        from nnrules.surrogates.boxes import BoxRuleSet
        from nnrules.surrogates.rules import Condition, Rule, RuleSet
        from nnrules.surrogates.tree import TreeSurrogate

        if isinstance(surrogate, TreeSurrogate):
            surrogate = surrogate.to_rules()
        if not isinstance(surrogate, RuleSet):
            lo, hi, idx = self.boxes("proven")
            classes = list(getattr(surrogate, "classes", None) or [])
            return BoxRuleSet(lo, hi, [self.rules[i]["class"] for i in idx], schema=self.schema,
                              task="classification", classes=classes or None,
                              fallback="abstain",
                              verification={"certificate": "repaired", **self.n_boxes()})
        defer = len(surrogate.classes)
        lower = np.array([f.lower for f in self.schema.features])
        upper = np.array([f.upper for f in self.schema.features])
        exceptions = []
        for j in range(self.schema.n_features):  # outside the domain: nothing is certified
            exceptions.append(Rule((Condition(j, "<=", math.nextafter(lower[j], -math.inf)),),
                                   defer))
            exceptions.append(Rule((Condition(j, ">", upper[j]),), defer))
        for status in ("refuted", "unknown"):
            lo, hi, _ = self.boxes(status)
            for a, b in zip(lo, hi):
                body = []
                for j in range(len(a)):
                    if a[j] > lower[j]:
                        body.append(Condition(j, ">", math.nextafter(float(a[j]), -math.inf)))
                    if b[j] < upper[j]:
                        body.append(Condition(j, "<=", float(b[j])))
                exceptions.append(Rule(tuple(body), defer))
        return RuleSet(exceptions + list(surrogate.rules), surrogate.default, ordered=True,
                       classes=tuple(surrogate.classes) + (DEFER,), schema=surrogate.schema,
                       task="classification", n_features=surrogate.n_features)


def load_certificate(path) -> Certificate:
    """Read a ``certificate.json`` (checked against its JSON Schema when jsonschema is there).

    Raises
    ------
    InputFileError, FormatError
    """
    import json
    from pathlib import Path

    from nnrules.exceptions import InputFileError
    from nnrules.io.serialize import validate

    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"No such certificate file: {str(p)!r}. Check the path.")
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise FormatError(f"{str(p)!r} is not a certificate: not valid JSON ({e}).") from e
    if not isinstance(d, dict) or d.get("format") != Certificate.FORMAT:
        raise FormatError(f"{str(p)!r} is not an {Certificate.FORMAT} file.")
    v = d.get("version")
    if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= Certificate.VERSION:
        raise FormatError(f"{str(p)!r} is {Certificate.FORMAT} version {v!r}; this nnrules reads "
                          f"version {Certificate.VERSION}. Upgrade nnrules.")
    validate(d)
    return Certificate.from_dict(d)
