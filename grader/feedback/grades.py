"""What a run leaves in OUT: grades.csv, a feedback page per notebook, and the list of
submissions that could not be graded; each file whole or not at all."""

import csv
import io
import os
import tempfile
from typing import NamedTuple

from ..collect import listing

NOT_GRADED = "not_graded.txt"
LATE_PENALTY = "late_penalty"  # grade_id of a row taking points off for lateness  # in OUT, only while some submission could not be graded
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class Row(NamedTuple):
    """One graded cell: a line of grades.csv."""

    student_id: str
    assignment: str
    notebook: str
    grade_id: str
    score: object  # a number, or "" for a written answer left to the instructor
    max_score: float
    status: str  # graded, missing, error, needs manual grading, late penalty (...)


COLUMNS = list(Row._fields)


def csv_cell(value):
    """A cell a spreadsheet shows as text, never runs as a formula (OWASP: CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_atomically(path, text):
    """Write ``path`` whole or not at all: a temporary file beside it, renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def not_graded_text(unusable):
    """What OUT/not_graded.txt and the end of the printed summary say about ``unusable``."""
    count = f"{len(unusable)} submission{'s' if len(unusable) > 1 else ''}"
    return (f"NOT GRADED: {count}, set aside before grading (nothing in them was read or "
            f"changed):\n{listing(unusable)}\nThen run the same command again with --resume: "
            f"everyone graded is kept, and only the rest is graded.\n")


def write_outputs(out, results, unusable=()):
    """grades.csv and the feedback pages of ``results`` (StudentResults) in ``out``, and
    OUT/not_graded.txt while some submissions are ``unusable``."""
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(COLUMNS)
    for result in results:
        writer.writerows([csv_cell(c) for c in row] for row in result.rows)
    for result in results:
        for (assignment, name), page in result.pages.items():
            write_atomically(out / "feedback" / result.student / assignment / f"{name}.html", page)
    write_atomically(out / "grades.csv", table.getvalue())
    if unusable:
        write_atomically(out / NOT_GRADED, not_graded_text(unusable))
    else:  # an earlier run's list, fixed since
        (out / NOT_GRADED).unlink(missing_ok=True)
