"""Nothing a grader made outlives it: the temporary folders and cgroups of a grader killed
with SIGKILL (a Dask worker, say) go at the next verify on that machine, and a run that
fails before grading anyone leaves neither OUT nor the course secret behind."""

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from grader.__main__ import main
from grader.gradebook import CourseError, load
from grader.sandbox import Limits, cgroups, leftovers, verify
from grader.schedule import SECRET_FILE, ClassRun, autograde

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "submitted"

# What a Dask worker holds mid-student: a sandbox running (the worker view, the font list,
# its run's cgroup and the sandbox's), and the student's scratch folder.
MID_STUDENT = """
import json, sys, time
from grader.sandbox import Session, cgroups, temporary_folder, worker_view
from grader.sandbox.isolation import font_cache

session = Session([], [(1, "def f():\\n    return 1\\n")], [])
assert session.call("f", []) == ("ok", 1)
scratch = temporary_folder("cluster-student-")
run = cgroups.run_group()
print(json.dumps({"folders": [scratch.name, str(worker_view.shared()), str(font_cache().parent)],
                  "groups": sorted({str(f) for f in run.folders.values()}) if run else []}),
      flush=True)
sys.stdin.read()  # until the test kills it
"""


def _dead_pid():
    done = subprocess.Popen(["true"])
    done.wait()
    return done.pid


def test_only_the_folders_of_dead_processes_of_this_user_are_removed(tmp_path):
    dead, live = _dead_pid(), os.getppid()
    zombie = subprocess.Popen(["true"])
    os.waitid(os.P_PID, zombie.pid, os.WEXITED | os.WNOWAIT)  # ended, not yet reaped
    names = {f"grader-view-{dead}-a1b2": False, f"grader-fonts-{dead}-x_9": False,
             f"cluster-student-{dead}-q": False, f"autograde-{dead}-r": False,
             f"export-{zombie.pid}-z": False,  # a killed grader its parent has not reaped
             f"grader-view-{live}-a1b2": True,  # a live grader's
             f"grader-view-{os.getpid()}-a1b2": True,  # this process's own
             "grader-view-a1b2c3": True,  # no process id: made before the names had one
             f"grader-view-{dead}": True,  # not a name the grader makes
             f"lab-home-{dead}-x": True}  # not the grader's
    for name in names:
        (tmp_path / name).mkdir()
        (tmp_path / name / "inside").write_text("x")
    (tmp_path / f"export-{dead}-file").write_text("a file, not a folder")
    (tmp_path / f"export-{dead}-link").symlink_to(tmp_path / f"grader-view-{live}-a1b2")
    removed = leftovers.remove_dead(tmp_path)
    zombie.wait()
    assert sorted(p.name for p in removed) == sorted(n for n, kept in names.items() if not kept)
    assert {n for n in names if (tmp_path / n).exists()} == {n for n, kept in names.items() if kept}
    assert (tmp_path / f"export-{dead}-file").exists() and (tmp_path / f"export-{dead}-link").exists()
    assert (tmp_path / f"grader-view-{live}-a1b2" / "inside").exists()  # not through the link


def test_a_grader_killed_mid_student_leaves_nothing_after_the_next_verify():
    grader = subprocess.Popen([sys.executable, "-c", MID_STUDENT], cwd=ROOT, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        made = json.loads(grader.stdout.readline())  # it holds them all now
    finally:
        grader.send_signal(signal.SIGKILL)
        grader.wait(timeout=60)
        grader.stdin.close()
        grader.stdout.close()
    folders = [Path(tempfile.gettempdir()) / Path(f).name for f in made["folders"]]
    groups = [Path(g) for g in made["groups"]]
    assert all(leftovers.owner(f.name) == grader.pid for f in folders), folders
    assert {f.name.split(str(grader.pid))[0] for f in folders} == {
        "cluster-student-", "grader-view-", "grader-fonts-"}
    # SIGKILL: no Finalize ran, so all of it is still there
    assert all(f.is_dir() for f in folders) and all(g.is_dir() for g in groups)
    if cgroups.run_group() is not None:  # then the killed grader had made its groups too
        assert groups and all(g.name == f"conv-grader-{grader.pid}" for g in groups)
    verify()
    assert [f for f in folders if f.exists()] == []
    assert [g for g in groups if g.exists()] == []


def _copy_class(target, students=("ada",), assignment="03_pooling"):
    """Flat submissions of ``assignment``: one notebook per student."""
    target.mkdir()
    for student in students:
        source = SAMPLE / student / assignment
        (target / f"{student}.ipynb").write_bytes(next(source.glob("*.ipynb")).read_bytes())
    return target


def _course(folder):
    """A course of one assignment, 03_pooling, that has no secret yet."""
    source = ROOT / "solutions" / "03_pooling"  # this repository's source folder
    (folder / "source" / "03_pooling").mkdir(parents=True)
    for notebook in source.glob("*.ipynb"):
        (folder / "source" / "03_pooling" / notebook.name).write_bytes(notebook.read_bytes())
    return folder


def test_a_run_outside_a_course_folder_fails_and_makes_nothing(tmp_path, monkeypatch, capsys):
    elsewhere = tmp_path / "not-a-course"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    submitted = _copy_class(tmp_path / "submitted")
    for submissions in (tmp_path / "no-such-folder", submitted):
        assert main(["autograde", str(submissions), "--assignment", "03_pooling",
                     "--out", str(tmp_path / "out" / "run"), "--no-progress",
                     "--unsafe-no-sandbox"]) == 2
        said = capsys.readouterr().err
        assert "does not exist" in said or "no course source folder" in said, said
        assert sorted(os.listdir(elsewhere)) == []  # no .grader_secret
        assert not (tmp_path / "out").exists()


def test_a_course_without_that_assignment_gets_no_secret_and_no_out(tmp_path, capsys):
    course = _course(tmp_path / "course")
    submitted = _copy_class(tmp_path / "submitted")
    assert main(["autograde", str(submitted), "--course", str(course), "--assignment",
                 "09_no_such", "--out", str(tmp_path / "out"), "--no-progress",
                 "--unsafe-no-sandbox"]) == 2
    assert "unknown assignment '09_no_such'" in capsys.readouterr().err
    assert not (course / SECRET_FILE).exists() and not (tmp_path / "out").exists()


def test_a_run_that_fails_after_making_out_and_the_secret_takes_both_back(tmp_path, monkeypatch):
    from grader.schedule import class_run

    course = _course(tmp_path / "course")
    submitted = _copy_class(tmp_path / "submitted", ("ada", "eve"))
    made = []

    def refused(*args):  # as the course's gradebook does when the assignment is not in it
        made.append(((tmp_path / "out" / "run").is_dir(), (course / SECRET_FILE).exists()))
        raise CourseError("03_pooling is not registered in the gradebook")

    monkeypatch.setattr(class_run, "recorder_for", refused)
    request = ClassRun(load(course), submitted, tmp_path / "out" / "run", assignment="03_pooling",
                       limits=Limits(unsafe_no_sandbox=True), progress=False)
    with pytest.raises(CourseError):
        autograde(request)
    assert made == [(True, True)]  # the failure came after both were made
    assert not (course / SECRET_FILE).exists() and not (tmp_path / "out").exists()

    # An OUT and a secret that were there before are kept, whatever fails.
    (tmp_path / "out").mkdir()
    (course / SECRET_FILE).write_text("s" * 64 + "\n")
    with pytest.raises(CourseError):
        autograde(request)
    assert (course / SECRET_FILE).read_text() == "s" * 64 + "\n"
    assert sorted(os.listdir(tmp_path / "out")) == []  # its own folder, run, went again
