"""The sandboxed side of grading: ``python -m grader.pipeline.worker``.

It runs a student's code and nothing else. The trusted grader starts it in a
sandbox (isolation.py), sends it the limits it sets on itself before any student
code runs, the notebook's code and then one call at a time, and gets back plain
arrays. The worker never judges anything: whatever the student's code patches in
here (numpy, conv_lib) cannot reach the process that decides the grade.
"""

import contextlib
import importlib
import importlib.abc
import importlib.machinery
import linecache
import os
import resource
import signal
import sys
import types
import warnings

from ..diagnosis import inputs, tracebacks
from .protocol import receive, send


INPUT_CHANGED = "InputChanged"  # the error type trusted.py turns into its own message


class ForbiddenCall(Exception):
    pass


def _forbidden(qualified_name):
    def refuse(*args, **kwargs):
        raise ForbiddenCall(
            f"{qualified_name} is not available while this task is graded: the task is to "
            f"write it yourself"
        )

    return refuse


class _BlockedModule(types.ModuleType):
    """Every attribute is a function that refuses to run."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _forbidden(f"{self.__name__}.{name}")


def block_modules(names):
    """Switch modules off in memory too: for --unsafe-no-sandbox, where the real files
    stay readable by path (in the sandbox only the stubs of worker_view exist)."""
    for name in names:
        sys.modules[name] = _BlockedModule(name)


# Every notebook's first lines import pyplot for its figures; no graded function needs it,
# and importing it is about a second of each worker's start. It loads on first use instead.
DEFERRED = ("matplotlib.pyplot",)


class _DeferredModule(types.ModuleType):
    """Stands in for a DEFERRED module until something other than a dunder is read from it;
    then imports the real one (which replaces it in sys.modules) and mirrors it."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        real = DeferredImports.load(self.__name__)
        self.__dict__.update(real.__dict__)
        return getattr(real, name)


class DeferredImports(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports DEFERRED modules as _DeferredModule; load() imports the real one."""

    loading = set()

    def find_spec(self, name, path, target=None):
        if name not in DEFERRED or name in self.loading:
            return None
        if importlib.machinery.PathFinder.find_spec(name, path) is None:
            return None  # not installed: the import fails as it would have
        return importlib.machinery.ModuleSpec(name, self)

    def create_module(self, spec):
        return _DeferredModule(spec.name)

    def exec_module(self, module):
        pass

    @classmethod
    def load(cls, name):
        cls.loading.add(name)
        try:
            sys.modules.pop(name, None)
            return importlib.import_module(name)
        finally:
            cls.loading.discard(name)


def apply_limits(limits):
    """setrlimit for each {"AS": bytes, "NPROC": count, ...}; inherited by every child."""
    for name, value in limits.items():
        resource.setrlimit(getattr(resource, f"RLIMIT_{name}"), (value, value))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large write fails instead of killing


def _where(tb):
    return tracebacks.where(tb, lambda filename: filename.startswith("<cell"))


def _error(exc):
    return {"type": type(exc).__name__, "message": str(exc).split("\n")[0][:300],
            "where": _where(exc.__traceback__)}


@contextlib.contextmanager
def _calm():
    import numpy as np

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def main():
    # The protocol gets private copies of the pipes; the student's prints, even
    # through os.write(1, ...), land in /dev/null.
    inbox = os.fdopen(os.dup(0), "rb")
    outbox = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process

    message = receive(inbox)
    if message is None:
        return
    job, _ = message
    apply_limits(job.get("rlimits", {}))
    block_modules(job.get("blocked", []))
    sys.meta_path.insert(0, DeferredImports())
    namespace = {"__name__": "__main__"}
    with _calm():
        for source in job.get("prelude", []):
            try:
                exec(compile(source, "<prelude>", "exec"), namespace)
            except BaseException:  # noqa: BLE001 - a missing optional import is not the student's fault
                pass
        for cell_id, source in job.get("cells", []):
            send(outbox, {"type": "loading", "cell": cell_id})
            # Registered so tracebacks can quote the student's line.
            linecache.cache[f"<cell {cell_id}>"] = (len(source), None, source.splitlines(True),
                                                    f"<cell {cell_id}>")
            try:
                exec(compile(source, f"<cell {cell_id}>", "exec"), namespace)
                send(outbox, {"type": "loaded", "cell": cell_id})
            except BaseException as exc:  # noqa: BLE001 - SystemExit too: reported, not obeyed
                send(outbox, {"type": "loaded", "cell": cell_id, "error": _error(exc)})
    send(outbox, {"type": "ready"})

    while (message := receive(inbox)) is not None:
        request, args = message
        name = request["function"]
        function = namespace.get(name)
        if not callable(function):
            send(outbox, {"type": "result", "status": "error", "error": {
                "type": "NameError", "where": "",
                "message": f"{name} is not defined: its solution cell is missing or renamed"}})
            continue
        # Decoded arrays are read-only views of the message; a caller's arrays are writable,
        # so the student gets copies, and changing one is reported as such, not as a crash.
        args = inputs.snapshot(args)
        if request.get("model_arg") and args and isinstance(args[0], dict):
            args = [types.SimpleNamespace(**args[0]), *args[1:]]
        before = inputs.snapshot(args)
        with _calm():
            try:
                result = function(*args)
            except BaseException as exc:  # noqa: BLE001 - SystemExit too: reported, not obeyed
                send(outbox, {"type": "result", "status": "error", "error": _error(exc)})
                continue
        # Issue 11: an input changed in place fails the case; only its paths cross.
        if changed := inputs.changed_paths(before, args):
            send(outbox, {"type": "result", "status": "error", "error": {
                "type": INPUT_CHANGED, "message": "", "where": "", "changed": changed}})
            continue
        try:
            send(outbox, {"type": "result", "status": "ok"}, [result])
        except Exception as exc:  # noqa: BLE001 - e.g. an array too large to send
            send(outbox, {"type": "result", "status": "error", "error": _error(exc)})


if __name__ == "__main__":
    main()
