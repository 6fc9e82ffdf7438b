"""Notebook 5's network trains on the student's own layers where they work, and falls back
to conv_lib's with one line that says why where they do not (issue 13)."""

import shutil
from pathlib import Path

import nbformat
import numpy as np

from conv_lib import ConvReluPool, ThreeLayerConvNet, conv_relu_pool_backward, conv_relu_pool_forward
from grader.notebook_code import layers_from_notebooks

from .conftest import define_solution

REPO = Path(__file__).resolve().parent.parent


def test_solution_layers_are_used_in_one_line(capsys):
    layers, line = layers_from_notebooks(REPO / "solutions")
    assert line.count("\n") == 0 and capsys.readouterr().out == ""
    assert "YOUR conv_forward_im2col and conv_backward_im2col" in line
    assert layers.conv_forward.__name__ == "conv_forward_im2col"
    # Loops are used only when they would train in seconds: which, depends on the machine.
    assert "YOUR max_pool_forward_naive" in line or "conv_lib's max pool (your loops would add" in line


def test_the_untouched_release_and_the_sample_class_fall_back_with_reasons():
    for folder in (REPO / "notebooks", REPO / "examples/submitted/eve"):
        layers, line = layers_from_notebooks(folder)
        assert "conv_lib's conv layer (conv_forward_im2col: not written yet" in line
        assert "conv_lib's max pool (max_pool_forward_naive: not written yet" in line
        assert layers.conv_forward.__module__ == "conv_lib.conv"
    _, line = layers_from_notebooks(REPO / "nowhere")
    assert "not found" in line


def test_a_broken_notebook_costs_only_its_layers(tmp_path):
    (tmp_path / "04_im2col").mkdir()
    (tmp_path / "04_im2col/im2col.ipynb").write_text('{"cells": [')  # cut off mid-save
    shutil.copytree(REPO / "solutions/03_pooling", tmp_path / "03_pooling")
    layers, line = layers_from_notebooks(tmp_path)
    assert "conv_lib's conv layer (conv_forward_im2col: im2col.ipynb is not a readable notebook" in line
    assert layers.conv_forward.__module__ == "conv_lib.conv"


def _copy_with(tmp_path, relative, grade_id, source):
    target = tmp_path / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    notebook = nbformat.read(str(REPO / "solutions" / relative), as_version=4)
    cell = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    cell.source = source
    nbformat.write(notebook, str(target))


def test_a_layer_that_raises_or_is_wrong_falls_back_and_says_why(tmp_path):
    _copy_with(tmp_path, "04_im2col/im2col.ipynb", "conv_backward_im2col",
               "def conv_backward_im2col(dout, cache):\n    return cache[99]")
    shutil.copytree(REPO / "solutions/03_pooling", tmp_path / "03_pooling")
    layers, line = layers_from_notebooks(tmp_path)
    assert "conv_lib's conv layer (a quick self-test raised IndexError" in line
    assert layers.conv_backward.__module__ == "conv_lib.conv"

    _copy_with(tmp_path, "04_im2col/im2col.ipynb", "conv_forward_im2col",
               "def conv_forward_im2col(x, w, b, conv_param):\n"
               "    from conv_lib import conv_forward_fast\n"
               "    out, cache = conv_forward_fast(x, w, b, conv_param)\n"
               "    return 2 * out, cache")
    _, line = layers_from_notebooks(tmp_path)
    assert "conv_forward_im2col's out is off by rel_error" in line


def test_the_sandwich_on_other_layers_matches_conv_libs():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    conv_param, pool_param = {"stride": 1, "pad": 1}, {"pool_height": 2, "pool_width": 2, "stride": 2}
    student = ConvReluPool(conv_forward=define_solution("04_im2col", "conv_forward_im2col"),
                           conv_backward=define_solution("04_im2col", "conv_backward_im2col"))
    out, cache = student.forward(x, w, b, conv_param, pool_param)
    expected, expected_cache = conv_relu_pool_forward(x, w, b, conv_param, pool_param)
    np.testing.assert_allclose(out, expected, rtol=1e-10)
    dout = rng.standard_normal(out.shape)
    for ours, theirs in zip(student.backward(dout, cache), conv_relu_pool_backward(dout, expected_cache)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


def test_the_network_trains_to_95_percent_on_the_solution_layers():
    """The training claim of notebook 5 (its time is printed there, never asserted)."""
    from conv_lib import Solver
    from conv_lib.data import load_digits

    layers, _ = layers_from_notebooks(REPO / "solutions")
    data = load_digits()
    model = ThreeLayerConvNet(input_dim=(1, 8, 8), num_filters=16, filter_size=3, hidden_dim=100,
                              weight_scale="he", reg=1e-3, dtype=np.float32, seed=0, layers=layers)
    solver = Solver(model, data, update_rule="adam", optim_config={"learning_rate": 2e-3},
                    num_epochs=10, batch_size=50, progress=False)
    solver.train()
    assert solver.check_accuracy(data["X_test"], data["y_test"]) >= 0.95
