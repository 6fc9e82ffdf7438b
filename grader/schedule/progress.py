"""``conv-grader progress [FOLDER]``: a self-learner's own notebooks graded as the course's
grader grades a class (the same checks and hidden cases, every call in the grader's sandbox),
without a course set-up: no gradebook, no secret file, no nbgrader. One table: each task's
points, what is left, and where to look (the notebook and the cell of the task's check).

The hidden cases' seed: ``--seed N``, else a fresh random one each run, printed with the table
so that ``--seed N`` draws the same hidden cases again.
"""

import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import nbformat

from ..collect import StudentWork, take_notebook
from ..judge import Run, grade_student
from ..sandbox import Limits, temporary_folder, verify

LEARNER = "you"


@dataclass(frozen=True)
class Line:
    """One row of the table."""

    assignment: str
    task: str  # a task, or a written question's grade id
    score: object  # a number, or "" for a written answer (not graded here)
    max_score: float
    left: str  # "done", or what is left in a few words
    where: str  # "FOLDER/assignment/name.ipynb, cell K (check_task)", or ""


def _cell_of(path, grade_id):
    """The 1-based number of the cell with ``grade_id`` in a notebook (read as data), or None."""
    try:
        cells = nbformat.read(str(path), as_version=4).cells
    except Exception:  # noqa: BLE001 - an unreadable notebook: its row says so already
        return None
    for number, cell in enumerate(cells, start=1):
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            return number
    return None


_POINTERS = ("Every failing", "Most failing", "likely mistake:", "where to look:")


def _left(report, status):
    """None when every case passes, else what is left in a few words: the cases passed and
    the report's first pointer to the bug (a report says of hidden cases only what the
    feedback page says)."""
    if status != "graded":
        return {"missing": "notebook not found", "error": "notebook could not be read"}.get(
            status, status)
    first, *rest = (report or "").split("\n")
    counted = re.search(r"(\d+)/(\d+) cases passed", first)
    if counted and counted.group(1) == counted.group(2):
        return None
    said = first.split(": ", 1)[1] if ": " in first else first
    said = said.replace(" (see the failing cases below)", "")
    pointer = next((line.strip() for line in rest if line.strip().startswith(_POINTERS)), "")
    pointer = pointer.split(" Fix: ")[0].split(". Look at ")[0]  # the check cell says the rest
    words = f"{said}; {pointer}" if pointer else said
    return words if len(words) <= 120 else words[:117] + "..."


def progress(folder, course, seed=None, limits=None):
    """Grade the notebooks in ``folder`` (laid out as notebooks/: one folder per assignment)
    against ``course`` (a gradebook.CourseDir). Returns ([Line], seed used, [assignments with no
    notebook there]). Raises sandbox.SandboxUnavailable when the sandbox cannot run."""
    limits = limits or Limits()
    verify(limits)
    folder = Path(folder)
    seed = secrets.randbits(32) if seed is None else seed
    work = StudentWork(LEARNER)
    lines, absent, found = [], [], {}
    with temporary_folder("export-") as scratch:  # a one-learner upload, as export grades it
        for assignment in course.assignments():
            paths = {name: folder / assignment / f"{name}.ipynb"
                     for name in course.notebook_paths(assignment)}
            present = {name: p for name, p in paths.items() if p.is_file()}
            if not present:
                absent.append(assignment)
                continue
            for name, path in present.items():
                found[(assignment, name)] = path
                take_notebook(work, (assignment, name), path, scratch)
        graded = tuple(sorted({a for a, _ in found}))
        result = grade_student(work, Run(seed, limits, graded, course.notebooks(graded)))
    for row in result.rows:
        path = found.get((row.assignment, row.notebook))
        if row.status == "needs manual grading":
            lines.append(Line(row.assignment, row.grade_id, "", row.max_score,
                              "written answer: compare with the model answer in solutions/", ""))
            continue
        task = row.grade_id.removeprefix("test_")
        left = _left(result.reports.get((row.assignment, row.notebook, row.grade_id)), row.status)
        number = None if left is None or path is None else _cell_of(path, f"check_{task}")
        where = f"{path}, cell {number} (check_{task})" if number else ""
        lines.append(Line(row.assignment, task, float(row.score or 0), row.max_score,
                          left or "done", where))
    return lines, seed, absent


def table(lines):
    """The lines as a plain-text table, with the total of the graded points."""
    head = ("assignment", "task", "points", "what is left", "first failing check")
    body = [(line.assignment, line.task,
             f"{line.score:g} / {line.max_score:g}" if line.score != "" else f"- / {line.max_score:g}",
             line.left, line.where) for line in lines]
    widths = [max(len(r[k]) for r in (head, *body)) for k in range(4)]
    text = ["  ".join(cell.ljust(w) for cell, w in zip(r[:4], widths)) + "  " + r[4]
            for r in (head, *body)]
    earned = sum(line.score for line in lines if line.score != "")
    possible = sum(line.max_score for line in lines if line.score != "")
    return "\n".join([line.rstrip() for line in text]
                     + [f"\ntotal: {earned:g} / {possible:g} points from the autograded tasks"])
