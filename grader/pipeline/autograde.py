"""Grade a whole class: nbgrader bookkeeping plus trusted, sandboxed judging.

For each student, in a pool of ``jobs`` processes (or on a Dask cluster, cluster.py):
1. each notebook's solution cells run in a fresh worker process in the student's
   sandbox, which calls the graded functions on public and hidden cases;
2. the verdicts are decided next to it, where no student code runs, and nbgrader
   autograde records them in the gradebook;
3. the instructor's process commits the student to OUT/graded.sqlite (journal.py) the
   moment the result arrives, so an interrupted run loses no finished student and
   ``--resume`` grades only the rest;
4. at the end grades.csv and a feedback page per notebook are written from the
   journal, each file whole or not at all (a temporary file renamed into place).

A submission whose folder or file name is not a usable student id is not graded, and
nothing of it is read; everyone else is, and OUT/not_graded.txt says where it is, why,
and how to fix it.
"""

import csv
import io
import multiprocessing
import os
import signal
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import feedback, trusted
from ..diagnosis import notebook_code
from ..diagnosis.checks import report
from .course import (close_connections, current, gradebook_course, graded_assignments,
                     graded_cells, nbgrader_setup_once)
from .isolation import UNSAFE_FLAG, UNSAFE_NOTE
from .journal import Journal, course_fingerprint, fingerprint
from .sandbox import GRADING, Limits, StudentSandbox, verify
from .seeds import course_secret, student_seed
from .submissions import collect_usable, listing
from ..diagnosis.tasks import TASKS

COLUMNS = ["student_id", "assignment", "notebook", "grade_id", "score", "max_score", "status"]
NOT_GRADED = "not_graded.txt"  # in OUT, only while some submission could not be graded


@dataclass
class StudentResult:
    student: str
    rows: list = field(default_factory=list)
    pages: dict = field(default_factory=dict)  # (assignment, notebook) -> html
    warnings: list = field(default_factory=list)  # for the instructor
    reports: dict = field(default_factory=dict)  # (assignment, notebook, grade_id) -> text
    seconds: float = 0.0  # wall time spent grading this student
    unsandboxed: bool = False  # graded with --unsafe-no-sandbox
    # assignment -> {notebook: {grade_id: (score, report)}}: what the gradebook records
    decided: dict = field(default_factory=dict)
    broken: bool = False  # grading broke down (failed_student): never kept for --resume
    resumed: bool = False  # kept from an earlier run by --resume, not graded by this one


def course_notebooks(graded):
    """{assignment: {name: notebook}} of the course, read once per run, not per student."""
    return {assignment: {name: nbformat.read(str(p), as_version=4)
                         for name, p in current().notebook_paths(assignment).items()}
            for assignment in graded}


def _run_notes(limits):
    """What every feedback page of this run says about how it was graded."""
    return [UNSAFE_NOTE] if limits is not None and limits.unsafe_no_sandbox else []


def grade_notebook(student, assignment, name, course_nb, path, seed, limits, deadline=None,
                   refused=None, host=None):
    """Rows and a feedback page for one submitted (or missing, or ``refused``) notebook;
    ``host``: the student's StudentSandbox (sandbox.py)."""
    cells = graded_cells(course_nb)
    manual = [(g, p) for g, p, kind in cells if kind == "manual"]
    tests = [(g, p) for g, p, kind in cells if kind == "test"]

    def rows(status, scores=None):
        out = [[student, assignment, name, g, (scores or {}).get(g, 0.0), p, status]
               for g, p in tests]
        out += [[student, assignment, name, g, "", p, "needs manual grading"
                 if status == "graded" else status] for g, p in manual]
        return out

    run_notes = _run_notes(limits)
    if path is None and not refused:
        message = "This notebook was not submitted."
        return (rows("missing"), feedback.page(student, assignment, name, [], manual, run_notes,
                                               error=message), {}, {g: message for g, _ in tests})
    try:
        if refused:
            raise ValueError(refused)
        submission = notebook_code.read(path)
    except ValueError as error:
        message = f"Could not be graded: {error}"
        return (rows("error"), feedback.page(student, assignment, name, [], manual, run_notes,
                                             error=message), {}, {g: message for g, _ in tests})
    # A test cell's grade id names its task, whatever the assignment is called.
    tasks = [g.removeprefix("test_") for g, _ in tests if g.removeprefix("test_") in TASKS]
    cells = notebook_code.student_cells(submission, course_nb)
    result = trusted.grade_notebook(notebook_code.prelude(course_nb), cells, tasks, seed, limits,
                                    deadline=deadline, host=host)
    notes = notebook_code.notes_on_cells(submission, course_nb, cells) + result.notes
    points = dict(tests)
    entries, scores, reports = [], {}, {}
    for task in tasks:
        verdicts = result.verdicts[task]
        grade_id = f"test_{task}"
        score = round(points[grade_id] * sum(v.passed for v in verdicts) / len(verdicts), 2)
        scores[grade_id] = score
        findings = result.findings.get(task, [])
        entries.append({"function": TASKS[task].function, "score": score,
                        "max_score": points[grade_id], "verdicts": verdicts, "findings": findings})
        reports[grade_id] = "\n".join(
            [report(TASKS[task].function, verdicts, show_passes=False, findings=findings)] + notes)
    page = feedback.page(student, assignment, name, entries, manual, notes)
    return rows("graded", scores), page, scores, reports


def grade_student(work, course, seed, limits, graded_assignments, books=None):
    """Everything for one student; runs in a pool process or on a cluster worker.

    ``books``: course_notebooks(graded_assignments), read here when not given. With a
    ``course``, each assignment is recorded in its gradebook (record_student) as it is graded."""
    start = time.perf_counter()
    limits = limits or Limits()
    books = books or course_notebooks(graded_assignments)
    deadline = time.monotonic() + limits.student_seconds
    result = StudentResult(work.student, unsandboxed=limits.unsafe_no_sandbox)
    label = GRADING.set(work.student)
    host = StudentSandbox(limits)  # one sandbox per student, a fresh process per notebook
    try:
        for assignment in graded_assignments:
            decided = {}
            for name, course_nb in books[assignment].items():
                rows, page, scores, reports = grade_notebook(
                    work.student, assignment, name, course_nb, work.notebooks.get((assignment, name)),
                    student_seed(seed, work.student, assignment), limits, deadline,
                    refused=work.refusal(assignment, name), host=host,
                )
                result.rows += rows
                result.pages[(assignment, name)] = page
                result.reports.update({(assignment, name, g): text for g, text in reports.items()})
                decided[name] = {g: (scores.get(g, 0.0), text) for g, text in reports.items()}
            result.decided[assignment] = decided
            if course is not None:
                record_student(course, work, result, [assignment])
    finally:
        host.close()
        GRADING.reset(label)
    result.seconds = time.perf_counter() - start
    return result


def record_student(course, work, result, assignments=None):
    """nbgrader autograde of the student's submitted ``assignments`` (all graded ones by
    default) into ``course``'s gradebook, with the verdicts in ``result``."""
    for assignment in assignments or list(result.decided):
        submitted = {nb: p for (a, nb), p in work.notebooks.items() if a == assignment}
        if not submitted:
            continue
        problem = course.record(work.student, assignment, submitted, result.decided[assignment])
        if problem:  # the grades stand; only the gradebook copy is missing
            result.warnings.append(f"{work.student}/{assignment}: nbgrader could not record "
                                   f"this submission in the gradebook: {problem}")


def failed_student(work, graded_assignments, error, limits=None, books=None):
    """Rows with status "error" and a feedback page that says why, for a student
    whose grading broke down outside the sandbox (a bug of ours, never theirs)."""
    books = books or course_notebooks(graded_assignments)
    result = StudentResult(work.student, unsandboxed=bool(limits and limits.unsafe_no_sandbox),
                           broken=True)
    message = f"Could not be graded: {type(error).__name__}: {error}"
    for assignment in graded_assignments:
        for name, course_nb in books[assignment].items():
            cells = graded_cells(course_nb)
            result.rows += [[work.student, assignment, name, g, 0.0 if kind == "test" else "", p,
                             "error"] for g, p, kind in cells]
            manual = [(g, p) for g, p, kind in cells if kind == "manual"]
            result.pages[(assignment, name)] = feedback.page(
                work.student, assignment, name, [], manual, _run_notes(limits), error=message)
    result.warnings.append(f"{work.student}: {message}")
    return result


def _grade_safely(work, course, seed, limits, graded_assignments, books=None):
    try:
        return grade_student(work, course, seed, limits, graded_assignments, books)
    except Exception as error:  # noqa: BLE001 - one student's trouble must not stop the class
        return failed_student(work, graded_assignments, error, limits, books)


_POOL_STATE = {}


def one_blas_thread():
    """The judge's reference arithmetic on one BLAS thread: each grading process is one of
    --jobs (or of a cluster worker's threads), and more threads only fight over the cores."""
    from threadpoolctl import threadpool_limits  # scikit-learn's dependency

    threadpool_limits(1)


def _init_pool(course, books):
    # Ctrl-C is the instructor's process's to handle: it lets running students finish.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    one_blas_thread()
    if course is not None:
        course.connect()
    _POOL_STATE.update(course=course, books=books)


def _pool_grade(work, seed, limits, graded_assignments):
    return _grade_safely(work, _POOL_STATE.get("course"), seed, limits, graded_assignments,
                         _POOL_STATE.get("books"))


def autograde(submissions, out, jobs=1, db_url=None, seed=None, assignment=None,
              limits=None, use_nbgrader=True, progress=True, resume=False, cluster=None):
    """Grade every student under ``submissions``; returns (results, seed). The submissions
    whose name is not a usable student id are listed in OUT/not_graded.txt (not_graded_text)
    instead, a file that exists only while there are some.

    Hidden cases come from ``seed``, by default the course secret (seeds.course_secret).
    Each student is committed to OUT/graded.sqlite (journal.py) as soon as graded;
    ``resume`` grades only those not committed with the same seed and submissions.
    ``cluster``: a Dask scheduler address to grade on (cluster.py) instead of ``jobs``.
    Raises isolation.SandboxUnavailable before anything is graded when no sandbox
    can start here, unless ``limits.unsafe_no_sandbox`` says to grade without one.
    Ctrl-C (KeyboardInterrupt) lets the students in progress finish and be committed."""
    out = Path(out)
    seed = course_secret(current().root) if seed is None else seed
    limits = limits or Limits()
    if cluster is None:
        verify(limits)  # on a cluster, each worker verifies its own sandbox
    with tempfile.TemporaryDirectory(prefix="autograde-") as scratch:
        collection = collect_usable(submissions, assignment, scratch)
        works = collection.works
        out.mkdir(parents=True, exist_ok=True)  # after collect: OUT may sit inside SUBMISSIONS
        graded = graded_assignments(works, assignment)
        books = course_notebooks(graded)
        course_mark = course_fingerprint(books)
        marks = {w.student: fingerprint(w, seed, graded, limits.unsafe_no_sandbox, course_mark)
                 for w in works}
        journal = Journal(out, fresh=not resume)
        try:
            done = journal.finished(marks, StudentResult)
            todo = [w for w in works if w.student not in done]

            def commit(result):
                if not result.broken:  # a breakdown is graded again by --resume
                    journal.commit(result, marks[result.student])

            with nbgrader_setup_once():
                course = None
                if use_nbgrader and todo:
                    course = gradebook_course(submissions, scratch, out, db_url, graded)
                fresh = _run(todo, course, seed, limits, graded, books, jobs, cluster, progress,
                             commit, len(works))
            # Everything written comes from the journal, so a resumed run writes what an
            # uninterrupted one would; breakdowns were never committed and come from this run.
            results = list(journal.finished(marks, StudentResult).values())
            for result in results:
                result.resumed = result.student in done
            results += [r for r in fresh if r.broken]
        finally:
            journal.close()
    results.sort(key=lambda r: r.student)
    _write(out, results, collection.unusable)
    return results, seed


def _run(works, course, seed, limits, graded, books, jobs, cluster, progress, commit, total):
    """Grade ``works``, passing each result to ``commit`` as it arrives; returns them all."""
    from tqdm.auto import tqdm

    bar = tqdm(total=total, initial=total - len(works), desc="grading", unit="student",
               disable=not progress)
    results = []

    def finish(result):
        commit(result)
        results.append(result)
        bar.update()

    try:
        if cluster is not None:
            from .cluster import grade_on_cluster

            grade_on_cluster(cluster, works, course, seed, limits, graded, books, finish)
        elif jobs <= 1 or len(works) <= 1:
            for work in works:
                finish(_grade_safely(work, course, seed, limits, graded, books))
        else:
            _grade_in_pool(works, course, seed, limits, graded, books, jobs, finish)
    finally:
        bar.close()
    return results


def _grade_in_pool(works, course, seed, limits, graded, books, jobs, finish):
    # fork: the pool inherits nbgrader and numpy already imported (seconds saved per process)
    context = multiprocessing.get_context("fork")
    close_connections()
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_pool,
                             initargs=(course, books)) as pool:
        futures = {pool.submit(_pool_grade, w, seed, limits, graded): w for w in works}
        pending = set(futures)

        def collect_from(done):
            for future in done:
                pending.discard(future)
                try:
                    finish(future.result())
                except Exception as error:  # noqa: BLE001 - e.g. the pool process was killed
                    finish(failed_student(futures[future], graded, error, limits, books))

        try:
            collect_from(as_completed(futures))
        except KeyboardInterrupt:
            for future in pending:
                future.cancel()  # not started: left for --resume
            collect_from(as_completed([f for f in pending if not f.cancelled()]))
            raise


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A cell a spreadsheet shows as text, never runs as a formula (OWASP: CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_atomically(path, text):
    """Write ``path`` whole or not at all: a temporary file beside it, renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def not_graded_text(unusable):
    """What OUT/not_graded.txt and the end of the printed summary say about ``unusable``."""
    count = f"{len(unusable)} submission{'s' if len(unusable) > 1 else ''}"
    return (f"NOT GRADED: {count}, set aside before grading (nothing in them was read or "
            f"changed):\n{listing(unusable)}\nThen run the same command again with --resume: "
            f"everyone graded is kept, and only the rest is graded.\n")


def _write(out, results, unusable=()):
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(COLUMNS)
    for result in results:
        writer.writerows([csv_cell(c) for c in row] for row in result.rows)
    for result in results:
        for (assignment, name), page in result.pages.items():
            write_atomically(out / "feedback" / result.student / assignment / f"{name}.html", page)
    write_atomically(out / "grades.csv", table.getvalue())
    if unusable:
        write_atomically(out / NOT_GRADED, not_graded_text(unusable))
    else:  # an earlier run's list, fixed since
        (out / NOT_GRADED).unlink(missing_ok=True)


def summary(results):
    """A text table: one row per student, one column per assignment, then the total."""
    graded = sorted({r[1] for res in results for r in res.rows})
    header = ["student"] + graded + ["total"]
    table = []
    for result in results:
        row, total, possible = [result.student], 0.0, 0.0
        for assignment in graded:
            # Written answers (score left blank for the instructor) do not count here.
            mine = [r for r in result.rows if r[1] == assignment and r[4] != ""]
            earned = sum(float(r[4] or 0) for r in mine)
            best = sum(float(r[5]) for r in mine)
            broken = any(r[6] in ("error", "missing") for r in mine)
            row.append(f"{earned:g}/{best:g}" + (" (" + mine[0][6] + ")" if broken else ""))
            total, possible = total + earned, possible + best
        row.append(f"{total:g}/{possible:g}")
        table.append(row)
    widths = [max(len(str(r[i])) for r in [header] + table) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in table]
    if any(r.unsandboxed for r in results):
        lines.append(f"\nUNSAFE: graded without the sandbox ({UNSAFE_FLAG}); hostile code could "
                     "have changed any of these grades.")
    return "\n".join(lines)
