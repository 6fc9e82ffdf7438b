"""Red-team findings against container mode (grader/sandbox, no namespaces): each test grades
hostile code the way a class run does, in a stand-in of the container it would run in."""

import os
import subprocess
import textwrap

import pytest

from grader.sandbox.confine import landlock_abi

from .test_container_mode import build, container_python  # noqa: F401 - a fixture

needs_root = pytest.mark.skipif(os.geteuid() != 0 or landlock_abi() < 1,
                                reason="container mode runs only as root with Landlock")


def run_in_container_mode(python, script, timeout=300):
    """``script`` run by ``python`` (a Python the sandbox uid may execute) as a grading process
    in container mode; its stdout."""
    env = {"PATH": os.environ["PATH"], "CONV_GRADER_SANDBOX": "container",
           "PYTHONPATH": str(build.ROOT)}
    done = subprocess.run([str(python), "-c", textwrap.dedent(script)], env=env, cwd="/tmp",
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return done.stdout


# A notebook that fills its uid's process cap and then kills its own template: the worker,
# orphaned, dies (PR_SET_PDEATHSIG) and so does every child when the sandbox is stopped, and
# nobody reaps them.
ZOMBIES = '''
import os, signal, time

def ping():
    while True:
        try:
            if os.fork() == 0:
                time.sleep(60)
                os._exit(0)
        except OSError:
            break
    os.kill(os.getppid(), signal.SIGKILL)
    time.sleep(60)
'''


@needs_root
def test_zombies_of_one_student_do_not_take_the_next_students_process_cap(container_python):  # noqa: F811
    """Graded by the same grading thread (one sandbox uid), in a grader that is PID 1 of its
    container (`docker run IMAGE python -m grader autograde ...`): orphans are re-parented to
    it, and it reaps only its own children. Every zombie counts against RLIMIT_NPROC of the
    uid until it is reaped, so 31 of them left the next student's template unable to fork
    its worker: "the grading process could not start", a 0 for every later classmate."""
    out = run_in_container_mode(container_python, f'''
        import ctypes
        ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: as PID 1 gets orphans
        from grader.sandbox import sandbox
        limits = sandbox.Limits(call_seconds=3)
        for code in ({ZOMBIES!r}, "def ping():\\n    return 42\\n", "def ping():\\n    return 7\\n"):
            session = sandbox.Session([], [(1, code)], [], limits)
            status, value = session.call("ping", [])
            session.close()
            print(status, value, session.notes)
    ''')
    _attacker, classmate, next_one = out.splitlines()
    assert classmate == "ok 42 []" and next_one == "ok 7 []", out
