"""Recording verdicts in nbgrader's gradebook: ``nbgrader autograde`` itself, configured with
the trusted judge (nbgrader_judge), handed the verdicts already decided so nothing is judged
twice. Autograded notebooks, scores and timestamps land in the gradebook the standard way."""

import os
import shutil
import time
from pathlib import Path

from .course import CourseError
from .nbgrader_api import generate, nbgrader_api, nbgrader_config
from .nbgrader_judge import DECIDED


class Recorder:
    """The nbgrader course where conv-grader records its verdicts: the course itself when
    grading its ``submitted/`` folder, else a scratch course whose gradebook is ``db_url``."""

    def __init__(self, root, db_url, course_dir):
        self.root = Path(root)
        self.db_url = db_url
        self.course_dir = course_dir
        self.api = None

    def _make_config(self):
        source = os.path.relpath(self.course_dir.source, self.course_dir.root) \
            if self.in_place else "source"
        release = os.path.relpath(self.course_dir.release, self.course_dir.root) \
            if self.in_place else "release"
        return nbgrader_config(self.root, self.db_url, source, release,
                               course_id=self.course_dir.course_id, base=self.course_dir.config)

    @property
    def in_place(self):
        return self.root == self.course_dir.root

    def prepare(self):
        """A scratch course: copy the course's source notebooks in and register them."""
        if (self.root / "source").exists():
            shutil.rmtree(self.root / "source")
        self.root.mkdir(parents=True, exist_ok=True)
        self.api = generate(self.course_dir, self.root, self.db_url)
        self.api = nbgrader_api(self._make_config())

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
        self.api = nbgrader_api(self._make_config())

    def connect(self):
        """A fresh API handle, for a worker process that inherited this object."""
        self.api = nbgrader_api(self._make_config())

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

    def record_student(self, work, result, assignments=None):
        """nbgrader autograde of the student's submitted ``assignments`` (all graded ones by
        default) with the verdicts in ``result`` (a judge.StudentResult)."""
        for assignment in assignments or list(result.decided):
            submitted = {nb: p for (a, nb), p in work.notebooks.items() if a == assignment}
            if not submitted:
                continue
            if assignment in work.kept_from_nbgrader:  # nbgrader would read it unbounded
                result.warnings.append(
                    f"{work.student}/{assignment}: not recorded in the gradebook (grades.csv has "
                    f"it): {work.kept_from_nbgrader[assignment]}")
                continue
            problem = self.record(work.student, assignment, submitted, result.decided[assignment])
            if problem:  # the grades stand; only the gradebook copy is missing
                result.warnings.append(f"{work.student}/{assignment}: nbgrader could not record "
                                       f"this submission in the gradebook: {problem}")


def recorder_for(course_dir, submissions, scratch, out, db_url, graded):
    """Where conv-grader records its verdicts: the course's own gradebook when it grades the
    course's submitted/ folder, else a scratch course with OUT/gradebook.db (or ``db_url``)."""
    if Path(submissions).resolve() == course_dir.submitted.resolve():
        recorder = Recorder(course_dir.root, db_url or course_dir.db_url, course_dir)
        recorder.check_registered(graded)
        return recorder
    out_db = f"sqlite:///{(Path(out) / 'gradebook.db').resolve()}"
    recorder = Recorder(Path(scratch) / "course", db_url or out_db, course_dir)
    recorder.prepare()
    return recorder


def _last_error(log):
    lines = [line for line in str(log).splitlines() if line.strip()]
    errors = [line for line in lines if "ERROR" in line or "Error" in line]
    return (errors or lines or ["unknown error"])[-1][:300]
