"""One student's upload, as Gradescope hands it over: which course notebook each uploaded file
is (by its graded cells, whatever its name), and who submitted it."""

import datetime
import json
from pathlib import Path


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


MAX_METADATA_BYTES = 1 << 20  # Gradescope's file is a few kB, however many earlier submissions


def _metadata(path):
    """Gradescope's submission_metadata.json as a dict, read within its bound; {} otherwise."""
    try:
        with open(path, "rb") as handle:
            data = json.loads(handle.read(MAX_METADATA_BYTES + 1)[:MAX_METADATA_BYTES])
    except (OSError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def student_from_metadata(path):
    """The submitter's Gradescope user id, from submission_metadata.json (None without one)."""
    users = _metadata(path).get("users") or []
    found = (users[0].get("id") or users[0].get("email")) \
        if isinstance(users, list) and users and isinstance(users[0], dict) else None
    return str(found) if found else None  # never the string "None"


def seconds_late_from_metadata(path):
    """How late Gradescope's submission_metadata.json says this submission is: its
    ``created_at`` (Gradescope's clock, not the student's) past ``assignment.due_date``;
    0.0 without a due date or a readable file."""
    data = _metadata(path)
    try:
        created = datetime.datetime.fromisoformat(data["created_at"])
        due = datetime.datetime.fromisoformat(data["assignment"]["due_date"])
        return max(0.0, (created - due).total_seconds())
    except (ValueError, KeyError, TypeError):
        return 0.0
