"""Gradescope's results.json for one graded upload (``run_autograder`` calls
``python -m grader export``; the upload is matched in collect/uploads.py).

Schema: https://gradescope-autograders.readthedocs.io/en/latest/specs/
"""

import json
from pathlib import Path

from .grades import LATE_PENALTY

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")


def results(student_result, visibility="visible", seed=None, messages=()):
    """The results.json document for one StudentResult."""
    tests, late = [], []
    for _, assignment, notebook, grade_id, score, max_score, status in student_result.rows:
        if grade_id == LATE_PENALTY:  # taken off the total, as nbgrader's export does
            late.append((-float(score), status, f"{assignment}/{notebook}"))
            continue
        if status == "needs manual grading" or score == "":
            continue  # written answers are graded by hand on Gradescope
        output = student_result.reports.get((assignment, notebook, grade_id), status)
        if float(max_score) > 0:
            passed = float(score or 0) >= float(max_score)
        else:  # an ungraded (0-point) optional task: its report says whether every case passed
            passed = status == "graded" and "(all passed)" in output
        tests.append({
            "name": f"{assignment}/{notebook}: {grade_id}",
            "score": float(score or 0),
            "max_score": float(max_score),
            "status": "passed" if passed else "failed",
            "output": output,
            "visibility": visibility,
        })
    summary = f"Autograded {len(tests)} tests" + (
        f" (hidden cases seed {seed})" if seed is not None else "") + "."
    earned = sum(t["score"] for t in tests)
    taken = sum(points for points, _, _ in late)
    said = [f"Late penalty: -{points:g} points on {where} ({status.removeprefix('late penalty (')[:-1]}, "
            f"as the course's late-submission rule sets it). Your score: "
            f"{max(0.0, earned - taken):g}." for points, status, where in late]
    document = {
        "score": round(max(0.0, earned - taken), 2),
        "output": "\n".join([*messages, *said, summary]),
        "visibility": visibility,
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    return document


def write(student_result, path, visibility="visible", seed=None, messages=()):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(results(student_result, visibility, seed, messages), handle, indent=2)


NOT_GRADED = ("The autograder could not grade this upload, so its score of 0 is not a grade: "
              "the problem is in the grading set-up, not in your work. Your instructor sees "
              "this message and the reason below; resubmit once they say it is fixed.")


def write_failure(path, reason, visibility="visible"):
    """results.json for an upload that was not graded (the sandbox refused to start, the
    course is broken, the grader crashed): the student reads why, never a bare failure."""
    document = {"score": 0.0, "output": f"{NOT_GRADED}\n\nReason: {reason}",
                "visibility": visibility, "stdout_visibility": "hidden", "tests": []}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2)
