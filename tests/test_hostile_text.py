"""Human-readable forms of proven boxes state every bound the proof used (issue 16, item 3)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from nnrules.extract.via import VIAExtractor
from nnrules.io.data import read_data
from nnrules.io.model import load

TABULAR = Path(__file__).parent / "fixtures" / "tabular"
_NUM = r"(-?[0-9.]+(?:e[+-]?[0-9]+)?)"


def parse_box_text(text: str, names: tuple[str, ...]) -> list[tuple[np.ndarray, np.ndarray]]:
    """The proven boxes of ``BoxRuleSet.to_text()`` read back as (lower, upper) arrays."""
    boxes = []
    for line in text.splitlines():
        match = re.match(r"\s+box \d+: if (.*) then .*$", line)
        if not match:
            continue
        lo, hi = np.full(len(names), -np.inf), np.full(len(names), np.inf)
        for term in match.group(1).split(" and "):
            if term == "true":
                continue
            if m := re.fullmatch(rf"{_NUM} <= (\w+) <= {_NUM}", term):
                j = names.index(m.group(2))
                lo[j], hi[j] = float(m.group(1)), float(m.group(3))
            elif m := re.fullmatch(rf"(\w+) (>=|<=|==) {_NUM}", term):
                j, value = names.index(m.group(1)), float(m.group(3))
                if m.group(2) in (">=", "=="):
                    lo[j] = value
                if m.group(2) in ("<=", "=="):
                    hi[j] = value
            else:
                raise AssertionError(f"unparsed term {term!r}")
        boxes.append((lo, hi))
    return boxes


@pytest.fixture(scope="module")
def iris_via():
    train = read_data(TABULAR / "iris_train.csv", target="target")
    network = load(TABULAR / "iris.onnx")
    extractor = VIAExtractor(network, candidates="rows", max_verifications=400,
                             random_state=0).fit(train)
    return extractor.surrogate_, network


def test_text_of_every_proven_box_states_the_domain_bounds(iris_via):
    surrogate, _ = iris_via
    assert surrogate.n_boxes > 0
    parsed = parse_box_text(surrogate.to_text(), surrogate.schema.names)
    assert len(parsed) == surrogate.n_boxes
    for k, (lo, hi) in enumerate(parsed):
        # The text's box lies inside the proven box: it claims nothing the proof did not cover.
        assert np.all(lo >= surrogate.lower[k]), (k, lo, surrogate.lower[k])
        assert np.all(hi <= surrogate.upper[k]), (k, hi, surrogate.upper[k])
        # Every finite bound of the proof is stated (the domain's lower bounds included).
        assert np.all(np.isfinite(lo) == np.isfinite(surrogate.lower[k]))
        assert np.all(np.isfinite(hi) == np.isfinite(surrogate.upper[k]))


def test_far_point_matches_no_box_in_text_or_sympy(iris_via):
    surrogate, _ = iris_via
    point = np.array([[-50.0, 3.0, 1.5, 0.2]])
    for lo, hi in parse_box_text(surrogate.to_text(), surrogate.schema.names):
        assert not np.all((point[0] >= lo) & (point[0] <= hi))
    assert not surrogate.covered(point)[0]
    symbols = surrogate.symbols()
    values = dict(zip(symbols, point[0]))
    for k in range(surrogate.n_boxes):
        assert not bool(surrogate._sympy_box(surrogate.lower[k], surrogate.upper[k],
                                              False).subs(values))


@pytest.mark.parametrize("value", [2.3700499123, -2.3700499123, 0.62866249, 123456789.75,
                                   1e-7 / 3, 4.3, 5.0])
def test_inward_rounding_never_widens_a_bound(value):
    from nnrules.surrogates.boxes_text import _inward

    assert float(_inward(value, "lower")) >= value
    assert float(_inward(value, "upper")) <= value
    assert math.isclose(float(_inward(value, "upper")), value, rel_tol=1e-5)
