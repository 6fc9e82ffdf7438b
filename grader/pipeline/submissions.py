"""Find each student's notebooks in whatever layout an instructor has.

- nbgrader's: ``SUBMISSIONS/<student_id>/<assignment>/<notebook>.ipynb``;
- for one assignment (``--assignment``): a flat folder of ``<student_id>.ipynb``
  files, or an LMS zip of them.

Only regular files are read, each once, into the run's scratch folder, and
everything after reads those copies: a symbolic link (to a classmate's notebook
or /etc/passwd), a FIFO or a device in a student's folder is refused with a
reason on the feedback page, and the submissions folder is never written.
"""

import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .course import current

STUDENT_ID = re.compile(r"^[A-Za-z0-9_@+-][A-Za-z0-9_.@+-]{0,99}$")
MAX_NOTEBOOK_BYTES = 64 * 1024**2


class SubmissionError(ValueError):
    pass


@dataclass
class StudentWork:
    student: str
    notebooks: dict = field(default_factory=dict)  # (assignment, notebook) -> Path
    # Why a submitted file was not read: (assignment, notebook) -> reason; the key
    # (assignment, None) covers a whole assignment folder, (None, None) the student's.
    refused: dict = field(default_factory=dict)

    def refusal(self, assignment, notebook):
        return (self.refused.get((assignment, notebook)) or self.refused.get((assignment, None))
                or self.refused.get((None, None)))


def _kind(mode):
    return ("a symbolic link" if stat.S_ISLNK(mode) else "a FIFO" if stat.S_ISFIFO(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")


def copy_regular(source, target):
    """Copy ``source`` to ``target`` if it is a regular file (not a link, FIFO or
    device) of at most MAX_NOTEBOOK_BYTES; otherwise return the reason it is not."""
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as error:
        if os.path.islink(source):
            return f"{Path(source).name} is a symbolic link, not a notebook file"
        return f"{Path(source).name} could not be opened: {error.strerror}"
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return f"{Path(source).name} is {_kind(info.st_mode)}, not a notebook file"
        if info.st_size > MAX_NOTEBOOK_BYTES:
            return f"{Path(source).name} is larger than {MAX_NOTEBOOK_BYTES >> 20} MiB"
        data = handle.read(MAX_NOTEBOOK_BYTES + 1)[:MAX_NOTEBOOK_BYTES]
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    Path(target).write_bytes(data)
    return None


def upload_copy(folder, target):
    """Every regular ``*.ipynb`` file under ``folder`` (links, FIFOs and devices refused, linked
    folders never entered), copied under ``target``; returns (target, [why each was refused])."""
    refused = []
    for index, (root, dirs, files) in enumerate(os.walk(folder, followlinks=False)):
        dirs[:] = sorted(d for d in dirs if d != ".ipynb_checkpoints")
        for name in sorted(f for f in files if f.endswith(".ipynb")):
            reason = copy_regular(Path(root) / name, Path(target) / str(index) / name)
            if reason:
                refused.append(f"{reason}, so it was not graded.")
    Path(target).mkdir(parents=True, exist_ok=True)
    return Path(target), refused


def _real_dirs(folder):
    """Sub-folders of ``folder`` and the links among its entries (never followed)."""
    entries = sorted(folder.iterdir())
    return ([p for p in entries if not p.is_symlink() and p.is_dir()],
            [p for p in entries if p.is_symlink()])


def notebook_names(assignment):
    return sorted(current().notebook_paths(assignment))


def _checked_id(name, where):
    if not STUDENT_ID.match(name):
        raise SubmissionError(f"{where}: {name!r} is not a usable student id (letters, digits "
                              f"and _ . @ + - only, not starting with a dot)")
    return name


def take_notebook(work, key, source, scratch):
    """Record ``source`` as ``work``'s notebook ``key`` by a safe copy into ``scratch``."""
    target = Path(scratch) / "collected" / work.student / key[0] / f"{key[1]}.ipynb"
    reason = copy_regular(source, target)
    if reason:
        work.refused[key] = reason
    else:
        work.notebooks[key] = target


def _flat(files, assignment, scratch):
    names = notebook_names(assignment)
    if len(names) != 1:
        raise SubmissionError(f"assignment {assignment!r} has {len(names)} notebooks; a flat "
                              f"folder or zip needs nbgrader's layout instead")
    works = {}
    for path in sorted(files):
        student = _checked_id(path.stem, str(path))
        take_notebook(works.setdefault(student, StudentWork(student)), (assignment, names[0]), path, scratch)
    return list(works.values())


def collect(path, assignment=None, scratch=None):
    """Every student's work under ``path``, copied into ``scratch`` (a zip unpacked
    there); without ``scratch``, a temporary folder that lives as long as the process."""
    if scratch is None:
        import tempfile

        scratch = tempfile.mkdtemp(prefix="collected-")
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
        return _flat(target.glob("*.ipynb"), assignment, scratch)
    if not path.is_dir():
        raise SubmissionError(f"SUBMISSIONS must be a folder or a zip, got {path}")
    flat_files = list(path.glob("*.ipynb"))
    if flat_files:
        if assignment is None:
            raise SubmissionError(f"{path} holds notebooks directly: pass --assignment to say "
                                  f"which assignment they are")
        return _flat(flat_files, assignment, scratch)
    works = []
    student_dirs, student_links = _real_dirs(path)
    # Hidden folders (.git, ...) and an earlier run's output folder are not students.
    for student_dir in student_dirs + student_links:
        if student_dir.name.startswith(".") or (student_dir / "grades.csv").exists():
            continue
        work = StudentWork(_checked_id(student_dir.name, str(student_dir)))
        works.append(work)
        if student_dir.is_symlink():
            work.refused[(None, None)] = (f"the folder {student_dir.name} is a symbolic link; "
                                          "only a real folder of your own notebooks is graded")
            continue
        assignment_dirs, assignment_links = _real_dirs(student_dir)
        for link in assignment_links:
            work.refused[(link.name, None)] = f"the folder {link.name} is a symbolic link"
        for assignment_dir in assignment_dirs:
            if assignment and assignment_dir.name != assignment:
                continue
            for notebook in sorted(assignment_dir.glob("*.ipynb")):
                take_notebook(work, (assignment_dir.name, notebook.stem), notebook, scratch)
            # nbgrader's submission time travels with the copies (late penalties read it);
            # a timestamp that is not a regular file is simply left behind.
            if (assignment_dir / "timestamp.txt").exists():
                copy_regular(assignment_dir / "timestamp.txt", Path(scratch) / "collected"
                             / work.student / assignment_dir.name / "timestamp.txt")
    if not works:
        raise SubmissionError(f"no submissions found in {path}: expected "
                              f"<student_id>/<assignment>/<notebook>.ipynb")
    return works
