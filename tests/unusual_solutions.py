"""Correct implementations written in unusual ways: a grader must pass every one.

A false fail is the worst bug a grader can have, so these cover what students
legitimately do: einsum, sliding_window_view, as_strided, loops in another order,
np.add.at, integral images, keeping the input's dtype.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view

from conv_lib.layer_utils import (
    affine_relu_backward,
    affine_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
)
from conv_lib.layers import affine_backward, affine_forward, softmax_loss


def _params(conv_param):
    return conv_param["stride"], conv_param["pad"]


def _padded(x, pad):
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))


def _out_size(size, field, stride, pad=0):
    return 1 + (size + 2 * pad - field) // stride


def conv_forward_as_strided(x, w, b, conv_param):
    """Windows as a strided view of the padded input, contracted with tensordot."""
    s, p = _params(conv_param)
    xp = _padded(x, p)
    n, c, h, wd = xp.shape
    _, _, hh, ww = w.shape
    oh, ow = _out_size(h, hh, s), _out_size(wd, ww, s)
    sn, sc, sh, sw = xp.strides
    windows = as_strided(xp, (n, c, oh, ow, hh, ww), (sn, sc, sh * s, sw * s, sh, sw),
                         writeable=False)
    out = np.tensordot(windows, w, axes=([1, 4, 5], [1, 2, 3]))  # (n, oh, ow, f)
    return out.transpose(0, 3, 1, 2) + b[None, :, None, None], (x, w, b, conv_param)


def conv_forward_tap_loop(x, w, b, conv_param):
    """Loops over the kernel taps, not the output pixels; keeps the input's float dtype."""
    s, p = _params(conv_param)
    xp = _padded(x, p)
    f, _, hh, ww = w.shape
    oh, ow = _out_size(xp.shape[2], hh, s), _out_size(xp.shape[3], ww, s)
    dtype = np.result_type(x, w, b)
    out = np.zeros((x.shape[0], f, oh, ow), dtype=dtype)
    for i in range(hh):
        for j in range(ww):
            patch = xp[:, :, i:i + s * (oh - 1) + 1:s, j:j + s * (ow - 1) + 1:s]
            out += np.einsum("nchw,fc->nfhw", patch, w[:, :, i, j])
    return out + b.astype(dtype)[None, :, None, None], (x, w, b, conv_param)


def conv_forward_loops_reordered(x, w, b, conv_param):
    """Output pixel loops outermost, batch and filters inside, with explicit sums."""
    s, p = _params(conv_param)
    xp = _padded(x, p)
    n, _, h, wd = xp.shape
    f, _, hh, ww = w.shape
    out = np.empty((n, f, _out_size(h, hh, s), _out_size(wd, ww, s)))
    for j in range(out.shape[3]):
        for i in range(out.shape[2]):
            for k in range(f):
                for m in range(n):
                    out[m, k, i, j] = np.sum(xp[m, :, i * s:i * s + hh, j * s:j * s + ww] * w[k]) + b[k]
    return out, (x, w, b, conv_param)


def conv_backward_add_at(dout, cache):
    """dx scattered with np.add.at over precomputed indices (col2im by hand)."""
    x, w, _, conv_param = cache
    s, p = _params(conv_param)
    xp = _padded(x, p)
    hh, ww = w.shape[2:]
    oh, ow = dout.shape[2:]
    rows = (np.arange(oh) * s)[:, None] + np.arange(hh)[None, :]  # (oh, hh)
    cols = (np.arange(ow) * s)[:, None] + np.arange(ww)[None, :]  # (ow, ww)
    windows = xp[:, :, rows[:, None, :, None], cols[None, :, None, :]]  # (n, c, oh, ow, hh, ww)
    dw = np.einsum("nfij,ncijpq->fcpq", dout, windows)
    contributions = np.einsum("nfij,fcpq->ncijpq", dout, w)
    dxp = np.zeros_like(xp)
    np.add.at(dxp, (slice(None), slice(None), rows[:, None, :, None], cols[None, :, None, :]),
              contributions)
    return dxp[:, :, p:p + x.shape[2], p:p + x.shape[3]], dw, dout.sum(axis=(0, 2, 3))


def conv_backward_tap_loop(dout, cache):
    """Loops over kernel taps: each tap is one strided slice of dx and of x."""
    x, w, _, conv_param = cache
    s, p = _params(conv_param)
    xp = _padded(x, p)
    _, _, hh, ww = w.shape
    oh, ow = dout.shape[2:]
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for i in range(hh):
        for j in range(ww):
            region = (slice(None), slice(None), slice(i, i + s * (oh - 1) + 1, s),
                      slice(j, j + s * (ow - 1) + 1, s))
            dxp[region] += np.einsum("nfhw,fc->nchw", dout, w[:, :, i, j])
            dw[:, :, i, j] = np.einsum("nfhw,nchw->fc", dout, xp[region])
    return dxp[:, :, p:p + x.shape[2], p:p + x.shape[3]], dw, np.einsum("nfhw->f", dout)


def _pool_windows(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    return sliding_window_view(x, (ph, pw), axis=(2, 3))[:, :, ::s, ::s]


def max_pool_forward_strided(x, pool_param):
    return _pool_windows(x, pool_param).max(axis=(4, 5)), (x, pool_param)


def avg_pool_forward_integral(x, pool_param):
    """An integral image (summed-area table): each window sum from four corners."""
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    table = np.zeros(x.shape[:2] + (x.shape[2] + 1, x.shape[3] + 1))
    table[:, :, 1:, 1:] = x.cumsum(axis=2).cumsum(axis=3)
    oh, ow = _out_size(x.shape[2], ph, s), _out_size(x.shape[3], pw, s)
    r, c = np.arange(oh)[:, None] * s, np.arange(ow)[None, :] * s
    sums = table[:, :, r + ph, c + pw] - table[:, :, r, c + pw] - table[:, :, r + ph, c] + table[:, :, r, c]
    return sums / (ph * pw), (x, pool_param)


def max_pool_backward_add_at(dout, cache):
    """Every window's argmax found at once, the gradients scattered with np.add.at."""
    x, pool_param = cache
    pw, s = pool_param["pool_width"], pool_param["stride"]
    windows = _pool_windows(x, pool_param)
    n, c, oh, ow = windows.shape[:4]
    flat = windows.reshape(n, c, oh, ow, -1).argmax(axis=4)
    rows = np.arange(oh)[None, None, :, None] * s + flat // pw
    cols = np.arange(ow)[None, None, None, :] * s + flat % pw
    dx = np.zeros_like(x)
    nn, cc = np.meshgrid(np.arange(n), np.arange(c), indexing="ij")
    np.add.at(dx, (nn[:, :, None, None], cc[:, :, None, None], rows, cols), dout)
    return dx


def max_pool_backward_channel_loop(dout, cache):
    """Channels outermost, a one-hot mask per window (the first maximum only: the notebook's
    tie rule), float32-safe accumulation in x's dtype."""
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    dx = np.zeros(x.shape, dtype=np.result_type(x, dout))
    for c in range(x.shape[1]):
        for n in range(x.shape[0]):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    window = x[n, c, i * s:i * s + ph, j * s:j * s + pw]
                    mask = np.zeros(window.shape, bool)
                    mask.flat[np.argmax(window)] = True
                    dx[n, c, i * s:i * s + ph, j * s:j * s + pw] += mask * dout[n, c, i, j]
    return dx


def avg_pool_backward_tap_loop(dout, cache):
    """Each tap of the window gets dout / (ph * pw) through one strided slice."""
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    oh, ow = dout.shape[2:]
    dx = np.zeros_like(x)
    share = dout / (ph * pw)
    for i in range(ph):
        for j in range(pw):
            dx[:, :, i:i + s * (oh - 1) + 1:s, j:j + s * (ow - 1) + 1:s] += share
    return dx


def conv_forward_im2col_own_columns(x, w, b, conv_param):
    """Columns built from sliding_window_view, one matmul, then back to (N, F, H', W')."""
    s, p = _params(conv_param)
    f, c, hh, ww = w.shape
    windows = sliding_window_view(_padded(x, p), (hh, ww), axis=(2, 3))[:, :, ::s, ::s]
    n, _, oh, ow = windows.shape[:4]
    cols = windows.transpose(1, 4, 5, 0, 2, 3).reshape(c * hh * ww, n * oh * ow)
    out = (w.reshape(f, -1) @ cols + b[:, None]).reshape(f, n, oh, ow)
    return out.transpose(1, 0, 2, 3), (x, w, b, conv_param, cols)  # its own layout of cols


def convnet_loss_float64_copies(model, X, y=None):
    """The layers in order, the penalty with np.vdot, gradients in one comprehension."""
    p = {k: np.asarray(v, dtype=model.dtype) for k, v in model.params.items()}
    h1, c1 = conv_relu_pool_forward(X.astype(model.dtype), p["W1"], p["b1"], model.conv_param,
                                    model.pool_param)
    h2, c2 = affine_relu_forward(h1, p["W2"], p["b2"])
    scores, c3 = affine_forward(h2, p["W3"], p["b3"])
    if y is None:
        return scores
    data_loss, dscores = softmax_loss(scores, y)
    dh2, dW3, db3 = affine_backward(dscores, c3)
    dh1, dW2, db2 = affine_relu_backward(dh2, c2)
    _, dW1, db1 = conv_relu_pool_backward(dh1, c1)
    raw = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "W3": dW3, "b3": db3}
    weights = [k for k in raw if k.startswith("W")]
    loss = data_loss + 0.5 * model.reg * sum(np.vdot(p[k], p[k]) for k in weights)
    return float(loss), {k: g + model.reg * p[k] if k in weights else g for k, g in raw.items()}


def conv_forward_empty_filled(x, w, b, conv_param):
    """np.empty, every entry assigned before it is read; a copy of conv_param in the cache."""
    s, p = _params(conv_param)
    xp = _padded(x, p)
    f, _, hh, ww = w.shape
    oh, ow = _out_size(xp.shape[2], hh, s), _out_size(xp.shape[3], ww, s)
    out = np.empty((x.shape[0], f, oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = xp[:, :, i * s:i * s + hh, j * s:j * s + ww]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, dict(conv_param))


def max_pool_backward_vectorised_first(dout, cache):
    """All windows at once: argmax over the flattened window picks the first maximum."""
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    n, c, oh, ow = dout.shape
    windows = sliding_window_view(x, (ph, pw), axis=(2, 3))[:, :, ::s, ::s][:, :, :oh, :ow]
    k = windows.reshape(n, c, oh, ow, ph * pw).argmax(axis=-1)
    p, q = np.divmod(k, pw)
    rows = np.arange(oh)[None, None, :, None] * s + p
    cols = np.arange(ow)[None, None, None, :] * s + q
    dx = np.zeros_like(x)
    np.add.at(dx, (np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None], rows, cols),
              dout)
    return dx


def convnet_loss_logsumexp(model, X, y=None):
    """Its own softmax, stable through logsumexp; everything else from the layers."""
    p = model.params
    h1, c1 = conv_relu_pool_forward(X, p["W1"], p["b1"], model.conv_param, model.pool_param)
    h2, c2 = affine_relu_forward(h1, p["W2"], p["b2"])
    scores, c3 = affine_forward(h2, p["W3"], p["b3"])
    if y is None:
        return scores
    top = scores.max(axis=1, keepdims=True)
    log_z = top[:, 0] + np.log(np.exp(scores - top).sum(axis=1))
    n = len(y)
    loss = float(np.mean(log_z - scores[np.arange(n), y]))
    dscores = np.exp(scores - log_z[:, None])
    dscores[np.arange(n), y] -= 1
    dscores /= n
    dh2, dW3, db3 = affine_backward(dscores, c3)
    dh1, dW2, db2 = affine_relu_backward(dh2, c2)
    _, dW1, db1 = conv_relu_pool_backward(dh1, c1)
    grads = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "W3": dW3, "b3": db3}
    for k in ("W1", "W2", "W3"):
        loss += 0.5 * model.reg * float(np.sum(p[k] ** 2))
        grads[k] = grads[k] + model.reg * p[k]
    return loss, grads


UNUSUAL = {
    "conv_forward": [conv_forward_as_strided, conv_forward_tap_loop, conv_forward_loops_reordered,
                     conv_forward_empty_filled],
    "conv_backward": [conv_backward_add_at, conv_backward_tap_loop],
    "max_pool_forward": [max_pool_forward_strided],
    "avg_pool_forward": [avg_pool_forward_integral],
    "max_pool_backward": [max_pool_backward_add_at, max_pool_backward_channel_loop,
                          max_pool_backward_vectorised_first],
    "avg_pool_backward": [avg_pool_backward_tap_loop],
    "conv_forward_im2col": [conv_forward_im2col_own_columns],
    "convnet_loss": [convnet_loss_float64_copies, convnet_loss_logsumexp],
}
