"""Grade one student: each notebook's tasks judged (calls.py), turned into rows, a feedback
page and the verdicts nbgrader's gradebook records. Runs wherever the schedule puts it: the
instructor's process, a pool process or a Dask worker."""

import time

from ..diagnosis import notebook_code, pictures
from ..diagnosis.checks import report
from ..diagnosis.tasks import TASKS
from ..feedback import Row, page
from ..sandbox import GRADING, StudentSandbox
from .calls import judge_notebook
from .own_tests import run_own_tests
from .result import StudentResult


def graded_cells(notebook):
    """[(grade_id, points, kind)] of a course notebook: kind "test" or "manual"."""
    cells = []
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            kind = "manual" if meta.get("solution") else "test"
            cells.append((meta["grade_id"], float(meta.get("points", 0)), kind))
    return cells


def grade_notebook(student, assignment, name, course_nb, path, run, deadline=None,
                   refused=None, host=None, cpu_deadline=None, page_notes=(), pictures=None):
    """Rows and a feedback page for one submitted (or missing, or ``refused``) notebook,
    with the scores and reports nbgrader records; ``host``: the student's StudentSandbox;
    ``page_notes``: sentences for the page only (not the gradebook's cell reports);
    ``pictures``, a dict, receives {grade_id: PNG bytes} of the failing tasks the page
    draws, for nbgrader's feedback to show the same picture."""
    cells = graded_cells(course_nb)
    manual = [(g, p) for g, p, kind in cells if kind == "manual"]
    tests = [(g, p) for g, p, kind in cells if kind == "test"]

    def rows(status, scores=None):
        out = [Row(student, assignment, name, g, (scores or {}).get(g, 0.0), p, status)
               for g, p in tests]
        out += [Row(student, assignment, name, g, "", p, "needs manual grading"
                    if status == "graded" else status) for g, p in manual]
        return out

    if path is None and not refused:
        message = "This notebook was not submitted."
        return (rows("missing"), page(student, assignment, name, [], manual,
                                      run.notes + list(page_notes), error=message), {},
                {g: message for g, _ in tests})
    try:
        if refused:
            raise ValueError(refused)
        submission = notebook_code.read(path)
    except ValueError as error:
        message = f"Could not be graded: {error}"
        return (rows("error"), page(student, assignment, name, [], manual,
                                    run.notes + list(page_notes), error=message), {},
                {g: message for g, _ in tests})
    # A test cell's grade id names its task, whatever the assignment is called.
    tasks = [g.removeprefix("test_") for g, _ in tests if g.removeprefix("test_") in TASKS]
    cells = notebook_code.student_cells(submission, course_nb)
    prelude = notebook_code.prelude(course_nb)
    own = notebook_code.own_tests(course_nb)
    own_results, own_notes = {}, []
    if own:  # before the tasks, whose hidden cases run last
        own_results, own_notes = run_own_tests(
            prelude, notebook_code.student_cells(submission, course_nb, {g: s for g, s, _ in own}),
            {g: p for g, _, p in own}, run.limits, deadline=deadline, host=host)
    result = judge_notebook(prelude, cells, tasks, run.hidden_seed(assignment, [s for _, s in cells]),
                            run.limits, deadline=deadline, host=host, cpu_deadline=cpu_deadline)
    notes = notebook_code.notes_on_cells(submission, course_nb, cells) + result.notes
    notes += [n for n in own_notes if n not in notes]
    points = dict(tests)
    entries, scores, reports = [], {}, {}
    for task in tasks:
        verdicts = result.verdicts[task]
        grade_id = f"test_{task}"
        score = round(points[grade_id] * sum(v.passed for v in verdicts) / len(verdicts), 2)
        scores[grade_id] = score
        findings = result.findings.get(task, [])
        drawn = drawing(verdicts)
        if drawn is not None and pictures is not None:
            pictures[grade_id] = drawn
        entries.append({"function": TASKS[task].function, "score": score,
                        "max_score": points[grade_id], "verdicts": verdicts, "findings": findings,
                        "picture": drawn})
        reports[grade_id] = "\n".join(
            [report(TASKS[task].function, verdicts, show_passes=False, findings=findings)] + notes)
    for grade_id, (score, text) in own_results.items():
        scores[grade_id] = score
        entries.append({"function": grade_id, "score": score, "max_score": points[grade_id],
                        "report": text})
        reports[grade_id] = "\n".join([text] + notes)
    return rows("graded", scores), page(student, assignment, name, entries, manual,
                                        notes + list(page_notes)), scores, reports


def drawing(verdicts):
    """PNG bytes of the first failing case (expected, yours, difference), or None when
    every case passed or nothing can be drawn. Sealed hidden cases carry no arrays, so
    they are never drawn."""
    if all(v.passed for v in verdicts):
        return None
    try:
        return pictures.first_difference_png(verdicts)
    except Exception:  # noqa: BLE001 - a picture is a bonus; the report says it all
        return None


def grade_student(work, run, record=None):
    """Every graded assignment of one student (``work``: a collect.StudentWork) in one sandbox,
    a fresh worker process per notebook. ``record(work, result, [assignment])``, when given,
    is called as each assignment is done (the gradebook's recorder)."""
    start = time.perf_counter()
    deadline = time.monotonic() + run.limits.student_seconds
    cpu_deadline = time.thread_time() + run.limits.judge_cpu_seconds  # this thread's judging
    result = StudentResult(work.student, unsandboxed=run.limits.unsafe_no_sandbox)
    label = GRADING.set(work.student)
    host = StudentSandbox(run.limits)
    try:
        for assignment in run.assignments:
            decided = {}
            # A timestamp.txt that was not used is said on the pages and to the instructor.
            times = work.times.get(assignment)
            said = [times.note()] if times and times.problem else []
            if said:
                result.warnings.append(times.flag(work.student, assignment))
            if times and times.exchange_note:  # its exchange folder was not found plainly
                result.warnings.append(f"{work.student}/{assignment}: {times.exchange_note}")
            for name, course_nb in run.books[assignment].items():
                drawn = {}
                rows, page_html, scores, reports = grade_notebook(
                    work.student, assignment, name, course_nb, work.notebooks.get((assignment, name)),
                    run, deadline, refused=work.refusal(assignment, name), host=host,
                    cpu_deadline=cpu_deadline, page_notes=said, pictures=drawn,
                )
                result.rows += rows
                result.pages[(assignment, name)] = page_html
                result.reports.update({(assignment, name, g): text for g, text in reports.items()})
                decided[name] = {g: (scores.get(g, 0.0), text, drawn.get(g))
                                 for g, text in reports.items()}
            result.decided[assignment] = decided
            if record is not None:
                record(work, result, [assignment])
    finally:
        host.close()
        GRADING.reset(label)
    result.seconds = time.perf_counter() - start
    return result


UNJUDGEABLE = ("the grader could not judge this submission: judging it ended the grading "
               "process more than once, as a crash or running out of memory does. Your "
               "instructor is told.")


def failed_student(work, run, why):
    """Rows with status "error" and a feedback page that says why, for a student whose
    grading broke down outside the sandbox: ``why`` is an exception (a bug of ours, never
    theirs) or a sentence (say, their judging ended the grading process)."""
    result = StudentResult(work.student, unsandboxed=run.limits.unsafe_no_sandbox, broken=True)
    reason = f"{type(why).__name__}: {why}" if isinstance(why, BaseException) else why
    message = f"Could not be graded: {reason}"
    for assignment in run.assignments:
        for name, course_nb in run.books[assignment].items():
            cells = graded_cells(course_nb)
            result.rows += [Row(work.student, assignment, name, g, 0.0 if kind == "test" else "",
                                p, "error") for g, p, kind in cells]
            manual = [(g, p) for g, p, kind in cells if kind == "manual"]
            result.pages[(assignment, name)] = page(
                work.student, assignment, name, [], manual, run.notes, error=message)
    result.warnings.append(f"{work.student}: {message}")
    return result


def grade_safely(work, run, record=None):
    """grade_student, or failed_student when grading breaks down: what every schedule runs."""
    try:
        return grade_student(work, run, record)
    except Exception as error:  # noqa: BLE001 - one student's trouble must not stop the class
        return failed_student(work, run, error)


def one_blas_thread():
    """The judge's reference arithmetic on one BLAS thread: each grading process is one of
    --jobs (or of a cluster worker's threads), and more threads only fight over the cores."""
    from threadpoolctl import threadpool_limits  # scikit-learn's dependency

    threadpool_limits(1)
