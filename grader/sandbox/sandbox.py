"""The trusted side of grading: run a student's functions in a sandboxed worker
process, and judge what comes back here, in a process that ran no student code.

Each student gets one sandbox (StudentSandbox); in it a template interpreter forks a
fresh worker for every notebook, and a notebook that leaves anything behind costs the
sandbox. A worker that loops, sleeps, exhausts its memory or kills itself costs only
the case it was running: its sandbox is killed, a new one started, and grading goes on.
This side never waits on the student: every wait ends at a deadline fixed here
(per step, per notebook, per student) that nothing the worker sends can move,
pipes are read and written without blocking, and stopping a worker kills its
whole sandbox (isolation.py) without reading or closing anything it holds.
"""

import contextlib
import contextvars
import json
import os
import resource
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

import numpy as np

from . import cgroups, isolation, leftovers, protocol, worker_view

# Set, this file gets one line per worker started, "student pid" (the grading process):
# how tests and profiling count worker starts (a resumed run must not regrade anyone).
START_LOG = "CONV_GRADER_WORKER_LOG"
GRADING = contextvars.ContextVar("grading", default="-")  # the student whose work is running

MEMORY_LIMIT = 3 * 1024**3  # bytes of address space per worker process
SANDBOX_MEMORY = 4 * 1024**3  # bytes for a whole sandbox, kernel memory it causes included
CPU_LIMIT = 120  # CPU seconds per worker process, a backstop behind the wall-clock deadlines
END_SECONDS = 5.0  # for a finished notebook's worker to exit and the template to check


@dataclass
class Limits:
    load_seconds: float = 20.0  # to run the notebook's import and solution cells, in total
    call_seconds: float = 10.0  # per case; honest naive loops take well under 1 s
    memory_bytes: int = MEMORY_LIMIT
    notebook_seconds: float = 150.0  # everything for one notebook, restarts included
    student_seconds: float = 450.0  # everything for one student
    judge_cpu_seconds: float = 120.0  # the grader's own CPU time judging one student (its thread)
    processes: int = 32  # processes and threads inside one sandbox
    sandbox_memory_bytes: int = SANDBOX_MEMORY  # its cgroup's cap (cgroups.py), where there is one
    file_bytes: int = 16 * 1024**2  # largest file the worker may write
    disk_bytes: int = 64 * 1024**2  # its private /tmp, all files together
    open_files: int = 256
    unsafe_no_sandbox: bool = False  # run workers unisolated (only on the instructor's word)

    def rlimits(self):
        """What the worker applies to itself before it runs any student code."""
        # MSGQUEUE 0: no POSIX message queue, which would outlive the notebook that made it
        # in the student's sandbox, and which the template has no way to list.
        return {"AS": self.memory_bytes, "CPU": CPU_LIMIT, "CORE": 0, "NPROC": self.processes,
                "FSIZE": self.file_bytes, "NOFILE": self.open_files, "MSGQUEUE": 0}


def _unsafe_preexec(memory_bytes):
    def preexec():
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        resource.setrlimit(resource.RLIMIT_CPU, (CPU_LIMIT, CPU_LIMIT + 5))

    return preexec


def _kill_uid(uid, keep=None):
    """SIGKILL every process of ``uid``, from a process of that uid (kill(-1) reaches exactly
    the processes it may signal), until none is left: a fork loop cannot outrun it, since
    RLIMIT_NPROC caps the uid and each round kills all it has. Then reap the dead this process
    adopted (see _adopt_orphans), but ``keep`` (a pid its Popen waits for): a zombie counts
    against the uid's RLIMIT_NPROC until it is reaped, so unreaped ones would leave the next
    sandbox of this uid unable to fork its worker."""
    for _ in range(20):
        live, dead = _processes(uid)
        for pid in dead:
            if pid != keep:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, os.WNOHANG)
        if not live:
            return
        subprocess.run(["setpriv", "--reuid", str(uid), "--regid", str(uid), "--clear-groups",
                        "--", "kill", "-KILL", "-1"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, env={"PATH": isolation.ENVIRONMENT["PATH"]})
        time.sleep(0.05)


def _adopt_orphans():
    """Make this process the parent of every orphan of its sandboxes (PR_SET_CHILD_SUBREAPER),
    so that _kill_uid can reap them: the init that would get them otherwise may never reap (in
    `docker run IMAGE python -m grader ...` that init is the grader itself). Called for every
    sandbox: a forked pool process does not inherit it."""
    import ctypes

    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # 36: PR_SET_CHILD_SUBREAPER; no privilege needed


def remove_orphans():
    """Kill every process of a sandbox uid whose grading thread (uid - UID_BASE, a thread id)
    no longer exists: what a grader killed with SIGKILL left running in container mode."""
    uids = set()
    for entry in os.listdir("/proc"):
        try:
            uid = os.stat(f"/proc/{entry}").st_uid if entry.isdigit() else None
        except OSError:
            continue
        if uid is not None and uid >= isolation.UID_BASE:
            uids.add(uid)
    for uid in uids:
        if not os.path.exists(f"/proc/{uid - isolation.UID_BASE}"):  # thread ids are in /proc too
            _kill_uid(uid)


def _processes(uid):
    """([live pids], [zombie pids whose parent is this process]) running as ``uid``."""
    live, dead = [], []
    for entry in os.listdir("/proc"):
        state = _state(uid, entry) if entry.isdigit() else None
        if state is not None and state[0] != b"Z":
            live.append(int(entry))
        elif state is not None and int(state[1]) == os.getpid():
            dead.append(int(entry))
    return live, dead


def _state(uid, pid):
    """(state letter, parent pid) of process ``pid`` if it runs as ``uid``, else None."""
    try:
        if os.stat(f"/proc/{pid}").st_uid != uid:
            return None
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return tuple(stat.read().rsplit(b")", 1)[1].split()[:2])
    except (OSError, ValueError):
        return None


def _kill(send):
    try:
        send()
    except (ProcessLookupError, PermissionError):
        pass


def _write(fd, parts, deadline):
    """Write frames to the non-blocking ``fd``, giving up at ``deadline``; False when they
    did not all go."""
    data = memoryview(protocol.joined(parts))
    while data:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        _, ready, _ = select.select([], [fd], [], remaining)
        if not ready:
            continue
        try:
            data = data[os.write(fd, data[:1 << 20]):]
        except BlockingIOError:
            continue
        except OSError:
            return False
    return True


def _next_message(fd, reader, deadline):
    """("ok", message) from the non-blocking ``fd``, ("timeout", None) at ``deadline``, or
    ("died", None) when it closed or sent something out of step."""
    while True:
        try:
            message = reader.message()
        except protocol.ProtocolError:
            return "died", None  # out of step: nothing more from it can be trusted
        if message is not None:
            return "ok", message
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return "timeout", None
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        try:
            chunk = os.read(fd, min(reader.wanted(), 1 << 20))
        except BlockingIOError:
            continue
        except OSError:
            chunk = b""
        if not chunk:
            return "died", None
        reader.feed(chunk)


class Sandbox:
    """One sandbox and the template in it: a warm interpreter (numpy and matplotlib
    imported) that forks a fresh worker process for each notebook and runs no student
    code itself (grader.sandbox.worker.main). The template's line to this side is a
    socket only it holds; each worker gets a new pair of pipes, passed through it."""

    def __init__(self, limits, view, deadline):
        self.limits = limits
        self.inner_pid = None  # the sandbox's PID-namespace init, as seen from here
        self.process = None
        self.group = None  # its cgroup (cgroups.SandboxGroup), None without one
        self.container = None  # container mode: (uid, private folder)
        self.control, theirs = socket.socketpair()
        header = {"type": "template", "rlimits": limits.rlimits()}
        try:
            if limits.unsafe_no_sandbox:
                self._start_unsandboxed(view, theirs.fileno())
            elif isolation.mode() == isolation.CONTAINER:
                header["confine"] = self._start_in_container(view, theirs.fileno())
            else:
                self._start_sandboxed(view, theirs.fileno(), deadline)
        finally:
            theirs.close()
        self.control.setblocking(False)
        deadline = min(deadline, time.monotonic() + limits.load_seconds)
        self.warm = (_write(self.control.fileno(), protocol.frames(header), deadline)
                     and self._report(deadline) == "warm")

    def _start_sandboxed(self, view, control_fd, deadline):
        # bwrap's options go through a file (--args), so the sandbox's /proc/1/cmdline
        # shows nothing of the host's paths; --info-fd says which pid is its init.
        info_read, info_write = os.pipe()
        refused = isolation.seccomp_filter()
        with tempfile.TemporaryFile() as arguments, tempfile.TemporaryFile() as seccomp:
            seccomp.write(refused or b"")
            seccomp.flush()
            seccomp.seek(0)
            self.group = cgroups.sandbox_group(self.limits)
            bwrap, *options = isolation.command(view, self.limits.disk_bytes, control_fd,
                                                seccomp.fileno() if refused else None)
            options, inner = options[:options.index("--")], options[options.index("--"):]
            arguments.write(b"".join(a.encode() + b"\0" for a in options))
            arguments.flush()
            arguments.seek(0)
            argv = [bwrap, "--info-fd", str(info_write), "--args", str(arguments.fileno()), *inner]
            try:
                self.process = subprocess.Popen(
                    argv if self.group is None else self.group.enter(argv),
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    env={"PATH": isolation.ENVIRONMENT["PATH"]},
                    pass_fds=[info_write, arguments.fileno(), seccomp.fileno(), control_fd],
                    start_new_session=True)
            finally:
                os.close(info_write)
        self.inner_pid = self._child_pid(info_read, deadline)

    def _start_in_container(self, view, control_fd):
        """Container mode: the template as this thread's unprivileged uid, in a private folder
        only that uid may enter; returns the confinement plan it applies to itself."""
        _adopt_orphans()
        uid = isolation.sandbox_uid()
        _kill_uid(uid)  # nothing of an earlier sandbox of this uid may meet this one
        home = leftovers.make_folder("grader-home-")
        os.chown(home, uid, uid)
        home.chmod(0o700)
        self.container = (uid, home)
        site = worker_view.site_links()
        self.group = cgroups.sandbox_group(self.limits)
        argv = isolation.container_command(view, site, control_fd, uid)
        environment = dict(isolation.ENVIRONMENT, HOME=str(home),
                           MPLCONFIGDIR=str(home / "matplotlib"))
        self.process = subprocess.Popen(
            argv if self.group is None else self.group.enter(argv),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            cwd=home, env=environment, pass_fds=[control_fd], start_new_session=True)
        return isolation.container_plan(view, site, home)

    def _start_unsandboxed(self, view, control_fd):
        python = worker_view.python_installation()[1]
        sites = sorted({str(p.parent) for p in worker_view.allowed_packages().values()})
        self.process = subprocess.Popen(
            isolation.worker_argv(python, view, sites, control_fd, isolated=False),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            cwd=view, env=dict(isolation.ENVIRONMENT, HOME=str(view)), start_new_session=True,
            pass_fds=[control_fd], preexec_fn=_unsafe_preexec(self.limits.memory_bytes))

    @staticmethod
    def _child_pid(info_read, deadline):
        """bwrap's --info-fd JSON names the sandbox's init process; read it, bounded."""
        data = b""
        try:
            while b"}" not in data and len(data) < 4096:
                ready, _, _ = select.select([info_read], [], [], max(0.0, deadline - time.monotonic()))
                chunk = os.read(info_read, 4096) if ready else b""
                if not chunk:
                    break
                data += chunk
        finally:
            os.close(info_read)
        try:
            return int(json.loads(data[:data.index(b"}") + 1])["child-pid"])
        except (ValueError, KeyError):
            return None

    def _report(self, deadline):
        """The template's next word ("warm", "clean", "dirty"), or None."""
        status, message = _next_message(self.control.fileno(), protocol.MessageReader(), deadline)
        return message[0].get("type") if status == "ok" else None

    def worker(self, job, values, deadline):
        """A fresh worker process running ``job``; None when the template did not take it."""
        requests, answers = os.pipe(), os.pipe()  # (read, write) each
        try:
            socket.send_fds(self.control, [b"W"], [requests[0], answers[1]])
        except OSError:
            for fd in (*requests, *answers):
                os.close(fd)
            return None
        os.close(requests[0])
        os.close(answers[1])
        worker = Worker(self, answers[0], requests[1])
        if not _write(worker.outbox, protocol.frames(job, values), deadline):
            worker.close()
            return None
        return worker

    def finish(self, worker, deadline):
        """End ``worker``'s notebook; True when the template reports nothing of it left
        (then the next notebook may run here), False when this sandbox must go."""
        deadline = min(deadline, time.monotonic() + END_SECONDS)
        ended = _write(worker.outbox, protocol.frames({"type": "end"}), deadline)
        worker.close()
        return ended and self._report(deadline) == "clean"

    def stop(self):
        """Kill the sandbox and everything in it; never reads or closes a pipe first."""
        # Killing the namespace's init makes the kernel kill every process in the
        # sandbox; bwrap outside reaps it and only then exits, so wait() returning
        # means nothing of the worker is left. Unsandboxed, its process group is all
        # there is to kill (children that left it survive: one more reason for the sandbox).
        if self.process.poll() is None and self.inner_pid is not None:
            _kill(lambda: os.kill(self.inner_pid, signal.SIGKILL))
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        if self.container is not None:  # no PID namespace: every process of its uid goes
            _kill_uid(self.container[0], keep=self.process.pid)
        if self.process.poll() is None:
            _kill(lambda: os.killpg(self.process.pid, signal.SIGKILL))
            self.process.wait()
        if self.container is not None:
            shutil.rmtree(self.container[1], ignore_errors=True)
            self.container = None
        self.control.close()
        if self.group is not None:
            self.group.remove()
            self.group = None


class StudentSandbox:
    """The sandbox one student's notebooks run in, one fresh worker process each. It is
    kept warm from notebook to notebook while the template reports each one clean, and
    replaced by a new one after anything else (a timeout, a crash, a process or file left
    behind). Never shared between students."""

    def __init__(self, limits=None):
        self.limits = limits or Limits()
        self.sandbox = None
        self.view = None

    def worker(self, job, deadline):
        """A Worker running ``job`` (a notebook), or None when no sandbox would start."""
        if os.environ.get(START_LOG):
            with open(os.environ[START_LOG], "a", encoding="utf-8") as log:
                log.write(f"{GRADING.get()} {os.getpid()}\n")  # one short write: lines from processes never mix
        blocked = job["blocked"]
        code = worker_view.conv_lib_code(frozenset(blocked))
        job = dict(job, type="job", blocked=blocked if self.limits.unsafe_no_sandbox else [])
        values = [{name: np.frombuffer(data, dtype=np.uint8) for name, data in code.items()}]
        if self.sandbox is not None:  # warm from the student's last notebook
            worker = self.sandbox.worker(job, values, deadline)
            if worker is not None:
                return worker
            self.discard()
        if self.view is None:
            # Unsandboxed, a worker could write into its view: each sandbox gets its own.
            self.view = str(worker_view.build() if self.limits.unsafe_no_sandbox
                            else worker_view.shared())
        self.sandbox = Sandbox(self.limits, self.view, deadline)
        worker = self.sandbox.worker(job, values, deadline) if self.sandbox.warm else None
        if worker is None:
            self.discard()
        return worker

    def release(self, worker, deadline):
        """``worker``'s notebook is done: keep the sandbox for the next one if it is clean."""
        if self.sandbox is not None and not self.sandbox.finish(worker, deadline):
            self.discard()
        worker.close()

    def discard(self):
        if self.sandbox is not None:
            self.sandbox.stop()
            self.sandbox = None
        if self.view is not None and self.limits.unsafe_no_sandbox:
            shutil.rmtree(self.view, ignore_errors=True)  # its worker could have written there
            self.view = None

    def close(self):
        self.discard()
        self.view = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Worker:
    """One notebook's worker process and the two pipes only it holds in the sandbox."""

    def __init__(self, sandbox, inbox, outbox):
        self.limits = sandbox.limits
        self.inbox, self.outbox = inbox, outbox
        os.set_blocking(inbox, False)
        os.set_blocking(outbox, False)
        self.reader = protocol.MessageReader()
        self.outcomes = {}  # test cell id -> protocol.outcome_from, as load() heard them

    def close(self):
        for fd in (self.inbox, self.outbox):
            try:
                os.close(fd)
            except OSError:
                pass  # closed already
        self.inbox = self.outbox = -1

    def next_message(self, deadline):
        """("ok", message), ("timeout", None) at ``deadline``, or ("died", None)."""
        return _next_message(self.inbox, self.reader, deadline)

    def load(self, cell_ids, deadline):
        """Wait until the notebook's code has run. Returns (status, cell, cell_errors):
        status "ready", "timeout" or "died"; cell is the one running when it stopped."""
        current, errors = None, {}
        deadline = min(deadline, time.monotonic() + self.limits.load_seconds)
        while True:
            status, message = self.next_message(deadline)
            if status != "ok":
                return status, current, errors
            header, _ = message
            kind, cell = header.get("type"), header.get("cell")
            if kind == "ready":
                return "ready", None, errors
            if type(cell) not in (int, str) or cell not in cell_ids:
                continue  # a frame the student's code forged: about no cell of theirs
            if kind == "loading":
                current = cell
            elif kind == "loaded" and "outcome" in header:
                self.outcomes[cell] = protocol.outcome_from(header["outcome"])
            elif kind == "loaded" and header.get("error"):
                errors[cell] = protocol.error_from(header["error"])

    def call(self, function, args, deadline, model_arg=False):
        """("ok", value), ("error", error dict), ("timeout", None) or ("died", None)."""
        deadline = min(deadline, time.monotonic() + self.limits.call_seconds)
        request = {"type": "call", "function": function, "model_arg": model_arg}
        if not _write(self.outbox, protocol.frames(request, args), deadline):
            return ("timeout", None) if time.monotonic() >= deadline else ("died", None)
        status, message = self.next_message(deadline)
        if status != "ok":
            return status, None
        header, values = message
        if header.get("type") != "result":
            return "error", {"type": "ProtocolError", "message": "unexpected message", "where": ""}
        if header.get("status") == "ok" and values:
            return "ok", values[0]
        return "error", protocol.error_from(header.get("error"))


@dataclass
class Session:
    """Runs calls against a notebook's code, restarting the worker when needed, until
    its ``deadline`` (time.monotonic(); by default now + limits.notebook_seconds)."""

    prelude: list
    cells: list  # [(cell_id, source)]
    blocked: list
    limits: Limits = field(default_factory=Limits)
    notes: list = field(default_factory=list)
    cell_errors: dict = field(default_factory=dict)
    # Ids among ``cells`` of course test cells, which the worker runs as a kernel would
    # (worker.run_test_cell); what each did lands in ``outcomes``, and why one was
    # skipped (it timed out or ended the worker while loading) in ``skipped``.
    tests: list = field(default_factory=list)
    outcomes: dict = field(default_factory=dict)
    skipped: dict = field(default_factory=dict)
    worker: Worker = None
    deadline: float = None
    expired: bool = False  # the deadline passed: nothing more is run
    given_up: bool = False  # the notebook's code cannot be loaded: nothing more is tried
    sealed: bool = False  # seal() was called: workers from now on add no notes
    # The student's sandbox (kept warm for their next notebook); without one, the
    # session makes its own and closes it with itself.
    host: StudentSandbox = None

    def __post_init__(self):
        ends = time.monotonic() + self.limits.notebook_seconds
        self.deadline = ends if self.deadline is None else min(self.deadline, ends)
        if not self.limits.unsafe_no_sandbox:
            isolation.check()
        self.owns_host = self.host is None
        if self.owns_host:
            self.host = StudentSandbox(self.limits)

    def _expire(self):
        if not self.expired:
            self.expired = True
            self.notes.append("grading time for this notebook ran out; the cases after that "
                              "were not run")

    def _start(self):
        for _ in range(len(self.cells) + 1):
            if time.monotonic() >= self.deadline:
                self._expire()
                return False
            job = {"prelude": self.prelude, "cells": self.cells, "blocked": self.blocked,
                   "tests": self.tests}
            self.worker = self.host.worker(job, self.deadline)
            status, cell, errors = ("died", None, {}) if self.worker is None else \
                self.worker.load({i for i, _ in self.cells}, self.deadline)
            if self.worker is not None and not self.sealed:
                self.outcomes.update(self.worker.outcomes)
            if status == "ready":
                if not self.sealed:
                    self.cell_errors.update(errors)
                return True
            self._discard()
            if time.monotonic() >= self.deadline:
                self._expire()
                return False
            if cell not in {i for i, _ in self.cells}:  # None, or a cell id the worker made up
                self.given_up = True
                self._note("the grading process could not start" if cell is None else
                           f"the notebook's code did not finish loading within "
                           f"{self.limits.load_seconds:g} s")
                return False
            why = ("did not finish within "
                   f"{self.limits.load_seconds:g} s" if status == "timeout" else "ended the grading process")
            self._note(f"cell {cell} {why}; it was skipped")
            self.skipped[cell] = why
            self.cells = [(i, s) for i, s in self.cells if i != cell]
        return False

    def _note(self, text):
        if not self.sealed:
            self.notes.append(text)

    def seal(self):
        """From here on, calls run in a fresh worker (the sealed phase: hidden inputs), and
        what its loading does is not noted, and at close the sandbox goes: nothing a worker
        that saw hidden inputs could have arranged reaches the feedback."""
        if self.worker is not None:
            self.host.release(self.worker, self.deadline)
            self.worker = None
        self.sealed = True

    def load(self):
        """Run the notebook's cells in a worker (restarting past a cell that times out or
        ends it, as calls do) without calling anything; True once a worker has loaded them."""
        if self.expired or self.given_up:
            return False
        return self.worker is not None or self._start()

    def call(self, function, args, model_arg=False):
        """("ok", value), ("error", dict), ("timeout", None), ("died", None), or
        ("expired", None) once the notebook's time is up."""
        if self.expired:
            return "expired", None
        if self.given_up:
            return "died", None
        if self.worker is None and not self._start():
            return ("expired", None) if self.expired else ("died", None)
        status, value = self.worker.call(function, args, self.deadline, model_arg)
        if status in ("timeout", "died"):
            self._discard()
            if time.monotonic() >= self.deadline:
                self._expire()
                return "expired", None
        return status, value

    def _discard(self):
        """Kill the worker's sandbox; the next call starts a new one."""
        self.host.discard()
        if self.worker is not None:
            self.worker.close()
        self.worker = None

    def close(self):
        if self.sealed:
            # A sandbox whose workers saw hidden inputs is never used again: state the
            # template's check cannot see (kernel tables, counters) could carry them into
            # the student's next notebook, whose feedback is not sealed.
            self._discard()
        elif self.worker is not None:
            self.host.release(self.worker, self.deadline)
            self.worker = None
        if self.owns_host:
            self.host.close()


def verify(limits=None):
    """Raise isolation.SandboxUnavailable unless a real worker starts, runs a cell and
    answers a call in the sandbox here: a broken sandbox must stop the run, not zero a class.

    First it removes what graders killed with SIGKILL left on this machine: their temporary
    folders (leftovers.py), sandboxed, their cgroups, and in container mode the processes of
    sandbox uids whose grading thread is gone (no PID namespace took them along)."""
    leftovers.remove_dead()
    limits = limits or Limits()
    if limits.unsafe_no_sandbox:
        return
    isolation.check()
    cgroups.remove_dead()
    if isolation.mode() == isolation.CONTAINER:
        remove_orphans()
    session = Session([], [(1, "def ping():\n    return 42\n")], [], limits)
    try:
        status, value = session.call("ping", [])
    finally:
        session.close()
    if (status, value) != ("ok", 42):
        raise isolation.SandboxUnavailable(
            f"bubblewrap starts, but a worker in it did not answer ({status}: {value}; "
            f"{'; '.join(session.notes) or 'no note'}); check that the Python installation and "
            "the packages are readable by an unprivileged user")
