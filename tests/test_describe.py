"""Every registered method describes its parameters: default, accepted values, one line each."""

from __future__ import annotations

import inspect

import pytest

from nnrules.extract import (
    describe_method,
    get_extractor,
    method_help,
    method_names,
    parameter_docs,
)


@pytest.mark.parametrize("name", method_names())
def test_every_parameter_is_listed_with_its_default_and_a_description(name):
    cls = get_extractor(name)
    signature = inspect.signature(cls.__init__).parameters
    rows = describe_method(name)
    assert [r["name"] for r in rows] == [p for p in signature if p not in ("self", "network")]
    for r in rows:
        assert r["default"] == repr(signature[r["name"]].default)
        assert r["doc"], f"{name}: parameter {r['name']!r} has no description in the docstring"
        if r["name"] in cls._parameter_constraints:
            assert r["accepts"] == cls._parameter_constraints[r["name"]].describe()
    text = method_help(name)
    assert text.startswith(f"{name}: ") and f"--method {name}" in text
    for r in rows:
        assert f"  {r['name']} " in text


def test_numpydoc_entries_share_text_and_stop_at_the_next_section():
    doc = """Summary.

    Parameters
    ----------
    a, b : float, default=1
        Both thresholds. More text here.
    c : int
        Counts 1 .. 2 x more; then more.

    Returns
    -------
    x : int
        Not a parameter.
    """
    assert parameter_docs(doc) == {"a": "Both thresholds.", "b": "Both thresholds.",
                                   "c": "Counts 1 .. 2 x more"}
