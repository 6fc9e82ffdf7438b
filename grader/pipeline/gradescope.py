"""Gradescope's results.json for one student, so the grader can run as a
Gradescope autograder (its ``run_autograder`` calls ``python -m grader export``).

Schema: https://gradescope-autograders.readthedocs.io/en/latest/specs/
"""

import json

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")


def results(student_result, visibility="visible", seed=None):
    """The results.json document for one StudentResult."""
    tests = []
    for row in student_result.rows:
        _, assignment, notebook, grade_id, score, max_score, status = row
        if status == "needs manual grading":
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
    document = {
        "score": round(sum(t["score"] for t in tests), 2),
        "output": f"Autograded {len(tests)} tests"
                  + (f" (hidden cases seed {seed})" if seed is not None else "") + ".",
        "visibility": visibility,
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    return document


def write(student_result, path, visibility="visible", seed=None):
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(results(student_result, visibility, seed), handle, indent=2)
