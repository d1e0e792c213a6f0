"""Pictures of an additive surrogate (the ``[plot]`` extra).

One PNG per shape function (a curve, steps or bars, over a grey histogram of the extraction
rows along the axis; a heat map for pair terms) and one ranked importance chart. Everything
is drawn from the surrogate alone (its terms keep the data's histograms), so a saved
``surrogate.json`` can be plotted again without the data. ``nnrules extract --out DIR`` calls
:func:`write_plots` through ``AdditiveSurrogate.write_artifacts``.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import numpy as np

from nnrules.exceptions import DataError

__all__ = ["effect_axis_label", "write_plots"]


def _pyplot(required: bool) -> Any:
    try:
        matplotlib = importlib.import_module("matplotlib")
    except ImportError as exc:
        if required:
            raise DataError(
                f"Plots need the optional package 'matplotlib', which is not installed ({exc}). "
                "Install it with: pip install nnrules[plot]") from None
        return None
    matplotlib.use("Agg", force=True)
    return importlib.import_module("matplotlib.pyplot")


def _file_name(i: int, name: str) -> str:
    return f"shape_{i:02d}_{re.sub(r'[^0-9A-Za-z_]+', '_', name).strip('_') or 'term'}.png"


def _grid_rows(surrogate, axis, n: int = 300) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Rows that walk along one axis (others 0), their x positions and tick labels."""
    names = surrogate._names()
    if axis.kind == "spline":
        x = np.linspace(axis.edges[0], axis.edges[-1], n)
        X = np.zeros((n, surrogate.n_features))
        X[:, axis.columns[0]] = x
        return X, x, []
    m = axis.n_cells
    X = np.zeros((m, surrogate.n_features))
    if axis.kind == "onehot":
        for j, c in enumerate(axis.columns):
            X[j, c] = 1.0
        labels = [names[c] for c in axis.columns]
        schema = surrogate.schema
        if schema is not None:
            labels = [schema.value_label(c, schema.features[c].category)
                      if schema.features[c].category is not None else names[c]
                      for c in axis.columns]
        return X, np.arange(m, dtype=float), labels
    e = np.asarray(axis.edges)
    # A representative value per cell: the cuts' midpoints, one unit beyond at the ends.
    pts = np.r_[e[0] - 0.5, (e[:-1] + e[1:]) / 2, e[-1] + 0.5] if e.size else np.zeros(1)
    X[:, axis.columns[0]] = pts
    return X, np.arange(m, dtype=float), [axis.cell_text(j, names) for j in range(m)]


def effect_axis_label(surrogate) -> str:
    """The y-axis text of a shape plot: what a positive contribution favours."""
    if surrogate.output == "logit":
        first, second = surrogate.classes
        return f"contribution to the logit\n> 0 favours {second!r}, < 0 favours {first!r}"
    if surrogate.output == "logits":
        return "contribution to each class's score\n> 0 favours that class"
    return "contribution to the prediction\n> 0 raises it"


def _feature_label(surrogate, column: int) -> str:
    """x-axis text: the display name, with its unit when the schema's labels give one."""
    schema = surrogate.schema
    if schema is None or not getattr(schema, "labels", None):
        return surrogate._names()[column]
    unit = schema.unit(column)
    return schema.display_name(column) + (f" ({unit})" if unit else "")


def _labels(surrogate) -> list[str]:
    if surrogate.output == "logits":
        return [f"class {c}" for c in surrogate.classes]
    if surrogate.output == "logit":
        return [f"logit of {surrogate.classes[1]}"]
    return ["value"]


def _plot_main(plt, surrogate, term, title, path) -> None:
    axis = term.axes[0]
    X, x, ticks = _grid_rows(surrogate, axis)
    v = term.values(X)
    fig, ax = plt.subplots(figsize=(6.0, 3.6), dpi=100)
    dens = ax.twinx()
    edges, counts = term.density[0] if term.density else ((), ())
    if axis.kind == "spline":
        if edges:
            e = np.asarray(edges)
            dens.bar(e[:-1], counts, width=np.diff(e), align="edge", color="0.85", zorder=0)
        for k, label in enumerate(_labels(surrogate)):
            ax.plot(x, v[:, k], lw=2, label=label)
        ax.set_xlabel(_feature_label(surrogate, axis.columns[0]))
    else:
        if counts:
            dens.bar(x, counts, width=0.8, color="0.85", zorder=0)
        width = 0.8 / v.shape[1]
        for k, label in enumerate(_labels(surrogate)):
            ax.bar(x + (k - (v.shape[1] - 1) / 2) * width, v[:, k], width=width * 0.9,
                   label=label)
        ax.set_xticks(x)
        ax.set_xticklabels(ticks, rotation=30, ha="right", fontsize=7)
    dens.set_ylabel("rows", color="0.5")
    dens.tick_params(axis="y", colors="0.5")
    ax.set_zorder(dens.get_zorder() + 1)
    ax.patch.set_visible(False)
    ax.axhline(0.0, color="0.4", lw=0.8)
    ax.set_ylabel(effect_axis_label(surrogate), fontsize=8)
    ax.set_title(f"h({title})  spread {term.importance:.3g}")
    if v.shape[1] > 1:
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _plot_pair(plt, surrogate, term, title, path) -> None:
    a1, a2 = term.axes
    X1, x1, t1 = _grid_rows(surrogate, a1, 80)
    X2, x2, t2 = _grid_rows(surrogate, a2, 80)
    rows = np.repeat(X1, len(X2), axis=0)
    other = np.tile(X2, (len(X1), 1))
    cols = list(a2.columns)
    rows[:, cols] = other[:, cols]
    v = term.values(rows)[:, -1].reshape(len(X1), len(X2))
    fig, ax = plt.subplots(figsize=(5.2, 4.2), dpi=100)
    lim = float(np.max(np.abs(v))) or 1.0
    mesh = ax.pcolormesh(x2, x1, v, cmap="RdBu_r", vmin=-lim, vmax=lim, shading="nearest")
    fig.colorbar(mesh, ax=ax, label=effect_axis_label(surrogate).replace("\n", "; "))
    names = surrogate._names()
    ax.set_xlabel(names[a2.columns[0]] if a2.kind != "onehot" else "category")
    ax.set_ylabel(names[a1.columns[0]] if a1.kind != "onehot" else "category")
    if t2:
        ax.set_xticks(x2)
        ax.set_xticklabels(t2, rotation=30, ha="right", fontsize=7)
    if t1:
        ax.set_yticks(x1)
        ax.set_yticklabels(t1, fontsize=7)
    ax.set_title(f"h({title})  spread {term.importance:.3g}")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _plot_importance(plt, surrogate, path) -> None:
    imp = surrogate.importances()
    names, values = list(imp)[::-1], list(imp.values())[::-1]
    fig, ax = plt.subplots(figsize=(6.0, 0.6 + 0.28 * max(len(names), 1)), dpi=100)
    ax.barh(np.arange(len(names)), values, color="tab:blue")
    ax.set_yticks(np.arange(len(names)))
    ax.set_yticklabels(names, fontsize=8)
    ax.set_xlabel("spread of the shape function (std on the extraction rows)")
    ax.set_title("Feature importance")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_plots(surrogate, folder, *, required: bool = False) -> list[str]:
    """Write ``importance.png`` and one ``shape_NN_<name>.png`` per term into ``folder``.

    Parameters
    ----------
    surrogate : AdditiveSurrogate
    folder : str or path
    required : bool, default=False
        Raise ``DataError`` naming the ``[plot]`` extra when matplotlib is missing (else
        write nothing).

    Returns
    -------
    list of str
        The file names written, importance chart first, then terms by falling spread.
    """
    plt = _pyplot(required)
    if plt is None:
        return []
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = ["importance.png"]
    _plot_importance(plt, surrogate, folder / "importance.png")
    names = surrogate.term_names()
    order = sorted(range(len(surrogate.terms)), key=lambda i: (-surrogate.terms[i].importance, i))
    for rank, i in enumerate(order):
        term = surrogate.terms[i]
        name = _file_name(rank, names[i])
        draw = _plot_main if len(term.axes) == 1 else _plot_pair
        draw(plt, surrogate, term, names[i], folder / name)
        written.append(name)
    return written
