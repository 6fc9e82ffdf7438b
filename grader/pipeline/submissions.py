"""Find each student's notebooks in whatever layout an instructor has.

- nbgrader's: ``SUBMISSIONS/<student_id>/<assignment>/<notebook>.ipynb``;
- for one assignment (``--assignment``): a flat folder of ``<student_id>.ipynb``
  files, or an LMS zip of them.
"""

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .course import current

STUDENT_ID = re.compile(r"^[A-Za-z0-9_.@+-]{1,100}$")


class SubmissionError(ValueError):
    pass


@dataclass
class StudentWork:
    student: str
    notebooks: dict = field(default_factory=dict)  # (assignment, notebook) -> Path


def notebook_names(assignment):
    return sorted(current().notebook_paths(assignment))


def _checked_id(name, where):
    if not STUDENT_ID.match(name):
        raise SubmissionError(f"{where}: {name!r} is not a usable student id (letters, digits "
                              f"and _ . @ + - only)")
    return name


def _flat(files, assignment):
    names = notebook_names(assignment)
    if len(names) != 1:
        raise SubmissionError(f"assignment {assignment!r} has {len(names)} notebooks; a flat "
                              f"folder or zip needs nbgrader's layout instead")
    works = {}
    for path in sorted(files):
        student = _checked_id(path.stem, str(path))
        works.setdefault(student, StudentWork(student)).notebooks[(assignment, names[0])] = path
    return list(works.values())


def collect(path, assignment=None, scratch=None):
    """Every student's work under ``path``; a zip is unpacked into ``scratch``."""
    path = Path(path)
    if not path.exists():
        raise SubmissionError(f"SUBMISSIONS {path} does not exist")
    if path.is_file() and zipfile.is_zipfile(path):
        if assignment is None:
            raise SubmissionError("a zip of notebooks needs --assignment to say which one it holds")
        target = Path(scratch) / "unzipped"
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.namelist() if m.endswith(".ipynb")
                       and not m.startswith(("__MACOSX", "/")) and ".." not in m]
            for member in members:
                destination = target / Path(member).name
                destination.parent.mkdir(parents=True, exist_ok=True)
                destination.write_bytes(archive.read(member))
        return _flat(target.glob("*.ipynb"), assignment)
    if not path.is_dir():
        raise SubmissionError(f"SUBMISSIONS must be a folder or a zip, got {path}")
    flat_files = list(path.glob("*.ipynb"))
    if flat_files:
        if assignment is None:
            raise SubmissionError(f"{path} holds notebooks directly: pass --assignment to say "
                                  f"which assignment they are")
        return _flat(flat_files, assignment)
    works = []
    # Hidden folders (.git, ...) and an earlier run's output folder are not students.
    for student_dir in sorted(p for p in path.iterdir() if p.is_dir()
                              and not p.name.startswith(".") and not (p / "grades.csv").exists()):
        work = StudentWork(_checked_id(student_dir.name, str(student_dir)))
        for assignment_dir in sorted(p for p in student_dir.iterdir() if p.is_dir()):
            if assignment and assignment_dir.name != assignment:
                continue
            for notebook in sorted(assignment_dir.glob("*.ipynb")):
                work.notebooks[(assignment_dir.name, notebook.stem)] = notebook
        works.append(work)
    if not works:
        raise SubmissionError(f"no submissions found in {path}: expected "
                              f"<student_id>/<assignment>/<notebook>.ipynb")
    return works
