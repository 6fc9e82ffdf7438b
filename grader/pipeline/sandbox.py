"""The trusted side of grading: run a student's functions in a limited worker
process, and judge what comes back here, in a process that ran no student code.

A worker that loops, sleeps, exhausts its memory or kills itself costs only
the case it was running: the worker is killed or restarted and grading goes on.
"""

import os
import queue
import resource
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field

from . import protocol

MEMORY_LIMIT = 3 * 1024**3  # bytes of address space per worker
CPU_LIMIT = 120  # CPU seconds per worker, a backstop behind the wall-clock timeouts


@dataclass
class Limits:
    load_seconds: float = 20.0  # to run the notebook's import and solution cells
    call_seconds: float = 10.0  # per case; honest naive loops take well under 1 s
    memory_bytes: int = MEMORY_LIMIT


def _apply_limits(memory_bytes):
    def preexec():
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        resource.setrlimit(resource.RLIMIT_CPU, (CPU_LIMIT, CPU_LIMIT + 5))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return preexec


class Worker:
    """One sandboxed ``python -m grader.pipeline.worker`` process."""

    def __init__(self, job, limits):
        self.limits = limits
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONV_GRADER")}
        # One BLAS thread each: --jobs decides the parallelism, and a worker's
        # address-space limit must not be eaten by thread stacks.
        env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")
        self.workdir = tempfile.TemporaryDirectory(prefix="grader-worker-")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "grader.pipeline.worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            cwd=self.workdir.name, env=env, start_new_session=True,
            preexec_fn=_apply_limits(limits.memory_bytes),
        )
        self.messages = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        try:
            protocol.send(self.process.stdin, dict(job, type="job"))
        except (BrokenPipeError, OSError):
            pass

    def _read(self):
        try:
            while (message := protocol.receive(self.process.stdout)) is not None:
                self.messages.put(message)
        except (protocol.ProtocolError, OSError, ValueError):
            pass
        self.messages.put(None)

    def next_message(self, timeout):
        """The next message; ("timeout", None) or ("died", None) when none came."""
        try:
            message = self.messages.get(timeout=timeout)
        except queue.Empty:
            return "timeout", None
        return ("died", None) if message is None else ("ok", message)

    def load(self):
        """Wait until the notebook's code has run. Returns (status, cell, cell_errors):
        status "ready", "timeout" or "died"; cell is the one running when it stopped."""
        current, errors = None, {}
        while True:
            status, message = self.next_message(self.limits.load_seconds)
            if status != "ok":
                return status, current, errors
            header, _ = message
            if header.get("type") == "loading":
                current = header.get("cell")
            elif header.get("type") == "loaded" and header.get("error"):
                errors[header.get("cell")] = header["error"]
            elif header.get("type") == "ready":
                return "ready", None, errors

    def call(self, function, args, model_arg=False):
        """("ok", value), ("error", error dict), ("timeout", None) or ("died", None)."""
        request = {"type": "call", "function": function, "model_arg": model_arg}
        try:
            protocol.send(self.process.stdin, request, args)
        except (BrokenPipeError, OSError):
            return "died", None
        status, message = self.next_message(self.limits.call_seconds)
        if status != "ok":
            return status, None
        header, values = message
        if header.get("type") != "result":
            return "error", {"type": "ProtocolError", "message": "unexpected message", "where": ""}
        if header.get("status") == "ok" and values:
            return "ok", values[0]
        return "error", header.get("error") or {"type": "Error", "message": "", "where": ""}

    def stop(self):
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.workdir.cleanup()


@dataclass
class Session:
    """Runs calls against a notebook's code, restarting the worker when needed."""

    prelude: list
    cells: list  # [(cell_id, source)]
    blocked: list
    limits: Limits = field(default_factory=Limits)
    notes: list = field(default_factory=list)
    cell_errors: dict = field(default_factory=dict)
    worker: Worker = None

    def _start(self):
        for _ in range(len(self.cells) + 1):
            job = {"prelude": self.prelude, "cells": self.cells, "blocked": self.blocked}
            self.worker = Worker(job, self.limits)
            status, cell, errors = self.worker.load()
            if status == "ready":
                self.cell_errors.update(errors)
                return True
            self.worker.stop()
            self.worker = None
            if cell is None:
                self.notes.append("the grading process could not start")
                return False
            why = ("did not finish within "
                   f"{self.limits.load_seconds:g} s" if status == "timeout" else "ended the grading process")
            self.notes.append(f"cell {cell} {why}; it was skipped")
            self.cells = [(i, s) for i, s in self.cells if i != cell]
        return False

    def call(self, function, args, model_arg=False):
        if self.worker is None and not self._start():
            return "died", None
        status, value = self.worker.call(function, args, model_arg)
        if status in ("timeout", "died"):
            self.worker.stop()
            self.worker = None
        return status, value

    def close(self):
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
