"""The sandbox itself: what a worker can see and do, the bounded protocol reader,
the filtered conv_lib, the refusal without bubblewrap, and the output hygiene.

test_hostile.py grades whole attacking submissions; these tests look at one
property each, in one sandbox started once for the module.
"""

import io
import json
import os
import struct
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from grader.__main__ import main
from grader import feedback
from grader.collect import collect
from grader.gradebook import REPO, load
from grader.judge import Run, StudentResult
from grader.sandbox import Limits, Session, isolation, protocol, worker_view
from grader.schedule import ClassRun, autograde

from .conftest import sandbox_processes

PROBE = r'''
import os, socket, resource, sys

def _try(action):
    try:
        action()
        return "allowed"
    except BaseException as error:
        return type(error).__name__

def _write(path):
    with open(path, "w") as handle:
        handle.write("x")

def _import(name):
    __import__(name)

def _import_from_installation(name):
    import glob
    for pattern in ("/lib/python3*/site-packages", "/lib/python3*/dist-packages"):
        sys.path += glob.glob(sys.base_prefix + pattern) + glob.glob("/usr" + pattern)
    sys.path += glob.glob("/usr/local/lib/python3*/site-packages")
    __import__(name)

def _pyplot():
    import matplotlib.pyplot as plt  # deferred by the worker until first used
    deferred = type(sys.modules["matplotlib.pyplot"]).__name__
    figure = plt.figure()
    return [deferred, type(figure).__name__, type(sys.modules["matplotlib.pyplot"]).__name__]

def _target(fd):
    try:
        target = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:  # the listing's own descriptor, closed by now
        return "closed"
    return "pipe" if target.startswith("pipe:") else target

def _attach_template():
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.ptrace(16, 2, 0, 0) != 0:  # PTRACE_ATTACH to the template, pid 2
        raise PermissionError(ctypes.get_errno(), "ptrace")

def probe(host_paths):
    facts = {
        "uid": os.getuid(), "pid": os.getpid(), "ppid": os.getppid(),
        "processes": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
        "open_fds": sorted(_target(fd) for fd in os.listdir("/proc/self/fd")),
        "environment": sorted(os.environ),
        "cwd": os.getcwd(),
        "nproc": resource.getrlimit(resource.RLIMIT_NPROC)[0],
        "fsize": resource.getrlimit(resource.RLIMIT_FSIZE)[0],
        "address_space": resource.getrlimit(resource.RLIMIT_AS)[0],
        "capabilities": open("/proc/self/status").read().split("CapEff:")[1].split()[0],
        "network": _try(lambda: socket.create_connection(("127.0.0.1", 22), timeout=1)),
        "write_tmp": _try(lambda: _write("/tmp/mine")),
        "write_root": _try(lambda: _write("/planted")),
        "write_dev": _try(lambda: _write("/dev/planted")),
        "write_site": _try(lambda: _write(os.path.join(os.path.dirname(os.path.dirname(
            __import__("numpy").__file__)), "planted.pth"))),
        "write_python": _try(lambda: _write(os.path.join(sys.base_prefix, "planted.pth"))),
        # shared by every session of a grading process: read-only to each of them
        "write_view": _try(lambda: _write(__import__("conv_lib").__file__)),
        "write_fonts": _try(lambda: _write(next(
            os.path.join("/tmp/matplotlib", f) for f in os.listdir("/tmp/matplotlib")))),
        "pyplot_on_use": _pyplot(),
        "import_scipy": _try(lambda: _import("scipy")),
        "import_scipy_from_the_installation": _try(lambda: _import_from_installation("scipy")),
        "import_nbgrader": _try(lambda: _import("nbgrader")),
        "import_judge": _try(lambda: _import("grader.diagnosis.judge")),
        "import_tap_columns": _try(lambda: _import("conv_lib._tap_columns")),
        "fast_layer": _try(lambda: __import__("conv_lib").conv_forward_fast(1, 2, 3, 4)),
        "visible_host_paths": [p for p in host_paths if os.path.exists(p)],
        # the template this worker was forked from: out of reach, though it is the same uid
        "template_fds": _try(lambda: os.listdir("/proc/2/fd")),
        "template_memory": _try(lambda: open("/proc/2/mem", "rb").read(1)),
        "template_trace": _try(_attach_template),
    }
    return facts
'''


@pytest.fixture(scope="module")
def facts(tmp_path_factory):
    marker = tmp_path_factory.mktemp("host") / "secret.txt"
    marker.write_text("host file")
    host_paths = [str(marker), str(Path(feedback.__file__).resolve()), "/work", "/home",
                  "/etc/passwd", str(Path(sys.prefix) / "bin")]
    os.environ["GRADER_HOST_SECRET"] = "do-not-leak"
    try:
        session = Session([], [(1, PROBE)], ["conv_lib.conv", "conv_lib.im2col"], Limits())
        status, value = session.call("probe", [host_paths])
        session.close()
    finally:
        del os.environ["GRADER_HOST_SECRET"]
    assert status == "ok", value
    return value


def test_the_worker_runs_unprivileged_alone_in_its_own_namespaces(facts):
    # As root: a uid of its own above UID_BASE; as anyone else: nobody, in bwrap's user namespace.
    if os.geteuid() == 0:
        assert facts["uid"] >= isolation.UID_BASE
    else:
        assert facts["uid"] == 65534
    assert facts["capabilities"] == "0000000000000000"
    # A PID namespace of its own: bwrap's init, the student's template, this worker.
    assert facts["pid"] == 3 and facts["ppid"] == 2
    assert facts["processes"] == [1, 2, 3]  # sees nothing of the grader or classmates
    assert facts["template_fds"] == facts["template_memory"] == "PermissionError"
    assert facts["template_trace"] == "PermissionError"
    assert facts["network"] != "allowed"


def test_the_worker_sees_no_host_file_and_keeps_no_grader_state(facts):
    assert facts["visible_host_paths"] == []
    assert "GRADER_HOST_SECRET" not in facts["environment"]
    assert set(facts["environment"]) <= {*isolation.ENVIRONMENT, "PWD"}  # PWD: bwrap --chdir
    # The two protocol pipes; everything else is /dev/null (stdin, stdout, stderr).
    assert facts["open_fds"].count("pipe") == 2
    assert set(facts["open_fds"]) <= {"pipe", "/dev/null", "closed"}


def test_only_its_private_tmp_is_writable_and_everything_is_capped(facts):
    assert facts["write_tmp"] == "allowed" and facts["cwd"] == isolation.HOME
    for place in ("write_root", "write_dev", "write_site", "write_python", "write_view",
                  "write_fonts"):
        assert facts[place] != "allowed", place
    limits = Limits()
    assert (facts["nproc"], facts["fsize"], facts["address_space"]) == (
        limits.processes, limits.file_bytes, limits.memory_bytes)


def test_only_the_allowed_packages_are_there_and_forbidden_layers_refuse(facts):
    assert facts["import_scipy"] == facts["import_nbgrader"] == "ModuleNotFoundError"
    # not even through the Python installation's own package folders
    assert facts["import_scipy_from_the_installation"] == "ModuleNotFoundError"
    assert facts["import_judge"] == "ModuleNotFoundError"
    assert facts["import_tap_columns"] == "ModuleNotFoundError"  # only the fast conv used it
    assert facts["fast_layer"] == "ForbiddenCall"


def test_pyplot_loads_on_first_use_with_the_prebuilt_font_list(facts):
    assert facts["pyplot_on_use"] == ["_DeferredModule", "Figure", "module"]
    assert facts["write_fonts"] not in ("allowed", "StopIteration")  # there, and read-only


def test_each_task_view_stubs_what_it_forbids_and_keeps_what_it_needs():
    naive = worker_view.conv_lib_modules({"conv_lib.conv", "conv_lib.pool", "conv_lib.im2col"})
    assert naive["conv"] == naive["pool"] == naive["im2col"] == "stub"
    assert naive["layer_utils"] == "stub"  # it imports the fast layers: a way back to them
    assert "_tap_columns" not in naive and naive["layers"] == "copy"
    convnet = worker_view.conv_lib_modules({"conv_lib.cnn", "conv_lib.solver"})
    assert convnet["cnn"] == convnet["solver"] == "stub"
    assert convnet["conv"] == convnet["layer_utils"] == convnet["_tap_columns"] == "copy"


def _frame(data):
    return struct.pack("<Q", len(data)) + data


def _message(header, blobs=()):
    return b"".join(map(_frame, [json.dumps(dict(header, blobs=len(blobs))).encode(), *blobs]))


def _npy(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _read(data):
    reader = protocol.MessageReader()
    reader.feed(data)
    return reader.message()


def test_a_blob_referenced_many_times_is_decoded_once():
    blob = _npy(np.arange(1_000_000, dtype=np.float64))  # 8 MB
    header = {"type": "result", "values": [{"kind": "list",
                                            "items": [{"kind": "array", "blob": 0}] * 1000}]}
    _, (items,) = _read(_message(header, [blob]))
    # one array, not a thousand copies (8 GB): decoded once, whatever the time it took
    assert len(items) == 1000 and all(item is items[0] for item in items)
    assert not items[0].flags.writeable and items[0][-1] == 999_999


@pytest.mark.parametrize("name, data", [
    ("oversized frame", struct.pack("<Q", protocol.MAX_MESSAGE + 1)),
    ("oversized header", struct.pack("<Q", protocol.MAX_HEADER + 1)),
    ("deep nesting", _frame(b'{"blobs": 0, "values": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}")),
    ("nested values", _message({"values": [{"kind": "list", "items": [{"kind": "list", "items": [
        {"kind": "list", "items": [{"kind": "list", "items": [{"kind": "list", "items": [
            {"kind": "list", "items": []}]}]}]}]}]}]})),
    ("too many blobs", _message({"values": []}, [b""] * (protocol.MAX_BLOBS + 1))),
    ("lying array header", _message({"values": [{"kind": "array", "blob": 0}]},
                                    [_npy(np.zeros(10))[:-40]])),
    ("object array", _message({"values": [{"kind": "array", "blob": 0}]},
                              [_npy(np.zeros(3)).replace(b"'<f8'", b"'|O' ")])),
    ("missing blob", _message({"values": [{"kind": "array", "blob": 3}]})),
    ("negative shape", _message({"values": [{"kind": "array", "blob": 0}]},
                                [_npy(np.zeros(0)).replace(b"(0,)", b"(-1, 0)")])),
    ("items not a list", _message({"values": [{"kind": "tuple", "items": 5}]})),
    ("items not a dict", _message({"values": [{"kind": "dict", "items": [1]}]})),
    ("not JSON", _frame(b"{x}")),
])
def test_the_reader_refuses_what_is_out_of_bounds(name, data):
    with pytest.raises(protocol.ProtocolError):
        _read(data)


def test_a_message_in_pieces_waits_for_its_last_byte():
    data = _message({"type": "result", "values": [{"kind": "array", "blob": 0}]},
                    [_npy(np.ones(3))])
    reader = protocol.MessageReader()
    for index in range(len(data) - 1):
        reader.feed(data[index:index + 1])
        assert reader.message() is None
    reader.feed(data[-1:])
    assert reader.message()[1][0].tolist() == [1.0, 1.0, 1.0]


def test_without_bubblewrap_grading_is_refused_with_a_clear_message(monkeypatch, tmp_path,
                                                                     capsys):
    monkeypatch.setattr(isolation.shutil, "which", lambda name: None)
    isolation.mode.cache_clear()
    try:
        with pytest.raises(isolation.SandboxUnavailable, match="bubblewrap.*--unsafe-no-sandbox"):
            autograde(ClassRun(load(REPO), tmp_path, tmp_path / "out", use_nbgrader=False,
                               progress=False))
        assert not (tmp_path / "out").exists()  # refused before anything was written
        assert main(["autograde", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
        assert "apt-get install bubblewrap" in capsys.readouterr().err
    finally:
        isolation.mode.cache_clear()


def test_unsafe_mode_still_grades_and_says_so():
    limits = Limits(unsafe_no_sandbox=True)
    session = Session([], [(1, "def f(x):\n    return x * 2\n")], [], limits)
    try:
        assert session.call("f", [np.ones(2)])[1].tolist() == [2.0, 2.0]
    finally:
        session.close()
    result = StudentResult("ada", rows=[feedback.Row("ada", "a", "n", "test_x", 1.0, 1.0, "graded")],
                           unsandboxed=True)
    assert "UNSAFE" in feedback.summary([result])
    assert isolation.UNSAFE_NOTE in Run(0, limits).notes


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised():
    for risky in ("=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert feedback.csv_cell(risky) == "'" + risky
    assert feedback.csv_cell("ada") == "ada" and feedback.csv_cell(-1.5) == -1.5


def test_outputs_are_replaced_whole(tmp_path):
    target = tmp_path / "grades.csv"
    feedback.write_atomically(target, "first")
    feedback.write_atomically(target, "second")
    assert target.read_text() == "second" and os.listdir(tmp_path) == ["grades.csv"]


def test_collection_copies_regular_files_and_refuses_links_and_fifos(tmp_path):
    submitted = tmp_path / "submitted"
    (submitted / "ada" / "03_pooling").mkdir(parents=True)
    (submitted / "ada" / "03_pooling" / "pooling.ipynb").write_text("{}")
    (submitted / "ada" / "03_pooling" / "timestamp.txt").write_text("2026-11-30 08:00:00")
    (submitted / "bob" / "03_pooling").mkdir(parents=True)
    os.symlink("/etc/passwd", submitted / "bob" / "03_pooling" / "pooling.ipynb")
    (submitted / "cy" / "03_pooling").mkdir(parents=True)
    os.mkfifo(submitted / "cy" / "03_pooling" / "pooling.ipynb")
    os.symlink(submitted / "ada", submitted / "dee")
    works = {w.student: w for w in collect(submitted, load(REPO), scratch=tmp_path / "scratch")}
    key = ("03_pooling", "pooling")
    assert works["ada"].notebooks[key].read_text() == "{}"
    assert tmp_path / "scratch" in works["ada"].notebooks[key].parents
    # nbgrader's submission time goes with the copy (the gradebook records it)
    assert (works["ada"].notebooks[key].parent / "timestamp.txt").read_text() == "2026-11-30 08:00:00"
    assert "symbolic link" in works["bob"].refusal(*key) and key not in works["bob"].notebooks
    assert "FIFO" in works["cy"].refusal(*key)
    assert "symbolic link" in works["dee"].refusal(*key) and not works["dee"].notebooks


def test_everything_a_worker_started_dies_with_its_sandbox():
    daemon = ("import os, time\n"
              "if os.fork() == 0:\n"
              "    os.setsid()\n"
              "    time.sleep(1000)\n"
              "def alive():\n"
              "    return len([p for p in os.listdir('/proc') if p.isdigit()])\n")
    session = Session([], [(1, daemon)], [], Limits())
    try:
        assert session.call("alive", []) == ("ok", 4)  # init, template, worker, daemon
        assert len(sandbox_processes()) >= 2  # seen from outside too: the check can fail
    finally:
        session.close()
    assert sandbox_processes() == []


def test_a_spent_student_deadline_runs_nothing_more(tmp_path, monkeypatch):
    from grader.judge import judge_notebook
    from grader.sandbox.sandbox import START_LOG

    monkeypatch.setenv(START_LOG, str(tmp_path / "starts"))
    result = judge_notebook([], [(1, "def max_pool_forward_naive(x, p):\n    return x\n")],
                            ["max_pool_forward"], seed=1, deadline=time.monotonic())
    assert not (tmp_path / "starts").exists()  # no worker was started
    verdicts = result.verdicts["max_pool_forward"]
    assert verdicts and all(v.problems == ["not run: the grading time for this notebook ran out"]
                            for v in verdicts)
    assert any("grading time for this notebook ran out" in note for note in result.notes)


LEAVES = r'''
import os
import numpy as np

def leave(kind):
    if kind == "file":
        os.makedirs("/tmp/deep/er", exist_ok=True)
        open("/tmp/deep/er/answers.txt", "w").write("42")
        os.chmod("/tmp/deep", 0)  # a folder that cannot even be listed
    elif kind == "process":
        if os.fork() == 0:
            os.setsid()
            os.execv("/bin/sleep", ["sleep", "1000"])
    elif kind == "frames":  # forged answers, written as the grader says goodbye
        from grader.sandbox import protocol, worker
        real = worker.receive
        fds = []
        for f in os.listdir("/proc/self/fd"):
            try:
                fds += [int(f)] if os.readlink(f"/proc/self/fd/{f}").startswith("pipe:") else []
            except OSError:  # the listing's own descriptor
                pass
        def forging(stream):
            message = real(stream)
            for fd in fds:
                try:
                    os.write(fd, protocol.joined(protocol.frames({"type": "ready"}))
                             + protocol.joined(protocol.frames(
                                 {"type": "result", "status": "ok"}, [np.full(3, 7.0)])))
                except OSError:
                    pass
            return message
        worker.receive = forging
    np.add = None  # the next notebook must not see this either
    os.environ["LEFT"] = "behind"
    return os.getppid()

def look():
    return [os.getppid(), sorted(os.listdir("/tmp")), "LEFT" in os.environ, np.add is None,
            len([p for p in os.listdir("/proc") if p.isdigit()])]

def three():
    return np.arange(3.0)
'''


@pytest.mark.parametrize("kind", ["nothing", "file", "frames", "process"])
def test_a_students_next_notebook_starts_from_nothing_the_last_one_left(kind):
    from grader.sandbox import StudentSandbox

    with StudentSandbox() as host:
        first = Session([], [(1, LEAVES)], [], Limits(), host=host)
        assert first.call("leave", [kind]) == ("ok", 2)  # forked from the template, pid 2
        template = host.sandbox.inner_pid
        first.close()
        # Only a notebook that left a process behind costs the student a new sandbox.
        assert (host.sandbox is not None and host.sandbox.inner_pid == template) \
            == (kind != "process")
        second = Session([], [(1, LEAVES)], [], Limits(), host=host)
        status, seen = second.call("look", [])
        assert status == "ok"
        assert seen == [2, ["matplotlib"], False, False, 3]  # init, template, this worker
        status, value = second.call("three", [])
        assert status == "ok" and list(value) == [0.0, 1.0, 2.0]  # not the forged 7s
        second.close()
    assert sandbox_processes() == []


# Kernel objects that outlive every process: SysV IPC and POSIX queues live as long as the
# sandbox's IPC namespace, a TIME_WAIT connection holds its port in its network namespace,
# and a uid's keyrings outlive the sandbox itself (the uid is the grading process's, the
# same for every student it grades).
KERNEL_LEAVES = r'''
import ctypes, os, socket

libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
libc.syscall.restype = ctypes.c_long
NAME, PORT, SECRET = 0x5EC2E7, 40001, b"answers"
ADD_KEY, KEYCTL = 248, 250  # x86_64
KEYRINGS = {"user": -4, "user session": -5}

class Message(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_long), ("text", ctypes.c_char * 16)]

def _persistent():
    return libc.syscall(KEYCTL, 22, ctypes.c_long(-1), ctypes.c_long(-4))  # GET_PERSISTENT

def _made(result):
    if result == -1:
        raise PermissionError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return result

def leave(kind):
    """Store SECRET so that it outlives this notebook; "left", or why it could not."""
    try:
        if kind == "shared memory":
            memory = libc.shmat(_made(libc.shmget(NAME, 4096, 0o1600)), None, 0)
            ctypes.memmove(memory, SECRET, len(SECRET))
        elif kind == "message queue":
            libc.msgsnd(_made(libc.msgget(NAME, 0o1600)), ctypes.byref(Message(1, SECRET)), 16, 0)
        elif kind == "posix queue":
            queue = _made(libc.mq_open(b"/answers", os.O_CREAT | os.O_RDWR, 0o600, None))
            libc.mq_send(queue, SECRET, len(SECRET), 0)
        elif kind == "socket":  # a closed connection waits in TIME_WAIT, holding its port
            server = socket.create_server(("127.0.0.1", PORT))
            client = socket.create_connection(("127.0.0.1", PORT))
            server.accept()[0].close()
            client.close()
        elif kind == "keys":
            for ring in [*KEYRINGS.values(), _made(_persistent())]:
                _made(libc.syscall(ADD_KEY, b"user", b"answers", SECRET, len(SECRET),
                                   ctypes.c_long(ring)))
    except OSError as error:
        return error.strerror
    return "left"

def find(kind):
    """What of leave(kind) this notebook finds: None when nothing."""
    if kind == "shared memory":
        memory = libc.shmget(NAME, 0, 0)
        return None if memory < 0 else ctypes.string_at(libc.shmat(memory, None, 0), 7)
    if kind == "message queue":
        queue, message = libc.msgget(NAME, 0), Message()
        return None if queue < 0 else (libc.msgrcv(queue, ctypes.byref(message), 16, 0, 0o4000),
                                       message.text)
    if kind == "posix queue":
        queue = libc.mq_open(b"/answers", os.O_RDWR)
        return None if queue < 0 else queue
    if kind == "socket":
        try:
            socket.socket().bind(("127.0.0.1", PORT))
            return None
        except OSError as error:
            return str(error)
    found = [name for name, ring in [*KEYRINGS.items(), ("persistent", _persistent())]
             if libc.syscall(KEYCTL, 10, ctypes.c_long(ring), b"user", b"answers", 0) >= 0]
    return found or None
'''


@pytest.mark.parametrize("kind", ["shared memory", "message queue", "posix queue", "socket", "keys"])
def test_what_a_notebook_leaves_in_the_kernel_reaches_neither_the_next_notebook_nor_student(kind):
    from grader.sandbox import StudentSandbox

    with StudentSandbox() as host:
        first = Session([], [(1, KERNEL_LEAVES)], [], Limits(), host=host)
        # All but the socket are refused outright (isolation.REFUSED_CALLS).
        assert first.call("leave", [kind]) == ("ok", "left" if kind == "socket" else
                                               "Operation not permitted")
        first.close()
        second = Session([], [(1, KERNEL_LEAVES)], [], Limits(), host=host)
        assert second.call("find", [kind]) == ("ok", None)
        second.close()
    with StudentSandbox() as host:  # the next student graded by this process, same uid
        following = Session([], [(1, KERNEL_LEAVES)], [], Limits(), host=host)
        assert following.call("find", [kind]) == ("ok", None)
        following.close()
    assert sandbox_processes() == []


OUTSIDE = r'''
import ctypes, os

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
MEMFD_SECRET = 447  # x86_64 and aarch64

def _secret():
    fd = libc.syscall(MEMFD_SECRET, 0)
    if fd < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return fd

def _fill_secret(fd, size, step=4 << 20):
    """Secret memory is written through mappings only, each within RLIMIT_MEMLOCK."""
    import mmap
    os.ftruncate(fd, size)
    for offset in range(0, size, step):
        with mmap.mmap(fd, step, offset=offset) as memory:
            memory.write(bytes(step))

def hold(blocks, kind="memfd"):
    """Write 16 MiB blocks into memfds (or secret memfds), memory outside this process's
    address space once unmapped."""
    held = []
    try:
        for number in range(blocks):
            if kind == "memfd":
                held.append(os.memfd_create(f"block{number}"))
                os.write(held[-1], bytes(16 << 20))
            else:
                held.append(_secret())
                _fill_secret(held[-1], 16 << 20)
    except OSError as error:
        return error.strerror
    return "held"

def callback():  # ctypes callbacks (libffi closures) may try a memfd first
    twice = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)(lambda x: 2 * x)
    return twice(21)
'''


def test_a_worker_holds_no_memory_outside_its_address_space():
    # 640 MiB in memfds against a 512 MiB address-space limit, invisible to the OOM killer
    # (it is in no process's memory): refused (isolation.REFUSED_CALLS).
    session = Session([], [(1, OUTSIDE)], [], Limits(memory_bytes=512 << 20))
    try:
        assert session.call("hold", [40]) == ("ok", "Operation not permitted")
        assert session.call("hold", [40, "secret"]) == ("ok", "Operation not permitted")
        assert session.call("callback", []) == ("ok", 42)
    finally:
        session.close()


NAMESPACES = r'''
import ctypes, json, os, subprocess, threading

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
CLONE_NEWUSER, SIGCHLD = 0x10000000, 17
UNSHARE, CLONE, CLONE3 = {"x86_64": (272, 56, 435), "aarch64": (97, 220, 435)}[os.uname().machine]

class CloneArgs(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint64) for name in
                ("flags", "pidfd", "child_tid", "parent_tid", "exit_signal", "stack", "stack_size", "tls")]

def _outcome(result):
    return "allowed" if result == 0 else os.strerror(ctypes.get_errno())

def attempts(_):
    read, write = os.pipe()
    if os.fork() == 0:  # the attempts change the process that makes them: a throwaway one
        found = {}
        for name, call in (("clone", lambda: libc.syscall(CLONE, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0)),
                           ("clone3", lambda: libc.syscall(CLONE3, ctypes.byref(
                               CloneArgs(flags=CLONE_NEWUSER, exit_signal=SIGCHLD)), 64))):
            result = call()
            if result == 0:
                os._exit(0)
            found[name] = "allowed" if result > 0 else os.strerror(ctypes.get_errno())
        found["unshare"] = _outcome(libc.unshare(CLONE_NEWUSER))
        if found["unshare"] == "allowed":  # then the mount a user namespace gives
            libc.unshare(0x00020000)  # CLONE_NEWNS
            found["mount"] = _outcome(libc.mount(b"none", b"/tmp", b"tmpfs", 0, None))
        thread = threading.Thread(target=lambda: found.update(thread="ran"))
        thread.start()
        thread.join()
        found["subprocess"] = subprocess.run(["/bin/true"]).returncode
        os.write(write, json.dumps(found).encode())
        os._exit(0)
    os.close(write)
    os.wait()
    return json.loads(os.read(read, 4096))
'''


def test_a_worker_cannot_make_a_user_namespace_and_still_starts_threads_and_programs():
    # In a user namespace of its own the worker could mount a tmpfs: memory outside its address
    # space again, as a memfd was (unbounded where there is no cgroup). Refused by seccomp;
    # threads (clone3 -> clone) and subprocesses still start.
    session = Session([], [(1, NAMESPACES)], [], Limits())
    try:
        assert session.call("attempts", [0]) == ("ok", {
            "unshare": "Operation not permitted", "clone": "Operation not permitted",
            "clone3": "Function not implemented", "thread": "ran", "subprocess": 0})
    finally:
        session.close()


HOG = r'''
import os, time

def hog():
    """Fork sleeping children until the process limit says no; how many there are."""
    children = 0
    while children < 64:
        try:
            if os.fork() == 0:
                time.sleep(60)
                os._exit(0)
        except OSError:
            break
        children += 1
    return children
'''


def test_a_classmate_graded_in_another_thread_keeps_their_own_process_count():
    # A Dask worker grades one student per thread. RLIMIT_NPROC counts a uid's processes,
    # machine-wide: two sandboxes of one uid share it, and one student's fork flood would
    # leave the classmate's template no worker to fork.
    import threading

    hog = Session([], [(1, HOG)], [], Limits())
    try:
        status, children = hog.call("hog", [])
        assert status == "ok" and children >= Limits().processes - 4
        seen = []
        thread = threading.Thread(target=lambda: seen.append(_one_call("def one():\n    return 1\n",
                                                                       "one")))
        thread.start()
        thread.join()
        assert seen == [("ok", 1)]
    finally:
        hog.close()
    assert sandbox_processes() == []


def _one_call(source, function):
    session = Session([], [(1, source)], [], Limits())
    try:
        return session.call(function, [])
    finally:
        session.close()
