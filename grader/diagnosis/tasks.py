"""The graded tasks: which function, which cases, how it is called and what it returns.

This registry is the contract between the notebooks (function names), the
checks students run, and the autograder.
"""

from dataclasses import dataclass
from types import SimpleNamespace

from . import cases, norm_cases


@dataclass(frozen=True)
class Task:
    name: str
    function: str  # the name the student's solution cell defines
    make_cases: object  # (hidden: bool, seed) -> [Case]
    call: object  # case.inputs -> positional args
    returns: str  # what a correct function returns, for messages
    parts: tuple  # the judged parts of the return value
    blocked: tuple  # modules a student's code may not use while this task is graded
    arguments: tuple = ()  # names of call()'s positional arguments, for messages


def _conv_call(i):
    return (i["x"], i["w"], i["b"], i["conv_param"])


def _im2col_backward_call(i):
    """dout and the cache conv_forward_im2col keeps: (x, w, b, conv_param, cols)."""
    from conv_lib.im2col import im2col

    _, _, hh, ww = i["w"].shape
    p = i["conv_param"]
    cols = im2col(i["x"], hh, ww, stride=p["stride"], pad=p["pad"])
    return (i["dout"], (*_conv_call(i), cols))


def _pool_call(i):
    return (i["x"], i["pool_param"])


def model_from(spec):
    """The model object ``convnet_loss`` receives: ThreeLayerConvNet's attributes."""
    return SimpleNamespace(**spec)


_CONV_ARGUMENTS = ("x", "w", "b", "conv_param")
_POOL_ARGUMENTS = ("x", "pool_param")
_BACKWARD_ARGUMENTS = ("dout", "cache")

_FAST = ("conv_lib.conv", "conv_lib.pool", "conv_lib.baselines", "conv_lib.layer_utils",
         "conv_lib.cnn", "conv_lib.solver")
_NAIVE_BLOCKED = (*_FAST, "conv_lib.im2col")

_NORM = ("conv_lib.normalization",)


def _batchnorm_call(i):
    return (i["x"], i["gamma"], i["beta"], i["bn_param"])


def _groupnorm_call(i):
    """Also the cache spatial_groupnorm_backward gets: the forward's inputs."""
    return (i["x"], i["gamma"], i["beta"], i["G"], i["gn_param"])


TASKS = {
    t.name: t
    for t in [
        Task("conv_forward", "conv_forward_naive", cases.conv_cases, _conv_call,
             "a tuple (out, cache)", ("out",), _NAIVE_BLOCKED, _CONV_ARGUMENTS),
        Task("conv_forward_dilated", "conv_forward_dilated_naive", cases.dilated_conv_cases,
             _conv_call, "a tuple (out, cache)", ("out",), _NAIVE_BLOCKED, _CONV_ARGUMENTS),
        Task("conv_backward", "conv_backward_naive", cases.conv_cases,
             lambda i: (i["dout"], _conv_call(i)), "a tuple (dx, dw, db)", ("dx", "dw", "db"),
             _NAIVE_BLOCKED, _BACKWARD_ARGUMENTS),
        Task("max_pool_forward", "max_pool_forward_naive", cases.pool_cases, _pool_call,
             "a tuple (out, cache)", ("out",), _NAIVE_BLOCKED, _POOL_ARGUMENTS),
        Task("max_pool_backward", "max_pool_backward_naive", cases.pool_cases,
             lambda i: (i["dout"], _pool_call(i)), "the array dx", ("dx",), _NAIVE_BLOCKED,
             _BACKWARD_ARGUMENTS),
        Task("avg_pool_forward", "avg_pool_forward_naive", cases.pool_cases, _pool_call,
             "a tuple (out, cache)", ("out",), _NAIVE_BLOCKED, _POOL_ARGUMENTS),
        Task("avg_pool_backward", "avg_pool_backward_naive", cases.pool_cases,
             lambda i: (i["dout"], _pool_call(i)), "the array dx", ("dx",), _NAIVE_BLOCKED,
             _BACKWARD_ARGUMENTS),
        Task("conv_forward_im2col", "conv_forward_im2col", cases.conv_cases, _conv_call,
             "a tuple (out, cache)", ("out",), _FAST, _CONV_ARGUMENTS),
        Task("conv_backward_im2col", "conv_backward_im2col", cases.conv_cases,
             _im2col_backward_call, "a tuple (dx, dw, db)", ("dx", "dw", "db"), _FAST,
             _BACKWARD_ARGUMENTS),
        Task("convnet_loss", "convnet_loss", cases.convnet_cases,
             lambda i: (model_from(i["model"]), i["X"], i.get("y")),
             "scores (N, C) when y is None, else a tuple (loss, grads)", ("scores",),
             ("conv_lib.cnn", "conv_lib.solver"), ("model", "X", "y")),
        # Notebook 6 (issue 25): normalisation. conv_lib.layers' vanilla batch norm is given.
        Task("spatial_batchnorm_forward", "spatial_batchnorm_forward",
             norm_cases.spatial_batchnorm_cases, _batchnorm_call, "a tuple (out, cache)",
             ("out", "bn_param['running_mean']", "bn_param['running_var']"), _NORM,
             ("x", "gamma", "beta", "bn_param")),
        Task("spatial_batchnorm_backward", "spatial_batchnorm_backward",
             norm_cases.spatial_batchnorm_backward_cases,
             lambda i: (i["dout"], norm_cases.batchnorm_cache(i)), "a tuple (dx, dgamma, dbeta)",
             ("dx", "dgamma", "dbeta"), _NORM, _BACKWARD_ARGUMENTS),
        Task("spatial_groupnorm_forward", "spatial_groupnorm_forward",
             norm_cases.spatial_groupnorm_cases, _groupnorm_call, "a tuple (out, cache)", ("out",),
             _NORM, ("x", "gamma", "beta", "G", "gn_param")),
        Task("spatial_groupnorm_backward", "spatial_groupnorm_backward",
             norm_cases.spatial_groupnorm_cases, lambda i: (i["dout"], _groupnorm_call(i)),
             "a tuple (dx, dgamma, dbeta)", ("dx", "dgamma", "dbeta"), _NORM, _BACKWARD_ARGUMENTS),
    ]
}

# Which tasks each assignment's notebook holds, in notebook order.
ASSIGNMENTS = {
    "01_conv_forward": ("conv_forward", "conv_forward_dilated"),  # the second is optional
    "02_conv_backward": ("conv_backward",),
    "03_pooling": ("max_pool_forward", "max_pool_backward", "avg_pool_forward", "avg_pool_backward"),
    "04_im2col": ("conv_forward_im2col", "conv_backward_im2col"),
    "05_convnet": ("convnet_loss",),
    "06_normalisation": ("spatial_batchnorm_forward", "spatial_batchnorm_backward",
                         "spatial_groupnorm_forward", "spatial_groupnorm_backward"),
}
