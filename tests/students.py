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



# ------------------------------------------------- notebook 6: normalisation, in loops


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    """Channel by channel, with Python sums; the running averages stored back in bn_param."""
    c_ = x.shape[1]
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    running_mean = np.array(bn_param.get("running_mean", np.zeros(c_)), dtype=float)
    running_var = np.array(bn_param.get("running_var", np.zeros(c_)), dtype=float)
    out = np.empty_like(x)
    rows = []
    for c in range(c_):
        values = x[:, c].ravel()
        if bn_param["mode"] == "train":
            mean = sum(values) / len(values)
            var = sum((v - mean) ** 2 for v in values) / len(values)
            running_mean[c] = momentum * running_mean[c] + (1 - momentum) * mean
            running_var[c] = momentum * running_var[c] + (1 - momentum) * var
        else:
            mean, var = running_mean[c], running_var[c]
        out[:, c] = gamma[c] * (x[:, c] - mean) / np.sqrt(var + eps) + beta[c]
        rows.append(np.sqrt(var + eps))
    if bn_param["mode"] == "train":
        bn_param["running_mean"], bn_param["running_var"] = running_mean, running_var
    x_hat = ((out - beta[:, None, None]) / gamma[:, None, None]).transpose(0, 2, 3, 1).reshape(-1, c_)
    return out, (x_hat, gamma, np.array(rows))


def spatial_batchnorm_backward(dout, cache):
    """With the cache of conv_lib's batchnorm_forward: x_hat (N * H * W, C), gamma, std."""
    x_hat, gamma, std = cache
    n_, c_, h, w = dout.shape
    dx = np.empty_like(dout)
    dgamma, dbeta = np.zeros(c_), np.zeros(c_)
    for c in range(c_):
        g = dout[:, c].ravel()  # (n, i, j) order, as the rows are
        xh = x_hat[:, c]
        dbeta[c] = g.sum()
        dgamma[c] = (g * xh).sum()
        gg = g * gamma[c]
        d = (gg - gg.mean() - xh * (gg * xh).mean()) / std[c]
        dx[:, c] = d.reshape(n_, h, w)
    return dx, dgamma, dbeta


def _group_statistics(x, groups, eps):
    n_, c_ = x.shape[:2]
    size = c_ // groups
    stats = {}
    for n in range(n_):
        for g in range(groups):
            values = x[n, g * size:(g + 1) * size].ravel()
            mean = sum(values) / len(values)
            var = sum((v - mean) ** 2 for v in values) / len(values)
            stats[n, g] = (mean, np.sqrt(var + eps))
    return stats, size


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    stats, size = _group_statistics(x, G, gn_param.get("eps", 1e-5))
    out = np.empty_like(x)
    for (n, g), (mean, std) in stats.items():
        block = slice(g * size, (g + 1) * size)
        out[n, block] = gamma[0, block] * (x[n, block] - mean) / std + beta[0, block]
    return out, (x, gamma, beta, G, gn_param)


def spatial_groupnorm_backward(dout, cache):
    x, gamma, _, groups, gn_param = cache
    stats, size = _group_statistics(x, groups, gn_param.get("eps", 1e-5))
    dx = np.empty_like(x)
    dgamma, dbeta = np.zeros_like(gamma), np.zeros_like(gamma)
    for (n, g), (mean, std) in stats.items():
        block = slice(g * size, (g + 1) * size)
        x_hat = (x[n, block] - mean) / std
        dgamma[0, block] += (dout[n, block] * x_hat).sum(axis=(1, 2))[:, None, None]
        dbeta[0, block] += dout[n, block].sum(axis=(1, 2))[:, None, None]
        gg = dout[n, block] * gamma[0, block]
        dx[n, block] = (gg - gg.mean() - x_hat * (gg * x_hat).mean()) / std
    return dx, dgamma, dbeta
