"""The grader's temporary folders carry the id of the process that made them, so what a grader
killed with SIGKILL (a Dask worker, say) could not remove is removed by the next one.

Every folder is named ``<kind><pid>-<random>`` in the temporary directory; the process that
made it removes it when done (a ``with`` block, or a multiprocessing Finalize at its exit).
remove_dead() removes the folders of every kind whose process is gone, as cgroups.py does
for the run groups: a folder of a live process, of another user, or of a process this one
cannot see is never touched.
"""

import os
import shutil
import tempfile
from pathlib import Path

# What each kind holds: the worker's code (worker_view), matplotlib's font list (isolation),
# one student's notebooks on a Dask worker (schedule/cluster.py), a class's collected copies
# (schedule/class_run.py), one upload (schedule/export.py).
KINDS = ("grader-view-", "grader-fonts-", "grader-site-", "grader-home-", "cluster-student-",
         "autograde-", "export-")


def _prefix(kind):
    if kind not in KINDS:
        raise ValueError(f"unknown kind of temporary folder {kind!r}; one of {KINDS}")
    return f"{kind}{os.getpid()}-"


def make_folder(kind):
    """A new folder of ``kind`` (one of KINDS) owned by this process; the caller removes it."""
    return Path(tempfile.mkdtemp(prefix=_prefix(kind)))


def temporary_folder(kind):
    """A tempfile.TemporaryDirectory of ``kind``, named after this process."""
    return tempfile.TemporaryDirectory(prefix=_prefix(kind))


def alive(pid):
    """True unless process ``pid`` is gone: there is none, or it is a zombie (it has ended,
    only its exit status waits for its parent). One of another user counts as alive."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc to tell: it exists
    return state != "Z"


def owner(name):
    """The process id in a folder name of one of KINDS, else None."""
    for kind in KINDS:
        if name.startswith(kind):
            number = name[len(kind):].split("-", 1)[0]
            if number.isdigit() and "-" in name[len(kind):]:
                return int(number)
    return None


def remove_dead(folder=None):
    """Remove the folders in ``folder`` (default: the temporary directory) that a grader
    process, now dead, made and did not remove; returns their paths."""
    removed = []
    try:
        entries = list(os.scandir(folder or tempfile.gettempdir()))
    except OSError:
        return removed
    for entry in entries:
        pid = owner(entry.name)
        if pid is None or pid == os.getpid() or alive(pid):
            continue
        try:
            mine = entry.is_dir(follow_symlinks=False) and entry.stat(
                follow_symlinks=False).st_uid == os.geteuid()
        except OSError:
            continue
        if mine:
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
    return removed
