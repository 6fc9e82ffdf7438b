"""An instructor's own test cells (grade ids that name no task) run in the student's sandbox,
in notebook order, scored by nbgrader's rules; never in a kernel, never outside the sandbox.
The nbgrader path is in test_nbgrader_workflow.py (the "mixed" course)."""

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from grader.diagnosis import notebook_code
from grader.judge import Run, grade_notebook
from grader.judge.own_tests import run_own_tests, score_outcome
from grader.sandbox import Limits

from .conftest import graded

FAST = Limits(load_seconds=3, notebook_seconds=60)


def outcome(**given):
    return {"stdout": "", "stderr": "", "text": None, "number": None, "error": None, **given}


@pytest.mark.parametrize(("given", "expected"), [
    ({}, 2.0),  # no value, no error: full points
    ({"text": "'done'"}, 2.0),  # a value that is no number: full points
    ({"number": 0.5, "text": "0.5"}, 0.5),  # partial credit
    ({"number": 3.0, "text": "3"}, 0.0),  # above the points (nbgrader stops on it)
    ({"number": -1.0, "text": "-1"}, 0.0),
    ({"number": float("nan"), "text": "nan"}, 0.0),
    ({"stderr": "UserWarning: x"}, 0.0),  # anything on stderr zeroes the cell, as in nbgrader
    ({"error": {"type": "AssertionError", "message": "", "where": ""}, "number": 2.0}, 0.0),
])
def test_nbgraders_scoring_rules(given, expected):
    assert score_outcome(outcome(**given), 2.0)[0] == expected


def test_own_tests_run_in_the_sandbox_in_notebook_order(tmp_path):
    marker = tmp_path / "written-by-a-test-cell"
    cells = [("solution", "def double(x):\n    return 2 * x\n"),
             ("test_value", "print('checking')\ndouble(0.25)"),
             ("test_assert", "assert double(1) == 3, 'double(1) should be 3'"),
             ("test_where", "double(None)"),
             ("test_warns", "import warnings\nwarnings.warn('careful')"),
             ("test_outside", f"open({str(marker)!r}, 'w').write('x')\nimport os\nos.listdir('/')"),
             ("test_exit", "raise SystemExit(0)"),
             ("test_loops", "while True:\n    pass"),
             ("later", "def double(x):\n    return 0.0\n"),  # a student cell after the tests
             ("test_after", "double(1) + 1")]
    tests = {c: 2.0 for c, _ in cells if c.startswith("test_")}
    results, notes = run_own_tests([], cells, tests, FAST)
    scores = {g: s for g, (s, _) in results.items()}
    assert scores == {"test_value": 0.5, "test_assert": 0.0, "test_where": 0.0, "test_warns": 0.0,
                      "test_outside": 0.0, "test_exit": 0.0, "test_loops": 0.0,
                      "test_after": 1.0}  # a timed-out cell is skipped; the cells after it run
    reports = {g: r for g, (_, r) in results.items()}
    assert "It printed:\nchecking" in reports["test_value"]
    assert "Score: 0.5 / 2" in reports["test_value"]
    assert "It raised AssertionError: double(1) should be 3" in reports["test_assert"]
    # The traceback points at the student's line, never quotes the test's code.
    assert "in double, line 2: `return 2 * x`" in reports["test_where"]
    assert "UserWarning: careful" in reports["test_warns"]
    assert "It raised SystemExit" in reports["test_exit"]
    assert "did not finish within 3 s" in reports["test_loops"]
    assert not marker.exists()  # the sandbox's /tmp is its own
    assert "It raised" in reports["test_outside"] and "/work" not in reports["test_outside"]
    assert notes == []


def test_a_test_cell_that_ends_the_worker_costs_only_itself():
    cells = [("solution", "x = 1"), ("test_dies", "import os\nos._exit(3)"), ("test_next", "x / 4")]
    results, _ = run_own_tests([], cells, {"test_dies": 1.0, "test_next": 1.0}, FAST)
    assert results["test_dies"][0] == 0.0 and "ended the grading process" in results["test_dies"][1]
    assert results["test_next"][0] == 0.25


def test_own_tests_take_the_courses_source_where_the_submission_has_them():
    course = new_notebook(cells=[
        graded("### BEGIN SOLUTION\ny = 1\n### END SOLUTION", "answer", solution=True),
        graded("y", "test_mine", points=1),
        graded("written", "manual", points=3, solution=True)])
    submission = new_notebook(cells=[
        graded("y = 0.5", "answer", solution=True),
        graded("1  # edited by the student", "test_mine", points=1),
        graded("written", "manual", points=3, solution=True),
        graded("y = 2", "test_mine_too", solution=True)])  # a forged id cannot stand for a test
    own = notebook_code.own_tests(course)
    assert own == [("test_mine", "y", 1.0)]  # the manually graded cell is no test to run
    cells = notebook_code.student_cells(submission, course, {g: s for g, s, _ in own})
    assert cells == [("answer", "y = 0.5"), ("test_mine", "y"), ("test_mine_too", "y = 2")]
    deleted = new_notebook(cells=submission.cells[:1])
    assert notebook_code.student_cells(deleted, course, {"test_mine": "y"})[-1] == ("test_mine", "y")


def test_conv_grader_scores_own_tests_and_shows_them_on_the_feedback_page(tmp_path):
    course = new_notebook(cells=[
        new_code_cell("import numpy as np"),
        graded("### BEGIN SOLUTION\ndef half(x):\n    return x / 2\n### END SOLUTION", "half",
               solution=True),
        graded("half(np.float64(3))", "test_half", points=2),
        graded("print('no')\nassert half(4) == 3", "test_wrong", points=1)])
    submission = new_notebook(cells=[new_code_cell("import numpy as np"),
                                     graded("def half(x):\n    return x / 2", "half", solution=True),
                                     *course.cells[2:]])
    path = tmp_path / "tiny.ipynb"
    nbformat.write(submission, str(path))
    rows, page, scores, reports = grade_notebook("ann", "a1", "tiny", course, path, Run(seed=1))
    assert scores == {"test_half": 1.5, "test_wrong": 0.0}
    assert {r.grade_id: r.score for r in rows} == scores
    assert "Score: 1.5 / 2" in reports["test_half"]
    assert "It printed:\nno" in reports["test_wrong"] and "AssertionError" in reports["test_wrong"]
    assert "test_half" in page and "1.5 / 2 points" in page and "Autograded: 1.5 / 3 points" in page
