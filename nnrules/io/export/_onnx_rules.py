"""Decision lists (rule sets, boxes) in the ONNX export: every distinct comparison once,
bodies counted by a 0/1 ``MatMul``, the first body that holds chosen by ``ArgMax``.

Split out of :mod:`nnrules.io.export.onnx` (see its docstring for the semantics).
"""

from __future__ import annotations

import numpy as np

from nnrules.io.export._ir import AtLeast, Atom, LinearAtom, to_float32
from nnrules.io.export._onnx_graph import _col, _Graph, _ones

__all__: list[str] = []

_OP_NODE = {"<=": "LessOrEqual", "<": "Less", ">": "Greater", ">=": "GreaterOrEqual",
            "==": "Equal"}


def _atoms_matrix(g: _Graph, X: str, atoms: list[Atom],
                  where: dict[int, int] | None) -> tuple[str, list[int]]:
    """0/1 float32 matrix [N, len(atoms)] (columns grouped by operator) and each atom's column."""
    from onnx import TensorProto

    groups: dict[str, list[int]] = {}
    for i, a in enumerate(atoms):
        groups.setdefault(a.op, []).append(i)
    blocks, position, col = [], [0] * len(atoms), 0
    for op in sorted(groups):
        idx = groups[op]
        feats = g.const(np.array([_col(where, atoms[i].feature) for i in idx], np.int64))
        dtype = np.float64 if g.double else np.float32
        values = g.const(np.array([atoms[i].value for i in idx], dtype).reshape(1, -1))
        cols = g.op("Gather", [X, feats], axis=1)
        if op == "!=":
            test = g.op("Not", [g.op("Equal", [cols, values])])
        else:
            test = g.op(_OP_NODE[op], [cols, values])
        blocks.append(g.op("Cast", [test], to=TensorProto.FLOAT))
        for i in idx:
            position[i] = col
            col += 1
    return (blocks[0] if len(blocks) == 1 else g.op("Concat", blocks, axis=1)), position


def _linear_columns(g: _Graph, X: str, linears: list[LinearAtom],
                    where: dict[int, int] | None) -> str:
    """0/1 float32 matrix [N, len(linears)]: each oblique test, its sum formed in float64 left
    to right exactly as the surrogate forms it (float32 inputs widen exactly)."""
    from onnx import TensorProto

    Xd = g.op("Cast", [X], to=TensorProto.DOUBLE)
    cols = []
    for atom in linears:
        total = None
        for j, w in zip(atom.features, atom.weights):
            x = g.op("Gather", [Xd, g.const(np.array([_col(where, j)], np.int64))], axis=1)
            term = g.op("Mul", [g.const(np.array([[w]], np.float64)), x])
            total = term if total is None else g.op("Add", [total, term])
        test = g.op(_OP_NODE[atom.op], [total, g.const(np.array([[atom.value]], np.float64))])
        cols.append(g.op("Cast", [test], to=TensorProto.FLOAT))
    return cols[0] if len(cols) == 1 else g.op("Concat", cols, axis=1)


def _decision_index(g: _Graph, X: str, bodies: list[tuple],
                    where: dict[int, int] | None) -> str:
    """int64 [N]: the first body that holds (len(bodies) when none does)."""
    from onnx import TensorProto

    ones = _ones(g, X)
    # float32 inputs: thresholds rounded so that float32 comparisons stay exact; a float64
    # matrix compares the surrogate's own thresholds
    exact = (lambda a: a) if g.double else to_float32
    atoms: dict[Atom, int] = {}
    mofns: list[tuple[int, list[Atom]]] = []
    linears: dict[LinearAtom, int] = {}
    # Each body: (atoms that must hold, m-of-n indices, impossible?, linear indices)
    plan: list[tuple[list[Atom], list[int], bool, list[int]]] = []
    for body in bodies:
        plain, mine, impossible, lin = [], [], False, []
        for t in body:
            if isinstance(t, LinearAtom):
                lin.append(linears.setdefault(t, len(linears)))
                continue
            if isinstance(t, AtLeast):
                m, kept = t.m, []
                for a in t.atoms:
                    a32 = exact(a)
                    if a32 is True:
                        m -= 1
                    elif a32 is not False:
                        kept.append(a32)
                        atoms.setdefault(a32, len(atoms))
                if m <= 0:
                    continue
                if m > len(kept):
                    impossible = True
                    continue
                mine.append(len(mofns))
                mofns.append((m, kept))
                continue
            a32 = exact(t)
            if a32 is False:
                impossible = True
            elif a32 is not True:
                plain.append(a32)
                atoms.setdefault(a32, len(atoms))
        plan.append((plain, mine, impossible, lin))
    atom_list = sorted(atoms, key=atoms.get)
    if atom_list:
        A, pos = _atoms_matrix(g, X, atom_list, where)
        col = {a: pos[i] for i, a in enumerate(atom_list)}
    else:
        A, col = None, {}
    parts = [] if A is None else [A]
    n_cols = len(atom_list)
    mofn_col = {}
    if mofns:
        M = np.zeros((len(atom_list), len(mofns)), np.float32)
        need = np.zeros((1, len(mofns)), np.float32)
        for k, (m, kept) in enumerate(mofns):
            for a in kept:
                M[col[a], k] += 1.0  # conditions that round to one test count each
            need[0, k] = m
        counts = g.op("MatMul", [A, g.const(M)])
        held = g.op("Cast", [g.op("GreaterOrEqual", [counts, g.const(need)])],
                    to=TensorProto.FLOAT)
        parts.append(held)
        for k in range(len(mofns)):
            mofn_col[k] = n_cols + k
        n_cols += len(mofns)
    linear_col = {}
    if linears:
        parts.append(_linear_columns(g, X, sorted(linears, key=linears.get), where))
        for k in range(len(linears)):
            linear_col[k] = n_cols + k
        n_cols += len(linears)
    parts.append(ones)  # the always-true column: bodies without tests
    ones_col = n_cols
    n_cols += 1
    full = parts[0] if len(parts) == 1 else g.op("Concat", parts, axis=1)
    B = np.zeros((n_cols, len(bodies)), np.float32)
    need = np.zeros((1, len(bodies)), np.float32)
    for r, (plain, mine, impossible, lin) in enumerate(plan):
        for a in plain:
            B[col[a], r] = 1.0
        for k in mine:
            B[mofn_col[k], r] = 1.0
        for k in set(lin):
            B[linear_col[k], r] = 1.0
        B[ones_col, r] = 1.0
        need[0, r] = (len(set(plain)) + len(mine) + len(set(lin)) + 1
                      + (n_cols + 1 if impossible else 0))
    if bodies:
        hits = g.op("MatMul", [full, g.const(B)])
        holds = g.op("Cast", [g.op("GreaterOrEqual", [hits, g.const(need)])],
                     to=TensorProto.FLOAT)
        table = g.op("Concat", [holds, ones], axis=1)
    else:
        table = ones
    return g.op("ArgMax", [table], axis=1, keepdims=0, select_last_index=0)
