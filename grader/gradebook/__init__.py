"""The course as nbgrader sees it, and nbgrader's gradebook: the CourseDir (loaded once from
nbgrader's config), the release, recording the trusted verdicts with ``nbgrader autograde``,
and the preprocessor that puts the trusted judge in nbgrader's own autograde
(``use_trusted_grading(c)`` in a course's nbgrader_config.py).

May import: grader.judge (an ``nbgrader autograde`` of its own judges through it), and what
that imports.
"""

from .course import EXAMPLES, REPO, CourseDir, CourseError, environment_path, load
from .nbgrader_api import alembic_head, close_connections, nbgrader_api, nbgrader_config, \
    nbgrader_setup_once
from .late import apply_penalties, submission_times
from .nbgrader_judge import use_trusted_grading
from .recorder import Recorder, gradebook_url, recorder_for
from .release import WorkWouldBeLost, release

__all__ = ["EXAMPLES", "REPO", "CourseDir", "CourseError", "Recorder", "WorkWouldBeLost",
           "alembic_head", "apply_penalties", "close_connections", "environment_path",
           "gradebook_url", "load", "nbgrader_api", "nbgrader_config", "nbgrader_setup_once",
           "recorder_for", "release", "submission_times",
           "use_trusted_grading"]
