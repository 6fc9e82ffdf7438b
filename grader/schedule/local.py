"""Grading on this machine: one student after another, or a pool of ``--jobs`` processes."""

import multiprocessing
import signal
from concurrent.futures import ProcessPoolExecutor, as_completed

from ..gradebook import close_connections
from ..judge import failed_student, grade_safely, one_blas_thread


def _record(recorder):
    return None if recorder is None else recorder.record_student


def grade_serially(works, run, recorder, finish):
    """Grade ``works`` here, one by one; ``finish`` gets each result."""
    for work in works:
        finish(grade_safely(work, run, _record(recorder)))


_POOL_STATE = {}


def _init_pool(run, recorder):
    # Ctrl-C is the instructor's process's to handle: it lets running students finish.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    one_blas_thread()
    if recorder is not None:
        recorder.connect()
    _POOL_STATE.update(run=run, recorder=recorder)


def _pool_grade(work):
    return grade_safely(work, _POOL_STATE["run"], _record(_POOL_STATE["recorder"]))


def grade_in_pool(works, run, recorder, jobs, finish):
    """Grade ``works`` in ``jobs`` processes, each recording its students in the gradebook;
    ``finish`` gets each result here as it arrives. On Ctrl-C the students in progress
    finish, and those not started are left for --resume."""
    # fork: the pool inherits nbgrader and numpy already imported (seconds saved per process)
    context = multiprocessing.get_context("fork")
    close_connections()
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_pool,
                             initargs=(run, recorder)) as pool:
        futures = {pool.submit(_pool_grade, w): w for w in works}
        pending = set(futures)

        def collect_from(done):
            for future in done:
                pending.discard(future)
                try:
                    finish(future.result())
                except Exception as error:  # noqa: BLE001 - e.g. the pool process was killed
                    finish(failed_student(futures[future], run, error))

        try:
            collect_from(as_completed(futures))
        except KeyboardInterrupt:
            for future in pending:
                future.cancel()  # not started: left for --resume
            collect_from(as_completed([f for f in pending if not f.cancelled()]))
            raise
