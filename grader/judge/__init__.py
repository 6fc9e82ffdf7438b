"""Judging a student's work, in a process that runs no student code.

Owns the Run (what every student of a run is graded with), the hidden cases' seed (from the code), calling a
notebook's functions in the student's sandbox and judging each answer, and the rows, feedback
page and gradebook verdicts of each student (StudentResult).

May import: grader.feedback (the page), grader.sandbox, grader.diagnosis, conv_lib.
"""

from .calls import judge_notebook
from .result import StudentResult
from .run import Run
from .seeds import (SECRET_FILE, code_fingerprint, code_seed, course_secret, course_secret_made,
                    forget_course_secret)
from .student import (UNJUDGEABLE, failed_student, grade_notebook, grade_safely, grade_student,
                      graded_cells, one_blas_thread)

__all__ = ["SECRET_FILE", "UNJUDGEABLE", "Run", "StudentResult", "code_fingerprint", "code_seed",
           "course_secret",
           "course_secret_made", "forget_course_secret",
           "failed_student", "grade_notebook", "grade_safely", "grade_student", "graded_cells",
           "judge_notebook", "one_blas_thread"]
