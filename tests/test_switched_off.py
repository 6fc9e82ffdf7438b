"""A graded function that calls a fast layer switched off for its task hears that the layer
is switched off, not a hint about the arguments it passes."""

import nbformat

from grader.judge import Run, grade_notebook

from .conftest import load_sample_class_builder

build = load_sample_class_builder()
ASSIGNMENT, NOTEBOOK = "01_conv_forward", "conv_forward"
CALLS_FAST = ("def conv_forward_naive(x, w, b, conv_param):\n"
              "    out, _ = conv_forward_fast(x, w, b, conv_param)\n"
              "    return out, (x, w, b, conv_param)\n")


def test_a_switched_off_layer_is_named_as_the_problem(tmp_path):
    course = nbformat.read(str(build.SOLUTIONS / ASSIGNMENT / f"{NOTEBOOK}.ipynb"), as_version=4)
    submission = nbformat.read(str(build.RELEASE / ASSIGNMENT / f"{NOTEBOOK}.ipynb"), as_version=4)
    for cell in submission.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "conv_forward_naive":
            cell.source = CALLS_FAST
    path = tmp_path / f"{NOTEBOOK}.ipynb"
    nbformat.write(submission, str(path))
    _rows, page, scores, reports = grade_notebook("ann", ASSIGNMENT, NOTEBOOK, course, path,
                                                  Run(seed=5))
    report = reports["test_conv_forward"]
    assert scores["test_conv_forward"] == 0
    assert "conv_forward_fast is not available while this task is graded" in report
    for said in (report, page):
        assert "arguments" not in said
        assert "calls a conv_lib function that is switched off" in said
