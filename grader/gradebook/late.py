"""Late penalties, as the course configured them for nbgrader: one rule, applied by nbgrader's
own plugin (``c.AssignLatePenalties.plugin_class``, by default LateSubmissionPlugin with its
``penalty_method``), so the summary, grades.csv, the feedback, Gradescope's results and
nbgrader's gradebook take the same points off the same submission; and the submission times
and penalties a gradebook holds, which the class report lists."""

import datetime
from pathlib import Path


def penalty_rule(config):
    """A function (student, notebook score, seconds late) -> points taken off, as nbgrader's
    AssignLatePenalties computes them under ``config`` (the course's traitlets Config)."""
    from nbgrader.preprocessors import AssignLatePenalties

    assign = AssignLatePenalties(config=config)
    plugin = assign.plugin_class(parent=assign)

    def penalty(student, score, seconds_late):
        if seconds_late <= 0:
            return 0.0
        taken = plugin.late_submission_penalty(student, score, seconds_late)
        # nbgrader's own bounds (AssignLatePenalties._check_late_penalty): 0 <= penalty <= score
        return 0.0 if taken is None else float(min(max(taken, 0.0), max(score, 0.0)))

    return penalty


def seconds_late(when, due, extension=None):
    """How late ``when`` is for ``due`` plus ``extension`` (naive UTC datetimes, a timedelta),
    as nbgrader counts it: 0 without a due date or a time."""
    if when is None or due is None:
        return 0.0
    return max(0.0, (when - due - (extension or datetime.timedelta())).total_seconds())


def lateness_words(seconds):
    """'on time', or 'late by 2 d 3 h', 'late by 5 min 2 s'."""
    if seconds <= 0:
        return "on time"
    left, parts = max(1, int(seconds)), []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if left >= size or (unit == "s" and not parts):
            parts.append(f"{left // size} {unit}")
            left %= size
    return "late by " + " ".join(parts[:2])


def apply_penalties(result, assignment, student, late_seconds, config):
    """Take the penalty of the course's rule (``config``: its traitlets Config) off each
    notebook of ``result``'s ``assignment`` graded ``late_seconds`` late (a judge.StudentResult;
    every output follows its rows and pages)."""
    if late_seconds <= 0:
        return
    rule = penalty_rule(config)  # only for a late submission: nbgrader's plugin, made here
    for notebook, decided in result.decided.get(assignment, {}).items():
        score = sum(float(verdict[0]) for verdict in decided.values())  # (score, report, ...)
        taken = rule(student, score, late_seconds)
        if taken > 0:
            result.penalise(assignment, notebook, taken, lateness_words(late_seconds))


def submission_times(db_url):
    """[(student, assignment, submitted, due, seconds late, late penalty)] of every submission
    the gradebook at ``db_url`` records, or None when it holds no gradebook (a missing sqlite
    file is never created here)."""
    if db_url.startswith("sqlite:///") and not Path(db_url.removeprefix("sqlite:///")).is_file():
        return None
    from nbgrader.api import Gradebook

    gradebook = Gradebook(db_url)
    try:
        times = []
        for assignment in gradebook.assignments:
            for submission in gradebook.assignment_submissions(assignment.name):
                times.append((submission.student.id, assignment.name,
                              _shown(submission.timestamp), _shown(submission.duedate),
                              float(submission.total_seconds_late),
                              float(submission.late_submission_penalty or 0.0)))
        return times
    finally:
        gradebook.close()


def _shown(moment):
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment else "none"
