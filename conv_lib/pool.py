r"""Fast max, average and global average pooling.

A pooling window of PH x PW pixels slides over each channel with step ``stride``:

.. math::

    \text{out}[n, c, oh, ow] = \operatorname{reduce}_{0 \le i < PH,\ 0 \le j < PW}
        x[n, c,\ oh \cdot s + i,\ ow \cdot s + j],
    \qquad H' = 1 + (H - PH) // s.

Any stride works, including stride < window (overlapping windows), and the
output size is floored: pixels past the last full window are ignored and get
zero gradient.

The forward reductions are separable, so they run in two passes over window
taps (never over N, C, H or W); a pass with stride 1 works on shifted runs of
the flat array, which NumPy runs about three times faster than strided views. Max-pool backward finds each window's first
maximum tap by tap and routes the gradient there: by assignment when the
windows tile the input, otherwise with ``np.bincount`` on flat pixel indices,
which sums where windows overlap.

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


def _reduce_along(x, axis, window, stride, out, ufunc):
    """ufunc (np.maximum or np.add) over the window taps along one axis."""
    taps = _taps(axis, window, stride, out)
    _, first = next(taps)
    if window == 1:
        return x[first].copy()
    _, second = next(taps)
    result = ufunc(x[first], x[second])
    for _, index in taps:
        ufunc(result, x[index], out=result)
    return result


def _flat_runs(grid, axis, window, ufunc):
    """For stride 1: ufunc over the window along ``axis`` of a C-contiguous
    (N, C, R, W) grid, as shifted runs of the flat array.

    Tap t of every window is the flat array shifted by t rows (axis 2) or t
    columns (axis 3), so each ufunc call is one contiguous run: NumPy runs those
    about three times faster per element than the multi-dimensional strided views
    of ``_reduce_along``. Cells whose window would cross a row or plane edge are
    junk; callers crop them. The last few cells, which no run reaches, are zero.
    """
    step = grid.shape[3] if axis == 2 else 1
    flat = grid.reshape(-1)
    run = flat.size - (window - 1) * step
    result = np.empty_like(flat)
    ufunc(flat[:run], flat[step : step + run], out=result[:run])
    for tap in range(2, window):
        ufunc(result[:run], flat[tap * step : tap * step + run], out=result[:run])
    result[run:] = 0
    return result.reshape(grid.shape)


def _pool_windows(x, window, stride, out_hw, ufunc):
    """ufunc over every window, as two separable passes: rows of the window, then
    its columns. A pass with stride 1 runs on flat shifted runs (``_flat_runs``);
    otherwise on strided views, and rows below the last window never count."""
    if stride[0] == 1 and window[0] > 1:
        rows = _flat_runs(np.ascontiguousarray(x), 2, window[0], ufunc)
    else:
        used_rows = x[:, :, : (out_hw[0] - 1) * stride[0] + window[0]]
        rows = _reduce_along(used_rows, 2, window[0], stride[0], out_hw[0], ufunc)
    if stride[1] == 1 and window[1] > 1:
        both = _flat_runs(rows, 3, window[1], ufunc)[:, :, : out_hw[0], : out_hw[1]]
    else:
        both = _reduce_along(rows[:, :, : out_hw[0]], 3, window[1], stride[1], out_hw[1], ufunc)
    return np.ascontiguousarray(both)


def _window_tap(x, p, q, stride, out_hw):
    """The view of x that tap (p, q) of every window reads: shape (N, C, H', W')."""
    return x[:, :, p: p + (out_hw[0] - 1) * stride[0] + 1: stride[0],
             q: q + (out_hw[1] - 1) * stride[1] + 1: stride[1]]


def _first_winners(x, out, window, stride):
    """For every window, the row-major index p * PW + q of its first maximum.

    Each tap's code is its index where it holds the maximum and the dtype's
    largest value elsewhere; the running minimum of the codes is the first winning
    tap. Plain unsigned arithmetic keeps every step a fast contiguous loop (masked
    copies are not). A window with no winner (it holds a NaN) sends its gradient
    to its last tap.
    """
    taps = window[0] * window[1]
    dtype = next(t for t in (np.uint8, np.uint16, np.uint32) if taps < np.iinfo(t).max)
    none = np.iinfo(dtype).max
    winner = np.full(out.shape, none, dtype=dtype)
    match = np.empty(out.shape, dtype=bool)
    code = np.empty(out.shape, dtype=dtype)
    for tap in range(taps):
        p, q = divmod(tap, window[1])
        np.equal(_window_tap(x, p, q, stride, out.shape[2:]), out, out=match)
        np.multiply(match, dtype(none - tap), out=code)
        np.subtract(none, code, out=code)
        np.minimum(winner, code, out=winner)
    return np.minimum(winner, taps - 1, out=winner)


def _route_to_winners(dout, winner, x_shape, window, stride):
    """dx with each dout entry added onto its window's winning pixel."""
    n, c, height, width = x_shape
    out_h, out_w = dout.shape[2:]
    covered = ((out_h - 1) * stride[0] + window[0], (out_w - 1) * stride[1] + window[1])
    if stride == window and covered == (height, width):
        # Windows tile x: every pixel belongs to exactly one window, so each tap's
        # slice of dx is written once (dout where that tap won, 0 elsewhere).
        dx = np.empty(x_shape, dtype=dout.dtype)
        hit = np.empty(dout.shape, dtype=bool)
        for tap in range(window[0] * window[1]):
            np.equal(winner, tap, out=hit)
            np.multiply(dout, hit, out=_window_tap(dx, *divmod(tap, window[1]), stride, (out_h, out_w)))
        return dx
    # Otherwise a pixel may win several windows (or none): sum by flat pixel index.
    offsets = np.array([p * width + q for p in range(window[0]) for q in range(window[1])],
                       dtype=np.intp)
    flat = offsets[winner]
    flat += (np.arange(n * c, dtype=np.intp).reshape(n, c, 1, 1) * (height * width)
             + (np.arange(out_h, dtype=np.intp) * (stride[0] * width))[:, None]
             + np.arange(out_w, dtype=np.intp) * stride[1])
    summed = np.bincount(flat.ravel(), weights=dout.ravel(), minlength=n * c * height * width)
    return summed.reshape(x_shape).astype(dout.dtype, copy=False)


def _spread_along(grad, axis, window, stride, in_len):
    """Backward of a sum over window taps: every tap receives the full gradient."""
    shape = list(grad.shape)
    shape[axis] = in_len
    dx = np.zeros(shape, dtype=grad.dtype)
    taps = _taps(axis, window, stride, grad.shape[axis])
    if stride >= window:  # disjoint taps: plain assignment, no read-modify-write
        for _, index in taps:
            dx[index] = grad
        return dx
    for _, index in taps:
        dx[index] += grad
    return dx


def _spread_flat(grad, axis, window, in_len):
    """``_spread_along`` for stride 1, on flat shifted runs (see ``_flat_runs``)."""
    shape = list(grad.shape)
    shape[axis] = in_len
    padded = np.zeros(shape, dtype=grad.dtype)  # junk cells carry no gradient
    padded[:, :, : grad.shape[2], : grad.shape[3]] = grad
    step = shape[3] if axis == 2 else 1
    source, dx = padded.reshape(-1), np.zeros(padded.size, dtype=grad.dtype)
    run = source.size - (window - 1) * step
    for tap in range(window):
        target = dx[tap * step : tap * step + run]
        np.add(target, source[:run], out=target)
    return dx.reshape(shape)


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
    - cache: (x, pool_param, out). The backward pass finds each window's winner
      from x and out, so the forward pass does no bookkeeping beyond the maxima.
    """
    x = _check_x(x)
    window, stride, out_hw = _pool_geometry(x.shape, pool_param)
    out = _pool_windows(x, window, stride, out_hw, np.maximum)
    return out, (x, pool_param, out)


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
    x, pool_param, out = cache
    window, stride, out_hw = _pool_geometry(x.shape, pool_param)
    expect_shape("dout", dout, x.shape[:2] + out_hw, "(N, C, H', W'), the forward output's shape")
    winner = _first_winners(x, out, window, stride)
    return _route_to_winners(dout.astype(x.dtype, copy=False), winner, x.shape, window, stride)


def avg_pool_forward_fast(x, pool_param):
    """Forward pass of an average-pooling layer.

    Inputs and output sizes as for max_pool_forward_fast.

    Returns a tuple of:
    - out: output of shape (N, C, H', W'), the mean of each window.
    - cache: (x.shape, x.dtype, pool_param).
    """
    x = _check_x(x)
    window, stride, out_hw = _pool_geometry(x.shape, pool_param)
    out = _pool_windows(x, window, stride, out_hw, np.add)
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
    if stride[1] == 1 and window[1] > 1:
        d_row_sum = _spread_flat(grad, 3, window[1], x_shape[3])
    else:
        d_row_sum = _spread_along(grad, 3, window[1], stride[1], x_shape[3])
    if stride[0] == 1 and window[0] > 1:
        return _spread_flat(d_row_sum, 2, window[0], x_shape[2])
    used_height = (out_hw[0] - 1) * stride[0] + window[0]
    return _pad_rows(_spread_along(d_row_sum, 2, window[0], stride[0], used_height), x_shape)


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
