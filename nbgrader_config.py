"""nbgrader configuration for this repository as a course (nbgrader reads it from the working
directory). The course root is the working directory; course_id and the exchange come from
your JupyterHub's nbgrader config, so nothing here overrides them."""

import os

from grader.gradebook import use_trusted_grading

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
# Released notebooks carry no outputs; instructors regenerate them with `make release`.
c.ClearOutput.enabled = True
# `nbgrader autograde` scores test cells with the trusted judge, never in the student's kernel.
use_trusted_grading(c)
# `nbgrader validate` runs a kernel: over a socket file only this user can open, and with no
# warning from ipykernel about unencrypted TCP. (Windows has no such sockets.)
if os.name != "nt":
    c.KernelManager.transport = "ipc"
