"""Grade on a Dask distributed cluster: ``conv-grader autograde ... --cluster ADDRESS``.

Each student travels as a parcel (the bytes of their notebook files, what was refused and
why) to a Dask worker, which writes them to a private scratch folder and grades them
exactly as a local pool process does: the student's code in the bubblewrap sandbox, the
judging in the Dask worker's own process beside it, which runs no student code. Only the
StudentResult comes back. The gradebook, the journal, grades.csv and the feedback pages
are written here, in the instructor's process, once per student: when a worker dies
mid-student, Dask runs that student again elsewhere, and whichever result arrives first
is the one recorded.

Every worker needs this package installed (``pip install "conv-course[cluster]"``) and
bubblewrap; each checks its own sandbox before its first student. The hidden cases' seed
travels to the workers: use a ``tls://`` scheduler address off a trusted network.
"""

import uuid
from pathlib import Path

from ..collect import StudentWork
from ..judge import UNJUDGEABLE, failed_student, grade_safely, one_blas_thread
from ..sandbox import temporary_folder, verify

RETRIES = 2  # a student whose task raised (not one whose worker died: Dask reschedules those)


class ClusterUnavailable(RuntimeError):
    """Dask is not installed, or the scheduler cannot be reached; nothing was graded."""


def parcel(work, graded):
    """What a worker needs of one student: (id, {(assignment, notebook): bytes}, refused)."""
    files = {key: Path(path).read_bytes() for key, path in work.notebooks.items()
             if key[0] in graded}
    return work.student, files, dict(work.refused)


_VERIFIED = set()  # sandbox modes this worker process has checked


def grade_parcel(packed, run):
    """Runs on a Dask worker: unpack one student's files, grade them, return the result."""
    if run.limits.unsafe_no_sandbox not in _VERIFIED:
        one_blas_thread()
        verify(run.limits)  # raises SandboxUnavailable: this worker must not grade anyone;
        # first removes what graders killed on this machine left (a dead worker's folders)
        _VERIFIED.add(run.limits.unsafe_no_sandbox)
    student, files, refused = packed
    # Named after this process: if it is killed mid-student, the next verify here removes it.
    with temporary_folder("cluster-student-") as scratch:
        notebooks = {}
        for (assignment, name), data in files.items():
            path = Path(scratch) / assignment / f"{name}.ipynb"
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(data)
            notebooks[(assignment, name)] = path
        work = StudentWork(student, notebooks, refused)
        return grade_safely(work, run)  # recorded in the gradebook here, when it arrives


def _client(address):
    try:
        from distributed import Client
    except ImportError as error:
        raise ClusterUnavailable('grading on a cluster needs Dask: pip install '
                                 '"conv-course[cluster]"') from error
    try:
        return Client(address, timeout=30)
    except (OSError, TimeoutError, ValueError) as error:
        raise ClusterUnavailable(f"no Dask scheduler answers at --cluster {address!r}: "
                                 f"{error}") from error


def grade_on_cluster(address, works, run, recorder, finish):
    """Grade ``works`` on the cluster at ``address``; ``finish`` gets each result here,
    after ``recorder`` (if any) has made its gradebook entry."""
    tag = uuid.uuid4().hex[:8]  # task keys unique per run: no result of an earlier run is reused
    with _client(address) as client:
        from distributed import as_completed

        [shared_run] = client.scatter([run], broadcast=True)  # the course notebooks, once
        futures = {client.submit(grade_parcel, parcel(work, run.assignments), shared_run,
                                 key=f"grade-{tag}-{work.student}", pure=False,
                                 retries=RETRIES): work for work in works}
        try:
            for future in as_completed(futures):
                work = futures[future]
                try:
                    result = future.result()
                except Exception as error:  # noqa: BLE001 - e.g. no sandbox on that worker
                    # KilledWorker: every worker that tried this student died (Dask retried it)
                    result = failed_student(work, run, UNJUDGEABLE if type(error).__name__ ==
                                            "KilledWorker" else error)
                if recorder is not None and not result.broken:
                    recorder.record_student(work, result)
                finish(result)
        except KeyboardInterrupt:
            client.cancel(list(futures))  # unfinished students are left for --resume
            raise
