"""Notebook 1's optional sections: the dilated conv task (cases, named mistakes,
its points setting), the channels-last exercise's check, and their pictures."""

import re
from pathlib import Path

import matplotlib
import nbformat
import numpy as np
import pytest

from grader import checks
from grader.diagnosis.tasks import ASSIGNMENTS, TASKS

from .conftest import load_sample_class_builder

matplotlib.use("Agg")
REPO = Path(__file__).resolve().parent.parent


def dilated_conv(x, w, b, conv_param, mistake=None):
    """A student's dilated layer that reads each tap by index; ``mistake`` plants one error."""
    s, p, d = conv_param["stride"], conv_param["pad"], conv_param["dilation"]
    hh, ww = w.shape[2:]
    extra = {"span d * HH + 1": d + 1, "span d * HH": d - 1}.get(mistake, 0)
    sizes = []
    for n, k in zip(x.shape[2:], (hh, ww)):
        span = d * (k - 1) + 1 + extra
        sizes.append(1 - (-(n + 2 * p - span) // s) if mistake == "rounded up"
                     else 1 + (n + 2 * p - span) // s)
    grow = s if mistake == "rounded up" else 0  # zeros for the extra window to read
    xp = np.pad(x, ((0, 0), (0, 0), (p, p + grow), (p, p + grow)))
    kernel = w[:, :, ::-1, ::-1] if mistake == "kernel flipped" else w
    row_step, col_step = {"rows only": (d, 1), "columns only": (1, d)}.get(mistake, (d, d))
    out = np.zeros((x.shape[0], w.shape[0], *sizes))
    for i in range(sizes[0]):
        for j in range(sizes[1]):
            rows = i * s + row_step * np.arange(hh)
            cols = j * s + col_step * np.arange(ww)
            taps = xp[:, :, rows][:, :, :, cols]  # (N, C, HH, WW)
            out[:, :, i, j] = np.einsum("ncpq,fcpq->nf", taps, kernel) + b
    return out, (x, w, b, conv_param)


def test_a_student_style_solution_earns_full_marks():
    for seed in range(5):
        assert checks.grade("conv_forward_dilated", dilated_conv, points=4, seed=seed) == 4


@pytest.mark.parametrize(("planted", "name"), [
    ("span d * HH + 1", "effective kernel size without the - 1"),
    ("span d * HH", "effective kernel size without the - 1"),
    ("rounded up", "output size rounded up"),
    ("kernel flipped", "kernel flipped"),
])
def test_each_dilated_mistake_loses_points_and_is_named(planted, name, capsys):
    def student(*args):
        return dilated_conv(*args, mistake=planted)

    assert checks.score("conv_forward_dilated", student, points=10, seed=0) < 10
    capsys.readouterr()
    checks.check_conv_forward_dilated(student)
    out = capsys.readouterr()
    assert not out.err
    if planted.startswith("span"):  # the output size is wrong, whichever span it took
        assert f"likely mistake: {name}" in out.out or "look at the output size" in out.out
    else:
        assert f"likely mistake: {name}" in out.out


@pytest.mark.parametrize(("planted", "axis"), [("rows only", "columns (W)"),
                                               ("columns only", "rows (H)")])
def test_the_probe_ladder_names_the_axis_whose_taps_are_not_dilated(planted, axis, capsys):
    checks.check_conv_forward_dilated(lambda *args: dilated_conv(*args, mistake=planted),
                                      show=False)
    out = capsys.readouterr().out
    assert f"where to look: the simpler probes pass, but cases with dilation > 1 fail, and only " \
           f"along the {axis}" in out


def test_the_issue_mistakes_are_planted_in_the_sample_class_builder():
    build = load_sample_class_builder()
    for name in ("dilation applied to the window start instead of to the taps",
                 "effective kernel size without the - 1"):
        assert build.PLANTINGS[name]["function"] == "conv_forward_dilated_naive"
    planted = {m for mistakes in build.SAMPLE_CLASS.values() for m in mistakes or []}
    assert {"dilation applied to the window start instead of to the taps",
            "effective kernel size without the - 1"} <= planted


def test_hidden_dilated_cases_cover_the_promised_geometry():
    seen = {"dilation": set(), "stride": set(), "pad": set(), "rows only": False,
            "columns only": False, "span = padded input": False, "floor": False}
    for seed in range(2):
        for case in TASKS["conv_forward_dilated"].make_cases(hidden=True, seed=seed):
            x, (hh, ww), p = case.inputs["x"], case.inputs["w"].shape[2:], case.inputs["conv_param"]
            s, pad, d = p["stride"], p["pad"], p["dilation"]
            span_h = d * (hh - 1) + 1
            seen["dilation"].add(d)
            seen["stride"].add(s)
            seen["pad"].add(pad)
            seen["rows only"] |= d > 1 and hh > 1 and ww == 1
            seen["columns only"] |= d > 1 and hh == 1 and ww > 1
            seen["span = padded input"] |= d > 1 and span_h == x.shape[2] + 2 * pad
            seen["floor"] |= d > 1 and (x.shape[2] + 2 * pad - span_h) % s != 0
            assert x.size * case.inputs["w"].shape[0] <= 3 * 3 * 16 * 16 * 3  # small: loops stay fast
    assert seen.pop("dilation") == {1, 2, 3}
    assert seen.pop("stride") == {1, 2, 3} and seen.pop("pad") == {0, 1, 2}
    assert all(seen.values()), seen


def test_the_optional_task_belongs_to_notebook_1():
    assert ASSIGNMENTS["01_conv_forward"] == ("conv_forward", "conv_forward_dilated")
    assert TASKS["conv_forward_dilated"].function == "conv_forward_dilated_naive"


def test_every_test_cell_grades_out_of_its_own_points():
    """The optional task's points are one setting: the cell's nbgrader points and its
    grade(..., points=...) must agree (nbgrader rejects a score above the cell's points)."""
    for path in sorted((REPO / "solutions").glob("*/*.ipynb")):
        for cell in nbformat.read(str(path), as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and cell.cell_type == "code":
                written = re.findall(r"points=(\d+(?:\.\d+)?)", cell.source)
                assert written and {float(v) for v in written} == {float(meta["points"])}, (
                    f"{path.name} {meta['grade_id']}: nbgrader points {meta['points']}, "
                    f"grade(..., points=...) says {written}")


# ------------------------------------------------------------------- layouts


def right(x_nhwc, w_hwcf):
    return x_nhwc.transpose(0, 3, 1, 2), w_hwcf.transpose(3, 2, 0, 1)


@pytest.mark.parametrize(("fn", "expected"), [
    (right, "2/2 cases passed (all passed)"),
    (lambda x, w: (x.transpose(0, 3, 2, 1), right(x, w)[1]),
     "x holds the right numbers but its axes are in the order (N, C, W, H), not (N, C, H, W): "
     "that is transpose(0, 3, 2, 1)"),
    (lambda x, w: (right(x, w)[0], w.transpose(2, 3, 0, 1)),
     "its axes are in the order (C, F, HH, WW), not (F, C, HH, WW)"),
    (lambda x, w: (x.reshape(x.shape[0], x.shape[3], *x.shape[1:3]), right(x, w)[1]),
     "its numbers are scrambled: reshape keeps the order in memory"),
    (lambda x, w: (x, w), "x is unchanged, still channels-last (N, H, W, C)"),
    (lambda x, w: (x[:, :1], right(x, w)[1]), "x has shape (2, 1, 6, 3), expected (2, 3, 7, 6)"),
    (lambda x, w: x, "must return a tuple (x, w), got ndarray"),
    (lambda x, w: 1 / 0, "raised ZeroDivisionError"),
])
def test_channels_last_check_names_what_is_wrong(fn, expected, capsys):
    checks.check_channels_last(fn)
    out = capsys.readouterr()
    assert expected in out.out and not out.err
    assert ("all passed" in out.out) == (fn is right)


def test_channels_last_check_on_the_release_stub_says_not_implemented(capsys):
    def stub(x_nhwc, w_hwcf):
        raise NotImplementedError()

    checks.check_channels_last(stub)
    checks.check_channels_last(None)
    out = capsys.readouterr()
    assert "not implemented yet" in out.out and "expected a function, got NoneType" in out.out
    assert "Traceback" not in out.out and not out.err


# ------------------------------------------------------------------ pictures


def test_receptive_field_grows_by_dilation_times_kernel_minus_one():
    from conv_lib.vis import receptive_field

    assert receptive_field(3, (1, 1, 1)) == 7
    assert receptive_field(3, (1, 2, 4)) == 15
    assert receptive_field(3, [2 ** i for i in range(10)]) == 2 ** 11 - 1


def test_dilation_pictures_are_labelled():
    import matplotlib.pyplot as plt

    from conv_lib.vis import show_dilated_taps, show_receptive_field

    taps = show_dilated_taps(3, (1, 2, 4))
    assert [ax.get_title() for ax in taps.axes] == [
        "dilation 1: 9 taps span 3x3", "dilation 2: 9 taps span 5x5", "dilation 4: 9 taps span 9x9"]
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in taps.axes)
    field = show_receptive_field(3, ((1, 1, 1), (1, 2, 4)))
    assert [ax.get_title() for ax in field.axes] == ["dilations 1, 1, 1: 7 inputs",
                                                     "dilations 1, 2, 4: 15 inputs"]
    plt.close("all")
    with pytest.raises(ValueError, match="dilations >= 1"):
        show_dilated_taps(3, (0, 2))
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        show_receptive_field(2)


@pytest.mark.parametrize("points", [0, 4])
def test_the_autograder_counts_the_optional_task_as_its_cell_says(points):
    """Either setting of the optional task's points keeps the maximum right: 10 for the
    required task, plus the optional cell's points."""
    from grader.judge import Run, grade_notebook

    build = load_sample_class_builder()
    course_nb = nbformat.read(str(REPO / "solutions/01_conv_forward/conv_forward.ipynb"), as_version=4)
    cell = next(c for c in course_nb.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == "test_conv_forward_dilated")
    cell.metadata["nbgrader"]["points"] = points
    scores = {}
    for student in ("ada", "ben"):
        path = build.EXAMPLES / student / "01_conv_forward" / "conv_forward.ipynb"
        rows, *_ = grade_notebook(student, "01_conv_forward", "conv_forward", course_nb, path,
                                  Run(seed=5))
        tests = {r.grade_id: (r.score, r.max_score) for r in rows
                 if r.status == "graded" and r.score != ""}
        scores[student] = tests
        assert tests["test_conv_forward"][1] == 10 and tests["test_conv_forward_dilated"][1] == points
    assert scores["ada"]["test_conv_forward_dilated"][0] == points
    assert 0 <= scores["ben"]["test_conv_forward_dilated"][0] <= points
    assert points == 0 or scores["ben"]["test_conv_forward_dilated"][0] < points


def test_the_optional_task_at_0_points_never_stops_the_notebook(capsys):
    """Skipping an optional task is allowed: its test cell must not fail Validate; once
    the instructor gives it points, an unfinished function does."""
    def skipped(*args):
        raise NotImplementedError

    assert checks.grade("conv_forward_dilated", skipped, points=0) == 0
    with pytest.raises(checks.NotPassingYet):
        checks.grade("conv_forward_dilated", skipped, points=4)
