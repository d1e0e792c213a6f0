"""The oracle of sequence models: a recurrent classifier asked about whole sequences.

``SequenceOracle`` asks a recurrent classifier (a ``Network`` from ``nnrules.io.model``) about
many sequences at once: sequences of equal length go in one batched ONNX call, and the state
after a prefix is read from the recurrent ops' final-state outputs (``Y_h``, and ``Y_c`` for
LSTM), exposed as extra graph outputs. How the graph reads sequences (one-hot or token ids,
the layout) comes from ``nnrules.io.sequences.infer_encoding``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper

from nnrules.exceptions import OracleError, UnsupportedModelError
from nnrules.io.model import nonfinite_mask, nonfinite_message
from nnrules.io.sequences import (
    RECURRENT_OPS,
    SequenceEncoding,
    as_sequences,
    infer_encoding,
    node_attribute,
)

__all__ = ["SequenceOracle", "producers_needed"]


def producers_needed(graph: onnx.GraphProto, targets: list[str], stop: set[str]) -> list:
    """Nodes needed to compute ``targets`` when the tensors in ``stop`` are given."""
    producer = {o: n for n in graph.node for o in n.output if o}
    needed, stack, seen = set(), list(targets), set()
    while stack:
        name = stack.pop()
        if name in seen or name in stop:
            continue
        seen.add(name)
        node = producer.get(name)
        if node is not None and id(node) not in needed:
            needed.add(id(node))
            stack.extend(node.input)
    return [n for n in graph.node if id(n) in needed]


class SequenceOracle:
    """A recurrent classifier answering on whole sequences, batched by length, with a cache.

    Parameters
    ----------
    network : Network
        From ``nnrules.io.model.load``; its first output must be a class score / probability
        tensor of shape (batch, n_classes) (or (batch, 1) for a sigmoid head).
    alphabet : sequence of str
        Symbols in the order of the model's one-hot columns or token ids.
    encoding : SequenceEncoding, optional
        Inferred from the graph when not given (``layout`` and ``id_offset`` help it).
    empty_label : optional
        The answer on the empty sequence for graphs that cannot read one and have no recurrent
        op to read the initial state from (default: the network's most common answer on the
        one-symbol sequences).
    batch_size : int, default 8192

    Attributes
    ----------
    classes : ndarray; task : "classification"; n_queries : int (sequences sent to the network)
    recurrent : list of str — names of the recurrent ops read (empty: black box only)
    """

    task = "classification"

    def __init__(self, network: Any, *, alphabet: Sequence[str], encoding: SequenceEncoding |
                 None = None, layout: str | None = None, id_offset: int = 0,
                 empty_label: Any = None, batch_size: int = 8192) -> None:
        import onnxruntime as ort

        if getattr(network, "task", "classification") != "classification":
            raise UnsupportedModelError(
                f"The model's output is not a sequence classification (task "
                f"{network.task!r}); the automaton method needs class scores per sequence.")
        model = network.model
        self.alphabet = tuple(alphabet)
        self.encoding = encoding or infer_encoding(model, n_symbols=len(self.alphabet),
                                                   layout=layout, id_offset=id_offset)
        out = model.graph.output[0]
        head = getattr(network, "_head", None)
        self._score = head.score if head is not None else out.name
        self._sigmoid = head is not None and head.kind == "sigmoid1"
        dims = out.type.tensor_type.shape.dim
        if len(dims) not in (1, 2):
            raise UnsupportedModelError(
                f"The model's output {out.name!r} has rank {len(dims)}; a sequence classifier "
                "answers one score vector per sequence, shape (batch, n_classes). Per-step "
                "outputs (sequence tagging) are not supported.")
        nodes = [n for n in model.graph.node if n.op_type in RECURRENT_OPS]
        for n in nodes:
            if node_attribute(n, "direction", "forward") != "forward":
                raise UnsupportedModelError(
                    f"The {n.op_type} op {n.name!r} runs {node_attribute(n, 'direction')!r}: an "
                    "automaton reads left to right, so bidirectional or reverse layers cannot "
                    "become one. Use a forward-only model, or the black-box path of another "
                    "method.")
        self._nodes = nodes
        self.recurrent = [n.name or n.op_type for n in nodes]
        graph = onnx.ModelProto()
        graph.CopyFrom(model)
        self._state_names: list[str] = []
        for i, node in enumerate(n for n in graph.graph.node if n.op_type in RECURRENT_OPS):
            keep = [1, 2] if node.op_type == "LSTM" else [1]  # Y_h, and Y_c for LSTM
            while len(node.output) < max(keep) + 1:
                node.output.append("")
            for k in keep:
                if not node.output[k]:
                    node.output[k] = f"nnrules_state_{i}_{k}"
                self._state_names.append(node.output[k])
        known = {o.name for o in graph.graph.output}
        for name in self._state_names:
            if name not in known:
                graph.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT,
                                                                        None))
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(graph.SerializeToString(), options,
                                             providers=["CPUExecutionProvider"])
        self._model = graph
        classes = getattr(network, "classes_", None)
        self.classes = None if classes is None else np.asarray(classes)
        self.batch_size = int(batch_size)
        self._refuse_fixed_time(model)
        self._fixed = self._fixed_axis(model, time=False)
        if self._fixed is not None:  # exported without a dynamic batch axis
            self.batch_size = self._fixed
        self.empty_label = empty_label
        self.n_queries = 0
        self._cache: dict[tuple[int, ...], int] = {}
        self._empty: tuple[int, np.ndarray] | None = None

    # ------------------------------------------------------------------ running
    def _decide(self, raw: np.ndarray) -> np.ndarray:
        raw = np.asarray(raw)
        bad = nonfinite_mask(raw)
        if bad.any():  # the argmax of NaN would be class 0
            raise OracleError(nonfinite_message(bad, "The sequence model", unit="sequences",
                                                droppable=False))
        if raw.ndim == 1 and raw.dtype.kind in "iu":
            return raw.astype(np.int64)
        raw = raw.reshape(raw.shape[0], -1)
        if raw.shape[1] == 1:
            cut = 0.5 if self._sigmoid or (raw.min() >= 0 and raw.max() <= 1) else 0.0
            decided = (raw[:, 0] > cut).astype(np.int64)
            width = 2
        else:
            decided, width = np.argmax(raw, axis=1).astype(np.int64), raw.shape[1]
        if self.classes is None:
            self.classes = np.arange(width)
        return decided

    def _refuse_fixed_time(self, model: onnx.ModelProto) -> None:
        """A number on the input's time axis: the model answers one length only, and an
        automaton needs every length (onnxruntime would reject the others mid-extraction)."""
        steps = self._fixed_axis(model, time=True)
        if steps is not None:
            axis = 1 if self.encoding.layout == "batch_first" else 0
            raise UnsupportedModelError(
                f"The model's input {self.encoding.input_name!r} fixes its time axis (axis "
                f"{axis}) to {steps} steps, so it answers sequences of length {steps} only; an "
                "automaton needs answers on every length. Re-export it with a dynamic time "
                "axis (torch.onnx.export's dynamic_axes or dynamic_shapes) and check that "
                "the exported input's time dimension is a name, not a number.")

    def _fixed_axis(self, model: onnx.ModelProto, *, time: bool) -> int | None:
        """The number the sequence input fixes on its batch axis (or, with ``time``, on its
        time axis: the only sequence length the model takes), else None."""
        for inp in model.graph.input:
            if inp.name == self.encoding.input_name:
                dims = inp.type.tensor_type.shape.dim
                axis = int((self.encoding.layout == "batch_first") == time)
                if len(dims) > axis and dims[axis].HasField("dim_value"):
                    return int(dims[axis].dim_value)
        return None

    def _run_length(self, ids: np.ndarray, with_states: bool):
        names = [self._score] + (self._state_names if with_states else [])
        labels, states = [], []
        for lo in range(0, ids.shape[0], self.batch_size):
            chunk = ids[lo:lo + self.batch_size]
            m = chunk.shape[0]
            if self._fixed is not None and m < self._fixed:  # pad to the fixed batch
                chunk = np.concatenate([chunk, np.repeat(chunk[:1], self._fixed - m, axis=0)])
            outs = self._session.run(names, {self.encoding.input_name:
                                             self.encoding.encode(chunk)})
            self.n_queries += m
            labels.append(self._decide(outs[0])[:m])
            if with_states:
                states.append(np.concatenate([self._state_rows(o, chunk.shape[0])[:m]
                                              for o in outs[1:]], axis=1))
        return np.concatenate(labels), (np.concatenate(states) if with_states else None)

    @staticmethod
    def _state_rows(value: np.ndarray, n: int) -> np.ndarray:
        value = np.asarray(value, dtype=np.float64)
        # Y_h is [directions, batch, hidden] (layout 0) or [batch, directions, hidden].
        axis = next(i for i, d in enumerate(value.shape) if d == n)
        return np.moveaxis(value, axis, 0).reshape(n, -1)

    def _empty_answer(self) -> tuple[int, np.ndarray]:
        """Answer and state on the empty sequence without feeding a zero-length tensor (which
        some runtimes abort on): run the graph below the last recurrent op on its initial state."""
        if self._empty is not None:
            return self._empty
        width = sum(int(node_attribute(n, "hidden_size")) * (2 if n.op_type == "LSTM" else 1)
                    for n in self._nodes)
        state = np.zeros(width)
        if not self._nodes:
            if self.empty_label is not None:
                label = int(np.flatnonzero(self.classes == self.empty_label)[0]) if \
                    self.classes is not None else int(self.empty_label)
            else:
                ones = self.classify([np.array([a]) for a in range(len(self.alphabet))])
                label = int(np.bincount(ones).argmax())
            self._empty = (label, state)
            return self._empty
        last = [n for n in self._model.graph.node if n.op_type in RECURRENT_OPS][-1]
        hidden = int(node_attribute(last, "hidden_size"))
        layout = int(node_attribute(last, "layout", 0))
        h0 = np.zeros((1, 1, hidden), dtype=np.float32)  # exporters start from zeros
        feeds_for = {0: h0[None] if layout == 0 else h0[:, None], 1: h0, 2: h0}
        stop = {o for o in last.output if o}
        body = producers_needed(self._model.graph, [self._score], stop)
        used = {i for n in body for i in n.input}
        g = self._model.graph
        inputs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, None)
                  for o in last.output if o and o in used]
        x_used = self.encoding.input_name in used
        if x_used:
            inputs += [i for i in g.input if i.name == self.encoding.input_name]
        inits = [i for i in g.initializer if i.name in used]
        cut = helper.make_model(
            helper.make_graph(body, "empty", inputs,
                              [o for o in g.output if o.name == self._score], inits),
            opset_imports=self._model.opset_import)
        cut.ir_version = self._model.ir_version
        import onnxruntime as ort

        session = ort.InferenceSession(cut.SerializeToString(), providers=["CPUExecutionProvider"])
        feeds = {o: feeds_for[k] for k, o in enumerate(last.output) if o and o in used}
        if x_used:
            feeds[self.encoding.input_name] = self.encoding.encode(np.zeros((1, 1), np.int64))
        (raw,) = session.run([self._score], feeds)
        self._empty = (int(self._decide(raw)[0]), state)
        return self._empty

    def classify(self, ids: Sequence[np.ndarray]) -> np.ndarray:
        """Class indices (into ``classes``) of token-index sequences, shape (n,); cached."""
        out = np.empty(len(ids), dtype=np.int64)
        todo: dict[int, list[int]] = {}
        for i, seq in enumerate(ids):
            key = tuple(int(t) for t in seq)
            hit = self._cache.get(key)
            if hit is None:
                todo.setdefault(len(key), []).append(i)
            else:
                out[i] = hit
        for length, rows in todo.items():
            if length == 0:
                out[rows] = self._empty_answer()[0]
                self._cache[()] = int(out[rows[0]])
                continue
            batch = np.stack([ids[i] for i in rows]).astype(np.int64)
            uniq, inverse = np.unique(batch, axis=0, return_inverse=True)
            labels, _ = self._run_length(uniq, False)
            out[rows] = labels[inverse.ravel()]
            for key, lab in zip(map(tuple, uniq.tolist()), labels.tolist(), strict=True):
                self._cache[key] = lab
        return out

    def states(self, ids: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Class index and hidden state (all recurrent ops' ``Y_h``, and ``Y_c`` for LSTM,
        concatenated) after each sequence: shapes (n,) and (n, state_width)."""
        if not self._nodes:
            raise UnsupportedModelError("This graph has no RNN, GRU or LSTM op to read states "
                                        "from; use the black-box path.")
        n = len(ids)
        labels = np.empty(n, dtype=np.int64)
        states: np.ndarray | None = None
        groups: dict[int, list[int]] = {}
        for i, seq in enumerate(ids):
            groups.setdefault(len(seq), []).append(i)
        for length, rows in sorted(groups.items()):
            if length == 0:
                lab, st = self._empty_answer()
                lab_rows, st_rows = np.full(len(rows), lab), np.tile(st, (len(rows), 1))
            else:
                lab_rows, st_rows = self._run_length(np.stack([ids[i] for i in rows]), True)
            if states is None:
                states = np.zeros((n, st_rows.shape[1]))
            labels[rows], states[rows] = lab_rows, st_rows
        return labels, states

    def predict(self, X: Any) -> np.ndarray:
        """The network's labels on sequences (a ``Sequences`` or a list), shape (n,)."""
        seqs = as_sequences(X, alphabet=self.alphabet)
        return self.classes_or_default()[self.classify(seqs.ids)]

    def classes_or_default(self) -> np.ndarray:
        if self.classes is None:
            self.classify([np.array([0])])
        return self.classes
