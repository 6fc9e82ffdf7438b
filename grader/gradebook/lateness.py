"""Submission times as nbgrader's gradebook holds them: what the class report lists as late."""

from pathlib import Path


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
