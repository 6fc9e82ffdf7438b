"""A class graded in pieces: interrupted and resumed, and on a Dask cluster whose
worker dies mid-student. Every student is graded exactly once into the gradebook,
and grades.csv is what one uninterrupted local run writes."""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "submitted"
STUDENTS = sorted(p.name for p in SAMPLE.iterdir() if p.is_dir())
ASSIGNMENTS = sorted({p.parent.name for p in SAMPLE.glob("*/*/*.ipynb")})
SEED = "5"
BIN = Path(sys.executable).parent


# `python -m grader` that, once COUNT students are committed, writes MARKER and waits there
# for the test's Ctrl-C: the run cannot end before the interrupt lands, however slow the test.
PAUSED_RUN = """
import signal, sys, threading
from pathlib import Path
from grader.schedule import journal

# Ctrl-C as in a terminal, however the suite was started (a shell's background job ignores it).
signal.signal(signal.SIGINT, signal.default_int_handler)

count, marker = int(sys.argv[1]), Path(sys.argv[2])
commit = journal.Journal.commit

def commit_then_pause(self, result, mark):
    commit(self, result, mark)
    if self.count() == count and not marker.exists():
        marker.write_text(result.student)
        threading.Event().wait()  # never set: until KeyboardInterrupt

journal.Journal.commit = commit_then_pause
from grader.__main__ import main
sys.exit(main(sys.argv[3:]))
"""


def autograde(out, *options, log, wait=True, pause=None):
    """`conv-grader autograde` of the sample class into ``out`` in a subprocess, logging
    every sandboxed worker start ("student pid") to ``log``. ``pause``: (count, marker), the
    run waits for Ctrl-C once ``count`` students are committed, and says so in ``marker``."""
    env = dict(os.environ, CONV_GRADER_WORKER_LOG=str(log),
               PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    grader = ["-m", "grader"] if pause is None else ["-c", PAUSED_RUN, str(pause[0]), str(pause[1])]
    command = [sys.executable, *grader, "autograde", str(SAMPLE), "--course", str(ROOT),
               "--out", str(out), "--seed", SEED, "--no-progress", *options]
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    if wait:
        process.output, stderr = process.communicate(timeout=900)
        assert process.returncode == 0, stderr
    return process


def starts(log):
    """[(student, grading process id)] of every worker started."""
    lines = Path(log).read_text().split() if Path(log).exists() else []
    return [(s, int(p)) for s, p in zip(lines[::2], lines[1::2]) if s != "-"]


def committed(out):
    path = Path(out) / "graded.sqlite"
    if not path.exists():
        return []
    with sqlite3.connect(path, timeout=30) as db:
        try:
            return sorted(s for (s,) in db.execute("SELECT student FROM graded"))
        except sqlite3.OperationalError:  # the table is not made yet
            return []


def wait_for(condition, what, seconds=600):
    """Until ``condition()``; the bound only catches a hang."""
    ends = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < ends, f"gave up waiting for {what}"
        time.sleep(0.2)


def assert_graded_once(out):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{Path(out) / 'gradebook.db'}") as gradebook:
        for assignment in ASSIGNMENTS:
            submissions = gradebook.find_assignment(assignment).submissions
            assert Counter(s.student.id for s in submissions) == Counter(STUDENTS), assignment
    assert committed(out) == STUDENTS


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """One uninterrupted local run: its grades.csv and worker starts per student."""
    root = tmp_path_factory.mktemp("reference")
    autograde(root / "out", "--jobs", "2", log=root / "starts")
    return (root / "out" / "grades.csv").read_text(), Counter(s for s, _ in starts(root / "starts"))


def test_an_interrupted_run_resumes_without_regrading_anyone(reference, tmp_path):
    grades, per_student = reference
    out, paused = tmp_path / "out", tmp_path / "paused"
    first = autograde(out, "--jobs", "1", log=tmp_path / "first", wait=False, pause=(2, paused))
    try:
        wait_for(lambda: paused.exists() or first.poll() is not None, "two students committed")
        assert first.poll() is None, first.communicate()  # waiting for Ctrl-C, not ended
        first.send_signal(signal.SIGINT)  # Ctrl-C
        _, stderr = first.communicate(timeout=300)
    finally:
        if first.poll() is None:
            first.kill()
            first.communicate()
    assert first.returncode == 130 and "--resume" in stderr, stderr
    finished = committed(out)
    assert len(finished) == 2 and paused.read_text() in finished
    assert not (out / "grades.csv").exists()  # no partial table that looks complete

    second = autograde(out, "--jobs", "2", "--resume", log=tmp_path / "second")
    assert f"{len(finished)} of them kept from the earlier run" in second.output
    resumed = Counter(s for s, _ in starts(tmp_path / "second"))
    assert set(resumed) == set(STUDENTS) - set(finished)  # finished students were not regraded
    assert all(resumed[s] == per_student[s] for s in resumed)  # each of the rest once
    assert (out / "grades.csv").read_text() == grades
    assert_graded_once(out)


def test_resume_regrades_a_changed_notebook_and_nothing_else(tmp_path):
    submitted = tmp_path / "submitted"
    out = tmp_path / "out"
    for student in ("ada", "eve"):
        shutil.copytree(SAMPLE / student, submitted / student)
    from grader.__main__ import main

    assert main(["autograde", str(submitted), "--course", str(ROOT), "--out", str(out),
                 "--seed", SEED, "--no-progress", "--assignment", "03_pooling"]) == 0
    (submitted / "eve" / "03_pooling" / "pooling.ipynb").write_bytes(
        (SAMPLE / "ada" / "03_pooling" / "pooling.ipynb").read_bytes())  # eve hands in ada's
    log = tmp_path / "starts"
    os.environ["CONV_GRADER_WORKER_LOG"] = str(log)
    try:
        assert main(["autograde", str(submitted), "--course", str(ROOT), "--out", str(out),
                     "--seed", SEED, "--no-progress", "--assignment", "03_pooling",
                     "--resume"]) == 0
    finally:
        del os.environ["CONV_GRADER_WORKER_LOG"]
    assert {s for s, _ in starts(log)} == {"eve"}
    rows = (out / "grades.csv").read_text().splitlines()[1:]
    assert [r.replace("eve,", "ada,", 1) for r in rows if r.startswith("eve,")] == \
        [r for r in rows if r.startswith("ada,")]  # eve now has ada's (full) marks


class Cluster:
    """A Dask scheduler and workers on 127.0.0.1, as subprocesses of this test."""

    def __init__(self, folder, workers, log, stall=None):
        """``stall``: a file; the first worker stops mid-student and names it there
        (tests/stall_mid_student.py)."""
        self.folder, self.processes = Path(folder), []
        file = self.folder / "scheduler.json"
        self._start([BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", "0",
                     "--no-dashboard", "--scheduler-file", str(file)], "scheduler")
        wait_for(file.exists, "the scheduler", 120)
        self.address = json.loads(file.read_text())["address"]
        env = {"CONV_GRADER_WORKER_LOG": str(log)}
        stalling = ["--preload", str(ROOT / "tests" / "stall_mid_student.py")]
        # --no-nanny: a worker is one process, so killing it kills a worker mid-student
        self.workers = [self._start([BIN / "dask", "worker", "--scheduler-file", str(file),
                                     "--nthreads", "1", "--no-nanny", "--no-dashboard",
                                     "--host", "127.0.0.1", *(stalling if stall and k == 0 else [])],
                                    f"worker{k}", dict(env, CONV_GRADER_STALL=str(stall or "")))
                        for k in range(workers)]
        from distributed import Client

        with Client(self.address, timeout=60) as client:
            client.wait_for_workers(workers, timeout=120)

    def _start(self, command, name, env=None):
        log = open(self.folder / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                                   env=dict(os.environ, **(env or {})), start_new_session=True)
        process.log = log
        self.processes.append(process)
        return process

    def stop(self):
        # SIGTERM first: a worker that exits on its own removes its sandboxes' cgroups
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            process.log.close()


@pytest.fixture
def cluster(tmp_path):
    made = []

    def start(workers=2, stall=None):
        made.append(Cluster(tmp_path, workers, tmp_path / "starts", stall))
        return made[-1]

    yield start
    for running in made:
        running.stop()


def test_a_dask_cluster_grades_like_a_local_run(reference, cluster, tmp_path):
    grades, per_student = reference
    address = cluster().address
    autograde(tmp_path / "out", "--cluster", address, log=tmp_path / "unused")
    assert (tmp_path / "out" / "grades.csv").read_text() == grades
    assert Counter(s for s, _ in starts(tmp_path / "starts")) == per_student
    assert_graded_once(tmp_path / "out")


def left_by(pid):
    """The temporary folders process ``pid`` made (grader.sandbox.leftovers) and its cgroups."""
    from grader.sandbox import cgroups

    folders = [p for p in Path(tempfile.gettempdir()).iterdir()
               if p.name.startswith(("cluster-student-", "grader-view-", "grader-fonts-"))
               and p.name.split("-")[2] == str(pid)]
    run = cgroups.run_group()
    groups = [] if run is None else [folder.parent / f"conv-grader-{pid}"
                                     for folder in dict.fromkeys(run.folders.values())]
    return sorted(folders + [g for g in groups if g.exists()])


def test_a_worker_killed_mid_student_has_that_student_graded_elsewhere(reference, cluster, tmp_path):
    grades, _ = reference
    stalled = tmp_path / "stalled"
    running = cluster(stall=stalled)
    victim, survivor = running.workers[0].pid, running.workers[1].pid
    grading = autograde(tmp_path / "out", "--cluster", running.address, log=tmp_path / "unused",
                        wait=False)
    try:
        # The victim starts a student's notebook, then waits there to be killed.
        wait_for(lambda: stalled.exists() or grading.poll() is not None,
                 "the first worker to start a student")
        assert grading.poll() is None, grading.communicate()
        interrupted, pid = stalled.read_text().split()
        assert int(pid) == victim and (interrupted, victim) in starts(tmp_path / "starts")
        held = {p.name.rsplit("-", 2)[0] for p in left_by(victim)}
        # its student's scratch folder, its sandboxes' view and fonts, and its cgroups if any
        assert held >= {"cluster-student", "grader-view", "grader-fonts"}, held
        os.kill(victim, signal.SIGKILL)
        running.workers[0].wait()
        _, stderr = grading.communicate(timeout=900)
    finally:
        if grading.poll() is None:
            grading.kill()
            grading.communicate()
    assert grading.returncode == 0, stderr
    assert (interrupted, survivor) in starts(tmp_path / "starts")  # retried elsewhere
    assert (tmp_path / "out" / "grades.csv").read_text() == grades
    assert_graded_once(tmp_path / "out")
    # What the killed worker held goes at the next sandbox check on this machine.
    from grader.sandbox import verify

    verify()
    assert left_by(victim) == []


def test_the_journal_returns_a_result_whole_and_only_for_the_same_inputs(tmp_path):
    from grader.collect import StudentWork
    from grader.feedback import Row
    from grader.judge import Run, StudentResult
    from grader.sandbox import Limits
    from grader.schedule.journal import Journal, fingerprint

    notebook = tmp_path / "pooling.ipynb"
    notebook.write_text("{}")
    work = StudentWork("ada", {("03_pooling", "pooling"): notebook})
    def run(seed=7, unsafe=False):
        return Run(seed, Limits(unsafe_no_sandbox=unsafe), ("03_pooling",))

    mark = fingerprint(work, run(), "course")
    result = StudentResult("ada", rows=[Row("ada", "03_pooling", "pooling", "t", 1.0, 1.0, "graded")],
                           pages={("03_pooling", "pooling"): "<p>page</p>"},
                           reports={("03_pooling", "pooling", "t"): "ok"}, warnings=["w"])
    journal = Journal(tmp_path, fresh=True)
    journal.commit(result, mark)
    assert journal.finished({"ada": mark}) == {"ada": result}
    notebook.write_text('{"cells": []}')  # a changed notebook is not the one graded
    changed = fingerprint(work, run(), "course")
    notebook.write_text("{}")
    other_seed = fingerprint(work, run(seed=8), "course")
    unsandboxed = fingerprint(work, run(unsafe=True), "course")
    assert mark not in (changed, other_seed, unsandboxed)
    assert journal.finished({"ada": changed}) == {}
    journal.close()
    assert Journal(tmp_path, fresh=True).finished({"ada": mark}) == {}
