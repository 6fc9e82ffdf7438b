import numpy as np
import pytest

from conv_lib.gradient_check import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    grad_check_sparse,
    rel_error,
)


def test_numerical_gradient_of_a_known_function():
    x = np.array([[0.3, -1.2], [2.0, 0.7]])
    grad = eval_numerical_gradient(lambda v: np.sum(np.sin(v) * v), x)
    assert rel_error(grad, np.cos(x) * x + np.sin(x)) < 1e-8


def test_centred_differences_are_second_order():
    # Halving h should cut the error of a centred difference about 4x.
    x = np.array([0.5])
    errors = [abs(eval_numerical_gradient(lambda v: np.exp(v[0]), x, h=h)[0] - np.exp(0.5))
              for h in (1e-2, 5e-3)]
    assert 3.5 < errors[0] / errors[1] < 4.5


def test_array_version_and_sparse_check_agree_with_the_truth(capsys):
    x = np.random.default_rng(0).standard_normal((3, 4))
    df = np.random.default_rng(1).standard_normal((3, 4))
    assert rel_error(eval_numerical_gradient_array(np.tanh, x, df), df / np.cosh(x) ** 2) < 1e-8
    errors = grad_check_sparse(lambda v: np.sum(v ** 3), x, 3 * x ** 2, num_checks=5)
    assert errors.shape == (5,) and errors.max() < 1e-8
    assert capsys.readouterr().out.count("relative error") == 5
    wrong = grad_check_sparse(lambda v: np.sum(v ** 3), x, 2 * x ** 2, num_checks=5, verbose=False)
    assert wrong.min() > 0.1


def test_x_is_restored_even_when_f_raises():
    x = np.arange(4.0)
    calls = []

    def f(v):
        calls.append(v.copy())
        if len(calls) == 2:
            raise RuntimeError("boom")
        return v.sum()

    with pytest.raises(RuntimeError):
        eval_numerical_gradient(f, x)
    np.testing.assert_array_equal(x, np.arange(4.0))


def test_float32_is_refused_with_the_reason():
    with pytest.raises(TypeError, match="float64"):
        eval_numerical_gradient(np.sum, np.ones(3, np.float32))


def test_rel_error():
    assert rel_error(np.zeros(3), np.zeros(3)) == 0
    assert rel_error([1.0, 2.0], [1.0, 2.0 + 4e-8]) == pytest.approx(1e-8, rel=1e-3)
    with pytest.raises(ValueError, match="one shape"):
        rel_error(np.zeros(2), np.zeros(3))
