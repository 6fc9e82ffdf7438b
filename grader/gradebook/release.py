"""Releasing the student notebooks: nbgrader generate_assignment, never over someone's work."""

import shutil
import tempfile
from pathlib import Path

from .nbgrader_api import generate


def _holds_work(path):
    """Does a notebook hold someone's work: outputs, or a solution cell filled in?"""
    import nbformat

    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception:  # noqa: BLE001 - unreadable: not ours to judge, so keep it
        return True
    for cell in notebook.cells:
        if cell.get("outputs"):
            return True
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code" and "NotImplementedError" not in cell.source:
            return True
    return False


class WorkWouldBeLost(RuntimeError):
    pass


def release(course_dir, destination=None, force=False, register=True):
    """Regenerate the student notebooks with nbgrader generate_assignment, and (``register``)
    record every assignment in the course's gradebook, as generate_assignment does.

    nbgrader's own command skips an assignment whose release folder exists (a fresh clone),
    leaving the gradebook empty until autograde fails; this never skips. It generates in a
    scratch folder, then replaces each ``destination/<assignment>`` folder. A notebook there
    that holds work (outputs, or filled-in solution cells) is never replaced unless ``force``.
    """
    destination = Path(destination) if destination else course_dir.release
    if not force:
        busy = [p for a in course_dir.assignments() for p in sorted((destination / a).glob("*.ipynb"))
                if _holds_work(p)]
        if busy:
            raise WorkWouldBeLost(
                "these notebooks hold work (outputs or filled-in solutions) that a release "
                "would overwrite:\n  " + "\n  ".join(str(p) for p in busy)
                + "\nMove them elsewhere, or release with --force to replace them."
            )

    with tempfile.TemporaryDirectory(prefix="release-") as scratch:
        root = Path(scratch)
        generate(course_dir, root,
                 course_dir.db_url if register else f"sqlite:///{root / 'gradebook.db'}")
        for assignment in course_dir.assignments():
            target = destination / assignment
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(root / "release" / assignment, target)
            for path in target.rglob("*"):
                path.chmod(0o644 if path.is_file() else 0o755)
    return destination
