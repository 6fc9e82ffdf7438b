r"""Fast max, average and global average pooling.

A pooling window of PH x PW pixels slides over each channel with step ``stride``:

.. math::

    \text{out}[n, c, oh, ow] = \operatorname{reduce}_{0 \le i < PH,\ 0 \le j < PW}
        x[n, c,\ oh \cdot s + i,\ ow \cdot s + j],
    \qquad H' = 1 + (H - PH) // s.

Any stride works, including stride < window (overlapping windows), and the
output size is floored: pixels past the last full window are ignored and get
zero gradient.

The reduction is separable, so it runs in two passes: first along the width
(over the PW taps of each window row), then along the height (over the PH
rows). Each pass loops over window taps only, never over N, C, H or W.

Max-pool tie rule: when a window holds several equal maxima, the whole gradient
goes to the first one in row-major order (smallest row, then smallest column),
as in cs231n's reference and in PyTorch's CPU kernel.
"""

import numpy as np

from ._validate import as_array, expect_shape, float_dtype, int_pair, require_keys


def _pool_geometry(x_shape, pool_param):
    require_keys("pool_param", pool_param, ("pool_height", "pool_width", "stride"))
    window = (
        int_pair("pool_param['pool_height']", pool_param["pool_height"], 1)[0],
        int_pair("pool_param['pool_width']", pool_param["pool_width"], 1)[0],
    )
    stride = int_pair("pool_param['stride']", pool_param["stride"], 1)
    height, width = x_shape[2], x_shape[3]
    if window[0] > height or window[1] > width:
        raise ValueError(
            f"pool window {window[0]}x{window[1]} is larger than the input "
            f"{height}x{width} (x has shape {x_shape}); it needs "
            f"pool_height <= H and pool_width <= W"
        )
    out = (1 + (height - window[0]) // stride[0], 1 + (width - window[1]) // stride[1])
    return window, stride, out


def _taps(axis, window, stride, out):
    """Slices that pick, for every output position, tap t of its window along
    ``axis`` (2 = height, 3 = width)."""
    for tap in range(window):
        index = [slice(None)] * 4
        index[axis] = slice(tap, tap + (out - 1) * stride + 1, stride)
        yield tap, tuple(index)


def _max_along(x, axis, window, stride, out):
    """Max over the window taps along one axis, and the first tap that wins."""
    taps = _taps(axis, window, stride, out)
    _, first = next(taps)
    best = x[first].copy()
    winner = np.zeros(best.shape, dtype=np.min_scalar_type(window - 1))
    for tap, index in taps:
        candidate = x[index]
        better = candidate > best  # strict: earlier taps keep ties
        np.copyto(winner, tap, where=better)
        np.maximum(best, candidate, out=best)
    return best, winner


def _route_along(grad, winner, axis, window, stride, in_len):
    """Backward of ``_max_along``: send each gradient to its winning tap."""
    shape = list(grad.shape)
    shape[axis] = in_len
    dx = np.zeros(shape, dtype=grad.dtype)
    for tap, index in _taps(axis, window, stride, grad.shape[axis]):
        dx[index] += np.where(winner == tap, grad, 0)
    return dx


def _sum_along(x, axis, window, stride, out):
    taps = _taps(axis, window, stride, out)
    _, first = next(taps)
    total = x[first].copy()
    for _, index in taps:
        total += x[index]
    return total


def _spread_along(grad, axis, window, stride, in_len):
    """Backward of ``_sum_along``: every tap receives the full gradient."""
    shape = list(grad.shape)
    shape[axis] = in_len
    dx = np.zeros(shape, dtype=grad.dtype)
    for _, index in _taps(axis, window, stride, grad.shape[axis]):
        dx[index] += grad
    return dx


def _check_x(x):
    x = as_array("x", x, 4, "(N, C, H, W)")
    return x.astype(float_dtype(x), copy=False)


def max_pool_forward_fast(x, pool_param):
    """Forward pass of a max-pooling layer.

    Inputs:
    - x: input data of shape (N, C, H, W).
    - pool_param: dict with keys 'pool_height', 'pool_width' and 'stride'
      (stride may be an int or an (h, w) pair; windows may overlap).

    Returns a tuple of:
    - out: output of shape (N, C, H', W'), H' = 1 + (H - pool_height) // stride.
    - cache: (x, pool_param, row_winner, col_winner): for every output, which
      window row, and within each row which window column, held the maximum.
    """
    x = _check_x(x)
    window, stride, out_hw = _pool_geometry(x.shape, pool_param)
    # Rows outside every window never matter, so the first pass skips them.
    used_rows = x[:, :, : (out_hw[0] - 1) * stride[0] + window[0]]
    row_max, col_winner = _max_along(used_rows, 3, window[1], stride[1], out_hw[1])
    out, row_winner = _max_along(row_max, 2, window[0], stride[0], out_hw[0])
    return out, (x, pool_param, row_winner, col_winner)


def max_pool_backward_fast(dout, cache):
    """Backward pass of a max-pooling layer.

    Inputs:
    - dout: upstream derivatives of shape (N, C, H', W').
    - cache: the tuple from max_pool_forward_fast.

    Returns:
    - dx: gradient with respect to x, shape (N, C, H, W). Each dout entry goes
      to the first maximum of its window in row-major order; overlapping
      windows add up.
    """
    x, pool_param, row_winner, col_winner = cache
    window, stride, out_hw = _pool_geometry(x.shape, pool_param)
    expect_shape("dout", dout, x.shape[:2] + out_hw, "(N, C, H', W'), the forward output's shape")
    dout = dout.astype(x.dtype, copy=False)
    used_height = col_winner.shape[2]
    d_row_max = _route_along(dout, row_winner, 2, window[0], stride[0], used_height)
    d_used = _route_along(d_row_max, col_winner, 3, window[1], stride[1], x.shape[3])
    return _pad_rows(d_used, x.shape)


def avg_pool_forward_fast(x, pool_param):
    """Forward pass of an average-pooling layer.

    Inputs and output sizes as for max_pool_forward_fast.

    Returns a tuple of:
    - out: output of shape (N, C, H', W'), the mean of each window.
    - cache: (x.shape, x.dtype, pool_param).
    """
    x = _check_x(x)
    window, stride, out_hw = _pool_geometry(x.shape, pool_param)
    used_rows = x[:, :, : (out_hw[0] - 1) * stride[0] + window[0]]
    row_sum = _sum_along(used_rows, 3, window[1], stride[1], out_hw[1])
    out = _sum_along(row_sum, 2, window[0], stride[0], out_hw[0])
    out *= 1.0 / (window[0] * window[1])
    return out, (x.shape, x.dtype, pool_param)


def avg_pool_backward_fast(dout, cache):
    """Backward pass of an average-pooling layer.

    Inputs:
    - dout: upstream derivatives of shape (N, C, H', W').
    - cache: the tuple from avg_pool_forward_fast.

    Returns:
    - dx: gradient of shape (N, C, H, W): each pixel gets dout / (PH * PW) from
      every window that contains it.
    """
    x_shape, dtype, pool_param = cache
    window, stride, out_hw = _pool_geometry(x_shape, pool_param)
    expect_shape("dout", dout, x_shape[:2] + out_hw, "(N, C, H', W'), the forward output's shape")
    grad = dout.astype(dtype) * (1.0 / (window[0] * window[1]))
    used_height = (out_hw[0] - 1) * stride[0] + window[0]
    d_row_sum = _spread_along(grad, 2, window[0], stride[0], used_height)
    d_used = _spread_along(d_row_sum, 3, window[1], stride[1], x_shape[3])
    return _pad_rows(d_used, x_shape)


def _pad_rows(d_used, x_shape):
    """Append zero gradient for the bottom rows that no window covered."""
    if d_used.shape[2] == x_shape[2]:
        return d_used
    dx = np.zeros(x_shape, dtype=d_used.dtype)
    dx[:, :, : d_used.shape[2]] = d_used
    return dx


def global_avg_pool_forward(x):
    """Global average pooling: the mean of each channel over all positions.

    Inputs:
    - x: input data of shape (N, C, H, W).

    Returns a tuple of:
    - out: output of shape (N, C).
    - cache: (x.shape, x.dtype).
    """
    x = _check_x(x)
    return x.mean(axis=(2, 3)), (x.shape, x.dtype)


def global_avg_pool_backward(dout, cache):
    """Backward pass of global average pooling.

    Inputs:
    - dout: upstream derivatives of shape (N, C).
    - cache: (x.shape, x.dtype) from global_avg_pool_forward.

    Returns:
    - dx: gradient of shape (N, C, H, W), dout / (H * W) at every position.
    """
    x_shape, dtype = cache
    expect_shape("dout", dout, x_shape[:2], "(N, C), the forward output's shape")
    dx = np.empty(x_shape, dtype=dtype)
    dx[...] = (dout / (x_shape[2] * x_shape[3]))[:, :, None, None]
    return dx
