"""Hostile surrogate and schema files (issue 16, item 1 and the fuzz suite).

Every file nnrules reads back is validated structurally on load: a cyclic tree, a feature index
of 10**30, a 5,000-digit number, JSON nested 10**5 deep, a missing key or a wrong type ends in a
``FormatError`` within a time limit, never a hang, a RecursionError or another internal error.
The fuzz part mutates one valid file of each format at random places with hostile values.
"""

from __future__ import annotations

import contextlib
import copy
import json
import signal
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.tree import DecisionTreeClassifier

from nnrules.exceptions import FormatError, NNRulesError
from nnrules.io import serialize
from nnrules.io.data import load_schema
from nnrules.schema import Feature, FeatureSchema
from nnrules.surrogates.additive import AdditiveSurrogate, Axis, Term
from nnrules.surrogates.automaton import Automaton
from nnrules.surrogates.boxes import BoxRuleSet
from nnrules.surrogates.tree import TreeSurrogate

#: Seconds one hostile file may take to be refused (or loaded and used).
LIMIT = 5


@contextlib.contextmanager
def time_limit(seconds: int = LIMIT):
    """Fail (instead of hanging the suite) when the block runs longer than ``seconds``."""
    if threading.current_thread() is not threading.main_thread():  # pragma: no cover
        yield
        return

    def expire(signum, frame):
        raise TimeoutError(f"took longer than {seconds} s: a hang")

    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# -- one valid file per format -------------------------------------------------------------

SCHEMA = FeatureSchema((
    Feature("x", "continuous", 0.0, 1.0),
    Feature("n", "integer", 0, 9),
    Feature("flag", "binary", 0, 1),
    Feature("c_a", "onehot", 0, 1, group="c", category="a"),
    Feature("c_b", "onehot", 0, 1, group="c", category="b"),
    Feature("w", "categorical", 0, 2, categories=("p", "q", "r")),
))


def _rows(n: int = 40) -> np.ndarray:
    rng = np.random.default_rng(0)
    hot = rng.integers(0, 2, n)
    return np.column_stack([rng.random(n), rng.integers(0, 10, n), rng.integers(0, 2, n),
                            hot, 1 - hot, rng.integers(0, 3, n)]).astype(float)


def _tree() -> TreeSurrogate:
    X = _rows()
    y = (X[:, 0] + X[:, 1] / 9 > 1).astype(int) + (X[:, 5] == 2)
    est = DecisionTreeClassifier(max_leaf_nodes=5, random_state=0).fit(X, y)
    return TreeSurrogate.from_sklearn(est, schema=SCHEMA, classes=("lo", "mid", "hi"))


def _boxes() -> BoxRuleSet:
    lo = np.array([[0.0, 0, 0, 0, 0, 0], [0.5, 3, 0, 0, 0, 0]])
    hi = np.array([[0.4, 9, 1, 1, 1, 2], [1.0, 9, 1, 1, 1, 1]])
    inf = np.inf
    flo = np.array([[-inf] * 6, [0.5, -inf, -inf, -inf, -inf, -inf]])
    fhi = np.array([[0.5, inf, inf, inf, inf, inf], [inf] * 6])
    return BoxRuleSet(lo, hi, ["lo", "hi"], schema=SCHEMA, task="classification",
                      classes=["lo", "hi"], fallback="tree", fallback_lower=flo,
                      fallback_upper=fhi, fallback_outputs=["lo", "hi"],
                      verification={"proven": 2})


def _additive() -> AdditiveSurrogate:
    spline = Term((Axis("spline", (0,), (0.0, 0.5, 1.0), 3),),
                  np.arange(8, dtype=float).reshape(1, 2, 4) / 10)
    steps = Term((Axis("steps", (1,), (2.5, 5.5)),), np.array([[[-1.0], [0.0], [1.0]]]))
    onehot = Term((Axis("onehot", (3, 4), ()),), np.array([[[0.5], [-0.5]]]))
    return AdditiveSurrogate([0.1], [spline, steps, onehot], output="logit",
                             classes=("no", "yes"), schema=SCHEMA, task="classification")


def _automaton() -> Automaton:
    delta = np.array([[1, 0], [2, 1], [0, 2]])
    return Automaton(delta, np.array([1, 0, 0]), alphabet=("a", "b"),
                     classes=np.array([0, 1]))


SAMPLES = {
    "tree": _tree,
    "ruleset": lambda: _tree().to_rules(),
    "boxes": _boxes,
    "additive": _additive,
    "automaton": _automaton,
    "schema": lambda: SCHEMA,
}


@pytest.fixture
def no_jsonschema(monkeypatch):
    """Load without the JSON Schema net (as without ``jsonschema`` installed): what is left
    is each ``from_dict``'s own structural check."""
    monkeypatch.setattr(serialize, "validate", lambda d: None)


@pytest.fixture(scope="module")
def valid() -> dict[str, dict]:
    return {kind: json.loads(serialize.dumps(make())) for kind, make in SAMPLES.items()}


def use(obj) -> None:
    """Exercise a loaded object the way ``nnrules predict`` would."""
    if isinstance(obj, FeatureSchema):
        obj.validate(_rows(5))
    elif isinstance(obj, Automaton):
        obj.predict(["", "ab", "bbaab"])
    else:
        obj.predict(_rows(5))
        obj.reasons(_rows(5))


def refused_or_usable(text: str) -> None:
    """``text`` is refused with a FormatError, or loads and predicts (or fails typed)."""
    with time_limit():
        try:
            obj = serialize.loads(text)
        except FormatError:
            return
        try:
            use(obj)
        except NNRulesError:
            pass


def test_valid_samples_load_and_predict(valid):
    for d in valid.values():
        use(serialize.loads(json.dumps(d)))


# -- item 1: structure checked on load -----------------------------------------------------

def _node_edit(valid, **changes):
    d = copy.deepcopy(valid["tree"])
    for (i, key), value in changes.items():
        d["nodes"][i][key] = value
    return json.dumps(d)


@pytest.mark.parametrize(("edit", "match"), [
    ({(0, "left"): 0}, "node 0 points to the root.*no cycles"),
    ({(1, "left"): 0}, "points to the root"),
    ("shared", "already in the tree"),
    ({(0, "right"): 99}, "right child 99"),
    ("negative", "left child -5"),
    ("orphan", "not reachable"),
])
def test_a_tree_that_is_not_a_tree_is_refused(no_jsonschema, valid, edit, match):
    d = copy.deepcopy(valid["tree"])
    nodes = d["nodes"]
    internal = [i for i, n in enumerate(nodes) if n["left"] >= 0]
    if edit == "shared":
        a, b = internal[0], internal[1]
        nodes[a]["right"] = nodes[b]["left"]
    elif edit == "negative":  # a leaf whose children are -5, not -1
        leaf = next(i for i, n in enumerate(nodes) if n["left"] < 0)
        nodes[leaf]["left"] = nodes[leaf]["right"] = -5
    elif edit == "orphan":
        leaf = next(i for i, n in enumerate(nodes) if n["left"] < 0)
        nodes.append(copy.deepcopy(nodes[leaf]))
    else:
        for (i, key), value in edit.items():
            nodes[i][key] = value
    with time_limit(), pytest.raises(FormatError, match=match):
        serialize.loads(json.dumps(d))


def test_feature_index_and_thresholds_are_checked(no_jsonschema, valid):
    d = copy.deepcopy(valid["tree"])
    d["nodes"][0]["test"]["feature"] = 10**30
    with time_limit(), pytest.raises(FormatError, match="feature 10{30}.*outside the 6 features"):
        serialize.loads(json.dumps(d))
    d["nodes"][0]["test"]["feature"] = 6
    with pytest.raises(FormatError, match="feature 6, outside"):
        serialize.loads(json.dumps(d))
    text = _node_edit(valid).replace('"value": [', '"value": [1e400, ', 1)
    with pytest.raises(FormatError, match="too large for a float"):
        serialize.loads(text)
    r = copy.deepcopy(valid["ruleset"])
    r["rules"][0]["conditions"][0]["feature"] = 7
    with pytest.raises(FormatError, match="feature 7, outside"):
        serialize.loads(json.dumps(r))
    r = copy.deepcopy(valid["ruleset"])
    r["default"] = 3
    with pytest.raises(FormatError, match="default is 3.*class index in 0..2"):
        serialize.loads(json.dumps(r))


def test_automaton_transitions_total_and_in_range(no_jsonschema, valid):
    d = copy.deepcopy(valid["automaton"])
    d["transitions"][0]["to"] = 99
    with pytest.raises(FormatError, match="'to' state 99"):
        serialize.loads(json.dumps(d))
    d = copy.deepcopy(valid["automaton"])
    d["transitions"][1]["from"] = -1  # numpy would have written the last state's row
    with pytest.raises(FormatError, match="'from' state -1"):
        serialize.loads(json.dumps(d))
    d = copy.deepcopy(valid["automaton"])
    d["transitions"][1] = dict(d["transitions"][0])
    with pytest.raises(FormatError, match="two transitions"):
        serialize.loads(json.dumps(d))
    d = copy.deepcopy(valid["automaton"])
    del d["transitions"][-1]
    with pytest.raises(FormatError, match="no transition.*total"):
        serialize.loads(json.dumps(d))
    d = copy.deepcopy(valid["automaton"])
    d["start"] = 10**30
    with pytest.raises(FormatError, match="start state"):
        serialize.loads(json.dumps(d))


def test_boxes_and_additive_structure(no_jsonschema, valid):
    d = copy.deepcopy(valid["boxes"])
    d["boxes"][0]["bounds"]["x"] = [0.9, 0.1]
    with pytest.raises(FormatError, match="lower bound 0.9 above upper bound 0.1 for feature 0"):
        serialize.loads(json.dumps(d))
    d = copy.deepcopy(valid["boxes"])
    d["boxes"][1]["class"] = "nope"
    with pytest.raises(FormatError, match="'nope', which is not one of the classes"):
        serialize.loads(json.dumps(d))
    d = copy.deepcopy(valid["additive"])
    d["terms"][1]["axes"][0]["columns"] = [10**30]
    with pytest.raises(FormatError):
        serialize.loads(json.dumps(d))
    d["terms"][1]["axes"][0]["columns"] = [6]
    with pytest.raises(FormatError, match="column 6, outside"):
        serialize.loads(json.dumps(d))


def test_deep_nesting_and_huge_numbers_are_format_errors(valid, tmp_path):
    deep = '{"format": "nnrules/tree", "version": 1, "nodes": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with time_limit(), pytest.raises(FormatError, match="nests deeper"):
        serialize.loads(deep)
    medium = '{"format": "nnrules/tree", "version": 1, "x": ' + "[" * 500 + "]" * 500 + "}"
    with pytest.raises(FormatError, match="nests deeper than 64"):
        serialize.loads(medium)
    text = json.dumps(valid["tree"]).replace('"version": 1', '"version": ' + "9" * 5000)
    with time_limit(), pytest.raises(FormatError):
        serialize.loads(text)
    with pytest.raises(FormatError, match="NaN"):
        serialize.loads(json.dumps(valid["tree"]).replace('"samples": ', '"samples": NaN, "s": '))
    path = tmp_path / "schema.json"
    path.write_text('{"format": "nnrules/schema", "version": 1, "features": '
                    + "[" * 100_000 + "]" * 100_000 + "}")
    with time_limit(), pytest.raises(FormatError, match="nests deeper"):
        load_schema(path)
    path.write_text(json.dumps(valid["schema"]).replace('"lower": 0.0', '"lower": "zero"', 1))
    with pytest.raises(FormatError, match="malformed"):
        load_schema(path)


# -- the fuzz suite ----------------------------------------------------------------------

HOSTILE = st.one_of(
    st.sampled_from([None, True, -1, 0, 1, 2, 10**30, -(10**30), 1e308, -1e-308, "", "x",
                     [], {}, [0], {"a": 1}, "__NAN__", "__HUGE__", "__DEEP__"]),
    st.integers(-3, 40),
    st.text(max_size=5),
)


def _paths(value, prefix=()):
    """Every (path, value) inside a JSON value, containers included."""
    yield prefix, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


def _mutate(d, path, action, new):
    d = copy.deepcopy(d)
    if not path:
        return new
    parent = d
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    if action == "delete":
        del parent[key]
    elif action == "swap" and isinstance(parent, list) and len(parent) > 1:
        parent[key] = copy.deepcopy(parent[(key + 1) % len(parent)])
    else:
        parent[key] = new
    return d


def _text(d) -> str:
    text = json.dumps(d)
    text = text.replace('"__NAN__"', "NaN").replace('"__HUGE__"', "1" * 5000)
    return text.replace('"__DEEP__"', "[" * 3000 + "]" * 3000)


@settings(max_examples=30, deadline=LIMIT * 1000, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@pytest.mark.parametrize("with_jsonschema", [True, False], ids=["jsonschema", "structure-only"])
@pytest.mark.parametrize("kind", sorted(SAMPLES))
@given(data=st.data())
def test_fuzzed_files_are_refused_cleanly(valid, kind, with_jsonschema, data, monkeypatch):
    if not with_jsonschema:
        monkeypatch.setattr(serialize, "validate", lambda d: None)
    d = valid[kind]
    paths = list(_paths(d))
    n_edits = data.draw(st.integers(1, 3), label="edits")
    for _ in range(n_edits):
        paths = list(_paths(d))
        path, _ = data.draw(st.sampled_from(paths), label="path")
        action = data.draw(st.sampled_from(["set", "set", "delete", "swap"]), label="action")
        if action == "delete" and not path:
            action = "set"
        new = data.draw(HOSTILE, label="value")
        d = _mutate(d, path, action, new)
    refused_or_usable(_text(d))
