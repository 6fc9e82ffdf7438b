r"""Fast convolution layer built on ``im2col``.

A conv layer computes a cross-correlation over channels, plus a bias:

.. math::

    \text{out}[n, f, oh, ow] = b_f + \sum_{c, i, j} w[f, c, i, j]\,
        x_{\text{pad}}[n, c,\ oh \cdot s + i \cdot d,\ ow \cdot s + j \cdot d].

With ``cols = im2col(x, ...)`` that sum is ``w.reshape(F, -1) @ cols``, and the
backward pass is two more products: ``dw = dout @ cols^T`` and
``dcols = w^T @ dout``, followed by ``col2im`` to send dcols back to the pixels.

Both passes work on a few images at a time, in the tap-major layout of
``_tap_columns`` (each kernel tap is one contiguous copy), so the whole column
matrix never exists at once and each chunk stays in the CPU cache. The bias rides
along as an extra row of ones in the columns, so the matrix multiply adds it and
the backward pass gets db from the same product as dw.
"""

import numpy as np

from ._threads import single_blas_thread
from ._tap_columns import SPARE_BYTES, TapColumns, fill, scatter
from ._validate import as_array, expect_shape, float_dtype, int_pair, require_keys
from .im2col import _geometry

# Bytes of workspace (columns and phase planes) per chunk of images: small enough
# to stay in the CPU cache, large enough that each matrix multiply is efficient.
CHUNK_BYTES = 4 * 1024 * 1024


def _conv_geometry(conv_param, x_shape, w_shape):
    require_keys("conv_param", conv_param, ("stride", "pad"))
    stride = int_pair("conv_param['stride']", conv_param["stride"], 1)
    pad = int_pair("conv_param['pad']", conv_param["pad"], 0)
    dilation = int_pair("conv_param['dilation']", conv_param.get("dilation", 1), 1)
    return _geometry(x_shape, w_shape[2], w_shape[3], stride, pad, dilation)


def _chunk_images(bytes_per_image, n):
    """Images per chunk, so a chunk's workspace stays in the CPU cache; at most half
    the batch, so for two images or more the workspace (up to about two column
    matrices per image) stays below one column matrix of the whole batch."""
    return max(1, min(CHUNK_BYTES // max(1, bytes_per_image), n // 2))


def _kernel_rows(w):
    """w (F, C, HH, WW) as (F, HH*WW*C) rows in the tap-major order of the columns."""
    return w.transpose(0, 2, 3, 1).reshape(w.shape[0], -1)


class _Workspace:
    """Buffers for one pass, sized for the largest chunk and reused by every chunk,
    with the views each chunk size needs computed once."""

    def __init__(self, plan, n, filters, dtype, backward):
        self.plan, self.backward = plan, backward
        k = plan.kernel_size
        per_image = (k + 1 + plan.phases * plan.channels) * plan.plane
        if backward:
            per_image += (k + plan.phases * plan.channels) * plan.plane
        if not plan.writes_output_directly:
            per_image += filters * plan.run
        self.step = _chunk_images(per_image * dtype.itemsize, n)
        self.planes = plan.plane_buffer(self.step, dtype)
        self.columns = np.empty((k + 1) * self.step * plan.plane + SPARE_BYTES // dtype.itemsize, dtype)
        if backward:
            self.d_planes = np.empty_like(self.planes)
            # Written only up to each plane's run, so the rest stays zero for scatter.
            self.d_columns = np.zeros(k * self.step * plan.plane, dtype)
        if not plan.writes_output_directly:
            # Junk columns stay zero: they must add nothing to dw, db or dx.
            self.wide = np.zeros((self.step, filters, plan.out[0], plan.row), dtype)
        self._views = {}

    def chunks(self, n):
        for start in range(0, n, self.step):
            yield start, min(n, start + self.step)

    def views(self, count):
        """(columns, their runs and wrapped entries, the same for d_columns) for a
        chunk of ``count`` images."""
        if count not in self._views:
            plan = self.plan
            columns = plan.column_rows(self.columns, count, plan.kernel_size + 1, self.planes)
            forward = (columns, plan.runs(self.planes, columns), plan.wrapped(columns))
            backward = None
            if self.backward:
                d_columns = plan.column_rows(self.d_columns, count, plan.kernel_size)
                backward = (d_columns, plan.runs(self.d_planes, d_columns), plan.wrapped(d_columns))
            self._views[count] = forward, backward
        return self._views[count]

    def columns_for(self, x_chunk):
        """The (n, K + 1, L) column matrices of x_chunk; the last row is ones (bias)."""
        plan = self.plan
        (columns, runs, wrapped), _ = self.views(x_chunk.shape[0])
        plan.load(self.planes, x_chunk)
        fill(runs, wrapped)
        columns[-1, :, : plan.run] = 1
        return columns[:, :, : plan.run].transpose(1, 0, 2)


@single_blas_thread  # its products are one chunk of a few images: small
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
    n, f = x.shape[0], w.shape[0]
    plan = TapColumns(x.shape, geometry)
    # The bias is the weight of the columns' row of ones.
    w_rows = np.concatenate([_kernel_rows(w), b[:, None]], axis=1).astype(dtype, copy=False)

    out = np.empty((n, f) + plan.out, dtype=dtype)
    work = _Workspace(plan, n, f, dtype, backward=False)
    for start, stop in work.chunks(n):
        columns = work.columns_for(xs[start:stop])
        if plan.writes_output_directly:
            np.matmul(w_rows, columns, out=out[start:stop].reshape(stop - start, f, plan.run))
        else:
            wide = work.wide[: stop - start]
            np.matmul(w_rows, columns, out=wide.reshape(stop - start, f, plan.run))
            out[start:stop] = wide[..., : plan.out[1]]
    return out, (x, w, b, conv_param)


@single_blas_thread
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
    n, f = x.shape[0], w.shape[0]
    plan = TapColumns(x.shape, geometry)
    expect_shape("dout", dout, (n, f) + plan.out, "(N, F, H', W'), the shape of the forward output")
    dtype = float_dtype(x, w, b)
    xs = x.astype(dtype, copy=False)
    w_rows = _kernel_rows(w).astype(dtype, copy=False)
    dout = np.ascontiguousarray(dout, dtype=dtype)

    k = plan.kernel_size
    dw_db = np.zeros((f, k + 1), dtype=dtype)  # the last column, against the ones, is db
    dx = np.empty(x.shape, dtype=dtype)
    work = _Workspace(plan, n, f, dtype, backward=True)
    for start, stop in work.chunks(n):
        count = stop - start
        columns = work.columns_for(xs[start:stop])
        if plan.writes_output_directly:
            grad = dout[start:stop].reshape(count, f, plan.run)
        else:
            work.wide[:count, ..., : plan.out[1]] = dout[start:stop]
            grad = work.wide[:count].reshape(count, f, plan.run)
        dw_db += np.matmul(grad, columns.transpose(0, 2, 1)).sum(axis=0)
        d_columns, d_runs, d_wrapped = work.views(count)[1]
        np.matmul(w_rows.T, grad, out=d_columns[:, :, : plan.run].transpose(1, 0, 2))
        work.d_planes.fill(0)
        scatter(d_runs, d_wrapped)
        plan.unload(work.d_planes, dx[start:stop])
    dw = dw_db[:, :k].reshape(f, *w.shape[2:], w.shape[1]).transpose(0, 3, 1, 2)
    return dx, np.ascontiguousarray(dw), dw_db[:, k].copy()
