"""Hypothesis strategies for conv and pool geometries."""

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st


@st.composite
def conv_cases(draw, max_size=9):
    """(x, w, b, conv_param) with strides 1-3, pads 0-2, dilation 1-2, rectangular
    kernels and inputs; the kernel always fits the padded input."""
    n, c, f = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, w = draw(st.integers(1, max_size)), draw(st.integers(1, max_size))
    hh, ww = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = draw(st.integers(1, 3) | st.tuples(st.integers(1, 3), st.integers(1, 3)))
    pad = draw(st.integers(0, 2) | st.tuples(st.integers(0, 2), st.integers(0, 2)))
    dilation = draw(st.sampled_from([1, 2, (1, 2), (2, 1)]))
    p = pad if isinstance(pad, tuple) else (pad, pad)
    d = dilation if isinstance(dilation, tuple) else (dilation, dilation)
    assume(d[0] * (hh - 1) + 1 <= h + 2 * p[0] and d[1] * (ww - 1) + 1 <= w + 2 * p[1])
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    param = {"stride": stride, "pad": pad}
    if dilation != 1:
        param["dilation"] = dilation
    return (
        rng.standard_normal((n, c, h, w)),
        rng.standard_normal((f, c, hh, ww)),
        rng.standard_normal(f),
        param,
    )


@st.composite
def pool_cases(draw, max_size=9):
    """(x, pool_param) with tie-free x; windows may overlap or leave pixels out."""
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, w = draw(st.integers(1, max_size)), draw(st.integers(1, max_size))
    ph, pw = draw(st.integers(1, h)), draw(st.integers(1, w))
    stride = draw(st.integers(1, 3) | st.tuples(st.integers(1, 3), st.integers(1, 3)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.permutation(n * c * h * w).reshape(n, c, h, w) / (n * c * h * w) - 0.5
    return x, {"pool_height": ph, "pool_width": pw, "stride": stride}


def pair(value):
    return value if isinstance(value, tuple) else (value, value)
