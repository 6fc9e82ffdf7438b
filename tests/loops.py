"""Independent loop implementations: the oracles the fast layers are judged by.

Deliberately slow and obvious; they share no code with conv_lib.
"""

import numpy as np


def conv_forward_loops(x, w, b, stride, pad, dilation=(1, 1)):
    (sh, sw), (ph, pw), (dh, dw) = stride, pad, dilation
    n, _, height, width = x.shape
    f, _, hh, ww = w.shape
    xp = np.zeros((n, x.shape[1], height + 2 * ph, width + 2 * pw))
    xp[:, :, ph : ph + height, pw : pw + width] = x
    out_h = (height + 2 * ph - dh * (hh - 1) - 1) // sh + 1
    out_w = (width + 2 * pw - dw * (ww - 1) - 1) // sw + 1
    out = np.zeros((n, f, out_h, out_w))
    for i in range(n):
        for k in range(f):
            for r in range(out_h):
                for c in range(out_w):
                    total = b[k]
                    for ki in range(hh):
                        for kj in range(ww):
                            pixel = xp[i, :, r * sh + ki * dh, c * sw + kj * dw]
                            total += np.dot(pixel, w[k, :, ki, kj])
                    out[i, k, r, c] = total
    return out


def pool_forward_loops(x, height, width, stride, reduce):
    sh, sw = stride
    n, c, h, w = x.shape
    out = np.zeros((n, c, (h - height) // sh + 1, (w - width) // sw + 1))
    for r in range(out.shape[2]):
        for col in range(out.shape[3]):
            window = x[:, :, r * sh : r * sh + height, col * sw : col * sw + width]
            out[:, :, r, col] = reduce(window.reshape(n, c, -1), axis=2)
    return out


def max_pool_backward_loops(x, dout, height, width, stride):
    """Each dout entry to the first maximum of its window in row-major order."""
    dx = np.zeros_like(x, dtype=np.float64)
    for n, c, i, j in np.ndindex(dout.shape):
        window = x[n, c, i * stride[0]:i * stride[0] + height, j * stride[1]:j * stride[1] + width]
        p, q = np.unravel_index(np.argmax(window), window.shape)  # argmax: first in row-major
        dx[n, c, i * stride[0] + p, j * stride[1] + q] += dout[n, c, i, j]
    return dx


def numerical_gradient(f, x, dout, h=1e-6):
    """Centred-difference gradient of sum(f(x) * dout) with respect to x."""
    grad = np.zeros_like(x, dtype=np.float64)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        plus = np.sum(f() * dout)
        x[index] = old - h
        minus = np.sum(f() * dout)
        x[index] = old
        grad[index] = (plus - minus) / (2 * h)
    return grad


def rel_error(x, y):
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y)), initial=0.0))


def gradient_error(analytic, numerical):
    """Largest difference relative to the gradient's overall scale.

    A centred difference carries roundoff of about eps * |f| / h in every entry, so
    a per-entry relative error blows up on entries that happen to be near zero.
    """
    a, n = np.asarray(analytic, np.float64), np.asarray(numerical, np.float64)
    scale = max(1e-8, float(np.max(np.abs(a), initial=0.0) + np.max(np.abs(n), initial=0.0)))
    return float(np.max(np.abs(a - n), initial=0.0)) / scale
