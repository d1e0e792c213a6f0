"""``certify(surrogate, network, domain, ...)``: for which inputs does the surrogate say what the
network says? See :mod:`nnrules.certification` for the method."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from nnrules.certification.certificate import Certificate
from nnrules.certification.engine import Domain, make_verifier
from nnrules.certification.search import _same, search
from nnrules.exceptions import DataError, ParameterError, UnsupportedModelError
from nnrules.schema import FeatureSchema

__all__ = ["certify"]

_BOUNDS = ("interval", "linear", "alpha")
_KIND_NAMES = {"TreeSurrogate": "tree", "RuleSet": "ruleset", "BoxRuleSet": "boxes",
               "AdditiveSurrogate": "additive"}
_REGIONS = {
    "tree": "leaves: the conjunction of the tests on each path (axis-aligned and m-of-n)",
    "ruleset": "rules in first-firing order (a rule decides where it fires and no earlier "
               "rule does), then the default",
    "boxes": "boxes in order (first containing box decides), then the fallback tree's leaves",
    "additive": "piecewise-constant decision regions: one per class, the inputs the additive "
                "model gives that class (exact score bounds per box)",
}


def _rows_and_schema(data: Any, surrogate) -> tuple[np.ndarray, FeatureSchema]:
    """Rows (n, d) in schema space and the schema the domain is built on."""
    schema = getattr(surrogate, "schema", None)
    if isinstance(data, FeatureSchema):
        return np.zeros((0, data.n_features)), data
    from nnrules.io.data import as_dataset

    ds = as_dataset(data, schema=schema)
    return np.asarray(ds.X, dtype=np.float64), ds.schema


def _domain_schema(schema: FeatureSchema, X: np.ndarray, margin: float,
                   bounds: Mapping[str, Any] | None) -> FeatureSchema:
    """The schema with the certified domain's bounds: observed box, widened, overridden."""
    feats = list(schema.features)
    lo = np.array([f.lower for f in feats], dtype=np.float64)
    hi = np.array([f.upper for f in feats], dtype=np.float64)
    if len(X):
        lo, hi = X.min(axis=0), X.max(axis=0)
    span = hi - lo
    for j, f in enumerate(feats):
        if f.kind in ("continuous", "integer") and margin > 0:
            lo[j] -= margin * span[j]
            hi[j] += margin * span[j]
    for name, pair in (bounds or {}).items():
        j = schema.index(name)
        try:
            lo[j], hi[j] = (float(v) for v in pair)
        except (TypeError, ValueError):
            raise ParameterError(
                f"bounds[{name!r}] must be a pair of numbers (low, high); got {pair!r}.") from None
    for j, f in enumerate(feats):
        if not (np.isfinite(lo[j]) and np.isfinite(hi[j])):
            raise DataError(
                f"The domain of feature {f.name!r} is [{lo[j]!r}, {hi[j]!r}]; certification "
                "needs finite bounds. Pass data rows, or bounds={name: (low, high)}.")
        if lo[j] > hi[j] or (f.kind in ("integer", "binary", "categorical", "onehot")
                             and np.ceil(lo[j]) > np.floor(hi[j])):
            raise DataError(
                f"The domain of feature {f.name!r} is empty: [{lo[j]!r}, {hi[j]!r}]"
                f"{' holds no whole number' if lo[j] <= hi[j] else ''}. Give low <= high "
                "(and a whole number inside for integer features).")
        feats[j] = dataclasses.replace(f, lower=float(lo[j]), upper=float(hi[j]))
    return dataclasses.replace(schema, features=tuple(feats))


def _check_kind(surrogate) -> str:
    kind = _KIND_NAMES.get(type(surrogate).__name__)
    if kind is None:
        raise UnsupportedModelError(
            f"Cannot certify a {type(surrogate).__name__}: certification splits input boxes, "
            f"and covers {sorted(_KIND_NAMES)} surrogates. Automata read sequences; compare "
            "them with nnrules.equivalent / difference instead.")
    if getattr(surrogate, "task", "classification") != "classification":
        raise UnsupportedModelError(
            f"Cannot certify a regression {type(surrogate).__name__}: a certificate proves "
            "classes. Use VIAExtractor for proven output ranges.")
    return kind


def _regions(surrogate, kind: str, labels, lower, upper):
    if kind == "additive":
        from nnrules.certification.additive import AdditiveRegions

        return AdditiveRegions(surrogate, labels)
    from nnrules.certification.regions import regions_of

    return regions_of(surrogate, labels, lower, upper)


def _check_int(name: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ParameterError(
            f"The {name!r} parameter of certify must be an int in [{low}, inf). Got {value!r} "
            "instead.")


def certify(surrogate, network, domain, *, eval: Any = None, margin: float = 0.0,
            bounds: Mapping[str, Any] | None = None, max_verifications: int = 2000,
            min_width: float = 1 / 64, bound: str = "linear", complete: bool = False,
            split_depth: int = 4, n_samples: int = 32, expected_sha256: str | None = None,
            force: bool = False, random_state: int = 0, eval_name: str = "evaluation data",
            data_name: str = "data") -> Certificate:
    """Partition every rule of ``surrogate`` into proven / refuted / unknown boxes.

    Parameters
    ----------
    surrogate : TreeSurrogate, RuleSet, BoxRuleSet or AdditiveSurrogate
        A classification surrogate (see ``docs/formats.md`` for what each rule's region is).
    network : Network
        The ONNX network the surrogate claims to describe (a dense ReLU / LeakyReLU /
        sigmoid / tanh network; its layer IR is read).
    domain : array-like of shape (n, d), Dataset, DataFrame or FeatureSchema
        Rows whose observed box (widened by ``margin``) is the domain, with the schema's
        constraints (one-hot groups exactly one hot, integers whole, binaries 0/1); these
        rows also order the search (boxes holding more of them first). A FeatureSchema gives
        the bounds directly.
    eval : array-like of shape (m, d), optional
        Rows for ``certified_fraction`` (default: the domain rows).
    margin : float, default=0.0
        Widen continuous and integer features by this fraction of their observed range.
    bounds : mapping feature name -> (low, high), optional
        Override the domain of some features.
    max_verifications : int, default=2000
        Budget of box verifications (>= 1). Boxes still waiting at the end are unknown.
    min_width : float, default=1/64
        Continuous features are not split below this fraction of their domain width.
    bound : {"linear", "alpha", "interval"}
        Bound engine (see :mod:`nnrules.verify.bounds`).
    complete : bool, default=False
        Settle boxes the bounds leave unknown by mixed-integer programming (ReLU / LeakyReLU
        networks).
    split_depth : int, default=4
        Rounds of input splitting inside one verification before a box counts as unknown.
    n_samples : int, default=32
        Random points per box in the counterexample search.
    expected_sha256 : str, optional
        SHA-256 of the model the surrogate was extracted from (``report.json``'s
        ``model_sha256``); a different ``network.sha256`` is refused unless ``force``.
    force : bool, default=False
    random_state : int, default=0
        Seeds the counterexample search; the same inputs and seed give the same certificate.

    Returns
    -------
    Certificate

    Raises
    ------
    UnsupportedModelError
        Automata, regression surrogates, or a network without a readable dense graph.
    DataError
        Model hash mismatch, an empty or unbounded feature domain, class labels the network
        does not have, or rows of the wrong width.
    ParameterError
        A budget below 1 or another invalid option.

    Examples
    --------
    >>> import nnrules  # doctest: +SKIP
    >>> net = nnrules.load("model.onnx")  # doctest: +SKIP
    >>> tree = nnrules.TreeExtractor(net, random_state=0).fit(X_train).surrogate_  # doctest: +SKIP
    >>> cert = nnrules.certify(tree, net, X_train, eval=X_test)  # doctest: +SKIP
    >>> cert.certified_fraction, cert.n_boxes()  # doctest: +SKIP
    (0.889, {'proven': 215, 'refuted': 731, 'unknown': 741})
    >>> print(cert.to_markdown())  # doctest: +SKIP
    """
    _check_int("max_verifications", max_verifications, 1)
    _check_int("split_depth", split_depth, 0)
    _check_int("n_samples", n_samples, 0)
    if bound not in _BOUNDS:
        raise ParameterError(f"bound must be one of {list(_BOUNDS)}; got {bound!r}.")
    if not (isinstance(min_width, (int, float)) and 0 < min_width < 1):
        raise ParameterError(f"min_width must be a float in (0, 1); got {min_width!r}.")
    if isinstance(margin, bool) or not (isinstance(margin, (int, float)) and margin >= 0):
        raise ParameterError(f"margin must be a float >= 0; got {margin!r}.")
    if isinstance(random_state, bool) or not (
            isinstance(random_state, (int, np.integer)) and random_state >= 0):
        # numpy's own ValueError ("expected non-negative integer") reached the CLI as an
        # internal error
        raise ParameterError(f"random_state must be an int >= 0 (CLI --seed); got "
                             f"{random_state!r}.")
    kind = _check_kind(surrogate)
    sha = getattr(network, "sha256", None)
    expected = expected_sha256 or getattr(surrogate, "model_sha256", None)
    if expected and sha and expected != sha and not force:
        raise DataError(
            f"The surrogate was extracted from a model with SHA-256 {expected!r}, but this "
            f"network's file has SHA-256 {sha!r}: it describes another model. Certify it "
            "against the model it came from, or pass force=True (--force) to certify anyway.")
    verifier = make_verifier(network, None, bound=bound, complete=bool(complete),
                             split_depth=split_depth, n_samples=n_samples)
    ir, net = verifier.ir, verifier.network
    if net is None:
        raise UnsupportedModelError(
            "certify needs the loaded ONNX network (nnrules.load), not a bare layer IR: "
            "counterexamples are confirmed in onnxruntime.")
    X, schema = _rows_and_schema(domain, surrogate)
    if X.shape[1] != ir.n_inputs:
        raise DataError(f"The network reads {ir.n_inputs} features but the domain rows have "
                        f"{X.shape[1]} columns; pass the columns the network was trained on.")
    dschema = _domain_schema(schema, X, float(margin), bounds)
    dom = Domain(dschema)
    verifier.domain = dom  # search points land on valid rows (whole numbers, one-hot groups)
    for j, f in enumerate(dschema.features):
        if dom.lower[j] > dom.upper[j]:
            raise DataError(f"The domain of feature {f.name!r} is empty after rounding to "
                            f"whole numbers: [{f.lower!r}, {f.upper!r}]. Widen it.")
    net_classes = [_plain(c) for c in np.asarray(network.classes_).tolist()] \
        if getattr(network, "classes_", None) is not None else None
    if not net_classes:
        raise UnsupportedModelError("certify needs a classification network; this one is "
                                    "regression (no classes).")
    labels = [_plain(c) for c in surrogate.classes]
    for c in labels:
        if not any(_same(c, n) for n in net_classes):
            raise DataError(f"The surrogate's class {c!r} is not among the network's classes "
                            f"{net_classes!r}; the surrogate describes another model.")
    regions = _regions(surrogate, kind, labels, dom.lower, dom.upper)
    cls = [next(i for i, n in enumerate(net_classes) if _same(reg.label, n))
           for reg in regions.regions]
    parts, used = search(verifier, regions, dom, cls, X, max_verifications=max_verifications,
                         min_width=float(min_width), seed=int(random_state))
    X_eval = X if eval is None else _rows_and_schema(eval, surrogate)[0]
    from nnrules.certification.assemble import assemble

    settings = {"bound": bound, "complete": bool(complete), "margin": float(margin),
                "max_verifications": max_verifications, "min_width": float(min_width),
                "n_samples": n_samples, "random_state": random_state,
                "split_depth": split_depth}
    return assemble(parts, regions, dom, dschema, net, X_eval, kind=kind, used=used,
                    settings=settings, regions_text=_REGIONS[kind], sha=sha,
                    eval_name=eval_name if eval is not None else data_name,
                    seed=int(random_state))


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v
