"""The threat model of the autograder: each hostile submission gets its own test.

Every student here submits assignment 03 (four graded functions, 5 points each).
None of the hostile tricks may earn a point an empty notebook does not earn,
hang grading, or change the grade of ``honest``, graded in the same run.
"""

import csv
import time
from collections import defaultdict

import nbformat
import pytest

from grader.pipeline.autograde import autograde
from grader.pipeline.sandbox import Limits

from .conftest import load_sample_class_builder

ASSIGNMENT, NOTEBOOK = "03_pooling", "pooling"
TASKS = ("max_pool_forward", "max_pool_backward", "avg_pool_forward", "avg_pool_backward")
TARGET = "max_pool_forward_naive"
LIMITS = Limits(load_seconds=6, call_seconds=3)

build = load_sample_class_builder()
SOLVED = build.solution_sources(ASSIGNMENT)


def with_target(code):
    """The full solutions, with max_pool_forward_naive replaced by ``code``."""
    return {**SOLVED, TARGET: code}


def prepend(code):
    """The correct max_pool_forward_naive with ``code`` in front of it, in the same cell."""
    return with_target(code + "\n" + SOLVED[TARGET])


def body(lines):
    return with_target("def max_pool_forward_naive(x, pool_param):\n" + "\n".join(
        "    " + line for line in lines))


def cheat_patch():
    return """
import numpy as np
import grader, grader.checks, grader.diagnosis.judge, conv_lib
np.allclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
grader.checks.grade = lambda task, fn, points, seed=None: points
grader.diagnosis.judge.judge = lambda *a, **k: None
conv_lib.max_pool_forward_fast = lambda x, p: (np.zeros(1), None)
"""


def make(sources, extra_cell=None, edit_tests=None):
    notebook = build.submission(ASSIGNMENT, NOTEBOOK, sources)
    if extra_cell:
        notebook.cells.insert(2, nbformat.v4.new_code_cell(extra_cell))
    if edit_tests == "delete":
        notebook.cells = [c for c in notebook.cells
                          if not c.metadata.get("nbgrader", {}).get("grade_id", "").startswith("test_")]
    elif edit_tests == "claim":
        for cell in notebook.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id", "").startswith("test_"):
                cell.source = "5"
    return notebook


# student -> (notebook, the points they must get per task)
FULL = dict.fromkeys(TASKS, 5.0)
ZERO = dict.fromkeys(TASKS, 0.0)
ALL_BUT_TARGET = {**FULL, "max_pool_forward": 0.0}
STUDENTS = {
    "honest": (make(SOLVED), FULL),
    "empty": (make(None), ZERO),
    "looper": (make(body(["while True:", "    pass"])), ALL_BUT_TARGET),
    "sleeper": (make(prepend("import time\ntime.sleep(10 ** 6)")), ALL_BUT_TARGET),
    "hog": (make(body(["import numpy as np", "hoard = [np.ones(10 ** 9) for _ in range(100)]",
                       "return hoard"])), ALL_BUT_TARGET),
    "exiter": (make(body(["import os", "os._exit(3)"])), ALL_BUT_TARGET),
    "quitter": (make(with_target(SOLVED[TARGET] + "\nraise SystemExit(0)")), FULL),
    "printer": (make(body(["print('x' * 10 ** 7)", "import sys",
                           "sys.stderr.write('y' * 10 ** 6)", "raise NotImplementedError()"])),
                ALL_BUT_TARGET),
    "test_editor": (make(None, edit_tests="claim"), ZERO),
    "test_deleter": (make(SOLVED, edit_tests="delete"), FULL),
    "patcher": (make(None, extra_cell=cheat_patch()), ZERO),
    "cheater": (make(body(["from conv_lib import max_pool_forward_fast",
                           "return max_pool_forward_fast(x, pool_param)"])), ALL_BUT_TARGET),
}
# What each one's feedback must say, so the student knows what happened.
FEEDBACK = {
    "looper": "did not finish within 3 s",
    "sleeper": "did not finish within 6 s; it was skipped",
    "hog": "MemoryError",
    "exiter": "ended the grading process",
    "quitter": "raised SystemExit",
    "cheater": "is not available while this task is graded",
    "empty": "not implemented yet",
    "test_editor": "(edited). Grading always uses the course",
    "test_deleter": "test_max_pool_forward (deleted)",
    "patcher": "does not affect how your functions are judged",
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    for student, (notebook, _) in STUDENTS.items():
        path = root / "submitted" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(notebook, str(path))
    start = time.perf_counter()
    autograde(root / "submitted", root / "out", jobs=2, seed=5, limits=LIMITS, progress=False)
    elapsed = time.perf_counter() - start
    scores = defaultdict(dict)
    with open(root / "out" / "grades.csv") as handle:
        for row in csv.DictReader(handle):
            if row["grade_id"].startswith("test_"):
                scores[row["student_id"]][row["grade_id"][5:]] = float(row["score"])
    pages = {s: (root / "out" / "feedback" / s / ASSIGNMENT / f"{NOTEBOOK}.html").read_text()
             for s in STUDENTS}
    return scores, pages, elapsed


@pytest.mark.parametrize("student", sorted(STUDENTS))
def test_each_hostile_submission_gets_only_what_its_honest_parts_earn(graded, student):
    scores, pages, _ = graded
    assert scores[student] == STUDENTS[student][1]
    if student in FEEDBACK:
        assert FEEDBACK[student] in pages[student]


def test_hostile_submissions_do_not_hang_the_class(graded):
    *_, elapsed = graded
    # Twelve students, two in parallel; the looper and sleeper cost their limits once each.
    assert elapsed < 60


def test_printing_megabytes_does_not_bloat_the_feedback(graded):
    _, pages, _ = graded
    assert len(pages["printer"]) < 100_000 and "xxxxxxxxxx" not in pages["printer"]
