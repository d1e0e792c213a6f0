"""The one place certification calls the verification engine.

Everything :mod:`nnrules.certification` needs from the engine goes through :func:`decide`,
:func:`read_network` and :class:`Domain`, so a change of the engine's API is a change of this
file only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nnrules.extract.verify import resolve, verify_boxes
from nnrules.extract.via_boxes import Domain

__all__ = ["Domain", "decide", "read_network"]


def read_network(network: Any):
    """(layer IR, network) of a loaded ONNX network; raises UnsupportedModelError otherwise."""
    return resolve(network)


def decide(network: Any, ir: Any, lo: np.ndarray, hi: np.ndarray, cls: np.ndarray, *,
           project, bound: str, complete: bool, split_depth: int, n_samples: int,
           seed: int) -> dict[str, np.ndarray]:
    """Prove or refute "the network answers class ``cls[b]`` on every point of box b".

    Returns
    -------
    dict with ``status`` (n,) of {"proven", "refuted", "unknown"}, ``counterexample`` (n, d)
    (NaN rows where none; already confirmed by the network), ``influence`` (n, d): how much
    each input moves the certified bound (for choosing split directions).
    """
    res = verify_boxes(network, lo, hi, cls, bound=bound, n_samples=n_samples,
                       random_state=seed, project=project, ir=ir, split_depth=split_depth,
                       complete=complete)
    coef = res["coef"]
    if coef is None:
        influence = np.ones_like(lo)
    else:
        influence = np.abs(coef).sum(axis=1)
    return {"status": np.asarray(res["status"], dtype=str),
            "counterexample": res["counterexample"], "influence": influence}
