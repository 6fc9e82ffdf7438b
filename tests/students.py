"""Student-style naive layers, each with an optional planted mistake.

``mistake=None`` gives a correct solution written the way students write it
(explicit loops), so the grader's checks can be tested on both.
"""

import numpy as np


def _size(n, field, stride, pad, mistake):
    if mistake == "rounded up":
        return 1 + -(-(n + 2 * pad - field) // stride)
    return 1 + (n + 2 * pad - field) // stride


def _pad(x, pad, mistake):
    if mistake == "padding missing":
        return x
    rows = 0 if mistake == "padding on the width axis only" else pad
    cols = 0 if mistake == "padding on the height axis only" else pad
    return np.pad(x, ((0, 0), (0, 0), (rows, rows), (cols, cols)))


def conv_forward(x, w, b, conv_param, mistake=None):
    stride, pad = conv_param["stride"], conv_param["pad"]
    if mistake == "stride ignored":
        stride = 1
    n, _, h, wd = x.shape
    f, _, hh, ww = w.shape
    xp = _pad(x, pad, mistake)
    out_h = _size(h, hh, stride, pad, mistake)
    out_w = _size(wd, ww, stride, pad, mistake)
    if mistake in ("padding missing", "padding on the height axis only",
                   "padding on the width axis only"):
        out_h = 1 + (xp.shape[2] - hh) // stride
        out_w = 1 + (xp.shape[3] - ww) // stride
    if mistake == "rounded up":
        xp = np.pad(xp, ((0, 0), (0, 0), (0, stride), (0, stride)))
    kernel = w[:, :, ::-1, ::-1] if mistake == "kernel flipped" else w
    bias = 0 * b if mistake == "bias missing" else b
    out = np.zeros((n, f, out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            window = xp[:, None, :, i * stride:i * stride + hh, j * stride:j * stride + ww]
            out[:, :, i, j] = (window * kernel[None]).sum(axis=(2, 3, 4)) + bias
    return out, (x, w, b, conv_param)


def conv_backward(dout, cache, mistake=None):
    x, w, _, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    _, _, hh, ww = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            rows = slice(i * stride, i * stride + hh)
            cols = slice(j * stride, j * stride + ww)
            g = dout[:, :, i, j]
            contribution = np.einsum("nf,fchw->nchw", g, w)
            if mistake == "dx overwritten":
                dxp[:, :, rows, cols] = contribution
            else:
                dxp[:, :, rows, cols] += contribution
            dw_part = np.einsum("nf,nchw->fchw", g, xp[:, :, rows, cols])
            if mistake == "dw overwritten":
                dw = dw_part
            else:
                dw += dw_part
    dx = dxp if mistake == "dx not cropped" else dxp[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]]
    db = dout.sum(axis=(0, 1, 2)) if mistake == "db wrong axes" else dout.sum(axis=(0, 2, 3))
    return dx, dw, db


def _windows(shape, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    for i in range(1 + (shape[2] - ph) // s):
        for j in range(1 + (shape[3] - pw) // s):
            yield i, j, slice(i * s, i * s + ph), slice(j * s, j * s + pw)


def pool_forward(x, pool_param, kind):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    n, c, h, w = x.shape
    out = np.zeros((n, c, 1 + (h - ph) // s, 1 + (w - pw) // s))
    for i, j, rows, cols in _windows(x.shape, pool_param):
        window = x[:, :, rows, cols]
        out[:, :, i, j] = window.max(axis=(2, 3)) if kind == "max" else window.mean(axis=(2, 3))
    return out, (x, pool_param)


def max_pool_backward(dout, cache, mistake=None):
    x, pool_param = cache
    dx = np.zeros_like(x)
    for i, j, rows, cols in _windows(x.shape, pool_param):
        window = x[:, :, rows, cols]
        g = dout[:, :, i, j][:, :, None, None]
        # the first maximum of each window only (the notebook's tie rule), as a one-hot mask
        flat = window.reshape(*window.shape[:2], -1)
        is_max = np.zeros(flat.shape, bool)
        np.put_along_axis(is_max, flat.argmax(axis=-1)[..., None], True, axis=-1)
        is_max = is_max.reshape(window.shape)
        if mistake == "spread":
            dx[:, :, rows, cols] += g
        elif mistake == "overwritten":
            dx[:, :, rows, cols] = is_max * g
        else:
            dx[:, :, rows, cols] += is_max * g
    return dx


def avg_pool_backward(dout, cache, mistake=None):
    x, pool_param = cache
    size = 1 if mistake == "not divided" else pool_param["pool_height"] * pool_param["pool_width"]
    dx = np.zeros_like(x)
    for i, j, rows, cols in _windows(x.shape, pool_param):
        dx[:, :, rows, cols] += dout[:, :, i, j][:, :, None, None] / size
    return dx


def conv_forward_vectorised(x, w, b, conv_param):
    """No Python loops: strided windows and one einsum."""
    s, p = conv_param["stride"], conv_param["pad"]
    _, _, hh, ww = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    windows = np.lib.stride_tricks.sliding_window_view(xp, (hh, ww), axis=(2, 3))[:, :, ::s, ::s]
    return np.einsum("ncijpq,fcpq->nfij", windows, w) + b[None, :, None, None], (x, w, b, conv_param)


def max_pool_forward_vectorised(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    windows = np.lib.stride_tricks.sliding_window_view(x, (ph, pw), axis=(2, 3))[:, :, ::s, ::s]
    return windows.max(axis=(4, 5)), (x, pool_param)

