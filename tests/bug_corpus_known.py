"""Known mistakes (grader.diagnosis.mistakes.CATALOG) written the way students write
them, for the tests that a task's feedback points one way (grader.diagnosis.pointers).

A loop over output rows or columns that stops one early cannot be told from other
bugs on a 1x1 output (every value stays 0), which public cases and the pool ladder's
simplest probe have: the case lines name it where they can, and nothing may point
elsewhere. Not in tests.bug_corpus, whose bugs are the ones the checks were not
written for.
"""

from functools import partial

import numpy as np

from .bug_corpus import Bug


def _conv_forward(x, w, b, conv_param, edge):
    s, p = conv_param["stride"], conv_param["pad"]
    d = conv_param.get("dilation", 1)
    f_, _, hh, ww = w.shape
    span_h, span_w = d * (hh - 1) + 1, d * (ww - 1) + 1
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    h_out, w_out = 1 + (xp.shape[2] - span_h) // s, 1 + (xp.shape[3] - span_w) // s
    out = np.zeros((x.shape[0], f_, h_out, w_out))
    for i in range(h_out - 1 if edge == "row" else h_out):
        for j in range(w_out - 1 if edge == "column" else w_out):
            taps = xp[:, :, i * s:i * s + span_h:d, j * s:j * s + span_w:d]
            out[:, :, i, j] = np.einsum("nchw,fchw->nf", taps, w) + b
    return out, (x, w, b, conv_param)


def _pool_forward(x, pool_param, edge, kind):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    h_out, w_out = 1 + (x.shape[2] - ph) // s, 1 + (x.shape[3] - pw) // s
    out = np.zeros((*x.shape[:2], h_out, w_out))
    for i in range(h_out - 1 if edge == "row" else h_out):
        for j in range(w_out - 1 if edge == "column" else w_out):
            window = x[:, :, i * s:i * s + ph, j * s:j * s + pw]
            out[:, :, i, j] = window.max(axis=(2, 3)) if kind == "max" else window.mean(axis=(2, 3))
    return out, (x, pool_param)


def _stopping_early(edge):
    name = f"{edge}_loop_stops_early"
    return [Bug("conv_forward", name, ("loop_bounds",), partial(_conv_forward, edge=edge)),
            Bug("conv_forward_dilated", name, ("loop_bounds",), partial(_conv_forward, edge=edge)),
            Bug("max_pool_forward", name, ("loop_bounds",), partial(_pool_forward, edge=edge, kind="max")),
            Bug("avg_pool_forward", name, ("loop_bounds",), partial(_pool_forward, edge=edge, kind="avg"))]


KNOWN = _stopping_early("row") + _stopping_early("column")
