"""The instructor's command end to end: a class with full marks, typical mistakes,
an empty submission, a corrupted notebook and a missing one; zips and flat folders;
reproducible seeds; the Gradescope export."""

import csv
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from grader.__main__ import main
from grader.diagnosis.tasks import ASSIGNMENTS

from .conftest import load_sample_class_builder

build = load_sample_class_builder()
SAMPLE = build.EXAMPLES
COLUMNS = ["student_id", "assignment", "notebook", "grade_id", "score", "max_score", "status"]


def read_grades(out):
    with open(Path(out) / "grades.csv", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == COLUMNS
        return list(reader)


def totals(rows):
    result = {}
    for row in rows:
        if row["score"] != "":
            earned, best = result.get(row["student_id"], (0.0, 0.0))
            result[row["student_id"]] = (earned + float(row["score"]), best + float(row["max_score"]))
    return result


@pytest.fixture(scope="module")
def class_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    submitted = root / "submitted"
    shutil.copytree(SAMPLE, submitted)
    # frank: one corrupted notebook file and one notebook not submitted at all
    shutil.copytree(SAMPLE / "ada", submitted / "frank")
    (submitted / "frank" / "01_conv_forward" / "conv_forward.ipynb").write_text('{"cells": [tru')
    shutil.rmtree(submitted / "frank" / "05_convnet")
    out = root / "out"
    code = main(["autograde", str(submitted), "--out", str(out), "--jobs", "2", "--seed", "7",
                 "--no-progress"])
    return code, out, read_grades(out)


def test_the_command_processes_everyone_and_exits_zero(class_run):
    code, _, rows = class_run
    assert code == 0
    assert {r["student_id"] for r in rows} == {"ada", "ben", "cleo", "dev", "eve", "frank"}


def test_correct_work_gets_full_marks_and_empty_work_zero(class_run):
    _, _, rows = class_run
    scores = totals(rows)
    assert scores["ada"][0] == scores["ada"][1] > 0
    assert scores["eve"] == (0.0, scores["ada"][1])
    written = [r for r in rows if r["student_id"] == "ada" and r["grade_id"].startswith("question_")]
    assert written and all(r["status"] == "needs manual grading" and r["score"] == "" for r in written)


@pytest.mark.parametrize("student", ["ben", "cleo", "dev"])
def test_typical_mistakes_lose_points_and_are_named_in_the_feedback(class_run, student):
    _, out, rows = class_run
    earned, best = totals(rows)[student]
    assert 0 < earned < best
    pages = "".join(p.read_text() for p in (out / "feedback" / student).rglob("*.html"))
    for mistake in build.SAMPLE_CLASS[student]:
        assert f"likely mistake: {build.PLANTINGS[mistake].get('feedback', mistake)}" in pages


def test_a_corrupted_notebook_and_a_missing_one_cost_only_themselves(class_run):
    _, out, rows = class_run
    frank = {(r["assignment"], r["grade_id"]): r for r in rows if r["student_id"] == "frank"}
    assert frank["01_conv_forward", "test_conv_forward"]["status"] == "error"
    assert frank["05_convnet", "test_convnet_loss"]["status"] == "missing"
    assert frank["03_pooling", "test_max_pool_forward"]["score"] == "5.0"
    page = (out / "feedback" / "frank" / "01_conv_forward" / "conv_forward.html").read_text()
    assert "Could not be graded" in page
    assert "not submitted" in (out / "feedback" / "frank" / "05_convnet" / "convnet.html").read_text()


def test_feedback_shows_failed_cases_but_never_test_code(class_run):
    _, out, _ = class_run
    for page in (out / "feedback").rglob("*.html"):
        text = page.read_text()
        assert "HIDDEN TESTS" not in text and 'grade("' not in text
    ben = (out / "feedback" / "ben" / "01_conv_forward" / "conv_forward.html").read_text()
    assert "hidden 1" in ben and "stride" in ben


def test_the_gradebook_holds_the_scores(class_run):
    from nbgrader.api import Gradebook

    _, out, _ = class_run
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gradebook:
        ada = gradebook.find_submission("03_pooling", "ada")
        assert ada.score == 20 and ada.max_code_score == 20
        assert gradebook.find_submission("03_pooling", "eve").code_score == 0


@pytest.fixture(scope="module")
def pooling_zip(tmp_path_factory):
    """One assignment as an LMS would hand it over: a zip of <student>.ipynb files."""
    root = tmp_path_factory.mktemp("zip")
    archive = root / "pooling.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for student in ("ada", "ben", "eve"):
            handle.write(SAMPLE / student / "03_pooling" / "pooling.ipynb", f"{student}.ipynb")
    return archive


def test_a_zip_or_flat_folder_for_one_assignment_and_a_repeatable_seed(pooling_zip, tmp_path):
    runs = []
    for k, seed in enumerate(["11", "11", "12"]):
        out = tmp_path / f"out{k}"
        assert main(["autograde", str(pooling_zip), "--assignment", "03_pooling", "--out",
                     str(out), "--seed", seed, "--no-progress"]) == 0
        runs.append((read_grades(out), (out / "feedback" / "ben" / "03_pooling" / "pooling.html").read_text()))
    assert {r["student_id"] for r in runs[0][0]} == {"ada", "ben", "eve"}
    assert runs[0] == runs[1]  # same seed: same hidden cases, same grades, same feedback
    # another seed draws other values in the same designed geometries: a grade is a fact
    # about the code (ben's mistakes lose the same points), not about the draw
    assert runs[0] == runs[2]


def test_bad_submissions_path_is_a_clear_error(tmp_path, capsys):
    assert main(["autograde", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_gradescope_export_follows_the_documented_schema(tmp_path):
    target = tmp_path / "results.json"
    assert main(["export", str(SAMPLE / "ben"), "--format", "gradescope", "--out", str(target),
                 "--seed", "3", "--visibility", "after_published",
                 "--assignment", "01_conv_forward"]) == 0
    document = json.loads(target.read_text())
    assert isinstance(document["score"], (int, float))
    assert document["visibility"] in ("hidden", "after_due_date", "after_published", "visible")
    assert document["stdout_visibility"] in ("hidden", "after_due_date", "after_published", "visible")
    tests = document["tests"]
    # one per graded function of the assignment, the optional one too; the other notebooks
    # in the folder are set aside (one upload, one assignment)
    assert len(tests) == len(ASSIGNMENTS["01_conv_forward"]) == 2
    assert "not graded here" in document["output"]
    for test in tests:
        assert set(test) <= {"score", "max_score", "status", "name", "name_format", "number",
                             "output", "output_format", "tags", "visibility", "extra_data"}
        assert isinstance(test["score"], float) and isinstance(test["max_score"], float)
        assert 0 <= test["score"] <= test["max_score"]
        assert test["status"] in ("passed", "failed") and test["visibility"] == "after_published"
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
    assert document["score"] == pytest.approx(sum(t["score"] for t in tests))
    failed = [t for t in tests if t["status"] == "failed"]
    assert any("likely mistake: kernel flipped" in t["output"] for t in failed)
    # ben's optional dilated task is worth 0 points and still reported as failed
    assert any(t["max_score"] == 0 and "test_conv_forward_dilated" in t["name"] for t in failed)


def test_the_bundled_sample_class_is_what_examples_build_makes(tmp_path):
    import nbformat

    build.build(tmp_path)
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.ipynb"))
    assert fresh == sorted(p.relative_to(SAMPLE) for p in SAMPLE.rglob("*.ipynb"))
    for relative in fresh:
        assert nbformat.read(str(tmp_path / relative), as_version=4) == nbformat.read(
            str(SAMPLE / relative), as_version=4), f"run `python examples/build.py`: {relative}"


def test_a_class_of_empty_notebooks_gets_zero_everywhere(tmp_path):
    for student in ("p1", "p2"):
        shutil.copy(SAMPLE / "eve" / "03_pooling" / "pooling.ipynb", tmp_path / f"{student}.ipynb")
    out = tmp_path / "out"
    assert main(["autograde", str(tmp_path), "--assignment", "03_pooling", "--out", str(out),
                 "--jobs", "--no-progress"]) == 0
    rows = read_grades(out)
    assert {r["student_id"] for r in rows} == {"p1", "p2"}
    assert all(r["score"] in ("0.0", "") for r in rows)


def test_a_folder_without_submissions_is_a_clear_error(tmp_path, capsys):
    assert main(["autograde", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert "no submissions found" in capsys.readouterr().err
