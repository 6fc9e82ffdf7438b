"""Reviewing a class's own code side by side: the similarity check.

A room of its own because it reads every student's code at once, as text, while grading
reads one student at a time and runs code in a sandbox. It never runs, imports or executes
anything a student wrote: notebooks are parsed as JSON and their code tokenised
(copydetect, on pygments' lexer).

May import: grader.collect (reading a class's submissions), grader.diagnosis (which cells
are the student's). Driven by grader.schedule (the report of a run) and the command line.
"""

from .similarity import (DEFAULT_THRESHOLD, PAGES, Pair, compare_class, course_templates,
                         own_code, pair_page, report_section, template_code, write_pages)

__all__ = ["DEFAULT_THRESHOLD", "PAGES", "Pair", "compare_class", "course_templates", "own_code",
           "pair_page", "report_section", "template_code", "write_pages"]
