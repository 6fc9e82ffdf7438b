import numpy as np
import pytest
from hypothesis import given

from conv_lib import (
    avg_pool_backward_fast,
    avg_pool_forward_fast,
    global_avg_pool_backward,
    global_avg_pool_forward,
    max_pool_backward_fast,
    max_pool_forward_fast,
)

from .loops import (
    gradient_error,
    max_pool_backward_loops,
    numerical_gradient,
    pool_forward_loops,
    rel_error,
)
from .strategies import pair, pool_cases

LAYERS = {
    "max": (max_pool_forward_fast, max_pool_backward_fast, np.max),
    "avg": (avg_pool_forward_fast, avg_pool_backward_fast, np.mean),
}


@pytest.mark.parametrize("kind", LAYERS)
@given(case=pool_cases())
def test_forward_matches_loops(kind, case):
    x, param = case
    forward, _, reduce = LAYERS[kind]
    out, _ = forward(x, param)
    expected = pool_forward_loops(
        x, param["pool_height"], param["pool_width"], pair(param["stride"]), reduce
    )
    assert type(out) is np.ndarray and out.shape == expected.shape
    # Means of values near 0 cancel, so compare with an absolute floor too.
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("kind", LAYERS)
@given(case=pool_cases())
def test_backward_matches_numerical_gradient(kind, case):
    x, param = case
    forward, backward, _ = LAYERS[kind]
    out, cache = forward(x, param)
    dout = np.random.default_rng(2).standard_normal(out.shape)
    dx = backward(dout, cache)
    # Distinct values of x lie at least 1/729 apart, so h = 1e-4 never changes
    # which entry is a window's max; both layers are linear there, so the
    # centred difference is exact up to roundoff.
    expected = numerical_gradient(lambda: forward(x, param)[0], x, dout, h=1e-4)
    assert gradient_error(dx, expected) < 1e-9


def test_max_pool_tie_goes_to_first_maximum_in_row_major_order():
    x = np.array([[[[1.0, 3.0], [3.0, 3.0]]]])
    _, cache = max_pool_forward_fast(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    dx = max_pool_backward_fast(np.array([[[[5.0]]]]), cache)
    np.testing.assert_array_equal(dx, [[[[0.0, 5.0], [0.0, 0.0]]]])


def test_overlapping_windows_accumulate():
    x = np.array([[[[0.0, 9.0, 0.0, 0.0]]]])  # the 9 wins both windows that see it
    param = {"pool_height": 1, "pool_width": 2, "stride": 1}
    _, cache = max_pool_forward_fast(x, param)
    dx = max_pool_backward_fast(np.array([[[[1.0, 2.0, 4.0]]]]), cache)
    np.testing.assert_array_equal(dx, [[[[0.0, 3.0, 4.0, 0.0]]]])  # last window ties: first wins


def test_pixels_outside_every_window_get_zero_gradient():
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    for forward, backward, _ in LAYERS.values():
        out, cache = forward(x, param)
        assert out.shape == (1, 1, 2, 2)
        dx = backward(np.ones_like(out), cache)
        assert np.all(dx[:, :, 4, :] == 0) and np.all(dx[:, :, :, 4] == 0)


@pytest.mark.parametrize("kind", LAYERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_and_inputs_untouched(kind, dtype):
    forward, backward, _ = LAYERS[kind]
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 7)).astype(dtype)
    before = x.copy()
    out, cache = forward(x, {"pool_height": 3, "pool_width": 2, "stride": (2, 1)})
    dx = backward(np.ones_like(out), cache)
    assert out.dtype == dtype and dx.dtype == dtype
    np.testing.assert_array_equal(x, before)


def test_global_avg_pool():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 4, 5, 6))
    out, cache = global_avg_pool_forward(x)
    assert out.shape == (3, 4)
    assert rel_error(out, x.reshape(3, 4, -1).sum(axis=2) / 30) < 1e-12
    dout = rng.standard_normal(out.shape)
    dx = global_avg_pool_backward(dout, cache)
    expected = numerical_gradient(lambda: global_avg_pool_forward(x)[0], x, dout)
    assert gradient_error(dx, expected) < 1e-8


@given(case=pool_cases())
def test_max_pool_backward_follows_the_tie_rule_on_inputs_full_of_ties(case):
    # ReLU outputs are mostly exact zeros: ties are the common case, not the exception.
    x, param = case
    x = np.maximum(np.round(4 * x), 0)  # values 0, 1, 2: many equal maxima
    out, cache = max_pool_forward_fast(x, param)
    dout = np.random.default_rng(3).standard_normal(out.shape)
    expected = max_pool_backward_loops(
        x, dout, param["pool_height"], param["pool_width"], pair(param["stride"]))
    np.testing.assert_allclose(max_pool_backward_fast(dout, cache), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("stride", [1, 2, 3])
def test_max_pool_backward_survives_nan_inputs(stride):
    # A window holding a NaN has no element equal to its maximum; its gradient
    # must still land somewhere inside it, not crash or vanish.
    x = np.random.default_rng(0).standard_normal((2, 2, 7, 7))
    x[0, 1, 2, 3] = np.nan
    param = {"pool_height": 3, "pool_width": 3, "stride": stride}
    out, cache = max_pool_forward_fast(x, param)
    with np.errstate(invalid="raise"):
        dx = max_pool_backward_fast(np.ones_like(out), cache)
    assert dx.sum() == out.size
