"""affine, relu, softmax_loss and the sandwich layers against numerical gradients."""

import re

import numpy as np
import pytest
from scipy.special import log_softmax

from conv_lib import (
    affine_backward,
    affine_forward,
    affine_relu_backward,
    affine_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
    relu_backward,
    relu_forward,
    softmax_loss,
)
from conv_lib.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array

from .loops import gradient_error

rng = np.random.default_rng(11)


def test_affine_matches_a_plain_matrix_product_and_its_gradients():
    x, w, b = rng.standard_normal((4, 2, 3)), rng.standard_normal((6, 5)), rng.standard_normal(5)
    out, cache = affine_forward(x, w, b)
    np.testing.assert_allclose(out, x.reshape(4, 6) @ w + b, rtol=1e-12)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = affine_backward(dout, cache)
    for grad, wrt in ((dx, x), (dw, w), (db, b)):
        numeric = eval_numerical_gradient_array(lambda _: affine_forward(x, w, b)[0], wrt, dout)
        assert gradient_error(grad, numeric) < 1e-9


def test_relu_gradient_flows_only_where_the_input_was_positive():
    x = rng.standard_normal((3, 4)) + 0.05  # keep entries away from the kink at 0
    x[np.abs(x) < 0.01] = 0.5
    out, cache = relu_forward(x)
    np.testing.assert_array_equal(out, np.where(x > 0, x, 0))
    dout = rng.standard_normal(x.shape)
    numeric = eval_numerical_gradient_array(lambda _: relu_forward(x)[0], x, dout)
    assert gradient_error(relu_backward(dout, cache), numeric) < 1e-9


def test_softmax_loss_matches_scipy_and_its_gradient():
    scores, y = rng.standard_normal((7, 5)), rng.integers(0, 5, 7)
    loss, dscores = softmax_loss(scores, y)
    assert loss == pytest.approx(-log_softmax(scores, axis=1)[np.arange(7), y].mean(), rel=1e-12)
    numeric = eval_numerical_gradient(lambda s: softmax_loss(s, y)[0], scores)
    assert gradient_error(dscores, numeric) < 1e-8


def test_softmax_loss_is_stable_for_huge_scores():
    loss, dscores = softmax_loss(np.array([[1000.0, 0.0], [0.0, -1000.0]]), np.array([0, 0]))
    assert np.isfinite(loss) and np.all(np.isfinite(dscores)) and loss == pytest.approx(0.0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: affine_forward(np.zeros((2, 3)), np.zeros((4, 5)), np.zeros(5)), "D = 3"),
        (lambda: affine_forward(np.zeros((2, 3)), np.zeros((3, 5)), np.zeros(4)), "b must have shape (5,)"),
        (lambda: softmax_loss(np.zeros((2, 3)), np.array([0, 3])), "labels in [0, 2]"),
        (lambda: softmax_loss(np.zeros((2, 3)), np.array([0.0, 1.0])), "integer class labels"),
        (lambda: softmax_loss(np.zeros((2, 3)), np.array([0])), "y must have shape (2,)"),
    ],
)
def test_bad_input_names_the_argument(call, message):
    with pytest.raises((ValueError, TypeError), match=re.escape(message)):
        call()


def test_sandwiches_match_their_numerical_gradients():
    x = rng.standard_normal((2, 2, 6, 6))
    w, b = rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    conv, pool = {"stride": 1, "pad": 1}, {"pool_height": 2, "pool_width": 2, "stride": 2}
    out, cache = conv_relu_pool_forward(x, w, b, conv, pool)
    dout = rng.standard_normal(out.shape)
    grads = conv_relu_pool_backward(dout, cache)
    for grad, wrt in zip(grads, (x, w, b)):
        numeric = eval_numerical_gradient_array(
            lambda _: conv_relu_pool_forward(x, w, b, conv, pool)[0], wrt, dout)
        assert gradient_error(grad, numeric) < 1e-7

    x, w, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 5)), rng.standard_normal(5)
    out, cache = affine_relu_forward(x, w, b)
    dout = rng.standard_normal(out.shape)
    for grad, wrt in zip(affine_relu_backward(dout, cache), (x, w, b)):
        numeric = eval_numerical_gradient_array(lambda _: affine_relu_forward(x, w, b)[0], wrt, dout)
        assert gradient_error(grad, numeric) < 1e-8
