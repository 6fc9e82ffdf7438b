"""The class report of a finished (or resumed, or interrupted) run, from its journal: every
committed student as graded, nothing graded again; lateness from the run's gradebook; the
similarity check of the students' own code, when the submissions are at hand."""

from pathlib import Path

from ..feedback import class_report, write_atomically
from ..gradebook import submission_times
from ..review import DEFAULT_THRESHOLD, PAGES, compare_class, course_templates, report_section, \
    write_pages
from .journal import FILE, Journal


class NoRun(Exception):
    """OUT holds no run's journal."""


def late_submissions(db_url):
    """[LateSubmission] the gradebook at ``db_url`` holds, or None without a gradebook."""
    times = submission_times(db_url) if db_url else None
    return None if times is None else [class_report.LateSubmission(*t) for t in times]


def similar_pairs(works, course, assignments, threshold=DEFAULT_THRESHOLD):
    """The flagged review.Pairs among ``works`` (collect.StudentWorks) in ``assignments`` of
    ``course``: student code read as text, never run."""
    templates = course_templates(course.release, course.notebooks(assignments))
    return compare_class({w.student: w.notebooks for w in works}, templates, threshold)


def write_report(out, db_url=None, results=None, similar=None, threshold=DEFAULT_THRESHOLD):
    """OUT/report.html and its CSVs for the run in ``out``: ``results`` (StudentResults), or
    every student its journal holds; lateness from the gradebook at ``db_url`` (default
    OUT/gradebook.db when there is one); ``similar``: (flagged Pairs, students compared) from
    similar_pairs, whose side-by-side pages go to OUT/similarity/. Returns the page's path."""
    out = Path(out)
    if results is None:
        if not (out / FILE).is_file():
            raise NoRun(f"{out} holds no graded run ({FILE} not found): give the OUT folder "
                        f"of a conv-grader autograde run")
        journal = Journal(out, fresh=False)
        try:
            results = journal.everyone()
        finally:
            journal.close()
    db_url = db_url or f"sqlite:///{(out / 'gradebook.db').resolve()}"
    section = ""
    if similar is not None:
        pairs, compared = similar
        write_pages(out, pairs, write_atomically)
        section = report_section(pairs, threshold, compared)
    return class_report.write(out, results, late_submissions(db_url), section)


def compare_submissions(submissions, course, assignment=None, threshold=DEFAULT_THRESHOLD):
    """(flagged Pairs, students compared) of the class in ``submissions`` (nbgrader's layout,
    or a flat folder or zip of one ``assignment``), collected as autograde collects it."""
    import tempfile

    from ..collect import collect_usable

    with tempfile.TemporaryDirectory(prefix="conv-grader-similarity-") as scratch:
        works = collect_usable(submissions, course, assignment, scratch).works
        graded = course.graded_assignments(works, assignment)
        return similar_pairs(works, course, graded, threshold), len(works)


def similarity_check(submissions, course, out, assignment=None, threshold=DEFAULT_THRESHOLD):
    """Compare the class in ``submissions`` (nbgrader's layout, or a flat folder or zip of one
    ``assignment``) and write OUT/similarity/index.html and a side-by-side page per flagged
    pair; returns (the flagged Pairs, the index page's path). Nothing is graded or run."""
    out = Path(out)
    pairs, compared = compare_submissions(submissions, course, assignment, threshold)
    write_pages(out, pairs, write_atomically)
    index = out / PAGES / "index.html"
    section = report_section(pairs, threshold, compared).replace(f"href='{PAGES}/", "href='")
    write_atomically(index, f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Similar "
                            f"code</title><style>{class_report.STYLE}</style></head><body>"
                            f"{section}</body></html>")
    return pairs, index
