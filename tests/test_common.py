"""The common checks every registered extractor must pass (STYLE.md, item 9).

Parametrised over the registry: a method added to ``nnrules.extract.REGISTRY`` without a case
here fails, so no method escapes the checks.
"""

from __future__ import annotations

import inspect
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import sympy
from sklearn.base import clone

import nnrules
from nnrules.exceptions import NotFittedError, ParameterError
from nnrules.extract import get_extractor, method_names
from nnrules.io import serialize
from nnrules.surrogates.base import Surrogate, TableSurrogate

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "breast_cancer"


@cache
def _breast_cancer():
    from nnrules.io.data import read_data

    network = nnrules.load(EXAMPLE / "model.onnx")
    train = read_data(EXAMPLE / "train.csv", target="target")
    test = read_data(EXAMPLE / "test.csv", target="target", schema=train.schema)
    return network, train, test


def _tabular(params):
    def make():
        network, train, test = _breast_cancer()
        return network, params, (train.X[:240],), {"schema": train.schema}, test.X
    return make


def _tomita(k, cell):
    def make():
        folder = ROOT / "tests" / "fixtures" / "tomita"
        network = nnrules.load(folder / f"tomita{k}_{cell}.onnx")
        train = (folder / f"tomita{k}_train.txt").read_text().split()
        test = (folder / f"tomita{k}_test.txt").read_text().split()
        return network, {"n_samples": 500}, (train,), {"alphabet": "01"}, test
    return make


def _monk(problem, model):
    """MONK-``problem`` rows (one-hot) and the fixture network ``model`` under fixtures/."""
    def make():
        from nnrules.datasets import load_monk

        data = load_monk(problem)
        network = nnrules.load(ROOT / "tests" / "fixtures" / model)
        return (network, {}, (data.X_train,), {"feature_names": list(data.feature_names)},
                data.X_test)
    return make


# method -> () -> (network, small params, fit args, fit kwargs, evaluation data)
CASES = {
    "cred": _monk(2, "decompositional/monk2_8.onnx"),
    "deepred": _tabular({"max_seconds": 30.0}),
    "eclaire": _tabular({}),
    "setiono": _monk(3, "setiono/monk3_h3.onnx"),
    "automaton": _tomita(2, "gru"),
    "tree": _tabular({"max_leaves": 6}),
    "trepan": _tabular({"max_leaves": 6}),
    "additive": _tabular({}),
    "via": _tabular({"max_verifications": 1000}),
}


def _case(method):
    if method not in CASES:
        pytest.fail(f"method {method!r} is registered but has no case in tests/test_common.py")
    return CASES[method]()


@cache
def _fitted(method):
    network, params, args, kwargs, X_eval = _case(method)
    cls = get_extractor(method)
    extractor = cls(network, random_state=3, **params).fit(*args, **kwargs)
    return extractor, X_eval


METHODS = method_names()


@pytest.mark.parametrize("method", METHODS)
def test_init_only_stores_parameters(method):
    cls = get_extractor(method)
    signature = inspect.signature(cls.__init__)
    names = [p for p in signature.parameters if p != "self"]
    assert names[0] == "network"
    assert all(signature.parameters[p].kind is inspect.Parameter.KEYWORD_ONLY for p in names[1:])
    assert "random_state" in names
    extractor = cls("not a network")
    assert not [k for k in vars(extractor) if k.endswith("_")]
    assert set(extractor.get_params()) == set(names)
    twin = clone(extractor)
    assert twin.get_params() == extractor.get_params()


@pytest.mark.parametrize("method", METHODS)
def test_unfitted_use_raises(method):
    cls = get_extractor(method)
    with pytest.raises(NotFittedError, match="fit"):
        cls("not a network").predict(np.zeros((2, 2)))


@pytest.mark.parametrize("method", METHODS)
def test_bad_random_state_is_a_parameter_error(method):
    network, params, args, kwargs, _ = _case(method)
    with pytest.raises(ParameterError, match="random_state"):
        get_extractor(method)(network, random_state=-5, **params).fit(*args, **kwargs)


@pytest.mark.parametrize("method", METHODS)
def test_fit_returns_self_and_learned_state(method):
    network, params, args, kwargs, _ = _case(method)
    extractor = get_extractor(method)(network, random_state=3, **params)
    assert extractor.fit(*args, **kwargs) is extractor
    for name in ("surrogate_", "n_queries_", "fit_seconds_", "n_train_"):
        assert hasattr(extractor, name), name
    assert extractor.n_queries_ >= extractor.n_train_ > 0


@pytest.mark.parametrize("method", METHODS)
def test_fidelity_is_a_fraction_with_an_interval(method):
    extractor, X_eval = _fitted(method)
    report = extractor.report(X_eval, data_name="held-out")
    if report.task == "classification":
        assert 0.0 <= report.fidelity_ci95[0] <= report.fidelity <= report.fidelity_ci95[1] <= 1.0
    assert report.n_eval == len(X_eval)
    assert report.complexity
    assert report.method == method


@pytest.mark.parametrize("method", METHODS)
def test_json_round_trip_is_exact(method):
    extractor, X_eval = _fitted(method)
    text = serialize.dumps(extractor.surrogate_)
    again = serialize.loads(text)
    assert serialize.dumps(again) == text
    np.testing.assert_array_equal(again.predict(X_eval), extractor.surrogate_.predict(X_eval))


@pytest.mark.parametrize("method", METHODS)
def test_same_seed_same_bytes_and_a_clone_fits_the_same(method):
    """``sklearn.base.clone`` of a fitted extractor holding a loaded Network: an unfitted twin
    with its own copy of the network (sessions reopened), which fits to the same bytes."""
    network, _, args, kwargs, _ = _case(method)
    first, _ = _fitted(method)
    second = clone(first)
    assert not [k for k in vars(second) if k.endswith("_")]
    assert second.network is not first.network and second.network.sha256 == network.sha256
    assert second.network.session is not first.network.session
    second.fit(*args, **kwargs)
    assert serialize.dumps(second.surrogate_) == serialize.dumps(first.surrogate_)


@pytest.mark.parametrize("method", METHODS)
def test_random_state_takes_a_numpy_generator(method):
    from nnrules._validation import validate_params

    rng = np.random.default_rng(3)
    extractor = get_extractor(method)("not a network", random_state=rng)
    validate_params(extractor)  # accepted, as scikit-learn's check_random_state accepts it
    twin = clone(extractor)
    assert twin.random_state is not rng
    assert twin.random_state.bit_generator.state == rng.bit_generator.state


@pytest.mark.parametrize("method", METHODS)
def test_text_and_reasons(method):
    extractor, X_eval = _fitted(method)
    surrogate = extractor.surrogate_
    assert surrogate.to_text().strip()
    reasons = surrogate.reasons(X_eval[:5])
    assert len(reasons) == len(X_eval[:5]) and all(isinstance(r, str) and r for r in reasons)
    assert len(surrogate.explain(X_eval[:5])) == len(X_eval[:5])


@pytest.mark.parametrize("method", METHODS)
def test_surrogate_keeps_the_contract(method):
    extractor, _ = _fitted(method)
    assert isinstance(extractor.surrogate_, Surrogate)


@pytest.mark.parametrize("method", METHODS)
def test_predict_equals_lambdified_sympy(method):
    extractor, X_eval = _fitted(method)
    surrogate = extractor.surrogate_
    if not isinstance(surrogate, TableSurrogate):
        pytest.skip(f"{method} surrogates are automata: checked against their regex instead")
    from sympy_check import sympy_predict

    expected = sympy_predict(surrogate, X_eval)
    np.testing.assert_array_equal(surrogate.predict(X_eval), expected)
    assert isinstance(sympy.srepr(surrogate.to_sympy()), str)


def test_a_generator_seed_is_reproducible_and_reported_without_an_address():
    network, params, args, kwargs, X_eval = _case("tree")
    cls = get_extractor("tree")
    one = cls(network, random_state=np.random.default_rng(11), **params).fit(*args, **kwargs)
    two = cls(network, random_state=np.random.default_rng(11), **params).fit(*args, **kwargs)
    assert serialize.dumps(one.surrogate_) == serialize.dumps(two.surrogate_)
    report = one.report(X_eval).to_dict()
    assert report["seed"] == "Generator(PCG64)" == report["parameters"]["random_state"]
