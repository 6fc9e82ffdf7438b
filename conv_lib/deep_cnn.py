"""A deeper ConvNet with an optional normalisation after every conv layer:
[conv 3x3 - norm - relu] x depth - 2x2 max pool - affine - softmax.

The normalisation layers can be passed in (a student's, say), so the network
trains on them; conv_lib.normalization's are the default.
"""

import numpy as np

from . import normalization
from .conv import conv_backward_fast, conv_forward_fast
from .layers import affine_backward, affine_forward, relu_backward, relu_forward, softmax_loss
from .pool import max_pool_backward_fast, max_pool_forward_fast

NORMS = (None, "batch", "group")


class DeepConvNet:
    """[conv 3x3 (pad 1) - norm - relu] x depth - 2x2 max pool - affine - softmax.

    Attributes:
    - params: W1..W{depth} (F, C, 3, 3), b1..b{depth} (F,), and with a norm
      gamma{i}, beta{i} ((F,) for "batch", (1, F, 1, 1) for "group"); W_out, b_out.
    - norm: None, "batch" (spatial batch norm) or "group" (group norm with ``groups``).
    - norm_params: one bn_param or gn_param per layer; a batch norm's running
      averages live there, and loss(X) without labels runs it in test mode.
    """

    def __init__(self, input_dim=(1, 8, 8), num_filters=16, depth=4, num_classes=10,
                 norm=None, groups=4, weight_scale="he", dtype=np.float64, seed=None,
                 forward=None, backward=None):
        """
        - weight_scale: the conv weights' standard deviation, or "he" (sqrt(2 / fan_in)).
        - forward, backward: the norm's layers, with the signatures of
          spatial_batchnorm_* or spatial_groupnorm_* (conv_lib's when None).
        """
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
        if norm == "group" and num_filters % groups:
            raise ValueError(f"groups must divide num_filters = {num_filters}, got {groups}")
        c, h, w = input_dim
        self.norm, self.groups, self.depth, self.dtype = norm, groups, depth, dtype
        kind = {"batch": "spatial_batchnorm", "group": "spatial_groupnorm"}.get(norm)
        self.forward = forward or (getattr(normalization, f"{kind}_forward") if kind else None)
        self.backward = backward or (getattr(normalization, f"{kind}_backward") if kind else None)
        self.conv_param = {"stride": 1, "pad": 1}
        self.pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
        rng = np.random.default_rng(seed)
        self.params, self.norm_params = {}, []
        channels = c
        for i in range(1, depth + 1):
            scale = np.sqrt(2.0 / (channels * 9)) if weight_scale == "he" else weight_scale
            self.params[f"W{i}"] = (scale * rng.standard_normal((num_filters, channels, 3, 3))).astype(dtype)
            self.params[f"b{i}"] = np.zeros(num_filters, dtype)
            if norm:
                shape = (num_filters,) if norm == "batch" else (1, num_filters, 1, 1)
                self.params[f"gamma{i}"] = np.ones(shape, dtype)
                self.params[f"beta{i}"] = np.zeros(shape, dtype)
                self.norm_params.append({"mode": "train"} if norm == "batch" else {})
            channels = num_filters
        pooled = num_filters * (h // 2) * (w // 2)
        out_scale = np.sqrt(2.0 / pooled) if weight_scale == "he" else weight_scale
        self.params["W_out"] = (out_scale * rng.standard_normal((pooled, num_classes))).astype(dtype)
        self.params["b_out"] = np.zeros(num_classes, dtype)

    def _norm_forward(self, i, a, mode):
        p, norm_param = self.params, self.norm_params[i - 1]
        if self.norm == "batch":
            norm_param["mode"] = mode
            return self.forward(a, p[f"gamma{i}"], p[f"beta{i}"], norm_param)
        return self.forward(a, p[f"gamma{i}"], p[f"beta{i}"], self.groups, norm_param)

    def activations(self, X, mode="train"):
        """[(conv output, after its norm)] of every conv layer; in "train" mode a batch norm
        uses the statistics of X (and updates its running averages), in "test" mode those."""
        return self._run(X, mode, keep=True)[1]

    def _run(self, X, mode, keep=False):
        p, a, caches, kept = self.params, X.astype(self.dtype, copy=False), [], []
        for i in range(1, self.depth + 1):
            z, conv_cache = conv_forward_fast(a, p[f"W{i}"], p[f"b{i}"], self.conv_param)
            normed, norm_cache = self._norm_forward(i, z, mode) if self.norm else (z, None)
            if keep:
                kept.append((z, normed))
            a, relu_cache = relu_forward(normed)
            caches.append((conv_cache, norm_cache, relu_cache))
        pooled, pool_cache = max_pool_forward_fast(a, self.pool_param)
        scores, out_cache = affine_forward(pooled, p["W_out"], p["b_out"])
        return (scores, caches, pool_cache, out_cache), kept

    def loss(self, X, y=None):
        """Scores (N, num_classes) when y is None (a batch norm in test mode); else
        (loss, grads) with a gradient for every key of self.params."""
        (scores, caches, pool_cache, out_cache), _ = self._run(X, "train" if y is not None else "test")
        if y is None:
            return scores
        loss, dscores = softmax_loss(scores, y)
        grads = {}
        dpooled, grads["W_out"], grads["b_out"] = affine_backward(dscores, out_cache)
        da = max_pool_backward_fast(dpooled, pool_cache)
        for i in range(self.depth, 0, -1):
            conv_cache, norm_cache, relu_cache = caches[i - 1]
            dz = relu_backward(da, relu_cache)
            if self.norm:
                dz, grads[f"gamma{i}"], grads[f"beta{i}"] = self.backward(dz, norm_cache)
            da, grads[f"W{i}"], grads[f"b{i}"] = conv_backward_fast(dz, conv_cache)
        return loss, grads
