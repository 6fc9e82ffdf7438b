"""The grader as a Gradescope autograder (``run_autograder`` calls ``python -m grader export``):
find the uploaded notebook by its graded cells, grade it, write Gradescope's results.json.

Schema: https://gradescope-autograders.readthedocs.io/en/latest/specs/
"""

import json
from pathlib import Path

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")


def _grade_ids(notebook):
    return {c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in notebook.cells} - {None}


def match_upload(folder, course_dir, assignment=None):
    """Which course notebook each uploaded notebook is, judged by the grade ids it shares with
    each (file names change: "conv_forward (1).ipynb"); with ``assignment``, notebooks of
    other assignments are set aside. Returns ({(assignment, notebook): path}, [messages])."""
    import nbformat

    course = {}
    for name in course_dir.assignments():
        for notebook, path in course_dir.notebook_paths(name).items():
            course[name, notebook] = _grade_ids(nbformat.read(str(path), as_version=4))
    matched, overlap, messages = {}, {}, []
    for path in sorted(Path(folder).rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        try:
            ids = _grade_ids(nbformat.read(str(path), as_version=4))
        except Exception:  # noqa: BLE001 - any unreadable upload gets the same sentence
            messages.append(f"{path.name} is not a readable notebook, so it was not graded.")
            continue
        key, shared = max(((k, len(ids & v)) for k, v in course.items()), key=lambda kv: kv[1],
                          default=(None, 0))
        if not shared:
            messages.append(f"{path.name} is not a notebook of this course, so it was not graded.")
        elif assignment and key[0] != assignment:
            messages.append(f"{path.name} is the notebook of {key[0]}, not of {assignment}, "
                            f"so it was not graded here.")
        elif shared > overlap.get(key, 0):
            matched[key], overlap[key] = path, shared
    return matched, messages


def missing_message(assignment, notebooks):
    names = ", ".join(f"{n}.ipynb" for n in notebooks)
    return (f"Your upload holds no notebook of {assignment}, so it scores 0. Upload the notebook "
            f"you worked in ({names}); its file name does not matter.")


def student_from_metadata(path):
    """The submitter's Gradescope user id, from submission_metadata.json (None without one)."""
    try:
        users = json.loads(Path(path).read_text(encoding="utf-8")).get("users") or []
    except (OSError, ValueError):
        return None
    found = (users[0].get("id") or users[0].get("email")) if users and isinstance(users[0], dict) else None
    return str(found) if found else None  # never the string "None"


def results(student_result, visibility="visible", seed=None, messages=()):
    """The results.json document for one StudentResult."""
    tests = []
    for row in student_result.rows:
        _, assignment, notebook, grade_id, score, max_score, status = row
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
    document = {
        "score": round(sum(t["score"] for t in tests), 2),
        "output": "\n".join([*messages, summary]),
        "visibility": visibility,
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    return document


def write(student_result, path, visibility="visible", seed=None, messages=()):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(results(student_result, visibility, seed, messages), handle, indent=2)
