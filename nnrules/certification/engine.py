"""The one place certification calls the verification engine (:mod:`nnrules.verify`).

Everything :mod:`nnrules.certification` needs from the engine goes through
:func:`make_verifier`, :func:`decide` and :class:`Domain`, so a change of the engine's API is a
change of this file only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nnrules.verify import Domain, Verifier

__all__ = ["Domain", "decide", "make_verifier"]


def make_verifier(network: Any, domain: Domain | None, *, bound: str = "linear",
                  complete: bool = False, split_depth: int = 0,
                  n_samples: int = 32) -> Verifier:
    """The verifier for one certification (raises UnsupportedModelError for black boxes)."""
    return Verifier(network, bound=bound, n_samples=n_samples, split_depth=split_depth,
                    complete=complete, domain=domain)


def decide(verifier: Verifier, lo: np.ndarray, hi: np.ndarray, cls: np.ndarray, *,
           seed: int) -> dict[str, np.ndarray]:
    """Prove or refute "the network answers class ``cls[b]`` on every point of box b".

    Returns
    -------
    dict with ``status`` (n,) of {"proven", "refuted", "unknown"}, ``counterexample`` (n, d)
    (NaN rows where none; already confirmed by the network), ``influence`` (n, d): how much
    each input moves the certified bound (for choosing split directions).
    """
    res = verifier.prove(lo, hi, cls, random_state=seed)
    coef = res["coef"]
    influence = np.ones_like(lo) if coef is None else np.abs(coef).sum(axis=1)
    return {"status": np.asarray(res["status"], dtype=str),
            "counterexample": res["counterexample"], "influence": influence}
