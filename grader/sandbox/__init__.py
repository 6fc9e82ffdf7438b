"""Running a student's code where it can harm nothing: the sandbox.

Owns the sandbox (isolation: bubblewrap, or container mode with Landlock and seccomp applied
by the worker itself, confine), its cgroup (cgroups), the worker that runs inside it
(worker, with what it may import: worker_view), the framed messages between the two
(protocol), the trusted side that starts workers and calls their functions (sandbox), and
the grader's temporary folders, which the next run removes when their process was killed
(leftovers).
It knows nothing of grades, courses or nbgrader.

May import: grader.diagnosis (the worker's input and traceback helpers), conv_lib.
"""

from .cgroups import notice as cgroup_notice
from .isolation import UNSAFE_FLAG, UNSAFE_NOTE, SandboxUnavailable
from .isolation import describe as isolation_description
from .leftovers import remove_dead as remove_leftovers
from .leftovers import temporary_folder
from .sandbox import GRADING, Limits, Session, StudentSandbox, verify
from .worker import INPUT_CHANGED

__all__ = ["GRADING", "INPUT_CHANGED", "UNSAFE_FLAG", "UNSAFE_NOTE", "Limits", "SandboxUnavailable",
           "Session", "StudentSandbox", "cgroup_notice", "isolation_description",
           "remove_leftovers", "temporary_folder", "verify"]
