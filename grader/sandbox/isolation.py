"""The sandbox a worker runs in: bubblewrap (Debian's ``bubblewrap``, Flatpak's sandbox), or,
where namespaces are refused (a default Docker container, Gradescope), container mode: the
worker's own uid, Landlock and seccomp, which the worker applies to itself (confine.py).

Inside, the worker sees a read-only Python installation, the allowed packages,
its session's view (see worker_view) and an empty size-capped /tmp, nothing
else of the machine: new PID, network, IPC, UTS, cgroup and mount namespaces,
no capabilities, a new session (no terminal to push keystrokes into), and it
dies with the grading process. Why bubblewrap and not Landlock or unshare:
docs/security.md.

Run as root, the grader starts bubblewrap without a user namespace and drops
to a dedicated unprivileged uid with ``setpriv`` before any worker code runs:
a root-run ``bwrap --unshare-user`` maps the sandbox's uid to root outside, and
the kernel then exempts it from RLIMIT_NPROC (measured: a fork flood went
through). Run as any other user, bubblewrap maps the sandbox to that user.
"""

import errno
import functools
import glob
import os
import shutil
import struct
import subprocess
import threading
from pathlib import Path
from multiprocessing.util import Finalize

from . import leftovers
from .worker import HOME, VIEW  # the worker's own code; the private, size-capped tmpfs (cwd)
from .worker_view import allowed_packages, python_installation

SITE = "/sandbox/site"  # the allowed third-party packages
# Sandbox uids: UID_BASE + the id of the grading thread (a pool process's pid), owned by nobody.
# One uid per thread, not per process: a Dask worker grades a student in each of its threads,
# and RLIMIT_NPROC counts all of a uid's processes, so students graded side by side by one
# process would share one process cap.
UID_BASE = 0x10000000
ENVIRONMENT = {
    "PATH": "/usr/bin:/bin", "HOME": HOME, "LANG": "C.UTF-8", "MPLBACKEND": "Agg",
    "MPLCONFIGDIR": f"{HOME}/matplotlib",
    # One BLAS thread each: --jobs decides the parallelism, and the address-space
    # limit must not be eaten by thread stacks.
    "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
}
UNSAFE_NOTE = ("Graded WITHOUT the sandbox (--unsafe-no-sandbox): student code ran with the "
               "grader's rights on this machine, so these grades carry no fairness guarantee.")
UNSAFE_FLAG = "--unsafe-no-sandbox"


# System calls the sandbox refuses (EPERM), by architecture: (its AUDIT_ARCH, numbers). They make
# memory that is in no process's address space (System V shared memory, a memfd or secret memfd
# written but not mapped), which neither the address-space limit nor the OOM killer's choice of
# victim reaches: one notebook could take the machine's memory and have a classmate's worker or
# the grader killed for it. And objects that outlive their processes: System V and POSIX queues live as
# long as the student's sandbox, a uid's keys beyond it, reaching the next student graded
# under the same uid. No honest notebook needs any of them. unshare too: a new user namespace
# gives back mount and the rest (a tmpfs is memfd memory again), and so does clone with
# CLONE_NEWUSER (filtered on its flags) and clone3 (its flags are in memory seccomp cannot
# read, so it fails with ENOSYS, and the C library falls back to clone). And io_uring: its
# IORING_OP_SOCKET makes a socket of any family without the socket() call filtered below,
# and Landlock does not cover UDP (Docker's default profile refuses it too).
REFUSED_CALLS = {
    "x86_64": (0xC000003E, {"shmget": 29, "semget": 64, "msgget": 68, "mq_open": 240,
                            "add_key": 248, "request_key": 249, "keyctl": 250,
                            "unshare": 272, "memfd_create": 319, "io_uring_setup": 425,
                            "io_uring_enter": 426, "io_uring_register": 427, "memfd_secret": 447}),
    "aarch64": (0xC00000B7, {"unshare": 97, "mq_open": 180, "msgget": 186, "semget": 190,
                             "shmget": 194, "add_key": 217, "request_key": 218, "keyctl": 219,
                             "memfd_create": 279, "io_uring_setup": 425, "io_uring_enter": 426,
                             "io_uring_register": 427, "memfd_secret": 447}),
}
CLONE_CALLS = {"x86_64": (56, 435), "aarch64": (220, 435)}  # clone, clone3
CLONE_NEWUSER = 0x10000000


class SandboxUnavailable(RuntimeError):
    pass


SOCKET_CALLS = {"x86_64": 41, "aarch64": 198}
AF_UNIX = 1


def seccomp_filter(network=False):
    """The seccomp program (classic BPF): REFUSED_CALLS and clone with CLONE_NEWUSER
    fail with EPERM, clone3 with ENOSYS, and so does every call of another ABI (32-bit,
    x32), whose numbers differ, with EPERM; with ``network`` (container mode, where there
    is no network namespace) a socket of any family but AF_UNIX too. None on an
    architecture not in REFUSED_CALLS."""
    if os.uname().machine not in REFUSED_CALLS:
        return None
    arch, calls = REFUSED_CALLS[os.uname().machine]
    clone, clone3 = CLONE_CALLS[os.uname().machine]
    load, equal, at_least, has_bits, give = 0x20, 0x15, 0x35, 0x45, 0x06  # LD|W|ABS, JEQ, JGE, JSET, RET
    # (code, true target, false target, k); a target is an instruction's index or "next".
    program = [(load, "next", "next", 4),  # seccomp_data.arch
               (equal, "next", "refuse", arch),
               (load, "next", "next", 0),  # seccomp_data.nr
               (at_least, "refuse", "next", 0x40000000)]  # x32 numbers
    program += [(equal, "refuse", "next", number) for number in calls.values()]
    if network:  # socket(domain, ...): only AF_UNIX; skipping both steps keeps nr loaded
        program += [(equal, "next", 2, SOCKET_CALLS[os.uname().machine]),
                    (load, "next", "next", 16),  # the low half of args[0], the domain
                    (equal, "allow", "refuse", AF_UNIX)]
    program += [(equal, "nosys", "next", clone3),
                (equal, "next", "allow", clone),
                (load, "next", "next", 16),  # the low half of args[0], clone's flags
                (has_bits, "refuse", "allow", CLONE_NEWUSER)]
    labels = {"allow": len(program), "refuse": len(program) + 1, "nosys": len(program) + 2}
    program += [(give, "next", "next", 0x7FFF0000),  # SECCOMP_RET_ALLOW
                (give, "next", "next", 0x00050000 | errno.EPERM),  # SECCOMP_RET_ERRNO
                (give, "next", "next", 0x00050000 | errno.ENOSYS)]

    def offset(at, target):  # a jump of j from instruction i lands at i + 1 + j
        if isinstance(target, int):
            return target
        return 0 if target == "next" else labels[target] - at - 1

    return b"".join(struct.pack("=HBBI", code, offset(i, yes), offset(i, no), k)
                    for i, (code, yes, no, k) in enumerate(program))


def worker_argv(python, view, site_dirs, control_fd, isolated=True):
    """The interpreter command that runs ``grader.sandbox.worker``'s template from ``view``,
    taking its jobs on ``control_fd``.

    -I -S: no environment variables, no user or site directories, no .pth files;
    the import path is exactly the standard library, the view and ``site_dirs``."""
    path = [str(view), *map(str, site_dirs)]
    boot = (f"import sys; sys.path[:0] = {path!r}; "
            f"from grader.sandbox.worker import main; main({int(control_fd)}, {bool(isolated)})")
    return [str(python), "-I", "-S", "-B", "-c", boot]


def _directories(path):
    """--dir arguments creating every parent of ``path``, world-readable."""
    args, current = [], "/"
    for part in path.strip("/").split("/")[:-1]:
        current = os.path.join(current, part)
        if current not in ("/usr", "/tmp"):
            args += ["--perms", "0755", "--dir", current]
    return args


def package_folders(prefix):
    """Every site-packages or dist-packages folder of the installation and of /usr."""
    patterns = [f"{prefix}/lib/python3*/site-packages", f"{prefix}/lib/python3*/dist-packages",
                "/usr/lib/python3*/site-packages", "/usr/lib/python3*/dist-packages",
                "/usr/local/lib/python3*/site-packages", "/usr/local/lib/python3*/dist-packages"]
    return sorted({os.path.realpath(f) for pattern in patterns for f in glob.glob(pattern)
                   if os.path.isdir(f)})


def command(view, tmp_bytes, control_fd, seccomp_fd=None):
    """The bwrap command line running a worker template whose view is ``view``; ``seccomp_fd``
    (open in bwrap) holds seccomp_filter()."""
    fonts = font_cache()
    args = _sandbox(view, tmp_bytes)
    if fonts is not None:  # read-only, in the worker's own writable MPLCONFIGDIR
        args += ["--perms", "01777", "--dir", ENVIRONMENT["MPLCONFIGDIR"],
                 "--ro-bind", str(fonts), f"{ENVIRONMENT['MPLCONFIGDIR']}/{fonts.name}"]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    return args + _drop_privileges(worker_argv(python_installation()[1], VIEW, [SITE], control_fd))


@functools.cache
def font_cache():
    """matplotlib's font list, built once per grading process in a sandbox laid out like
    a worker's, running only our code; None if that failed (workers then build their own).

    Without it every worker builds the list on ``import matplotlib.pyplot`` (a notebook's
    first line), about 1.5 s of each worker's start. A forked pool process inherits it."""
    folder = leftovers.make_folder("grader-fonts-")
    Finalize(None, shutil.rmtree, args=(str(folder),), kwargs={"ignore_errors": True},
             exitpriority=0)  # removed when the process that built it exits, even a pool's
    build = folder / "build"
    build.mkdir(mode=0o777)
    build.chmod(0o777)  # the sandbox's unprivileged uid writes the list here
    empty = folder / "view"
    empty.mkdir(mode=0o755)
    boot = "import matplotlib.font_manager"
    argv = _sandbox(empty, 64 << 20) + ["--bind", str(build), ENVIRONMENT["MPLCONFIGDIR"]]
    argv += _drop_privileges([str(python_installation()[1]), "-I", "-S", "-B", "-c",
                              f"import sys; sys.path[:0] = [{SITE!r}]; {boot}"])
    try:
        subprocess.run(argv, capture_output=True, timeout=120, env={"PATH": ENVIRONMENT["PATH"]})
    except (OSError, subprocess.TimeoutExpired):
        return None
    built = sorted(build.glob("fontlist-*.json"))
    if len(built) != 1 or built[0].stat().st_size > 16 << 20:
        return None
    fonts = folder / built[0].name  # a copy the sandbox user does not own
    fonts.write_bytes(built[0].read_bytes())
    fonts.chmod(0o644)
    shutil.rmtree(build, ignore_errors=True)
    return fonts


def _sandbox(view, tmp_bytes):
    """bwrap's options for a sandbox laid out as a worker's, up to the command."""
    prefix = python_installation()[0]
    args = ["bwrap", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session",
            "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin",
            "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
            "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache",
            "--proc", "/proc", "--dev", "/dev",
            "--perms", "01777", "--size", str(tmp_bytes), "--tmpfs", HOME]
    if not str(prefix).startswith("/usr/"):
        args += _directories(str(prefix)) + ["--ro-bind", str(prefix), str(prefix)]
    # The installation's own package folders (scipy, nbgrader, a non-editable conv_lib...)
    # are covered by empty read-only folders: the worker imports only the view's packages.
    for folder in package_folders(prefix):
        args += ["--perms", "0555", "--size", "4096", "--tmpfs", folder]
    args += ["--perms", "0755", "--dir", "/sandbox", "--ro-bind", str(view), VIEW,
             "--perms", "0755", "--dir", SITE]
    for name, path in sorted(allowed_packages().items()):
        args += ["--ro-bind", str(path), f"{SITE}/{name}"]
    # Nothing the sandbox could write to outlives it: the root and /dev are read-only.
    args += ["--remount-ro", "/", "--remount-ro", "/dev", "--chdir", HOME, "--clearenv"]
    for key, value in ENVIRONMENT.items():
        args += ["--setenv", key, value]
    return args


def _drop_privileges(inner):
    """The end of bwrap's command line: no capabilities, an unprivileged uid, ``inner``."""
    if os.geteuid() == 0:
        uid = str(UID_BASE + threading.get_native_id())
        return ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
                 "--cap-add", "CAP_SETPCAP", "--", "setpriv", "--reuid", uid, "--regid", uid,
                 "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--", *inner]
    return ["--unshare-user", "--disable-userns", "--uid", "65534", "--gid", "65534",
            "--cap-drop", "ALL", "--", *inner]


BUBBLEWRAP, CONTAINER = "bubblewrap", "container"
FORCE = "CONV_GRADER_SANDBOX"  # "container": container mode even where bubblewrap works
DESCRIPTIONS = {
    BUBBLEWRAP: "bubblewrap sandbox (namespaces, seccomp, rlimits, its own cgroup)",
    CONTAINER: ("container mode: namespaces are refused here, so each worker runs under its own "
                "unprivileged uid with Landlock (it reads only Python and the allowed packages, "
                "writes only its own folder, no TCP), seccomp, rlimits, a fresh process for each "
                "notebook"),
}


@functools.cache
def mode():
    """BUBBLEWRAP where bubblewrap starts; else CONTAINER where the grader runs as root and
    Landlock confines a worker; else SandboxUnavailable, saying what to do."""
    forced = os.environ.get(FORCE, "")
    if forced not in ("", CONTAINER):
        raise SandboxUnavailable(f"{FORCE}={forced!r}: the only value is {CONTAINER!r}")
    if not forced:
        try:
            _check_bubblewrap()
            return BUBBLEWRAP
        except SandboxUnavailable as error:
            refused = str(error)
    else:
        refused = f"{FORCE}=container"
    why = _container_unavailable()
    if why is None:
        return CONTAINER
    raise SandboxUnavailable(f"{refused}\nContainer mode (for Docker, Kubernetes or Gradescope, "
                             f"where namespaces are refused) cannot start either: {why}")


def check():
    """Raise SandboxUnavailable, saying what to do, unless a sandbox starts here."""
    mode()


def describe(unsafe=False):
    """One line on how workers are isolated here, for summaries and feedback."""
    return "none: " + UNSAFE_NOTE if unsafe else DESCRIPTIONS[mode()]


def sandbox_uid():
    """The unprivileged uid of the calling grading thread's sandboxes (see UID_BASE)."""
    return UID_BASE + threading.get_native_id()


def _setpriv(uid):
    return ["setpriv", "--reuid", str(uid), "--regid", str(uid), "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]


def container_command(view, site, control_fd, uid):
    """The command starting a container-mode template as ``uid``: the template confines itself
    (confine.py) from the plan it is sent, before it imports anything else."""
    return _setpriv(uid) + worker_argv(python_installation()[1], view, [site], control_fd)


def container_plan(view, site, home):
    """What a container-mode worker may read, and where it may write."""
    import sysconfig

    base, _ = python_installation()
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    dynload = Path(sysconfig.get_paths()["platstdlib"]).resolve() / "lib-dynload"
    arch = sysconfig.get_config_var("MULTIARCH") or ""
    shared = [f"/usr/lib/{arch}", f"/lib/{arch}", "/lib64", "/usr/lib64", "/etc/ld.so.cache"] \
        if arch else ["/usr/lib", "/lib", "/lib64", "/usr/lib64", "/etc/ld.so.cache"]
    # The standard library entry by entry: a Python built into its own prefix (pyenv, uv's
    # builds, python:3.x images) keeps site-packages in that folder; of the folder itself, the
    # import system needs only the names (the names under site-packages then show, no content).
    libs = _entries(base / "lib", "python3") if not str(base).startswith("/usr") else []  # libpython
    read = [str(view), str(site), *_entries(stdlib, "site-packages", "dist-packages"), str(dynload),
            *shared, *libs, *sorted({str(p.resolve()) for p in allowed_packages().values()})]
    return {"read": read, "write": [str(home)], "list": [str(stdlib)], "parent": os.getpid(),
            "seccomp": (seccomp_filter(network=True) or b"").hex()}


def _entries(folder, *left_out):
    """The paths in ``folder`` but those whose names start with one of ``left_out``."""
    try:
        return [str(p) for p in sorted(Path(folder).iterdir()) if not p.name.startswith(left_out)]
    except OSError:
        return []


def _container_unavailable():
    """None when a confined worker starts here in container mode, else why not."""
    if os.geteuid() != 0:
        return ("the grader must run as root there, to start each worker under a uid of its "
                "own (Gradescope and `docker run` do)")
    if shutil.which("setpriv") is None:
        return "setpriv (util-linux) is missing"
    from .confine import landlock_abi

    if landlock_abi() < 1:
        return ("the kernel offers no Landlock (Linux 5.13 or newer with the landlock LSM, and "
                "a container seccomp profile that allows its three calls)")
    return None


def _check_bubblewrap():
    """Raise SandboxUnavailable, saying what to do, unless bubblewrap starts here."""
    if shutil.which("bwrap") is None:
        raise SandboxUnavailable(
            "bubblewrap (bwrap) is not installed, and the grader does not run student code "
            "outside a sandbox. Install it (Debian/Ubuntu: apt-get install bubblewrap; Fedora: "
            f"dnf install bubblewrap), or pass {UNSAFE_FLAG} to grade anyway without any "
            "protection from hostile submissions.")
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        raise SandboxUnavailable("setpriv (util-linux) is missing: as root the grader needs it "
                                 "to run student code as an unprivileged user")
    probe = ["bwrap", "--unshare-pid", "--unshare-net", "--die-with-parent", "--ro-bind", "/usr",
             "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib",
             "--symlink", "usr/lib64", "/lib64", "--proc", "/proc", "--dev", "/dev"]
    if os.geteuid() != 0:
        probe += ["--unshare-user"]
    try:
        done = subprocess.run([*probe, "true"], capture_output=True, text=True, timeout=30,
                              env={"PATH": ENVIRONMENT["PATH"]})
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SandboxUnavailable(f"bubblewrap could not start: {error}") from error
    if done.returncode != 0:
        raise SandboxUnavailable(
            f"bubblewrap is installed but cannot create a sandbox here ({done.stderr.strip()}); "
            "user or PID namespaces may be disabled (sysctl kernel.unprivileged_userns_clone, "
            "or a container without them). Fix that, or pass "
            f"{UNSAFE_FLAG} to grade without protection.")
