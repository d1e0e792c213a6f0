"""Layer IR for white-box methods: read a dense feed-forward ONNX graph as affine + activation layers.

``read_dense`` follows the path from the single float input to the logit / probability tensor,
folds every run of affine pieces (input normalisation ``Sub``/``Div``/``Mul``/``Add``, ``Gemm``,
``MatMul`` + ``Add``, ``BatchNormalization``, skl2onnx's ``ai.onnx.ml`` ``Scaler``) into one
:class:`Affine`, keeps ``Relu``,
``LeakyRelu``, ``Sigmoid`` and ``Tanh`` as :class:`Activation` layers, skips shape no-ops
(``Identity``, inference ``Dropout``, float ``Cast``, ``Flatten``/``Reshape`` that keep
``(batch, features)``), and turns a trailing ``Softmax`` / ``LogSoftmax`` / ``Sigmoid`` into the
``head``. Label post-processing (``ArgMax``, ``ZipMap``, ``ArrayFeatureExtractor``, ...) is
outside the IR.

skl2onnx writes a binary ``MLPClassifier`` as ``p = Sigmoid(z)`` followed by
``Concat([1 - p, p])``. That shape is read as head ``"sigmoid"`` with a single logit ``z``
(``n_outputs == 1``): the network's probability of the second class is ``sigmoid(z)``.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper

from nnrules.exceptions import ModelLoadError, UnsupportedModelError
from nnrules.io.graph_ir import Activation, Affine, DenseIR, HeadKind

__all__ = ["Activation", "Affine", "DenseIR", "read_dense"]

_PEDAGOGICAL = (
    "The pedagogical methods (tree, trepan, additive) only query the network and still work "
    "on this model."
)
_ACTIVATIONS = {"Relu": "relu", "LeakyRelu": "leaky_relu", "Sigmoid": "sigmoid", "Tanh": "tanh"}
# Nodes that turn probabilities into labels or maps: outside the IR, never followed.
_POSTPROCESS = frozenset({"ArgMax", "ArgMin", "ZipMap", "ArrayFeatureExtractor", "TopK"})
_FLOAT_TYPES = frozenset({onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE,
                          onnx.TensorProto.FLOAT16, onnx.TensorProto.BFLOAT16})


def _unsupported(node: onnx.NodeProto, why: str) -> UnsupportedModelError:
    domain = f" (domain {node.domain!r})" if node.domain not in ("", "ai.onnx") else ""
    return UnsupportedModelError(
        f"Cannot read op {node.op_type!r}{domain} in node {node.name!r} as a dense layer: {why}. "
        "White-box methods read Gemm, MatMul+Add, Relu, LeakyRelu, Sigmoid, Tanh, "
        "BatchNormalization, Scaler (ai.onnx.ml), constant Add/Sub/Mul/Div, Softmax/LogSoftmax "
        "heads and shape "
        f"no-ops. {_PEDAGOGICAL}"
    )


def _attrs(node: onnx.NodeProto) -> dict:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _to_array(tensor: onnx.TensorProto) -> np.ndarray:
    if tensor.data_location == onnx.TensorProto.EXTERNAL and not tensor.raw_data:
        raise ModelLoadError(
            f"Tensor {tensor.name!r} keeps its data in an external file that was not loaded. "
            "Load the model with onnx.load(path) (load_external_data=True) from its folder."
        )
    return numpy_helper.to_array(tensor)


def _constant_node_value(node: onnx.NodeProto) -> np.ndarray | None:
    a = _attrs(node)
    if "value" in a:
        return _to_array(a["value"])
    for key in ("value_float", "value_floats", "value_int", "value_ints"):
        if key in a:
            return np.asarray(a[key])
    return None


def _constants(graph: onnx.GraphProto) -> dict[str, np.ndarray]:
    """Initializers plus what Constant / Identity / Cast / Transpose / Reshape chains make of them."""
    const = {t.name: _to_array(t) for t in graph.initializer}
    for node in graph.node:
        ins = [i for i in node.input if i]
        if node.op_type == "Constant":
            value = _constant_node_value(node)
            if value is not None:
                const[node.output[0]] = value
        elif not ins or not all(i in const for i in ins):
            continue
        elif node.op_type in ("Identity", "Cast"):
            const[node.output[0]] = const[ins[0]]
        elif node.op_type == "Transpose":
            perm = _attrs(node).get("perm")
            const[node.output[0]] = np.transpose(const[ins[0]], perm)
        elif node.op_type == "Reshape" and len(ins) == 2:
            shape = [d if d != 0 else const[ins[0]].shape[k]
                     for k, d in enumerate(const[ins[1]].astype(int))]
            const[node.output[0]] = const[ins[0]].reshape(shape)
    return const


class _Pending:
    """The affine map accumulated since the last activation: ``x @ W.T + b``, or elementwise
    ``x * s + o`` while the width is still unknown (W is None)."""

    def __init__(self) -> None:
        self.W: np.ndarray | None = None
        self.b: np.ndarray | float = 0.0
        self.s: np.ndarray | float = 1.0
        self.o: np.ndarray | float = 0.0
        self.names: list[str] = []

    @property
    def empty(self) -> bool:
        return not self.names

    def elementwise(self, scale, shift, name: str) -> None:
        scale, shift = np.asarray(scale, np.float64), np.asarray(shift, np.float64)
        if self.W is None:
            self.s, self.o = self.s * scale, self.o * scale + shift
        else:
            self.W = np.reshape(scale, (-1, 1)) * self.W if scale.ndim else scale * self.W
            self.b = self.b * scale + shift
        self.names.append(name)

    def matrix(self, W: np.ndarray, b: np.ndarray, name: str) -> None:
        n_in = W.shape[1]
        if self.W is None:
            s = np.broadcast_to(self.s, (n_in,))
            o = np.broadcast_to(self.o, (n_in,))
            self.W, self.b = W * s[None, :], W @ o + b
        else:
            self.W, self.b = W @ self.W, W @ self.b + b
        self.names.append(name)

    def flush(self, width: int | None) -> Affine | None:
        if self.empty:
            return None
        if self.W is None:
            if width is None:
                return None  # caller reports the unknown width
            s = np.broadcast_to(self.s, (width,))
            self.W, self.b = np.diag(s).astype(np.float64), np.broadcast_to(self.o, (width,))
        affine = Affine(np.array(self.W, dtype=np.float64),
                        np.array(np.broadcast_to(self.b, (self.W.shape[0],)), dtype=np.float64),
                        "+".join(self.names))
        self.__init__()
        return affine


class _Reader:
    def __init__(self, model: onnx.ModelProto) -> None:
        graph = model.graph
        self.const = _constants(graph)
        init_names = {t.name for t in graph.initializer}
        self.inputs = [v for v in graph.input if v.name not in init_names]
        self.outputs = {v.name for v in graph.output}
        self.consumers: dict[str, list[onnx.NodeProto]] = {}
        for node in graph.node:
            if node.output and all(o in self.const for o in node.output if o):
                continue  # folded into constants
            for name in dict.fromkeys(i for i in node.input if i):
                self.consumers.setdefault(name, []).append(node)
        self.layers: list[Affine | Activation] = []
        self.pending = _Pending()
        self.width: int | None = None
        self.head: HeadKind = "none"
        self.head_node: onnx.NodeProto | None = None

    # -- helpers -------------------------------------------------------------------------
    def _set_width(self, node: onnx.NodeProto, n: int) -> None:
        if self.width is not None and self.width != n:
            raise _unsupported(node, f"it expects {n} features but the path carries "
                                     f"{self.width}")
        self.width = n

    def _flush(self, node: onnx.NodeProto) -> None:
        if self.pending.empty:
            return
        affine = self.pending.flush(self.width)
        if affine is None:
            raise _unsupported(node, "the number of input features is unknown (only scalar "
                                     "constants precede it and the input shape is dynamic)")
        self.layers.append(affine)

    def _vector(self, node: onnx.NodeProto, value: np.ndarray) -> np.ndarray:
        """A constant operand of an elementwise op as a scalar or a per-feature vector."""
        v = np.asarray(value, dtype=np.float64)
        if v.size == 1:
            return v.reshape(())
        if v.ndim > 2 or (v.ndim == 2 and v.shape[0] != 1):
            raise _unsupported(node, f"its constant operand has shape {v.shape!r}; only a "
                                     "scalar or a per-feature (d,) / (1, d) constant is affine")
        v = v.reshape(-1)
        self._set_width(node, v.size)
        return v

    def _check_head_free(self, node: onnx.NodeProto) -> None:
        if self.head_node is not None:
            raise _unsupported(node, f"it follows the {self.head_node.op_type!r} head "
                                     f"{self.head_node.name!r}; the head must end the network")

    def _branch_hint(self, nodes: list[onnx.NodeProto]) -> str:
        """What a branch most likely is, named for the user: exporters write GELU and SiLU as
        several ops reading one tensor twice, which reads as a branch, not as an activation."""
        seen, todo = set(), list(nodes)
        for _ in range(8):  # a few ops downstream are enough to tell
            todo = [n for n in todo if id(n) not in seen]  # names may be empty
            seen.update(id(n) for n in todo)
            if any(n.op_type in ("Erf", "Gelu") for n in todo):
                return (" (this is a GELU activation, x * 0.5 * (1 + Erf(x / sqrt(2))), which "
                        "white-box methods do not read)")
            if any(n.op_type == "OneHotEncoder" for n in todo):
                return (" (the input is split per column into OneHotEncoder ops: a "
                        "preprocessing front such as scikit-learn's OneHotEncoder; white-box "
                        "methods read the network alone, exported on the encoded columns)")
            todo = [c for n in todo for o in n.output for c in self.consumers.get(o, [])]
        if {n.op_type for n in nodes} == {"Sigmoid", "Mul"}:
            return " (this is a SiLU / Swish activation, x * Sigmoid(x), which white-box " \
                   "methods do not read)"
        return ""

    # -- the walk ------------------------------------------------------------------------
    def read(self) -> DenseIR:
        if len(self.inputs) != 1:
            names = [v.name for v in self.inputs]
            raise UnsupportedModelError(
                f"White-box methods need a graph with exactly one (float, 2-D) input; this one "
                f"has {len(names)}: {names!r}. {_PEDAGOGICAL}"
            )
        inp = self.inputs[0]
        dims = inp.type.tensor_type.shape.dim
        if len(dims) == 2 and dims[1].HasField("dim_value"):
            self.width = int(dims[1].dim_value)
        cur = inp.name
        while True:
            nodes = [n for n in self.consumers.get(cur, []) if n.op_type not in _POSTPROCESS]
            if not nodes:
                break
            if len(nodes) == 2 and self._binary_sigmoid(cur, nodes):
                break
            if len(nodes) > 1:
                raise _unsupported(nodes[1], f"tensor {cur!r} branches into "
                                             f"{len(nodes)} nodes; only a chain is readable"
                                             + self._branch_hint(nodes))
            cur = self._step(nodes[0], cur)
        if len(dims) not in (0, 2):
            raise UnsupportedModelError(
                f"Input {inp.name!r} has rank {len(dims)}; white-box methods read 2-D "
                f"(batch, features) inputs only. {_PEDAGOGICAL}")
        last = self.head_node or onnx.helper.make_node("Identity", [cur], [cur], name=cur)
        self._flush(last)
        if self.head == "none" and self.layers and isinstance(self.layers[-1], Activation) \
                and self.layers[-1].kind == "sigmoid":
            self.layers.pop()
            self.head = "sigmoid"
        affines = [layer for layer in self.layers if isinstance(layer, Affine)]
        if not affines:
            raise UnsupportedModelError(
                f"No affine layer (Gemm / MatMul) found on the path from {inp.name!r}; this "
                f"is not a dense network. {_PEDAGOGICAL}")
        return DenseIR(tuple(self.layers), self.head, inp.name, affines[0].n_in,
                       int(self.width if self.width is not None else affines[-1].n_out))

    def _binary_sigmoid(self, cur: str, nodes: list[onnx.NodeProto]) -> bool:
        """skl2onnx binary classifier: p = Sigmoid(z); Concat([1 - p, p], axis=1)."""
        if not self.layers or not isinstance(self.layers[-1], Activation) \
                or self.layers[-1].kind != "sigmoid" or not self.pending.empty:
            return False
        by_op = {n.op_type: n for n in nodes}
        sub, cat = by_op.get("Sub"), by_op.get("Concat")
        if sub is None or cat is None or list(sub.input) != [sub.input[0], cur]:
            return False
        one = self.const.get(sub.input[0])
        if one is None or one.size != 1 or float(one.reshape(())) != 1.0:
            return False
        if list(cat.input) != [sub.output[0], cur] or _attrs(cat).get("axis") not in (1, -1):
            return False
        rest = [n for n in self.consumers.get(cat.output[0], []) if n.op_type not in _POSTPROCESS]
        if rest:
            return False
        self.layers.pop()
        self.head, self.head_node = "sigmoid", cat
        return True

    def _step(self, node: onnx.NodeProto, cur: str) -> str:
        op, a = node.op_type, _attrs(node)
        ins = list(node.input)
        others = [i for i in ins if i and i != cur]
        if node.domain == "ai.onnx.ml" and node.op_type == "Scaler":
            self._scaler(node, a)  # skl2onnx's StandardScaler / MinMaxScaler
            return node.output[0]
        if node.domain not in ("", "ai.onnx"):
            raise _unsupported(node, "custom-domain ops have no known dense meaning")
        if any(i not in self.const for i in others) or ins.count(cur) > 1:
            raise _unsupported(node, f"it combines {cur!r} with a non-constant tensor "
                                     f"{[i for i in others if i not in self.const]!r}")
        out = node.output[0]
        if op == "Identity":
            return out
        if op == "Cast":
            if a.get("to") not in _FLOAT_TYPES:
                raise _unsupported(node, "it casts to a non-float type")
            return out
        if op == "Dropout":
            train = ins[2] if len(ins) > 2 and ins[2] else None
            if train is not None and bool(np.asarray(self.const[train]).reshape(())):
                raise _unsupported(node, "it runs in training mode")
            if any(o in self.consumers for o in node.output[1:] if o):
                raise _unsupported(node, "its mask output is used")
            return out
        if op in ("Flatten", "Reshape"):
            self._check_reshape(node, a, ins)
            return out
        if op in ("Softmax", "LogSoftmax"):
            self._check_head_free(node)
            if a.get("axis", -1) not in (-1, 1):
                raise _unsupported(node, f"axis={a['axis']!r}; only the last axis is a head")
            self._flush(node)
            self.head = "softmax" if op == "Softmax" else "log_softmax"
            self.head_node = node
            return out
        self._check_head_free(node)
        if op in _ACTIVATIONS:
            self._flush(node)
            alpha = float(a.get("alpha", 0.01)) if op == "LeakyRelu" else 0.01
            self.layers.append(Activation(_ACTIVATIONS[op], alpha, node.name))
            return out
        if op == "Gemm":
            self._gemm(node, a, ins, cur)
        elif op == "MatMul":
            if ins[0] != cur:
                raise _unsupported(node, "the data is its right operand")
            B = np.asarray(self.const[ins[1]], dtype=np.float64)
            if B.ndim != 2:
                raise _unsupported(node, f"its weight has shape {B.shape!r}, not 2-D")
            self._matrix(node, B.T, np.zeros(B.shape[1]))
        elif op in ("Add", "Sub", "Mul", "Div"):
            self._elementwise(node, op, ins, cur)
        elif op == "BatchNormalization":
            if a.get("training_mode", 0):
                raise _unsupported(node, "it runs in training mode")
            scale, bias, mean, var = (np.asarray(self.const[i], np.float64) for i in ins[1:5])
            self._set_width(node, scale.size)
            k = scale / np.sqrt(var + float(a.get("epsilon", 1e-5)))
            self.pending.elementwise(k, bias - mean * k, node.name)
        else:
            raise _unsupported(node, "this op is not part of a dense feed-forward network")
        return out

    def _scaler(self, node: onnx.NodeProto, a: dict) -> None:
        """``ai.onnx.ml.Scaler``: ``y = (x - offset) * scale``, per feature or one for all."""
        self._check_head_free(node)
        offset = np.asarray(a.get("offset", [0.0]), dtype=np.float64)
        scale = np.asarray(a.get("scale", [1.0]), dtype=np.float64)
        sizes = {v.size for v in (offset, scale)} - {1}
        if len(sizes) > 1:
            raise _unsupported(node, f"its offset ({offset.size}) and scale ({scale.size}) "
                                     "have different lengths")
        offset, scale = (self._vector(node, v) for v in (offset, scale))
        self.pending.elementwise(scale, -offset * scale, node.name)

    def _matrix(self, node: onnx.NodeProto, W: np.ndarray, b: np.ndarray) -> None:
        self._set_width(node, W.shape[1])
        self.pending.matrix(W, b, node.name)
        self.width = W.shape[0]

    def _gemm(self, node: onnx.NodeProto, a: dict, ins: list[str], cur: str) -> None:
        if a.get("transA", 0):
            raise _unsupported(node, f"transA={a['transA']!r}; only transA=0 is readable")
        if ins[0] != cur:
            raise _unsupported(node, "the data is not its first operand")
        B = np.asarray(self.const[ins[1]], dtype=np.float64)
        if B.ndim != 2:
            raise _unsupported(node, f"its weight has shape {B.shape!r}, not 2-D")
        W = float(a.get("alpha", 1.0)) * (B if a.get("transB", 0) else B.T)
        n_out = W.shape[0]
        b = np.zeros(n_out)
        if len(ins) > 2 and ins[2]:
            C = np.asarray(self.const[ins[2]], dtype=np.float64)
            if C.size not in (1, n_out) or (C.ndim == 2 and C.shape[0] != 1):
                raise _unsupported(node, f"its bias has shape {C.shape!r}, not ({n_out},)")
            b = float(a.get("beta", 1.0)) * np.broadcast_to(C.reshape(-1), (n_out,))
        self._matrix(node, W, b)

    def _elementwise(self, node: onnx.NodeProto, op: str, ins: list[str], cur: str) -> None:
        data_first = ins[0] == cur
        c = self._vector(node, self.const[ins[1] if data_first else ins[0]])
        if op == "Add":
            self.pending.elementwise(1.0, c, node.name)
        elif op == "Mul":
            self.pending.elementwise(c, 0.0, node.name)
        elif op == "Sub":
            scale = 1.0 if data_first else -1.0
            self.pending.elementwise(scale, -c if data_first else c, node.name)
        elif data_first:  # Div
            if np.any(c == 0):
                raise _unsupported(node, "it divides by a constant containing zero")
            self.pending.elementwise(1.0 / c, 0.0, node.name)
        else:
            raise _unsupported(node, "a constant divided by the data is not affine")

    def _check_reshape(self, node: onnx.NodeProto, a: dict, ins: list[str]) -> None:
        if node.op_type == "Flatten":
            if a.get("axis", 1) not in (1, -1):
                raise _unsupported(node, f"axis={a['axis']!r} changes the (batch, features) "
                                         "layout")
            return
        shape = [int(d) for d in np.asarray(self.const[ins[1]]).reshape(-1)]
        ok = len(shape) == 2 and shape[0] in (0, -1) and (
            shape[1] in (0, -1) or self.width in (None, shape[1]))
        if not ok:
            raise _unsupported(node, f"target shape {shape!r} does not keep (batch, features)")
        if shape[1] > 0:
            self.width = shape[1]


def read_dense(model: onnx.ModelProto) -> DenseIR:
    """Read a dense feed-forward ONNX network as layers.

    Parameters
    ----------
    model : onnx.ModelProto
        With external data already loaded (``onnx.load(path)`` does this).

    Returns
    -------
    DenseIR

    Raises
    ------
    UnsupportedModelError
        An op on the path from the input to the output is not a dense layer (Conv, LSTM, a
        custom op, a branch, ...); the message names the op type and node.
    ModelLoadError
        A weight lives in an external file that was not loaded.

    Examples
    --------
    >>> import numpy as np
    >>> from onnx import TensorProto, helper, numpy_helper
    >>> W = numpy_helper.from_array(np.array([[2.0, -1.0]], dtype=np.float32), "W")
    >>> g = helper.make_graph(
    ...     [helper.make_node("Gemm", ["x", "W"], ["z"], transB=1),
    ...      helper.make_node("Sigmoid", ["z"], ["p"])], "g",
    ...     [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2])],
    ...     [helper.make_tensor_value_info("p", TensorProto.FLOAT, ["N", 1])], [W])
    >>> ir = read_dense(helper.make_model(g))
    >>> ir.head, ir.n_inputs, ir.forward(np.array([[1.0, 1.0]])).tolist()
    ('sigmoid', 2, [[1.0]])
    """
    return _Reader(model).read()
