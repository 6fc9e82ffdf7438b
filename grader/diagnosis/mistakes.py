"""Known mistakes, as deliberately wrong variants of the reference.

When a student's output is wrong, the judge compares it with each variant; a
match names the mistake in the feedback. A variant maps the part of the output
it explains ("out", "dx", "dw", "db") to a predicate on the student's array.
"""

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from conv_lib import (
    avg_pool_backward_fast,
    avg_pool_forward_fast,
    conv_backward_fast,
    conv_forward_fast,
    max_pool_forward_fast,
)

from . import reference

TOLERANCE = 1e-7


def close(actual, expected):
    if not isinstance(actual, np.ndarray) or actual.shape != np.shape(expected):
        return False
    with np.errstate(all="ignore"):  # NaN or inf in an answer: simply not close
        return reference.rel_error(actual, expected) < TOLERANCE


@dataclass
class Mistake:
    name: str
    hint: str
    # (case) -> {part: predicate(actual array) -> bool}; {} when it cannot apply
    explains: Callable
    # the probe ladders' word (a Rung.aspect in grader.diagnosis.ladders) for the code the
    # mistake is in, so a ladder's finding can be checked against it
    aspect: str = field(kw_only=True)

    @property
    def line(self):
        """The sentence the feedback names it with."""
        return f"likely mistake: {self.name}. Fix: {self.hint}"


def _equals(part, expected_fn):
    """A mistake recognised by its exact wrong values."""

    def explains(case):
        try:
            expected = expected_fn(case)
        except (ValueError, ZeroDivisionError):  # the variant has no valid geometry here
            return {}
        return {part: lambda actual: close(actual, expected)} if expected is not None else {}

    return explains


def _conv(case, w=None, **changes):
    i = case.inputs
    return conv_forward_fast(i["x"], i["w"] if w is None else w, i["b"], {**i["conv_param"], **changes})


def _ceil_size(size, field, stride, pad):
    return 1 + -(-(size + 2 * pad - field) // stride)


def _rounded_up(part, field_of, stride_of, pad_of, expected_fn):
    """The output got one row/column too many (ceil instead of floor) but is
    right where it overlaps the true output."""

    def explains(case):
        x = case.inputs["x"]
        fh, fw = field_of(case)
        stride, pad = stride_of(case), pad_of(case)
        shape = x.shape[:1] + expected_fn(case).shape[1:2] + (
            _ceil_size(x.shape[2], fh, stride, pad),
            _ceil_size(x.shape[3], fw, stride, pad),
        )
        expected = expected_fn(case)
        if shape == expected.shape:
            return {}
        h, w = expected.shape[2:]
        return {
            part: lambda a: isinstance(a, np.ndarray)
            and a.shape == shape
            and close(np.asarray(a)[:, :, :h, :w], expected)
        }

    return explains


# ---------------------------------------------------------------- conv forward


def _conv_field(case):
    return case.inputs["w"].shape[2:]


def _conv_stride(case):
    return case.inputs["conv_param"]["stride"]


def _conv_pad(case):
    return case.inputs["conv_param"]["pad"]


def _flipped(case):
    return _conv(case, w=case.inputs["w"][:, :, ::-1, ::-1].copy())[0]


def _no_bias(case):
    return reference.output("conv_forward", case) - case.inputs["b"][None, :, None, None]


def _stride_one_windows(case):
    right = reference.output("conv_forward", case)
    return _conv(case, stride=1)[0][:, :, :right.shape[2], :right.shape[3]]


def _only_if(condition, variant):
    return lambda case: variant(case) if condition(case) else None


CONV_FORWARD = [
    Mistake(
        "kernel flipped",
        "you computed a true convolution; a conv layer uses cross-correlation: "
        "multiply w[f, c, p, q] with the pixel at offset (p, q) of the window, without flipping w",
        _equals("out", _flipped),
        aspect="kernel",
    ),
    Mistake(
        "bias missing",
        "add b[f] to every output of filter f",
        _equals("out", _no_bias),
        aspect="bias",
    ),
    Mistake(
        "stride ignored",
        "move the window by `stride` pixels: it starts at row i * stride, column j * stride",
        _equals("out", _only_if(lambda c: _conv_stride(c) != 1, lambda c: _conv(c, stride=1)[0])),
        aspect="stride",
    ),
    Mistake(  # the right output size, but every window read at stride 1
        "stride ignored",
        "window (i, j) starts at row i * stride and column j * stride, not at (i, j)",
        _equals("out", _only_if(lambda c: _conv_stride(c) != 1, _stride_one_windows)),
        aspect="stride",
    ),
    Mistake(
        "padding missing",
        "pad x with `pad` zeros on every side first (np.pad), and size the output with it",
        _equals("out", _only_if(lambda c: _conv_pad(c) > 0, lambda c: _conv(c, pad=0)[0])),
        aspect="pad",
    ),
    Mistake(
        "padding on the height axis only",
        "np.pad needs ((0, 0), (0, 0), (pad, pad), (pad, pad)): both H and W get padded",
        _equals("out", _only_if(lambda c: _conv_pad(c) > 0, lambda c: _conv(c, pad=(_conv_pad(c), 0))[0])),
        aspect="pad",
    ),
    Mistake(
        "padding on the width axis only",
        "np.pad needs ((0, 0), (0, 0), (pad, pad), (pad, pad)): both H and W get padded",
        _equals("out", _only_if(lambda c: _conv_pad(c) > 0, lambda c: _conv(c, pad=(0, _conv_pad(c)))[0])),
        aspect="pad",
    ),
    Mistake(
        "output size rounded up",
        "H' = 1 + (H + 2 * pad - HH) // stride: floor division drops windows that "
        "would hang over the edge",
        _rounded_up("out", _conv_field, _conv_stride, _conv_pad,
                    lambda c: reference.output("conv_forward", c)),
        aspect="output_size",
    ),
]


# -------------------------------------------------------- dilated conv forward


def _dilation(case):
    return case.inputs["conv_param"]["dilation"]


def _dilated_span(case):
    """(HH_eff, WW_eff): the pixels a dilated kernel spans, d * (HH - 1) + 1."""
    d = _dilation(case)
    return tuple(d * (k - 1) + 1 for k in case.inputs["w"].shape[2:])


def _top_left_of(full_fn, sizes_fn=None, windows_at_least=0):
    """A mistake whose output is the top-left corner of ``full_fn(case)``, at the
    student's own output size (one of ``sizes_fn(case)`` when given): loops that read
    the wrong pixels, or size the output wrongly, but are right about everything else.
    ``windows_at_least``: fewer output values cannot tell this mistake from another."""

    def explains(case):
        full = full_fn(case)
        if full is None:
            return {}
        sizes = sizes_fn(case) if sizes_fn else None

        def predicate(actual):
            if not isinstance(actual, np.ndarray) or actual.ndim != 4 \
                    or actual.shape[:2] != full.shape[:2]:
                return False
            h, w = actual.shape[2:]
            if (sizes is not None and (h, w) not in sizes) or h * w < windows_at_least:
                return False
            if actual.size == 0:  # nothing to compare: only a wrong size formula says this much
                return sizes is not None
            return h <= full.shape[2] and w <= full.shape[3] and close(actual, full[:, :, :h, :w])

        return {"out": predicate}

    return explains


def _sizes_with_span_dilation_times_k(case):
    """Output sizes from a span of d * HH (or d * HH + 1) instead of d * (HH - 1) + 1."""
    x, (hh, ww) = case.inputs["x"], case.inputs["w"].shape[2:]
    d, stride, pad = _dilation(case), _conv_stride(case), _conv_pad(case)
    right = tuple(1 + (n + 2 * pad - span) // stride
                  for n, span in zip(x.shape[2:], _dilated_span(case)))
    wrong = {tuple(1 + (n + 2 * pad - (d * k + extra)) // stride
                   for n, k in zip(x.shape[2:], (hh, ww)))
             for extra in (0, 1)}
    return wrong - {right}


def _dilated(case):
    return _dilation(case) > 1


CONV_FORWARD_DILATED = [m for m in CONV_FORWARD if m.name != "output size rounded up"] + [
    Mistake(
        "dilation applied to the window start instead of to the taps",
        "the windows still move by `stride`: window (i, j) starts at row i * stride; the "
        "dilation spaces the taps inside it, which sit at rows i * stride + p * dilation "
        "(p = 0 .. HH - 1), e.g. x_pad[n, :, top:top + HH_eff:dilation, ...]",
        # one window reads the same pixels as with the dilation ignored (next entry)
        _top_left_of(_only_if(_dilated, lambda c: _conv(
            c, stride=_conv_stride(c) * _dilation(c), dilation=1)[0]), windows_at_least=2),
        aspect="dilation",
    ),
    Mistake(
        "dilation ignored: the taps are read next to each other",
        "tap (p, q) of window (i, j) is the pixel at row i * stride + p * dilation, "
        "column j * stride + q * dilation: `dilation - 1` pixels are skipped between taps",
        _top_left_of(_only_if(_dilated, lambda c: _conv(c, dilation=1)[0])),
        aspect="dilation",
    ),
    Mistake(
        "effective kernel size without the - 1",
        "HH taps with `dilation - 1` pixels between them span dilation * (HH - 1) + 1 pixels "
        "(HH - 1 gaps, plus the first tap), so H' = 1 + (H + 2 * pad - "
        "(dilation * (HH - 1) + 1)) // stride",
        _top_left_of(lambda c: reference.output("conv_forward_dilated", c),
                     _sizes_with_span_dilation_times_k),
        aspect="output_size",
    ),
    Mistake(
        "output size rounded up",
        "H' = 1 + (H + 2 * pad - HH_eff) // stride with HH_eff = dilation * (HH - 1) + 1: "
        "floor division drops windows that would hang over the edge",
        _rounded_up("out", _dilated_span, _conv_stride, _conv_pad,
                    lambda c: reference.output("conv_forward_dilated", c)),
        aspect="output_size",
    ),
]


# --------------------------------------------------------------- conv backward


def _conv_backward_overwrite(case, part):
    """cs231n's loop order, with `=` where `+=` belongs."""
    i = case.inputs
    x, w, dout = i["x"], i["w"], i["dout"]
    stride, pad = _conv_stride(case), _conv_pad(case)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    hh, ww = w.shape[2:]
    for n in range(x.shape[0]):
        for f in range(w.shape[0]):
            for r in range(dout.shape[2]):
                for c in range(dout.shape[3]):
                    rows, cols = slice(r * stride, r * stride + hh), slice(c * stride, c * stride + ww)
                    dxp[n, :, rows, cols] = w[f] * dout[n, f, r, c]
                    dw[f] = xp[n, :, rows, cols] * dout[n, f, r, c]
    dx = dxp[:, :, pad : pad + x.shape[2], pad : pad + x.shape[3]]
    return dx if part == "dx" else dw


def _not_cropped(case):
    i = case.inputs
    pad = _conv_pad(case)
    if pad == 0:
        return {}
    dx = reference.output("conv_backward", case)[0]
    h, w = i["x"].shape[2:]

    def explains(actual):
        return (
            isinstance(actual, np.ndarray)
            and actual.shape == i["x"].shape[:2] + (h + 2 * pad, w + 2 * pad)
            and close(actual[:, :, pad : pad + h, pad : pad + w], dx)
        )

    return {"dx": explains}


def _db_wrong_axes(case):
    dout = case.inputs["dout"]
    # any other set of axes (the filter axis 1 summed away too, one spatial axis kept, ...)
    axes = [a for k in range(1, 5) for a in itertools.combinations(range(4), k) if a != (0, 2, 3)]
    wrong = [dout.sum(axis=a) for a in axes]
    return {"db": lambda actual: any(close(np.asarray(actual), v) for v in wrong)}


def _db_mean(case):
    return {"db": lambda actual: close(np.asarray(actual), case.inputs["dout"].mean(axis=(0, 2, 3)))}


def _flipped_dx(case):
    i = case.inputs
    _, cache = _conv(case, w=i["w"][:, :, ::-1, ::-1].copy())
    return conv_backward_fast(i["dout"], cache)[0]


CONV_BACKWARD = [
    Mistake(
        "gradient overwritten instead of accumulated (dx)",
        "several outputs (every filter f, and overlapping windows) send gradient to the same "
        "pixel: add with += into dx instead of assigning",
        _equals("dx", lambda c: _conv_backward_overwrite(c, "dx")),
        aspect="accumulate",
    ),
    Mistake(
        "gradient overwritten instead of accumulated (dw)",
        "every output position and every image contributes to dw[f]: use += and sum them all",
        _equals("dw", lambda c: _conv_backward_overwrite(c, "dw")),
        aspect="accumulate",
    ),
    Mistake(
        "dx not cropped back from the padded input",
        "compute the gradient on the padded input, then return "
        "dx_pad[:, :, pad:pad + H, pad:pad + W] so dx has x's shape",
        _not_cropped,
        aspect="pad",
    ),
    Mistake(
        "db summed over the wrong axes",
        "b[f] is added to every output of filter f, in every image: "
        "db = dout.sum(axis=(0, 2, 3)), shape (F,)",
        _db_wrong_axes,
        aspect="bias",
    ),
    Mistake(
        "db is the mean of dout, not its sum",
        "b[f] is added to every output of filter f, in every image, with derivative 1: "
        "db = dout.sum(axis=(0, 2, 3)), not dout.mean(...)",
        _db_mean,
        aspect="bias",
    ),
    Mistake(
        "kernel flipped in dx",
        "the forward pass multiplies w[f, c, p, q] with x_pad[n, c, i * stride + p, "
        "j * stride + q]; the backward pass sends dout back along the same, unflipped, taps: "
        "dx_pad[n, c, i * stride + p, j * stride + q] += w[f, c, p, q] * dout[n, f, i, j]",
        _equals("dx", _flipped_dx),
        aspect="kernel",
    ),
]


# ------------------------------------------------------- conv backward, im2col


def _dcols(case):
    """W_row.T @ dout per image: the column gradient before col2im adds it up."""
    i = case.inputs
    n, f = i["dout"].shape[:2]
    return i["w"].reshape(f, -1).T @ i["dout"].reshape(n, f, -1)


def _dw_unflattened_wrongly(case):
    """dw_row (F, K) read back with the taps in another order than (c, p, q)."""
    dw = reference.output("conv_backward_im2col", case)[1]
    f, c, hh, ww = dw.shape
    rows = dw.reshape(f, -1)
    wrong = [rows.reshape(f, hh, ww, c).transpose(0, 3, 1, 2),  # channels last
             rows.reshape(f, c, ww, hh).transpose(0, 1, 3, 2),  # kernel transposed
             rows.T.reshape(dw.shape)]  # dw_row built as (K, F): cols @ dout.T
    wrong = [v for v in wrong if not np.allclose(v, dw)]
    return {"dw": lambda actual: any(close(actual, v) for v in wrong)} if wrong else {}


CONV_BACKWARD_IM2COL = CONV_BACKWARD[2:] + [
    Mistake(
        "col2im forgotten: dx is the column gradient dcols",
        "dcols (N, C * HH * WW, H' * W') has one entry per copy of a pixel; add the copies "
        "back onto x's pixels with dx = col2im(dcols, x.shape, HH, WW, stride=stride, pad=pad)",
        _equals("dx", _dcols),
        aspect="col2im",
    ),
    Mistake(
        "dw reshaped back in the wrong tap order",
        "the columns of dw_row (F, C * HH * WW) are im2col's rows, taps in the order (c, p, q), "
        "the order w.reshape(F, -1) flattened them in: dw = dw_row.reshape(w.shape)",
        _dw_unflattened_wrongly,
        aspect="channels",
    ),
]


# --------------------------------------------------------------------- pooling


def _pool_field(case):
    p = case.inputs["pool_param"]
    return p["pool_height"], p["pool_width"]


def _pool_stride(case):
    return case.inputs["pool_param"]["stride"]


def _pool_windows(case):
    """Yield (n-agnostic) window slices in cs231n's loop order."""
    ph, pw = _pool_field(case)
    s = _pool_stride(case)
    dout = case.inputs["dout"]
    for r in range(dout.shape[2]):
        for c in range(dout.shape[3]):
            yield r, c, slice(r * s, r * s + ph), slice(c * s, c * s + pw)


def _max_backward_variant(case, style):
    x, dout = case.inputs["x"], case.inputs["dout"]
    ph, pw = _pool_field(case)
    dx = np.zeros_like(x)
    for r, c, rows, cols in _pool_windows(case):
        window = x[:, :, rows, cols]
        g = dout[:, :, r, c][:, :, None, None]
        is_max = window == window.max(axis=(2, 3), keepdims=True)
        if style == "spread":
            dx[:, :, rows, cols] += g
        elif style == "spread_mean":
            dx[:, :, rows, cols] += g / (ph * pw)
        elif style == "window_overwritten":
            dx[:, :, rows, cols] = is_max * g
        elif style == "max_overwritten":
            np.copyto(dx[:, :, rows, cols], np.broadcast_to(g, is_max.shape), where=is_max)
    return dx


def _avg_backward_variant(case, style):
    x, dout = case.inputs["x"], case.inputs["dout"]
    ph, pw = _pool_field(case)
    if style == "undivided":
        return avg_pool_backward_fast(dout, avg_pool_forward_fast(x, case.inputs["pool_param"])[1]) * (ph * pw)
    dx = np.zeros_like(x)
    for r, c, rows, cols in _pool_windows(case):
        dx[:, :, rows, cols] = dout[:, :, r, c][:, :, None, None] / (ph * pw)
    return dx


def _overlapping(case):
    ph, pw = _pool_field(case)
    return _pool_stride(case) < max(ph, pw)


def _pool_forward_mistakes(task, forward):
    return [
        Mistake(
            "stride ignored",
            "window (i, j) starts at row i * stride and column j * stride",
            _equals("out", _only_if(
                lambda c: _pool_stride(c) != 1,
                lambda c: forward(c.inputs["x"], {**c.inputs["pool_param"], "stride": 1})[0],
            )),
            aspect="stride",
        ),
        Mistake(
            "output size rounded up",
            "H' = 1 + (H - pool_height) // stride: floor division drops windows that "
            "would hang over the edge",
            _rounded_up("out", _pool_field, _pool_stride, lambda c: 0,
                        lambda c: reference.output(task, c)),
            aspect="output_size",
        ),
    ]


MAX_POOL_FORWARD = _pool_forward_mistakes("max_pool_forward", max_pool_forward_fast)
AVG_POOL_FORWARD = _pool_forward_mistakes("avg_pool_forward", avg_pool_forward_fast) + [
    Mistake(
        "sum instead of mean",
        "divide each window's sum by pool_height * pool_width",
        _equals("out", lambda c: reference.output("avg_pool_forward", c) * np.prod(_pool_field(c))),
        aspect="divisor",
    ),
]

MAX_POOL_BACKWARD = [
    Mistake(
        "max-pool gradient spread over the window",
        "only the window's maximum affects the output, so only it gets dout; "
        "the other pixels of the window get 0",
        _equals("dx", lambda c: _max_backward_variant(c, "spread")),
        aspect="argmax",
    ),
    Mistake(
        "max-pool gradient averaged over the window",
        "that is average pooling's gradient; in max pooling only the maximum gets dout",
        _equals("dx", lambda c: _max_backward_variant(c, "spread_mean")),
        aspect="argmax",
    ),
    Mistake(
        "max-pool gradient overwritten where windows overlap",
        "when windows overlap, one pixel can be the maximum of several windows: "
        "add (+=) each window's gradient instead of assigning it",
        _equals("dx", _only_if(_overlapping, lambda c: _max_backward_variant(c, "window_overwritten"))),
        aspect="overlap",
    ),
    Mistake(
        "max-pool gradient overwritten where windows overlap",
        "when windows overlap, one pixel can be the maximum of several windows: "
        "add (+=) each window's gradient instead of assigning it",
        _equals("dx", _only_if(_overlapping, lambda c: _max_backward_variant(c, "max_overwritten"))),
        aspect="overlap",
    ),
]

AVG_POOL_BACKWARD = [
    Mistake(
        "average-pool gradient not divided by the window size",
        "each output is the mean of pool_height * pool_width pixels, so each pixel "
        "gets dout / (pool_height * pool_width)",
        _equals("dx", lambda c: _avg_backward_variant(c, "undivided")),
        aspect="divisor",
    ),
    Mistake(
        "average-pool gradient overwritten where windows overlap",
        "when windows overlap, a pixel belongs to several windows: add (+=) their gradients",
        _equals("dx", _only_if(_overlapping, lambda c: _avg_backward_variant(c, "overwritten"))),
        aspect="overlap",
    ),
]

def _reg_penalty(case):
    spec = case.inputs["model"]
    return 0.5 * spec["reg"] * sum(np.sum(spec["params"][k] ** 2) for k in ("W1", "W2", "W3"))


def _with_labels_and_reg(case):
    return case.inputs.get("y") is not None and case.inputs["model"]["reg"] > 0


def _reg_variant(loss_change, grad_change):
    """A wrong regularisation: the loss shifted by loss_change x the penalty, and each
    weight gradient by grad_change x reg x W."""

    def explains(case):
        if not _with_labels_and_reg(case):
            return {}
        loss, grads = reference.output("convnet_loss", case)
        spec = case.inputs["model"]
        found = {}
        if loss_change:
            wrong_loss = loss + loss_change * _reg_penalty(case)
            found["loss"] = lambda a: close(np.asarray(a, dtype=np.float64), np.asarray(wrong_loss))
        if grad_change:
            for k in ("W1", "W2", "W3"):
                wrong = grads[k] + grad_change * spec["reg"] * spec["params"][k]
                found[f"grads[{k!r}]"] = lambda a, wrong=wrong: close(a, wrong)
        return found

    return explains


CONVNET_LOSS = [
    Mistake("regularisation missing from the loss",
            "add 0.5 * reg * (sum(W1**2) + sum(W2**2) + sum(W3**2)) to the data loss",
            _reg_variant(-1, 0), aspect="reg"),
    Mistake("regularisation missing from the gradients",
            "the penalty 0.5 * reg * sum(W**2) adds reg * W to each weight's gradient",
            _reg_variant(0, -1), aspect="reg"),
    Mistake("regularisation without the factor 0.5",
            "use 0.5 * reg * sum(W**2), whose gradient is exactly reg * W",
            _reg_variant(1, 1), aspect="reg"),
]

def _last_left_at_zero(task, axis):
    """The output with its last row (axis -2) or column (axis -1) still 0."""

    def variant(case):
        out = np.array(reference.output(task, case), dtype=np.float64)
        if out.shape[axis] < 2:  # a single row: nothing to tell it from
            return None
        out[(Ellipsis, -1, slice(None)) if axis == -2 else (Ellipsis, -1)] = 0
        return out

    return _equals("out", variant)


def _loop_stops_early(task):
    """A loop over output rows or columns that ends one early leaves the last one at 0."""
    return [
        Mistake("the last row of out is never computed",
                "the loop over output rows must visit every i in range(H_out); one that stops "
                "early (range(H_out - 1), or a size one too small) leaves the last row at 0",
                _last_left_at_zero(task, -2), aspect="loop_bounds"),
        Mistake("the last column of out is never computed",
                "the loop over output columns must visit every j in range(W_out); one that "
                "stops early (range(W_out - 1), or a size one too small) leaves the last "
                "column at 0",
                _last_left_at_zero(task, -1), aspect="loop_bounds"),
    ]


CATALOG = {
    "conv_forward": CONV_FORWARD + _loop_stops_early("conv_forward"),
    "conv_forward_im2col": CONV_FORWARD,
    "conv_forward_dilated": CONV_FORWARD_DILATED + _loop_stops_early("conv_forward_dilated"),
    "conv_backward": CONV_BACKWARD,
    "conv_backward_im2col": CONV_BACKWARD_IM2COL,
    "max_pool_forward": MAX_POOL_FORWARD + _loop_stops_early("max_pool_forward"),
    "max_pool_backward": MAX_POOL_BACKWARD,
    "avg_pool_forward": AVG_POOL_FORWARD + _loop_stops_early("avg_pool_forward"),
    "avg_pool_backward": AVG_POOL_BACKWARD,
    "convnet_loss": CONVNET_LOSS,
}


def diagnose(task, case, part, actual):
    """The known mistakes that explain a wrong ``part`` of the output."""
    found = []
    for mistake in CATALOG.get(task, []):
        try:
            predicate = mistake.explains(case).get(part)
            if predicate is not None and predicate(actual) and mistake not in found:
                found.append(mistake)
        except Exception:  # a variant that does not fit this case explains nothing
            continue
    return found


# --------------------------------------------- notebook 6: normalisation (issue 25)


def _normalised(x, axes, eps, ddof=0, eps_outside=False):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True, ddof=ddof)
    return (x - mean) / (np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps)), mean, var


def _rows_of(a):
    return a.transpose(0, 2, 3, 1).reshape(-1, a.shape[1])


def _batchnorm_variant(case, ddof=0, eps_outside=False, scrambled=False, batch_in_test=False,
                       swapped_momentum=False):
    """(out, running_mean, running_var) of a spatial batch norm with one slip, or None."""
    i = case.inputs
    x, p = i["x"], i["bn_param"]
    n, c, h, w = x.shape
    rows = x.reshape(-1, c) if scrambled else _rows_of(x)  # scrambled: C not moved last
    if ddof and rows.shape[0] < 2:
        return None
    eps, m = p["eps"], p.get("momentum", 0.9)
    old_mean, old_var = p.get("running_mean", np.zeros(c)), p.get("running_var", np.zeros(c))
    train = p["mode"] == "train"
    if train or batch_in_test:
        mean, var = rows.mean(axis=0), rows.var(axis=0, ddof=ddof)
    else:
        mean, var = old_mean, old_var
    std = np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps)
    out = i["gamma"] * (rows - mean) / std + i["beta"]
    out = out.reshape(x.shape) if scrambled else out.reshape(n, h, w, c).transpose(0, 3, 1, 2)
    if not train:
        return out, old_mean, old_var
    a, b = (1 - m, m) if swapped_momentum else (m, 1 - m)
    return out, a * old_mean + b * mean, a * old_var + b * var


def _batchnorm_parts(**slip):
    def explains(case):
        variant = _batchnorm_variant(case, **slip)
        if variant is None:
            return {}
        names = ("out", "bn_param['running_mean']", "bn_param['running_var']")
        return {name: (lambda a, want=want: close(a, want)) for name, want in zip(names, variant)}

    return explains


def _batchnorm_out_only(**slip):
    def explains(case):
        return {k: v for k, v in _batchnorm_parts(**slip)(case).items() if k == "out"}

    return explains


def _per_position_batchnorm(case):
    """Normalised over N only: vanilla batch norm on x.reshape(N, -1), per (c, i, j)."""
    i = case.inputs
    if i["bn_param"]["mode"] != "train" or i["x"].shape[2] * i["x"].shape[3] == 1:
        return {}
    x_hat, _, _ = _normalised(i["x"], (0,), i["bn_param"]["eps"])
    want = x_hat * i["gamma"][:, None, None] + i["beta"][:, None, None]
    return {"out": lambda a: close(a, want)}


SPATIAL_BATCHNORM_FORWARD = [
    Mistake("statistics per position (over N only), not per channel",
            "spatial batch norm takes each channel's mean and variance over N, H and W together: "
            "x.mean(axis=(0, 2, 3)), or batchnorm_forward on x.transpose(0, 2, 3, 1).reshape(-1, C)",
            _per_position_batchnorm, aspect="spatial"),
    Mistake("x reshaped to (N * H * W, C) without moving the channels last",
            "x.reshape(-1, C) mixes channels and pixels; transpose first: "
            "x.transpose(0, 2, 3, 1).reshape(-1, C), and back with reshape(N, H, W, C).transpose(0, 3, 1, 2)",
            lambda case: _batchnorm_parts(scrambled=True)(case) if case.inputs["x"].shape[1] > 1 else {},
            aspect="channels"),
    Mistake("the variance is the unbiased one (divided by count - 1)",
            "batch norm divides by the count itself: x.var(...) (ddof=0), not ddof=1",
            _batchnorm_parts(ddof=1), aspect="statistics"),
    Mistake("eps is added outside the square root",
            "std = np.sqrt(var + eps), not np.sqrt(var) + eps",
            _batchnorm_out_only(eps_outside=True), aspect="eps"),
    Mistake("momentum and 1 - momentum are swapped in the running averages",
            "running_mean = momentum * running_mean + (1 - momentum) * mean (the old average "
            "keeps the larger share), the same for running_var",
            lambda case: ({k: v for k, v in _batchnorm_parts(swapped_momentum=True)(case).items()
                           if k != "out"} if case.inputs["bn_param"]["mode"] == "train" else {}),
            aspect="running"),
    Mistake("test mode normalises with the batch's own statistics",
            "in test mode use bn_param['running_mean'] and bn_param['running_var'], the "
            "averages over training",
            lambda case: (_batchnorm_out_only(batch_in_test=True)(case)
                          if case.inputs["bn_param"]["mode"] == "test" else {}),
            aspect="test_mode"),
]


def _dx_without_mean_terms(case):
    from .norm_cases import batchnorm_cache

    i = case.inputs
    _, gamma, std = batchnorm_cache(i)
    dx = _rows_of(i["dout"]) * gamma / std
    n, c, h, w = i["x"].shape
    want = dx.reshape(n, h, w, c).transpose(0, 3, 1, 2)
    return {"dx": lambda a: close(a, want)}


SPATIAL_BATCHNORM_BACKWARD = [
    Mistake("dx leaves out the gradient through the batch mean and variance",
            "x_hat depends on every x of its channel through mean and var: "
            "dx = (g - mean(g) - x_hat * mean(g * x_hat)) / std with g = dout * gamma, means "
            "per channel",
            _dx_without_mean_terms, aspect="gradient"),
]


def _groupnorm_variant(case, how):
    i = case.inputs
    x, groups, eps = i["x"], i["G"], i["gn_param"]["eps"]
    n, c, h, w = x.shape
    if how == "interleaved":  # channel c in group c % G
        if groups in (1, c):
            return None
        x_hat, _, _ = _normalised(x.reshape(n, c // groups, groups, h, w), (1, 3, 4), eps)
    elif how == "per_channel":
        if groups == c:
            return None
        x_hat, _, _ = _normalised(x, (2, 3), eps)
    elif how == "whole_image":
        if groups == 1:
            return None
        x_hat, _, _ = _normalised(x, (1, 2, 3), eps)
    else:
        x_hat, _, _ = _normalised(x.reshape(n, groups, -1), (2,), eps, ddof=how == "ddof",
                                  eps_outside=how == "eps_outside")
    return i["gamma"] * x_hat.reshape(x.shape) + i["beta"]


def _groupnorm_out(how):
    def explains(case):
        want = _groupnorm_variant(case, how)
        return {"out": lambda a: close(a, want)} if want is not None else {}

    return explains


SPATIAL_GROUPNORM_FORWARD = [
    Mistake("the groups take every G-th channel instead of C // G neighbouring ones",
            "group g holds channels g * C // G to (g + 1) * C // G - 1: x.reshape(N, G, -1), "
            "not x.reshape(N, C // G, G, ...)", _groupnorm_out("interleaved"), aspect="groups"),
    Mistake("each channel is normalised on its own (instance norm), whatever G is",
            "a group's statistics cover its C // G channels and all their pixels: "
            "x.reshape(N, G, -1).mean(axis=2)", _groupnorm_out("per_channel"), aspect="groups"),
    Mistake("each image is normalised as one group (layer norm), whatever G is",
            "split the channels into G groups first: x.reshape(N, G, -1)",
            _groupnorm_out("whole_image"), aspect="groups"),
    Mistake("the variance is the unbiased one (divided by count - 1)",
            "group norm divides by the count itself: var(..., ddof=0)", _groupnorm_out("ddof"),
            aspect="statistics"),
    Mistake("eps is added outside the square root", "std = np.sqrt(var + eps), not np.sqrt(var) + eps",
            _groupnorm_out("eps_outside"), aspect="eps"),
]


def _groupnorm_dx_without_mean_terms(case):
    i = case.inputs
    x, groups, eps = i["x"], i["G"], i["gn_param"]["eps"]
    rows = x.reshape(x.shape[0], groups, -1)
    std = np.sqrt(rows.var(axis=2, keepdims=True) + eps)
    want = ((i["dout"] * i["gamma"]).reshape(rows.shape) / std).reshape(x.shape)
    return {"dx": lambda a: close(a, want)}


SPATIAL_GROUPNORM_BACKWARD = [
    Mistake("dx leaves out the gradient through the mean and variance of each group",
            "x_hat depends on every x of its group through mean and var: "
            "dx = (g - mean(g) - x_hat * mean(g * x_hat)) / std with g = dout * gamma, means "
            "over each (image, group)", _groupnorm_dx_without_mean_terms, aspect="gradient"),
]

CATALOG.update({
    "spatial_batchnorm_forward": SPATIAL_BATCHNORM_FORWARD,
    "spatial_batchnorm_backward": SPATIAL_BATCHNORM_BACKWARD,
    "spatial_groupnorm_forward": SPATIAL_GROUPNORM_FORWARD,
    "spatial_groupnorm_backward": SPATIAL_GROUPNORM_BACKWARD,
})
