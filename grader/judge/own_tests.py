"""An instructor's own test cells (a test cell whose grade id names no task), run in the
student's sandbox with the same limits as everything else of theirs, and scored here by
nbgrader's rules. Nothing of a submission runs in a kernel.

The worker runs the notebook's cells in order, each own test cell (the course's source)
where the notebook has it, as a kernel would: its last expression's value kept, what it
prints captured, warnings on stderr. A test cell that times out or ends the worker is
skipped and the cells after it run in a fresh worker, as nbgrader interrupts a cell and
goes on. Like nbgrader's, these cells run in the student's namespace: a student's code can
redefine what they call, and here it can even forge what the worker reports about them.
Only task cells get the trusted judge's verdicts; an own test is as trustworthy as
nbgrader's own, but it runs where it can harm nothing."""

import math

from ..diagnosis.notebook_code import strip_magics
from ..sandbox import Limits, Session

LEAD = "Instructor's test cell {grade_id}, run in the grading sandbox after the cells above it:"


def score_outcome(outcome, points):
    """(score, reason or None) by nbgrader's rules: an error or anything on stderr scores 0;
    a number as the last expression is the score; anything else, full points. A number
    outside [0, points] (nbgrader stops on one above the points) scores 0 here."""
    if outcome["error"] is not None:
        return 0.0, "it raised an error"
    if outcome["stderr"]:
        return 0.0, "it wrote to stderr (a warning?), which counts as a failure"
    number = outcome["number"]
    if number is None:
        return points, None
    if not math.isfinite(number) or not 0 <= number <= points:
        return 0.0, f"its value {number:g} is not a score between 0 and {points:g}"
    return number, None


def _report(grade_id, points, outcome, skipped, limits):
    lines = [LEAD.format(grade_id=grade_id)]
    if outcome is None:
        if skipped == "ended the grading process":
            lines.append("It ended the grading process (os._exit, a crash, or more memory than "
                         "the limit allows); it was skipped.")
        elif skipped:
            lines.append(f"It did not finish within {limits.load_seconds:g} s (your cells and "
                         "the tests before it included); it was skipped.")
        else:
            lines.append("It was not run: your notebook's code could not be loaded (see the "
                         "notes).")
        return 0.0, "\n".join(lines + [f"Score: 0 / {points:g}"])
    score, why = score_outcome(outcome, points)
    if outcome["stdout"]:
        lines += ["It printed:", outcome["stdout"].rstrip("\n")]
    if outcome["stderr"]:
        lines += ["On stderr:", outcome["stderr"].rstrip("\n")]
    if outcome["error"] is not None:
        error = outcome["error"]
        where = f" ({error['where']})" if error["where"] else ""
        lines.append(f"It raised {error['type']}: {error['message']}{where}")
    elif outcome["text"] is not None:
        lines.append(f"Its value: {outcome['text']}")
    if why:
        lines.append(f"Scored 0: {why}.")
    return score, "\n".join(lines + [f"Score: {score:g} / {points:g}"])


def run_own_tests(prelude, cells, tests, limits=None, deadline=None, host=None):
    """Run ``cells`` ([(cell id, source)] in notebook order, among them the test cells named
    in ``tests``: {grade_id: points}) in the student's sandbox. Returns ({grade_id: (score,
    report)}, notes): the notes say what else happened to the notebook's cells."""
    limits = limits or Limits()
    session = Session(prelude, [(i, strip_magics(s)) for i, s in cells], [], limits,
                      deadline=deadline, host=host, tests=list(tests))
    try:
        session.load()
    finally:
        session.close()
    results = {g: _report(g, points, session.outcomes.get(g), session.skipped.get(g), limits)
               for g, points in tests.items()}
    notes = [f"cell {cell} raised {error['type']}: {error['message']}"
             for cell, error in session.cell_errors.items()]
    notes += [n for n in session.notes if not any(n.startswith(f"cell {g} ") for g in tests)]
    return results, notes
