"""nbgrader's own machinery, driven in-process: generate, autograde, gradebook.

The autograde step here never executes a notebook (``Execute.enabled = False``):
nbgrader restores edited or deleted test cells, checks the cell metadata and
records the submission and every graded cell in its gradebook. The scores of
the test cells are then set from the trusted grader's verdicts.
"""

import logging
import os
import shutil
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "solutions"
RELEASE = REPO / "notebooks"
EXAMPLES = REPO / "examples" / "submitted"  # the sample class the demo and the benchmark grade


def _quiet_nbgrader():
    logging.getLogger("traitlets").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="nbgrader")
    warnings.filterwarnings("ignore", message=".*not in session.*")


def _config(root, db_url, source="source", release="release", execute=False):
    from traitlets.config import Config

    config = Config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.source_directory = source
    config.CourseDirectory.release_directory = release
    config.CourseDirectory.course_id = "conv-course"
    config.CourseDirectory.db_url = db_url
    # Our autograde never runs student code in this process; nbgrader's own
    # (execute=True) is kept for the tests that compare with it.
    config.Execute.enabled = execute
    config.ExecutePreprocessor.timeout = 120
    config.OverwriteCells.add_missing_cells = True  # deleted test cells come back
    config.ClearOutput.enabled = True
    config.Application.log_level = "ERROR"
    return config


def _api(config):
    from nbgrader.apps import NbGraderAPI

    _quiet_nbgrader()
    os.environ["PATH"] = environment_path()  # nbgrader runs `alembic` as a subprocess
    api = NbGraderAPI(config=config)
    api.log.setLevel(logging.ERROR)
    return api


def assignments():
    """The course's assignments, as folders of solutions/."""
    return sorted(p.name for p in SOURCE.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


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


def release(destination=RELEASE, force=False):
    """Regenerate the student notebooks from solutions/ with nbgrader generate_assignment.

    Runs in a scratch course directory so the repository's gradebook is never touched,
    then replaces each ``destination/<assignment>`` folder. A notebook there that holds
    work (outputs, or filled-in solution cells) is never replaced unless ``force``.
    """
    import tempfile

    destination = Path(destination)
    if not force:
        busy = [p for a in assignments() for p in sorted((destination / a).glob("*.ipynb"))
                if _holds_work(p)]
        if busy:
            raise WorkWouldBeLost(
                "these notebooks hold work (outputs or filled-in solutions) that a release "
                "would overwrite:\n  " + "\n  ".join(str(p) for p in busy)
                + "\nMove them elsewhere, or release with --force to replace them."
            )

    with tempfile.TemporaryDirectory(prefix="release-") as scratch:
        root = Path(scratch)
        shutil.copytree(SOURCE, root / "source")
        api = _api(_config(root, f"sqlite:///{root / 'gradebook.db'}"))
        for assignment in assignments():
            result = api.generate_assignment(assignment)
            if not result["success"]:
                raise RuntimeError(f"nbgrader could not release {assignment}:\n{result['log']}")
        for assignment in assignments():
            target = destination / assignment
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(root / "release" / assignment, target)
            for path in target.rglob("*"):
                path.chmod(0o644 if path.is_file() else 0o755)
    return destination


class Course:
    """A scratch nbgrader course directory whose gradebook lives at ``db_url``."""

    def __init__(self, root, db_url):
        self.root = Path(root)
        self.db_url = db_url
        self.api = None

    def prepare(self):
        """Copy the course's source notebooks in and record them in the gradebook."""
        if (self.root / "source").exists():
            shutil.rmtree(self.root / "source")
        shutil.copytree(SOURCE, self.root / "source")
        self.api = _api(_config(self.root, self.db_url))
        for assignment in assignments():
            result = self.api.generate_assignment(assignment)
            if not result["success"]:
                raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n"
                                   f"{result['log']}")

    def connect(self):
        """A fresh API handle, for a worker process that inherited this object."""
        self.api = _api(_config(self.root, self.db_url))

    def submit(self, student, assignment, notebooks):
        """Place a student's notebooks where nbgrader looks for them."""
        folder = self.root / "submitted" / student / assignment
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        for name, path in notebooks.items():
            shutil.copy(path, folder / f"{name}.ipynb")

    def autograde(self, student, assignment):
        """nbgrader autograde without execution; returns None, or nbgrader's error text."""
        for attempt in range(5):
            result = self.api.autograde(assignment, student)
            if result["success"]:
                return None
            if "database is locked" not in (result.get("log") or "") or attempt == 4:
                return _last_error(result.get("log") or result.get("error") or "unknown error")
            time.sleep(0.2 * (attempt + 1))  # sqlite lets one writer in at a time
        return None

    def record(self, student, assignment, scores):
        """Set the auto scores of test cells: scores maps (notebook, grade_id) -> points."""
        from nbgrader.api import Gradebook, MissingEntry

        for attempt in range(5):
            try:
                with Gradebook(self.db_url, "conv-course") as gradebook:
                    for (notebook, grade_id), score in scores.items():
                        try:
                            grade = gradebook.find_grade(grade_id, notebook, assignment, student)
                        except MissingEntry:
                            continue
                        grade.auto_score = score
                        grade.needs_manual_grade = False
                    gradebook.db.commit()
                return
            except Exception as error:  # sqlite "database is locked": try again shortly
                if "locked" not in str(error) or attempt == 4:
                    raise
                time.sleep(0.2 * (attempt + 1))


def _last_error(log):
    lines = [line for line in str(log).splitlines() if line.strip()]
    errors = [line for line in lines if "ERROR" in line or "Error" in line]
    return (errors or lines or ["unknown error"])[-1][:300]


def graded_cells(notebook):
    """[(grade_id, points, kind)] of a course notebook: kind "test" or "manual"."""
    cells = []
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            kind = "manual" if meta.get("solution") else "test"
            cells.append((meta["grade_id"], float(meta.get("points", 0)), kind))
    return cells


def environment_path():
    """PATH with this interpreter's bin first: nbgrader runs `alembic` as a subprocess."""
    import sys

    bin_dir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    return path if path.split(os.pathsep)[0] == bin_dir else os.pathsep.join([bin_dir, path])
