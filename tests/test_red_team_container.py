"""Red-team findings against container mode (grader/sandbox, no namespaces): each test grades
hostile code the way a class run does, in a stand-in of the container it would run in."""

import os
import subprocess
import sys
import textwrap

import pytest

from grader.sandbox.confine import landlock_abi

from .test_container_mode import build, container_python  # noqa: F401 - a fixture

needs_root = pytest.mark.skipif(os.geteuid() != 0 or landlock_abi() < 1,
                                reason="container mode runs only as root with Landlock")


def run_in_container_mode(python, script, timeout=300):
    """``script`` run by ``python`` (a Python the sandbox uid may execute) as a grading process
    in container mode; its stdout."""
    env = {"PATH": os.environ["PATH"], "CONV_GRADER_SANDBOX": "container",
           "PYTHONPATH": str(build.ROOT)}
    done = subprocess.run([str(python), "-c", textwrap.dedent(script)], env=env, cwd="/tmp",
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return done.stdout


# A notebook that fills its uid's process cap and then kills its own template: the worker,
# orphaned, dies (PR_SET_PDEATHSIG) and so does every child when the sandbox is stopped, and
# nobody reaps them.
ZOMBIES = '''
import os, signal, time

def ping():
    while True:
        try:
            if os.fork() == 0:
                time.sleep(60)
                os._exit(0)
        except OSError:
            break
    os.kill(os.getppid(), signal.SIGKILL)
    time.sleep(60)
'''


@needs_root
def test_zombies_of_one_student_do_not_take_the_next_students_process_cap(container_python):  # noqa: F811
    """Graded by the same grading thread (one sandbox uid), in a grader that is PID 1 of its
    container (`docker run IMAGE python -m grader autograde ...`): orphans are re-parented to
    it, and it reaps only its own children. Every zombie counts against RLIMIT_NPROC of the
    uid until it is reaped, so 31 of them left the next student's template unable to fork
    its worker: "the grading process could not start", a 0 for every later classmate."""
    out = run_in_container_mode(container_python, f'''
        import ctypes
        ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: as PID 1 gets orphans
        import os
        from grader.sandbox import sandbox
        sandbox.verify()  # as a class run does, before it forks its pool
        child = os.fork()
        if child == 0:  # a pool process grades the class
            limits = sandbox.Limits(call_seconds=3)
            for code in ({ZOMBIES!r}, "def ping():\\n    return 42\\n", "def ping():\\n    return 7\\n"):
                session = sandbox.Session([], [(1, code)], [], limits)
                status, value = session.call("ping", [])
                session.close()
                print(status, value, session.notes, flush=True)
            os._exit(0)
        os.waitpid(child, 0)  # and only its own child: orphans it gets stay zombies
    ''')
    _attacker, classmate, next_one = out.splitlines()
    assert classmate == "ok 42 []" and next_one == "ok 7 []", out


# A socket made by io_uring (IORING_OP_SOCKET) is made without the socket() call seccomp
# filters, and Landlock (to ABI 7 at least) says nothing of UDP, nor of a TCP listen() that
# binds a port by itself.
URING = '''
import ctypes, mmap, socket, struct

def uring_socket(domain, kind):
    libc = ctypes.CDLL(None, use_errno=True)
    params = ctypes.create_string_buffer(120)
    ring = libc.syscall(425, 4, params)  # io_uring_setup
    if ring < 0:
        raise OSError(ctypes.get_errno(), "io_uring_setup")
    sq_entries, cq_entries = struct.unpack_from("=II", params, 0)
    sq = struct.unpack_from("=7I", params, 40)  # head tail mask entries flags dropped array
    cq = struct.unpack_from("=6I", params, 80)  # head tail mask entries overflow cqes
    sq_ring = mmap.mmap(ring, sq[6] + sq_entries * 4, offset=0)
    cq_ring = mmap.mmap(ring, cq[5] + cq_entries * 16, offset=0x8000000)
    sqes = mmap.mmap(ring, sq_entries * 64, offset=0x10000000)
    sqes[0:64] = struct.pack("=BBHiQQI", 45, 0, 0, domain, kind, 0, 0).ljust(64, b"\\0")
    tail = struct.unpack_from("=I", sq_ring, sq[1])[0]
    struct.pack_into("=I", sq_ring, sq[6] + 4 * (tail & sq[2]), 0)
    struct.pack_into("=I", sq_ring, sq[1], tail + 1)
    if libc.syscall(426, ring, 1, 1, 1, None, 0) < 0:  # io_uring_enter, GETEVENTS
        raise OSError(ctypes.get_errno(), "io_uring_enter")
    head = struct.unpack_from("=I", cq_ring, cq[0])[0]
    made = struct.unpack_from("=i", cq_ring, cq[5] + 16 * (head & cq[2]) + 8)[0]
    if made < 0:
        raise OSError(-made, "IORING_OP_SOCKET")
    return socket.socket(fileno=made)

def ping(port):
    said = []
    for how in ("udp", "listen"):
        try:
            if how == "udp":
                uring_socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"hidden", ("127.0.0.1", port))
            else:
                uring_socket(socket.AF_INET, socket.SOCK_STREAM).listen()
            said.append(how + " worked")
        except OSError as error:
            said.append(how + " refused: " + type(error).__name__)
    return "; ".join(said)
'''


@needs_root
def test_no_network_through_io_uring(container_python):  # noqa: F811
    """seccomp refuses socket() of any family but AF_UNIX; io_uring made a UDP socket all the
    same, sent a datagram to the machine's loopback and opened a listening TCP port."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.setblocking(False)
        out = run_in_container_mode(container_python, f'''
            import numpy as np
            from grader.sandbox import sandbox
            session = sandbox.Session([], [(1, {URING!r})], [])
            status, value = session.call("ping", [np.int64({listener.getsockname()[1]})])
            session.close()
            print(status, value)
        ''')
        with pytest.raises(BlockingIOError):  # the datagram is queued here when sendto returns
            listener.recvfrom(100)
    assert out.strip() == "ok udp refused: PermissionError; listen refused: PermissionError", out


@needs_root
def test_a_sandbox_is_the_out_of_memory_killers_first_choice(container_python):  # noqa: F811
    """Without a cgroup (a container's cgroupfs is read-only), a sandbox's memory is bounded
    only by RLIMIT_AS per process times RLIMIT_NPROC: 32 processes just smaller than the
    grader fill a container's memory limit, and the kernel's OOM killer then takes the largest
    process, the grader (a class run gone; on Gradescope a "could not grade" answer). Every
    process of a sandbox must go first: oom_score_adj 1000, which its code cannot lower
    (Landlock keeps /proc out of its reach)."""
    out = run_in_container_mode(container_python, '''
        import os
        from grader.sandbox import sandbox
        code = "import os\\ndef ping():\\n    return os.getpid()\\n"
        session = sandbox.Session([], [(1, code)], [])
        status, pid = session.call("ping", [])
        with open(f"/proc/{pid}/oom_score_adj") as worker:
            print(status, worker.read().strip())
        session.close()
    ''')
    assert out.strip() == "ok 1000", out


def test_the_plan_reads_no_package_folder_of_a_python_whose_stdlib_holds_it(tmp_path, monkeypatch):
    """A Python built into its own prefix (pyenv, uv's standalone builds, python:3.x images,
    conda) keeps site-packages inside its standard library's folder: granting that folder
    let a worker read scipy, nbgrader, the grader and a pip-installed conv_lib there (this
    repository's own .venv sits on such a pyenv Python). Only the allowed packages may be."""
    import sysconfig

    from grader.sandbox import isolation

    base = tmp_path / "python"
    stdlib = base / "lib" / "python3.11"
    for folder in ("site-packages/scipy", "dist-packages/conv_lib", "lib-dynload", "json"):
        (stdlib / folder).mkdir(parents=True)
    (stdlib / "os.py").write_text("")
    (base / "lib" / "libpython3.11.so.1.0").write_bytes(b"")
    monkeypatch.setattr(isolation, "python_installation", lambda: (base, base / "bin" / "python3"))
    monkeypatch.setattr(sysconfig, "get_paths",
                        lambda *args, **kwargs: {"stdlib": str(stdlib), "platstdlib": str(stdlib)})
    read = [os.path.realpath(p) for p in
            isolation.container_plan(tmp_path / "view", tmp_path / "site", tmp_path / "home")["read"]]

    def readable(path):
        path = os.path.realpath(path)
        return any(path == r or path.startswith(r + os.sep) for r in read)

    assert not readable(stdlib / "site-packages" / "scipy")
    assert not readable(stdlib / "dist-packages" / "conv_lib")
    assert all(readable(p) for p in (stdlib / "os.py", stdlib / "json", stdlib / "lib-dynload",
                                     base / "lib" / "libpython3.11.so.1.0"))
    if landlock_abi() < 1:
        return
    (stdlib / "site-packages" / "scipy" / "__init__.py").write_text("the forbidden layer")
    (stdlib / "os.py").write_text("the standard library")
    plan = isolation.container_plan(tmp_path / "view", tmp_path / "site", tmp_path / "home")
    # Confined by the plan, a process lists the standard library (its import system needs the
    # names), reads its modules and nothing under site-packages.
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
        from grader.sandbox.confine import landlock
        landlock({plan["read"]!r}, [], {plan["list"]!r})
        for path in ({str(stdlib / "os.py")!r}, {str(stdlib / "site-packages" / "scipy" / "__init__.py")!r}):
            try:
                print(open(path).read())
            except PermissionError:
                print("refused")
        import os
        print(sorted(os.listdir({str(stdlib)!r})))
    """)], capture_output=True, text=True, env={"PYTHONPATH": str(build.ROOT)}, timeout=60)
    assert done.stdout.splitlines() == [
        "the standard library", "refused",
        str(["dist-packages", "json", "lib-dynload", "os.py", "site-packages"])], done.stderr
