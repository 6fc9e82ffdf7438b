"""Scheduling a run: the whole class (autograde: collect, grade each student where the run
says, commit each to the journal, write the outputs) or one upload (export). The only room the
command line drives; it decides where each student is graded (here, a pool of processes, or a
Dask cluster) and nothing about how.

May import: grader.gradebook, grader.judge, grader.feedback, grader.review (the similarity
check of a run's report), grader.collect, grader.sandbox.
"""

from ..collect import SubmissionError
from ..gradebook import CourseError
from ..judge import SECRET_FILE
from ..sandbox import Limits, SandboxUnavailable, cgroup_notice, isolation_description
from .class_run import ClassRun, autograde
from .cluster import ClusterUnavailable
from .export import UploadError, grade_upload
from .journal import FILE as JOURNAL
from .progress import progress, table
from .report import NoRun, compare_submissions, similarity_check, write_report

# What a run raises when it grades no one; each message says why and what to change.
NOTHING_GRADED = (SubmissionError, SandboxUnavailable, CourseError, ClusterUnavailable,
                  UploadError, PermissionError)

__all__ = ["JOURNAL", "NOTHING_GRADED", "SECRET_FILE", "ClassRun", "ClusterUnavailable",
           "Limits", "NoRun", "UploadError", "autograde", "cgroup_notice", "compare_submissions",
           "grade_upload", "isolation_description", "progress", "similarity_check", "table",
           "write_report"]
