"""The cases each graded function is run on.

Public cases are fixed: the check cell a student runs uses them, so a student
can reproduce any failure. Hidden cases have fixed geometries too, one per aspect
by design (the HIDDEN_* lists), so the points a mistake loses depend only on the
aspects it gets wrong, never on a lucky draw. Their values are drawn at grading
time from a seed the student's copy does not hold (the grader's: judge/seeds.py;
``CONV_GRADER_SEED`` in a check's environment, else a fresh random one), so no
answer can be hard-coded.

Between them they cover strides 1-3, pads 0-2, rectangular kernels and inputs
(taller and wider), batch and channel counts of 1 and more, 1x1 kernels, a kernel
equal to the padded input, sizes that do not divide evenly (floor) in rows and in
columns, overlapping pool windows, and for the optional dilated task dilations 1-3,
also with kernels one tap high or wide.
Hidden pool inputs are tie-free; one public pool case has ties (all-zero windows too),
which checks notebook 3's rule: the first maximum takes the gradient, once. One public
ConvNet case has scores near +-1000, which a softmax without the max subtracted fails.
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


# The hidden geometries, one aspect each (tests/test_grader_checks.py checks the coverage):
HIDDEN_CONV = [
    ((2, 3, 7, 6), (4, 3, 2), 2, 1),  # general: rectangular input and kernel, stride 2, pad 1
    ((3, 2, 6, 9), (2, 2, 4), 1, 2),  # wider than tall, kernel wider than tall, pad 2
    ((2, 3, 10, 8), (3, 3, 3), 3, 0),  # stride 3, floor in rows and in columns
    ((1, 1, 6, 5), (1, 2, 2), 2, 0),  # one image, one channel, one filter; floor in columns
    ((2, 4, 5, 3), (3, 1, 1), 2, 1),  # 1x1 kernel with padding and stride
    ((2, 2, 3, 4), (2, 5, 6), 1, 1),  # kernel equal to the padded input: a 1x1 output
    ((2, 2, 8, 6), (2, 3, 2), 2, 2),  # floor in rows only, pad 2
    ((1, 3, 7, 11), (2, 2, 3), 3, 1),  # stride 3 with padding, floor both ways
]


def _cases(make_case, public, public_seed, hidden_geometries, hidden, seed):
    """The public cases (fixed geometries and values), or the hidden ones: fixed
    geometries, values drawn from ``seed``."""
    if not hidden:
        rng = np.random.default_rng(public_seed)
        return [make_case(f"public {i + 1}", rng, *g) for i, g in enumerate(public)]
    rng = np.random.default_rng(hidden_seed() if seed is None else seed)
    return [make_case(f"hidden {i + 1}", rng, *g) for i, g in enumerate(hidden_geometries)]


def conv_cases(hidden=False, seed=None):
    return _cases(conv_case, PUBLIC_CONV, 231, HIDDEN_CONV, hidden, seed)


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


HIDDEN_DILATED = [
    ((2, 2, 8, 7), (2, 3, 2), 1, 0, 2),  # dilation 2, rectangular kernel
    ((1, 3, 9, 10), (3, 2, 3), 2, 1, 3),  # dilation 3 with stride and pad, floor both ways
    ((2, 1, 6, 6), (2, 3, 3), 1, 2, 1),  # dilation 1 is the plain conv layer, pad 2
    ((1, 2, 9, 5), (2, 3, 1), 1, 0, 3),  # dilation along the rows only (WW = 1)
    ((2, 1, 4, 9), (1, 1, 3), 2, 1, 2),  # dilation along the columns only (HH = 1), floor in rows
    ((1, 2, 2, 5), (2, 2, 3), 1, 1, 3),  # the dilated kernel spans the padded input
    ((2, 2, 11, 9), (2, 2, 2), 3, 0, 2),  # stride 3, floor in rows
]


def dilated_conv_cases(hidden=False, seed=None):
    return _cases(_dilated_conv_case, PUBLIC_DILATED, 234, HIDDEN_DILATED, hidden, seed)


# ---------------------------------------------------------------------- pooling

# (N, C, H, W), pool_height, pool_width, stride
PUBLIC_POOL = [
    ((2, 3, 4, 4), 2, 2, 2),  # cs231n's check
    ((1, 2, 5, 5), 2, 2, 2),  # floor: the last row and column are left out
    ((2, 1, 5, 7), 3, 3, 2),  # overlapping windows (AlexNet)
    ((1, 1, 4, 6), 2, 3, 1),  # rectangular, overlapping
    ((3, 2, 6, 7), 3, 2, 3),  # stride larger than the window width
    ((1, 1, 3, 3), 3, 3, 1),  # window equal to the input
    # ties: windows of equal maxima, all-zero ones too; the first maximum in row-major order
    # takes a max-pool window's gradient, once (the notebook's rule)
    ((2, 2, 5, 6), 2, 2, 2, "ties"),
]


def _tie_free(rng, shape):
    """Distinct values at least 1/size apart, so no window holds a tie."""
    size = int(np.prod(shape))
    return (rng.permutation(size).reshape(shape) + rng.uniform(0.1, 0.9)) / size - 0.5


def _tied(rng, shape):
    """Few distinct values, so windows hold equal maxima; the first window is all zeros."""
    x = rng.integers(-1, 2, shape).astype(np.float64)
    x[:, :, :3, :3] = 0.0
    return x


def pool_case(label, rng, x_shape, height, width, stride, values="tie-free"):
    x = _tied(rng, x_shape) if values == "ties" else _tie_free(rng, x_shape)
    out_h, out_w = 1 + (x_shape[2] - height) // stride, 1 + (x_shape[3] - width) // stride
    dout = rng.standard_normal(x_shape[:2] + (out_h, out_w))
    param = {"pool_height": height, "pool_width": width, "stride": stride}
    shown = {"x": x.shape, "pool": f"{height}x{width}", "stride": stride}
    if values == "ties":
        shown["values"] = "with ties"
    return Case(label, {"x": x, "pool_param": param, "dout": dout}, shown)


HIDDEN_POOL = [
    ((2, 3, 6, 8), 2, 2, 2),  # the usual 2x2 window, stride 2
    ((1, 2, 7, 6), 3, 2, 2),  # rectangular window, taller than wide
    ((2, 1, 7, 9), 3, 3, 2),  # overlapping windows (AlexNet)
    ((1, 1, 5, 6), 2, 3, 1),  # overlapping, wider than tall, stride 1
    ((2, 2, 8, 7), 2, 2, 3),  # stride larger than the window, floor in columns
    ((2, 2, 7, 5), 2, 2, 2),  # floor in rows and in columns
    ((3, 1, 4, 3), 4, 3, 1),  # window equal to the input
    ((2, 2, 5, 4), 1, 1, 2),  # a 1x1 window: subsampling
]


def pool_cases(hidden=False, seed=None):
    return _cases(pool_case, PUBLIC_POOL, 232, HIDDEN_POOL, hidden, seed)


# --------------------------------------------------------------------- convnet

# (N, (C, H, W), num_filters, filter_size, hidden_dim, num_classes, reg, with labels)
PUBLIC_CONVNET = [
    (2, (1, 6, 6), 3, 3, 7, 4, 0.0, False),  # scores only
    (3, (1, 8, 8), 4, 3, 10, 10, 0.0, True),  # the digits' shape
    (2, (3, 7, 5), 2, 5, 6, 3, 0.3, True),  # odd sizes: pooling floors; with reg
    (3, (1, 6, 6), 2, 3, 5, 3, 0.0, True, "large"),  # scores near +-1000: a softmax must shift
]


def convnet_case(label, rng, n, input_dim, filters, size, hidden, classes, reg, labelled,
                 scores="moderate"):
    """``scores="large"``: b3 spreads the scores over +-1000, and labels point at the
    low ones, so np.exp overflows and a probability underflows to 0 unless the softmax
    subtracts each row's maximum and takes logs of shifted scores."""
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
    if scores == "large":
        params["b3"] = np.linspace(1000.0, -1000.0, classes)
        if labelled:
            inputs["y"] = np.arange(n) % classes
        shown["scores"] = "large (about +-1000)"
    return Case(label, inputs, shown)


HIDDEN_CONVNET = [
    (2, (2, 6, 5), 3, 3, 5, 4, 0.0, False),  # scores only, an odd width
    (3, (1, 8, 8), 4, 3, 7, 10, 0.0, True),  # the digits' shape
    (4, (2, 7, 9), 2, 5, 6, 3, 0.5, True),  # 5x5 filters, odd sizes, with reg
    (1, (3, 4, 6), 1, 3, 4, 2, 0.1, True),  # one image, one filter, three channels
]


def convnet_cases(hidden=False, seed=None):
    return _cases(convnet_case, PUBLIC_CONVNET, 233, HIDDEN_CONVNET, hidden, seed)


# Notebook 6's cases (grader.diagnosis.norm_cases) are made the same way.
draw_cases = _cases
