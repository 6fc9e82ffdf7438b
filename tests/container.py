"""Run a command as a default Docker container would run it, for tests: root without
CAP_SYS_ADMIN in its bounding set, and a seccomp filter that refuses what Docker's default
profile refuses a process without that capability: ``unshare``, ``setns`` and ``clone`` with
any namespace flag (EPERM), ``clone3`` (ENOSYS). With ``--no-landlock`` it refuses Landlock's
calls too, as a profile that predates them does.

    python tests/container.py [--no-landlock] -- COMMAND ...
"""

import ctypes
import errno
import os
import struct
import sys

CALLS = {"x86_64": {"unshare": 272, "setns": 308, "clone": 56, "clone3": 435},
         "aarch64": {"unshare": 97, "setns": 268, "clone": 220, "clone3": 435}}
ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
LANDLOCK = (444, 445, 446)
NAMESPACE_FLAGS = 0x7E020000  # CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET


def docker_like_filter(landlock=True):
    machine = os.uname().machine
    calls = CALLS[machine]
    load, equal, has_bits, give = 0x20, 0x15, 0x45, 0x06
    refused = [calls["unshare"], calls["setns"]] + ([] if landlock else list(LANDLOCK))
    program = [(load, 0, 0, 4), (equal, 1, 0, ARCH[machine]), (give, 0, 0, 0x7FFF0000),
               (load, 0, 0, 0)]
    for number in refused:
        program.append((equal, "refuse", "next", number))
    program += [(equal, "nosys", "next", calls["clone3"]),
                (equal, "next", "allow", calls["clone"]),
                (load, 0, 0, 16),
                (has_bits, "refuse", "allow", NAMESPACE_FLAGS)]
    labels = {"allow": len(program), "refuse": len(program) + 1, "nosys": len(program) + 2}
    program += [(give, 0, 0, 0x7FFF0000), (give, 0, 0, 0x00050000 | errno.EPERM),
                (give, 0, 0, 0x00050000 | errno.ENOSYS)]

    def jump(at, target):
        if target == "next":
            return 0
        return labels[target] - at - 1 if isinstance(target, str) else target

    return b"".join(struct.pack("=HBBI", code, jump(i, yes), jump(i, no), k)
                    for i, (code, yes, no, k) in enumerate(program))


def main(argv):
    landlock = "--no-landlock" not in argv
    command = argv[argv.index("--") + 1:]
    program = docker_like_filter(landlock)

    class Fprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]

    libc = ctypes.CDLL(None, use_errno=True)
    # Root with CAP_SYS_ADMIN may install a filter without no_new_privs, as dockerd does; an
    # ordinary user (a container started with --user) needs no_new_privs first.
    if os.geteuid() != 0 and libc.prctl(38, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    if libc.prctl(22, 2, ctypes.byref(Fprog(len(program) // 8, program)), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP)")
    if os.geteuid() != 0:  # no capability to drop
        os.execvp(command[0], command)
    os.execvp("setpriv", ["setpriv", "--bounding-set=-sys_admin", "--", *command])


if __name__ == "__main__":
    main(sys.argv[1:])
