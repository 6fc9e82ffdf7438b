import functools
import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "default")


@functools.cache
def load_sample_class_builder():
    """examples/build.py as a module: it builds submissions from the release notebooks."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "examples" / "build.py"
    spec = importlib.util.spec_from_file_location("sample_class_build", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def define_solution(assignment, function, source=None):
    """Run a course notebook's imports and one of its solution cells (the instructor's,
    or ``source``); return the function it defines."""
    import nbformat

    from grader.diagnosis import notebook_code

    build = load_sample_class_builder()
    course_nb = nbformat.read(str(next((build.SOLUTIONS / assignment).glob("*.ipynb"))),
                              as_version=4)
    namespace = {}
    for statement in notebook_code.prelude(course_nb):
        exec(statement, namespace)
    exec(source or build.solution_sources(assignment)[function], namespace)
    return namespace[function]


def sandbox_processes():
    """Sandbox processes of this test run: those below this process, and any elsewhere
    running as the sandbox uid of a thread of this process or of one below it (one that escaped).
    After a run there must be none. Other test runs on the machine are not counted."""
    from pathlib import Path

    from grader.sandbox.isolation import UID_BASE

    table = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        parent = int(status.split("PPid:")[1].split()[0])
        table[int(pid)] = (parent, int(status.split("Uid:")[1].split()[0]), command)
    ours = {os.getpid()}
    while grown := {p for p, (parent, _, _) in table.items() if parent in ours} - ours:
        ours |= grown
    threads = set()  # a sandbox's uid is that of the thread that started it
    for pid in ours:
        try:
            threads |= {int(t) for t in os.listdir(f"/proc/{pid}/task")}
        except OSError:
            continue
    found = []
    for pid, (_, uid, command) in sorted(table.items()):
        sandboxed = UID_BASE <= uid < UID_BASE + 2**24 or "/sandbox/lib" in command
        if sandboxed and (pid in ours or uid - UID_BASE in (ours | threads)) and pid != os.getpid():
            found.append((str(pid), command))
    return found


def graded(source, grade_id, points=None, solution=False):
    """A course cell with nbgrader's metadata: a test cell with ``points``, a solution
    cell with ``solution`` (and ``points``: graded by hand)."""
    from nbformat.v4 import new_code_cell

    meta = {"grade": points is not None, "grade_id": grade_id, "locked": not solution,
            "schema_version": 3, "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return new_code_cell(source, metadata={"nbgrader": meta})
