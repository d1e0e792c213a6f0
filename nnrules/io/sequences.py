"""Sequences in: files of symbol strings, and how a model's graph reads them.

A sequence file has one sequence per line: characters of the alphabet, or whitespace-separated
tokens when the alphabet (a JSON list) has multi-character tokens; an empty line is the empty
sequence. A ``.npy`` file holds token ids, shape (n, T), ``-1`` padding at the end of a row.

``infer_encoding`` works out from the graph whether the model takes one-hot vectors or token
ids, batch- or time-first. Asking the network about sequences is the oracles' work
(``nnrules.oracles.SequenceOracle``).
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

from nnrules.exceptions import DataError, ParameterError, UnsupportedModelError
from nnrules.io.files import check_input_file
from nnrules.io.limits import check_file_size, check_length

__all__ = [
    "RECURRENT_OPS", "SequenceEncoding", "Sequences", "as_sequences", "infer_encoding",
    "layout_from_graph", "node_attribute", "parse_alphabet", "read_sequences",
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


def read_sequences(path: str | Path, *, alphabet: str | Sequence[str] | None = None,
                   encoding: str | None = None, max_length: int | None = None,
                   max_bytes: int | None = None) -> Sequences:
    """Read a sequence file: text (one sequence per line) or ``.npy`` token ids.

    Parameters
    ----------
    path : str or Path
    alphabet : str, sequence of str, or None
        Characters (``"01"``), a JSON list of tokens, or a list. For ``.npy`` files, token id
        ``i`` is ``alphabet[i]`` (default: the ids themselves as symbols ``"0"``, ``"1"``, ...).
    encoding : str, optional
        Text encoding (default UTF-8).
    max_length : int, optional
        Longest sequence accepted (default ``nnrules.io.limits.MAX_SEQUENCE_LENGTH``, 256); a
        longer line is refused as soon as it is read.
    max_bytes : int, optional
        Largest file read (default ``nnrules.io.limits.MAX_DATA_BYTES``, 256 MiB).

    Returns
    -------
    Sequences

    Raises
    ------
    InputFileError
        The file does not exist.
    DataError
        The file is empty, too large, holds a sequence above ``max_length`` or a symbol outside
        the alphabet (named, with its line), or is not in ``encoding``.
    """
    path = check_input_file(path, "Sequence file")
    check_file_size(path, max_bytes, "Sequence file")
    alpha = parse_alphabet(alphabet)
    if path.suffix == ".npy":
        ids = np.load(path, allow_pickle=False)
        if ids.dtype.kind not in "iu":
            raise DataError(f"{path.name!r} must hold integer token ids (n, T), -1 padding; got "
                            f"{ids.dtype}.")
        if ids.ndim == 2 and ids.shape[1] > 0:
            longest = int(np.argmax((ids >= 0).sum(axis=1)))
            check_length(int((ids[longest] >= 0).sum()), longest + 1, path.name, max_length)
        return _from_ids(ids, alpha, path.name)
    tokens = alpha is not None and any(len(a) > 1 for a in alpha)
    lines = []
    try:
        with open(path, encoding=encoding or "utf-8", newline="") as fh:
            for number, line in enumerate(fh, start=1):
                line = line.rstrip("\n").rstrip("\r")
                check_length(len(line.split()) if tokens else len(line.strip()), number,
                             path.name, max_length)
                lines.append(line)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"Sequence file {path.name!r} is not {encoding or 'utf-8'} text (byte "
            f"{exc.object[exc.start:exc.start + 1]!r}); pass its encoding (--encoding latin-1, "
            "Python: encoding='latin-1') or re-save it as UTF-8.") from None
    if not any(lines):
        raise DataError(f"Sequence file {path.name!r} is empty; write one sequence per line.")
    return as_sequences(lines, alphabet=alpha, name=path.name)


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


def node_attribute(node: onnx.NodeProto, name: str, default: Any = None) -> Any:
    """The value of attribute ``name`` of an ONNX node (strings decoded), else ``default``."""
    for a in node.attribute:
        if a.name == name:
            value = helper.get_attribute_value(a)
            return value.decode() if isinstance(value, bytes) else value
    return default


def layout_from_graph(graph: onnx.GraphProto, start: str) -> str | None:
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
                batch_first = bool(node_attribute(node, "layout", 0))
                return "batch_first" if batch_first != swap else "time_first"
            s = swap
            if node.op_type == "Transpose":
                perm = list(node_attribute(node, "perm", []))
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
    recurrent op (see ``layout_from_graph``); a graph without one is taken as batch-first
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
    found = layout_from_graph(model.graph, info.name)
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
