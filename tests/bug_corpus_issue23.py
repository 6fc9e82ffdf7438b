"""Realistic bugs written for issue 23, before any rule of that issue existed: the
kinds that used to pass the public check and then lose points (or nowhere), and the
kinds whose sentence used to point the wrong way.

They cover parameter dictionaries and caches, uninitialised memory (np.empty),
dtypes, numerical stability, max-pool ties, sizes the stride does not divide,
im2col/col2im calls with wrong keyword arguments, dilation, channels last and the
ConvNet's loss. ``held_out`` bugs were written in the same sitting and never looked
at while the rules were changed; tests.bug_corpus adds them all to BUGS.
"""

import math
from functools import partial

import numpy as np

from conv_lib import col2im, im2col
from conv_lib.layer_utils import (
    affine_relu_backward,
    affine_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
)
from conv_lib.layers import affine_backward, affine_forward

# ------------------------------------------------------------------ conv forward


def _size(n, k, s, p, bug):
    if bug == "ceil_output_size":
        return 1 + math.ceil((n + 2 * p - k) / s)
    return 1 + (n + 2 * p - k) // s


def conv_forward(x, w, b, conv_param, bug):
    if bug == "pop_stride":
        s = conv_param.pop("stride")
    else:
        s = conv_param["stride"]
    p = conv_param["pad"]
    if bug == "setdefault_dilation":
        conv_param.setdefault("dilation", 1)
    n_, _, h, wd = x.shape
    f_, _, hh, ww = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    if bug == "ceil_output_size":  # pads the ragged edge so the extra window has pixels
        xp = np.pad(xp, ((0, 0), (0, 0), (0, s), (0, s)))
    out_h, out_w = _size(h, hh, s, p, bug), _size(wd, ww, s, p, bug)
    if bug == "empty_accumulate":
        out = np.empty((n_, f_, out_h, out_w))
    else:
        out = np.zeros((n_, f_, out_h, out_w), dtype=np.float32 if bug == "float32_out" else float)
    if bug == "channels_last_out":
        out = np.zeros((n_, out_h, out_w, f_))
    kernel_rows = w.reshape(f_, -1)
    for n in range(n_):
        for i in range(out_h):
            for j in range(out_w):
                window = xp[n, :, i * s:i * s + hh, j * s:j * s + ww].reshape(-1)
                if bug == "channels_last_out":
                    out[n, i, j, :] = kernel_rows @ window + b
                elif bug == "empty_accumulate":
                    out[n, :, i, j] += kernel_rows @ window + b
                else:
                    out[n, :, i, j] = kernel_rows @ window + b
    if bug == "channels_last_out":
        out = out.reshape(n_, f_, out_h, out_w)
    if bug == "cache_reshaped_w":
        w = kernel_rows
    if bug == "cache_padded_x":
        x = xp
    return out, (x, w, b, conv_param)


CONV_FORWARD = [
    ("ceil_output_size", ("output_size",), True),
    ("pop_stride", ("input_modified",), True),
    ("setdefault_dilation", ("input_modified",), False),
    ("empty_accumulate", ("uninitialised",), True),
    ("float32_out", ("dtype",), False),
    ("channels_last_out", ("filters", "layout"), True),
    ("cache_reshaped_w", ("cache",), False),
    ("cache_padded_x", ("cache",), True),
]


# ----------------------------------------------------------------- conv backward


def conv_backward(dout, cache, bug):
    x, w, _, conv_param = cache
    s = conv_param.pop("stride") if bug == "pop_stride" else conv_param["stride"]
    p = conv_param["pad"]
    n_, _, h, wd = x.shape
    f_, _, hh, ww = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    dxp = np.empty_like(xp) if bug == "empty_dx" else np.zeros_like(xp)
    dw = np.zeros(w.shape, dtype=np.float32 if bug == "float32_dw" else float)
    kernel = w[:, :, ::-1, ::-1] if bug == "dx_flipped_kernel" else w
    for n in range(n_):
        for f in range(f_):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    g = dout[n, f, i, j]
                    dxp[n, :, i * s:i * s + hh, j * s:j * s + ww] += kernel[f] * g
                    dw[f] += xp[n, :, i * s:i * s + hh, j * s:j * s + ww] * g
    if bug == "dx_divided_by_n":
        dxp /= n_
    if bug == "crop_by_windows":  # the rows no window reaches are cut off
        covered_h = (dout.shape[2] - 1) * s + hh
        covered_w = (dout.shape[3] - 1) * s + ww
        dx = dxp[:, :, p:covered_h - p, p:covered_w - p]
    else:
        dx = dxp[:, :, p:p + h, p:p + wd]
    db = dout.mean(axis=(0, 2, 3)) if bug == "db_mean" else dout.sum(axis=(0, 2, 3))
    return dx, dw, db


CONV_BACKWARD = [
    ("empty_dx", ("uninitialised",), False),
    ("db_mean", ("bias", "db"), True),
    ("float32_dw", ("dtype",), True),
    ("pop_stride", ("input_modified",), False),
    ("dx_flipped_kernel", ("kernel",), True),
    ("dx_divided_by_n", ("batch",), False),
    ("crop_by_windows", ("output_size",), True),
]


# ----------------------------------------------------------------- pool forward


def pool_forward(x, pool_param, kind, bug):
    ph, pw = pool_param["pool_height"], pool_param["pool_width"]
    s = pool_param.pop("stride") if bug == "pop_stride" else pool_param["stride"]
    if bug == "update_param":
        pool_param.update(stride=s, pool_size=ph * pw)
    n_, c_, h, wd = x.shape
    if bug == "ceil_output_size":
        out_h, out_w = 1 + math.ceil((h - ph) / s), 1 + math.ceil((wd - pw) / s)
    else:
        out_h, out_w = 1 + (h - ph) // s, 1 + (wd - pw) // s
    if bug == "empty_accumulate":
        out = np.empty((n_, c_, out_h, out_w))
    else:
        out = np.zeros((n_, c_, out_h, out_w), dtype=np.float32 if bug == "float32_out" else float)
    for i in range(out_h):
        for j in range(out_w):
            window = x[:, :, i * s:i * s + ph, j * s:j * s + pw]
            if kind == "max" and bug == "max_from_zero":
                best = np.zeros(window.shape[:2])
                for r in range(window.shape[2]):
                    for q in range(window.shape[3]):
                        best = np.maximum(best, window[:, :, r, q])
                out[:, :, i, j] = best
            elif kind == "max" and bug == "empty_accumulate":  # a running maximum from garbage
                out[:, :, i, j] = np.maximum(out[:, :, i, j], window.max(axis=(2, 3)))
            elif kind == "max":
                out[:, :, i, j] = window.max(axis=(2, 3))
            elif bug == "empty_accumulate":
                out[:, :, i, j] += window.sum(axis=(2, 3))
            else:
                out[:, :, i, j] = window.mean(axis=(2, 3))
    if kind == "avg" and bug == "empty_accumulate":
        out /= ph * pw
    if bug == "cache_out":
        return out, (out, pool_param)
    return out, (x, pool_param)


MAX_POOL_FORWARD = [
    ("ceil_output_size", ("output_size",), False),
    ("pop_stride", ("input_modified",), True),
    ("empty_accumulate", ("uninitialised",), False),
    ("float32_out", ("dtype",), True),
    ("cache_out", ("cache",), False),
    ("max_from_zero", ("window",), True),
]

AVG_POOL_FORWARD = [
    ("ceil_output_size", ("output_size",), True),
    ("empty_accumulate", ("uninitialised",), True),
    ("update_param", ("input_modified",), False),
    ("float32_out", ("dtype",), False),
]


# ---------------------------------------------------------------- pool backward


def max_pool_backward(dout, cache, bug):
    x, pool_param = cache
    ph, pw = pool_param["pool_height"], pool_param["pool_width"]
    s = pool_param.pop("stride") if bug == "pop_stride" else pool_param["stride"]
    dx = np.empty_like(x) if bug == "empty_dx" else np.zeros(
        x.shape, dtype=np.float32 if bug == "float32_dx" else float)
    if bug == "loops_from_ceil":
        out_h, out_w = 1 + math.ceil((x.shape[2] - ph) / s), 1 + math.ceil((x.shape[3] - pw) / s)
    else:
        out_h, out_w = dout.shape[2:]
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(out_h):
                for j in range(out_w):
                    window = x[n, c, i * s:i * s + ph, j * s:j * s + pw]
                    g = dout[n, c, i, j]
                    if bug in ("mask_all_maxima", "mask_recomputed"):
                        top = window.max() if bug == "mask_all_maxima" else np.max(window, keepdims=True)
                        dx[n, c, i * s:i * s + ph, j * s:j * s + pw] += (window == top) * g
                        continue
                    if bug == "last_maximum":
                        flat = window.size - 1 - np.argmax(window.ravel()[::-1])
                    else:
                        flat = np.argmax(window)
                    r, q = np.unravel_index(flat, window.shape)
                    dx[n, c, i * s + r, j * s + q] += g
    return dx


def avg_pool_backward(dout, cache, bug):
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    dx = np.empty_like(x) if bug == "empty_dx" else np.zeros(
        x.shape, dtype=np.float32 if bug == "float32_dx" else float)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            share = dout[:, :, i, j][:, :, None, None] / (ph * pw)
            dx[:, :, i * s:i * s + ph, j * s:j * s + pw] += share
    if bug == "crop_by_windows":
        dx = dx[:, :, :(dout.shape[2] - 1) * s + ph, :(dout.shape[3] - 1) * s + pw]
    return dx


MAX_POOL_BACKWARD = [
    ("mask_all_maxima", ("ties",), False),
    ("mask_recomputed", ("ties",), True),
    ("last_maximum", ("ties",), True),
    ("empty_dx", ("uninitialised",), True),
    ("pop_stride", ("input_modified",), False),
    ("float32_dx", ("dtype",), False),
    ("loops_from_ceil", ("output_size", "raises"), True),
]

AVG_POOL_BACKWARD = [
    ("empty_dx", ("uninitialised",), False),
    ("crop_by_windows", ("output_size",), True),
    ("float32_dx", ("dtype",), True),
]


# ------------------------------------------------------------------------ im2col


def im2col_forward(x, w, b, conv_param, bug):
    s, p = conv_param["stride"], conv_param["pad"]
    n_ = x.shape[0]
    f_, _, hh, ww = w.shape
    if bug == "ceil_output_size":
        out_h = 1 + math.ceil((x.shape[2] + 2 * p - hh) / s)
        out_w = 1 + math.ceil((x.shape[3] + 2 * p - ww) / s)
    else:
        out_h, out_w = 1 + (x.shape[2] + 2 * p - hh) // s, 1 + (x.shape[3] + 2 * p - ww) // s
    if bug == "no_pad_keyword":
        cols = im2col(x, hh, ww, s)
    elif bug == "stride_and_pad_swapped":
        cols = im2col(x, hh, ww, p or 1, s - 1)
    else:
        cols = im2col(x, hh, ww, stride=s, pad=p)
    product = w.reshape(f_, -1) @ cols  # (N, F, P)
    if bug == "channels_last_reshape":
        out = product.transpose(0, 2, 1).reshape(n_, f_, out_h, out_w)
    else:
        out = product.reshape(n_, f_, out_h, out_w)
    out = out + b[None, :, None, None]
    if bug == "float32_out":
        out = out.astype(np.float32)
    if bug == "cache_without_cols":
        return out, (x, w, b, conv_param)
    return out, (x, w, b, conv_param, cols)


CONV_FORWARD_IM2COL = [
    ("no_pad_keyword", ("pad",), True),
    ("stride_and_pad_swapped", ("stride", "pad"), True),
    ("channels_last_reshape", ("layout", "filters"), False),
    ("cache_without_cols", ("cache",), True),
    ("float32_out", ("dtype",), False),
    ("ceil_output_size", ("output_size", "raises"), False),
]


def im2col_backward(dout, cache, bug):
    x, w, _, conv_param, cols = cache
    s, p = conv_param["stride"], conv_param["pad"]
    n_, f_ = dout.shape[:2]
    hh, ww = w.shape[2:]
    d2 = dout.reshape(n_, f_, -1)
    if bug == "empty_dw":
        dw = np.empty((f_, cols.shape[1]))
        for n in range(n_):
            dw += d2[n] @ cols[n].T
    else:
        dw = (d2 @ cols.transpose(0, 2, 1)).sum(axis=0)
    dw = dw.reshape(w.shape)
    db = d2.mean(axis=(0, 2)) if bug == "db_mean" else d2.sum(axis=(0, 2))
    dcols = w.reshape(f_, -1).T @ d2
    if bug == "col2im_no_pad":
        dx = col2im(dcols, x.shape, hh, ww, stride=s)
    elif bug == "col2im_field_swapped":
        dx = col2im(dcols, x.shape, ww, hh, stride=s, pad=p)
    elif bug == "col2im_dilation_for_stride":
        dx = col2im(dcols, x.shape, hh, ww, pad=p, dilation=s)
    else:
        dx = col2im(dcols, x.shape, hh, ww, stride=s, pad=p)
    return dx, dw, db


CONV_BACKWARD_IM2COL = [
    ("col2im_no_pad", ("pad", "raises"), False),
    ("col2im_field_swapped", ("kernel_shape", "raises"), True),
    ("col2im_dilation_for_stride", ("stride", "raises"), True),
    ("db_mean", ("bias", "db"), False),
    ("empty_dw", ("uninitialised",), True),
]


# ------------------------------------------------------------ dilated convolution


def dilated_forward(x, w, b, conv_param, bug):
    s, p = conv_param["stride"], conv_param["pad"]
    d = conv_param.pop("dilation") if bug == "pop_dilation" else conv_param.get("dilation", 1)
    n_, _, h, wd = x.shape
    f_, _, hh, ww = w.shape
    span_h, span_w = d * (hh - 1) + 1, d * (ww - 1) + 1
    if bug == "span_d_times_k":
        span_h, span_w = d * hh, d * ww
    if bug == "size_ignores_dilation":
        out_h, out_w = 1 + (h + 2 * p - hh) // s, 1 + (wd + 2 * p - ww) // s
    elif bug == "ceil_output_size":
        out_h, out_w = 1 + math.ceil((h + 2 * p - span_h) / s), 1 + math.ceil((wd + 2 * p - span_w) / s)
    else:
        out_h, out_w = 1 + (h + 2 * p - span_h) // s, 1 + (wd + 2 * p - span_w) // s
    xp = np.pad(x, ((0, 0), (0, 0), (p, p + s * 4), (p, p + s * 4)))  # room past the edge
    out = np.empty((n_, f_, out_h, out_w)) if bug == "empty_accumulate" else np.zeros((n_, f_, out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            taps = xp[:, :, i * s:i * s + d * (hh - 1) + 1:d, j * s:j * s + d * (ww - 1) + 1:d]
            value = np.einsum("nchw,fchw->nf", taps, w) + b
            if bug == "empty_accumulate":
                out[:, :, i, j] += value
            else:
                out[:, :, i, j] = value
    return out, (x, w, b, conv_param)


CONV_FORWARD_DILATED = [
    ("size_ignores_dilation", ("dilation", "output_size"), False),
    ("span_d_times_k", ("dilation", "output_size"), True),
    ("ceil_output_size", ("output_size",), True),
    ("pop_dilation", ("input_modified",), False),
    ("empty_accumulate", ("uninitialised",), True),
]


# ------------------------------------------------------------------- convnet loss


def _softmax_loss(scores, y, bug):
    n = scores.shape[0]
    if bug == "softmax_no_max":
        e = np.exp(scores)
    else:
        e = np.exp(scores - scores.max(axis=1, keepdims=True))
    probs = e / e.sum(axis=1, keepdims=True)
    if bug == "log_of_probability":  # log(0) once a probability underflows
        loss = -np.mean(np.log(probs[np.arange(n), y]))
    elif bug == "softmax_no_max":
        loss = -np.mean(np.log(probs[np.arange(n), y]))
    else:
        shifted = scores - scores.max(axis=1, keepdims=True)
        loss = -np.mean(shifted[np.arange(n), y] - np.log(np.exp(shifted).sum(axis=1)))
    dscores = probs.copy()
    dscores[np.arange(n), y] -= 1
    return loss, dscores / n


def convnet_loss(model, X, y=None, bug=None):
    p = model.params
    if bug == "float32_input":
        X = X.astype(np.float32)
    a1, cache1 = conv_relu_pool_forward(X, p["W1"], p["b1"], model.conv_param, model.pool_param)
    a2, cache2 = affine_relu_forward(a1, p["W2"], p["b2"])
    scores, cache3 = affine_forward(a2, p["W3"], p["b3"])
    if y is None:
        return scores
    loss, dscores = _softmax_loss(scores, y, bug)
    loss += 0.5 * model.reg * sum(float(np.sum(p[k] ** 2)) for k in ("W1", "W2", "W3"))
    grads = {}
    da2, grads["W3"], grads["b3"] = affine_backward(dscores, cache3)
    da1, grads["W2"], grads["b2"] = affine_relu_backward(da2, cache2)
    _, grads["W1"], grads["b1"] = conv_relu_pool_backward(da1, cache1)
    for k in ("W1", "W2", "W3"):
        if bug == "reg_into_params":
            reg_term = p[k]
            reg_term *= model.reg  # scales the model's own weights
            grads[k] = grads[k] + reg_term
        else:
            grads[k] = grads[k] + model.reg * p[k]
    return loss, grads


CONVNET_LOSS = [
    ("softmax_no_max", ("stability",), False),
    ("log_of_probability", ("stability",), True),
    ("float32_input", ("dtype",), True),
    ("reg_into_params", ("input_modified",), False),
]


def _bugs(bug_type, task, table, implementation, **fixed):
    return [bug_type(task, name, aspects, partial(implementation, bug=name, **fixed), held_out,
                     written_for="issue 23")
            for name, aspects, held_out in table]


def bugs(bug_type):
    """The issue-23 bugs, as ``bug_type`` (tests.bug_corpus.Bug) records."""
    return (
        _bugs(bug_type, "conv_forward", CONV_FORWARD, conv_forward)
        + _bugs(bug_type, "conv_backward", CONV_BACKWARD, conv_backward)
        + _bugs(bug_type, "max_pool_forward", MAX_POOL_FORWARD, pool_forward, kind="max")
        + _bugs(bug_type, "avg_pool_forward", AVG_POOL_FORWARD, pool_forward, kind="avg")
        + _bugs(bug_type, "max_pool_backward", MAX_POOL_BACKWARD, max_pool_backward)
        + _bugs(bug_type, "avg_pool_backward", AVG_POOL_BACKWARD, avg_pool_backward)
        + _bugs(bug_type, "conv_forward_im2col", CONV_FORWARD_IM2COL, im2col_forward)
        + _bugs(bug_type, "conv_backward_im2col", CONV_BACKWARD_IM2COL, im2col_backward)
        + _bugs(bug_type, "conv_forward_dilated", CONV_FORWARD_DILATED, dilated_forward)
        + _bugs(bug_type, "convnet_loss", CONVNET_LOSS, convnet_loss)
    )
