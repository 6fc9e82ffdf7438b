"""What a worker's template applies to itself in container mode, before any student code:
Landlock (the kernel's own file and network confinement, no privilege needed) and the
seccomp filter. It runs inside the sandbox (worker_view.WORKER_FILES): standard library only.

Where namespaces are refused (a default Docker container, Gradescope), this is what takes
their place: the worker may read only the Python installation, the allowed packages and its
view, and write only its private folder; it may not connect or bind TCP; where the kernel
has Landlock ABI 6, it may not reach abstract Unix sockets or signal processes outside it.
"""

import ctypes
import os
import struct

# Landlock's system calls share one number on every architecture (the generic table).
CREATE_RULESET, ADD_RULE, RESTRICT_SELF = 444, 445, 446
VERSION = 1  # LANDLOCK_CREATE_RULESET_VERSION
PATH_BENEATH = 1  # LANDLOCK_RULE_PATH_BENEATH
READ = (1 << 0) | (1 << 2) | (1 << 3)  # EXECUTE, READ_FILE, READ_DIR
LIST = 1 << 3  # READ_DIR alone: names, no file's content
FILE_ONLY = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 14)  # the rights a rule on a file may hold
# Every file-system right each ABI knows: ABI 1 has 13, 2 adds REFER, 3 TRUNCATE, 5 IOCTL_DEV.
FS_RIGHTS = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1,
             5: (1 << 16) - 1}
NET_TCP = 0b11  # BIND_TCP, CONNECT_TCP (ABI 4)
SCOPES = 0b11  # ABSTRACT_UNIX_SOCKET, SIGNAL (ABI 6)
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2


class ConfinementError(OSError):
    pass


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def landlock_abi():
    """The kernel's Landlock ABI version; 0 when Landlock is missing or refused."""
    version = _libc().syscall(CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(VERSION))
    return max(0, int(version))


def _fail(what):
    number = ctypes.get_errno()
    raise ConfinementError(number, f"{what}: {os.strerror(number)}")


def landlock(read, write, listed=()):
    """Confine this process and its children: read (and execute) only under ``read``, do
    anything only under ``write`` (paths), list folders under ``listed``, no TCP, and, from
    ABI 6, no abstract Unix socket or signal beyond its own domain. Raises ConfinementError
    when it cannot."""
    libc = _libc()
    abi = landlock_abi()
    if abi < 1:
        raise ConfinementError(0, "Landlock is not available (a kernel older than 5.13, or "
                                  "switched off, or refused by the container's seccomp profile)")
    fs = FS_RIGHTS[min(abi, 5)]
    attr = struct.pack("=QQQ", fs, NET_TCP if abi >= 4 else 0, SCOPES if abi >= 6 else 0)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    buffer = ctypes.create_string_buffer(attr[:size], size)
    ruleset = libc.syscall(CREATE_RULESET, buffer, ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        _fail("landlock_create_ruleset")
    try:
        for paths, rights in ((listed, LIST), (read, READ), (write, fs)):
            for path in paths:
                try:
                    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except FileNotFoundError:
                    continue  # e.g. /lib64 on an architecture without it
                try:
                    allowed = rights if os.path.isdir(path) else rights & FILE_ONLY
                    rule = ctypes.create_string_buffer(struct.pack("=Qi", allowed, fd), 12)
                    if libc.syscall(ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(PATH_BENEATH),
                                    rule, ctypes.c_uint32(0)) != 0:
                        _fail(f"landlock_add_rule {path}")
                finally:
                    os.close(fd)
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            _fail("prctl(PR_SET_NO_NEW_PRIVS)")
        if libc.syscall(RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)) != 0:
            _fail("landlock_restrict_self")
    finally:
        os.close(ruleset)
    return abi


def seccomp(program):
    """Install the classic-BPF ``program`` (bytes, 8 per instruction) on this process."""
    if not program:
        return
    libc = _libc()

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]

    prog = SockFprog(len(program) // 8, program)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        _fail("prctl(PR_SET_NO_NEW_PRIVS)")
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        _fail("prctl(PR_SET_SECCOMP)")


def die_with_parent(parent):
    """SIGKILL this process when its parent ``parent`` (a pid) ends (PR_SET_PDEATHSIG): what
    bubblewrap's --die-with-parent and the PID namespace do where there are namespaces."""
    import signal

    if _libc().prctl(1, signal.SIGKILL, 0, 0, 0) != 0:  # 1: PR_SET_PDEATHSIG
        _fail("prctl(PR_SET_PDEATHSIG)")
    if os.getppid() != parent:  # it ended before the call
        os._exit(1)


def confine(plan):
    """Apply ``plan`` ({"read": [...], "write": [...], "list": [...], "seccomp": hex}) to
    this process."""
    abi = landlock(plan["read"], plan["write"], plan.get("list", ()))
    seccomp(bytes.fromhex(plan.get("seccomp", "")))
    return abi
