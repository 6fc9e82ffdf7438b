"""Recording verdicts in nbgrader's gradebook: ``nbgrader autograde`` itself, configured with
the trusted judge (nbgrader_judge), handed the verdicts already decided so nothing is judged
twice. Autograded notebooks, scores and timestamps land in the gradebook the standard way.

nbgrader takes a submission's time from the timestamp.txt beside its notebooks. In a scratch
course that file is ours: it holds the time ``--lateness`` chose. The course's own submitted/
folder is never written, so there nbgrader reads the student's file, and formgrader counts a
submission as autograded only while the gradebook's time equals that file's: a submission is
recorded there only when that file is usable and makes it exactly as late as the chosen time.
"""

import os
import shutil
import time
from pathlib import Path

from .course import CourseError
from .late import apply_penalties, lateness_words, seconds_late
from .nbgrader_api import generate, nbgrader_api, nbgrader_config
from .nbgrader_judge import DECIDED


class Recorder:
    """The nbgrader course where conv-grader records its verdicts: the course itself when
    grading its ``submitted/`` folder, else a scratch course whose gradebook is ``db_url``."""

    def __init__(self, root, db_url, course_dir, lateness="timestamp"):
        self.root = Path(root)
        self.db_url = db_url
        self.course_dir = course_dir
        self.lateness = lateness  # collect.LATENESS_SOURCES: where submission times come from
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

    def submit(self, student, assignment, notebooks, when=None):
        """Place a student's notebooks, and a timestamp.txt saying ``when`` (naive UTC; none
        for None), where nbgrader looks. The course's own submitted/ folder is never written:
        what was graded are safe copies of the very files nbgrader reads there."""
        if self.in_place:
            return
        folder = self.root / "submitted" / student / assignment
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        for name, path in notebooks.items():
            shutil.copy(path, folder / f"{name}.ipynb")
        if when is not None:  # the format nbgrader's submit writes; it reads it back exactly
            (folder / "timestamp.txt").write_text(f"{when:%Y-%m-%d %H:%M:%S.%f} UTC")

    def record(self, student, assignment, notebooks, decided, when=None):
        """nbgrader autograde of one submission, writing the trusted verdicts ``decided``
        ({notebook: {grade_id: (score, report, picture)}}) and, in a scratch course, the submission
        time ``when``; returns None, or nbgrader's error text."""
        self.submit(student, assignment, notebooks, when)
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
            times = work.times.get(assignment)  # None outside nbgrader's layout: no time
            when = times.chosen(self.lateness) if times else None
            # Every output takes off what nbgrader's gradebook does, recorded there or not.
            if when is not None:  # no time, nothing late: no gradebook to read
                apply_penalties(result, assignment, work.student,
                                self._seconds_late(work.student, assignment)(when),
                                self.course_dir.config)
            if assignment in work.kept_from_nbgrader:  # nbgrader would read it unbounded
                result.warnings.append(
                    f"{work.student}/{assignment}: not recorded in the gradebook (grades.csv has "
                    f"it): {work.kept_from_nbgrader[assignment]}")
                continue
            if times and self.in_place:
                why = self._not_as_chosen(work.student, assignment, times, when)
                if why:
                    result.warnings.append(
                        f"{work.student}/{assignment}: not recorded in the course's gradebook "
                        f"(grades.csv has it): {why}")
                    continue
            problem = self.record(work.student, assignment, submitted, result.decided[assignment],
                                  when)
            if problem:  # the grades stand; only the gradebook copy is missing
                result.warnings.append(f"{work.student}/{assignment}: nbgrader could not record "
                                       f"this submission in the gradebook: {problem}")
            elif times and not self.in_place:
                said = self._disagreement(work.student, assignment, times, when)
                if said:
                    result.warnings.append(f"{work.student}/{assignment}: {said}")

    def _seconds_late(self, student, assignment):
        """A function giving how late a time is for ``student``'s ``assignment``, as nbgrader
        counts it (the gradebook's due date plus the student's extension; 0 without one)."""
        from nbgrader.api import Gradebook, MissingEntry

        with Gradebook(self.db_url, self.course_dir.course_id) as gradebook:
            try:
                due = gradebook.find_assignment(assignment).duedate
            except MissingEntry:
                due = None
            try:
                extension = gradebook.find_submission(assignment, student).extension
            except MissingEntry:
                extension = None
        return lambda when: seconds_late(when, due, extension)

    def _lateness_differs(self, student, assignment, times, when):
        """(how late the student's timestamp.txt makes it, how late ``when`` does), in
        seconds, when the two differ as nbgrader counts lateness; else None."""
        if times.claimed == when:
            return None
        late = self._seconds_late(student, assignment)
        claimed, chosen = late(times.claimed), late(when)
        return None if claimed == chosen else (claimed, chosen)

    def _not_as_chosen(self, student, assignment, times, when):
        """Why nbgrader, reading the student's own timestamp.txt in the course's submitted/
        folder, would not record the lateness of ``when``; None when it would."""
        if times.problem:
            return f"{times.problem}, and nbgrader would read it there"
        differs = self._lateness_differs(student, assignment, times, when)
        if differs is None:
            return None
        claimed, chosen = differs
        return (f"nbgrader there goes by its timestamp.txt, {_claim(times)} "
                f"({lateness_words(claimed)}), but {_clock(times, self.lateness)} "
                f"{_time(when)} ({lateness_words(chosen)}). Grading a copy of the folder records "
                f"that time in OUT/gradebook.db{_hint(self.lateness)}")

    def _disagreement(self, student, assignment, times, when):
        """A warning when the recorded time ``when`` and the student's usable timestamp.txt
        disagree about lateness (a forged date, or a copy collected after the deadline)."""
        if times.problem or times.claimed is None:
            return None
        differs = self._lateness_differs(student, assignment, times, when)
        if differs is None:
            return None
        claimed, chosen = differs
        return (f"the gradebook has it {lateness_words(chosen)}: {_clock(times, self.lateness)} "
                f"{_time(when)}, while its timestamp.txt says {_time(times.claimed)} "
                f"({lateness_words(claimed)}){_hint(self.lateness)}")


def _clock(times, source):
    """Which clock gave the chosen time of ``times`` under ``source``."""
    if source == "exchange" and times.exchanged is not None:
        return "it reached nbgrader's exchange"
    return "its copy was collected"


def _hint(source):
    return ("; if you collected after the deadline, --lateness exchange (or timestamp, the "
            "students' own dates) does not count the collection" if source == "collected"
            else "")


def _claim(times):
    return f"which says {_time(times.claimed)}" if times.claimed else "and it has none"


def _time(moment):
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment else "no time"


def gradebook_url(course_dir, submissions, out, db_url=None):
    """The gradebook a run records in: ``db_url`` when given, else the course's own when it
    grades the course's submitted/ folder, else OUT/gradebook.db."""
    if db_url:
        return db_url
    if Path(submissions).resolve() == course_dir.submitted.resolve():
        return course_dir.db_url
    return f"sqlite:///{(Path(out) / 'gradebook.db').resolve()}"


def recorder_for(course_dir, submissions, scratch, out, db_url, graded, lateness="timestamp"):
    """Where conv-grader records its verdicts: the course's own gradebook when it grades the
    course's submitted/ folder, else a scratch course with OUT/gradebook.db (or ``db_url``);
    submission times from ``lateness`` (collect.LATENESS_SOURCES)."""
    url = gradebook_url(course_dir, submissions, out, db_url)
    if Path(submissions).resolve() == course_dir.submitted.resolve():
        recorder = Recorder(course_dir.root, url, course_dir, lateness)
        recorder.check_registered(graded)
        return recorder
    recorder = Recorder(Path(scratch) / "course", url, course_dir, lateness)
    recorder.prepare()
    return recorder


def _last_error(log):
    lines = [line for line in str(log).splitlines() if line.strip()]
    errors = [line for line in lines if "ERROR" in line or "Error" in line]
    return (errors or lines or ["unknown error"])[-1][:300]
