r"""Fast convolution layer built on ``im2col``.

A conv layer computes a cross-correlation over channels, plus a bias:

.. math::

    \text{out}[n, f, oh, ow] = b_f + \sum_{c, i, j} w[f, c, i, j]\,
        x_{\text{pad}}[n, c,\ oh \cdot s + i \cdot d,\ ow \cdot s + j \cdot d].

With ``cols = im2col(x, ...)`` that sum is ``w.reshape(F, -1) @ cols``, and the
backward pass is two more products: ``dw = dout @ cols^T`` and
``dcols = w^T @ dout``, followed by ``col2im`` to send dcols back to the pixels.

Both passes work on a few images at a time, so each chunk of columns is built
in a small buffer that stays in the CPU cache, and the whole column matrix
never exists at once: copies run at cache speed and memory stays small.
"""

import numpy as np

from ._validate import as_array, expect_shape, float_dtype, int_pair, require_keys
from .im2col import _geometry, add_columns, fill_columns

# Bytes of column matrix handled at once: small enough to stay in cache, large
# enough that each matrix multiply is efficient.
CHUNK_BYTES = 4 * 1024 * 1024


def _conv_geometry(conv_param, x_shape, w_shape):
    require_keys("conv_param", conv_param, ("stride", "pad"))
    stride = int_pair("conv_param['stride']", conv_param["stride"], 1)
    pad = int_pair("conv_param['pad']", conv_param["pad"], 0)
    dilation = int_pair("conv_param['dilation']", conv_param.get("dilation", 1), 1)
    return _geometry(x_shape, w_shape[2], w_shape[3], stride, pad, dilation)


def _chunk_images(bytes_per_image, n):
    """Images per chunk, so a chunk's columns stay in the CPU cache; never the whole
    batch (when there is more than one image), so the buffer stays below one full
    column matrix."""
    return max(1, min(CHUNK_BYTES // max(1, bytes_per_image), -(-n // 2)))


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
    - cache: (x, w, b, conv_param). The backward pass rebuilds the columns
      chunk by chunk instead of keeping the whole column matrix alive.
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
    geometry = _conv_geometry(conv_param, x.shape, w.shape)
    dtype = float_dtype(x, w, b)
    xs = x.astype(dtype, copy=False)
    w_rows = w.reshape(w.shape[0], -1).astype(dtype, copy=False)

    n, c = x.shape[:2]
    f, k = w_rows.shape
    out_hw = geometry[4]
    positions = out_hw[0] * out_hw[1]
    out = np.empty((n, f, positions), dtype=dtype)
    step = _chunk_images(k * positions * dtype.itemsize, n)
    buffer = np.empty((min(step, n), c, *w.shape[2:], *out_hw), dtype=dtype)
    for start in range(0, n, step):
        stop = min(n, start + step)
        cols = fill_columns(xs[start:stop], buffer[: stop - start], geometry)
        # (F, K) @ (n, K, H'W') lands directly in NCHW order: no transpose.
        np.matmul(w_rows, cols.reshape(stop - start, k, positions), out=out[start:stop])
    out += b.astype(dtype, copy=False)[:, None]
    return out.reshape(n, f, *out_hw), (x, w, b, conv_param)


def conv_backward_fast(dout, cache):
    """Backward pass of a convolutional layer.

    Inputs:
    - dout: upstream derivatives of shape (N, F, H', W').
    - cache: the tuple (x, w, b, conv_param) from conv_forward_fast.

    Returns a tuple of:
    - dx: gradient with respect to x, shape (N, C, H, W).
    - dw: gradient with respect to w, shape (F, C, HH, WW).
    - db: gradient with respect to b, shape (F,).
    """
    x, w, b, conv_param = cache
    geometry = _conv_geometry(conv_param, x.shape, w.shape)
    out_hw = geometry[4]
    n, c = x.shape[:2]
    f = w.shape[0]
    expect_shape("dout", dout, (n, f) + out_hw, "(N, F, H', W'), the shape of the forward output")
    dtype = float_dtype(x, w, b)
    xs = x.astype(dtype, copy=False)
    w_rows = w.reshape(f, -1).astype(dtype, copy=False)
    k = w_rows.shape[1]
    positions = out_hw[0] * out_hw[1]
    dout_rows = dout.astype(dtype, copy=False).reshape(n, f, positions)

    db = dout_rows.sum(axis=(0, 2))
    dw = np.zeros((f, k), dtype=dtype)
    dx = np.zeros(x.shape, dtype=dtype)
    step = _chunk_images(k * positions * dtype.itemsize, n)
    shape = (min(step, n), c, *w.shape[2:], *out_hw)
    cols_buffer, dcols_buffer = np.empty(shape, dtype=dtype), np.empty(shape, dtype=dtype)
    for start in range(0, n, step):
        stop = min(n, start + step)
        count = stop - start
        cols = fill_columns(xs[start:stop], cols_buffer[:count], geometry)
        grad = dout_rows[start:stop]
        dw += np.matmul(grad, cols.reshape(count, k, positions).transpose(0, 2, 1)).sum(axis=0)
        dcols = dcols_buffer[:count]
        np.matmul(w_rows.T, grad, out=dcols.reshape(count, k, positions))
        add_columns(dcols, dx[start:stop], geometry)
    return dx, dw.reshape(w.shape), db
