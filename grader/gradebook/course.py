"""The course, as nbgrader sees it.

Where the course is comes from nbgrader's own configuration: the ``nbgrader_config.py``
files of the Jupyter config path (a hub's per-course config) and of the course directory
(the working directory, or ``--course DIR``). From it come the course root, the source,
release and submitted folders, ``course_id`` and the gradebook. Assignment names are the
source folders; points come from the cells' metadata. The CourseDir is loaded once, by the
command line, and passed to whatever needs it: there is no "current course".
"""

import os
from dataclasses import dataclass
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[2]  # a source checkout (the demo's sample class lives here)
EXAMPLES = REPO / "examples" / "submitted"  # the sample class the demo and the benchmark grade


class CourseError(ValueError):
    """The course or one of its assignments cannot be found; the message says how to fix it."""


@dataclass(frozen=True)
class CourseDir:
    """One nbgrader course directory and its merged nbgrader configuration."""

    root: Path
    config: object  # traitlets Config, with CourseDirectory.root set

    def _coursedir(self):
        from nbgrader.coursedir import CourseDirectory

        return CourseDirectory(config=self.config)

    def _folder(self, trait):
        return self.root / getattr(self._coursedir(), trait)

    @property
    def source(self):
        return self._folder("source_directory")

    @property
    def release(self):
        return self._folder("release_directory")

    @property
    def submitted(self):
        return self._folder("submitted_directory")

    @property
    def course_id(self):
        return self._coursedir().course_id

    @property
    def db_url(self):
        return self._coursedir().db_url

    @property
    def exchange_inbound(self):
        """Where nbgrader's exchange keeps this course's submissions, ``{Exchange.root}/
        {course_id}/inbound``, the root as `nbgrader collect` takes it (the config's
        ``c.Exchange.root``, else nbgrader's default); None without a course id. It need not
        exist."""
        from nbgrader.exchange.default.exchange import Exchange

        course_id = self.course_id
        if not course_id:
            return None
        return Path(Exchange(config=self.config).root) / course_id / "inbound"

    def assignments(self):
        """The course's assignments: the source folders holding notebooks."""
        if not self.source.is_dir():
            raise CourseError(
                f"no course source folder {self.source}: run this from the course directory "
                f"(the one with nbgrader_config.py) or pass --course DIR")
        return sorted(p.name for p in self.source.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))

    def notebook_paths(self, assignment):
        """{notebook name: source path} of one assignment; unknown names are a clear error."""
        known = self.assignments()
        if assignment not in known:
            raise CourseError(f"unknown assignment {assignment!r}; the course in {self.root} "
                              f"has {known}")
        return {p.stem: p for p in sorted((self.source / assignment).glob("*.ipynb"))}

    def notebooks(self, assignments):
        """{assignment: {name: notebook}} of the course, read once per run, not per student;
        each with the course's header and footer cells, as its release has them."""
        return {assignment: {name: with_header_footer(nbformat.read(str(p), as_version=4),
                                                      self.config, self.root)
                             for name, p in self.notebook_paths(assignment).items()}
                for assignment in assignments}

    def graded_assignments(self, works, assignment=None):
        """The course's assignments to grade: ``assignment``, else those submitted. An
        assignment the course does not have is a clear error, never a silent 0/0."""
        known = self.assignments()
        if assignment is not None:
            self.notebook_paths(assignment)  # raises for an unknown one
            return [assignment]
        present = sorted({a for work in works for (a, _) in work.notebooks})
        graded = [a for a in known if a in present]
        if not graded:
            raise CourseError(f"none of the submitted assignments {present} is an assignment "
                              f"of the course in {self.root}, which has {known}")
        return graded


def with_header_footer(notebook, config, root):
    """``notebook`` with the cells of the course's header and footer notebooks around it
    (``c.IncludeHeaderFooter.header``/``footer``, relative to the course ``root``; `nbgrader
    quickstart` sets a header whose NAME = "" cell every student fills in), as
    generate_assignment puts them into the release: they are the course's cells, never the
    student's."""
    settings = config.get("IncludeHeaderFooter", {})
    around = []
    for which in ("header", "footer"):
        path = settings.get(which)
        if path and (Path(root) / path).is_file():
            around.append(nbformat.read(str(Path(root) / path), as_version=4).cells)
        else:
            around.append([])
    if not any(around):
        return notebook
    notebook = nbformat.from_dict(notebook)  # a copy: the source stays as read
    notebook.cells = around[0] + notebook.cells + around[1]
    return notebook


def _read_config_file(config, folder):
    from traitlets.config.loader import PyFileConfigLoader

    path = Path(folder) / "nbgrader_config.py"
    if path.is_file():
        config.merge(PyFileConfigLoader(path.name, str(path.parent)).load_config())


def load(course=None):
    """The course in ``course`` (a folder), else the one nbgrader would use from here."""
    from jupyter_core.paths import jupyter_config_path
    from traitlets.config import Config

    config = Config()
    for folder in reversed(jupyter_config_path()):  # lowest priority first, as Jupyter does
        _read_config_file(config, folder)
    here = Path(course or os.getcwd()).resolve()
    _read_config_file(config, here)
    if course is not None:
        root = here
    else:  # a hub's config may name the root; relative roots are relative to here
        root = (here / config.CourseDirectory.get("root", ".")).resolve()
        if root != here:
            _read_config_file(config, root)  # nbgrader also reads the root's own config
    config.CourseDirectory.root = str(root)
    return CourseDir(root, config)


def environment_path():
    """PATH with this interpreter's bin first: nbgrader runs `alembic` as a subprocess."""
    import sys

    bin_dir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    return path if path.split(os.pathsep)[0] == bin_dir else os.pathsep.join([bin_dir, path])
