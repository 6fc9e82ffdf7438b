"""Bad input gets an error that names the argument, what it got and what it needs."""

import numpy as np
import pytest

from conv_lib import (
    avg_pool_backward_fast,
    avg_pool_forward_fast,
    col2im,
    conv_backward_fast,
    conv_forward_fast,
    global_avg_pool_backward,
    global_avg_pool_forward,
    im2col,
    max_pool_backward_fast,
    max_pool_forward_fast,
)

X = np.zeros((2, 3, 5, 5))
W = np.zeros((4, 3, 3, 3))
B = np.zeros(4)
CONV = {"stride": 1, "pad": 1}
POOL = {"pool_height": 2, "pool_width": 2, "stride": 2}


@pytest.mark.parametrize(
    "args, error, words",
    [
        ((X[0], W, B, CONV), ValueError, ["x", "4 dimensions", "(3, 5, 5)"]),
        ((X, W[0], B, CONV), ValueError, ["w", "4 dimensions", "(3, 3, 3)"]),
        ((X.tolist(), W, B, CONV), TypeError, ["x", "numpy.ndarray", "list"]),
        ((X, np.zeros((4, 2, 3, 3)), B, CONV), ValueError, ["w", "C = 3", "C = 2", "(F, 3, HH, WW)"]),
        ((X, W, np.zeros(3), CONV), ValueError, ["b", "(4,)", "(3,)"]),
        ((X, W, B.reshape(4, 1), CONV), ValueError, ["b", "1 dimensions", "(4, 1)"]),
        ((X, W, B, {"stride": 0, "pad": 1}), ValueError, ["stride", ">= 1", "0"]),
        ((X, W, B, {"stride": -1, "pad": 1}), ValueError, ["stride", ">= 1", "-1"]),
        ((X, W, B, {"stride": 1, "pad": -1}), ValueError, ["pad", ">= 0", "-1"]),
        ((X, W, B, {"stride": 1.5, "pad": 1}), TypeError, ["stride", "int", "1.5"]),
        ((X, W, B, {"stride": 1, "pad": 1, "dilation": 0}), ValueError, ["dilation", ">= 1"]),
        ((X, W, B, {"pad": 1}), ValueError, ["conv_param", "'stride'"]),
        ((X, W, B, {"stride": 1}), ValueError, ["conv_param", "'pad'"]),
        ((X, W, B, None), TypeError, ["conv_param", "dict"]),
        ((X, np.zeros((4, 3, 8, 3)), B, {"stride": 1, "pad": 1}), ValueError,
         ["kernel", "8x3", "7x7", "padded input"]),
    ],
)
def test_conv_forward_errors(args, error, words):
    with pytest.raises(error) as info:
        conv_forward_fast(*args)
    for word in words:
        assert word in str(info.value), f"{word!r} not in {info.value}"


def test_conv_backward_rejects_dout_of_wrong_shape():
    _, cache = conv_forward_fast(X, W, B, CONV)
    with pytest.raises(ValueError) as info:
        conv_backward_fast(np.zeros((2, 4, 5, 4)), cache)
    for word in ["dout", "(2, 4, 5, 5)", "(2, 4, 5, 4)"]:
        assert word in str(info.value)


@pytest.mark.parametrize(
    "pool_param, error, words",
    [
        ({"pool_width": 2, "stride": 2}, ValueError, ["pool_param", "'pool_height'"]),
        ({"pool_height": 2, "pool_width": 2}, ValueError, ["pool_param", "'stride'"]),
        ({"pool_height": 2, "pool_width": 2, "stride": 0}, ValueError, ["stride", ">= 1"]),
        ({"pool_height": 0, "pool_width": 2, "stride": 1}, ValueError, ["pool_height", ">= 1"]),
        ({"pool_height": 6, "pool_width": 2, "stride": 1}, ValueError, ["6x2", "5x5", "larger"]),
    ],
)
@pytest.mark.parametrize("forward", [max_pool_forward_fast, avg_pool_forward_fast])
def test_pool_forward_errors(forward, pool_param, error, words):
    with pytest.raises(error) as info:
        forward(X, pool_param)
    for word in words:
        assert word in str(info.value), f"{word!r} not in {info.value}"


@pytest.mark.parametrize(
    "forward, backward",
    [(max_pool_forward_fast, max_pool_backward_fast), (avg_pool_forward_fast, avg_pool_backward_fast)],
)
def test_pool_backward_rejects_dout_of_wrong_shape(forward, backward):
    _, cache = forward(X, POOL)
    with pytest.raises(ValueError) as info:
        backward(np.zeros((2, 3, 3, 2)), cache)
    for word in ["dout", "(2, 3, 2, 2)", "(2, 3, 3, 2)"]:
        assert word in str(info.value)


def test_pool_rejects_wrong_ndim():
    with pytest.raises(ValueError, match=r"x must have 4 dimensions"):
        max_pool_forward_fast(X[0], POOL)
    with pytest.raises(ValueError, match=r"x must have 4 dimensions"):
        global_avg_pool_forward(X[0])


def test_global_avg_pool_backward_rejects_dout_of_wrong_shape():
    _, cache = global_avg_pool_forward(X)
    with pytest.raises(ValueError, match=r"dout must have shape \(2, 3\)"):
        global_avg_pool_backward(np.zeros((3, 2)), cache)


def test_im2col_and_col2im_errors():
    with pytest.raises(ValueError, match="larger than the padded input"):
        im2col(X, 9, 1)
    with pytest.raises(ValueError, match=r"cols must have shape \(2, 27, 9\)"):
        col2im(np.zeros((2, 27, 10)), X.shape, 3, 3)
