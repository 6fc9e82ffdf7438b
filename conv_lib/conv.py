r"""Fast convolution layer built on ``im2col``.

A conv layer computes a cross-correlation over channels, plus a bias:

.. math::

    \text{out}[n, f, oh, ow] = b_f + \sum_{c, i, j} w[f, c, i, j]\,
        x_{\text{pad}}[n, c,\ oh \cdot s + i \cdot d,\ ow \cdot s + j \cdot d].

With ``cols = im2col(x, ...)`` that sum is ``w.reshape(F, -1) @ cols``, and the
backward pass is two more products: ``dw = dout @ cols^T`` and
``dcols = w^T @ dout``, followed by ``col2im`` to send dcols back to the pixels.
"""

import numpy as np

from ._validate import as_array, expect_shape, float_dtype, int_pair, require_keys
from .im2col import _geometry, col2im, im2col


def _conv_geometry(conv_param, x_shape, w_shape):
    require_keys("conv_param", conv_param, ("stride", "pad"))
    stride = int_pair("conv_param['stride']", conv_param["stride"], 1)
    pad = int_pair("conv_param['pad']", conv_param["pad"], 0)
    dilation = int_pair("conv_param['dilation']", conv_param.get("dilation", 1), 1)
    return _geometry(x_shape, w_shape[2], w_shape[3], stride, pad, dilation)


def conv_forward_fast(x, w, b, conv_param):
    """Forward pass of a convolutional layer.

    Inputs:
    - x: input data of shape (N, C, H, W).
    - w: filter weights of shape (F, C, HH, WW).
    - b: biases of shape (F,).
    - conv_param: dict with keys
      - 'stride': step between windows, an int or an (h, w) pair, each >= 1;
      - 'pad': zero padding on every side, an int or an (h, w) pair, each >= 0;
      - 'dilation' (optional, default 1): spacing between kernel taps.

    Returns a tuple of:
    - out: output of shape (N, F, H', W'), where
      H' = 1 + (H + 2 * pad - dilation * (HH - 1) - 1) // stride, and likewise W'.
      float32 inputs give float32 output; otherwise float64.
    - cache: (x, w, b, conv_param, cols), where cols = im2col(x) is kept for
      the backward pass.
    """
    x = as_array("x", x, 4, "(N, C, H, W)")
    w = as_array("w", w, 4, "(F, C, HH, WW)")
    b = as_array("b", b, 1, "(F,)")
    if w.shape[1] != x.shape[1]:
        raise ValueError(
            f"w must have the same channel count C as x: x has shape {x.shape} "
            f"(C = {x.shape[1]}), w has shape {w.shape} (C = {w.shape[1]}); "
            f"w needs shape (F, {x.shape[1]}, HH, WW)"
        )
    expect_shape("b", b, (w.shape[0],), "(F,), one bias per filter")
    field, stride, pad, dilation, out_hw = _conv_geometry(conv_param, x.shape, w.shape)

    dtype = float_dtype(x, w, b)
    cols = im2col(x.astype(dtype, copy=False), *field, stride, pad, dilation)
    w_rows = w.reshape(w.shape[0], -1).astype(dtype, copy=False)
    out = np.matmul(w_rows, cols)  # (N, F, H'W'): already in NCHW order
    out += b.astype(dtype, copy=False)[:, None]
    out = out.reshape(x.shape[0], w.shape[0], *out_hw)
    return out, (x, w, b, conv_param, cols)


def conv_backward_fast(dout, cache):
    """Backward pass of a convolutional layer.

    Inputs:
    - dout: upstream derivatives of shape (N, F, H', W').
    - cache: the tuple (x, w, b, conv_param, cols) from conv_forward_fast.

    Returns a tuple of:
    - dx: gradient with respect to x, shape (N, C, H, W).
    - dw: gradient with respect to w, shape (F, C, HH, WW).
    - db: gradient with respect to b, shape (F,).
    """
    x, w, _, conv_param, cols = cache
    field, stride, pad, dilation, out_hw = _conv_geometry(conv_param, x.shape, w.shape)
    n, f = x.shape[0], w.shape[0]
    expect_shape("dout", dout, (n, f) + out_hw, "(N, F, H', W'), the shape of the forward output")
    dtype = cols.dtype
    dout_rows = dout.astype(dtype, copy=False).reshape(n, f, -1)
    w_rows = w.reshape(f, -1).astype(dtype, copy=False)

    db = dout_rows.sum(axis=(0, 2))
    dw = np.matmul(dout_rows, cols.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)
    dcols = np.matmul(w_rows.T, dout_rows)
    dx = col2im(dcols, x.shape, *field, stride, pad, dilation)
    return dx, dw, db
