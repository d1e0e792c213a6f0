"""Load an ONNX network safely and probe it: predictions, scores, logits, hidden activations.

:func:`load` reads the file, refuses what is unsafe (custom-domain ops, external data outside
the model's folder, shape bombs) before onnx or onnxruntime touch it, runs the full checker,
records SHA-256 digests, works out the task and classes, and opens a deterministic CPU session.
Reading and checking the file is in :mod:`nnrules.io.model_load`; tensor specs, input casting
and NaN/inf answers in :mod:`nnrules.io.tensors`.
"""

from __future__ import annotations

import copy
import functools
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import onnx
import onnxruntime as ort

from nnrules._finite import all_finite
from nnrules.exceptions import (
    DataError,
    ModelLoadError,
    NNRulesWarning,
    OracleError,
    ParameterError,
    UnsupportedModelError,
)
from nnrules.io.heads import Head, infer_head
from nnrules.io.model_load import N_THREADS, _session, _short, read_model  # noqa: F401
from nnrules.io.probe import run_batched
from nnrules.io.safety import MAX_ELEMENTS, STANDARD_DOMAINS
from nnrules.io.tensors import (
    TensorSpec,
    _cast,
    _spec,
    _width,
    _with_outputs,
    nonfinite_mask,
    nonfinite_message,
)
from nnrules.surrogates.base import plain

__all__ = [
    "MAX_ELEMENTS", "STANDARD_DOMAINS", "Network", "TensorSpec", "load", "nonfinite_mask",
    "nonfinite_message",
]


class Network:
    """A loaded, validated ONNX network with a deterministic onnxruntime CPU session.

    Build it with :func:`load`. Every probing method counts the rows it sends in
    ``n_queries``.
    """

    def __init__(
        self,
        *,
        path: Path,
        model: onnx.ModelProto,
        sha256: str,
        files_sha256: dict[str, str],
        task: Literal["classification", "regression"] | None = None,
        classes: Any = None,
        batch_size: int = 65536,
    ) -> None:
        self.path = path
        self.model = model
        self.sha256 = sha256
        self.files_sha256 = files_sha256
        self.batch_size = batch_size
        self.n_queries = 0
        graph = model.graph
        initialisers = {init.name for init in graph.initializer}
        self.inputs = tuple(_spec(i) for i in graph.input if i.name not in initialisers)
        self.outputs = tuple(_spec(o) for o in graph.output)
        if not self.inputs or not self.outputs:
            raise ModelLoadError(f"{str(path)!r} has no graph inputs or no graph outputs.")
        self._head = infer_head(model, self.outputs)
        if task not in (None, "classification", "regression"):
            raise ParameterError(
                f"The 'task' parameter of load must be one of 'classification', 'regression' "
                f"or None. Got {task!r} instead."
            )
        self.task: Literal["classification", "regression"] = task or self._head.task
        if task == "classification" and self._head.kind == "values":
            # No head in the graph and the caller says classifier: its outputs are the logits.
            shape = self.outputs[0].shape
            if shape is not None and (len(shape) == 1 or shape[-1] == 1):
                # the largest of one column is always class 0: no threshold to read
                raise UnsupportedModelError(
                    f"{path.name!r} has one output column ({self.outputs[0].name!r}) and no "
                    "softmax or sigmoid, so it cannot be read as a classifier: the largest of "
                    "one score is always the first class. Export it with its Sigmoid (a "
                    "probability of the positive class) or two logit columns, or load it "
                    "with task='regression'.")
            self._head = Head("classification", self._head.score, "raw", self._head.score, None)
        elif task == "regression" and self._head.guessed:
            self._head = Head("regression", self._head.score, "values", None, None)
        elif task is None and self._head.guessed:
            warnings.warn(
                f"{path.name!r} has no softmax or sigmoid: its {self.outputs[0].shape[-1]} "
                f"outputs ({self.outputs[0].name!r}) are read as class scores (logits; the "
                "class is the largest). If they are regression values, load with "
                "task='regression' (CLI --task regression).", NNRulesWarning, stacklevel=3)
        fixed = fixed_batch(self.inputs, model)
        # _run pads and splits rows on the first axis: only a batch fixed there is its to keep.
        self._fixed_rows = fixed if fixed is not None and all(
            batch_axis(s, model) == 0 for s in self.inputs
            if s.shape is not None and len(s.shape) == 2) else None
        if fixed is not None:
            # Exported without a dynamic batch axis (torch.onnx.export without dynamic_axes):
            # onnxruntime takes exactly that many rows per run, so rows go one batch at a time.
            self.batch_size = fixed
            hint = {"x": {0 if self._fixed_rows is not None else 1: "batch"}}  # 1: time first
            warnings.warn(
                f"{path.name!r} takes a fixed batch of {fixed} row{'s' if fixed > 1 else ''} "
                f"per run (input shape {list(self.inputs[0].shape)}): nnrules asks it "
                f"{fixed} row{'s' if fixed > 1 else ''} at a time, which is slower. Export "
                f"it with a dynamic batch axis (torch: dynamic_axes={hint}) for speed.",
                NNRulesWarning, stacklevel=3)
        self._sessions: dict[tuple[str, ...], tuple[ort.InferenceSession, onnx.ModelProto]] = {}
        self._base_session = self._session_for(self._extra_outputs(()))
        self.session = self._base_session
        self.classes_ = self._resolve_classes(classes)
        # predict's fast path: (name, width, dtype) of the only input when numeric, rank 2.
        only = self.inputs[0] if len(self.inputs) == 1 else None
        self._small = ((only.name, only.shape[1], only.dtype)
                       if only is not None and only.dtype != object and only.shape is not None
                       and len(only.shape) == 2 and fixed is None else None)
        self._score_names = [self._head.score]
        self._argmax_head = self.task == "classification" and self._head.kind != "sigmoid1"
        self._sigmoid_head = self.task == "classification" and self._head.kind == "sigmoid1"

    def __deepcopy__(self, memo: dict) -> Network:
        """A twin with its own onnxruntime sessions, opened again from the model's bytes.

        Sessions cannot be copied (nor pickled); everything else is copied as is, so
        ``sklearn.base.clone`` works on an extractor holding a loaded network.
        """
        twin = type(self).__new__(type(self))
        memo[id(self)] = twin
        sessions = ("_sessions", "_base_session", "session")
        for key, value in vars(self).items():
            if key not in sessions:
                setattr(twin, key, copy.deepcopy(value, memo))
        twin._sessions = {}
        twin._base_session = twin._session_for(twin._extra_outputs(()))
        twin.session = twin._base_session
        return twin

    def __copy__(self) -> Network:
        """A shallow copy: shares the model and the sessions."""
        twin = type(self).__new__(type(self))
        twin.__dict__.update(vars(self))
        return twin

    def __reduce__(self) -> Any:
        raise TypeError(
            "A Network cannot be pickled (nnrules writes no pickles, and onnxruntime sessions "
            "do not pickle). Save the .onnx file and nnrules.load it again, or copy.deepcopy it."
        )

    # ---- signature

    @property
    def feature_names(self) -> tuple[str, ...] | None:
        """Input names for multi-input models of width-1 inputs, else metadata, else None."""
        if len(self.inputs) > 1 and all(
            s.shape is not None and len(s.shape) == 2 and s.shape[1] == 1 for s in self.inputs
        ):
            return tuple(s.name for s in self.inputs)
        for prop in self.model.metadata_props:
            if prop.key == "feature_names":
                names = tuple(name.strip() for name in prop.value.split(","))
                # Metadata that disagrees with the input width is ignored, not trusted.
                return names if len(names) == self.n_features else None
        return None

    @property
    def n_features(self) -> int | None:
        """Columns a row has: one per input (multi-input) or the input's static width."""
        if len(self.inputs) > 1:
            return len(self.inputs)
        shape = self.inputs[0].shape
        if shape is not None and len(shape) == 2:
            return shape[1]
        return None

    @functools.cached_property
    def layers(self) -> Any:
        """The dense layer IR (``nnrules.io.graph.read_dense``) for white-box methods.

        Read once and kept; a graph the IR cannot express raises ``UnsupportedModelError``
        on every access (nothing is cached then).
        """
        from nnrules.io.graph import read_dense

        return read_dense(self.model)

    # ---- sessions

    def _extra_outputs(self, names: tuple[str, ...]) -> tuple[str, ...]:
        """Tensors a session must expose beyond the graph outputs: the score tensor + names."""
        declared = {o.name for o in self.outputs}
        wanted = [self._head.score, *names]
        return tuple(dict.fromkeys(n for n in wanted if n not in declared))

    def _session_for(self, extra: tuple[str, ...]) -> ort.InferenceSession:
        key = tuple(sorted(extra))
        if key not in self._sessions:
            model = self.model
            if key:
                model = _with_outputs(self.model, key)
            self._sessions[key] = (_session(model), model)
        return self._sessions[key][0]

    def _run(self, X: Any, names: list[str], extra: tuple[str, ...] = ()) -> list[Any]:
        feeds, n = self._feeds(X)
        if n == 0:  # some exported heads (ArrayFeatureExtractor, Reshape) fail on 0 rows
            raise DataError(
                f"The network {self.path.name!r} was given 0 rows; pass at least one row "
                "(check the file or the filter that produced X)."
            )
        session = self._session_for(self._extra_outputs(extra)) if extra else self.session
        fixed = self._fixed_rows
        if fixed is not None:  # its own batch size, whatever batch_size says
            if n % fixed:  # pad the last batch with copies of the first row
                pad = fixed - n % fixed
                feeds = {k: np.concatenate([v, np.repeat(v[:1], pad, axis=0)])
                         for k, v in feeds.items()}
            out = run_batched(session, feeds, names, batch_size=fixed)
            self.n_queries += n
            return [o[:n] for o in out]
        out = run_batched(session, feeds, names, batch_size=self.batch_size)
        self.n_queries += n
        return out

    # ---- inputs

    def _feeds(self, X: Any) -> tuple[dict[str, np.ndarray], int]:
        if isinstance(X, Mapping):
            return self._feeds_mapping(X)
        if len(self.inputs) > 1:
            if self.feature_names is None:
                raise DataError(
                    f"The model has {len(self.inputs)} inputs "
                    f"{[s.name for s in self.inputs]!r}; pass a mapping input-name -> array."
                )
            X = np.asarray(X)
            if X.ndim != 2 or X.shape[1] != len(self.inputs):
                raise DataError(
                    f"Expected a 2-D array with {len(self.inputs)} columns (one per model "
                    f"input), got shape {X.shape!r}."
                )
            return self._feeds_mapping({s.name: X[:, j] for j, s in enumerate(self.inputs)})
        spec = self.inputs[0]
        return self._feeds_mapping({spec.name: X})

    def _feeds_mapping(self, X: Mapping[str, Any]) -> tuple[dict[str, np.ndarray], int]:
        names = [s.name for s in self.inputs]
        missing = [name for name in names if name not in X]
        if missing:
            raise DataError(
                f"Missing model inputs {missing!r}; the model takes {names!r}. "
                f"Got {sorted(map(str, X))!r}."
            )
        feeds = {}
        for spec in self.inputs:
            feeds[spec.name] = _cast(spec, X[spec.name], multi=len(self.inputs) > 1)
        n = len(next(iter(feeds.values())))
        return feeds, n

    # ---- probing

    def scores(self, X: Any) -> np.ndarray:
        """Class probabilities.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features) or mapping of input name to column

        Returns
        -------
        ndarray of shape (n_samples, n_classes), float64
        """
        self._require_classification("scores")
        (raw,) = self._run(X, [self._head.score])
        return self._to_scores(np.asarray(raw, dtype=np.float64))

    def _to_scores(self, raw: np.ndarray) -> np.ndarray:
        raw = raw.reshape(raw.shape[0], -1)
        kind = self._head.kind
        if kind == "log_prob":
            return np.exp(raw)
        if kind == "sigmoid1" and raw.shape[1] == 1:
            return np.hstack([1.0 - raw, raw])
        if kind in ("raw", "values"):
            shifted = np.exp(raw - raw.max(axis=1, keepdims=True))
            return shifted / shifted.sum(axis=1, keepdims=True)
        return raw

    def predict(self, X: Any) -> np.ndarray:
        """Class labels (values of ``classes_``) or regression values.

        Returns
        -------
        ndarray of shape (n_samples,), or (n_samples, n_outputs) for multi-output regression

        Raises
        ------
        OracleError
            The network answered NaN or inf on some rows (its score tensor, or its values): no
            class can be read from them (the argmax of NaN would be class 0). The message counts
            them and names the first; :meth:`nonfinite_rows` finds them so they can be dropped.
        """
        small = self._small
        if (small is not None and type(X) is np.ndarray and X.ndim == 2
                and X.dtype.kind in "fiub" and 0 < X.shape[0] <= self.batch_size
                and (small[1] is None or X.shape[1] == small[1])):
            # The fast path (a single-row predict costs little more than onnxruntime): a
            # numeric 2-D array fed to the only input in one session.run, with _feeds' checks.
            x = (X if X.dtype == small[2] and X.flags.c_contiguous
                 else np.ascontiguousarray(X, dtype=small[2]))  # one pass, any layout
            # InferenceSession.run checks the feed's names again in Python (~1 us, a seventh of
            # a one-row call); the checks above have done so, so the compiled session it wraps
            # is called directly when onnxruntime has one (CPU provider: no fallback to lose).
            inner = getattr(self.session, "_sess", None)
            feeds = {small[0]: x}
            try:
                raw = (inner.run(self._score_names, feeds, None) if inner is not None
                       else self.session.run(self._score_names, feeds))[0]
            except TypeError:  # another onnxruntime's internals: the public run answers
                raw = self.session.run(self._score_names, feeds)[0]
            self.n_queries += x.shape[0]
            if (type(raw) is np.ndarray and raw.ndim == 2 and raw.dtype.kind == "f"
                    and all_finite(raw)):
                if self._argmax_head:
                    return self.classes_[raw.argmax(axis=1)]
                if self._sigmoid_head and raw.shape[1] == 1:  # as below, without the checks
                    return self.classes_[(raw[:, 0] > 0.5).astype(np.intp)]
        else:
            (raw,) = self._run(X, [self._head.score])
        bad = nonfinite_mask(raw)
        if bad.any():
            raise OracleError(nonfinite_message(bad, f"The network {self.path.name!r}"))
        if self.task == "regression":
            values = np.asarray(raw, dtype=np.float64)
            values = values.reshape(values.shape[0], -1)
            return values[:, 0] if values.shape[1] == 1 else values
        raw = np.asarray(raw)
        raw = raw.reshape(raw.shape[0], -1)
        if self._head.kind == "sigmoid1" and raw.shape[1] == 1:
            # argmax of [1 - p, p]: class 1 only when p > 1/2 (ties go to class 0).
            return self.classes_[(raw[:, 0] > 0.5).astype(np.intp)]
        # Every other head is monotone per row: argmax of the raw tensor is argmax of scores.
        return self.classes_[raw.argmax(axis=1)]

    def nonfinite_rows(self, X: Any) -> np.ndarray:
        """Which rows the network answers NaN or inf on (in its score tensor, or its values).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features) or mapping of input name to column

        Returns
        -------
        ndarray of bool of shape (n_samples,)
        """
        (raw,) = self._run(X, [self._head.score])
        return nonfinite_mask(raw)

    def logits(self, X: Any) -> np.ndarray:
        """The pre-softmax / pre-sigmoid tensor, shape (n_samples, n_classes) or (n, 1).

        Raises
        ------
        UnsupportedModelError
            If the graph has no Softmax / LogSoftmax / Sigmoid head to read below.
        """
        if self._head.logit is None:
            raise UnsupportedModelError(
                f"Logits are unavailable for {self.path.name!r}: no Softmax or Sigmoid node "
                "produces its scores. Use scores(X) instead."
            )
        (raw,) = self._run(X, [self._head.logit], (self._head.logit,))
        raw = np.asarray(raw, dtype=np.float64)
        return raw.reshape(raw.shape[0], -1)

    def activations(self, X: Any, names: Any) -> dict[str, np.ndarray]:
        """Values of hidden tensors, exposed as extra graph outputs.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features) or mapping of input name to column
        names : str or sequence of str
            Tensor names (node outputs or graph inputs) of the main graph.

        Returns
        -------
        dict of str to ndarray, each with n_samples rows
        """
        names = (names,) if isinstance(names, str) else tuple(names)
        known = {o for node in self.model.graph.node for o in node.output if o}
        known |= {s.name for s in self.inputs}
        unknown = [name for name in names if name not in known]
        if unknown or not names:
            sample = sorted(known)[:8]
            raise ParameterError(
                f"Unknown tensor names {unknown!r}; pass names of node outputs, for example "
                f"{sample!r} (see describe() or Netron)."
            )
        out = self._run(X, list(names), names)
        return {name: np.asarray(value) for name, value in zip(names, out)}

    def _require_classification(self, what: str) -> None:
        if self.task != "classification":
            raise UnsupportedModelError(
                f"{what}() needs a classifier; this network's task is {self.task!r}. "
                "Use predict(X), or load(..., task='classification') if that is wrong."
            )

    def _resolve_classes(self, classes: Any) -> np.ndarray | None:
        if self.task != "classification":
            return None if classes is None else np.asarray(classes)
        if classes is None and self._head.classes is not None:
            return self._head.classes
        width = _width(self._sessions[tuple(sorted(self._extra_outputs(())))][1], self._head.score)
        if width is None:  # shape unknown statically: ask the network once on a blank row
            width = self._probe_width()
        if self._head.kind == "sigmoid1" and width == 1:
            width = 2
        if classes is None:
            return np.arange(width)
        classes = np.asarray(classes)
        if classes.ndim != 1 or len(classes) != width:
            raise ParameterError(
                f"The 'classes' parameter of load must list one label per score column; the "
                f"network has {width} columns, got {classes.tolist()!r}."
            )
        return classes

    def _probe_width(self) -> int:
        feeds = {}
        for spec in self.inputs:
            shape = tuple(1 if d is None else d for d in (spec.shape or (1, 1)))
            blank = "" if spec.dtype == object else 0
            feeds[spec.name] = np.full(shape, blank, dtype=spec.dtype)
        (raw,) = run_batched(self._base_session, feeds, [self._head.score])
        raw = np.asarray(raw)  # one row, or a fixed batch of blank rows
        return int(raw.reshape(raw.shape[0] if raw.ndim else 1, -1).shape[1])

    def describe(self) -> dict[str, Any]:
        """A JSON-ready summary for ``nnrules inspect``."""
        try:
            _ = self.layers
            readable, why = True, None
        except UnsupportedModelError as exc:
            readable, why = False, str(exc)
        except ImportError:
            readable, why = False, "nnrules.io.graph is not available"
        classes = None if self.classes_ is None else [plain(c) for c in self.classes_]
        return {
            "path": str(self.path),
            "sha256": self.sha256,
            "files_sha256": dict(self.files_sha256),
            "inputs": [s.to_dict() for s in self.inputs],
            "outputs": [s.to_dict() for s in self.outputs],
            "task": self.task,
            "classes": classes,
            "feature_names": None if self.feature_names is None else list(self.feature_names),
            "n_features": self.n_features,
            "opset": {(o.domain or "ai.onnx"): o.version for o in self.model.opset_import},
            "ir_version": self.model.ir_version,
            "producer": f"{self.model.producer_name} {self.model.producer_version}".strip(),
            "logits_available": self._head.logit is not None,
            "layers_readable": readable,
            "layers_error": why,
        }


def load(
    path: str | os.PathLike[str],
    *,
    task: Literal["classification", "regression"] | None = None,
    classes: Any = None,
) -> Network:
    """Load, check and open an ONNX network.

    Parameters
    ----------
    path : str or path-like
        The ``.onnx`` file. External data files must sit in its folder.
    task : {"classification", "regression"} or None, default=None
        Overrides the task inferred from the graph.
    classes : array-like of shape (n_classes,) or None, default=None
        Overrides the class labels (default: the model's own, else 0..k-1).

    Returns
    -------
    Network

    Raises
    ------
    InputFileError
        If ``path`` is not an existing file.
    ModelLoadError
        If the file is not ONNX, is truncated, or fails ``onnx.checker`` (full check).
    UnsafeModelError
        For ops outside the standard domains, external data outside the model's folder, or a
        shape-building op asking for more than ``MAX_ELEMENTS`` elements.
    """
    path, model, sha256, files_sha256 = read_model(path)
    return Network(
        path=path,
        model=model,
        sha256=sha256,
        files_sha256=files_sha256,
        task=task,
        classes=classes,
    )


def batch_axis(spec: Any, model: onnx.ModelProto | None = None) -> int:
    """The batch axis of a rank-2 input: 1 for integer token ids that reach a recurrent op
    time first (``[time, batch]``), else 0."""
    if model is None or spec.dtype.kind not in "iu":
        return 0
    from nnrules.io.sequences import layout_from_graph

    return 1 if layout_from_graph(model.graph, spec.name) == "time_first" else 0


def fixed_batch(inputs: Any, model: onnx.ModelProto | None = None) -> int | None:
    """The batch size a model's rank-2 inputs fix (a number on their batch axis), else None.

    Only rank-2 inputs count (sequence models' one-hot inputs are rank 3). The batch axis is
    the first, except for time-first token ids when ``model`` is given (:func:`batch_axis`):
    ``[6, batch]`` there is six steps per sequence, not six rows per run."""
    sizes = set()
    for s in inputs:
        if s.shape is not None and len(s.shape) == 2:
            size = s.shape[batch_axis(s, model)]
            if isinstance(size, int):
                sizes.add(size)
    return sizes.pop() if len(sizes) == 1 else None
