r"""The column layout behind the fast conv layer: every copy and add is one long run.

NumPy copies and adds a long contiguous run at memory speed, but on a
multi-dimensional strided view it works row by row, and its ufuncs (np.add) then
cost about a microsecond per row. A textbook im2col moves rows of only W'
elements. This layout makes each kernel tap one contiguous slice of a zero-padded
copy of x:

* Phase planes. With stride s, padded row ``r`` belongs to phase ``r % s``; the
  rows (and likewise columns) of one phase are stored side by side, so inside a
  phase every tap moves by whole steps and the stride disappears.
* Rows of length R. A plane row holds R = max(W', real columns of a phase)
  columns. Output (oh, ow) of tap (i, j) then reads plane element
  ``(oh + ri) * R + ow + dj``: for all outputs of all channels and images at
  once, that is one run at a fixed offset. Where ``ow + dj`` falls off the row
  it wraps onto a neighbouring row; those entries are padding, so they are
  zeroed afterwards ("wrapped" columns). When R = W' (any "same" convolution)
  the matrix product writes straight into the output.
* Tap-major columns. Row (i, j, c) of the column matrix for image n is
  ``cols[(i, j, c), n, :L]`` with L = H' * R, so every image's (K, L) matrix is a
  strided view one matrix multiply can read without a copy.

The backward pass runs the same plan in reverse: dcols = W^T dout, zero the
wrapped entries, add each tap's run back onto the phase planes, and read dx out
of the planes.
"""

import numpy as np

# Extra room in a column buffer so its start can be moved off slow copy distances.
SPARE_BYTES = 4096


def _phase_span(size, pad, phase, stride):
    """First and end index (in phase columns) of the real, unpadded pixels that
    padded positions ``phase, phase + stride, ...`` hold along one axis."""
    first = max(0, -(-(pad - phase) // stride))
    end = max(first, -(-(pad + size - phase) // stride))
    return first, end


class TapColumns:
    """Precomputed offsets of every tap and phase for one conv geometry.

    ``geometry`` is (field, stride, pad, dilation, out) as returned by
    ``im2col._geometry``; ``x_shape`` is (N, C, H, W).
    """

    def __init__(self, x_shape, geometry):
        field, stride, pad, dilation, out = geometry
        _, self.channels, height, width = x_shape
        self.out = out
        self.phases = stride[0] * stride[1]
        # Phase rows keep their padding explicitly; phase columns keep only the
        # stretch that holds real pixels, so rows can be as short as W'.
        phase_rows = -(-(height + 2 * pad[0]) // stride[0])
        column_spans = [_phase_span(width, pad[1], b, stride[1]) for b in range(stride[1])]
        self.row = max(out[1], *(end - first for first, end in column_spans))
        self.plane = phase_rows * self.row
        self.run = out[0] * self.row

        self.taps = []  # (phase, offset of the run, wrapped output columns)
        for i in range(field[0]):
            rows_down, a = divmod(i * dilation[0], stride[0])
            for j in range(field[1]):
                cols_right, b = divmod(j * dilation[1], stride[1])
                shift = cols_right - column_spans[b][0]
                wrapped = (
                    slice(max(0, self.row - shift), self.row) if shift > 0 else slice(0, min(self.row, -shift))
                )
                self.taps.append((a * stride[1] + b, rows_down * self.row + shift, wrapped))
        starts = [start for _, start, _ in self.taps]
        self.guard = max(0, -min(starts))  # room before the first plane for negative shifts
        # Each tap copies whole planes, so the last plane's copy reaches one plane past
        # its start offset.
        self.tail = max(0, *starts) + self.plane

        self.pixels = []  # (phase, plane rows, plane columns, x rows, x columns)
        for a in range(stride[0]):
            q0, q1 = _phase_span(height, pad[0], a, stride[0])
            for b in range(stride[1]):
                p0, p1 = column_spans[b]
                if q1 > q0 and p1 > p0:
                    x_rows = slice(a + q0 * stride[0] - pad[0], a + (q1 - 1) * stride[0] - pad[0] + 1, stride[0])
                    x_cols = slice(b + p0 * stride[1] - pad[1], b + (p1 - 1) * stride[1] - pad[1] + 1, stride[1])
                    self.pixels.append((a * stride[1] + b, slice(q0, q1), slice(0, p1 - p0), x_rows, x_cols))
        self.kernel_size = len(self.taps) * self.channels

    @property
    def writes_output_directly(self):
        """True when plane rows are exactly W' long: no junk columns to crop."""
        return self.row == self.out[1]

    def plane_buffer(self, images, dtype):
        """Zeroed phase planes for ``images`` images; pixels that stay zero are padding."""
        return np.zeros((self.phases, self.guard + (self.channels * images - 1) * self.plane + self.tail), dtype)

    def _planes(self, buffer, phase, images):
        start = self.guard
        stop = start + self.channels * images * self.plane
        return buffer[phase, start:stop].reshape(self.channels, images, -1, self.row)

    def load(self, buffer, x):
        """Copy x (n, C, H, W) into the phase planes (padding cells are left alone)."""
        for phase, rows, cols, x_rows, x_cols in self.pixels:
            planes = self._planes(buffer, phase, x.shape[0])
            planes[:, :, rows, cols] = x[:, :, x_rows, x_cols].transpose(1, 0, 2, 3)

    def unload(self, buffer, dx):
        """The adjoint of ``load``: write the planes' real pixels into dx (n, C, H, W)."""
        for phase, rows, cols, x_rows, x_cols in self.pixels:
            planes = self._planes(buffer, phase, dx.shape[0])
            dx[:, :, x_rows, x_cols] = planes[:, :, rows, cols].transpose(1, 0, 2, 3)

    def column_rows(self, flat, images, rows, planes=None):
        """View ``rows`` column rows of the flat buffer as (rows, images, plane).

        With ``planes`` (the buffer ``fill`` copies from), the view starts at the
        first offset in the buffer's spare page where no tap's copy has its target a
        few bytes past its source modulo 4096: on AMD CPUs memcpy then runs 10-20x
        slower (microsoft/STL#5658; seen here with NumPy's copies too).
        """
        size = rows * images * self.plane
        start = 0 if planes is None else self._clear_of_slow_copies(flat, images, planes)
        return flat[start : start + size].reshape(rows, images, self.plane)

    def _clear_of_slow_copies(self, flat, images, planes):
        item = flat.itemsize
        span_bytes = self.channels * images * self.plane * item
        sources = np.array([planes[phase, self.guard + start :].ctypes.data for phase, start, _ in self.taps])
        targets = flat.ctypes.data + np.arange(len(self.taps)) * span_bytes
        for start in range(SPARE_BYTES // item):
            distance = (targets + start * item - sources) % 4096
            if not np.any((distance > 0) & (distance < 64)):
                return start
        return 0

    def runs(self, planes, columns):
        """For each tap: (its C rows of ``columns`` as one flat run, the run of its
        phase planes they copy). ``columns`` is (rows, n, plane), rows >= K."""
        span = self.channels * columns.shape[1] * self.plane
        flat = columns[: self.kernel_size].reshape(len(self.taps), span)
        return [
            (flat[tap], planes[phase, self.guard + start : self.guard + start + span])
            for tap, (phase, start, _) in enumerate(self.taps)
        ]

    def wrapped(self, columns):
        """Views of every wrapped entry of ``columns`` (rows, n, plane), one per tap
        and output column: long strided runs, so zeroing them takes few NumPy calls.
        They include each plane's rows past H', which the forward product never
        reads and the backward scatter needs to be zero."""
        by_row = columns[: self.kernel_size].reshape(len(self.taps), -1, self.row)
        return [by_row[tap, :, col] for tap, (_, _, cols) in enumerate(self.taps)
                for col in range(cols.start, cols.stop)]


def fill(runs, wrapped):
    """im2col: copy each tap's run, then zero what wrapped round a row's end."""
    for target, source in runs:
        np.copyto(target, source)
    for view in wrapped:
        view.fill(0)


def scatter(runs, wrapped):
    """col2im: zero the wrapped entries, then add each tap's run back onto the
    planes it was read from."""
    for view in wrapped:
        view.fill(0)
    for source, target in runs:
        np.add(target, source, out=target)
