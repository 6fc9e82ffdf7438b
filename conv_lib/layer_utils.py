"""Sandwich layers: common chains of layers as one forward and one backward.

Built on conv_lib's fast conv and pooling, so the ConvNet trains in seconds.
"""

from .conv import conv_backward_fast, conv_forward_fast
from .layers import affine_backward, affine_forward, relu_backward, relu_forward
from .pool import max_pool_backward_fast, max_pool_forward_fast


def affine_relu_forward(x, w, b):
    """affine -> ReLU. Returns (out, cache)."""
    a, affine_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    return out, (affine_cache, relu_cache)


def affine_relu_backward(dout, cache):
    """Returns (dx, dw, db) for affine_relu_forward."""
    affine_cache, relu_cache = cache
    return affine_backward(relu_backward(dout, relu_cache), affine_cache)


def conv_relu_forward(x, w, b, conv_param):
    """conv -> ReLU. Returns (out, cache)."""
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    out, relu_cache = relu_forward(a)
    return out, (conv_cache, relu_cache)


def conv_relu_backward(dout, cache):
    """Returns (dx, dw, db) for conv_relu_forward."""
    conv_cache, relu_cache = cache
    return conv_backward_fast(relu_backward(dout, relu_cache), conv_cache)


class ConvReluPool:
    """conv -> ReLU -> max pool, from any conv and pool layers with conv_lib's signatures.

    ``conv_forward(x, w, b, conv_param) -> (out, cache)``, ``conv_backward(dout, cache)
    -> (dx, dw, db)``, ``pool_forward(x, pool_param) -> (out, cache)`` and
    ``pool_backward(dout, cache) -> dx``; conv_lib's fast layers by default. A network
    built on ``forward`` and ``backward`` trains on whichever layers it was given, e.g.
    the ones a student wrote.
    """

    def __init__(self, conv_forward=conv_forward_fast, conv_backward=conv_backward_fast,
                 pool_forward=max_pool_forward_fast, pool_backward=max_pool_backward_fast):
        self.conv_forward, self.conv_backward = conv_forward, conv_backward
        self.pool_forward, self.pool_backward = pool_forward, pool_backward

    def forward(self, x, w, b, conv_param, pool_param):
        """Returns (out, cache)."""
        a, conv_cache = self.conv_forward(x, w, b, conv_param)
        relu, relu_cache = relu_forward(a)
        out, pool_cache = self.pool_forward(relu, pool_param)
        return out, ((conv_cache, relu_cache), pool_cache)

    def backward(self, dout, cache):
        """Returns (dx, dw, db) for forward."""
        (conv_cache, relu_cache), pool_cache = cache
        da = relu_backward(self.pool_backward(dout, pool_cache), relu_cache)
        return self.conv_backward(da, conv_cache)


_FAST = ConvReluPool()


def conv_relu_pool_forward(x, w, b, conv_param, pool_param):
    """conv -> ReLU -> max pool with conv_lib's fast layers. Returns (out, cache)."""
    return _FAST.forward(x, w, b, conv_param, pool_param)


def conv_relu_pool_backward(dout, cache):
    """Returns (dx, dw, db) for conv_relu_pool_forward."""
    return _FAST.backward(dout, cache)
