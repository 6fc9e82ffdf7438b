"""The non-convolutional layers a small ConvNet needs: affine, ReLU, softmax loss.

Each forward returns (out, cache); each backward takes (dout, cache) and
returns the gradients of the loss with respect to the forward's inputs.
"""

import numpy as np

from ._validate import as_array, expect_shape


def affine_forward(x, w, b):
    """Fully connected layer: out = x.reshape(N, D) @ w + b.

    Inputs:
    - x: array of shape (N, d_1, ..., d_k); each example is flattened to D = d_1 * ... * d_k.
    - w: weights of shape (D, M).
    - b: biases of shape (M,).

    Returns (out, cache): out of shape (N, M), cache = (x, w, b).
    """
    if not isinstance(x, np.ndarray) or x.ndim < 1:
        raise TypeError(f"x must be a numpy.ndarray of shape (N, ...), got {type(x).__name__}")
    w = as_array("w", w, 2, "(D, M)")
    b = as_array("b", b, 1, "(M,)")
    flat = x.reshape(x.shape[0], -1)
    if flat.shape[1] != w.shape[0]:
        raise ValueError(
            f"w must have shape (D, M) with D = {flat.shape[1]} (x's features per example, "
            f"from x of shape {x.shape}), got {w.shape}"
        )
    expect_shape("b", b, (w.shape[1],), "(M,)")
    return flat @ w + b, (x, w, b)


def affine_backward(dout, cache):
    """Backward pass of affine_forward.

    Inputs:
    - dout: upstream gradient of shape (N, M).
    - cache: (x, w, b) from affine_forward.

    Returns (dx, dw, db) with the shapes of x, w and b.
    """
    x, w, _ = cache
    expect_shape("dout", dout, (x.shape[0], w.shape[1]), "(N, M)")
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    return dx, dw, dout.sum(axis=0)


def relu_forward(x):
    """out = max(0, x), element-wise. Returns (out, cache) with cache = x."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"x must be a numpy.ndarray, got {type(x).__name__}")
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    """Gradient flows only where the input was positive. Returns dx."""
    x = cache
    expect_shape("dout", dout, x.shape, "(like x)")
    return np.where(x > 0, dout, 0).astype(dout.dtype, copy=False)


def softmax_loss(scores, y):
    """Mean cross-entropy of the softmax of ``scores`` against labels ``y``.

    loss = -(1/N) * sum_i log( exp(s[i, y_i]) / sum_j exp(s[i, j]) )

    The maximum of each row is subtracted first: it cancels in the ratio and
    keeps exp from overflowing.

    Inputs:
    - scores: (N, C) class scores.
    - y: (N,) integer labels with 0 <= y[i] < C.

    Returns (loss, dscores): a float and the gradient of shape (N, C).
    """
    scores = as_array("scores", scores, 2, "(N, C)")
    y = np.asarray(y)
    expect_shape("y", y, (scores.shape[0],), "(N,)")
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"y must hold integer class labels, got dtype {y.dtype}")
    if y.size and (y.min() < 0 or y.max() >= scores.shape[1]):
        raise ValueError(
            f"y must hold labels in [0, {scores.shape[1] - 1}] (scores has {scores.shape[1]} "
            f"classes), got labels from {y.min()} to {y.max()}"
        )
    n = scores.shape[0]
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(n)
    loss = -log_probs[rows, y].sum() / n
    dscores = np.exp(log_probs)
    dscores[rows, y] -= 1
    return float(loss), dscores / n


def _bn_settings(bn_param, d):
    """mode, eps, momentum and the running averages (zeros when absent) of a bn_param."""
    if not isinstance(bn_param, dict):
        raise TypeError(f"bn_param must be a dict, got {type(bn_param).__name__}")
    mode = bn_param.get("mode")
    if mode not in ("train", "test"):
        raise ValueError(f"bn_param['mode'] must be 'train' or 'test', got {mode!r}")
    running = {}
    for key in ("running_mean", "running_var"):
        value = bn_param.get(key)
        running[key] = np.zeros(d) if value is None else expect_shape(
            f"bn_param[{key!r}]", value, (d,), "(D,)")
    return mode, bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9), running


def batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalisation of (N, D) features (Ioffe and Szegedy, 2015).

    In "train" mode each feature is normalised with the mean and (biased) variance
    of the minibatch, and the running averages are updated in bn_param:
        running_mean = momentum * running_mean + (1 - momentum) * mean
        running_var = momentum * running_var + (1 - momentum) * var
    In "test" mode the running averages normalise instead, and nothing is updated.

    Inputs:
    - x: (N, D); gamma, beta: (D,) scale and shift.
    - bn_param: dict with "mode" ("train" or "test"), optional "eps" (1e-5),
      "momentum" (0.9), "running_mean" and "running_var" ((D,), zeros when absent).

    Returns (out, cache): out (N, D); cache = (x_hat, gamma, std), what
    batchnorm_backward reads, with std = sqrt(var + eps).
    """
    x = as_array("x", x, 2, "(N, D)")
    d = x.shape[1]
    expect_shape("gamma", gamma, (d,), "(D,)")
    expect_shape("beta", beta, (d,), "(D,)")
    mode, eps, momentum, running = _bn_settings(bn_param, d)
    if mode == "train":
        mean, var = x.mean(axis=0), x.var(axis=0)
        bn_param["running_mean"] = momentum * running["running_mean"] + (1 - momentum) * mean
        bn_param["running_var"] = momentum * running["running_var"] + (1 - momentum) * var
    else:
        mean, var = running["running_mean"], running["running_var"]
    std = np.sqrt(var + eps)
    x_hat = (x - mean) / std
    return gamma * x_hat + beta, (x_hat, gamma, std)


def batchnorm_backward(dout, cache):
    """Backward pass of batchnorm_forward in train mode.

    With g = dout * gamma, the gradient through the batch mean and variance is
        dx = (g - mean(g) - x_hat * mean(g * x_hat)) / std   (means over the N rows)

    Returns (dx, dgamma, dbeta) with the shapes of x, gamma and beta.
    """
    x_hat, gamma, std = cache
    expect_shape("dout", dout, x_hat.shape, "(N, D)")
    g = dout * gamma
    dx = (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0)) / std
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
