"""The cases of notebook 6's tasks: spatial batch norm and group norm, forward and backward.

Like grader.diagnosis.cases: public cases are fixed, and so are the hidden ones' settings,
one aspect each, their values drawn from a seed. They
cover train and test mode, running averages given or absent (zeros) and momentum other
than 0.9, eps from 1e-5 to 0.1, 1x1 and rectangular images, one image, one channel,
G = 1 (layer norm), G = C (instance norm) and G in between. Every channel or group
holds at least three values: with two, x_hat is +-1 whatever x is and dx is about 0.
"""


from conv_lib.layers import batchnorm_forward

from .cases import Case, draw_cases


def _x(rng, shape):
    """Inputs whose channels have their own mean and scale, as a conv layer's have."""
    c = shape[1]
    return (rng.standard_normal(shape) * rng.uniform(0.5, 3, (1, c, 1, 1))
            + rng.uniform(-3, 3, (1, c, 1, 1)))


def batchnorm_case(label, rng, shape, mode, momentum, eps, running):
    """x (N, C, H, W); bn_param with mode, eps, momentum (None: left out, so 0.9) and,
    when ``running``, running averages to start from (else absent: zeros)."""
    c = shape[1]
    bn_param = {"mode": mode, "eps": eps}
    if momentum is not None:
        bn_param["momentum"] = momentum
    if running:
        bn_param["running_mean"] = rng.uniform(-2, 2, c)
        bn_param["running_var"] = rng.uniform(0.5, 4, c)
    x = _x(rng, shape)
    inputs = {"x": x, "gamma": rng.uniform(0.5, 2, c), "beta": rng.standard_normal(c),
              "bn_param": bn_param, "dout": rng.standard_normal(shape)}
    shown = {"x": shape, "mode": mode, "momentum": 0.9 if momentum is None else momentum,
             "eps": eps, "running averages": "given" if running else "absent (zeros)"}
    return Case(label, inputs, shown)


def batchnorm_cache(inputs):
    """What spatial_batchnorm_forward keeps: batchnorm_forward's cache on the (N*H*W, C) rows."""
    x = inputs["x"]
    rows = x.transpose(0, 2, 3, 1).reshape(-1, x.shape[1])
    param = {"mode": "train", "eps": inputs["bn_param"]["eps"]}
    return batchnorm_forward(rows, inputs["gamma"], inputs["beta"], param)[1]


def groupnorm_case(label, rng, shape, groups, eps):
    c = shape[1]
    inputs = {"x": _x(rng, shape), "gamma": rng.uniform(0.5, 2, (1, c, 1, 1)),
              "beta": rng.standard_normal((1, c, 1, 1)), "G": groups, "gn_param": {"eps": eps},
              "dout": rng.standard_normal(shape)}
    return Case(label, inputs, {"x": shape, "G": groups, "eps": eps})


# (N, C, H, W), mode, momentum, eps, running averages given
PUBLIC_BATCHNORM = [
    ((2, 3, 4, 5), "train", 0.9, 1e-5, True),  # cs231n's check
    ((4, 2, 3, 3), "test", 0.9, 1e-5, True),  # running averages normalise, nothing changes
    ((1, 3, 2, 2), "train", None, 1e-5, False),  # first call: averages start at zero, momentum 0.9
    ((3, 1, 1, 1), "train", 0.5, 1e-3, True),  # 1x1 images, one channel
    ((2, 4, 3, 2), "test", 0.8, 1e-1, True),  # a large eps shows where it goes
    ((5, 2, 2, 3), "train", 0.7, 1e-5, True),
]

# Backward passes run in train mode only (cs231n's contract).
PUBLIC_BATCHNORM_BACKWARD = [
    ((2, 3, 4, 5), "train", 0.9, 1e-5, True),
    ((1, 2, 3, 3), "train", 0.9, 1e-5, True),
    ((4, 1, 1, 1), "train", 0.9, 1e-5, True),
    ((3, 4, 2, 3), "train", 0.9, 1e-1, True),
    ((2, 2, 5, 1), "train", 0.9, 1e-5, True),
]

# (N, C, H, W), G, eps
PUBLIC_GROUPNORM = [
    ((2, 6, 4, 5), 2, 1e-5),  # cs231n's check
    ((2, 4, 3, 3), 1, 1e-5),  # layer norm
    ((1, 4, 2, 3), 4, 1e-5),  # instance norm: one channel a group
    ((3, 6, 2, 2), 3, 1e-5),
    ((2, 8, 1, 1), 2, 1e-5),  # 1x1 images: a group's statistics come from its channels alone
    ((2, 6, 3, 2), 2, 1e-1),  # a large eps shows where it goes
]


# The hidden settings, one aspect each: (N, C, H, W), mode, momentum, eps, running averages given
HIDDEN_BATCHNORM = [
    ((3, 2, 3, 4), "train", None, 1e-5, False),  # a first call: default momentum, averages at zero
    ((2, 4, 1, 2), "train", 0.75, 1e-3, True),  # another momentum, averages given
    ((4, 3, 2, 2), "test", 0.9, 1e-5, True),  # test mode: the running averages normalise
    ((1, 3, 3, 5), "train", 0.9, 1e-1, True),  # one image, a large eps
    ((3, 1, 1, 1), "test", 0.6, 1e-3, True),  # 1x1 images, one channel, test mode
]
HIDDEN_BATCHNORM_BACKWARD = [
    ((3, 2, 3, 4), "train", 0.9, 1e-5, True),
    ((1, 3, 3, 5), "train", 0.9, 1e-1, True),  # one image, a large eps
    ((4, 1, 1, 1), "train", 0.9, 1e-5, True),  # 1x1 images, one channel
    ((2, 4, 2, 3), "train", 0.9, 1e-3, True),
]
# (N, C, H, W), G, eps
HIDDEN_GROUPNORM = [
    ((2, 3, 2, 3), 1, 1e-5),  # layer norm (G = 1)
    ((3, 6, 2, 2), 2, 1e-3),  # groups of three channels
    ((1, 4, 3, 1), 4, 1e-5),  # instance norm (G = C), one image
    ((2, 8, 1, 3), 4, 1e-1),  # groups of two, rows of one pixel, a large eps
]


def spatial_batchnorm_cases(hidden=False, seed=None):
    return draw_cases(batchnorm_case, PUBLIC_BATCHNORM, 235, HIDDEN_BATCHNORM, hidden, seed)


def spatial_batchnorm_backward_cases(hidden=False, seed=None):
    return draw_cases(batchnorm_case, PUBLIC_BATCHNORM_BACKWARD, 236, HIDDEN_BATCHNORM_BACKWARD,
                      hidden, seed)


def spatial_groupnorm_cases(hidden=False, seed=None):
    return draw_cases(groupnorm_case, PUBLIC_GROUPNORM, 237, HIDDEN_GROUPNORM, hidden, seed)
