"""Sequences in: files of symbol strings, the model's input encoding, and batched queries.

A sequence file has one sequence per line: characters of the alphabet, or whitespace-separated
tokens when the alphabet (a JSON list) has multi-character tokens; an empty line is the empty
sequence. A ``.npy`` file holds token ids, shape (n, T), ``-1`` padding at the end of a row.

``SequenceOracle`` asks a recurrent classifier (a ``Network`` from ``nnrules.io.model``) about
many sequences at once: sequences of equal length go in one batched ONNX call, and the state
after a prefix is read from the recurrent ops' final-state outputs (``Y_h``, and ``Y_c`` for
LSTM), exposed as extra graph outputs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import onnx
from onnx import TensorProto, helper

from nnrules.exceptions import DataError, InputFileError, ParameterError, UnsupportedModelError

__all__ = [
    "RECURRENT_OPS", "SequenceEncoding", "SequenceOracle", "Sequences", "as_sequences",
    "infer_encoding", "parse_alphabet", "read_sequences",
]

RECURRENT_OPS = ("RNN", "GRU", "LSTM")


@dataclass(frozen=True)
class Sequences:
    """Sequences of tokens over an alphabet.

    Attributes
    ----------
    tokens : tuple of tuple of str
        One tuple of tokens per sequence.
    alphabet : tuple of str
        The symbols, in the order the model's one-hot columns (or token ids) use.
    name : str
        Where they came from (a file name), for reports.
    """

    tokens: tuple[tuple[str, ...], ...]
    alphabet: tuple[str, ...]
    name: str = "sequences"

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def ids(self) -> list[np.ndarray]:
        """Token indices into ``alphabet``, one int64 array per sequence."""
        index = {a: i for i, a in enumerate(self.alphabet)}
        return [np.array([index[t] for t in seq], dtype=np.int64) for seq in self.tokens]

    @property
    def lengths(self) -> np.ndarray:
        return np.array([len(s) for s in self.tokens], dtype=np.int64)

    def strings(self) -> list[str]:
        """Each sequence as its tokens joined (what a regex of the automaton matches)."""
        return ["".join(s) for s in self.tokens]


def parse_alphabet(alphabet: str | Sequence[str] | None) -> tuple[str, ...] | None:
    """An alphabet from the CLI: a JSON list of tokens (``'["ab", "c"]'``), or characters."""
    if alphabet is None:
        return None
    if isinstance(alphabet, str):
        if alphabet.lstrip().startswith("["):
            try:
                tokens = json.loads(alphabet)
            except json.JSONDecodeError as err:
                raise ParameterError(f"The alphabet {alphabet!r} is not a valid JSON list: "
                                     f"{err.msg}.") from None
        else:
            tokens = list(alphabet)
    else:
        tokens = list(alphabet)
    tokens = [str(t) for t in tokens]
    if not tokens or len(set(tokens)) != len(tokens) or "" in tokens:
        raise ParameterError(
            f"The alphabet must list distinct non-empty symbols; got {tokens!r}. Pass characters "
            "('01') or a JSON list of tokens ('[\"ab\", \"c\"]').")
    return tuple(tokens)


def _split(line: str, alphabet: tuple[str, ...] | None) -> tuple[str, ...]:
    if alphabet is not None and any(len(a) > 1 for a in alphabet):
        return tuple(line.split())
    if alphabet is None or " " not in alphabet:
        line = line.strip()
    return tuple(line)


def _from_ids(ids: np.ndarray, alpha: tuple[str, ...] | None, name: str) -> Sequences:
    """Token ids of shape (n, T), ``-1`` padding at the end of a row: id ``i`` is ``alpha[i]``."""
    if ids.ndim != 2 or ids.shape[0] == 0:
        raise DataError(f"{name!r} must be a non-empty 2-D integer array of token ids (n, T), "
                        f"-1 padding; got shape {ids.shape} of {ids.dtype}.")
    if alpha is None:
        alpha = tuple(str(i) for i in range(int(ids.max(initial=0)) + 1))
    bad = np.argwhere((ids >= len(alpha)) | (ids < -1))
    if bad.size:
        row, col = (int(v) for v in bad[0])
        raise DataError(f"Token id {int(ids[row, col])} in row {row + 1} of {name!r} is outside "
                        f"the alphabet of {len(alpha)} symbols (ids 0..{len(alpha) - 1}, -1 "
                        "for padding). Pass the model's alphabet.")
    rows = [tuple(alpha[i] for i in r[r >= 0]) for r in ids]
    return Sequences(tuple(rows), alpha, name)


def as_sequences(X: Any, *, alphabet: str | Sequence[str] | None = None,
                 name: str = "sequences") -> Sequences:
    """Sequences from a ``Sequences``, a list of strings or of token lists, or an integer
    array of token ids (n, T) with ``-1`` padding (id ``i`` is ``alphabet[i]``).

    With ``alphabet=None`` the alphabet is the sorted set of symbols seen. Raises
    ``DataError`` naming a symbol outside the alphabet and its (1-based) line.
    """
    alpha = parse_alphabet(alphabet)
    if isinstance(X, Sequences):
        if alpha is None or alpha == X.alphabet:
            return X
        X = X.tokens
    if isinstance(X, np.ndarray) and X.dtype.kind in "iu":
        return _from_ids(X, alpha, name)
    if isinstance(X, str):
        raise DataError("Pass a list of sequences, not one string: e.g. ['0110', '10'].")
    tokens = tuple(_split(s, alpha) if isinstance(s, str) else tuple(str(t) for t in s)
                   for s in X)
    if not tokens:
        raise DataError(f"{name!r} holds no sequences; give at least one sequence.")
    if alpha is None:
        alpha = tuple(sorted({t for seq in tokens for t in seq}))
        if not alpha:
            raise DataError(f"{name!r} holds only empty sequences; pass the alphabet explicitly.")
    known = set(alpha)
    for line, seq in enumerate(tokens, start=1):
        for t in seq:
            if t not in known:
                raise DataError(
                    f"Symbol {t!r} on line {line} of {name!r} is not in the alphabet "
                    f"{list(alpha)!r}. Fix the line or pass the full alphabet (--alphabet).")
    return Sequences(tokens, alpha, name)


def read_sequences(path: str | Path, *, alphabet: str | Sequence[str] | None = None) -> Sequences:
    """Read a sequence file: text (one sequence per line) or ``.npy`` token ids.

    Parameters
    ----------
    path : str or Path
    alphabet : str, sequence of str, or None
        Characters (``"01"``), a JSON list of tokens, or a list. For ``.npy`` files, token id
        ``i`` is ``alphabet[i]`` (default: the ids themselves as symbols ``"0"``, ``"1"``, ...).

    Returns
    -------
    Sequences

    Raises
    ------
    InputFileError
        The file does not exist.
    DataError
        The file is empty, or holds a symbol outside the alphabet (named, with its line).
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"Sequence file {str(path)!r} does not exist or is not a file.")
    alpha = parse_alphabet(alphabet)
    if path.suffix == ".npy":
        ids = np.load(path, allow_pickle=False)
        if ids.dtype.kind not in "iu":
            raise DataError(f"{path.name!r} must hold integer token ids (n, T), -1 padding; got "
                            f"{ids.dtype}.")
        return _from_ids(ids, alpha, path.name)
    text = path.read_text(encoding="utf-8")
    if not text.strip("\n"):
        raise DataError(f"Sequence file {path.name!r} is empty; write one sequence per line.")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return as_sequences([line.rstrip("\r") for line in lines], alphabet=alpha, name=path.name)


# --------------------------------------------------------------------------- the model's input


@dataclass(frozen=True)
class SequenceEncoding:
    """How sequences become the model's input tensor.

    Attributes
    ----------
    kind : {"onehot", "ids"}
        Float one-hot vectors, or int token ids feeding an embedding (``Gather``).
    layout : {"batch_first", "time_first"}
        ``[batch, time, ...]`` or ``[time, batch, ...]``.
    input_name : str
    width : int or None
        One-hot width (|Σ|), or the embedding's vocabulary size for ids.
    dtype : numpy dtype name
    id_offset : int
        Token ``alphabet[i]`` has id ``i + id_offset`` (e.g. 1 when id 0 is padding).
    """

    kind: Literal["onehot", "ids"]
    layout: Literal["batch_first", "time_first"]
    input_name: str
    width: int | None
    dtype: str = "float32"
    id_offset: int = 0

    def encode(self, ids: np.ndarray) -> np.ndarray:
        """Token indices of shape (batch, time) as the model's input."""
        if self.kind == "onehot":
            x = np.eye(self.width, dtype=self.dtype)[ids]
        else:
            x = (ids + self.id_offset).astype(self.dtype)
        return x if self.layout == "batch_first" else np.swapaxes(x, 0, 1)


_NP = {TensorProto.FLOAT: "float32", TensorProto.DOUBLE: "float64", TensorProto.INT64: "int64",
       TensorProto.INT32: "int32", TensorProto.FLOAT16: "float16"}


def _consumers(graph: onnx.GraphProto) -> dict[str, list[onnx.NodeProto]]:
    out: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            out.setdefault(name, []).append(node)
    return out


def _attr(node: onnx.NodeProto, name: str, default: Any = None) -> Any:
    for a in node.attribute:
        if a.name == name:
            value = helper.get_attribute_value(a)
            return value.decode() if isinstance(value, bytes) else value
    return default


def _layout_from_graph(graph: onnx.GraphProto, start: str) -> str | None:
    """Follow the input to the first recurrent op: a ``Transpose`` swapping the first two axes
    on the way (or ``layout=1`` on the op) means batch-first; a direct feed, time-first."""
    consumers = _consumers(graph)
    frontier, seen = [(start, False)], set()
    while frontier:
        name, swap = frontier.pop(0)
        if name in seen:
            continue
        seen.add(name)
        for node in consumers.get(name, []):
            if node.op_type in RECURRENT_OPS and node.input[0] == name:
                batch_first = bool(_attr(node, "layout", 0))
                return "batch_first" if batch_first != swap else "time_first"
            s = swap
            if node.op_type == "Transpose":
                perm = list(_attr(node, "perm", []))
                s = swap != (perm[:2] == [1, 0])
            if node.op_type in ("Shape", "Size"):
                continue
            frontier.extend((o, s) for o in node.output)
    return None


def infer_encoding(model: onnx.ModelProto, *, n_symbols: int | None = None,
                   layout: str | None = None, id_offset: int = 0) -> SequenceEncoding:
    """Work out how the model reads sequences, from its graph.

    A float rank-3 input is one-hot (``[batch, time, |Σ|]`` or ``[time, batch, |Σ|]``), an
    integer rank-2 input holds token ids. The layout comes from the path to the first
    recurrent op (see ``_layout_from_graph``); a graph without one is taken as batch-first
    unless ``layout`` says otherwise.

    Raises
    ------
    UnsupportedModelError
        Not one sequence input of a shape above.
    ParameterError
        ``n_symbols`` (the alphabet size) does not match the one-hot width, or exceeds the
        vocabulary of an embedding.
    """
    inits = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in inits]
    if len(inputs) != 1:
        raise UnsupportedModelError(
            f"A sequence model must have exactly one input; this one has "
            f"{[i.name for i in inputs]!r}.")
    info = inputs[0]
    ttype = info.type.tensor_type
    rank = len(ttype.shape.dim)
    dims = [d.dim_value or None for d in ttype.shape.dim]
    dtype = _NP.get(ttype.elem_type)
    found = _layout_from_graph(model.graph, info.name)
    chosen = layout or found or "batch_first"
    if chosen not in ("batch_first", "time_first"):
        raise ParameterError(f"layout must be 'batch_first' or 'time_first'; got {layout!r}.")
    if dtype in ("float32", "float64", "float16") and rank == 3:
        width = dims[2]
        if n_symbols is not None and width is not None and width != n_symbols:
            raise ParameterError(
                f"The alphabet has {n_symbols} symbols but the model's input {info.name!r} "
                f"takes one-hot vectors of width {width}. Pass the alphabet the model was "
                "trained with (--alphabet), in its column order.")
        return SequenceEncoding("onehot", chosen, info.name, width or n_symbols, dtype)
    if dtype in ("int64", "int32") and rank == 2:
        vocab = None
        for node in model.graph.node:
            if node.op_type == "Gather" and node.input[1] == info.name:
                table = next((i for i in model.graph.initializer if i.name == node.input[0]),
                             None)
                vocab = int(table.dims[0]) if table is not None else None
        if n_symbols is not None and vocab is not None and n_symbols + id_offset > vocab:
            raise ParameterError(
                f"The alphabet has {n_symbols} symbols (ids {id_offset}..{n_symbols + id_offset - 1})"
                f" but the model's embedding holds {vocab} tokens. Pass the model's alphabet.")
        return SequenceEncoding("ids", chosen, info.name, vocab, dtype, id_offset)
    raise UnsupportedModelError(
        f"Input {info.name!r} of shape {dims} ({dtype}) is not a sequence input: expected float "
        "one-hot [batch, time, |alphabet|] / [time, batch, |alphabet|] or integer token ids "
        "[batch, time].")


# --------------------------------------------------------------------------- queries


def _producers_needed(graph: onnx.GraphProto, targets: list[str], stop: set[str]) -> list:
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
            if _attr(n, "direction", "forward") != "forward":
                raise UnsupportedModelError(
                    f"The {n.op_type} op {n.name!r} runs {_attr(n, 'direction')!r}: an automaton "
                    "reads left to right, so bidirectional or reverse layers cannot become one. "
                    "Use a forward-only model, or the black-box path of another method.")
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
        self.empty_label = empty_label
        self.n_queries = 0
        self._cache: dict[tuple[int, ...], int] = {}
        self._empty: tuple[int, np.ndarray] | None = None

    # ------------------------------------------------------------------ running
    def _decide(self, raw: np.ndarray) -> np.ndarray:
        raw = np.asarray(raw)
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

    def _run_length(self, ids: np.ndarray, with_states: bool):
        names = [self._score] + (self._state_names if with_states else [])
        labels, states = [], []
        for lo in range(0, ids.shape[0], self.batch_size):
            chunk = ids[lo:lo + self.batch_size]
            outs = self._session.run(names, {self.encoding.input_name:
                                             self.encoding.encode(chunk)})
            self.n_queries += chunk.shape[0]
            labels.append(self._decide(outs[0]))
            if with_states:
                states.append(np.concatenate([self._state_rows(o, chunk.shape[0])
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
        width = sum(int(_attr(n, "hidden_size")) * (2 if n.op_type == "LSTM" else 1)
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
        hidden = int(_attr(last, "hidden_size"))
        layout = int(_attr(last, "layout", 0))
        h0 = np.zeros((1, 1, hidden), dtype=np.float32)  # exporters start from zeros
        feeds_for = {0: h0[None] if layout == 0 else h0[:, None], 1: h0, 2: h0}
        stop = {o for o in last.output if o}
        body = _producers_needed(self._model.graph, [self._score], stop)
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
