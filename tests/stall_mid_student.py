"""A Dask worker preload (``dask worker --preload tests/stall_mid_student.py``) for
test_large_class.py: the worker starts its first student's first notebook in the sandbox as
usual, then writes "student pid" to the file $CONV_GRADER_STALL and waits there until it is
killed. So the test kills it mid-student, whatever the machine's load: never before it
started a student, never after it finished one."""

import os
import threading
from pathlib import Path

from grader.sandbox import GRADING, StudentSandbox

_STALLED = threading.Event()


def _stall(self, job, deadline):
    worker = StudentSandbox.unstalled_worker(self, job, deadline)  # logged, in its sandbox
    if GRADING.get() == "-":  # the sandbox check before the first student, no student's
        return worker
    marker = Path(os.environ["CONV_GRADER_STALL"])
    partial = marker.with_name(marker.name + ".partial")
    partial.write_text(f"{GRADING.get()} {os.getpid()}")
    partial.replace(marker)  # whole or not there: the test reads it as soon as it appears
    _STALLED.wait()  # never set: until the test's SIGKILL
    return worker


# Dask may run a preload file twice (it "reloads" it): patch once.
if not hasattr(StudentSandbox, "unstalled_worker"):
    StudentSandbox.unstalled_worker = StudentSandbox.worker
    StudentSandbox.worker = _stall
