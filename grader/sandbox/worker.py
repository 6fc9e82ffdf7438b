"""The sandboxed side of grading: ``python -m grader.sandbox.worker``.

It runs a student's code and nothing else. The trusted grader starts it in a
sandbox (isolation.py), sends it the limits it sets on itself before any student
code runs, the notebook's code and then one call at a time, and gets back plain
arrays. The worker never judges anything: whatever the student's code patches in
here (numpy, conv_lib) cannot reach the process that decides the grade.
"""

import ast
import contextlib
import importlib
import importlib.abc
import importlib.machinery
import io
import linecache
import marshal
import numbers
import os
import resource
import signal
import socket
import sys
import types
import warnings

from ..diagnosis import inputs, tracebacks
from .protocol import MAX_OUTPUT, frames, joined, receive, send


INPUT_CHANGED = "InputChanged"  # the error type judge/calls.py turns into its own message
VIEW = "/sandbox/lib"  # where the worker's own code is mounted (isolation.VIEW)
HOME = "/tmp"  # the sandbox's private tmpfs and working directory (isolation.HOME)
# What every notebook's first cell imports; the template imports it once per sandbox.
WARM = ("numpy", "matplotlib", "matplotlib.patches", "threadpoolctl", "tqdm")


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


class ViewModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """The task's conv_lib, compiled by the grader (worker_view.conv_lib_code) and sent with
    the job: imported from memory, so no other task's modules exist anywhere in here."""

    def __init__(self, code):
        self.code = code  # {module name: marshal bytes}

    def find_spec(self, name, path, target=None):
        if name not in self.code:
            return None
        package = "." not in name
        origin = f"{VIEW}/{name.replace('.', '/')}{'/__init__' if package else ''}.py"
        spec = importlib.machinery.ModuleSpec(name, self, origin=origin, is_package=package)
        spec.has_location = True  # __file__ names the module, for tracebacks
        return spec

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        exec(marshal.loads(self.code[module.__name__]), module.__dict__)


class _Capped(io.TextIOBase):
    """A stream that keeps the first MAX_OUTPUT characters written to it."""

    def __init__(self):
        self.text = ""

    def writable(self):
        return True

    def write(self, text):
        if len(self.text) < MAX_OUTPUT:
            self.text += str(text)[:MAX_OUTPUT - len(self.text)]
        return len(text)


def _kernel_warnings():
    """Python's default warning filters, as a kernel shows warnings to a cell: each once,
    but not the deprecation (outside the cell's own code), import or resource ones."""
    warnings.simplefilter("default")
    for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
        warnings.filterwarnings("ignore", category=category)
    warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")


def run_test_cell(source, namespace):
    """Run a course test cell as a kernel would (its last expression's value kept, what it
    prints captured, warnings shown on stderr as nbgrader counts them) in the namespace the
    student's cells made: {"stdout", "stderr", "text", "number", "error"}. Its code is
    compiled as "<test>", so a traceback quotes the student's lines, never the test's."""
    import numpy as np

    out, err = _Capped(), _Capped()
    outcome = {"text": None, "number": None, "error": None}
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                warnings.catch_warnings(), np.errstate(divide="warn", over="warn", invalid="warn"):
            _kernel_warnings()
            tree = ast.parse(source, "<test>")
            last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            exec(compile(tree, "<test>", "exec"), namespace)
            if last is not None:
                value = eval(compile(ast.Expression(last.value), "<test>", "eval"), namespace)
                if value is not None:
                    outcome["text"] = repr(value)[:MAX_OUTPUT]
                    if isinstance(value, numbers.Real) and not isinstance(value, bool):
                        with contextlib.suppress(Exception):  # an int too large for a float
                            outcome["number"] = float(value)
    except BaseException as exc:  # noqa: BLE001 - SystemExit too: reported, not obeyed
        outcome["error"] = _error(exc)
    return dict(outcome, stdout=out.text, stderr=err.text)


def run_notebook(job, values, inbox, outbox):
    """One notebook: its view's modules, the prelude, the student's cells, then calls until
    the grader says "end" (or the pipe closes). Runs in a fresh process forked from the
    template, so nothing a notebook does reaches the next one."""
    modules = values[0] if values and isinstance(values[0], dict) else {}
    sys.meta_path.insert(0, ViewModules({name: bytes(memoryview(code)) for name, code in modules.items()}))
    block_modules(job.get("blocked", []))
    sys.meta_path.insert(0, DeferredImports())
    namespace = {"__name__": "__main__"}
    with _calm():
        for source in job.get("prelude", []):
            try:
                exec(compile(source, "<prelude>", "exec"), namespace)
            except BaseException:  # noqa: BLE001 - a missing optional import is not the student's fault
                pass
        tests = set(job.get("tests", []))
        for cell_id, source in job.get("cells", []):
            send(outbox, {"type": "loading", "cell": cell_id})
            if cell_id in tests:
                send(outbox, {"type": "loaded", "cell": cell_id,
                              "outcome": run_test_cell(source, namespace)})
                continue
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
        if request.get("type") == "end":
            return
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
        with _calm(), inputs.unset_memory_marked():  # np.empty's garbage, the same every time
            try:
                result = function(*args)
            except BaseException as exc:  # noqa: BLE001 - SystemExit too: reported, not obeyed
                send(outbox, {"type": "result", "status": "error", "error": _error(exc)})
                continue
        # Issue 11: an input changed in place fails the case; only its paths cross.
        result, changed = inputs.settle(name, result, args, inputs.changed_by(name, before, args))
        if changed:
            send(outbox, {"type": "result", "status": "error", "error": {
                "type": INPUT_CHANGED, "message": "", "where": "", "changed": changed}})
            continue
        try:
            send(outbox, {"type": "result", "status": "ok"}, [result])
        except Exception as exc:  # noqa: BLE001 - e.g. an array too large to send
            send(outbox, {"type": "result", "status": "error", "error": _error(exc)})


def _set_dumpable(flag):
    """prctl(PR_SET_DUMPABLE): a process that is not dumpable cannot be traced, nor its
    memory or descriptors read through /proc, by processes of the same uid."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(4, int(flag), 0, 0, 0) != 0:  # 4: PR_SET_DUMPABLE
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE)")


def _alone():
    """No process in the sandbox but its init and this template."""
    return all(not p.isdigit() or int(p) in (1, os.getpid()) for p in os.listdir("/proc"))


# Tables of what outlives every process in the sandbox's IPC and network namespaces: System V
# shared memory, message queues and semaphores, and sockets (a closed connection waiting in
# TIME_WAIT holds its port; a socket only a message in flight holds). Each has a header line.
KERNEL_TABLES = ("/proc/sysvipc/shm", "/proc/sysvipc/msg", "/proc/sysvipc/sem", "/proc/net/unix",
                 "/proc/net/tcp", "/proc/net/tcp6", "/proc/net/udp", "/proc/net/udp6",
                 "/proc/net/udplite", "/proc/net/udplite6", "/proc/net/raw", "/proc/net/raw6")


def _kernel_empty():
    """Nothing in KERNEL_TABLES: no IPC object and no socket left in the sandbox."""
    for table in KERNEL_TABLES:
        try:
            with open(table, "rb") as lines:
                if len(lines.read().splitlines()) > 1:
                    return False
        except FileNotFoundError:
            continue  # a kernel without that table cannot hold such objects
        except OSError:
            return False
    return True


def _wipe(folder):
    """Empty ``folder`` but for mount points (the font list); False if anything stayed."""
    clean = True
    for entry in os.scandir(folder):
        if os.path.ismount(entry.path):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                if entry.stat(follow_symlinks=False).st_uid == os.getuid():
                    os.chmod(entry.path, 0o700)  # a folder the student made unreadable
                clean = _wipe(entry.path) and clean
                if not any(os.path.ismount(p.path) for p in os.scandir(entry.path)):
                    os.rmdir(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:
            clean = False
    return clean


def _serve(inbox, outbox):
    message = receive(inbox)
    if message is not None:
        run_notebook(*message, inbox, outbox)


def main(control_fd, isolated=True):
    """The template: a warm interpreter that runs no student code itself. For each pair of
    pipes the grader sends on ``control_fd`` (a socket only the template holds), it forks a
    worker that reads its job and calls from one and answers on the other, waits for it,
    and says "clean" only when nothing of it is left (no process, no IPC object or socket,
    no file in /tmp); otherwise "dirty", and it exits, taking the sandbox with it."""
    # The student's prints, even through os.write(1, ...), land in /dev/null.
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    control = socket.socket(fileno=control_fd)
    # The grader sends nothing more until it hears "warm", so the stream reads no further
    # than this message; closed at once, it holds no copy of the socket a worker could inherit.
    with control.makefile("rb") as stream:
        message = receive(stream)
    if message is None:
        return
    header, _ = message
    single_use = "confine" in header
    if single_use:  # container mode: no namespaces, so the kernel's Landlock and seccomp
        from .confine import confine, die_with_parent

        die_with_parent(header["confine"]["parent"])  # no PID namespace ends it with the grader
        # Where no cgroup caps the sandbox, the OOM killer must take its processes first,
        # never the grader; inherited, and out of the workers' reach once Landlock holds.
        with contextlib.suppress(OSError), open("/proc/self/oom_score_adj", "w") as adjust:
            adjust.write("1000")
        confine(header["confine"])
    apply_limits(header.get("rlimits", {}))
    environment = dict(os.environ)
    for name in WARM:  # what every notebook imports: loaded once, before any student code
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the notebook's own import will say what is wrong
            pass
    os.environ.clear()  # a worker starts with the sandbox's environment, whatever they set
    os.environ.update(environment)
    if isolated:
        _set_dumpable(False)  # its workers, same uid, must not reach into it
    control.sendall(joined(frames({"type": "warm"})))
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(control, 1, 2)
        except OSError:
            return
        if not data or len(fds) != 2:
            return
        template = os.getpid()
        pid = os.fork()
        if pid == 0:
            try:
                control.close()  # the worker never holds the grader's line to the template
                if isolated:
                    _set_dumpable(True)  # as a freshly started process is
                if single_use:
                    die_with_parent(template)
                _serve(os.fdopen(fds[0], "rb"), os.fdopen(fds[1], "wb"))
            finally:
                os._exit(0)
        for fd in fds:
            os.close(fd)  # the worker's alone: when it dies, the grader sees its pipe close
        os.waitpid(pid, 0)
        # In container mode nothing is checked: its sandbox serves one notebook, then goes.
        clean = isolated and not single_use and _alone() and _kernel_empty() and _wipe(HOME)
        control.sendall(joined(frames({"type": "clean" if clean else "dirty"})))
        if not clean:
            return


if __name__ == "__main__":
    main(int(sys.argv[1]))
