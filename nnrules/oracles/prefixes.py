"""The answer and hidden state after every prefix, read from the recurrent ops' ``Y`` output.

``Y`` holds a recurrent op's hidden state after every time step, so one run over a sequence
gives the state after each of its prefixes. The network's answer on a prefix comes from the
part of the graph above the last recurrent op (the head), run on that op's outputs cut at the
prefix: ``Y[:t]`` and ``Y_h = Y[t - 1]``. One run of the whole network per sequence length,
plus one run of the (small) head per prefix length, replaces one run of the whole network per
prefix.

The state of a prefix is the concatenated ``h`` of every recurrent op. ``Y`` has no per-step
cell state, so for LSTM the state is ``h`` alone; a head that reads ``Y_c`` falls back to
``SequenceOracle.states`` (one run per prefix).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper

from nnrules.io.sequences import RECURRENT_OPS, node_attribute
from nnrules.oracles.sequence import producers_needed

__all__ = ["prefix_answers"]


def _sessions(oracle: Any) -> dict | None:
    """The network with every op's ``Y`` exposed, and its head as a graph of its own."""
    import onnxruntime as ort

    cached = getattr(oracle, "_prefix_sessions", False)
    if cached is not False:
        return cached
    if (getattr(oracle, "_fixed", None) or 1) > 1:
        # A fixed batch of several rows: its chunks would need padding here too; the padded
        # one-length-at-a-time path answers instead.
        oracle._prefix_sessions = None
        return None
    model = onnx.ModelProto()
    model.CopyFrom(oracle._model)
    g = model.graph
    nodes = [n for n in g.node if n.op_type in RECURRENT_OPS]
    y_names = []
    for i, node in enumerate(nodes):
        if not node.output or not node.output[0]:
            if node.output:
                node.output[0] = f"nnrules_y_{i}"
            else:
                node.output.append(f"nnrules_y_{i}")
        y_names.append(node.output[0])
    known = {o.name for o in g.output}
    g.output.extend(helper.make_tensor_value_info(n, TensorProto.FLOAT, None)
                    for n in y_names if n not in known)
    last = nodes[-1]
    body = producers_needed(g, [oracle._score], {o for o in last.output if o})
    used = {i for n in body for i in n.input}
    if len(last.output) > 2 and last.output[2] in used:
        oracle._prefix_sessions = None  # the head reads the cell state: no per-step value
        return None
    x_name = oracle.encoding.input_name
    inputs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, None)
              for o in last.output[:2] if o and o in used]
    inputs += [i for i in g.input if i.name == x_name and x_name in used]
    head = helper.make_model(
        helper.make_graph(body, "head", inputs, [o for o in g.output if o.name == oracle._score],
                          [i for i in g.initializer if i.name in used]),
        opset_imports=model.opset_import)
    head.ir_version = model.ir_version
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    found = {
        "full": ort.InferenceSession(model.SerializeToString(), options,
                                     providers=["CPUExecutionProvider"]),
        "head": ort.InferenceSession(head.SerializeToString(), options,
                                     providers=["CPUExecutionProvider"]),
        "y": y_names,
        "layouts": [int(node_attribute(n, "layout", 0)) for n in nodes],
        "feeds": [(k, o) for k, o in enumerate(last.output[:2]) if o and o in used],
        "x_used": x_name in used,
    }
    oracle._prefix_sessions = found
    return found


def _steps(y: np.ndarray, layout: int) -> np.ndarray:
    """``Y`` ([T, 1, B, H], or [B, T, 1, H] for layout 1) as (B, T, H)."""
    return y[:, :, 0, :] if layout == 1 else np.transpose(y[:, 0], (1, 0, 2))


def prefix_answers(oracle: Any, ids: Sequence[np.ndarray]):
    """Every distinct prefix of ``ids`` (the empty one first, then by length and symbols), the
    network's class index after it and its hidden state.

    Parameters
    ----------
    oracle : SequenceOracle
        Over a graph with at least one RNN / GRU / LSTM op.
    ids : sequence of int arrays
        Token-index sequences.

    Returns
    -------
    (prefixes, labels, states) or None
        ``prefixes`` a list of tuples, ``labels`` shape (n,), ``states`` shape (n, width); None
        when the head reads an LSTM cell state (use ``oracle.states``).
    """
    s = _sessions(oracle)
    if s is None:
        return None
    groups: dict[int, set[tuple[int, ...]]] = {}
    for seq in ids:
        key = tuple(int(a) for a in seq)
        if key:
            groups.setdefault(len(key), set()).add(key)
    found: dict[tuple[int, ...], tuple[int, np.ndarray]] = {}
    for length in sorted(groups):
        rows = np.array(sorted(groups[length]), dtype=np.int64)
        for lo in range(0, rows.shape[0], oracle.batch_size):
            chunk = rows[lo:lo + oracle.batch_size]
            x = oracle.encoding.encode(chunk)
            ys = s["full"].run(s["y"], {oracle.encoding.input_name: x})
            oracle.n_queries += chunk.shape[0]
            steps = [_steps(np.asarray(y), lay) for y, lay in zip(ys, s["layouts"], strict=True)]
            last, lay = np.asarray(ys[-1]), s["layouts"][-1]
            for t in range(1, length + 1):
                feeds = {}
                for k, name in s["feeds"]:
                    if k == 0:  # Y up to step t
                        feeds[name] = last[:t] if lay == 0 else last[:, :t]
                    else:  # Y_h: the state after step t
                        feeds[name] = last[t - 1] if lay == 0 else last[:, t - 1]
                if s["x_used"]:
                    feeds[oracle.encoding.input_name] = oracle.encoding.encode(chunk[:, :t])
                (raw,) = s["head"].run([oracle._score], feeds)
                labels = oracle._decide(raw)
                state = np.concatenate([st[:, t - 1] for st in steps], axis=1)
                for r, prefix in enumerate(map(tuple, chunk[:, :t].tolist())):
                    if prefix not in found:
                        found[prefix] = (int(labels[r]), state[r].astype(np.float64))
                        oracle._cache.setdefault(prefix, int(labels[r]))
    label0, _ = oracle._empty_answer()
    width = next(iter(found.values()))[1].shape[0] if found else sum(
        int(node_attribute(n, "hidden_size")) for n in oracle._nodes)
    prefixes = [()] + sorted(found, key=lambda w: (len(w), w))
    labels = np.array([label0] + [found[p][0] for p in prefixes[1:]], dtype=np.int64)
    states = np.zeros((len(prefixes), width))
    if len(prefixes) > 1:
        states[1:] = np.stack([found[p][1] for p in prefixes[1:]])
    return prefixes, labels, states
