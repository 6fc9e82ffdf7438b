"""The cases each graded function is run on.

Public cases are fixed: the check cell a student runs uses them, so a student
can reproduce any failure. Hidden cases are drawn at grading time from a seed
the student's copy does not hold (``CONV_GRADER_SEED`` in the grader's
environment, else a fresh random one), so no answer can be hard-coded.

Between them they cover strides 1-3, pads 0-2, rectangular kernels and inputs,
batch and channel counts from 1 up, 1x1 kernels, a kernel equal to the padded
input, sizes that do not divide evenly (floor), overlapping pool windows, and
for the optional dilated task dilations 1-3, also with kernels one tap high or wide.
Pool inputs are tie-free, so any tie rule a student picks is graded the same.
"""

import os
import secrets
from dataclasses import dataclass, field

import numpy as np

SEED_ENV = "CONV_GRADER_SEED"


@dataclass
class Case:
    """One call of a student's function: ``inputs`` go in, ``label`` and
    ``describe()`` are what feedback shows."""

    label: str
    inputs: dict = field(repr=False)
    shown: dict = field(default_factory=dict)

    def describe(self):
        return ", ".join(f"{k} {v}" for k, v in self.shown.items())


def hidden_seed():
    value = os.environ.get(SEED_ENV)
    return int(value) if value not in (None, "") else secrets.randbits(32)


# ---------------------------------------------------------------- convolution

# (N, C, H, W), (F, HH, WW), stride, pad: chosen to cover the geometry list above.
PUBLIC_CONV = [
    ((2, 3, 4, 4), (3, 4, 4), 2, 1),  # cs231n's check
    ((1, 1, 5, 5), (1, 3, 3), 1, 1),  # "same" padding
    ((2, 2, 8, 6), (3, 3, 2), 2, 0),  # rectangular, floor: (8-3)//2 leaves a row out
    ((3, 1, 4, 5), (2, 1, 1), 1, 2),  # 1x1 kernel with padding
    ((1, 2, 3, 2), (2, 5, 4), 1, 1),  # kernel equal to the padded input
    ((2, 3, 9, 8), (2, 3, 3), 3, 2),  # stride 3, floor: (9+4-3)//3 leaves a row out
]


def conv_case(label, rng, x_shape, w_shape, stride, pad):
    n, c = x_shape[:2]
    f, hh, ww = w_shape
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal((f, c, hh, ww))
    b = rng.standard_normal(f)
    out_h = 1 + (x_shape[2] + 2 * pad - hh) // stride
    out_w = 1 + (x_shape[3] + 2 * pad - ww) // stride
    dout = rng.standard_normal((n, f, out_h, out_w))
    return Case(
        label,
        {"x": x, "w": w, "b": b, "conv_param": {"stride": stride, "pad": pad}, "dout": dout},
        {"x": x.shape, "w": w.shape, "stride": stride, "pad": pad},
    )


def _hidden_conv_geometries(rng):
    def r(lo, hi):
        return int(rng.integers(lo, hi + 1))

    geometries = []
    # A general case, then one for each corner the list above promises.
    for _ in range(2):
        stride, pad = r(1, 3), r(0, 2)
        hh, ww = r(1, 4), r(1, 4)
        geometries.append(((r(1, 3), r(1, 3), r(hh, 8), r(ww, 8)), (r(1, 3), hh, ww), stride, pad))
    pad = r(0, 2)
    geometries.append(((r(1, 3), r(1, 3), r(2, 6), r(2, 6)), (r(1, 4), 1, 1), r(1, 3), pad))
    h, w, pad = r(1, 4), r(1, 4), r(0, 2)
    geometries.append(((r(1, 2), r(1, 3), h, w), (r(1, 3), h + 2 * pad, w + 2 * pad), r(1, 3), pad))
    stride, hh = r(2, 3), r(2, 3)
    h = hh + stride * r(1, 2) + r(1, stride - 1)  # leaves a remainder: floor matters
    ww = r(1, 3)
    geometries.append(((r(1, 2), r(1, 2), h, r(ww, 8)), (r(1, 3), hh, ww), stride, 0))
    geometries.append(((1, 1, r(3, 7), r(3, 7)), (1, r(1, 3), r(1, 3)), r(1, 3), r(0, 2)))
    hh, ww = r(1, 3), r(2, 4)
    geometries.append(((r(2, 3), r(2, 3), r(5, 9), r(3, 6)), (r(2, 3), hh, ww), r(1, 2), r(1, 2)))
    geometries.append(((r(1, 2), r(1, 2), r(4, 8), r(4, 8)), (r(1, 2), 3, 3), 3, r(0, 2)))
    return geometries


def _cases(make_case, public, public_seed, hidden_geometries, hidden, seed):
    """The public cases (fixed geometries and values), or hidden ones whose geometries
    and values are both drawn from ``seed``."""
    if not hidden:
        rng = np.random.default_rng(public_seed)
        return [make_case(f"public {i + 1}", rng, *g) for i, g in enumerate(public)]
    rng = np.random.default_rng(hidden_seed() if seed is None else seed)
    return [make_case(f"hidden {i + 1}", rng, *g) for i, g in enumerate(hidden_geometries(rng))]


def conv_cases(hidden=False, seed=None):
    return _cases(conv_case, PUBLIC_CONV, 231, _hidden_conv_geometries, hidden, seed)


# ------------------------------------------------------- dilated convolution

# (N, C, H, W), (F, HH, WW), stride, pad, dilation
PUBLIC_DILATED = [
    ((2, 3, 7, 7), (2, 3, 3), 1, 0, 2),  # a 3x3 kernel at dilation 2 spans 5x5
    ((1, 1, 9, 9), (1, 3, 3), 1, 2, 2),  # "same" padding at dilation 2: pad = dilation
    ((2, 2, 9, 8), (2, 2, 3), 2, 1, 3),  # stride and dilation, rectangular kernel, floor
    ((1, 2, 6, 6), (3, 3, 3), 1, 1, 1),  # dilation 1 is the plain conv layer
    ((1, 1, 5, 5), (1, 3, 3), 1, 0, 2),  # the dilated kernel covers the whole input
    ((1, 2, 4, 9), (2, 1, 3), 1, 1, 3),  # dilation along the columns only (HH = 1)
]


def _dilated_conv_case(label, rng, x_shape, w_shape, stride, pad, dilation):
    case = conv_case(label, rng, x_shape, w_shape, stride, pad)
    del case.inputs["dout"]  # forward only (its shape ignores the dilation)
    case.inputs["conv_param"]["dilation"] = dilation
    case.shown["dilation"] = dilation
    return case


def _hidden_dilated_geometries(rng):
    def r(lo, hi):
        return int(rng.integers(lo, hi + 1))

    def fitting(dilation, hh, ww, stride, pad, spare_h, spare_w):
        """A geometry whose padded input is the dilated kernel's span plus spare pixels."""
        span_h, span_w = dilation * (hh - 1) + 1, dilation * (ww - 1) + 1
        h = max(1, span_h - 2 * pad + spare_h)
        w = max(1, span_w - 2 * pad + spare_w)
        return (r(1, 2), r(1, 3), h, w), (r(1, 3), hh, ww), stride, pad, dilation

    geometries = [fitting(d, r(2, 3), r(2, 3), r(1, 3), r(0, 2), r(0, 4), r(0, 4))
                  for d in (1, 2, 3)]  # every dilation, in general position
    geometries.append(fitting(r(2, 3), 3, 1, r(1, 2), r(0, 2), r(0, 3), r(0, 3)))  # rows only
    geometries.append(fitting(r(2, 3), 1, 3, r(1, 2), r(0, 2), r(0, 3), r(0, 3)))  # columns only
    geometries.append(fitting(r(2, 3), r(2, 3), r(2, 3), 1, r(0, 2), 0, 0))  # span = padded input
    stride = r(2, 3)  # a remainder after the last window: the floor matters
    geometries.append(fitting(r(2, 3), r(2, 3), r(2, 3), stride, r(0, 1),
                              stride * r(1, 2) + r(1, stride - 1), r(0, 3)))
    return geometries


def dilated_conv_cases(hidden=False, seed=None):
    return _cases(_dilated_conv_case, PUBLIC_DILATED, 234, _hidden_dilated_geometries, hidden, seed)


# ---------------------------------------------------------------------- pooling

# (N, C, H, W), pool_height, pool_width, stride
PUBLIC_POOL = [
    ((2, 3, 4, 4), 2, 2, 2),  # cs231n's check
    ((1, 2, 5, 5), 2, 2, 2),  # floor: the last row and column are left out
    ((2, 1, 5, 7), 3, 3, 2),  # overlapping windows (AlexNet)
    ((1, 1, 4, 6), 2, 3, 1),  # rectangular, overlapping
    ((3, 2, 6, 7), 3, 2, 3),  # stride larger than the window width
    ((1, 1, 3, 3), 3, 3, 1),  # window equal to the input
]


def _tie_free(rng, shape):
    """Distinct values at least 1/size apart, so no window holds a tie."""
    size = int(np.prod(shape))
    return (rng.permutation(size).reshape(shape) + rng.uniform(0.1, 0.9)) / size - 0.5


def pool_case(label, rng, x_shape, height, width, stride):
    x = _tie_free(rng, x_shape)
    out_h, out_w = 1 + (x_shape[2] - height) // stride, 1 + (x_shape[3] - width) // stride
    dout = rng.standard_normal(x_shape[:2] + (out_h, out_w))
    param = {"pool_height": height, "pool_width": width, "stride": stride}
    return Case(
        label,
        {"x": x, "pool_param": param, "dout": dout},
        {"x": x.shape, "pool": f"{height}x{width}", "stride": stride},
    )


def _hidden_pool_geometries(rng):
    def r(lo, hi):
        return int(rng.integers(lo, hi + 1))

    geometries = []
    for _ in range(2):
        ph, pw = r(1, 3), r(1, 3)
        geometries.append(((r(1, 3), r(1, 3), r(ph, 8), r(pw, 8)), ph, pw, r(1, 3)))
    ph, pw = r(2, 3), r(2, 3)
    geometries.append(((r(1, 2), r(1, 3), r(ph + 2, 9), r(pw + 2, 9)), ph, pw, r(1, ph - 1)))
    geometries.append(((1, 1, r(3, 7), r(3, 7)), 2, 2, 1))  # overlap in both directions
    stride, ph = r(2, 3), r(2, 3)
    h = ph + stride * r(1, 2) + r(1, stride - 1)  # a remainder: floor matters
    pw = r(1, 3)
    geometries.append(((r(1, 2), r(1, 2), h, r(pw, 8)), ph, pw, stride))
    h, w = r(1, 4), r(1, 4)
    geometries.append(((r(1, 3), r(1, 3), h, w), h, w, r(1, 3)))  # window equals input
    return geometries


def pool_cases(hidden=False, seed=None):
    return _cases(pool_case, PUBLIC_POOL, 232, _hidden_pool_geometries, hidden, seed)


# --------------------------------------------------------------------- convnet

# (N, (C, H, W), num_filters, filter_size, hidden_dim, num_classes, reg, with labels)
PUBLIC_CONVNET = [
    (2, (1, 6, 6), 3, 3, 7, 4, 0.0, False),  # scores only
    (3, (1, 8, 8), 4, 3, 10, 10, 0.0, True),  # the digits' shape
    (2, (3, 7, 5), 2, 5, 6, 3, 0.3, True),  # odd sizes: pooling floors; with reg
]


def convnet_case(label, rng, n, input_dim, filters, size, hidden, classes, reg, labelled):
    c, h, w = input_dim
    pooled = filters * (h // 2) * (w // 2)
    params = {
        "W1": rng.standard_normal((filters, c, size, size)) * 0.3,
        "b1": rng.standard_normal(filters) * 0.1,
        "W2": rng.standard_normal((pooled, hidden)) * 0.3,
        "b2": rng.standard_normal(hidden) * 0.1,
        "W3": rng.standard_normal((hidden, classes)) * 0.3,
        "b3": rng.standard_normal(classes) * 0.1,
    }
    model = {
        "params": params,
        "reg": reg,
        "dtype": "float64",
        "conv_param": {"stride": 1, "pad": (size - 1) // 2},
        "pool_param": {"pool_height": 2, "pool_width": 2, "stride": 2},
    }
    inputs = {"model": model, "X": rng.standard_normal((n, *input_dim))}
    if labelled:
        inputs["y"] = rng.integers(0, classes, n)
    shown = {"X": (n, *input_dim), "num_filters": filters, "filter_size": size,
             "hidden_dim": hidden, "num_classes": classes, "reg": reg,
             "y": "given" if labelled else "None"}
    return Case(label, inputs, shown)


def _hidden_convnet_geometries(rng):
    def r(lo, hi):
        return int(rng.integers(lo, hi + 1))

    return [
        (r(1, 3), (r(1, 3), r(4, 8), r(4, 8)), r(1, 4), 3, r(3, 8), r(2, 5), 0.0, False),
        (r(1, 3), (r(1, 3), r(4, 8), r(4, 8)), r(1, 4), 3, r(3, 8), r(2, 5), 0.0, True),
        (r(2, 4), (r(1, 2), r(5, 9), r(5, 9)), r(1, 3), 5, r(3, 8), r(2, 5), 0.5, True),
        (r(1, 3), (1, 8, 8), r(2, 4), 3, r(4, 8), 10, float(rng.uniform(0.01, 1)), True),
    ]


def convnet_cases(hidden=False, seed=None):
    return _cases(convnet_case, PUBLIC_CONVNET, 233, _hidden_convnet_geometries, hidden, seed)


# Notebook 6's cases (grader.diagnosis.norm_cases) are drawn the same way.
draw_cases = _cases
