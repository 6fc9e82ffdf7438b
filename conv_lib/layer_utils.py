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


def conv_relu_pool_forward(x, w, b, conv_param, pool_param):
    """conv -> ReLU -> max pool. Returns (out, cache)."""
    a, conv_relu_cache = conv_relu_forward(x, w, b, conv_param)
    out, pool_cache = max_pool_forward_fast(a, pool_param)
    return out, (conv_relu_cache, pool_cache)


def conv_relu_pool_backward(dout, cache):
    """Returns (dx, dw, db) for conv_relu_pool_forward."""
    conv_relu_cache, pool_cache = cache
    return conv_relu_backward(max_pool_backward_fast(dout, pool_cache), conv_relu_cache)
