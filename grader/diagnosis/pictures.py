"""A picture of a failing case: expected, yours, and where they differ.

One (n, c) slice of a 4-D output (the one holding the largest difference), or a
whole 2-D one, drawn side by side: a border-only difference shows as a frame, a
shifted window as a stripe. The check cell shows it; the feedback page embeds
the same PNG. matplotlib is imported only when something is drawn.
"""

import base64
import io

import numpy as np


def first_difference(verdicts):
    """(verdict, part, expected, actual) of the first failing case with a same-shaped
    wrong array, preferring one whose picture is at least 3x3 (a 2x2 one shows no
    frame or stripe), or None."""
    drawable = [(v, *v.difference) for v in verdicts
                if not v.passed and getattr(v, "difference", None) is not None]
    roomy = [d for d in drawable if min(np.shape(d[2])[-2:]) >= 3]
    return (roomy or drawable or [None])[0]


def _slice(expected, actual):
    """The 2-D slice to draw and its label ('[n, c]' for 4-D arrays), or None."""
    e, a = np.asarray(expected, dtype=np.float64), np.asarray(actual, dtype=np.float64)
    if e.ndim == 2:
        return e, a, ""
    if e.ndim != 4 or 0 in e.shape:
        return None
    n, c = np.unravel_index(int(np.argmax(np.abs(a - e).sum(axis=(2, 3)))), e.shape[:2])
    return e[n, c], a[n, c], f"[{n}, {c}]"


def figure(case_label, part, expected, actual):
    """A matplotlib Figure (no pyplot state) with the three panels, or None when
    the part cannot be drawn (0-D, 1-D or empty)."""
    picked = _slice(expected, actual)
    if picked is None:
        return None
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    e, a, where = picked
    difference = a - e
    fig = Figure(figsize=(9, 3.1))
    # Fixed margins and few ticks: constrained layout and a tick per row doubled the
    # drawing time, and a class's feedback draws one picture per failing task.
    fig.subplots_adjust(left=0.06, right=0.97, bottom=0.17, top=0.80, wspace=0.45)
    axes = fig.subplots(1, 3)
    low, high = min(e.min(), a.min()), max(e.max(), a.max())
    span = float(np.abs(difference).max()) or 1.0
    panels = [(e, f"expected {part}{where}", "viridis", low, high),
              (a, f"yours {part}{where}", "viridis", low, high),
              (difference, "yours - expected", "RdBu_r", -span, span)]
    for ax, (values, title, cmap, vmin, vmax) in zip(axes, panels):
        image = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax)
        ax.set_title(title, fontsize=10, y=1.02)
        ax.set_xlabel("column (W axis)")
        ax.set_ylabel("row (H axis)")
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
        fig.colorbar(image, ax=ax, shrink=0.8)
    fig.suptitle(f"failing case {case_label}", fontsize=11)
    return fig


def png(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    buffer = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buffer)
    return buffer.getvalue()


def first_difference_png(verdicts):
    """PNG bytes of the first failing case's picture, or None."""
    found = first_difference(verdicts)
    if found is None:
        return None
    verdict, part, expected, actual = found
    fig = figure(f"{verdict.case.label}: {verdict.case.describe()}", part, expected, actual)
    return png(fig) if fig is not None else None


CAPTION = "A failing case: expected, yours, and where they differ."


def html_figure(verdicts, data=None):
    """html_img with its caption, as every feedback page shows it; '' when nothing is drawn."""
    image = html_img(verdicts, data)
    return f"<figure>{image}<figcaption>{CAPTION}</figcaption></figure>" if image else ""


def html_img(verdicts, data=None):
    """An <img> with the picture inlined as base64 (``data``: its PNG bytes, when already
    drawn), or '' when there is nothing to draw."""
    data = data or first_difference_png(verdicts)
    if data is None:
        return ""
    encoded = base64.b64encode(data).decode("ascii")
    return (f"<img alt='expected, yours and their difference for the first failing case' "
            f"src='data:image/png;base64,{encoded}' style='max-width:100%'>")


def _ipython_display():
    try:
        from IPython import get_ipython
        from IPython.display import Image, display
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel"):
        return None  # plain Python or a terminal: nothing can show a picture
    return lambda data: display(Image(data=data))


def show_first_difference(verdicts, display=None):
    """Show the picture in a notebook (``display`` receives PNG bytes); nothing when
    every case passed, no array can be drawn, or nothing can show it."""
    display = display or _ipython_display()
    if display is None:
        return False
    data = first_difference_png(verdicts)
    if data is None:
        return False
    display(data)
    return True
