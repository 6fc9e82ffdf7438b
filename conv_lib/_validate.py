"""Argument checks shared by the fast layers.

Every error names the argument, what it got and what it needs, because the
people reading these messages are students debugging their first conv layer.
"""

from numbers import Integral

import numpy as np


def as_array(name, value, ndim, layout):
    """Return ``value`` as an ndarray with ``ndim`` dimensions, or raise.

    ``layout`` is the human-readable axis layout, e.g. ``"(N, C, H, W)"``.
    """
    if not isinstance(value, np.ndarray):
        raise TypeError(
            f"{name} must be a numpy.ndarray of shape {layout}, got {type(value).__name__}"
        )
    if value.ndim != ndim:
        raise ValueError(
            f"{name} must have {ndim} dimensions {layout}, got shape {value.shape} "
            f"({value.ndim} dimensions)"
        )
    if not (np.issubdtype(value.dtype, np.number) or value.dtype == np.bool_):
        raise TypeError(f"{name} must hold numbers, got dtype {value.dtype}")
    return value


def float_dtype(*arrays):
    """The dtype results come back in: float32 stays float32, anything else
    promotes as NumPy would, and integers become float64."""
    return np.result_type(*(a.dtype for a in arrays), np.float32)


def require_keys(param_name, params, keys):
    if not isinstance(params, dict):
        raise TypeError(f"{param_name} must be a dict, got {type(params).__name__}")
    missing = [k for k in keys if k not in params]
    if missing:
        raise ValueError(
            f"{param_name} is missing {', '.join(repr(k) for k in missing)}; "
            f"it needs the keys {', '.join(repr(k) for k in keys)}, got {sorted(params)}"
        )


def int_pair(name, value, minimum):
    """Read an int or an (h, w) pair of ints, each at least ``minimum``."""
    pair = tuple(value) if isinstance(value, (tuple, list, np.ndarray)) else (value, value)
    if len(pair) != 2 or not all(
        isinstance(v, Integral) and not isinstance(v, bool) for v in pair
    ):
        raise TypeError(f"{name} must be an int or a pair of ints (h, w), got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(pair[0]), int(pair[1])


def expect_shape(name, array, shape, layout):
    if not isinstance(array, np.ndarray):
        raise TypeError(
            f"{name} must be a numpy.ndarray of shape {shape} {layout}, "
            f"got {type(array).__name__}"
        )
    if array.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)} {layout}, got {array.shape}")
    return array
