"""What an extraction was, as a plain record: ``Provenance``.

An extractor fills one at the end of ``fit`` (``Extractor.provenance_``) and hands it to
``nnrules.fidelity.evaluate``, which reads nothing else about the extraction. It depends on
neither side, so neither imports the other for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Provenance"]


@dataclass(frozen=True)
class Provenance:
    """What an extraction was: handed to ``evaluate`` by an extractor (``Extractor.provenance_``).

    Parameters
    ----------
    method : str
        The method's registry name.
    parameters : dict
        The extractor's parameters (the network left out).
    seed : int, Generator or None
        ``random_state`` as given.
    n_train : int
        Extraction rows (or sequences).
    train_fingerprint : str or None
        ``Dataset.fingerprint()`` of the extraction rows (tabular methods).
    train_row_hashes : ndarray of uint64 or None
        Sorted distinct ``Dataset.row_hashes()`` of the extraction rows (tabular methods).
    train_tokens : tuple of tuples or None
        The extraction sequences (sequence methods).
    n_queries : int or None
        Rows (or sequences) the extraction asked the network about.
    fit_seconds : float or None
    model_sha256 : str or None
        SHA-256 of the network's file, when it was a loaded ``Network``.
    partial_reason : str or None
        Why the extraction stopped before it finished (a budget), or None when it finished.
    extraction : dict
        Method-specific figures of the extraction, copied into the report's ``details``
        (``setiono``: ``stages``, what each stage did and the fidelity after it).
    """

    method: str
    parameters: dict = field(default_factory=dict)
    seed: Any = None
    n_train: int = 0
    train_fingerprint: str | None = None
    train_row_hashes: np.ndarray | None = None
    train_tokens: tuple | None = None
    n_queries: int | None = None
    fit_seconds: float | None = None
    model_sha256: str | None = None
    partial_reason: str | None = None
    extraction: dict = field(default_factory=dict)

    @property
    def partial(self) -> bool:
        """True when the extraction stopped early (``partial_reason`` is set)."""
        return self.partial_reason is not None
