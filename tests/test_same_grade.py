"""One grade per code and per student, wherever it is graded.

- identical code gets an identical grade under any student id (however it is laid out and
  commented), in grades.csv, nbgrader's gradebook and Gradescope's results.json alike;
- a regrade of the same class is byte-identical;
- a late submission loses the points the course's nbgrader late-penalty rule takes, and has
  the same total in the summary, grades.csv, its feedback page, the gradebook and Gradescope."""

import csv
import datetime
import json
import re
import shutil
import subprocess
import sys

import nbformat
import pytest

from grader.__main__ import main

from .conftest import load_sample_class_builder
from .test_lateness import gradebook_with_due_date

build = load_sample_class_builder()
ASSIGNMENT, NOTEBOOK = "03_pooling", "pooling"
BUGGY = build.EXAMPLES / "ben" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"  # planted pooling mistakes
STUDENTS = ["s1", "s2", "s3", "s4", "s5"]
# A penalty rule of the course's own, as nbgrader_config.py can set one: 10% per started day.
LATE_RULE = '''
from nbgrader.plugins import LateSubmissionPlugin


class TenPercentADay(LateSubmissionPlugin):
    def late_submission_penalty(self, student_id, score, total_seconds_late):
        return round(score * 0.1 * (1 + total_seconds_late // 86400), 2)


c.AssignLatePenalties.plugin_class = TenPercentADay
'''


def restyled(path, to):
    """The same code with other comments and blank lines: the same program."""
    notebook = nbformat.read(str(path), as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            cell.source = "# my own words\n\n" + cell.source.replace("\n", "\n\n", 1) + "\n# done\n"
    nbformat.write(notebook, str(to))


def renamed(path, to):
    """The same mistakes in other words: ``dx`` is ``grad_input`` (another fingerprint, so
    other hidden values): the same aspects wrong, the same points lost."""
    notebook = nbformat.read(str(path), as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            cell.source = re.sub(r"\bdx\b", "grad_input", cell.source)
    nbformat.write(notebook, str(to))


def rows_by_student(out):
    with open(out / "grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    by = {}
    for row in rows:
        by.setdefault(row["student_id"], []).append(
            (row["notebook"], row["grade_id"], row["score"], row["max_score"], row["status"]))
    return by


def test_identical_code_gets_identical_grades_and_a_regrade_is_byte_identical(tmp_path):
    submitted = tmp_path / "submitted"
    for i, student in enumerate([*STUDENTS, "renamed"]):
        (submitted / student / ASSIGNMENT).mkdir(parents=True)
        target = submitted / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
        if student == "renamed":
            renamed(BUGGY, target)
        else:
            restyled(BUGGY, target) if i % 2 else shutil.copy(BUGGY, target)
    course = tmp_path / "course"
    shutil.copytree(build.SOLUTIONS / ASSIGNMENT, course / "solutions" / ASSIGNMENT)
    shutil.copy(build.ROOT / "nbgrader_config.py", course)

    def grade(out):
        return main(["autograde", str(submitted), "--course", str(course), "--out", str(out),
                     "--no-progress", "--assignment", ASSIGNMENT, "--jobs", "2"])

    assert grade(tmp_path / "first") == 0
    grades = rows_by_student(tmp_path / "first")
    assert set(grades) == {*STUDENTS, "renamed"}
    assert all(grades[s] == grades["s1"] for s in STUDENTS), grades
    assert grades["renamed"] == grades["s1"]  # designed geometries: the grade is the aspects
    earned = sum(float(r[2] or 0) for r in grades["s1"])
    assert 0 < earned < sum(float(r[3]) for r in grades["s1"] if r[2] != "")  # a partial grade, five times

    from nbgrader.api import Gradebook

    from grader.gradebook import load
    with Gradebook(f"sqlite:///{tmp_path / 'first' / 'gradebook.db'}", load(course).course_id) as book:
        scores = {s: book.find_submission(ASSIGNMENT, s).score for s in STUDENTS}
    assert all(score == pytest.approx(earned) for score in scores.values()), scores

    # Regraded from scratch, with the same course secret: every byte the same.
    assert grade(tmp_path / "second") == 0
    for name in ["grades.csv", *(f"feedback/{s}/{ASSIGNMENT}/{NOTEBOOK}.html" for s in STUDENTS)]:
        assert (tmp_path / "first" / name).read_bytes() == (tmp_path / "second" / name).read_bytes(), name


@pytest.fixture
def late_course(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(build.SOLUTIONS / ASSIGNMENT, course / "solutions" / ASSIGNMENT)
    shutil.copy(build.ROOT / "nbgrader_config.py", course)
    with open(course / "nbgrader_config.py", "a") as config:
        config.write(LATE_RULE)
    return course


def test_a_late_submission_has_the_same_total_in_every_output(tmp_path, late_course, capsys):
    from nbgrader.api import Gradebook

    from grader.gradebook import load

    due = datetime.datetime(2026, 3, 1, 12, 0)
    submitted = tmp_path / "submitted"
    for student, when in {"late": due + datetime.timedelta(days=1, hours=2),
                          "ontime": due - datetime.timedelta(hours=1)}.items():
        (submitted / student / ASSIGNMENT).mkdir(parents=True)
        shutil.copy(BUGGY, submitted / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
        (submitted / student / ASSIGNMENT / "timestamp.txt").write_text(f"{when:%Y-%m-%d %H:%M:%S.%f} UTC")
    course_id = load(late_course).course_id
    db_url = gradebook_with_due_date(tmp_path / "gradebook.db", course_id, due=due)
    out = tmp_path / "out"
    assert main(["autograde", str(submitted), "--course", str(late_course), "--out", str(out),
                 "--no-progress", "--assignment", ASSIGNMENT, "--db", db_url,
                 "--lateness", "timestamp"]) == 0
    printed = capsys.readouterr().out
    grades = rows_by_student(out)
    earned = sum(float(r[2] or 0) for r in grades["ontime"])
    penalty = round(earned * 0.2, 2)  # late by 1 d 2 h: two started days
    total = round(earned - penalty, 2)
    assert [r for r in grades["late"] if r[1] == "late_penalty"] == [
        (NOTEBOOK, "late_penalty", f"{-penalty}", "0.0", "late penalty (late by 1 d 2 h)")]
    assert round(sum(float(r[2] or 0) for r in grades["late"]), 2) == total  # grades.csv
    late_line = next(line for line in printed.splitlines() if line.startswith("late "))
    assert f"{total:g}/" in late_line and f"(late -{penalty:g})" in late_line  # the summary
    page = (out / "feedback" / "late" / ASSIGNMENT / f"{NOTEBOOK}.html").read_text()
    assert f"Late penalty: &minus;{penalty:g} points (late by 1 d 2 h" in page
    assert f"Your score: {total:g} / " in page  # the feedback
    with Gradebook(db_url, course_id) as book:  # nbgrader's gradebook, its own plugin run
        submission = book.find_submission(ASSIGNMENT, "late")
        assert submission.late_submission_penalty == pytest.approx(penalty)
        assert submission.score - submission.late_submission_penalty == pytest.approx(total)
        assert book.find_submission(ASSIGNMENT, "ontime").late_submission_penalty in (0, None)

    # Gradescope, from its own clock in submission_metadata.json
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    shutil.copy(BUGGY, root / "submission" / f"{NOTEBOOK}.ipynb")
    shutil.copytree(late_course, root / "source")
    (root / "submission_metadata.json").write_text(json.dumps({
        "created_at": "2026-03-02T15:00:00+01:00",  # 14:00 UTC: late by 1 d 2 h
        "assignment": {"due_date": "2026-03-01T12:00:00+00:00"},
        "users": [{"email": "late@example.org", "id": 77, "name": "Late"}]}))
    shutil.copy(late_course / ".grader_secret", root / "source")  # the course's secret
    done = subprocess.run(
        [sys.executable, "-m", "grader", "export", str(root / "submission"), "--format",
         "gradescope", "--course", str(root / "source"), "--out", str(root / "results.json"),
         "--metadata", str(root / "submission_metadata.json"), "--assignment", ASSIGNMENT],
        capture_output=True, text=True, cwd=root / "source")
    assert done.returncode == 0, done.stderr
    document = json.loads((root / "results.json").read_text())
    assert document["score"] == pytest.approx(total)
    assert f"Late penalty: -{penalty:g} points" in document["output"]
