"""Pictures of an additive surrogate (the ``[plot]`` extra).

Two PNGs: ``importance.png``, every term ranked by its spread, and ``shapes.png``, the shape
functions of the terms that matter side by side (a curve, steps or bars over a grey histogram
of the extraction rows along the axis; a heat map for pair terms). Everything is drawn from the
surrogate alone (its terms keep the data's histograms), so a saved ``surrogate.json`` can be
plotted again without the data. ``nnrules extract --out DIR`` calls :func:`write_plots` through
``AdditiveSurrogate.write_artifacts``.

Cost: each figure is laid out once on a fixed grid (no ``tight_layout``, which draws a figure a
second time to measure it) and drawn once, by ``savefig``, on an Agg canvas without pyplot's
global state; the histogram shares the shape's axes (no twin axes). By default only the terms
that matter are drawn (see :func:`important_terms`); ``terms="all"`` (CLI ``--plots all``) draws
every one.
"""

from __future__ import annotations

import importlib
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from nnrules.exceptions import DataError, PlotsSkippedWarning

__all__ = ["MAX_TERMS", "SHARE", "effect_axis_label", "important_terms", "write_plots"]

MAX_TERMS = 8   # at most this many shape plots by default
SHARE = 0.8     # ... the fewest terms holding this share of the summed spread


class _Figures:
    """Figures on an Agg canvas without pyplot: nothing global to close."""

    def __init__(self) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self._figure, self._canvas = Figure, FigureCanvasAgg

    def figure(self, width: float, height: float, margins: dict):
        """A figure ``width`` x ``height`` inches; ``margins`` in inches (left, right, bottom,
        top) plus ``wspace`` / ``hspace`` as fractions of a panel."""
        fig = self._figure(figsize=(width, height), dpi=_DPI)
        self._canvas(fig)
        fig.subplots_adjust(left=margins["left"] / width, right=1 - margins["right"] / width,
                            bottom=margins["bottom"] / height, top=1 - margins["top"] / height,
                            wspace=margins.get("wspace", 0.2), hspace=margins.get("hspace", 0.2))
        return fig


def _pyplot(required: bool) -> Any:
    try:
        importlib.import_module("matplotlib")
        return _Figures()
    except ImportError as exc:
        if required:
            raise DataError(
                f"Plots need the optional package 'matplotlib', which is not installed ({exc}). "
                "Install it with: pip install nnrules[plot]") from None
        warnings.warn(PlotsSkippedWarning(
            "plots skipped: matplotlib is not installed; install the [plot] extra "
            "(pip install nnrules[plot]) for the shape-function and importance charts"),
            stacklevel=3)
        return None


def important_terms(surrogate, terms: Any = "important") -> list[int]:
    """Indices of the terms to draw, by falling spread (ties by position).

    ``"important"``: the fewest terms whose spreads add up to ``SHARE`` of the total, at most
    ``MAX_TERMS`` (at least one); ``"all"``: every term; an int ``n``: the top ``n``.
    """
    order = sorted(range(len(surrogate.terms)), key=lambda i: (-surrogate.terms[i].importance, i))
    if terms == "all":
        return order
    if isinstance(terms, int) and not isinstance(terms, bool) and terms >= 0:
        return order[:terms]
    if terms != "important":
        raise DataError(f"terms must be 'important', 'all' or a count >= 0; got {terms!r}.")
    spreads = np.array([surrogate.terms[i].importance for i in order], dtype=np.float64)
    total = float(spreads.sum())
    if not order or total <= 0.0:
        return order[:1]
    need = int(np.searchsorted(np.cumsum(spreads), SHARE * total - 1e-12 * total)) + 1
    return order[:max(1, min(need, MAX_TERMS))]


_DPI = 90
_PANEL = (4.2, 2.9)  # inches per shape panel
_COLUMNS = 3
_FONT = 7


def _file_name(i: int, name: str) -> str:
    """Kept for callers that name one file per term (``shape_NN_<name>.png``)."""
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


def _small(ax) -> None:
    ax.tick_params(labelsize=_FONT, length=2, pad=1)
    ax.locator_params(axis="y", nbins=4)


def _draw_main(ax, surrogate, term, title) -> None:
    axis = term.axes[0]
    X, x, ticks = _grid_rows(surrogate, axis)
    v = term.values(X)
    edges, counts = term.density[0] if term.density else ((), ())
    lo, hi = float(min(v.min(), 0.0)), float(max(v.max(), 0.0))
    span = (hi - lo) or 1.0
    if counts and max(counts) > 0:  # the rows' histogram, grey, in the lower third of the panel
        scale = 0.35 * span / max(counts)
        if axis.kind == "spline" and edges:
            ax.stairs(np.asarray(counts) * scale + lo, np.asarray(edges), baseline=lo,
                      fill=True, color="0.88", zorder=0)
        elif axis.kind != "spline":
            ax.bar(x, np.asarray(counts) * scale, bottom=lo, width=0.8, color="0.88", zorder=0)
    if axis.kind == "spline":
        for k, label in enumerate(_labels(surrogate)):
            ax.plot(x, v[:, k], lw=1.5, label=label)
        ax.set_xlabel(_feature_label(surrogate, axis.columns[0]), fontsize=_FONT, labelpad=1)
        ax.locator_params(axis="x", nbins=5)
    else:
        width = 0.8 / v.shape[1]
        for k, label in enumerate(_labels(surrogate)):
            ax.bar(x + (k - (v.shape[1] - 1) / 2) * width, v[:, k], width=width * 0.9,
                   label=label)
        ax.set_xticks(x)
        ax.set_xticklabels(ticks, rotation=30, ha="right", fontsize=_FONT - 1)
    ax.axhline(0.0, color="0.4", lw=0.6)
    ax.set_ylabel(effect_axis_label(surrogate), fontsize=_FONT - 1, labelpad=1)
    ax.set_title(f"h({title})  spread {term.importance:.3g}", fontsize=_FONT + 1, pad=3)
    if v.shape[1] > 1:
        ax.legend(fontsize=_FONT - 1, frameon=False)
    _small(ax)


def _draw_pair(fig, ax, surrogate, term, title) -> None:
    a1, a2 = term.axes
    X1, x1, t1 = _grid_rows(surrogate, a1, 60)
    X2, x2, t2 = _grid_rows(surrogate, a2, 60)
    rows = np.repeat(X1, len(X2), axis=0)
    other = np.tile(X2, (len(X1), 1))
    cols = list(a2.columns)
    rows[:, cols] = other[:, cols]
    v = term.values(rows)[:, -1].reshape(len(X1), len(X2))
    lim = float(np.max(np.abs(v))) or 1.0
    mesh = ax.pcolormesh(x2, x1, v, cmap="RdBu_r", vmin=-lim, vmax=lim, shading="nearest")
    bar = fig.colorbar(mesh, ax=ax, pad=0.02, fraction=0.08)
    bar.set_label(effect_axis_label(surrogate).replace("\n", "; "), fontsize=_FONT - 1)
    bar.ax.tick_params(labelsize=_FONT - 1, length=2)
    names = surrogate._names()
    ax.set_xlabel(names[a2.columns[0]] if a2.kind != "onehot" else "category",
                  fontsize=_FONT, labelpad=1)
    ax.set_ylabel(names[a1.columns[0]] if a1.kind != "onehot" else "category",
                  fontsize=_FONT, labelpad=1)
    if t2:
        ax.set_xticks(x2)
        ax.set_xticklabels(t2, rotation=30, ha="right", fontsize=_FONT - 1)
    if t1:
        ax.set_yticks(x1)
        ax.set_yticklabels(t1, fontsize=_FONT - 1)
    ax.set_title(f"h({title})  spread {term.importance:.3g}  ({_labels(surrogate)[-1]})",
                 fontsize=_FONT + 1, pad=3)
    _small(ax)


def _write_shapes(figures, surrogate, chosen: list[int], path) -> None:
    """The chosen terms' shape functions on one grid, in the order given."""
    names = surrogate.term_names()
    n = len(chosen)
    ncols = min(_COLUMNS, n)
    nrows = -(-n // ncols)
    width, height = _PANEL[0] * ncols, _PANEL[1] * nrows
    fig = figures.figure(width, height, {"left": 0.8, "right": 0.15, "bottom": 0.5,
                                         "top": 0.3, "wspace": 0.4, "hspace": 0.75})
    for k, i in enumerate(chosen):
        ax = fig.add_subplot(nrows, ncols, k + 1)
        term = surrogate.terms[i]
        if len(term.axes) == 1:
            _draw_main(ax, surrogate, term, names[i])
        else:
            _draw_pair(fig, ax, surrogate, term, names[i])
    fig.savefig(path)


def _write_importance(figures, surrogate, path) -> None:
    imp = surrogate.importances()
    names, values = list(imp)[::-1], list(imp.values())[::-1]
    longest = max((len(n) for n in names), default=4)
    left = min(3.0, 0.3 + 0.065 * longest)
    height = 0.8 + 0.2 * max(len(names), 1)
    fig = figures.figure(6.0, height, {"left": left, "right": 0.2, "bottom": 0.45, "top": 0.3})
    ax = fig.add_subplot(1, 1, 1)
    ax.barh(np.arange(len(names)), values, color="tab:blue")
    ax.set_yticks(np.arange(len(names)))
    ax.set_yticklabels(names, fontsize=_FONT)
    ax.set_xlabel("spread of the shape function (std on the extraction rows)", fontsize=_FONT)
    ax.set_title("Feature importance", fontsize=_FONT + 2, pad=3)
    ax.tick_params(axis="x", labelsize=_FONT)
    fig.savefig(path)


def write_plots(surrogate, folder, *, required: bool = False,
                terms: Any = "important") -> list[str]:
    """Write ``importance.png`` (every term) and ``shapes.png`` (the terms that matter).

    Parameters
    ----------
    surrogate : AdditiveSurrogate
    folder : str or path
    required : bool, default=False
        Raise ``DataError`` naming the ``[plot]`` extra when matplotlib is missing (else
        write nothing and warn with ``nnrules.exceptions.PlotsSkippedWarning``).
    terms : "important", "all" or int, default="important"
        Which shape functions ``shapes.png`` shows, by falling spread (see
        :func:`important_terms`); 0 leaves ``shapes.png`` out.

    Returns
    -------
    list of str
        The file names written.
    """
    chosen = important_terms(surrogate, terms)
    figures = _pyplot(required)
    if figures is None:
        return []
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _write_importance(figures, surrogate, folder / "importance.png")
    written = ["importance.png"]
    if chosen:
        _write_shapes(figures, surrogate, chosen, folder / "shapes.png")
        written.append("shapes.png")
    return written
