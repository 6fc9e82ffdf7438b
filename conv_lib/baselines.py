"""Slow baselines the benchmark measures conv_lib against. Not for training.

- ``conv_forward_loops``: the naive four-loop convolution a student writes first.
- ``textbook_conv_forward`` / ``textbook_conv_backward``: the im2col found in
  most course notes: pad x, fill a zero 6-D buffer, transpose and reshape it
  into (C*HH*WW, N*H'*W'), one ``np.dot``, transpose the output back, and a
  col2im that adds slices into a padded buffer before cropping it.
"""

import numpy as np


def _out_size(size, field, stride, pad):
    return 1 + (size + 2 * pad - field) // stride


def conv_forward_loops(x, w, b, stride, pad):
    n, _, height, width = x.shape
    f, _, hh, ww = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out_h, out_w = _out_size(height, hh, stride, pad), _out_size(width, ww, stride, pad)
    out = np.zeros((n, f, out_h, out_w), dtype=x.dtype)
    for i in range(n):
        for k in range(f):
            for r in range(out_h):
                for c in range(out_w):
                    window = xp[i, :, r * stride : r * stride + hh, c * stride : c * stride + ww]
                    out[i, k, r, c] = np.sum(window * w[k]) + b[k]
    return out


def textbook_conv_forward(x, w, b, stride, pad):
    n, c, height, width = x.shape
    f, _, hh, ww = w.shape
    out_h, out_w = _out_size(height, hh, stride, pad), _out_size(width, ww, stride, pad)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols6 = np.zeros((c, hh, ww, n, out_h, out_w), dtype=x.dtype)
    xp_t = xp.transpose(1, 0, 2, 3)
    for i in range(hh):
        for j in range(ww):
            cols6[:, i, j] = xp_t[:, :, i : i + stride * out_h : stride, j : j + stride * out_w : stride]
    cols = cols6.reshape(c * hh * ww, -1)
    out = np.dot(w.reshape(f, -1), cols) + b[:, None]
    out = out.reshape(f, n, out_h, out_w).transpose(1, 0, 2, 3).copy()
    return out, (x, w, b, stride, pad, cols)


def textbook_conv_backward(dout, cache):
    x, w, _, stride, pad, cols = cache
    n, c, height, width = x.shape
    f, _, hh, ww = w.shape
    out_h, out_w = dout.shape[2:]
    db = dout.sum(axis=(0, 2, 3))
    dout_t = dout.transpose(1, 0, 2, 3).reshape(f, -1)
    dw = np.dot(dout_t, cols.T).reshape(w.shape)
    dcols6 = np.dot(w.reshape(f, -1).T, dout_t).reshape(c, hh, ww, n, out_h, out_w)
    dxp = np.zeros((c, n, height + 2 * pad, width + 2 * pad), dtype=x.dtype)
    for i in range(hh):
        for j in range(ww):
            dxp[:, :, i : i + stride * out_h : stride, j : j + stride * out_w : stride] += dcols6[:, i, j]
    dx = dxp[:, :, pad : pad + height, pad : pad + width].transpose(1, 0, 2, 3).copy()
    return dx, dw, db
