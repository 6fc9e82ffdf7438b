"""The Gradescope autograder end to end, on a stand-in /autograder root: run_autograder
finds the upload by its graded cells, keeps the maximum stable, seeds from the course secret,
and writes results.json in Gradescope's documented schema."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import load_sample_class_builder

build = load_sample_class_builder()
RUN = build.ROOT / "examples" / "gradescope" / "run_autograder"
TEST_KEYS = {"score", "max_score", "status", "name", "name_format", "number", "output",
             "output_format", "tags", "visibility", "extra_data"}
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}


@pytest.fixture
def autograder(tmp_path):
    """A stand-in /autograder: the course (solutions and its nbgrader config) in source/."""
    root = tmp_path / "autograder"
    shutil.copytree(build.SOLUTIONS, root / "source" / "solutions")
    shutil.copy(build.ROOT / "nbgrader_config.py", root / "source")
    (root / "submission").mkdir()
    (root / "submission_metadata.json").write_text(json.dumps(
        {"users": [{"email": "ada@example.org", "id": 4242, "name": "Ada"}]}))

    def run(uploads, **settings):
        shutil.rmtree(root / "submission")
        (root / "submission").mkdir()
        for name, path in uploads.items():
            shutil.copy(path, root / "submission" / name)
        env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable,
               "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
               **settings}
        subprocess.run([str(RUN)], env=env, check=True, capture_output=True)
        document = json.loads((root / "results" / "results.json").read_text())
        check_schema(document)
        return document

    return root, run


def check_schema(document):
    assert isinstance(document["score"], (int, float)) and isinstance(document["output"], str)
    assert document["visibility"] in VISIBILITIES
    assert document["stdout_visibility"] in VISIBILITIES
    for test in document["tests"]:
        assert set(test) <= TEST_KEYS
        assert isinstance(test["score"], float) and isinstance(test["max_score"], float)
        assert 0 <= test["score"] <= test["max_score"] and test["status"] in ("passed", "failed")
        assert test["visibility"] in VISIBILITIES
    assert document["score"] == pytest.approx(sum(t["score"] for t in document["tests"]))


def test_a_renamed_upload_is_found_graded_and_regraded_identically(autograder):
    root, run = autograder
    upload = {"conv_forward (1).ipynb": build.EXAMPLES / "ben" / "01_conv_forward" / "conv_forward.ipynb"}
    first = run(upload, ASSIGNMENT="01_conv_forward")
    assert [t["name"] for t in first["tests"]] == [
        "01_conv_forward/conv_forward: test_conv_forward",
        "01_conv_forward/conv_forward: test_conv_forward_dilated"]  # the optional task, 0 points
    assert 0 < first["score"] < 10 and first["visibility"] == "visible"  # ben flips the kernel
    assert "likely mistake: kernel flipped" in first["tests"][0]["output"]
    assert (root / "source" / ".grader_secret").stat().st_mode & 0o777 == 0o600
    assert run(upload, ASSIGNMENT="01_conv_forward") == first  # same secret, same hidden cases


@pytest.mark.parametrize("uploads", [{}, {"pooling.ipynb": build.EXAMPLES / "ada" / "03_pooling" / "pooling.ipynb"}],
                         ids=["missing", "wrong notebook"])
def test_a_wrong_or_missing_upload_gets_one_message_and_the_usual_maximum(autograder, uploads):
    _, run = autograder
    document = run(uploads, ASSIGNMENT="01_conv_forward", VISIBILITY="after_published")
    assert document["score"] == 0 and sum(t["max_score"] for t in document["tests"]) == 10
    assert document["output"].count("Upload the notebook you worked in") == 1
    assert {t["visibility"] for t in document["tests"]} == {"after_published"}


def test_run_autograder_refuses_to_run_without_its_assignment(autograder):
    """Left empty, an upload of all five notebooks would score against all five (75 points
    in a 20-point slot): the instructor's one setting is required."""
    root, _ = autograder
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable,
           "ASSIGNMENT": ""}
    done = subprocess.run([str(RUN)], env=env, capture_output=True, text=True)
    assert done.returncode == 2 and "set ASSIGNMENT" in done.stderr
    assert not (root / "results" / "results.json").exists()


def test_export_without_an_assignment_grades_no_upload_of_several(tmp_path):
    from grader.__main__ import main

    upload = tmp_path / "upload"
    upload.mkdir()
    for assignment, name in (("01_conv_forward", "conv_forward"), ("03_pooling", "pooling")):
        shutil.copy(build.EXAMPLES / "ada" / assignment / f"{name}.ipynb", upload)
    out = tmp_path / "results.json"
    assert main(["export", str(upload), "--format", "gradescope", "--out", str(out),
                 "--course", str(build.ROOT), "--seed", "1"]) == 0
    document = json.loads(out.read_text())
    assert document["score"] == 0 and "holds notebooks of 2 assignments" in document["output"]


@pytest.mark.parametrize("metadata, expected", [
    ({"users": [{"id": 42, "email": "a@b.c"}]}, "42"),
    ({"users": [{"email": "a@b.c"}]}, "a@b.c"),
    ({"users": [{"name": "Ada"}]}, None),  # neither: no id, never the string "None"
    ({"users": []}, None),
    ({"users": ["42"]}, None),
])
def test_the_student_id_comes_from_gradescopes_metadata_or_nowhere(tmp_path, metadata, expected):
    from grader.collect import student_from_metadata

    path = tmp_path / "submission_metadata.json"
    path.write_text(json.dumps(metadata))
    assert student_from_metadata(path) == expected
