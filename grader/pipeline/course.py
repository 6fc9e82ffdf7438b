"""The course, as nbgrader sees it, and nbgrader's machinery driven in-process.

Where the course is comes from nbgrader's own configuration: the ``nbgrader_config.py``
files of the Jupyter config path (a hub's per-course config) and of the course directory
(the working directory, or ``--course DIR``). From it come the course root, the source,
release and submitted folders, ``course_id`` and the gradebook. Assignment names are the
source folders; points come from the cells' metadata.

conv-grader records verdicts through ``nbgrader autograde`` itself, configured with the
trusted judge (``nbgrader_judge``): autograded notebooks, scores and timestamps land in the
gradebook the standard way.
"""

import contextlib
import copy
import functools
import logging
import os
import shutil
import time
import types
import warnings
from dataclasses import dataclass
from pathlib import Path

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


_ACTIVE = {}


def use(course=None):
    """Make ``course`` (a folder, or None for nbgrader's choice from here) the course
    every later call grades against; returns its CourseDir."""
    _ACTIVE["course"] = load(course)
    return _ACTIVE["course"]


def current():
    """The course chosen with use(), else the one nbgrader would use from here."""
    if "course" not in _ACTIVE:
        use()
    return _ACTIVE["course"]


def assignments():
    return current().assignments()


def _quiet_nbgrader():
    logging.getLogger("traitlets").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="nbgrader")
    warnings.filterwarnings("ignore", message=".*not in session.*")


def _config(root, db_url, source="source", release="release", execute=False, course_id=None,
            base=None):
    """nbgrader's config for a course at ``root`` (``base``: the course's own config)."""
    from traitlets.config import Config

    from .nbgrader_judge import use_trusted_grading

    config = Config()
    if base is not None:  # merge shares sections, so copy: the course's config stays as it is
        config.merge(copy.deepcopy(base))
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.source_directory = source
    config.CourseDirectory.release_directory = release
    config.CourseDirectory.course_id = current().course_id if course_id is None else course_id
    config.CourseDirectory.db_url = db_url
    if execute:  # nbgrader's own in-kernel autograde, kept for the tests that compare with it
        config.Autograde.autograde_preprocessors = _default_autograde_preprocessors()
    else:
        use_trusted_grading(config)
    config.ExecutePreprocessor.timeout = 120
    config.OverwriteCells.add_missing_cells = True  # deleted test cells come back
    config.ClearOutput.enabled = True
    config.Application.log_level = "ERROR"
    return config


def _default_autograde_preprocessors():
    from nbgrader.converters import Autograde

    return Autograde.class_traits()["autograde_preprocessors"].default()


@functools.cache
def _alembic_head():
    """The gradebook schema's alembic revision, read in this process."""
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import _temp_alembic_ini

    with _temp_alembic_ini("sqlite:///gradebook.db") as ini:
        return ScriptDirectory.from_config(AlembicConfig(ini)).get_current_head()


_ENGINES = {}  # (pid, database url, options) -> SQLAlchemy engine, during nbgrader_setup_once()


@contextlib.contextmanager
def nbgrader_setup_once():
    """For one grading run, two things nbgrader redoes for every recorded notebook are done
    once per process, together a third or more of the recording time:

    - every Gradebook opened on a database shares one SQLAlchemy engine and its
      connections (nbgrader makes and connects a new engine for each of the ten or so
      Gradebooks it opens per notebook). Keyed by process, so a forked pool process makes
      its own; all disposed at the end, so no connection outlives the run (a later one may
      find a new file at that path);
    - cell metadata is validated by one compiled validator of nbgrader's schema, not by
      ``jsonschema.validate``, which checks the schema itself again on every cell.
    """
    import jsonschema
    import nbgrader.api
    import nbgrader.nbgraderformat.common as metadata_format

    real_engine, real_jsonschema = nbgrader.api.create_engine, metadata_format.jsonschema
    validators = {}

    def create_engine(url, **options):
        key = (os.getpid(), str(url), tuple(sorted(options.items())))
        if key not in _ENGINES:
            _ENGINES[key] = real_engine(url, **options)
        return _ENGINES[key]

    def validate(instance, schema):
        if id(schema) not in validators:
            kind = jsonschema.validators.validator_for(schema)
            kind.check_schema(schema)
            validators[id(schema)] = (schema, kind(schema))  # the schema kept: its id stays its
        error = jsonschema.exceptions.best_match(validators[id(schema)][1].iter_errors(instance))
        if error is not None:
            raise error  # what jsonschema.validate raises

    nbgrader.api.create_engine = create_engine
    metadata_format.jsonschema = types.SimpleNamespace(validate=validate)
    try:
        yield
    finally:
        nbgrader.api.create_engine, metadata_format.jsonschema = real_engine, real_jsonschema
        close_connections()
        _ENGINES.clear()


def close_connections():
    """Close this process's pooled gradebook connections (before a fork: SQLite's rule is
    that a connection is never carried into a child); engines reconnect when next used."""
    for (pid, *_), engine in list(_ENGINES.items()):
        if pid == os.getpid():
            engine.dispose()


def _api(config):
    import nbgrader.api
    from nbgrader.apps import NbGraderAPI

    _quiet_nbgrader()
    # A new gradebook asks `alembic heads` for its schema version: a second Python
    # starting, about a second of every run. The same answer, from the same files, here.
    nbgrader.api.get_alembic_version = _alembic_head
    os.environ["PATH"] = environment_path()  # nbgrader runs `alembic` as a subprocess
    api = NbGraderAPI(config=config)
    api.log.setLevel(logging.ERROR)
    return api


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


def _generate(course_dir, root, db_url):
    """nbgrader generate_assignment for every assignment, in a scratch course at ``root``
    whose gradebook is ``db_url``."""
    shutil.copytree(course_dir.source, root / "source")
    api = _api(_config(root, db_url, course_id=course_dir.course_id, base=course_dir.config))
    # Relative paths in the course's config (quickstart's header.ipynb) are relative to its root.
    with contextlib.chdir(course_dir.root):
        for assignment in course_dir.assignments():
            result = api.generate_assignment(assignment)
            if not result["success"]:
                raise RuntimeError(f"nbgrader could not release {assignment}:\n{result['log']}")
    return api


def release(destination=None, force=False, register=True):
    """Regenerate the student notebooks with nbgrader generate_assignment, and (``register``)
    record every assignment in the course's gradebook, as generate_assignment does.

    nbgrader's own command skips an assignment whose release folder exists (a fresh clone),
    leaving the gradebook empty until autograde fails; this never skips. It generates in a
    scratch folder, then replaces each ``destination/<assignment>`` folder. A notebook there
    that holds work (outputs, or filled-in solution cells) is never replaced unless ``force``.
    """
    import tempfile

    course_dir = current()
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
        _generate(course_dir, root,
                  course_dir.db_url if register else f"sqlite:///{root / 'gradebook.db'}")
        for assignment in course_dir.assignments():
            target = destination / assignment
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(root / "release" / assignment, target)
            for path in target.rglob("*"):
                path.chmod(0o644 if path.is_file() else 0o755)
    return destination


class Course:
    """The nbgrader course where conv-grader records its verdicts: the course itself when
    grading its ``submitted/`` folder, else a scratch course whose gradebook is ``db_url``."""

    def __init__(self, root, db_url, course_dir=None):
        self.root = Path(root)
        self.db_url = db_url
        self.course_dir = course_dir or current()
        self.api = None

    def _make_config(self):
        source = os.path.relpath(self.course_dir.source, self.course_dir.root) \
            if self.in_place else "source"
        release = os.path.relpath(self.course_dir.release, self.course_dir.root) \
            if self.in_place else "release"
        return _config(self.root, self.db_url, source, release,
                       course_id=self.course_dir.course_id, base=self.course_dir.config)

    @property
    def in_place(self):
        return self.root == self.course_dir.root

    def prepare(self):
        """A scratch course: copy the course's source notebooks in and register them."""
        if (self.root / "source").exists():
            shutil.rmtree(self.root / "source")
        self.root.mkdir(parents=True, exist_ok=True)
        self.api = _generate(self.course_dir, self.root, self.db_url)
        self.api = _api(self._make_config())

    def check_registered(self, graded):
        """The course's own gradebook must know every assignment graded into it."""
        from nbgrader.api import Gradebook, MissingEntry

        with Gradebook(self.db_url, self.course_dir.course_id) as gradebook:
            missing = []
            for assignment in graded:
                try:
                    gradebook.find_assignment(assignment)
                except MissingEntry:
                    missing.append(assignment)
        if missing:
            raise CourseError(f"the gradebook {self.db_url} has no assignment {missing}: run "
                              f"`conv-grader release` in {self.course_dir.root} (it registers "
                              f"every assignment), then grade again")
        self.api = _api(self._make_config())

    def connect(self):
        """A fresh API handle, for a worker process that inherited this object."""
        self.api = _api(self._make_config())

    def submit(self, student, assignment, notebooks):
        """Place a student's notebooks (and nbgrader's timestamp.txt) where nbgrader looks.
        The course's own submitted/ folder is never written: what was graded are safe copies
        of the very files nbgrader reads there."""
        if self.in_place:
            return
        folder = self.root / "submitted" / student / assignment
        sources = {Path(p).resolve().parent for p in notebooks.values()}
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        for name, path in notebooks.items():
            shutil.copy(path, folder / f"{name}.ipynb")
        for source in sources:
            if (source / "timestamp.txt").is_file():
                shutil.copy(source / "timestamp.txt", folder / "timestamp.txt")

    def record(self, student, assignment, notebooks, decided):
        """nbgrader autograde of one submission, writing the trusted verdicts ``decided``
        ({notebook: {grade_id: (score, report)}}); returns None, or nbgrader's error text."""
        from .nbgrader_judge import DECIDED

        self.submit(student, assignment, notebooks)
        keys = [(student, assignment, name) for name in decided]
        DECIDED.update({(student, assignment, name): v for name, v in decided.items()})
        try:
            for attempt in range(5):
                result = self.api.autograde(assignment, student)
                if result["success"]:
                    return None
                log = result.get("log") or result.get("error") or "unknown error"
                if "database is locked" not in log or attempt == 4:
                    return _last_error(log)
                time.sleep(0.2 * (attempt + 1))  # sqlite lets one writer in at a time
        finally:
            for key in keys:
                DECIDED.pop(key, None)
        return None


def graded_assignments(works, assignment=None):
    """The course's assignments to grade: ``assignment``, else those submitted. An
    assignment the course does not have is a clear error, never a silent 0/0."""
    known = current().assignments()
    if assignment is not None:
        current().notebook_paths(assignment)  # raises for an unknown one
        return [assignment]
    present = sorted({a for work in works for (a, _) in work.notebooks})
    graded = [a for a in known if a in present]
    if not graded:
        raise CourseError(f"none of the submitted assignments {present} is an assignment of "
                          f"the course in {current().root}, which has {known}")
    return graded


def gradebook_course(submissions, scratch, out, db_url, graded):
    """Where conv-grader records its verdicts: the course's own gradebook when it grades the
    course's submitted/ folder, else a scratch course with OUT/gradebook.db (or ``db_url``)."""
    course_dir = current()
    if Path(submissions).resolve() == course_dir.submitted.resolve():
        course = Course(course_dir.root, db_url or course_dir.db_url, course_dir)
        course.check_registered(graded)
        return course
    out_db = f"sqlite:///{(Path(out) / 'gradebook.db').resolve()}"
    course = Course(Path(scratch) / "course", db_url or out_db, course_dir)
    course.prepare()
    return course


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
