r"""im2col and col2im: turn a convolution into one matrix multiply.

The column matrix
-----------------
For an input ``x`` of shape (N, C, H, W) and a kernel of HH x WW taps,
``im2col`` returns ``cols`` of shape (N, C * HH * WW, H' * W'), where

* row ``(c * HH + i) * WW + j`` holds what kernel tap (c, i, j) sees, and
* column ``oh * W' + ow`` is output position (oh, ow), so

.. math::

    \text{cols}[n, (c, i, j), (oh, ow)]
        = x_{\text{pad}}[n,\ c,\ oh \cdot s_h + i \cdot d_h,\ ow \cdot s_w + j \cdot d_w].

Rows are ordered exactly like ``w.reshape(F, -1)``, so a convolution is
``w.reshape(F, -1) @ cols``: one (F, C*HH*WW) x (C*HH*WW, H'*W') product per image,
and the result is already in (N, F, H', W') order, with no transpose.

Both functions loop over the HH * WW kernel taps only. Each tap is a single
strided slice copy, and the padding is never materialised: taps that fall in
the padding simply leave zeros behind, so the only memory used is ``cols``.
``col2im`` is the adjoint (the transpose) of ``im2col``: it adds every column
entry back onto the input pixel it came from, which is what the backward pass
needs.
"""

import numpy as np

from ._validate import as_array, int_pair


def output_size(size, field, stride, pad, dilation=1):
    """Length of one output axis, using floor division as PyTorch does.

    ``1 + (size + 2 * pad - dilation * (field - 1) - 1) // stride``. Windows that
    would hang over the padded edge are dropped, never rounded up.
    """
    return 1 + (size + 2 * pad - dilation * (field - 1) - 1) // stride


def _tap_slices(size, out_size, tap, stride, pad, dilation):
    """Where kernel tap ``tap`` reads inside the unpadded input along one axis.

    Output position o reads input index ``o * stride + tap * dilation - pad``. Returns
    (output slice, input slice) covering exactly the o for which that index is
    inside [0, size); the other outputs of this tap look at padding (zeros).
    """
    offset = tap * dilation - pad
    first = max(0, -(offset // stride))  # ceil(-offset / stride), at least 0
    stop = min(out_size, (size - 1 - offset) // stride + 1)
    if stop <= first:
        return slice(0, 0), slice(0, 0)
    start_in = first * stride + offset
    return slice(first, stop), slice(start_in, (stop - 1) * stride + offset + 1, stride)


def _geometry(x_shape, field_height, field_width, stride, pad, dilation):
    """Validated (hw pairs, output size) for a kernel over ``x_shape``."""
    field = int_pair("field size", (field_height, field_width), 1)
    stride = int_pair("stride", stride, 1)
    pad = int_pair("pad", pad, 0)
    dilation = int_pair("dilation", dilation, 1)
    height, width = x_shape[2], x_shape[3]
    reach = tuple(d * (f - 1) + 1 for d, f in zip(dilation, field))
    padded = (height + 2 * pad[0], width + 2 * pad[1])
    if reach[0] > padded[0] or reach[1] > padded[1]:
        raise ValueError(
            f"kernel of {field[0]}x{field[1]} taps (dilation {dilation}) spans "
            f"{reach[0]}x{reach[1]} pixels, larger than the padded input "
            f"{padded[0]}x{padded[1]} (H, W = {height}x{width}, pad {pad}); "
            f"it needs to fit inside H + 2*pad by W + 2*pad"
        )
    out = (
        output_size(height, field[0], stride[0], pad[0], dilation[0]),
        output_size(width, field[1], stride[1], pad[1], dilation[1]),
    )
    return field, stride, pad, dilation, out


def _taps(x_shape, field, stride, pad, dilation, out):
    """Yield (i, j, output slices, input slices) for every kernel tap."""
    height, width = x_shape[2], x_shape[3]
    for i in range(field[0]):
        out_rows, in_rows = _tap_slices(height, out[0], i, stride[0], pad[0], dilation[0])
        for j in range(field[1]):
            out_cols, in_cols = _tap_slices(width, out[1], j, stride[1], pad[1], dilation[1])
            yield i, j, (out_rows, out_cols), (in_rows, in_cols)


def fill_columns(x, cols, geometry):
    """Write im2col(x) into ``cols``, an (N, C, HH, WW, H', W') buffer that may hold
    old values: entries that fall in the padding are set to zero."""
    field, stride, pad, dilation, out = geometry
    for i, j, out_idx, in_idx in _taps(x.shape, field, stride, pad, dilation, out):
        tap = cols[:, :, i, j]
        rows, columns = out_idx
        tap[:, :, rows, columns] = x[:, :, in_idx[0], in_idx[1]]
        # Only border taps see padding; these strips are empty for the rest.
        tap[:, :, : rows.start] = 0
        tap[:, :, rows.stop :] = 0
        tap[:, :, :, : columns.start] = 0
        tap[:, :, :, columns.stop :] = 0
    return cols


def add_columns(cols, dx, geometry):
    """The adjoint of ``fill_columns``: add each entry of ``cols`` (N, C, HH, WW, H', W')
    onto the pixel of ``dx`` it came from; entries from the padding are dropped."""
    field, stride, pad, dilation, out = geometry
    for i, j, out_idx, in_idx in _taps(dx.shape, field, stride, pad, dilation, out):
        dx[:, :, in_idx[0], in_idx[1]] += cols[:, :, i, j, out_idx[0], out_idx[1]]
    return dx


def im2col(x, field_height, field_width, stride=1, pad=0, dilation=1):
    """Gather every receptive field of ``x`` into the columns of a matrix.

    Inputs:
    - x: input of shape (N, C, H, W).
    - field_height, field_width: kernel size HH, WW.
    - stride, pad, dilation: ints or (h, w) pairs; zero padding is implicit.

    Returns:
    - cols: array of shape (N, C * HH * WW, H' * W'), same dtype as x, laid out
      as described in this module's docstring.
    """
    x = as_array("x", x, 4, "(N, C, H, W)")
    geometry = _geometry(x.shape, field_height, field_width, stride, pad, dilation)
    field, out = geometry[0], geometry[4]
    n, c = x.shape[:2]
    cols = np.empty((n, c, field[0], field[1]) + out, dtype=x.dtype)
    fill_columns(x, cols, geometry)
    return cols.reshape(n, c * field[0] * field[1], out[0] * out[1])


def col2im(cols, x_shape, field_height, field_width, stride=1, pad=0, dilation=1):
    """The adjoint of ``im2col``: add each column entry back onto its input pixel.

    Pixels seen by several windows (overlap) receive the sum of their entries;
    entries that came from the padding are dropped, so the result is already
    cropped to x's shape.

    Inputs:
    - cols: array of shape (N, C * HH * WW, H' * W').
    - x_shape: the shape (N, C, H, W) of the input that ``im2col`` read.
    - field_height, field_width, stride, pad, dilation: as for ``im2col``.

    Returns:
    - dx: array of shape x_shape, same dtype as cols.
    """
    x_shape = tuple(int(s) for s in x_shape)
    if len(x_shape) != 4:
        raise ValueError(f"x_shape must be (N, C, H, W), got {x_shape}")
    geometry = _geometry(x_shape, field_height, field_width, stride, pad, dilation)
    field, out = geometry[0], geometry[4]
    n, c = x_shape[:2]
    expected = (n, c * field[0] * field[1], out[0] * out[1])
    cols = as_array("cols", cols, 3, "(N, C*HH*WW, H'*W')")
    if cols.shape != expected:
        raise ValueError(f"cols must have shape {expected} (N, C*HH*WW, H'*W'), got {cols.shape}")
    dx = np.zeros(x_shape, dtype=cols.dtype)
    return add_columns(cols.reshape((n, c) + field + out), dx, geometry)
