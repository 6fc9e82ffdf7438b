"""A three-layer ConvNet: conv - relu - 2x2 max pool - affine - relu - affine - softmax."""

import numpy as np

from .layer_utils import ConvReluPool, affine_relu_backward, affine_relu_forward
from .layers import affine_backward, affine_forward, softmax_loss


class ThreeLayerConvNet:
    """conv - relu - 2x2 max pool - affine - relu - affine - softmax.

    The conv layer keeps the spatial size (stride 1, pad (filter_size - 1) // 2)
    and the pool halves it, flooring odd sizes. Inputs are minibatches of shape
    (N, C, H, W).

    Attributes:
    - params: dict of the weights, W1 (F, C, k, k), b1 (F,), W2 (F*H'*W', hidden),
      b2 (hidden,), W3 (hidden, classes), b3 (classes,), with H' = H // 2, W' = W // 2.
    - reg: L2 regularisation strength; the loss adds 0.5 * reg * sum(W ** 2)
      over W1, W2, W3 (not the biases).
    - conv_param, pool_param: the layers' settings.
    - dtype: dtype of every parameter and computation.
    - layers: the ConvReluPool whose forward and backward make the first block.
    """

    def __init__(self, input_dim=(3, 32, 32), num_filters=32, filter_size=7, hidden_dim=100,
                 num_classes=10, weight_scale=1e-3, reg=0.0, dtype=np.float32, seed=None,
                 layers=None):
        """
        Inputs:
        - input_dim: (C, H, W) of one input.
        - num_filters, filter_size: F and k of the conv layer (k odd keeps the size).
        - hidden_dim: units in the hidden affine layer.
        - num_classes: scores per input.
        - weight_scale: standard deviation of the random initial weights, or "he"
          for sqrt(2 / fan_in) per layer, which keeps ReLU activations at a
          steady scale from layer to layer.
        - reg: L2 regularisation strength.
        - dtype: np.float32 to train fast, np.float64 for gradient checks.
        - seed: seed for the initial weights, for repeatable runs.
        - layers: a ConvReluPool for the conv - relu - pool block, to train on other
          conv and pool layers (a student's, say); conv_lib's fast ones when None.
        """
        c, h, w = input_dim
        self.reg = reg
        self.layers = ConvReluPool() if layers is None else layers
        self.dtype = dtype
        self.conv_param = {"stride": 1, "pad": (filter_size - 1) // 2}
        self.pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
        pooled = num_filters * (h // 2) * (w // 2)
        shapes = {
            "W1": (num_filters, c, filter_size, filter_size),
            "W2": (pooled, hidden_dim),
            "W3": (hidden_dim, num_classes),
        }
        rng = np.random.default_rng(seed)
        self.params = {}
        for layer, (name, shape) in enumerate(shapes.items(), start=1):
            fan_in = int(np.prod(shape[1:])) if name == "W1" else shape[0]
            scale = np.sqrt(2.0 / fan_in) if weight_scale == "he" else weight_scale
            self.params[name] = (scale * rng.standard_normal(shape)).astype(dtype)
            self.params[f"b{layer}"] = np.zeros(shape[0] if name == "W1" else shape[1], dtype)

    def loss(self, X, y=None):
        """Scores, or the loss and its gradients.

        Inputs:
        - X: (N, C, H, W) inputs.
        - y: (N,) integer labels, or None.

        Returns:
        - if y is None: scores of shape (N, num_classes);
        - else (loss, grads): the softmax loss plus regularisation, and a dict
          with the gradient of that loss for every key of self.params.
        """
        p = self.params
        X = X.astype(self.dtype, copy=False)
        a1, cache1 = self.layers.forward(X, p["W1"], p["b1"], self.conv_param, self.pool_param)
        a2, cache2 = affine_relu_forward(a1, p["W2"], p["b2"])
        scores, cache3 = affine_forward(a2, p["W3"], p["b3"])
        if y is None:
            return scores

        loss, dscores = softmax_loss(scores, y)
        weights = ("W1", "W2", "W3")
        loss += 0.5 * self.reg * sum(float(np.sum(p[k] * p[k])) for k in weights)
        grads = {}
        da2, grads["W3"], grads["b3"] = affine_backward(dscores, cache3)
        da1, grads["W2"], grads["b2"] = affine_relu_backward(da2, cache2)
        _, grads["W1"], grads["b1"] = self.layers.backward(da1, cache1)
        for k in weights:
            grads[k] = grads[k] + self.reg * p[k]
        return loss, grads
