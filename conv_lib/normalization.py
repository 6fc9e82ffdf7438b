"""Normalisation for conv layers: spatial batch norm and group norm (layer norm is G = 1).

Signatures follow cs231n's assignment 2. Spatial batch norm normalises each
channel over N, H and W, by reshaping to (N * H * W, C) for the vanilla
batchnorm_forward of conv_lib.layers; group norm normalises each image's
channels in G groups of C // G, over the group's channels and all pixels
(Wu and He, 2018).
"""

import numpy as np

from ._validate import as_array, expect_shape
from .layers import batchnorm_backward, batchnorm_forward


def _rows(x):
    """(N, C, H, W) -> (N * H * W, C): one row per pixel, one column per channel."""
    return x.transpose(0, 2, 3, 1).reshape(-1, x.shape[1])


def _unrows(rows, shape):
    n, c, h, w = shape
    return rows.reshape(n, h, w, c).transpose(0, 3, 1, 2)


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    """Batch norm per channel over N, H, W.

    Inputs: x (N, C, H, W); gamma, beta (C,); bn_param as batchnorm_forward's (its
    running averages, (C,), are updated in place in "train" mode).

    Returns (out, cache): out (N, C, H, W); cache is batchnorm_forward's cache.
    """
    x = as_array("x", x, 4, "(N, C, H, W)")
    out, cache = batchnorm_forward(_rows(x), gamma, beta, bn_param)
    return _unrows(out, x.shape), cache


def spatial_batchnorm_backward(dout, cache):
    """Backward pass of spatial_batchnorm_forward (train mode).

    Returns (dx, dgamma, dbeta): dx (N, C, H, W), dgamma and dbeta (C,).
    """
    dout = as_array("dout", dout, 4, "(N, C, H, W)")
    dx, dgamma, dbeta = batchnorm_backward(_rows(dout), cache)
    return _unrows(dx, dout.shape), dgamma, dbeta


def _groups(x, groups):
    """(N, C, H, W) -> (N, G, C // G * H * W): one row per (image, group)."""
    return x.reshape(x.shape[0], groups, -1)


def _check_groupnorm(x, gamma, beta, groups, gn_param):
    x = as_array("x", x, 4, "(N, C, H, W)")
    c = x.shape[1]
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1 \
            or c % groups:
        raise ValueError(f"G must be a whole number of groups that divides C = {c}, got {groups!r}")
    expect_shape("gamma", gamma, (1, c, 1, 1), "(1, C, 1, 1)")
    expect_shape("beta", beta, (1, c, 1, 1), "(1, C, 1, 1)")
    if not isinstance(gn_param, dict):
        raise TypeError(f"gn_param must be a dict, got {type(gn_param).__name__}")
    return x


def _group_stats(x, groups, eps):
    rows = _groups(x, groups)
    mean = rows.mean(axis=2, keepdims=True)
    std = np.sqrt(rows.var(axis=2, keepdims=True) + eps)
    return (rows - mean) / std, std


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    """Group norm: each image's C channels in G groups of C // G, each group normalised
    over its channels and all H * W pixels; G = 1 is layer norm.

    Inputs: x (N, C, H, W); gamma, beta (1, C, 1, 1); G divides C; gn_param a dict
    with an optional "eps" (1e-5).

    Returns (out, cache): out (N, C, H, W); cache = (x, gamma, beta, G, gn_param),
    the inputs, from which the backward recomputes the statistics.
    """
    x = _check_groupnorm(x, gamma, beta, G, gn_param)
    x_hat, _ = _group_stats(x, G, gn_param.get("eps", 1e-5))
    return gamma * x_hat.reshape(x.shape) + beta, (x, gamma, beta, G, gn_param)


def spatial_groupnorm_backward(dout, cache):
    """Backward pass of spatial_groupnorm_forward.

    Returns (dx, dgamma, dbeta): dx (N, C, H, W), dgamma and dbeta (1, C, 1, 1).
    """
    x, gamma, beta, groups, gn_param = cache
    x = _check_groupnorm(x, gamma, beta, groups, gn_param)
    expect_shape("dout", dout, x.shape, "(N, C, H, W)")
    x_hat, std = _group_stats(x, groups, gn_param.get("eps", 1e-5))
    dgamma = (dout * x_hat.reshape(x.shape)).sum(axis=(0, 2, 3), keepdims=True)
    dbeta = dout.sum(axis=(0, 2, 3), keepdims=True)
    g = _groups(dout * gamma, groups)
    dx = (g - g.mean(axis=2, keepdims=True)
          - x_hat * (g * x_hat).mean(axis=2, keepdims=True)) / std
    return dx.reshape(x.shape), dgamma, dbeta
