"""Collecting each student's notebooks: from nbgrader's layout, a flat folder, an LMS zip or a
Gradescope upload, copied safely into a scratch folder (regular files only, sizes capped), and
every submission whose name is not a usable student id set aside with the reason and the fix;
in nbgrader's layout, each assignment's submission time by three clocks (SubmissionTime): nbgrader's
exchange, the student's timestamp.txt, and the collected copy.

Imports nothing else of the grader: the course is handed in (a gradebook.CourseDir).
"""

from .submissions import (COLLECTED, EXCHANGE, LATENESS_SOURCES, TIMESTAMP, Collection, StudentWork,
                          SubmissionError, SubmissionTime, Unusable, collect, collect_usable,
                          listing, shown, take_notebook, upload_copy)
from .uploads import (match_upload, missing_message, seconds_late_from_metadata,
                      student_from_metadata)

__all__ = ["COLLECTED", "EXCHANGE", "LATENESS_SOURCES", "TIMESTAMP", "Collection", "StudentWork",
           "SubmissionError", "SubmissionTime", "Unusable", "collect",
           "collect_usable", "listing", "match_upload", "missing_message",
           "seconds_late_from_metadata", "shown",
           "student_from_metadata", "take_notebook", "upload_copy"]
