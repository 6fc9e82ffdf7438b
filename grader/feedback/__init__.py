"""What students and the instructor read: a feedback page per notebook, grades.csv, the
summary table, and Gradescope's results.json.

May import: grader.collect (the list of submissions set aside), grader.sandbox (how a run was
isolated), grader.diagnosis.
"""

from . import class_report, gradescope
from .grades import (COLUMNS, LATE_PENALTY, NOT_GRADED, Row, csv_cell, not_graded_text,
                     write_atomically, write_outputs)
from .pages import page, with_late_penalty
from .table import summary

__all__ = ["COLUMNS", "LATE_PENALTY", "NOT_GRADED", "Row", "class_report", "csv_cell",
           "gradescope", "not_graded_text", "page", "summary", "with_late_penalty",
           "write_atomically", "write_outputs"]
