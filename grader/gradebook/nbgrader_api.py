"""nbgrader's own machinery, driven in this process: its configuration for a course, its API,
generate_assignment, and what is done once per run instead of once per recorded notebook."""

import contextlib
import copy
import functools
import logging
import os
import shutil
import types
import warnings

from .course import environment_path
from .nbgrader_judge import use_trusted_grading


def _quiet_nbgrader():
    logging.getLogger("traitlets").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="nbgrader")
    warnings.filterwarnings("ignore", message=".*not in session.*")


def nbgrader_config(root, db_url, source="source", release="release", execute=False,
                    course_id=None, base=None):
    """nbgrader's config for a course at ``root`` (``base``: the course's own config)."""
    from traitlets.config import Config

    config = Config()
    if base is not None:  # merge shares sections, so copy: the course's config stays as it is
        config.merge(copy.deepcopy(base))
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.source_directory = source
    config.CourseDirectory.release_directory = release
    if course_id is not None:
        config.CourseDirectory.course_id = course_id
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
def alembic_head():
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


def nbgrader_api(config):
    import nbgrader.api
    from nbgrader.apps import NbGraderAPI

    _quiet_nbgrader()
    # A new gradebook asks `alembic heads` for its schema version: a second Python
    # starting, about a second of every run. The same answer, from the same files, here.
    nbgrader.api.get_alembic_version = alembic_head
    os.environ["PATH"] = environment_path()  # nbgrader runs `alembic` as a subprocess
    api = NbGraderAPI(config=config)
    api.log.setLevel(logging.ERROR)
    return api


def generate(course_dir, root, db_url):
    """nbgrader generate_assignment for every assignment, in a scratch course at ``root``
    whose gradebook is ``db_url``."""
    shutil.copytree(course_dir.source, root / "source")
    api = nbgrader_api(nbgrader_config(root, db_url, course_id=course_dir.course_id,
                                       base=course_dir.config))
    # Relative paths in the course's config (quickstart's header.ipynb) are relative to its root.
    with contextlib.chdir(course_dir.root):
        for assignment in course_dir.assignments():
            result = api.generate_assignment(assignment)
            if not result["success"]:
                raise RuntimeError(f"nbgrader could not release {assignment}:\n{result['log']}")
    return api
