"""``via`` seeded by a certified tree: the distilled tree's leaves, certified box by box.

Instead of growing near-cubes around rows, take the distilled tree as a surrogate, certify it
(:func:`nnrules.certify`: every leaf split into proven / refuted / unknown boxes, boxes holding
most rows first) and hand the proven boxes to ``via``'s selection.
"""

from __future__ import annotations

import numpy as np

__all__ = ["certified_boxes"]


def certified_boxes(network, tree, schema, classes, X, *, budget: int, random_state: int,
                    bound: str, complete: bool, split_depth: int, n_samples: int):
    """Proven boxes of the certified tree: list of (lo, hi, class index), and the
    verifications spent and the certificate's box counts."""
    from nnrules.certification import certify
    from nnrules.surrogates.tree import TreeSurrogate

    if budget < 1:
        return [], 0, {"proven": 0, "refuted": 0, "unknown": 0}
    sur = TreeSurrogate.from_sklearn(tree, schema=schema, classes=tuple(classes),
                                     task="classification")
    cert = certify(sur, network, X, max_verifications=int(budget), bound=bound,
                   complete=complete, split_depth=min(split_depth, 4), n_samples=n_samples,
                   random_state=int(random_state), force=True)
    lo, hi, idx = cert.boxes("proven")
    labels = [cert.rules[i]["class"] for i in idx]
    cls = [next(k for k, c in enumerate(classes) if c == label) for label in labels]
    out = [(lo[k], hi[k], int(cls[k])) for k in range(len(lo))]
    return out, int(cert.info["verifications"]), cert.n_boxes()


def rows_covered(domain, lo: np.ndarray, hi: np.ndarray, X: np.ndarray) -> int:
    """Rows of X inside any of the boxes."""
    hit = np.zeros(len(X), dtype=bool)
    for k in range(len(lo)):
        hit |= domain.contains(X, lo[k], hi[k])
    return int(hit.sum())
