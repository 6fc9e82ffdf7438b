"""nbgrader's autograde with the trusted judge in place of the student's kernel.

A course's ``nbgrader_config.py`` says::

    from grader.pipeline.nbgrader_judge import use_trusted_grading
    use_trusted_grading(c)

and ``nbgrader autograde`` (also from formgrader) then runs ``TrustedTests`` where it ran
``Execute``: no cell runs in the student's kernel. Each graded test cell gets the trusted
grader's report (stdout) and score (the cell's result), which nbgrader's ``SaveAutoGrades``
reads as partial credit, so the gradebook, formgrader, manual grading, feedback and export
all see the trusted scores. ``conv-grader autograde`` records through the same path.
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_output
from traitlets import Unicode

from nbgrader.preprocessors import Execute, NbGraderPreprocessor

# (student, assignment, notebook) -> {grade_id: (score, report)}: verdicts conv-grader has
# already decided with the same engine, so recording them does not judge twice.
DECIDED = {}


def use_trusted_grading(c):
    """Configure nbgrader (``c``: the config object of nbgrader_config.py) to score test
    cells with the trusted judge; the rest of nbgrader's autograde pipeline stays."""
    from nbgrader.converters import Autograde

    c.Autograde.autograde_preprocessors = [
        TrustedTests if step is Execute else step
        for step in Autograde.class_traits()["autograde_preprocessors"].default()
    ]


def is_test_cell(cell):
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.cell_type == "code" and meta.get("grade") and not meta.get("solution")


class TrustedTests(NbGraderPreprocessor):
    """Scores every graded test cell of a submission with the trusted, sandboxed grader."""

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
            grade_id = cell.metadata.nbgrader["grade_id"]
            score, report = decided.get(grade_id, (0.0, (
                f"{grade_id}: the grader has no task of this name (test cells are named "
                f"test_<task>), so it scores 0 here; grade it by hand if it should count.")))
            cell.outputs = [new_output("stream", name="stdout", text=report + "\n"),
                            new_output("execute_result", data={"text/plain": repr(float(score))},
                                       execution_count=None)]
            cell.execution_count = None
        return nb, resources

    def _judge(self, student, assignment, notebook):
        from nbgrader.coursedir import CourseDirectory

        from .autograde import grade_notebook
        from .seeds import course_secret, student_seed

        coursedir = CourseDirectory(config=self.config)
        source = Path(coursedir.format_path(coursedir.source_directory, ".", assignment))
        submitted = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment))
        course_nb = nbformat.read(str(source / f"{notebook}.ipynb"), as_version=4)
        path = submitted / f"{notebook}.ipynb"
        seed = self.seed if self.seed is not None else course_secret(coursedir.root)
        _, _, scores, reports = grade_notebook(
            student, assignment, notebook, course_nb, path if path.exists() else None,
            student_seed(seed, student, assignment), None)
        return {g: (scores.get(g, 0.0), reports.get(g, "")) for g in reports}
