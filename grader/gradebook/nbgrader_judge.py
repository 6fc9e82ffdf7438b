"""nbgrader's autograde with the trusted judge in place of the student's kernel.

A course's ``nbgrader_config.py`` says::

    from grader.gradebook import use_trusted_grading
    use_trusted_grading(c)

and ``nbgrader autograde`` (also from formgrader) then runs ``TrustedTests`` where it ran
``Execute``. Each test cell named for a task (``test_<task>``) gets the trusted grader's
report (stdout) and score (the cell's result), which nbgrader's ``SaveAutoGrades`` reads as
partial credit, so the gradebook, formgrader, manual grading, feedback and export all see the
trusted scores. No cell of a submission runs in a kernel: test cells of the instructor's own
(a grade id that names no task) run in the student's sandbox, after the cells above them, and
are scored by nbgrader's rules (judge/own_tests.py); manually graded cells need no run.
``conv-grader autograde`` records through the same path.
"""

import base64
from pathlib import Path

import nbformat
from nbformat.v4 import new_output
from traitlets import Unicode

from nbgrader.preprocessors import DeduplicateIds, Execute, NbGraderPreprocessor

from ..diagnosis import pictures
from ..diagnosis.tasks import TASKS
from ..judge import Run, course_secret, grade_notebook
from .course import with_header_footer

# (student, assignment, notebook) -> {grade_id: (score, report, picture PNG or None)}: verdicts
# conv-grader has already decided with the same engine, so recording them does not judge twice.
DECIDED = {}


def use_trusted_grading(c):
    """Configure nbgrader (``c``: the config object of nbgrader_config.py) to score test
    cells with the trusted judge; the rest of nbgrader's autograde pipeline stays."""
    from nbgrader.converters import Autograde

    c.Autograde.autograde_preprocessors = [
        TrustedTests if step is Execute else step
        for step in Autograde.class_traits()["autograde_preprocessors"].default()
    ]
    c.Autograde.sanitize_preprocessors = [
        ForeignMetadata if step is DeduplicateIds else step
        for step in Autograde.class_traits()["sanitize_preprocessors"].default()
    ]


class ForeignMetadata(DeduplicateIds):
    """nbgrader's DeduplicateIds, made safe against metadata a student wrote. nbgrader stops
    the whole autograde run (every later student ungraded) on a cell whose nbgrader metadata
    is of another schema version or invalid, and DeduplicateIds itself leaves a duplicate
    with empty metadata, which counts as such a cell. Here any nbgrader metadata that does
    not validate, or that deduplication emptied, is removed: the cell becomes a plain cell
    of the student's, and OverwriteCells restores the course's cells by their ids."""

    def preprocess(self, nb, resources):
        from nbgrader.nbgraderformat import MetadataValidator

        validator = MetadataValidator()
        for cell in nb.cells:
            try:
                validator.validate_cell(cell)
            except Exception:  # noqa: BLE001 - any invalid metadata is the student's, not ours
                cell.metadata.pop("nbgrader", None)
        nb, resources = super().preprocess(nb, resources)
        for cell in nb.cells:
            if cell.metadata.get("nbgrader") == {}:
                del cell.metadata["nbgrader"]
        return nb, resources


def is_test_cell(cell):
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.cell_type == "code" and meta.get("grade") and not meta.get("solution")


def is_task_cell(cell):
    """A test cell the trusted grader scores: its grade id names a task."""
    return is_test_cell(cell) and cell.metadata.nbgrader["grade_id"].removeprefix("test_") in TASKS


class TrustedTests(NbGraderPreprocessor):
    """Scores the test cells of a submission: task cells with the trusted, sandboxed judge,
    the instructor's own test cells by running them in the student's sandbox. Never starts
    a kernel (it is no Execute: nothing of nbgrader's execution is left to fall back to)."""

    seed = Unicode(
        None, allow_none=True,
        help="Seed of the hidden cases for every student (default: the course secret)",
    ).tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        key = (info["student"], info["assignment"], info["notebook"])
        decided = DECIDED.get(key)
        if decided is None:
            decided = self._judge(*key)
        for cell in nb.cells:
            if not is_test_cell(cell):
                continue
            score, report, *drawn = decided.get(
                cell.metadata.nbgrader["grade_id"],
                (0.0, "Not run: this test cell is not in the course's notebook."))
            # The picture the feedback page shows, between the report and the score (which
            # nbgrader reads from the execute_result; a display_data does not change it).
            picture = [new_output("display_data", data={
                "text/html": pictures.html_figure((), drawn[0]),
                "image/png": base64.b64encode(drawn[0]).decode("ascii"),
                "text/plain": pictures.CAPTION})] if drawn and drawn[0] else []
            cell.outputs = [new_output("stream", name="stdout", text=report + "\n"), *picture,
                            new_output("execute_result", data={"text/plain": repr(float(score))},
                                       execution_count=None)]
            cell.execution_count = None
        return nb, resources

    def _judge(self, student, assignment, notebook):
        from nbgrader.coursedir import CourseDirectory

        coursedir = CourseDirectory(config=self.config)
        source = Path(coursedir.format_path(coursedir.source_directory, ".", assignment))
        submitted = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment))
        course_nb = with_header_footer(nbformat.read(str(source / f"{notebook}.ipynb"),
                                                     as_version=4), self.config, coursedir.root)
        path = submitted / f"{notebook}.ipynb"
        seed = self.seed if self.seed is not None else course_secret(coursedir.root)
        run = Run(seed, assignments=(assignment,), books={assignment: {notebook: course_nb}})
        drawn = {}
        _, _, scores, reports = grade_notebook(
            student, assignment, notebook, course_nb, path if path.exists() else None, run,
            pictures=drawn)
        return {g: (scores.get(g, 0.0), reports.get(g, ""), drawn.get(g)) for g in reports}
