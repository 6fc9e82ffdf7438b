"""Spatial batch norm and group norm (conv_lib.normalization) against loop versions that
follow the definitions pixel by pixel, and against numerical gradients, on random shapes."""

import numpy as np
import pytest

from conv_lib import (
    batchnorm_backward,
    batchnorm_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
)
from conv_lib.gradient_check import eval_numerical_gradient_array

from .loops import gradient_error


def batchnorm_loops(x, gamma, beta, bn_param):
    """Per channel c: the mean and biased variance of every x[n, c, i, j]."""
    n, c, h, w = x.shape
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    out = np.zeros_like(x)
    running_mean = bn_param.get("running_mean", np.zeros(c)).copy()
    running_var = bn_param.get("running_var", np.zeros(c)).copy()
    for ch in range(c):
        values = [x[a, ch, i, j] for a in range(n) for i in range(h) for j in range(w)]
        if bn_param["mode"] == "train":
            mean = sum(values) / len(values)
            var = sum((v - mean) ** 2 for v in values) / len(values)
            running_mean[ch] = momentum * running_mean[ch] + (1 - momentum) * mean
            running_var[ch] = momentum * running_var[ch] + (1 - momentum) * var
        else:
            mean, var = running_mean[ch], running_var[ch]
        for a in range(n):
            for i in range(h):
                for j in range(w):
                    out[a, ch, i, j] = gamma[ch] * (x[a, ch, i, j] - mean) / np.sqrt(var + eps) + beta[ch]
    return out, running_mean, running_var


def groupnorm_loops(x, gamma, beta, groups, eps=1e-5):
    """Per image a and group g: the channels g * C // G to (g + 1) * C // G - 1, all pixels."""
    n, c, h, w = x.shape
    size = c // groups
    out = np.zeros_like(x)
    for a in range(n):
        for g in range(groups):
            chans = range(g * size, (g + 1) * size)
            values = [x[a, ch, i, j] for ch in chans for i in range(h) for j in range(w)]
            mean = sum(values) / len(values)
            var = sum((v - mean) ** 2 for v in values) / len(values)
            for ch in chans:
                out[a, ch] = gamma[0, ch, 0, 0] * (x[a, ch] - mean) / np.sqrt(var + eps) + beta[0, ch, 0, 0]
    return out


def _shapes(seed, count=12):
    rng = np.random.default_rng(seed)
    return [(int(rng.integers(1, 4)), int(rng.integers(1, 5)), int(rng.integers(1, 5)),
             int(rng.integers(1, 5))) for _ in range(count)]


@pytest.mark.parametrize("shape", _shapes(1))
@pytest.mark.parametrize("mode", ["train", "test"])
def test_spatial_batchnorm_forward_matches_loops_and_updates_the_running_averages(shape, mode):
    rng = np.random.default_rng([*shape, mode == "train"])
    if mode == "train" and shape[0] * shape[2] * shape[3] == 1:
        shape = (2, *shape[1:])  # one value per channel: its variance is 0, still defined
    x = rng.standard_normal(shape) * 3 + 2
    c = shape[1]
    gamma, beta = rng.standard_normal(c), rng.standard_normal(c)
    bn_param = {"mode": mode, "momentum": float(rng.uniform(0.5, 0.99)),
                "running_mean": rng.standard_normal(c), "running_var": rng.uniform(0.5, 2, c)}
    want, want_mean, want_var = batchnorm_loops(x, gamma, beta, bn_param)
    before = {k: v.copy() for k, v in bn_param.items() if isinstance(v, np.ndarray)}
    out, _ = spatial_batchnorm_forward(x, gamma, beta, bn_param)
    assert gradient_error(out, want) < 1e-10
    assert gradient_error(bn_param["running_mean"], want_mean) < 1e-12
    assert gradient_error(bn_param["running_var"], want_var) < 1e-12
    if mode == "test":
        for key, value in before.items():
            np.testing.assert_array_equal(bn_param[key], value)


def test_running_averages_start_at_zero_and_converge_to_the_data_statistics():
    rng = np.random.default_rng(3)
    bn_param = {"mode": "train"}
    gamma, beta = np.ones(3), np.zeros(3)
    for _ in range(200):
        x = rng.standard_normal((8, 3, 4, 4)) * np.array([1, 2, 3])[None, :, None, None] + 5
        spatial_batchnorm_forward(x, gamma, beta, bn_param)
    np.testing.assert_allclose(bn_param["running_mean"], 5, atol=0.35)  # 5 sigma of the EMA
    np.testing.assert_allclose(bn_param["running_var"], [1, 4, 9], rtol=0.25)
    out, _ = spatial_batchnorm_forward(x, gamma, beta, {**bn_param, "mode": "test"})
    assert abs(out.mean()) < 0.2 and abs(out.std() - 1) < 0.2


@pytest.mark.parametrize("shape", _shapes(2, 8))
def test_spatial_batchnorm_backward_matches_numerical_gradients(shape):
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal(shape)
    c = shape[1]
    gamma, beta = rng.standard_normal(c), rng.standard_normal(c)
    dout = rng.standard_normal(shape)

    def f(_):
        return spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})[0]

    _, cache = spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})
    dx, dgamma, dbeta = spatial_batchnorm_backward(dout, cache)
    assert dgamma.shape == dbeta.shape == (c,)
    for grad, wrt in ((dx, x), (dgamma, gamma), (dbeta, beta)):
        assert gradient_error(grad, eval_numerical_gradient_array(f, wrt, dout)) < 1e-6


def test_vanilla_batchnorm_backward_matches_numerical_gradients():
    rng = np.random.default_rng(5)
    x, gamma, beta = rng.standard_normal((6, 4)) * 4 + 1, rng.standard_normal(4), rng.standard_normal(4)
    dout = rng.standard_normal((6, 4))
    _, cache = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    dx, dgamma, dbeta = batchnorm_backward(dout, cache)

    def f(_):
        return batchnorm_forward(x, gamma, beta, {"mode": "train"})[0]

    for grad, wrt in ((dx, x), (dgamma, gamma), (dbeta, beta)):
        assert gradient_error(grad, eval_numerical_gradient_array(f, wrt, dout)) < 1e-7


def _group_settings(seed, count=10):
    rng = np.random.default_rng(seed)
    settings = []
    for _ in range(count):
        groups = int(rng.integers(1, 4))
        c = groups * int(rng.integers(1, 3))
        settings.append(((int(rng.integers(1, 4)), c, int(rng.integers(1, 5)),
                          int(rng.integers(1, 5))), groups))
    return settings + [((2, 4, 3, 3), 4), ((2, 6, 2, 3), 1)]  # instance norm, layer norm


@pytest.mark.parametrize(("shape", "groups"), _group_settings(7))
def test_spatial_groupnorm_matches_loops_and_numerical_gradients(shape, groups):
    rng = np.random.default_rng(sum(shape) * groups)
    x = rng.standard_normal(shape) * 2 - 1
    if x[0].size // groups == 1:
        x = x + rng.standard_normal(shape)  # one value per group: normalised to 0
    c = shape[1]
    gamma, beta = rng.standard_normal((1, c, 1, 1)), rng.standard_normal((1, c, 1, 1))
    out, cache = spatial_groupnorm_forward(x, gamma, beta, groups, {})
    assert gradient_error(out, groupnorm_loops(x, gamma, beta, groups)) < 1e-10
    dout = rng.standard_normal(shape)
    dx, dgamma, dbeta = spatial_groupnorm_backward(dout, cache)
    assert dgamma.shape == dbeta.shape == (1, c, 1, 1)

    def f(_):
        return spatial_groupnorm_forward(x, gamma, beta, groups, {})[0]

    for grad, wrt in ((dx, x), (dgamma, gamma), (dbeta, beta)):
        assert gradient_error(grad, eval_numerical_gradient_array(f, wrt, dout)) < 1e-6


def test_layer_norm_is_group_norm_with_one_group():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((3, 4, 2, 5))
    ones, zeros = np.ones((1, 4, 1, 1)), np.zeros((1, 4, 1, 1))
    out, _ = spatial_groupnorm_forward(x, ones, zeros, 1, {"eps": 0.0})
    flat = x.reshape(3, -1)
    want = (flat - flat.mean(1, keepdims=True)) / flat.std(1, keepdims=True)
    np.testing.assert_allclose(out.reshape(3, -1), want, rtol=1e-10)


def test_bad_arguments_are_named_with_the_shape_got_and_wanted():
    x = np.zeros((2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"gamma must have shape \(3,\).*got \(4,\)"):
        spatial_batchnorm_forward(x, np.ones(4), np.zeros(3), {"mode": "train"})
    with pytest.raises(ValueError, match=r"bn_param\['mode'\] must be 'train' or 'test'"):
        spatial_batchnorm_forward(x, np.ones(3), np.zeros(3), {})
    with pytest.raises(ValueError, match="G must be .* divides C = 3, got 2"):
        spatial_groupnorm_forward(x, np.ones((1, 3, 1, 1)), np.zeros((1, 3, 1, 1)), 2, {})
    with pytest.raises(ValueError, match=r"beta must have shape \(1, 3, 1, 1\).*got \(3,\)"):
        spatial_groupnorm_forward(x, np.ones((1, 3, 1, 1)), np.zeros(3), 3, {})
    with pytest.raises(ValueError, match=r"x must have 4 dimensions"):
        spatial_batchnorm_forward(np.zeros((2, 3)), np.ones(3), np.zeros(3), {"mode": "train"})


@pytest.mark.parametrize("norm", [None, "batch", "group"])
def test_the_deep_convnet_gradients_match_numerical_ones(norm):
    from conv_lib.deep_cnn import DeepConvNet
    from conv_lib.gradient_check import eval_numerical_gradient

    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((3, 1, 4, 4)), rng.integers(0, 3, 3)
    model = DeepConvNet(input_dim=(1, 4, 4), num_filters=4, depth=2, num_classes=3, norm=norm,
                        groups=2, weight_scale=0.5, seed=1)
    _, grads = model.loss(X, y)
    assert set(grads) == set(model.params)
    for name, param in model.params.items():
        numeric = eval_numerical_gradient(lambda _: model.loss(X, y)[0], param)
        if np.abs(numeric).max() < 1e-9:  # a conv bias under batch norm: its mean cancels it
            assert np.abs(grads[name]).max() < 1e-12, name
        else:
            assert gradient_error(grads[name], numeric) < 1e-6, name


def test_the_deep_convnet_predicts_with_the_running_averages():
    from conv_lib.deep_cnn import DeepConvNet

    rng = np.random.default_rng(6)
    model = DeepConvNet(input_dim=(1, 4, 4), num_filters=4, depth=2, num_classes=3, norm="batch", seed=1)
    X = rng.standard_normal((5, 1, 4, 4))
    model.loss(X, rng.integers(0, 3, 5))
    running = [p["running_mean"].copy() for p in model.norm_params]
    one, alone = model.loss(X), model.loss(X[:1])
    np.testing.assert_allclose(one[:1], alone)  # test mode: an input's scores ignore the batch
    assert all(np.array_equal(p["running_mean"], r) for p, r in zip(model.norm_params, running))


def test_normalisation_rescues_the_poorly_initialised_deep_net_of_notebook_6():
    """The notebook's experiment, as it runs there: five conv layers whose weights are too
    small (std 0.05) barely learn in three epochs of SGD with momentum; with batch or group
    norm after each conv layer the same net learns the digits."""
    from conv_lib.data import load_digits
    from conv_lib.deep_cnn import DeepConvNet
    from conv_lib.solver import Solver

    data = load_digits()
    final = {}
    for norm in (None, "batch", "group"):
        model = DeepConvNet(depth=5, num_filters=16, norm=norm, weight_scale=0.05,
                            dtype=np.float32, seed=0)
        solver = Solver(model, data, update_rule="sgd_momentum",
                        optim_config={"learning_rate": 0.05}, num_epochs=3, batch_size=50,
                        num_train_samples=500, progress=False)
        solver.train()
        final[norm] = solver.val_acc_history[-1]
    assert final[None] < 0.5 and final["batch"] > 0.9 and final["group"] > 0.9, final
