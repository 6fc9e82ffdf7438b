"""Realistic bugs, written for issue 11, that are NOT among the planted mistakes.

Each bug is a small student-style implementation with one slip, tagged with the
aspect a helpful diagnosis must name (``aspects``: any one of them counts). The
``held_out`` bugs were written together with the others, before any diagnosis
rule existed, and the rules were never tuned on them: they measure how well the
probe ladders generalise. ``python -m grader.diagnosis_report`` prints both parts.
"""

from dataclasses import dataclass, replace
from functools import partial

import numpy as np

from conv_lib import col2im, im2col
from conv_lib.layer_utils import (
    affine_relu_backward,
    affine_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
)
from conv_lib.layers import affine_backward, affine_forward, softmax_loss


@dataclass(frozen=True)
class Bug:
    task: str
    name: str
    aspects: tuple  # a diagnosis naming any of these is helpful
    fn: object
    held_out: bool = False
    written_for: str = "issue 11"  # the sitting the bug was written in


# ------------------------------------------------------------------ conv forward


def _conv_forward(x, w, b, conv_param, bug):
    s, p = conv_param["stride"], conv_param["pad"]
    n_, c_, h, wd = x.shape
    f_, _, hh, ww = w.shape
    pads = {"pad_after_only": ((0, 0), (0, 0), (0, 2 * p), (0, 2 * p)),
            "pad_all_axes": p}.get(bug, ((0, 0), (0, 0), (p, p), (p, p)))
    xp = np.pad(x, pads)
    if bug == "pad_top_left_only":
        xp = np.zeros((n_, c_, h + 2 * p, wd + 2 * p))
        xp[:, :, :h, :wd] = x
    if bug == "float32":
        xp, w = xp.astype(np.float32), w.astype(np.float32)
    out_h = 1 + (h + 2 * p - hh) // s
    out_w = 1 + ((h if bug == "out_w_from_h" else wd) + 2 * p - ww) // s
    if bug == "last_window_dropped":
        out_h = len(range(0, h + 2 * p - hh, s))
        out_w = len(range(0, wd + 2 * p - ww, s))
    out = np.zeros((n_, f_, out_h, out_w), dtype=int if bug == "int_output" else float)
    if bug == "float32":
        out = out.astype(np.float32)
    for n in range(n_):
        for f in range(f_):
            for i in range(out_h):
                for j in range(out_w):
                    r0 = i * s if bug != "stride_cols_only" else i
                    c0 = j * s if bug != "stride_rows_only" else j
                    rows = slice(r0, r0 + (ww if bug == "kernel_rows_from_ww" else hh))
                    cols = slice(c0, c0 + (hh if bug == "kernel_cols_from_hh" else ww))
                    xn = x[0] if bug == "batch_first_image" else xp[n]
                    if bug == "batch_first_image":
                        xn = np.pad(xn, ((0, 0), (p, p), (p, p)))
                    window = xn[:, rows, cols]
                    kernel = w[f]
                    if bug == "channels_reversed":
                        kernel = w[f, ::-1]
                    elif bug == "kernel_transposed":
                        kernel = np.swapaxes(w[f], 1, 2)
                    elif bug == "kernel_rows_flipped":
                        kernel = w[f, :, ::-1, :]
                    if bug == "all_filters_summed":
                        out[n, f, i, j] = np.sum(window[None] * w) + b[f]
                    elif bug == "bias_per_channel":
                        out[n, f, i, j] = sum(np.sum(window[c] * kernel[c]) + b[f] for c in range(c_))
                    else:
                        out[n, f, i, j] = np.sum(window * kernel) + b[0 if bug == "bias_first" else f]
    return out, (x, w, b, conv_param)



CONV_FORWARD = [
    ("stride_rows_only", ("stride_cols",), False),
    ("pad_after_only", ("pad",), False),
    ("pad_all_axes", ("pad",), False),
    ("channels_reversed", ("channels",), False),
    ("kernel_transposed", ("kernel",), False),
    ("bias_first", ("bias", "filters"), False),
    ("out_w_from_h", ("height_width",), False),
    ("kernel_cols_from_hh", ("kernel_shape",), False),
    ("int_output", ("dtype",), False),
    ("float32", ("dtype",), False),
    ("stride_cols_only", ("stride_rows",), True),
    ("kernel_rows_flipped", ("kernel",), True),
    ("pad_top_left_only", ("pad",), True),
    ("batch_first_image", ("batch",), True),
    ("last_window_dropped", ("output_size",), True),
    ("all_filters_summed", ("filters",), True),
    ("bias_per_channel", ("channels", "bias"), True),
    ("kernel_rows_from_ww", ("kernel_shape",), True),
]


# ----------------------------------------------------------------- conv backward


def _conv_backward(dout, cache, bug):
    x, w, _, conv_param = cache
    s, p = conv_param["stride"], conv_param["pad"]
    n_, _, h, wd = x.shape
    f_, _, hh, ww = w.shape
    if bug == "float32":
        dout = dout.astype(np.float32)
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for n in range(n_):
        for f in range(f_):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    g = dout[n, f, j, i] if bug == "dout_transposed" else dout[n, f, i, j]
                    rows, cols = slice(i * s, i * s + hh), slice(j * s, j * s + ww)
                    dx_rows = slice(i, i + hh) if bug == "dx_stride_missing" else rows
                    dx_rows = slice(i, i + hh) if bug == "dx_stride_rows_missing" else dx_rows
                    dx_cols = slice(j, j + ww) if bug == "dx_stride_missing" else cols
                    dxp[0 if bug == "dx_first_image" else n, :, dx_rows, dx_cols] += w[f] * g
                    source = x if bug == "dw_unpadded" else xp
                    if bug == "dw_window_at_origin":
                        rows, cols = slice(0, hh), slice(0, ww)
                    window = source[n, :, rows, cols]
                    if bug == "dw_first_channel":
                        window = np.broadcast_to(source[n, :1, rows, cols], w[f].shape)
                    g_w = dout[n, f, j, i] if bug == "dw_dout_transposed" else g
                    g_w = dout[n, 0, i, j] if bug == "dw_first_filter" else g_w
                    if window.shape == w[f].shape:
                        dw[f] += window * g_w
    if bug == "dw_divided_by_n":
        dw /= n_
    dx = dxp[:, :, p:-p, p:-p] if bug == "crop_minus_pad" else dxp[:, :, p:p + h, p:p + wd]
    db = dout[0].sum(axis=(1, 2)) if bug == "db_first_image" else dout.sum(axis=(0, 2, 3))
    return dx, dw, db



CONV_BACKWARD = [
    ("dout_transposed", ("dout",), False),
    ("dw_unpadded", ("pad",), False),
    ("dx_stride_missing", ("stride",), False),
    ("db_first_image", ("batch",), False),
    ("dw_window_at_origin", ("window_offset",), False),
    ("dw_divided_by_n", ("batch",), False),
    ("float32", ("dtype",), False),
    ("dw_dout_transposed", ("dout",), True),
    ("dx_stride_rows_missing", ("stride_rows",), True),
    ("dw_first_channel", ("channels",), True),
    ("crop_minus_pad", ("pad",), True),
    ("dw_first_filter", ("filters",), True),
    ("dx_first_image", ("batch",), True),
]


# ----------------------------------------------------------------- pool forward


def _pool_forward(x, pool_param, kind, bug):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    n_, c_, h, wd = x.shape
    if bug == "divide_input_in_place":
        x /= ph * pw
    out_h = 1 + (h - ph) // s
    out_w = 1 + ((h if bug == "out_w_from_h" else wd) - pw) // s
    out = np.zeros((n_, c_, out_h, out_w), dtype=np.int64 if bug == "int_output" else float)
    for n in range(n_):
        for c in range(c_):
            for i in range(out_h):
                for j in range(out_w if bug != "cols_loop_out_h" else out_h):
                    r0 = i if bug == "stride_rows_missing" else i * s
                    c0 = j if bug == "stride_cols_missing" else j * s
                    width = ph if bug == "width_from_ph" else pw
                    window = x[n, 0 if bug == "first_channel" else c, r0:r0 + ph, c0:c0 + width]
                    if kind == "max":
                        out[n, c, i, j] = window.max()
                    elif bug == "divided_by_ph":
                        out[n, c, i, j] = window.sum() / ph
                    elif bug == "floor_division":
                        out[n, c, i, j] = window.sum() // (ph * pw)
                    elif bug == "divide_input_in_place":
                        out[n, c, i, j] = window.sum()
                    else:
                        out[n, c, i, j] = window.mean()
    return out, (x, pool_param)



MAX_POOL_FORWARD = [
    ("width_from_ph", ("window_shape",), False),
    ("stride_cols_missing", ("stride_cols",), False),
    ("out_w_from_h", ("height_width",), True),
    ("first_channel", ("channels",), True),
]

AVG_POOL_FORWARD = [
    ("divided_by_ph", ("divisor",), False),
    ("floor_division", ("int_division",), False),
    ("divide_input_in_place", ("input_modified",), False),
    ("cols_loop_out_h", ("height_width",), True),
    ("stride_rows_missing", ("stride_rows",), True),
    ("int_output", ("dtype",), True),
]


# ---------------------------------------------------------------- pool backward


def _max_pool_backward(dout, cache, bug):
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    dx = np.zeros_like(x)
    for n, c, i, j in np.ndindex(dout.shape):
        window = x[n, c, i * s:i * s + ph, j * s:j * s + pw]
        flat = np.argmin(window) if bug == "argmin" else np.argmax(window)
        p, q = np.unravel_index(flat, (pw, ph) if bug == "unravel_swapped" else window.shape)
        g = dout[n, c, j, i] if bug == "dout_transposed" else dout[n, c, i, j]
        g = dout[n, 0, i, j] if bug == "first_channel" else g
        if bug == "times_one":
            g = 1.0
        if bug == "offset_missing":
            dx[n, c, p, q] += g
        elif bug == "cols_offset_unstrided":
            dx[n, c, i * s + p, j + q] += g
        else:
            dx[n, c, i * s + p, j * s + q] += g
    return dx


def _avg_pool_backward(dout, cache, bug):
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    if bug == "divide_dout_in_place":
        dout /= ph * pw
    dx = np.zeros_like(x)
    for n, c, i, j in np.ndindex(dout.shape):
        r0, c0 = (0, 0) if bug == "offset_missing" else (i * s, j if bug == "stride_cols_missing" else j * s)
        g = dout[n, c, i, j]
        if bug == "divide_dout_in_place":
            share = g
        elif bug == "divided_by_pw":
            share = g / pw
        elif bug == "times_window":
            share = g * ph * pw
        else:
            share = g / (ph * pw)
        dx[0 if bug == "first_image" else n, c, r0:r0 + ph, c0:c0 + pw] += share
    return dx



MAX_POOL_BACKWARD = [
    ("offset_missing", ("window_offset",), False),
    ("times_one", ("dout_scale",), False),
    ("argmin", ("argmax",), False),
    ("dout_transposed", ("dout",), False),
    ("cols_offset_unstrided", ("stride_cols", "window_offset"), True),
    ("unravel_swapped", ("window_shape",), True),
    ("first_channel", ("channels",), True),
]

AVG_POOL_BACKWARD = [
    ("divided_by_pw", ("divisor",), False),
    ("divide_dout_in_place", ("input_modified",), False),
    ("offset_missing", ("window_offset",), False),
    ("stride_cols_missing", ("stride_cols",), True),
    ("times_window", ("divisor",), True),
    ("first_image", ("batch",), True),
]


# ------------------------------------------------------------------------ im2col


def _im2col_forward(x, w, b, conv_param, bug):
    s, p = conv_param["stride"], conv_param["pad"]
    n_, _, h, wd = x.shape
    f_, _, hh, ww = w.shape
    out_h, out_w = 1 + (h + 2 * p - hh) // s, 1 + (wd + 2 * p - ww) // s
    cols = im2col(x, hh, ww, stride=s, pad=p)  # (N, C*HH*WW, H'*W')
    kernel = w.transpose(0, 2, 3, 1) if bug == "kernel_channels_last" else w
    rows = kernel.reshape(f_, -1)
    product = rows @ cols.transpose(1, 0, 2).reshape(rows.shape[1], -1)  # (F, N*P)
    if bug == "no_transpose":
        out = product.reshape(n_, f_, out_h, out_w)
    else:
        out = product.reshape(f_, n_, out_h, out_w).transpose(1, 0, 2, 3)
    if bug == "hw_swapped":
        out = out.reshape(n_, f_, out_w, out_h).swapaxes(2, 3)
    if bug == "bias_on_rows":
        out = out + b[:, None]  # (F, 1) lines up with (H', W'), not with F
    else:
        out = out + b[None, :, None, None]
    return out, (x, w, b, conv_param, cols)  # the notebook's cache keeps cols


CONV_FORWARD_IM2COL = [
    ("no_transpose", ("layout",), False),
    ("kernel_channels_last", ("kernel",), False),
    ("hw_swapped", ("height_width",), True),
    ("bias_on_rows", ("bias", "filters"), True),
]



def _im2col_backward(dout, cache, bug):
    """A student who keeps the forward's (F, N * P) layout (issue 13's task 2)."""
    x, w, _, conv_param, cols = cache
    s, p = conv_param["stride"], conv_param["pad"]
    n_, f_ = dout.shape[:2]
    hh, ww = w.shape[2:]
    if bug == "dout_not_transposed":
        dout_2d = dout.reshape(f_, -1)  # mixes images and filters when both are > 1
    else:
        dout_2d = dout.transpose(1, 0, 2, 3).reshape(f_, -1)  # (F, N * P)
    cols_2d = cols.transpose(1, 0, 2).reshape(cols.shape[1], -1)  # (K, N * P)
    dw = (dout_2d @ cols_2d.T).reshape(w.shape)
    if bug == "dw_averaged":
        dw = dw / n_
    db = dout_2d.sum(axis=1)
    dcols = (w.reshape(f_, -1).T @ dout_2d).reshape(-1, n_, dout_2d.shape[1] // n_)
    dx = col2im(dcols.transpose(1, 0, 2), x.shape, hh, ww, stride=1 if bug == "col2im_stride_one" else s,
                pad=0 if bug == "col2im_no_pad" else p)
    return dx, dw, db


CONV_BACKWARD_IM2COL = [
    ("dout_not_transposed", ("layout", "batch", "filters"), False),
    ("dw_averaged", ("batch",), False),
    # col2im refuses columns of the wrong size: the check points at the call and its arguments
    ("col2im_stride_one", ("raises", "stride"), False),
    ("col2im_no_pad", ("raises", "pad"), False),
]


# ------------------------------------------------------------------- convnet loss


def _convnet_loss(model, X, y=None, bug=None):
    p = model.params
    X = X.astype(model.dtype, copy=False)
    a1, cache1 = conv_relu_pool_forward(X, p["W1"], p["b1"], model.conv_param, model.pool_param)
    a2, cache2 = affine_relu_forward(a1, p["W2"], p["b2"])
    if bug == "scores_without_b3":
        scores, cache3 = affine_forward(a2, p["W3"], 0 * p["b3"])
    else:
        scores, cache3 = affine_forward(a2, p["W3"], p["b3"])
    if y is None:
        return scores
    loss, dscores = softmax_loss(scores, y)
    if bug == "loss_over_n_twice":
        loss /= X.shape[0]
    reg_keys = ("W1", "W2", "W3", "b1", "b2", "b3") if bug == "reg_on_biases" else ("W1", "W2", "W3")
    loss += 0.5 * model.reg * sum(float(np.sum(p[k] ** 2)) for k in reg_keys)
    grads = {}
    da2, grads["W3"], grads["b3"] = affine_backward(dscores, cache3)
    if bug == "relu_backward_dropped":
        da1, grads["W2"], grads["b2"] = affine_backward(da2, cache2[0])
    elif bug == "wrong_cache":
        da1, grads["W2"], grads["b2"] = affine_relu_backward(da2, cache3)
    else:
        da1, grads["W2"], grads["b2"] = affine_relu_backward(da2, cache2)
    _, grads["W1"], grads["b1"] = conv_relu_pool_backward(da1, cache1)
    factor = 0.5 if bug == "half_reg_gradient" else 1.0
    for k in reg_keys:
        if bug == "w1_without_reg" and k == "W1":
            continue
        grads[k] = grads[k] + factor * model.reg * p[k]
    return loss, grads



CONVNET_LOSS = [
    ("half_reg_gradient", ("reg",), False),
    ("relu_backward_dropped", ("layer2",), False),
    ("wrong_cache", ("raises",), False),
    ("reg_on_biases", ("reg",), False),
    ("loss_over_n_twice", ("data_loss",), True),
    ("w1_without_reg", ("reg", "layer1"), True),
    ("scores_without_b3", ("layer3",), True),
]


def _bugs(task, table, implementation, **fixed):
    return [Bug(task, name, aspects, partial(implementation, bug=name, **fixed), held_out)
            for name, aspects, held_out in table]


BUGS = (
    _bugs("conv_forward", CONV_FORWARD, _conv_forward)
    + _bugs("conv_backward", CONV_BACKWARD, _conv_backward)
    + _bugs("max_pool_forward", MAX_POOL_FORWARD, _pool_forward, kind="max")
    + _bugs("avg_pool_forward", AVG_POOL_FORWARD, _pool_forward, kind="avg")
    + _bugs("max_pool_backward", MAX_POOL_BACKWARD, _max_pool_backward)
    + _bugs("avg_pool_backward", AVG_POOL_BACKWARD, _avg_pool_backward)
    + _bugs("conv_forward_im2col", CONV_FORWARD_IM2COL, _im2col_forward)
    + _bugs("conv_backward_im2col", CONV_BACKWARD_IM2COL, _im2col_backward)
    + _bugs("convnet_loss", CONVNET_LOSS, _convnet_loss)
)

# Issue 23's bugs (tests.bug_corpus_issue23) join the corpus with their own held-out part.
from .bug_corpus_issue23 import bugs as _issue23_bugs  # noqa: E402 - needs Bug, defined above

BUGS += tuple(_issue23_bugs(Bug)) if isinstance(BUGS, tuple) else _issue23_bugs(Bug)

# ------------------------------------------------ notebook 6: normalisation (issue 25)


def _bn_forward(x, gamma, beta, bn_param, bug):
    n, c, h, w = x.shape
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    running_mean = bn_param.get("running_mean", np.zeros(c))
    running_var = bn_param.get("running_var", np.zeros(c))
    rows = x.reshape(-1, c) if bug == "no_transpose" else x.transpose(0, 2, 3, 1).reshape(-1, c)
    if bug == "stats_over_n_only":
        rows = x.reshape(n, -1)
    if bn_param["mode"] == "train" or bug == "test_uses_batch":
        mean = rows.mean(axis=0)
        var = rows.var(axis=0, ddof=1 if bug == "ddof_one" else 0)
        if bn_param["mode"] == "train" and bug != "running_not_stored":
            a, b = (1 - momentum, momentum) if bug == "swapped_momentum" else (momentum, 1 - momentum)
            spread = np.sqrt(var) if bug == "running_var_from_std" else var
            if bug != "stats_over_n_only":
                bn_param["running_mean"] = a * running_mean + b * mean
                bn_param["running_var"] = a * running_var + b * spread
    else:
        mean, var = running_mean, running_var
        if bug == "test_mode_updates_running":
            bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * rows.mean(axis=0)
            bn_param["running_var"] = momentum * running_var + (1 - momentum) * rows.var(axis=0)
    std = np.sqrt(var) + eps if bug == "eps_outside_sqrt" else np.sqrt(var + eps)
    x_hat = (rows - mean) / std
    if bug == "stats_over_n_only":
        x_hat = x_hat.reshape(x.shape).transpose(0, 2, 3, 1).reshape(-1, c)
        if bn_param["mode"] == "train":
            bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * x.mean(axis=(0, 2, 3))
            bn_param["running_var"] = momentum * running_var + (1 - momentum) * x.var(axis=(0, 2, 3))
    out = gamma * x_hat + beta
    if bug == "no_transpose":
        return out.reshape(x.shape), None
    return out.reshape(n, h, w, c).transpose(0, 3, 1, 2), None


def _bn_backward(dout, cache, bug):
    x_hat, gamma, std = cache
    n, c, h, w = dout.shape
    rows = dout.reshape(-1, c) if bug == "no_transpose" else dout.transpose(0, 2, 3, 1).reshape(-1, c)
    g = rows * gamma
    if bug == "dx_simple":
        dx = g / std
    elif bug == "mean_term_only":
        dx = (g - g.mean(axis=0)) / std
    else:
        dx = (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0)) / std
    dgamma = rows.sum(axis=0) if bug == "dgamma_without_xhat" else (rows * x_hat).sum(axis=0)
    dbeta = rows.mean(axis=0) if bug == "dbeta_mean" else rows.sum(axis=0)
    dx = dx.reshape(dout.shape) if bug == "no_transpose" else dx.reshape(n, h, w, c).transpose(0, 3, 1, 2)
    return dx, dgamma, dbeta


def _gn_statistics(x, groups, eps, bug):
    n, c, h, w = x.shape
    if bug == "interleaved":
        rows = x.reshape(n, c // groups, groups, h * w).transpose(0, 2, 1, 3).reshape(n, groups, -1)
    elif bug == "per_channel":
        rows = x.reshape(n, c, -1)
    elif bug == "whole_image":
        rows = x.reshape(n, 1, -1)
    else:
        rows = x.reshape(n, groups, -1)
    axes = (0, 2) if bug == "stats_over_batch" else (2,)
    mean = rows.mean(axis=axes, keepdims=True)
    var = rows.var(axis=axes, keepdims=True, ddof=1 if bug == "ddof_one" else 0)
    std = np.sqrt(var) + eps if bug == "eps_outside_sqrt" else np.sqrt(var + eps)
    x_hat = (rows - mean) / std
    if bug == "interleaved":
        x_hat = x_hat.reshape(n, groups, c // groups, h * w).transpose(0, 2, 1, 3)
    return rows, x_hat, std


def _gn_forward(x, gamma, beta, G, gn_param, bug):
    _, x_hat, _ = _gn_statistics(x, G, gn_param.get("eps", 1e-5), bug)
    return gamma * x_hat.reshape(x.shape) + beta, (x, gamma, beta, G, gn_param)


def _gn_backward(dout, cache, bug):
    x, gamma, _, groups, gn_param = cache
    n, c, h, w = x.shape
    _, x_hat, std = _gn_statistics(x, groups, gn_param.get("eps", 1e-5), bug)
    axes = (0, 2, 3)
    dgamma = (dout * x_hat.reshape(x.shape)).sum(axis=axes, keepdims=bug != "no_keepdims")
    dbeta = dout.sum(axis=axes, keepdims=bug != "no_keepdims")
    g = dout * gamma
    if bug == "interleaved":
        g = g.reshape(n, c // groups, groups, h * w).transpose(0, 2, 1, 3)
        x_hat = x_hat.transpose(0, 2, 1, 3)
    g = g.reshape(n, groups, -1)
    x_hat = x_hat.reshape(n, groups, -1)
    stat_axes = (0, 2) if bug == "stats_over_batch" else (2,)
    if bug == "dx_simple":
        dx = g / std
    elif bug == "missing_xhat_term":
        dx = (g - g.mean(axis=stat_axes, keepdims=True)) / std
    else:
        dx = (g - g.mean(axis=stat_axes, keepdims=True)
              - x_hat * (g * x_hat).mean(axis=stat_axes, keepdims=True)) / std
    if bug == "interleaved":
        dx = dx.reshape(n, groups, c // groups, h * w).transpose(0, 2, 1, 3)
    return dx.reshape(x.shape), dgamma, dbeta


BATCHNORM_FORWARD = [
    ("ddof_one", ("statistics",), False),
    ("swapped_momentum", ("running",), False),
    ("no_transpose", ("channels",), False),
    ("test_uses_batch", ("test_mode",), False),
    ("eps_outside_sqrt", ("eps",), True),
    ("running_not_stored", ("running",), True),
    ("stats_over_n_only", ("spatial",), True),
    ("running_var_from_std", ("running",), True),
    ("test_mode_updates_running", ("test_mode",), True),
]

BATCHNORM_BACKWARD = [
    ("no_transpose", ("channels",), False),
    ("dx_simple", ("gradient",), False),
    ("dgamma_without_xhat", ("gradient",), True),
    ("mean_term_only", ("gradient",), True),
    ("dbeta_mean", ("gradient", "factor"), True),
]

GROUPNORM_FORWARD = [
    ("interleaved", ("groups",), False),
    ("per_channel", ("groups",), False),
    ("ddof_one", ("statistics",), False),
    ("whole_image", ("groups",), True),
    ("eps_outside_sqrt", ("eps",), True),
    ("stats_over_batch", ("batch",), True),
]

GROUPNORM_BACKWARD = [
    ("dx_simple", ("gradient",), False),
    ("no_keepdims", ("shape",), False),
    ("interleaved", ("groups",), True),
    ("stats_over_batch", ("batch",), True),
    ("missing_xhat_term", ("gradient",), True),
]

NORM_BUGS = tuple(  # written for notebook 6, in issue 25's sitting
    replace(bug, written_for="issue 25") for bug in
    _bugs("spatial_batchnorm_forward", BATCHNORM_FORWARD, _bn_forward)
    + _bugs("spatial_batchnorm_backward", BATCHNORM_BACKWARD, _bn_backward)
    + _bugs("spatial_groupnorm_forward", GROUPNORM_FORWARD, _gn_forward)
    + _bugs("spatial_groupnorm_backward", GROUPNORM_BACKWARD, _gn_backward)
)
BUGS += NORM_BUGS
