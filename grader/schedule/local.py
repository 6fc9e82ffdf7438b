"""Grading on this machine, in a pool of ``--jobs`` processes (or, for profiling, here).

One student's trouble stays theirs. A pool process that dies (the OOM killer, a signal, a
crash in the judging) breaks the whole pool, and with it every student it was grading or had
queued: those never started go to a new pool, and each student that was in progress is graded
again alone, in a fresh process of its own. A student whose judging ends that process too is
the cause: they get rows and feedback that say the grader could not judge them, and why;
everyone else gets the result an undisturbed run gives.
"""

import multiprocessing
import signal
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from ..gradebook import close_connections
from ..judge import UNJUDGEABLE, failed_student, grade_safely, one_blas_thread

QUEUED, STARTED, DONE = 0, 1, 2


def _record(recorder):
    return None if recorder is None else recorder.record_student


def grade_here(works, run, recorder, finish):
    """Grade ``works`` in this process, one by one (no crash containment: for profiling)."""
    for work in works:
        finish(grade_safely(work, run, _record(recorder)))


_POOL_STATE = {}


def _init_pool(run, recorder, states):
    # Ctrl-C is the instructor's process's to handle: it lets running students finish.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    one_blas_thread()
    if recorder is not None:
        recorder.connect()
    _POOL_STATE.update(run=run, recorder=recorder, states=states)


def _pool_grade(index, work):
    states = _POOL_STATE["states"]
    states[index] = STARTED  # shared memory, no lock: read by the parent only after a crash
    result = grade_safely(work, _POOL_STATE["run"], _record(_POOL_STATE["recorder"]))
    states[index] = DONE
    return result


def _pool(jobs, run, recorder, states):
    # fork: the pool inherits nbgrader and numpy already imported (seconds saved per process)
    close_connections()
    return ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"),
                               initializer=_init_pool, initargs=(run, recorder, states))


def _pass(works, run, recorder, jobs, finish):
    """One pool over ``works``, never more students handed out than processes are free;
    returns ([in progress], [never started]) if a pool process died, else None. On Ctrl-C
    the students in progress finish, and the rest are left for --resume."""
    states = multiprocessing.get_context("fork").Array("b", len(works), lock=False)
    waiting, running, crashed = iter(enumerate(works)), {}, []
    with _pool(jobs, run, recorder, states) as pool:

        def hand_out():
            for index, work in waiting:  # one at a time: a free process, a student
                running[pool.submit(_pool_grade, index, work)] = index
                return

        def settle(done):
            for future in done:
                index = running.pop(future)
                try:
                    finish(future.result())
                except BrokenProcessPool:
                    crashed.append(index)
                except Exception as error:  # noqa: BLE001 - a result that would not cross
                    finish(failed_student(works[index], run, error))
                if not crashed:
                    hand_out()

        for _ in range(jobs):
            hand_out()
        try:
            while running:
                settle(wait(running, return_when=FIRST_COMPLETED)[0])
        except KeyboardInterrupt:
            waiting = iter(())  # nobody new is started
            settle(wait(running)[0])
            raise
    if not crashed:
        return None
    return ([works[i] for i in sorted(crashed) if states[i] == STARTED],
            [works[i] for i in sorted(crashed) if states[i] == QUEUED] + [w for _, w in waiting])


def _alone(work, run, recorder):
    """``work`` graded in a fresh process of its own; None if that process died too."""
    states = multiprocessing.get_context("fork").Array("b", 1, lock=False)
    with _pool(1, run, recorder, states) as pool:
        try:
            return pool.submit(_pool_grade, 0, work).result()
        except BrokenProcessPool:
            return None


def grade_in_pool(works, run, recorder, jobs, finish):
    """Grade ``works`` in ``jobs`` processes, each recording its students in the gradebook;
    ``finish`` gets each result here as it arrives (see the module's docstring for a crash)."""
    while works:
        crashed = _pass(works, run, recorder, jobs, finish)
        if crashed is None:
            return
        in_progress, works = crashed
        for work in in_progress:  # the cause is among them, and maybe only an outside kill
            result = _alone(work, run, recorder)
            finish(result if result is not None else failed_student(work, run, UNJUDGEABLE))
