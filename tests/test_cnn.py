"""ThreeLayerConvNet, the update rules and the Solver."""

import numpy as np
import pytest

from conv_lib import Solver, ThreeLayerConvNet
from conv_lib.data import load_digits
from conv_lib.gradient_check import eval_numerical_gradient, rel_error
from conv_lib.optim import adam, sgd, sgd_momentum


def tiny_model(reg=0.0, size=(2, 7, 5)):
    return ThreeLayerConvNet(input_dim=size, num_filters=3, filter_size=3, hidden_dim=6,
                             num_classes=4, weight_scale=1e-1, reg=reg, dtype=np.float64, seed=0)


def test_initial_loss_is_log_of_the_class_count():
    model = ThreeLayerConvNet(input_dim=(1, 8, 8), num_filters=4, filter_size=3, num_classes=10,
                              weight_scale=1e-4, dtype=np.float64, seed=0)
    X = np.random.default_rng(0).standard_normal((20, 1, 8, 8))
    loss, _ = model.loss(X, np.arange(20) % 10)
    assert loss == pytest.approx(np.log(10), rel=1e-3)
    assert model.loss(X).shape == (20, 10)


@pytest.mark.parametrize("reg", [0.0, 0.7])
def test_whole_model_gradients_match_numerical_gradients(reg):
    model = tiny_model(reg)
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((3, 2, 7, 5)), rng.integers(0, 4, 3)
    _, grads = model.loss(X, y)
    for name, param in model.params.items():
        numeric = eval_numerical_gradient(lambda _: model.loss(X, y)[0], param)
        assert rel_error(grads[name], numeric) < 1e-6, name


def test_regularisation_adds_half_reg_times_the_squared_weights():
    X, y = np.ones((2, 2, 7, 5)), np.array([0, 1])
    plain, with_reg = tiny_model(0.0), tiny_model(0.3)
    penalty = 0.15 * sum(np.sum(with_reg.params[k] ** 2) for k in ("W1", "W2", "W3"))
    assert with_reg.loss(X, y)[0] == pytest.approx(plain.loss(X, y)[0] + penalty, rel=1e-12)


def test_he_initialisation_scales_each_layer_by_its_fan_in():
    model = ThreeLayerConvNet(input_dim=(3, 16, 16), num_filters=64, filter_size=5,
                              hidden_dim=500, weight_scale="he", seed=0)
    assert model.params["W1"].std() == pytest.approx(np.sqrt(2 / 75), rel=0.05)
    assert model.params["W2"].std() == pytest.approx(np.sqrt(2 / (64 * 64)), rel=0.05)
    assert model.params["W1"].dtype == np.float32


def test_update_rules_follow_their_formulas():
    w, dw = np.array([1.0, -2.0]), np.array([0.5, 0.5])
    np.testing.assert_allclose(sgd(w, dw, {"learning_rate": 0.1})[0], [0.95, -2.05])
    config = {"learning_rate": 0.1, "momentum": 0.9}
    w1, config = sgd_momentum(w, dw, config)
    w2, _ = sgd_momentum(w1, dw, config)
    np.testing.assert_allclose(w2 - w1, 0.9 * (w1 - w) - 0.1 * dw)
    # Adam's first step moves every weight by about learning_rate, whatever the gradient's scale.
    next_w, config = adam(w, np.array([1e-3, 1e3]), {"learning_rate": 0.01})
    np.testing.assert_allclose(w - next_w, [0.01, 0.01], rtol=1e-4)
    assert config["t"] == 1


def test_solver_overfits_a_small_set_and_keeps_its_history(capsys):
    data = load_digits()
    small = {"X_train": data["X_train"][:50], "y_train": data["y_train"][:50],
             "X_val": data["X_val"], "y_val": data["y_val"]}
    model = ThreeLayerConvNet(input_dim=(1, 8, 8), num_filters=8, filter_size=3, hidden_dim=50,
                              weight_scale="he", seed=0)
    solver = Solver(model, small, update_rule="adam", optim_config={"learning_rate": 5e-3},
                    num_epochs=25, batch_size=25, progress=False)
    solver.train()
    assert len(solver.loss_history) == 50
    assert len(solver.train_acc_history) == len(solver.val_acc_history) == 25
    assert solver.train_acc_history[-1] == 1.0
    assert solver.best_val_acc == max(solver.val_acc_history)
    assert capsys.readouterr().out == ""  # progress=False and verbose=False: silent


def test_solver_reaches_95_percent_on_the_digits_and_reports_progress_on_stdout(capsys):
    data = load_digits(dtype=np.float32)
    model = ThreeLayerConvNet(input_dim=(1, 8, 8), num_filters=16, filter_size=3, hidden_dim=100,
                              weight_scale="he", reg=1e-3, seed=0)
    solver = Solver(model, data, update_rule="adam", optim_config={"learning_rate": 2e-3},
                    num_epochs=6, batch_size=50)
    solver.train()
    assert solver.check_accuracy(data["X_test"], data["y_test"]) >= 0.95
    out = capsys.readouterr()
    assert "training" in out.out and "100%" in out.out and out.err == ""


def test_solver_rejects_an_unknown_rule_and_incomplete_data():
    model, data = tiny_model(), {"X_train": 0, "y_train": 0, "X_val": 0, "y_val": 0}
    with pytest.raises(ValueError, match="update_rule must be one of"):
        Solver(model, data, update_rule="rmsprop")
    with pytest.raises(ValueError, match="missing"):
        Solver(model, {"X_train": 0})
