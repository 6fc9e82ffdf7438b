"""The checks students run: full marks for correct code in any style, lost
points and a named mistake for each known mistake, never an exception."""

from functools import partial

import numpy as np
import pytest

from conv_lib import (
    avg_pool_backward_fast,
    avg_pool_forward_fast,
    conv_backward_fast,
    conv_forward_fast,
    im2col,
    max_pool_backward_fast,
    max_pool_forward_fast,
)
from conv_lib import normalization
from grader import checks
from grader.diagnosis import reference
from grader.diagnosis.tasks import TASKS

from . import students
from .conftest import define_solution

SEEDS = range(25)


def conv_forward_im2col(x, w, b, conv_param):
    s, p = conv_param["stride"], conv_param["pad"]
    f, _, hh, ww = w.shape
    cols = im2col(x, hh, ww, stride=s, pad=p)
    out_h = 1 + (x.shape[2] + 2 * p - hh) // s
    out = np.einsum("fk,nkp->nfp", w.reshape(f, -1), cols) + b[:, None]
    return out.reshape(x.shape[0], f, out_h, -1), (x, w, b, conv_param, cols)


CORRECT = {
    "conv_forward": students.conv_forward,
    "conv_backward": students.conv_backward,
    "max_pool_forward": partial(students.pool_forward, kind="max"),
    "avg_pool_forward": partial(students.pool_forward, kind="avg"),
    "max_pool_backward": students.max_pool_backward,
    "avg_pool_backward": students.avg_pool_backward,
    "conv_forward_im2col": conv_forward_im2col,
    # The instructor's solution from notebook 4: two matrix multiplies and col2im.
    "conv_backward_im2col": define_solution("04_im2col", "conv_backward_im2col"),
    "conv_forward_dilated": define_solution("01_conv_forward", "conv_forward_dilated_naive"),
    # The instructor's solution from notebook 5, built from conv_lib's layers.
    "convnet_loss": define_solution("05_convnet", "convnet_loss"),
    "spatial_batchnorm_forward": students.spatial_batchnorm_forward,
    "spatial_batchnorm_backward": students.spatial_batchnorm_backward,
    "spatial_groupnorm_forward": students.spatial_groupnorm_forward,
    "spatial_groupnorm_backward": students.spatial_groupnorm_backward,
}
# conv_lib's own layers: the reference must pass its own judge.
FAST = {
    "conv_forward": conv_forward_fast,
    "conv_backward": conv_backward_fast,
    "max_pool_forward": max_pool_forward_fast,
    # The notebook's cache is (x, pool_param); the fast layer keeps (x.shape, dtype, pool_param).
    "avg_pool_forward": lambda x, pool_param: (avg_pool_forward_fast(x, pool_param)[0],
                                               (x, pool_param)),
    # The checks hand backward cs231n's cache (x, pool_param); the fast layers keep their own.
    "max_pool_backward": lambda dout, cache: max_pool_backward_fast(
        dout, max_pool_forward_fast(*cache)[1]),
    "avg_pool_backward": lambda dout, cache: avg_pool_backward_fast(
        dout, avg_pool_forward_fast(*cache)[1]),
    # Notebook 4's cache keeps cols, which conv_forward_fast does not.
    "conv_forward_im2col": lambda x, w, b, conv_param: (
        conv_forward_fast(x, w, b, conv_param)[0],
        (x, w, b, conv_param, im2col(x, *w.shape[2:], stride=conv_param["stride"],
                                      pad=conv_param["pad"]))),
    # The checks hand the im2col cache (x, w, b, conv_param, cols); the fast layer keeps its own.
    "conv_backward_im2col": lambda dout, cache: conv_backward_fast(
        dout, conv_forward_fast(*cache[:4])[1]),
    "conv_forward_dilated": conv_forward_fast,
    "spatial_batchnorm_forward": normalization.spatial_batchnorm_forward,
    "spatial_batchnorm_backward": normalization.spatial_batchnorm_backward,
    "spatial_groupnorm_forward": normalization.spatial_groupnorm_forward,
    "spatial_groupnorm_backward": normalization.spatial_groupnorm_backward,
}


def test_every_task_has_a_correct_student_solution():
    assert set(CORRECT) == set(TASKS)


@pytest.mark.parametrize("task", sorted(TASKS))
def test_hidden_cases_are_valid_for_many_seeds(task):
    for seed in SEEDS:
        cases = TASKS[task].make_cases(hidden=True, seed=seed)
        assert cases
        for case in cases:
            reference.output(task, case)  # raises on an impossible geometry


@pytest.mark.parametrize("task", sorted(TASKS))
def test_loop_solutions_earn_full_marks(task, capsys):
    for seed in (0, 1, 2):
        assert checks.score(task, CORRECT[task], points=10, seed=seed) == 10
    assert "score: 10 / 10" in capsys.readouterr().out


@pytest.mark.parametrize("task", sorted(FAST))
def test_the_reference_passes_its_own_judge(task):
    verdicts = checks.run(task, FAST[task]) + checks.run(task, FAST[task], hidden=True, seed=7)
    assert all(v.passed for v in verdicts)


@pytest.mark.parametrize(("task", "fn"), [
    ("conv_forward", students.conv_forward_vectorised),
    ("max_pool_forward", students.max_pool_forward_vectorised),
])
def test_vectorised_solutions_earn_full_marks(task, fn):
    assert checks.score(task, fn, points=5, seed=7) == 5


def test_hidden_cases_have_fixed_geometries_and_values_drawn_from_the_seed():
    """The points a mistake loses depend on the aspects it gets wrong, not on a draw."""
    for task in TASKS:
        def drawn(seed, task=task):
            return TASKS[task].make_cases(hidden=True, seed=seed)

        assert [c.describe() for c in drawn(3)] == [c.describe() for c in drawn(4)], task
        first = next(iter(drawn(3)[0].inputs.values()))
        again, other = next(iter(drawn(3)[0].inputs.values())), next(iter(drawn(4)[0].inputs.values()))
        if isinstance(first, np.ndarray):
            assert np.array_equal(first, again) and not np.allclose(first, other), task


def _conv_aspects(x_shape, w_shape, stride, pad):
    (n, c, h, w), (f, hh, ww) = x_shape, w_shape
    rows, cols = h + 2 * pad - hh, w + 2 * pad - ww
    return {f"stride {stride}", f"pad {pad}",
            "taller input" if h > w else "wider input" if w > h else "square input",
            "taller kernel" if hh > ww else "wider kernel" if ww > hh else "square kernel",
            *(["1x1 kernel"] if (hh, ww) == (1, 1) else []),
            *(["kernel = padded input"] if rows == cols == 0 else []),
            *(["floor in rows"] if rows % stride else []),
            *(["floor in columns"] if cols % stride else []),
            "N = 1" if n == 1 else "N > 1", "C = 1" if c == 1 else "C > 1",
            "F = 1" if f == 1 else "F > 1", *(["C != F"] if c != f else [])}


def _pool_aspects(x_shape, ph, pw, stride):
    n, c, h, w = x_shape
    return {f"stride {stride}",
            "overlapping" if stride < max(ph, pw) else "gaps" if stride > max(ph, pw) else "tiling",
            "taller window" if ph > pw else "wider window" if pw > ph else "square window",
            *(["window = input"] if (ph, pw) == (h, w) else []),
            *(["floor in rows"] if (h - ph) % stride else []),
            *(["floor in columns"] if (w - pw) % stride else []),
            "N = 1" if n == 1 else "N > 1", "C = 1" if c == 1 else "C > 1"}


def test_hidden_cases_cover_every_aspect_by_design():
    from grader.diagnosis.cases import HIDDEN_CONV, HIDDEN_POOL

    conv = set().union(*(_conv_aspects(*g) for g in HIDDEN_CONV))
    assert conv >= {"stride 1", "stride 2", "stride 3", "pad 0", "pad 1", "pad 2",
                    "taller input", "wider input", "taller kernel", "wider kernel", "1x1 kernel",
                    "kernel = padded input", "floor in rows", "floor in columns",
                    "N = 1", "N > 1", "C = 1", "C > 1", "F = 1", "F > 1", "C != F"}, conv
    pool = set().union(*(_pool_aspects(*g) for g in HIDDEN_POOL))
    assert pool >= {"stride 1", "stride 2", "stride 3", "overlapping", "gaps", "tiling",
                    "taller window", "wider window", "square window", "window = input",
                    "floor in rows", "floor in columns", "N = 1", "N > 1", "C = 1", "C > 1"}, pool


def test_pool_cases_are_tie_free():
    for seed in SEEDS:
        for case in TASKS["max_pool_forward"].make_cases(hidden=True, seed=seed):
            x = case.inputs["x"]
            assert len(np.unique(x)) == x.size


# (task, the student function, its planted mistake, the name the feedback must use)
MISTAKES = [
    ("conv_forward", students.conv_forward, "kernel flipped", "kernel flipped"),
    ("conv_forward", students.conv_forward, "bias missing", "bias missing"),
    ("conv_forward", students.conv_forward, "stride ignored", "stride ignored"),
    ("conv_forward", students.conv_forward, "padding missing", "padding missing"),
    ("conv_forward", students.conv_forward, "padding on the height axis only",
     "padding on the height axis only"),
    ("conv_forward", students.conv_forward, "padding on the width axis only",
     "padding on the width axis only"),
    ("conv_forward", students.conv_forward, "rounded up", "output size rounded up"),
    ("conv_backward", students.conv_backward, "dx overwritten",
     "gradient overwritten instead of accumulated (dx)"),
    ("conv_backward", students.conv_backward, "dw overwritten",
     "gradient overwritten instead of accumulated (dw)"),
    ("conv_backward", students.conv_backward, "dx not cropped",
     "dx not cropped back from the padded input"),
    ("conv_backward", students.conv_backward, "db wrong axes", "db summed over the wrong axes"),
    ("max_pool_backward", students.max_pool_backward, "spread",
     "max-pool gradient spread over the window"),
    ("max_pool_backward", students.max_pool_backward, "overwritten",
     "max-pool gradient overwritten where windows overlap"),
    ("avg_pool_backward", students.avg_pool_backward, "not divided",
     "average-pool gradient not divided by the window size"),
]


@pytest.mark.parametrize(("task", "student", "planted", "name"), MISTAKES,
                         ids=[m[3] for m in MISTAKES])
def test_each_known_mistake_loses_points_and_is_named(task, student, planted, name, capsys):
    fn = partial(student, mistake=planted)
    assert checks.score(task, fn, points=10, seed=0) < 10
    graded = capsys.readouterr().out
    getattr(checks, f"check_{task}")(fn)
    checked = capsys.readouterr().out
    assert f"likely mistake: {name}" in graded + checked


def test_float_output_size_is_explained(capsys):
    def conv_with_slash(x, w, b, conv_param):
        h = 1 + (x.shape[2] + 2 * conv_param["pad"] - w.shape[2]) / conv_param["stride"]
        return np.zeros((x.shape[0], w.shape[0], h, h)), None

    checks.check_conv_forward(conv_with_slash)
    assert "floor division `//`" in capsys.readouterr().out


@pytest.mark.parametrize("task", sorted(TASKS))
def test_not_implemented_is_a_clear_message_not_a_traceback(task, capsys):
    def stub(*args):
        raise NotImplementedError()

    check = getattr(checks, f"check_{task}")
    check(stub)
    out = capsys.readouterr()
    assert "not implemented yet" in out.out and "Traceback" not in out.out + out.err
    assert checks.score(task, stub, points=3, seed=0) == 0


@pytest.mark.parametrize("returned", [None, 3.0, [[1.0]], (np.zeros(2),), "text"])
def test_odd_return_values_are_explained(returned, capsys):
    def odd(*args):
        return returned

    checks.check_conv_forward(odd)
    checks.check_conv_backward(odd)
    out = capsys.readouterr()
    assert "0/" in out.out and not out.err


def test_checks_write_nothing_to_stderr(capsys):
    def noisy(x, w, b, conv_param):
        import sys
        import warnings

        print("debug", file=sys.stderr)
        warnings.warn("careful", stacklevel=1)
        np.log(-np.ones(1))
        return students.conv_forward(x, w, b, conv_param)

    assert checks.score("conv_forward", noisy, points=4, seed=1) == 4
    assert capsys.readouterr().err == ""


def test_backward_feedback_tells_a_forward_bug_from_a_backward_bug(capsys):
    flipped = partial(students.conv_forward, mistake="kernel flipped")

    def consistent_with_flipped_forward(dout, cache):
        x, w, b, p = cache
        dx, dw, db = students.conv_backward(dout, (x, w[:, :, ::-1, ::-1], b, p))
        return dx, dw[:, :, ::-1, ::-1], db

    checks.check_conv_backward(consistent_with_flipped_forward, forward=flipped)
    assert "the bug is in your forward pass" in capsys.readouterr().out
    checks.check_conv_backward(partial(students.conv_backward, mistake="dx overwritten"),
                               forward=students.conv_forward)
    assert "the bug is in the backward pass" in capsys.readouterr().out


def test_a_naive_function_built_on_the_fast_layers_is_flagged_before_grading(capsys):
    def conv_forward_naive(x, w, b, conv_param):
        return conv_forward_fast(x, w, b, conv_param)

    def helper(x, p):
        return max_pool_forward_fast(x, p)

    def max_pool_forward_naive(x, pool_param):
        return helper(x, pool_param)

    checks.check_conv_forward(conv_forward_naive)
    assert "uses conv_forward_fast (conv_lib.conv), which is switched off" in capsys.readouterr().out
    assert checks.score("max_pool_forward", max_pool_forward_naive, points=5, seed=0) == 0
    assert "uses max_pool_forward_fast" in capsys.readouterr().out
    # im2col is the tool of the im2col task, not a forbidden shortcut there.
    assert checks.forbidden_uses("conv_forward_im2col", conv_forward_im2col) == []
    assert checks.forbidden_uses("conv_forward_im2col", conv_forward_naive) == ["conv_forward_fast"]


def test_a_test_cell_fails_with_a_plain_sentence_while_public_cases_fail(capsys):
    def stub(*args):
        raise NotImplementedError()

    with pytest.raises(checks.NotPassingYet, match="conv_forward_naive fails 6 of its 6 public cases"):
        checks.grade("conv_forward", stub, points=10, seed=0)
    assert "not implemented yet" in capsys.readouterr().out
    assert checks.grade("conv_forward", CORRECT["conv_forward"], points=10, seed=0) == 10


def _kernel(monkeypatch, nbgrader=None):
    """Pretend to be a notebook's kernel: IPython's get_ipython() returns a shell with a kernel."""
    import sys
    import types

    shell = types.SimpleNamespace(kernel=object())
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    if nbgrader:
        monkeypatch.setenv("NBGRADER_EXECUTION", nbgrader)
    else:
        monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)


def test_in_a_learners_kernel_a_test_cell_reports_and_lets_run_all_go_on(capsys, monkeypatch):
    def stub(*args):
        raise NotImplementedError()

    _kernel(monkeypatch)
    assert checks.grade("conv_forward", stub, points=10, seed=0) is None  # nothing echoed
    out = capsys.readouterr().out
    assert "score: 0 / 10 points" in out
    assert "Not finished yet: conv_forward_naive fails 6 of its 6 public cases" in out
    assert checks.grade("conv_forward", CORRECT["conv_forward"], points=10, seed=0) is None
    assert "score: 10 / 10 points" in capsys.readouterr().out


@pytest.mark.parametrize("nbgrader", ["validate", "autograde"])
def test_under_nbgrader_a_test_cell_still_raises_and_returns_the_points(capsys, monkeypatch, nbgrader):
    def stub(*args):
        raise NotImplementedError()

    _kernel(monkeypatch, nbgrader)
    with pytest.raises(checks.NotPassingYet, match="fails 6 of its 6 public cases"):
        checks.grade("conv_forward", stub, points=10, seed=0)
    assert checks.grade("conv_forward", CORRECT["conv_forward"], points=10, seed=0) == 10


def test_the_fast_backward_may_use_col2im_but_not_conv_backward_fast(capsys):
    def conv_backward_im2col(dout, cache):
        return conv_backward_fast(dout, conv_forward_fast(*cache[:4])[1])

    assert checks.forbidden_uses("conv_backward_im2col", CORRECT["conv_backward_im2col"]) == []
    assert checks.forbidden_uses("conv_backward_im2col", conv_backward_im2col) == [
        "conv_backward_fast", "conv_forward_fast"]
    assert checks.score("conv_backward_im2col", conv_backward_im2col, points=10, seed=0) == 0
    assert "switched off" in capsys.readouterr().out


def test_the_fast_backward_check_tells_a_forward_bug_from_a_backward_bug(capsys):
    forward = define_solution("04_im2col", "conv_forward_im2col")
    backward = CORRECT["conv_backward_im2col"]

    def flipped_forward(x, w, b, conv_param):  # consistent with a backward that flips w
        return forward(x, w[:, :, ::-1, ::-1], b, conv_param)

    def flipped_backward(dout, cache):
        x, w, b, conv_param, cols = cache
        dx, dw, db = backward(dout, (x, w[:, :, ::-1, ::-1], b, conv_param, cols))
        return dx, dw, db

    checks.check_conv_backward_im2col(flipped_backward, forward=flipped_forward, show=False)
    out = capsys.readouterr().out
    assert "dx agrees with the numerical gradient of YOUR forward pass" in out
    checks.check_conv_backward_im2col(flipped_backward, forward=forward, show=False)
    assert "the bug is in the backward pass" in capsys.readouterr().out


def _pool_stopping_early(x, pool_param):
    """Max pooling whose loop over output rows stops one early."""
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    h_out, w_out = 1 + (x.shape[2] - ph) // s, 1 + (x.shape[3] - pw) // s
    out = np.zeros((*x.shape[:2], h_out, w_out))
    for i in range(h_out - 1):
        for j in range(w_out):
            out[:, :, i, j] = x[:, :, i * s:i * s + ph, j * s:j * s + pw].max(axis=(2, 3))
    return out, (x, pool_param)


def _conv_stopping_early(x, w, b, conv_param):
    """A conv layer whose loop over output columns stops one early."""
    out, cache = CORRECT["conv_forward"](x, w, b, conv_param)
    out[..., -1] = 0
    return out, cache


@pytest.mark.parametrize(("task", "fn", "edge"), [
    ("max_pool_forward", _pool_stopping_early, "row"),
    ("conv_forward", _conv_stopping_early, "column"),
])
def test_a_loop_that_stops_one_early_is_named(task, fn, edge, capsys):
    getattr(checks, f"check_{task}")(fn, show=False)
    assert f"likely mistake: the last {edge} of out is never computed" in capsys.readouterr().out
