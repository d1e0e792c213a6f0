"""Certified surrogates: every rule of a surrogate proven, refuted or split until it is.

``certify(surrogate, network, domain, ...)`` answers the question a regulator asks of a tree,
rule list, box set or additive model: *for which inputs is it guaranteed to say what the
network says?* Every rule's region inside the data's domain is partitioned into boxes that are

* **proven** — the network, run in float32 by onnxruntime, gives the rule's class on every
  valid input of the box (certified bounds, :class:`nnrules.verify.Verifier`);
* **refuted** — a counterexample inside the box on which the surrogate gives the rule's class
  and the network, run in onnxruntime, another one;
* **unknown** — neither, at the budget or the minimum width.

Modules: :mod:`~nnrules.certification.regions` (where each rule decides, three-valued over
boxes), :mod:`~nnrules.certification.additive` (additive models' decision regions),
:mod:`~nnrules.certification.search` (resolve, verify, split),
:mod:`~nnrules.certification.engine` (the only caller of the verification engine),
:mod:`~nnrules.certification.assemble` and :mod:`~nnrules.certification.certificate`
(``certificate.json``, Markdown, counterexamples CSV, repair).
"""

from __future__ import annotations

from nnrules.certification.api import certify
from nnrules.certification.certificate import DEFER, Certificate, load_certificate

__all__ = ["DEFER", "Certificate", "certify", "load_certificate"]
