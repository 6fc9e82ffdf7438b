"""Grade a whole class (a ClassRun): nbgrader bookkeeping plus trusted, sandboxed judging.

For each student, one after another, in a pool of ``jobs`` processes (local.py) or on a Dask
cluster (cluster.py):
1. each notebook's solution cells run in a fresh worker process in the student's
   sandbox, which calls the graded functions on public and hidden cases;
2. the verdicts are decided next to it, where no student code runs, and nbgrader
   autograde records them in the gradebook;
3. the instructor's process commits the student to OUT/graded.sqlite (journal.py) the
   moment the result arrives, so an interrupted run loses no finished student and
   ``--resume`` grades only the rest;
4. at the end grades.csv, a feedback page per notebook and the class report (report.py)
   are written from the journal, each file whole or not at all (a temporary file renamed
   into place).

A submission whose folder or file name is not a usable student id is not graded, and
nothing of it is read; everyone else is, and OUT/not_graded.txt says where it is, why,
and how to fix it.
"""

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..collect import EXCHANGE, TIMESTAMP, collect_usable
from ..feedback import write_outputs
from ..gradebook import gradebook_url, nbgrader_setup_once, recorder_for
from ..judge import Run, course_secret_made, forget_course_secret
from ..sandbox import Limits, remove_leftovers, temporary_folder, verify
from .journal import Journal, fingerprints
from .local import grade_here, grade_in_pool
from .report import similar_pairs, write_report


@dataclass(frozen=True)
class ClassRun:
    """Everything ``conv-grader autograde`` was told, in one place.

    What is graded: ``submissions`` (nbgrader's layout, or a flat folder or zip of one
    ``assignment``) against ``course`` (a gradebook.CourseDir), only ``assignment`` if given.
    Where results go: ``out`` (grades.csv, feedback/, the journal), the gradebook ``db_url``
    (default: the course's when grading its submitted/ folder, else OUT/gradebook.db), and
    nbgrader's gradebook at all only with ``use_nbgrader``.
    With what: the sandbox's ``limits`` and the hidden cases' ``seed`` (None: the course secret);
    submission times (nbgrader's layout) from ``lateness``, one of collect.LATENESS_SOURCES:
    when each reached nbgrader's exchange, the students' own timestamp.txt, or when each copy
    was collected; None (the default): ``exchange`` when the course's exchange inbound folder
    exists here, else ``timestamp`` (lateness_source).
    How: ``resume`` keeps the students an earlier run into OUT finished; ``jobs`` pool processes,
    or the Dask scheduler at ``cluster``; a progress bar with ``progress``. ``in_process``
    grades here instead, where a crash in the judging ends the run (for profiling only).
    """

    course: object
    submissions: Path
    out: Path
    assignment: str = None
    seed: object = None
    limits: Limits = field(default_factory=Limits)
    db_url: str = None
    use_nbgrader: bool = True
    resume: bool = False
    jobs: int = 1
    cluster: str = None
    progress: bool = True
    in_process: bool = False  # grade in this process, without crash containment (profiling)
    lateness: str = None


def lateness_source(course, lateness=None):
    """(the --lateness source, the exchange's inbound folder to read or None, a note for the
    summary or None) for ``course``: ``lateness`` itself when given, else ``exchange`` when the
    course's nbgrader config (or nbgrader's default) names an exchange whose inbound folder
    exists, else ``timestamp``, nbgrader's own choice."""
    inbound = course.exchange_inbound
    found = inbound is not None and inbound.is_dir()
    where = f"{inbound} not found" if inbound is not None else "the course has no course_id"
    if lateness is None and found:
        return EXCHANGE, inbound, None
    if lateness is None:
        return TIMESTAMP, None, (
            f"lateness: no nbgrader exchange here ({where}), so submission times "
            f"are the students' own timestamp.txt, as nbgrader takes them (--lateness "
            f"timestamp; pass --lateness collected if your hub collects continuously)")
    if lateness == EXCHANGE and not found:
        return EXCHANGE, None, (
            f"lateness: --lateness exchange, but there is no nbgrader exchange here ({where}), "
            f"so submission times are the students' own timestamp.txt")
    return lateness, inbound if lateness == EXCHANGE else None, None


def autograde(request, notes=None):
    """Grade every student of ``request`` (a ClassRun); returns (results, seed). The
    submissions whose name is not a usable student id are listed in OUT/not_graded.txt
    instead, a file that exists only while there are some.

    Hidden cases come from ``request.seed``, by default the course secret (judge.seeds).
    Each student is committed to OUT/graded.sqlite (journal.py) as soon as graded;
    ``request.resume`` grades only those not committed with the same seed and submissions.
    Raises sandbox.SandboxUnavailable before anything is graded when no sandbox can start
    here, unless ``request.limits.unsafe_no_sandbox`` says to grade without one.
    A run that raises before it committed anyone leaves no file it made: the submissions
    and the assignments are checked before OUT and the course secret are made, and what it
    made of them after is removed again.
    Ctrl-C (KeyboardInterrupt) lets the students in progress finish and be committed.
    ``notes``, a list, receives what the run's summary should say once (where submission
    times came from, when not as asked)."""
    course = request.course
    lateness, inbound, said = lateness_source(course, request.lateness)
    notes = [] if notes is None else notes
    out = Path(request.out)
    if request.cluster is None:
        verify(request.limits)  # on a cluster, each worker verifies its own sandbox
    else:
        remove_leftovers()  # what graders killed here left (verify does this on each worker)
    with temporary_folder("autograde-") as scratch:
        collection = collect_usable(request.submissions, course, request.assignment, scratch,
                                    inbound)
        notes += [said] if said else []
        notes += collection.notes
        works = collection.works
        graded = course.graded_assignments(works, request.assignment)
        books = course.notebooks(graded)
        made_out = _outermost_missing(out)  # after collect: OUT may sit inside SUBMISSIONS
        made_secret, committed = None, []
        try:
            out.mkdir(parents=True, exist_ok=True)
            seed = request.seed
            if seed is None:
                seed, made = course_secret_made(course.root)
                made_secret = seed if made else None
            run = Run(seed, request.limits, tuple(graded), books)
            results = _grade(works, run, request, scratch, out, committed, lateness)
            similar = (similar_pairs(works, course, graded), len(works))  # while works exist
        except Exception:
            if not committed:  # graded no one: take back what this run made
                if made_out is not None:
                    shutil.rmtree(made_out, ignore_errors=True)
                if made_secret is not None:
                    forget_course_secret(course.root, made_secret)
            raise
    results.sort(key=lambda r: r.student)
    write_outputs(out, results, collection.unusable)
    db_url = (gradebook_url(course, request.submissions, out, request.db_url)
              if request.use_nbgrader else None)
    write_report(out, db_url, results, similar)
    return results, seed


def _outermost_missing(path):
    """The outermost folder of ``path`` that does not exist yet; None when ``path`` does."""
    missing, path = None, Path(path).absolute()
    while not (path.exists() or path.is_symlink()):
        missing, path = path, path.parent
    return missing


def _grade(works, run, request, scratch, out, committed, lateness):
    """The results of ``works`` in ``run``: those the journal in ``out`` keeps from an earlier
    run (with --resume), then the rest graded, each appended to ``committed`` as committed;
    submission times from the ``lateness`` source."""
    marks = fingerprints(works, run, lateness)
    journal = Journal(out, fresh=not request.resume)
    try:
        done = journal.finished(marks)
        todo = [w for w in works if w.student not in done]

        def commit(result):
            if not result.broken:  # a breakdown is graded again by --resume
                journal.commit(result, marks[result.student])
                committed.append(result.student)

        with nbgrader_setup_once():
            recorder = None
            if request.use_nbgrader and todo:
                recorder = recorder_for(request.course, request.submissions, scratch, out,
                                        request.db_url, list(run.assignments), lateness)
            fresh = _schedule(todo, run, recorder, request, commit, len(works))
        # Everything written comes from the journal, so a resumed run writes what an
        # uninterrupted one would; breakdowns were never committed and come from this run.
        results = list(journal.finished(marks).values())
        for result in results:
            result.resumed = result.student in done
        return results + [r for r in fresh if r.broken]
    finally:
        journal.close()


def _schedule(works, run, recorder, request, commit, total):
    """Grade ``works`` where ``request`` says, passing each result to ``commit`` as it
    arrives; returns them all."""
    from tqdm.auto import tqdm

    bar = tqdm(total=total, initial=total - len(works), desc="grading", unit="student",
               disable=not request.progress)
    results = []

    def finish(result):
        commit(result)
        results.append(result)
        bar.update()

    try:
        if request.cluster is not None:
            from .cluster import grade_on_cluster

            grade_on_cluster(request.cluster, works, run, recorder, finish)
        elif request.in_process:
            grade_here(works, run, recorder, finish)
        else:  # even one job: a crash in the judging then ends a pool process, not the run
            grade_in_pool(works, run, recorder, max(1, min(request.jobs, len(works))), finish)
    finally:
        bar.close()
    return results
