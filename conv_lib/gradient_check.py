"""Numerical gradients by centred differences, for checking backward passes.

Centred differences have truncation error O(h**2) instead of O(h), so with
h = 1e-5 they agree with a correct analytic gradient to about 1e-8 relative
error, but only in float64: float32's resolution (about 1e-7) is coarser than
the step, and the difference quotient becomes noise.
"""

import numpy as np

DEFAULT_H = 1e-5


def rel_error(x, y):
    """Largest element-wise relative error: max |x - y| / max(1e-8, |x| + |y|).

    The 1e-8 floor keeps entries that are both (nearly) zero from dividing by zero.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"rel_error needs two arrays of one shape, got {x.shape} and {y.shape}")
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y)), initial=0.0))


def _require_float64(name, x):
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(x).__name__}")
    if x.dtype != np.float64:
        raise TypeError(
            f"{name} must be float64 for a numerical gradient, got {x.dtype}: a step of "
            f"h = {DEFAULT_H:g} is below float32's resolution; use {name}.astype(np.float64)"
        )


def _difference_at(f, x, index, h):
    """(f(x + h e_index), f(x - h e_index)).

    x is changed in place and always restored, even when f raises, so the
    caller's array (often a model parameter) is never left perturbed.
    """
    old = x[index]
    try:
        x[index] = old + h
        plus = f(x)
        x[index] = old - h
        minus = f(x)
    finally:
        x[index] = old
    return plus, minus


def _centred_differences(f, x, h):
    for index in np.ndindex(x.shape):
        yield index, *_difference_at(f, x, index, h)


def eval_numerical_gradient(f, x, verbose=False, h=DEFAULT_H):
    """Gradient of a scalar function by centred differences.

    Inputs:
    - f: a function of one argument, x, returning a number (e.g. a loss).
    - x: float64 array at which to evaluate the gradient; changed and restored.
    - verbose: print each entry as it is computed.
    - h: the step.

    Returns an array of x's shape: grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2h).
    """
    _require_float64("x", x)
    grad = np.zeros_like(x)
    for index, plus, minus in _centred_differences(f, x, h):
        grad[index] = (plus - minus) / (2 * h)
        if verbose:
            print(index, grad[index])
    return grad


def eval_numerical_gradient_array(f, x, df, h=DEFAULT_H):
    """Gradient of sum(f(x) * df) with respect to x, for an array-valued f.

    This is what a layer's backward pass computes: given the upstream gradient
    df of the layer's output (same shape as f(x)), return dx.

    Inputs:
    - f: a function of x returning an array of df's shape.
    - x: float64 array; changed and restored.
    - df: upstream gradient, same shape as f(x).
    - h: the step.
    """
    _require_float64("x", x)
    df = np.asarray(df, dtype=np.float64)
    grad = np.zeros_like(x)
    for index, plus, minus in _centred_differences(f, x, h):
        plus, minus = np.asarray(plus), np.asarray(minus)
        if plus.shape != df.shape:
            raise ValueError(f"df must have f(x)'s shape {plus.shape}, got {df.shape}")
        grad[index] = np.sum((plus - minus) * df) / (2 * h)
    return grad


def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=DEFAULT_H, seed=0, verbose=True):
    """Compare an analytic gradient with centred differences at a few random entries.

    Checking every entry of a large weight matrix costs two forward passes per
    entry; a handful of random ones catches nearly every bug much faster.

    Inputs:
    - f: scalar function of x.
    - x: float64 array; changed and restored.
    - analytic_grad: the gradient to check, same shape as x.
    - num_checks: how many random entries to test.
    - seed: seed for the entries chosen, so a run can be repeated.
    - verbose: print one line per entry.

    Returns an array of the num_checks relative errors.
    """
    _require_float64("x", x)
    analytic_grad = np.asarray(analytic_grad)
    if analytic_grad.shape != x.shape:
        raise ValueError(f"analytic_grad must have x's shape {x.shape}, got {analytic_grad.shape}")
    rng = np.random.default_rng(seed)
    errors = []
    for _ in range(num_checks):
        index = tuple(int(rng.integers(n)) for n in x.shape)
        plus, minus = _difference_at(f, x, index, h)
        numerical = (plus - minus) / (2 * h)
        analytic = float(analytic_grad[index])
        error = rel_error(numerical, analytic)
        errors.append(error)
        if verbose:
            print(f"entry {index}: numerical {numerical:+.6e}  analytic {analytic:+.6e}  "
                  f"relative error {error:.2e}")
    return np.array(errors)
