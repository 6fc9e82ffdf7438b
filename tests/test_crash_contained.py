"""One student's trouble is that student's alone, on the grader's side too.

- What a sandbox sends back is weighed as trusted code would see it, every reference counted,
  before any trusted code reads it: a list of 12,000 references to one 256 KiB array (3 GB once
  a probe turns it into an array) fails its case unread, and the judging stays small.
- The judging of one student has a CPU deadline of its own.
- A grading process that dies costs only its cause: everyone it held is graded again, on a
  fresh process, with the result an undisturbed run gives; the one whose judging kills the
  process gets rows and feedback that say the grader could not judge it, and the run's exit
  status and summary tell the instructor."""

import csv
import os
import signal
import subprocess
import sys
import textwrap

from grader.__main__ import NOT_ALL_JUDGED, main
from grader.judge import UNJUDGEABLE, judge_notebook
from grader.sandbox import GRADING, Limits

from .conftest import load_sample_class_builder

build = load_sample_class_builder()
ASSIGNMENT, NOTEBOOK = "03_pooling", "pooling"

BOMB = '''
import json
import numpy as np
import grader.sandbox.protocol as P

CALLS = []
_real = P.frames

def _bomb(header, values=()):  # after the public cases: db as 12,000 references to one array
    parts = _real(header, values)
    if header.get("type") == "result" and header.get("status") == "ok" and len(CALLS) > 6:
        described = json.loads(parts[0])
        items = described["values"][0]["items"]
        items[2] = {"kind": "list", "items": [{"kind": "array", "blob": len(parts) - 1}] * 12000}
        described["blobs"] += 1
        return [json.dumps(described).encode(), *parts[1:], P._array_bytes(np.zeros(32768))]
    return parts

P.frames = _bomb

def conv_backward_naive(dout, cache):
    CALLS.append(1)
    x, w, b, conv_param = cache
    return np.zeros_like(x), np.zeros_like(w), np.zeros_like(b)
'''


def test_a_list_bomb_fails_its_case_unread_and_the_judging_stays_small():
    script = textwrap.dedent(f"""
        import resource
        from grader.judge import judge_notebook
        result = judge_notebook([], [("cell-1", {BOMB!r})], ["conv_backward"], seed=1)
        assert not any(v.passed for v in result.verdicts["conv_backward"])
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[-1]) < 2000  # MB at peak; 3 GB and more unbounded


def test_one_students_judging_has_a_cpu_deadline_of_its_own():
    source = "def max_pool_forward_naive(x, pool_param):\n    return x, None\n"
    result = judge_notebook([], [("cell-1", source)], ["max_pool_forward"], seed=1,
                            limits=Limits(judge_cpu_seconds=0))
    verdicts = result.verdicts["max_pool_forward"]
    assert verdicts and all(v.problems == ["not run: the grader's own time for judging this "
                                           "student ran out"] for v in verdicts)


def _class(root, students):
    for student, source in students.items():
        target = root / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
        target.parent.mkdir(parents=True)
        target.write_bytes((build.EXAMPLES / source / ASSIGNMENT / f"{NOTEBOOK}.ipynb").read_bytes())
    return root


def _run(submissions, out):
    return main(["autograde", str(submissions), "--course", str(build.ROOT), "--out", str(out),
                 "--seed", "5", "--no-progress", "--assignment", ASSIGNMENT, "--jobs", "2"])


def _rows(out):
    with open(out / "grades.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_dying_grading_process_costs_only_its_cause(tmp_path, monkeypatch, capsys):
    honest = {"ada": "ada", "ben": "ben", "cleo": "cleo", "dev": "dev", "eve": "eve"}
    assert _run(_class(tmp_path / "alone", honest), tmp_path / "reference") == 0
    reference = _rows(tmp_path / "reference")

    # mallory's judging kills its process every time (as the OOM killer would); ben's
    # process is killed once from outside, mid-student. Pool processes are forks of this one.
    import grader.judge.student as student_module

    real = student_module.judge_notebook
    once = tmp_path / "ben-killed-once"

    def dying(*args, **kwargs):
        if GRADING.get() == "mallory" or (GRADING.get() == "ben" and not once.exists()):
            once.touch()
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)

    monkeypatch.setattr(student_module, "judge_notebook", dying)
    submissions = _class(tmp_path / "class", {**honest, "mallory": "ada"})
    capsys.readouterr()
    assert _run(submissions, tmp_path / "out") == NOT_ALL_JUDGED
    printed = capsys.readouterr().out
    rows = _rows(tmp_path / "out")
    assert [r for r in rows if r["student_id"] != "mallory"] == reference  # as if undisturbed
    assert {r["status"] for r in rows if r["student_id"] == "mallory"} == {"error"}
    page = (tmp_path / "out" / "feedback" / "mallory" / ASSIGNMENT / f"{NOTEBOOK}.html").read_text()
    assert "could not judge this submission" in page and UNJUDGEABLE[:40] in page
    assert "NOT JUDGED: 1 student" in printed and "mallory" in printed.split("NOT JUDGED")[1]

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{tmp_path / 'out' / 'gradebook.db'}") as gradebook:
        recorded = {s.student_id: s.score for s in gradebook.assignment_submissions(ASSIGNMENT)}
    totals = {}
    for row in reference:
        if row["score"]:
            totals[row["student_id"]] = totals.get(row["student_id"], 0) + float(row["score"])
    assert recorded == {s: round(t, 2) for s, t in totals.items()}  # mallory's not recorded
