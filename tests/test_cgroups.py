"""Each student sandbox in its own cgroup (grader/sandbox/cgroups.py): every process of it
inside, one memory cap for all of them and the kernel memory they cause, one process cap,
one CPU weight, nothing left after the run, and grading without cgroups where there are none.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.__main__ import main
from grader.sandbox import Limits, Session, StudentSandbox, cgroups

from .conftest import load_sample_class_builder

ROOT = Path(__file__).resolve().parent.parent
SMALL = 256 << 20

if cgroups.run_group() is None:
    pytest.skip(f"no cgroup can be made on this machine: {cgroups.notice()}",
                allow_module_level=True)

HOSTILE = r'''
import os, time

def children(count, seconds):
    for _ in range(count):
        if os.fork() == 0:
            time.sleep(seconds)
            os._exit(0)
    return os.getpid()

def touch(count, mebibytes):
    """``count`` processes each writing ``mebibytes`` MiB; how each of them ended."""
    pids = []
    for _ in range(count):
        pid = os.fork()
        if pid == 0:
            block = bytearray(mebibytes << 20)
            block[::4096] = b"x" * len(block[::4096])
            time.sleep(1)
            os._exit(0)
        pids.append(pid)
    return [os.waitpid(pid, 0)[1] for pid in pids]

def files(count):
    """Empty files with long names: kernel memory (inodes, dentries), no file data."""
    for number in range(count):
        try:
            open(f"{number:0>200}", "w").close()
        except OSError as error:
            return [number, error.strerror]
    return [count, "made"]

def fork_flood():
    made = 0
    try:
        while made < 1000:
            if os.fork() == 0:
                time.sleep(30)
                os._exit(0)
            made += 1
    except OSError:
        pass
    return made

def ping():
    return 42

def own_cgroups():
    """This process's cgroups as it sees them, and whether any cgroupfs is in reach."""
    with open("/proc/self/cgroup") as lines:
        return [line.strip().split(":", 2)[2] for line in lines], os.path.exists("/sys/fs/cgroup")
'''


def _descendants(pid):
    """``pid`` and every process below it, from this side's /proc."""
    parents = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parents.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo += parents.get(found[-1], [])
    return found


def _group_of(session):
    return session.host.sandbox.group


def _run_folders():
    return list(dict.fromkeys(cgroups.run_group().folders.values()))


def _sandbox_groups():
    return [child for folder in _run_folders() for child in folder.iterdir() if child.is_dir()]


def test_every_process_of_a_sandbox_is_in_its_cgroup_and_the_caps_are_written():
    session = Session([], [(1, HOSTILE)], [], Limits(processes=20))
    try:
        assert session.call("children", [3, 30])[0] == "ok"
        # its own cgroup namespace: the sandbox's group is its root, and no cgroupfs to write
        paths, cgroupfs = session.call("own_cgroups", [])[1]
        assert set(paths) == {"/"} and not cgroupfs
        sandbox, group = session.host.sandbox, _group_of(session)
        processes = _descendants(sandbox.process.pid)
        # bwrap outside, the namespace's init, the template, the worker and its three children
        assert sandbox.inner_pid in processes and len(processes) == 7
        for pid in processes:
            lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
            for controller, folder in group.folders.items():
                line = next(x for x in lines if controller in x.split(":")[1].split(","))
                assert folder.as_posix().endswith(line.split(":", 2)[2]), (pid, line)
        folders = group.folders
        assert set(folders) == set(cgroups.CONTROLLERS)
        if group.version == 1:
            assert int((folders["memory"] / "memory.limit_in_bytes").read_text()) == \
                Limits().sandbox_memory_bytes
            assert int((folders["cpu"] / "cpu.shares").read_text()) == 1024
        else:
            assert int((folders["memory"] / "memory.max").read_text()) == Limits().sandbox_memory_bytes
            assert int((folders["cpu"] / "cpu.weight").read_text()) == 100
        assert int((folders["pids"] / "pids.max").read_text()) == 20 + cgroups.SANDBOX_PROCESSES
        for folder in folders.values():  # only the grader may change them
            assert (folder / "cgroup.procs").stat().st_uid == os.geteuid()
            assert not (folder / "cgroup.procs").stat().st_mode & 0o022
    finally:
        session.close()


def test_a_sandbox_over_its_memory_dies_alone_and_its_classmate_goes_on():
    limits = Limits(sandbox_memory_bytes=SMALL, call_seconds=30)
    honest = Session([], [(1, HOSTILE)], [], limits)
    hostile = Session([], [(1, HOSTILE)], [], limits)
    try:
        assert honest.call("ping", []) == ("ok", 42)
        # three processes of 150 MiB each, every one within its 3 GiB address space: the
        # cgroup's OOM killer ends some of them (SIGKILL), in this sandbox only
        status, ended = hostile.call("touch", [3, 150])
        assert status == "died" or (status == "ok" and 9 in ended and 0 in ended), (status, ended)
        if _group_of(hostile) is not None and _group_of(hostile).version == 1:
            peak = _group_of(hostile).folders["memory"] / "memory.max_usage_in_bytes"
            assert int(peak.read_text()) <= SMALL
        assert honest.call("ping", []) == ("ok", 42)  # the same worker, untouched
        # a million empty files would be ~1.25 GiB of kernel memory; the cap stops them
        status, value = hostile.call("files", [1_000_000])
        assert status == "died" or (status == "ok" and value[0] < 300_000), (status, value)
        assert honest.call("ping", []) == ("ok", 42)
    finally:
        hostile.close()
        honest.close()


def test_the_process_cap_holds_for_the_whole_sandbox():
    session = Session([], [(1, HOSTILE)], [], Limits(processes=12))
    try:
        assert session.call("ping", []) == ("ok", 42)
        # Below the uid's RLIMIT_NPROC (12: ten more processes), so only the cgroup stops
        # this flood: bwrap outside, init, the template and the worker leave room for two.
        pids = _group_of(session).folders["pids"] / "pids.max"
        pids.write_text("6\n")
        assert session.call("fork_flood", []) == ("ok", 2)
        peak = pids.parent / "pids.peak"  # a recent kernel's
        assert not peak.exists() or int(peak.read_text()) <= 6
    finally:
        session.close()


def test_no_cgroup_is_left_after_a_crash_nor_after_the_run(tmp_path):
    before = set(_sandbox_groups())  # none, unless a test before left a live sandbox
    with StudentSandbox() as host:
        session = Session([], [(1, "import os\ndef crash():\n    os._exit(3)\n")], [], host=host)
        assert session.call("crash", []) == ("died", None)
        assert host.sandbox is None  # the crash cost the sandbox: its group went with it
        session.close()
        assert set(_sandbox_groups()) <= before
    # A whole run in its own process, killed in the middle of a notebook: its run group goes
    # with it (the Finalize), even with a sandbox still alive.
    script = ("import os, sys\nfrom grader.sandbox import cgroups\n"
              "from grader.sandbox import Session\n"
              "s = Session([], [(1, 'def f():\\n    return 1\\n')], [])\n"
              "assert s.call('f', []) == ('ok', 1)\n"
              "print(*[str(f) for f in cgroups.run_group().folders.values()], sep='\\n')\n"
              "raise KeyboardInterrupt\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    folders = done.stdout.split()
    assert "KeyboardInterrupt" in done.stderr and len(folders) >= 1
    assert not any(os.path.exists(folder) for folder in folders)
    # One whose grader was killed with SIGKILL (as a Dask worker may be) goes at the next run.
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = [Path(folder).parent / f"conv-grader-{dead.pid}" for folder in folders]
    for folder in stale:
        (folder / "sandbox-1").mkdir(parents=True)
    cgroups.run_group.cache_clear()
    cgroups.run_group()
    assert not any(folder.exists() for folder in stale)


def test_without_cgroups_grading_goes_on_and_says_so_once(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(cgroups, "_mounts", lambda: [])
    monkeypatch.setattr(cgroups, "_NOTICE", [])
    cgroups.run_group.cache_clear()
    sample = load_sample_class_builder().EXAMPLES
    try:
        for student in ("p1", "p2"):
            shutil.copy(sample / "eve" / "03_pooling" / "pooling.ipynb", tmp_path / f"{student}.ipynb")
        assert main(["autograde", str(tmp_path), "--assignment", "03_pooling", "--out",
                     str(tmp_path / "out"), "--jobs", "1", "--no-progress"]) == 0
        printed = capsys.readouterr().out
        assert printed.count("no cgroup could be made") == 1, printed
    finally:
        cgroups.run_group.cache_clear()
