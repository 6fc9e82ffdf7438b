"""A folder or file whose name is not a usable student id costs only itself: everyone else
is graded as without it, the run exits 3 and says where it is, why and how to fix it, the
submissions are untouched, and --resume after the rename grades just that student."""

import os
import shutil
import zipfile
from pathlib import Path

import pytest

from grader.__main__ import NOT_ALL_GRADED, main
from grader.collect import (StudentWork, SubmissionError, collect, collect_usable,
                            take_notebook)
from grader.feedback import NOT_GRADED
from grader.gradebook import REPO, load

from .conftest import load_sample_class_builder
from .test_hostile import tree_digest
from .test_large_class import starts

build = load_sample_class_builder()
ASSIGNMENT, NOTEBOOK = "03_pooling", "pooling"
COURSE = load(REPO)
SOURCE = {s: build.EXAMPLES / s / ASSIGNMENT / f"{NOTEBOOK}.ipynb" for s in ("ada", "ben", "eve")}
# a space and "!"; a newline and a terminal escape; longer than any id
BAD = ["bad name!", "evil\n\x1b[2J", "x" * 150]


def grade(submissions, out, *options, log=None):
    if log:
        os.environ["CONV_GRADER_WORKER_LOG"] = str(log)
    try:
        return main(["autograde", str(submissions), "--course", str(build.ROOT), "--out",
                     str(out), "--seed", "5", "--no-progress", "--assignment", ASSIGNMENT,
                     *options])
    finally:
        os.environ.pop("CONV_GRADER_WORKER_LOG", None)


def nbgrader_layout(folder, students):
    for folder_name, student in students.items():
        target = folder / folder_name / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
        target.parent.mkdir(parents=True)
        shutil.copy(SOURCE[student], target)
    return folder


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """grades.csv of ada and eve graded on their own."""
    root = tmp_path_factory.mktemp("reference")
    assert grade(nbgrader_layout(root / "submitted", {"ada": "ada", "eve": "eve"}),
                 root / "out") == 0
    return (root / "out" / "grades.csv").read_text()


def test_a_bad_folder_name_costs_only_itself_and_resume_grades_it_after_the_rename(
        reference, tmp_path, capsys):
    submitted = nbgrader_layout(tmp_path / "submitted",
                                {"ada": "ada", "eve": "eve", **{name: "ben" for name in BAD}})
    before = tree_digest(submitted)
    out = tmp_path / "out"
    assert grade(submitted, out) == NOT_ALL_GRADED
    printed = capsys.readouterr().out
    assert (out / "grades.csv").read_text() == reference  # as if the bad ones were not there
    assert tree_digest(submitted) == before
    listed = (out / NOT_GRADED).read_text()
    assert "2 students graded" in printed and "some submissions NOT graded" in printed
    block = printed[printed.index("NOT GRADED: 3 submissions"):]
    assert listed in block and str(out / NOT_GRADED) in block  # the summary ends with it
    for name in BAD:
        assert repr(str(submitted / name))[:100] in listed  # shown escaped, never raw
    assert "\x1b" not in printed and "evil\n" not in printed and "evil\n" not in listed
    assert "'bad name!' is not a usable student id: it holds ' ' '!'" in listed
    assert "is 150 characters long" in listed and "starts with a dot" not in listed
    assert listed.count("fix: rename the folder to the student's id") == 3
    assert "--resume" in listed
    assert sorted(p.name for p in (out / "feedback").iterdir()) == ["ada", "eve"]

    (submitted / "bad name!").rename(submitted / "ben")
    for name in BAD[1:]:
        shutil.rmtree(submitted / name)
    log = tmp_path / "starts"
    assert grade(submitted, out, "--resume", log=log) == 0
    assert {s for s, _ in starts(log)} == {"ben"}  # ada and eve were kept, not regraded
    assert not (out / NOT_GRADED).exists() and "NOT GRADED" not in capsys.readouterr().out
    rows = (out / "grades.csv").read_text().splitlines()
    assert [r for r in rows if not r.startswith("ben,")] == reference.splitlines()
    assert any(r.startswith("ben,") for r in rows)


def test_a_bad_flat_file_name_costs_only_itself(reference, tmp_path, capsys):
    flat = tmp_path / "flat"
    flat.mkdir()
    shutil.copy(SOURCE["ada"], flat / "ada.ipynb")
    shutil.copy(SOURCE["ben"], flat / "bad name!.ipynb")
    before = tree_digest(flat)
    assert grade(flat, tmp_path / "out") == NOT_ALL_GRADED
    assert tree_digest(flat) == before
    rows = (tmp_path / "out" / "grades.csv").read_text().splitlines()
    assert rows == [r for r in reference.splitlines() if not r.startswith("eve,")]
    listed = (tmp_path / "out" / NOT_GRADED).read_text()
    assert "NOT GRADED: 1 submission," in listed and repr(str(flat / "bad name!.ipynb")) in listed
    assert "fix: rename the file to <the student's id>.ipynb" in listed
    assert listed in capsys.readouterr().out


def test_nothing_usable_is_still_an_error_that_names_what_to_fix(tmp_path, capsys):
    nbgrader_layout(tmp_path / "submitted", {"bad name!": "ada"})
    assert grade(tmp_path / "submitted", tmp_path / "out") == 2
    error = capsys.readouterr().err
    assert "nothing to grade" in error and "'bad name!' is not a usable student id" in error
    assert "fix: rename the folder" in error


def test_ids_that_would_be_one_student_are_all_set_aside(tmp_path):
    """Same id after the zip's folders are dropped, or after letter case (one folder on a
    case-insensitive disk): no silent merge, no guess which one counts."""
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for member in ("a/ada.ipynb", "b/ada.ipynb", "Eve.ipynb", "eve.ipynb", "ben.ipynb",
                       "../cleo.ipynb", ".hidden.ipynb", "__MACOSX/._ben.ipynb"):
            handle.writestr(member, SOURCE["eve"].read_text())
    collection = collect_usable(archive, COURSE, ASSIGNMENT, tmp_path / "scratch")
    assert [w.student for w in collection.works] == ["ben", "cleo"]  # names only: no path
    assert (tmp_path / "scratch" / "collected" / "cleo").is_dir()
    unusable = {u.path.split(":", 1)[1]: u for u in collection.unusable}
    assert sorted(unusable) == [".hidden.ipynb", "Eve.ipynb", "a/ada.ipynb", "b/ada.ipynb",
                                "eve.ipynb"]
    assert f"same student as '{archive}:b/ada.ipynb'" in unusable["a/ada.ipynb"].reason
    assert "letter case aside" in unusable["eve.ipynb"].reason
    assert "starts with a dot" in unusable[".hidden.ipynb"].reason
    assert unusable["a/ada.ipynb"].fix.startswith("keep only the one to grade")
    with pytest.raises(SubmissionError, match="not a usable student id"):
        collect(archive, COURSE, ASSIGNMENT, tmp_path / "strict")  # for callers that grade all or none


def test_a_corrupt_zip_member_costs_only_its_student(tmp_path):
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as handle:
        for student in ("ada", "ben"):
            handle.writestr(f"{student}.ipynb", SOURCE[student].read_bytes())
    data = bytearray(archive.read_bytes())
    start = data.index(b"ben.ipynb") + len("ben.ipynb") + 50  # inside ben's compressed bytes
    data[start:start + 20] = bytes(20)
    archive.write_bytes(bytes(data))
    ada, ben = collect_usable(archive, COURSE, ASSIGNMENT, tmp_path / "scratch").works
    assert ada.notebooks[ASSIGNMENT, NOTEBOOK].read_bytes() == SOURCE["ada"].read_bytes()
    assert "could not be read from the zip" in ben.refusal(ASSIGNMENT, NOTEBOOK)


@pytest.mark.parametrize("student", ["../../escape", "a/b", "x" * 300, ".."])
def test_an_id_from_elsewhere_never_becomes_a_path(tmp_path, student):
    """Gradescope's id comes from its metadata, not a file name: any id grades, inside scratch."""
    work = StudentWork(student)
    take_notebook(work, (ASSIGNMENT, NOTEBOOK), SOURCE["ada"], tmp_path / "scratch")
    copy = work.notebooks[(ASSIGNMENT, NOTEBOOK)]
    assert copy.read_bytes() == SOURCE["ada"].read_bytes()
    assert Path(os.path.realpath(copy)).is_relative_to(tmp_path / "scratch" / "collected")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scratch"]
