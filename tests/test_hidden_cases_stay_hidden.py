"""Hidden cases stay hidden, student ids are exact, and what the trusted side reads of a
submission is bounded before anything parses it.

- hidden inputs come from all 256 bits of the seed's hash, and run last, in a fresh worker
  after which nothing of the student's runs: a function that remembers a hidden input has no
  later call whose feedback could show it;
- a hidden case's feedback carries nothing the student's code chose: not its message, not its
  exception type, not which input it changed;
- a folder named ``vic\\n`` is not the classmate ``vic`` (nbgrader would strip it);
- oversized notebooks (cells, JSON values), assignment folders (files) and timestamps cost
  only their owner's rows, and never reach nbgrader (a submission with an oversized
  timestamp.txt is recorded with the time it was collected: tests/test_lateness.py)."""

import csv
import json
import os
import shutil

import nbformat
import numpy as np
import pytest

from grader.__main__ import main
from grader.collect import StudentWork, take_notebook
from grader.collect.submissions import (MAX_CELLS, MAX_ENTRIES, MAX_NESTING,
                                        MAX_TIMESTAMP_BYTES, unusable_id)
from grader.diagnosis.tasks import TASKS
from grader.judge import code_fingerprint, code_seed, judge_notebook
from grader.judge.calls import SEALED_WRONG
from grader.sandbox import StudentSandbox

from .conftest import load_sample_class_builder

build = load_sample_class_builder()
ASSIGNMENT, NOTEBOOK = "03_pooling", "pooling"
HONEST = build.EXAMPLES / "ada" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"

MAX_POOL = '''
import numpy as np

SEEN = []

def max_pool_forward_naive(x, pool_param):
    SEEN.append(repr(x.ravel()[:2].tolist()))
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    out = np.zeros((N, C, 1 + (H - ph) // s, 1 + (W - pw) // s))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            out[:, :, i, j] = x[:, :, i * s:i * s + ph, j * s:j * s + pw].max(axis=(2, 3))
    return out, (x, pool_param)
'''
REMEMBERS = MAX_POOL + '''
def max_pool_backward_naive(dout, cache):
    raise ValueError("SEEN" + " ".join(SEEN))  # probed too: a failing task gets a ladder

def avg_pool_forward_naive(x, pool_param):
    raise ValueError("SEEN" + " ".join(SEEN))
'''


def hidden_values(task, seed):
    """Text of the first values of each hidden input, as the student's code would show them."""
    return [repr(case.inputs["x"].ravel()[:2].tolist())[1:12]
            for case in TASKS[task].make_cases(hidden=True, seed=seed)]


def everything_said(result):
    lines = list(result.notes)
    for task, verdicts in result.verdicts.items():
        lines += [p for v in verdicts for p in v.problems]
        lines += [f.sentence for f in result.findings.get(task, [])]
    return "\n".join(lines)


def test_a_remembered_hidden_input_has_no_later_call_to_show_it_in():
    tasks = ["max_pool_forward", "max_pool_backward", "avg_pool_forward"]
    result = judge_notebook([], [("cell-1", REMEMBERS)], tasks, seed=11)
    said = everything_said(result)
    assert "SEEN" in said  # the remembering code did run and speak, on public inputs
    public = [repr(c.inputs["x"].ravel()[:2].tolist())[1:12]
              for c in TASKS["max_pool_forward"].make_cases(hidden=False)]
    assert any(value in said for value in public)
    assert all(v.passed for v in result.verdicts["max_pool_forward"])
    for value in hidden_values("max_pool_forward", 11):
        assert value not in said


def test_the_hidden_cases_run_in_a_fresh_worker_of_their_own(tmp_path, monkeypatch):
    log = tmp_path / "starts"
    monkeypatch.setenv("CONV_GRADER_WORKER_LOG", str(log))
    result = judge_notebook([], [("cell-1", MAX_POOL)], ["max_pool_forward"], seed=2)
    assert all(v.passed for v in result.verdicts["max_pool_forward"])
    assert len(log.read_text().splitlines()) == 2  # public cases, then hidden ones


def test_a_sandbox_whose_worker_saw_hidden_inputs_is_never_used_again():
    """State the template's clean check cannot see (IPv6 flow labels, kernel counters) must
    not reach the student's next notebook, whose feedback is not sealed."""
    host = StudentSandbox()
    try:
        judge_notebook([], [("cell-1", MAX_POOL)], ["max_pool_forward"], seed=2, host=host)
        assert host.sandbox is None
    finally:
        host.close()


PUBLIC_POOL_SIZES = tuple(c.inputs["x"].size for c in TASKS["max_pool_forward"].make_cases())
WRONG_BY_CHOICE = MAX_POOL.replace("return out, (x, pool_param)", f"""
    if x.size not in {PUBLIC_POOL_SIZES}:
        r = [1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6][int(abs(x.flat[0]) * 1e6) % 6]
        return out * (1 + 2 * r / (1 - r)), (x, pool_param)  # rel_error r: a digit it chose
    return out, (x, pool_param)""")


@pytest.mark.parametrize("channel,source,marker", [
    ("a rel_error", WRONG_BY_CHOICE, "rel_error"),
    ("an exception type", "def max_pool_forward_naive(x, pool_param):\n"
                          "    raise ZeroDivisionError('x')\n", "ZeroDivisionError"),
    ("the input it changed", "def max_pool_forward_naive(x, pool_param):\n"
                             "    x[...] = 0\n    return x, None\n", "input x"),
])
def test_a_hidden_case_says_nothing_the_students_code_chose(channel, source, marker):
    verdicts = judge_notebook([], [("cell-1", source)], ["max_pool_forward"],
                              seed=4).verdicts["max_pool_forward"]
    public = "\n".join(p for v in verdicts if v.case.label.startswith("public") for p in v.problems)
    hidden = "\n".join(p for v in verdicts if v.case.label.startswith("hidden") for p in v.problems)
    hidden_verdicts = [v for v in verdicts if v.case.label.startswith("hidden")]
    assert hidden and not any(v.passed for v in hidden_verdicts)
    # however it went wrong, a hidden case says the same: the outcome is not a channel
    assert {tuple(v.problems) for v in hidden_verdicts} == {(SEALED_WRONG,)}
    assert marker not in hidden, channel
    if channel != "a rel_error":  # that one passes its public cases
        assert marker in public, channel


def test_every_bit_of_the_hash_seeds_the_hidden_cases():
    seed = code_seed("secret", ASSIGNMENT, code_fingerprint([MAX_POOL]))
    assert seed.bit_length() > 200
    low = seed % 2**32  # what a search over 32-bit seeds could find
    full = [c.inputs["x"] for c in TASKS["max_pool_forward"].make_cases(hidden=True, seed=seed)]
    cut = [c.inputs["x"] for c in TASKS["max_pool_forward"].make_cases(hidden=True, seed=low)]
    assert not any(a.shape == b.shape and np.allclose(a, b) for a, b in zip(full, cut))


def test_an_id_is_matched_whole_not_before_a_final_newline():
    assert unusable_id("vic") is None
    for name in ("vic\n", "vic\r\n", " vic", "vic "):
        assert unusable_id(name) is not None, repr(name)


def _cells(count):
    notebook = nbformat.read(str(HONEST), as_version=4)
    notebook.cells += [nbformat.v4.new_code_cell("") for _ in range(count)]
    return notebook


def test_oversized_notebooks_are_refused_before_anything_parses_them(tmp_path):
    path = tmp_path / "pooling.ipynb"
    nbformat.write(_cells(MAX_CELLS), str(path))
    work = StudentWork("mal")
    take_notebook(work, (ASSIGNMENT, NOTEBOOK), path, tmp_path / "scratch")
    assert f"more than {MAX_CELLS} cells" in work.refused[(ASSIGNMENT, NOTEBOOK)]
    values = {"cells": [], "metadata": {"x": [0] * 2_100_000}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(values))
    work = StudentWork("mal")
    take_notebook(work, (ASSIGNMENT, NOTEBOOK), path, tmp_path / "scratch")
    assert "JSON values" in work.refused[(ASSIGNMENT, NOTEBOOK)]
    # nbgrader writes its copy back indented, a line per level: deep nesting is quadratic
    text = json.dumps({"cells": [], "metadata": {"x": "[[["}, "nbformat": 4, "nbformat_minor": 5})
    path.write_text(text.replace('"x": "[[["', '"x": ' + "[" * 400 + "]" * 400))
    work = StudentWork("mal")
    take_notebook(work, (ASSIGNMENT, NOTEBOOK), path, tmp_path / "scratch")
    assert f"more than {MAX_NESTING} levels deep" in work.refused[(ASSIGNMENT, NOTEBOOK)]
    # cells are counted as a parser sees them: an escaped key counts too
    cell = '{"cell\\u005ftype": "raw", "metadata": {}, "source": ""}'
    path.write_text('{"cells": [' + ", ".join([cell] * (MAX_CELLS + 1)) + '], "metadata": {}, '
                    '"nbformat": 4, "nbformat_minor": 5}')
    work = StudentWork("mal")
    take_notebook(work, (ASSIGNMENT, NOTEBOOK), path, tmp_path / "scratch")
    assert f"more than {MAX_CELLS} cells" in work.refused[(ASSIGNMENT, NOTEBOOK)]


def test_out_of_bounds_folders_cost_only_their_owner_and_never_reach_nbgrader(tmp_path,
                                                                              monkeypatch):
    """Beside two honest classmates (one of them vic): a folder "vic\\n", a notebook of too
    many cells, an assignment folder of too many files, and a timestamp too long to read."""
    submitted = tmp_path / "submitted"
    for student in ("ada", "vic", "vic\n", "cells", "files", "clock"):
        (submitted / student / ASSIGNMENT).mkdir(parents=True)
        shutil.copy(HONEST, submitted / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    nbformat.write(_cells(MAX_CELLS), str(submitted / "cells" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"))
    for k in range(MAX_ENTRIES + 20):
        (submitted / "files" / ASSIGNMENT / f"extra{k}.ipynb").write_text("{}")
    (submitted / "clock" / ASSIGNMENT / "timestamp.txt").write_text(
        "2026-01-01 00:00:00" + " " * (MAX_TIMESTAMP_BYTES * 4))
    out, log = tmp_path / "out", tmp_path / "starts"
    monkeypatch.setenv("CONV_GRADER_WORKER_LOG", str(log))
    code = main(["autograde", str(submitted), "--course", str(build.ROOT), "--out", str(out),
                 "--seed", "5", "--no-progress", "--assignment", ASSIGNMENT])
    assert code == 3  # "vic\n" set aside, the rest graded
    # only the three in bounds ran in a sandbox: the others were refused before any worker
    assert {line.split()[0] for line in log.read_text().splitlines()} - {"-"} == \
        {"ada", "vic", "clock"}
    with open(out / "grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    totals = {}
    for row in rows:
        if row["score"]:
            totals[row["student_id"]] = totals.get(row["student_id"], 0) + float(row["score"])
    assert totals["ada"] == totals["vic"] == totals["clock"] == 20  # full marks, all three
    assert totals["cells"] == totals["files"] == 0
    assert {r["status"] for r in rows if r["student_id"] in ("cells", "files")} == {"error"}
    page = (out / "feedback" / "files" / ASSIGNMENT / f"{NOTEBOOK}.html").read_text()
    assert f"more than {MAX_ENTRIES} files and folders" in page
    assert "more than" in (out / "feedback" / "cells" / ASSIGNMENT / f"{NOTEBOOK}.html").read_text()
    assert "'vic\\n' is not a usable student id" in (out / "not_graded.txt").read_text()

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gradebook:
        recorded = {s.student_id: s.score for s in gradebook.assignment_submissions(ASSIGNMENT)}
    # Every honest classmate's gradebook equals grades.csv; nothing out of bounds was recorded
    # (clock's timestamp.txt never reached nbgrader: the scratch course holds its collected time).
    assert recorded == {"ada": 20, "vic": 20, "clock": 20}
    assert not os.path.exists(out / "feedback" / "vic\n")
