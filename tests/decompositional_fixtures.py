"""The XOR data and networks under ``tests/fixtures/decompositional``, loaded once per session.

Shared by the decompositional tests (``test_decompositional.py``, ``test_deepred_bounded.py``,
``test_eclaire_defaults.py``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import nnrules
from nnrules.io.data import read_data

DEC = Path(__file__).resolve().parent / "fixtures" / "decompositional"
SETIONO = Path(__file__).resolve().parent / "fixtures" / "setiono"


@cache
def xor_data():
    """Return the XOR fixture's ``(train, test)`` datasets; test shares train's schema."""
    train = read_data(DEC / "xor_train.csv", target="target")
    test = read_data(DEC / "xor_test.csv", target="target", schema=train.schema)
    return train, test


@cache
def german_data():
    """Return the real German credit fixture's ``(train, test)`` datasets (its stratified 70/30
    split, ``tests/fixtures/setiono/german_split.json``); test shares train's schema."""
    train = read_data(SETIONO / "german_train.csv", target="target")
    test = read_data(SETIONO / "german_test.csv", target="target", schema=train.schema)
    return train, test


@cache
def fixture_net(name):
    """Return the network ``tests/fixtures/decompositional/<name>.onnx``."""
    return nnrules.load(DEC / f"{name}.onnx")
