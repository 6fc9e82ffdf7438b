"""A cgroup per student sandbox: one memory cap for all its processes and the kernel memory
they cause (tmpfs inodes, page cache), one process cap, and one equal CPU weight, which
per-process rlimits cannot give (docs/security.md, "Total memory", "CPU share").

The grading process makes a parent group ``conv-grader-<pid>`` under its own cgroup (in every
cgroup v1 hierarchy of memory, pids and cpu, or in the unified v2 tree), and one group in it per
sandbox. bwrap is started through ``/bin/sh``, which moves itself into the sandbox's group and
then execs bwrap, so every process of the sandbox is born inside; no preexec_fn (the caller
may be a multi-threaded Dask worker). When no group can be made (no root and no delegation, a
read-only cgroupfs, not Linux) grading goes on with the rlimits alone and notice() says so.
"""

import errno
import functools
import itertools
import os
import signal
import time
from multiprocessing.util import Finalize
from pathlib import Path

from .leftovers import alive

CONTROLLERS = ("memory", "pids", "cpu")
SANDBOX_PROCESSES = 2  # bwrap outside and the namespace's init, besides the sandbox uid's own
# /bin/sh as a race-free door: $1 files to join, then the command. `echo` is sh's builtin.
ENTER = ('n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 126; shift; '
         'n=$((n - 1)); done; exec "$@"')
_SANDBOX_NUMBERS = itertools.count(1)
_NOTICE = []  # why there is no cgroup, or what is missing, for notice()


def _mounts():
    """[(mount point, fstype, super options)] of the cgroup filesystems mounted read-write."""
    found = []
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        fields, rest = line.split(" - ", 1)[0].split(), line.split(" - ", 1)[1].split()
        if rest[0] in ("cgroup", "cgroup2") and "rw" in fields[5].split(","):
            found.append((fields[4].replace("\\040", " "), rest[0], set(rest[2].split(","))))
    return found


def _own_paths():
    """{controller: this process's cgroup path}; the v2 path under ""."""
    paths = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return paths
    for line in lines:
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(","):
            paths[controller] = path
    return paths


def _below(mount, path):
    """The folder of ``path`` in the hierarchy mounted at ``mount`` (its root when this
    mount namespace does not show it)."""
    folder = Path(mount) / path.lstrip("/")
    return folder if folder.is_dir() else Path(mount)


def _write(path, value):
    Path(path).write_text(f"{value}\n")


def _remove(folder, seconds=1.0):
    """rmdir ``folder`` once the processes killed in it are gone; True when it is."""
    ends = time.monotonic() + seconds
    while True:
        try:
            os.rmdir(folder)
            return True
        except FileNotFoundError:
            return True
        except OSError as error:
            if error.errno != errno.EBUSY or time.monotonic() >= ends:
                return False
            time.sleep(0.01)


def _kill_all(folder):
    """SIGKILL every process left in ``folder`` (all of them a sandbox's)."""
    if (folder / "cgroup.kill").exists():
        try:
            _write(folder / "cgroup.kill", 1)
            return
        except OSError:
            pass
    try:
        pids = (folder / "cgroup.procs").read_text().split()
    except OSError:
        return
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


class RunGroup:
    """The grading process's parent group, in every hierarchy that has a controller for it;
    removed, with anything left below it, when the process that made it exits."""

    def __init__(self, version, folders):
        self.version = version
        self.folders = folders  # {controller: folder}; v2: every controller in one folder

    def sandbox(self, limits):
        """A new SandboxGroup with ``limits``' caps, or None (then noted for notice())."""
        name = f"sandbox-{os.getpid()}-{next(_SANDBOX_NUMBERS)}"
        folders = {c: folder / name for c, folder in self.folders.items()}
        made = []
        try:
            for folder in dict.fromkeys(folders.values()):
                folder.mkdir(mode=0o755)
                made.append(folder)
            group = SandboxGroup(self.version, folders)
            group.set_limits(limits)
        except OSError as error:
            for folder in made:
                _remove(folder)
            _note(f"a sandbox's cgroup could not be set up ({error})")
            return None
        return group

    def remove(self):
        for folder in dict.fromkeys(self.folders.values()):
            try:
                children = [child for child in folder.iterdir() if child.is_dir()]
            except OSError:  # gone already
                continue
            for child in children:
                _kill_all(child)
                _remove(child, seconds=3.0)
            _remove(folder, seconds=3.0)


class SandboxGroup:
    """One sandbox's cgroup (one folder per v1 hierarchy)."""

    def __init__(self, version, folders):
        self.version = version
        self.folders = folders

    @property
    def procs_files(self):
        return [str(folder / "cgroup.procs") for folder in dict.fromkeys(self.folders.values())]

    def set_limits(self, limits):
        memory, processes = limits.sandbox_memory_bytes, limits.processes + SANDBOX_PROCESSES
        if "memory" in self.folders:
            folder = self.folders["memory"]
            if self.version == 1:
                _write(folder / "memory.limit_in_bytes", memory)
                # Swap counts too (memsw >= memory), and TCP buffers on the sandbox's loopback.
                for name in ("memory.memsw.limit_in_bytes", "memory.kmem.tcp.limit_in_bytes"):
                    if (folder / name).exists():
                        _write(folder / name, memory)
            else:
                _write(folder / "memory.max", memory)
                for name, value in (("memory.swap.max", 0), ("memory.oom.group", 1)):
                    if (folder / name).exists():
                        _write(folder / name, value)
        if "pids" in self.folders:
            _write(self.folders["pids"] / "pids.max", processes)
        if "cpu" in self.folders:  # every sandbox the same weight, however many processes
            name, weight = ("cpu.shares", 1024) if self.version == 1 else ("cpu.weight", 100)
            _write(self.folders["cpu"] / name, weight)

    def enter(self, argv):
        """``argv`` run by a /bin/sh that first moves itself into this group."""
        files = self.procs_files
        return ["/bin/sh", "-c", ENTER, "sh", str(len(files)), *files, *argv]

    def remove(self):
        """Remove the group once its processes are gone (Sandbox.stop killed them); one
        left busy is removed with the run's group."""
        for folder in dict.fromkeys(self.folders.values()):
            _remove(folder)


def _note(message):
    if message not in _NOTICE:
        _NOTICE.append(message)


def _remove_dead_runs(base, version):
    """Remove the run groups in ``base`` of graders that are dead (one killed with SIGKILL,
    e.g. a Dask worker, could not remove its own); returns them."""
    removed = []
    for stale in base.glob("conv-grader-*"):
        number = stale.name.rsplit("-", 1)[1]
        if number.isdigit() and int(number) != os.getpid() and not alive(int(number)):
            RunGroup(version, {"": stale}).remove()
            if not stale.exists():
                removed.append(stale)
    return removed


def _run_folder(base, version):
    """``base``/conv-grader-<pid>, made; first the run groups of dead graders there are
    removed."""
    _remove_dead_runs(base, version)
    folder = base / f"conv-grader-{os.getpid()}"
    folder.mkdir(mode=0o755, exist_ok=True)
    return folder


def _make_v1(mounts, own):
    folders = {}
    for controller in CONTROLLERS:
        mount = next((m for m, kind, options in mounts if kind == "cgroup" and controller in options),
                     None)
        if mount is None or controller not in own:
            continue
        try:
            folders[controller] = _run_folder(_below(mount, own[controller]), 1)
        except OSError:
            continue
    return RunGroup(1, folders) if folders else None


def _enable(folder, controllers):
    """Turn ``controllers`` on for ``folder``'s children; those that stayed off are left out."""
    on = []
    for controller in controllers:
        try:
            _write(folder / "cgroup.subtree_control", f"+{controller}")
            on.append(controller)
        except OSError:
            pass
    return on


def _make_v2(mounts, own):
    mount = next((m for m, kind, _ in mounts if kind == "cgroup2"), None)
    if mount is None or "" not in own:
        return None
    base = _below(mount, own[""])
    # A cgroup with processes cannot hand controllers to children (v2's rule), and this
    # process is in its own: then the run's group goes beside it, under its parent.
    for parent in (base, base.parent):
        try:
            offered = (parent / "cgroup.controllers").read_text().split()
        except OSError:
            continue
        wanted = [c for c in CONTROLLERS if c in offered]
        if not wanted or _enable(parent, wanted) != wanted:
            continue
        try:
            folder = _run_folder(parent, 2)
        except OSError:
            continue
        enabled = _enable(folder, wanted)
        if enabled:
            return RunGroup(2, dict.fromkeys(enabled, folder))
        _remove(folder)
    return None


@functools.cache
def run_group():
    """This grading run's RunGroup, made on first use; None when no cgroup can be made here.
    A forked pool process shares its parent's (which removes it at exit)."""
    mounts, own = _mounts(), _own_paths()
    v1 = any(kind == "cgroup" and options & set(CONTROLLERS) for _, kind, options in mounts)
    group = _make_v1(mounts, own) if v1 else _make_v2(mounts, own)
    if group is None:
        _note("no cgroup could be made for the student sandboxes (needs root or a delegated "
              "cgroup v2 subtree), so total memory, process count and CPU share per student "
              "are bounded only by per-process limits")
        return None
    missing = [c for c in CONTROLLERS if c not in group.folders]
    if missing:
        _note(f"the student sandboxes' cgroups have no {', '.join(missing)} controller here, "
              "so that share is bounded only by per-process limits")
    Finalize(None, group.remove, exitpriority=0)  # also after Ctrl-C; ignored in forked children
    return group


def remove_dead():
    """Remove the run groups of dead graders beside this process's own (made, and the dead
    ones removed, on first use): a long-lived process, a Dask worker say, calls this at each
    verify to clear what a grader killed since then left."""
    run = run_group()
    if run is None:
        return []
    return [stale for folder in dict.fromkeys(run.folders.values())
            for stale in _remove_dead_runs(folder.parent, run.version)]


def sandbox_group(limits):
    """A SandboxGroup for a new sandbox with ``limits``, or None without cgroups."""
    run = run_group()
    return None if run is None else run.sandbox(limits)


def notice():
    """One line for the instructor when the sandboxes run without (part of) their cgroups,
    else None."""
    return "; ".join(_NOTICE) or None
