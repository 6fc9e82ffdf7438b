"""Call a notebook's functions in the student's sandbox, case by case, and judge each answer
here, where no student code ran; for a failing task, run its probe ladder the same way.

Public cases and probes come first, task by task. The hidden cases come last, all tasks' in
one fresh worker process after which nothing of the student's runs for this notebook: a
function that remembers a hidden input has no later call (a probe, a later task's public
case) whose unsealed feedback could show it."""

import time
from dataclasses import dataclass, field

from ..diagnosis import judge as judging
from ..diagnosis.judge import Verdict
from ..diagnosis.ladders import LADDERS
from ..diagnosis.notebook_code import strip_magics
from ..diagnosis.pointers import ladder_wanted
from ..diagnosis.probes import diagnose
from ..diagnosis.tasks import TASKS
from ..sandbox import INPUT_CHANGED, UNSAFE_NOTE, Limits, Session
from .answers import too_heavy

MAX_DEATHS = 2  # after this many crashes in one task, its remaining cases are not run
JUDGING_TIME_OUT = "not run: the grader's own time for judging this student ran out"


@dataclass
class NotebookResult:
    verdicts: dict = field(default_factory=dict)  # task -> [Verdict]
    notes: list = field(default_factory=list)  # things the student should know about the run
    findings: dict = field(default_factory=dict)  # task -> [probes.Finding] for failing tasks


def sealed(case):
    """Hidden cases are judged sealed: a failing one's feedback says only that its answer
    was wrong (or that it timed out or crashed), with its sizes and settings. How it was
    wrong (shape, values, rel_error, a known mistake, an exception, a changed input) is the
    student's code's choice, so each would carry bits of the hidden inputs out, and a
    resubmission could bring answers back in."""
    return case.label.startswith("hidden")


SEALED_WRONG = judging.SEALED_WRONG


def _verdict(task, case, status, value, limits):
    verdict = _unsealed_verdict(task, case, status, value, limits)
    if sealed(case) and not verdict.passed and status in ("ok", "error", "refused"):
        return Verdict(case, False, [SEALED_WRONG])
    return verdict


def _unsealed_verdict(task, case, status, value, limits):
    if status == "ok":
        try:
            return judging.judge(task, case, value)
        except Exception as error:  # a return value the judge cannot read
            return Verdict(case, False, [f"returned something the grader cannot read: {error}"])
    if status == "error" and value.get("type") == INPUT_CHANGED:
        return Verdict(case, False, [judging.input_changed(task, value.get("changed") or [[0]])])
    if status == "error":
        return judging.judge_error(case, value.get("type", "Error"), value.get("message", ""),
                                   value.get("where", ""))
    if status == "timeout":
        return Verdict(case, False, [f"did not finish within {limits.call_seconds:g} s "
                                     "(an endless loop, a sleep, or very slow code?)"])
    if status == "expired":
        return Verdict(case, False, ["not run: the grading time for this notebook ran out"])
    if status == "refused":
        return Verdict(case, False, [value])
    return Verdict(case, False, ["your code ended the grading process (os._exit, a crash, or "
                                 "more memory than the limit allows)"])


def _call(session, task, case):
    """(status, value) of one call in the sandbox; an answer heavier than any honest one
    comes back as ("refused", why), before any trusted code reads it."""
    args = judging.call_args(task, case)
    if task == "convnet_loss":  # the model crosses as a dict; the worker rebuilds it
        args = (case.inputs["model"],) + args[1:]
    status, value = session.call(TASKS[task].function, args, model_arg=task == "convnet_loss")
    if status == "ok" and (why := too_heavy(value)):
        return "refused", why
    return status, value


class _Unfinished(Exception):
    """A probe timed out or crashed: a half-run ladder localises nothing."""


def diagnose_task(session, task, verdicts):
    """The probe ladder's findings for a failing task, its probes run in the sandbox."""
    if not ladder_wanted(task, verdicts):
        return []

    def attempt(case):
        status, value = _call(session, task, case)
        if status == "ok":
            return "ok", value
        if status != "error":
            raise _Unfinished
        if value.get("type") == INPUT_CHANGED:
            return "changed", value.get("changed")
        return "error", (value.get("type", "Error"), value.get("message", ""), value.get("where", ""))

    try:
        return diagnose(task, LADDERS[task], attempt)
    except _Unfinished:
        return []


@dataclass
class _TaskCalls:
    """One task's cases run so far, across the public and the hidden phase."""

    task: str
    verdicts: list = field(default_factory=list)
    stop_reason: str = None
    deaths: int = 0

    def run(self, session, cases, cpu_deadline):
        for case in cases:
            if time.thread_time() > cpu_deadline:
                self.stop_reason = self.stop_reason or JUDGING_TIME_OUT
            if self.stop_reason:
                self.verdicts.append(Verdict(case, False, [self.stop_reason]))
                continue
            status, value = _call(session, self.task, case)
            self.verdicts.append(_verdict(self.task, case, status, value, session.limits))
            if status == "timeout":
                self.stop_reason = "not run: an earlier case of this task timed out"
            elif status == "died":
                self.deaths += 1
                if self.deaths >= MAX_DEATHS:
                    self.stop_reason = "not run: earlier cases of this task crashed the grading process"

    @property
    def unfinished(self):
        return any(p.startswith(("did not finish", "not run:", "your code ended"))
                   for v in self.verdicts for p in v.problems)

    @property
    def not_implemented(self):
        return bool(self.verdicts) and all(v.problems == [judging.NOT_IMPLEMENTED]
                                           for v in self.verdicts)


def judge_notebook(prelude, cells, tasks, seed, limits=None, deadline=None, host=None,
                   cpu_deadline=None):
    """Run ``tasks`` against the student's ``cells``: every task's public cases (and, for a
    failing one, its probe ladder), then every task's hidden cases drawn from ``seed`` in a
    fresh worker, last. Returns a NotebookResult.

    Everything ends by ``deadline`` (a time.monotonic() value, say the student's),
    and by limits.notebook_seconds from now; the judging here, by ``cpu_deadline`` (a
    time.thread_time() value; by default limits.judge_cpu_seconds from now). ``host``: the
    student's StudentSandbox, kept for their next notebook (by default one of its own)."""
    limits = limits or Limits()
    if cpu_deadline is None:
        cpu_deadline = time.thread_time() + limits.judge_cpu_seconds
    blocked = sorted({m for t in tasks for m in TASKS[t].blocked})
    session = Session(prelude, [(i, strip_magics(s)) for i, s in cells], blocked, limits,
                      deadline=deadline, host=host)
    result = NotebookResult()
    if limits.unsafe_no_sandbox:
        result.notes.append(UNSAFE_NOTE)
    calls = {task: _TaskCalls(task) for task in tasks}
    try:
        for task in tasks:
            calls[task].run(session, TASKS[task].make_cases(hidden=False), cpu_deadline)
            # A ladder after a time-out would only time out again; none once judging time is up.
            if not calls[task].unfinished and time.thread_time() < cpu_deadline:
                result.findings[task] = diagnose_task(session, task, calls[task].verdicts)
        session.seal()
        for task in tasks:
            hidden = TASKS[task].make_cases(hidden=True, seed=seed)
            if calls[task].not_implemented:  # nothing to learn there, and nothing to send
                calls[task].verdicts += [Verdict(c, False, [judging.NOT_IMPLEMENTED]) for c in hidden]
            else:
                calls[task].run(session, hidden, cpu_deadline)
            result.verdicts[task] = calls[task].verdicts
    finally:
        session.close()
    for cell, error in session.cell_errors.items():
        result.notes.append(f"cell {cell} raised {error['type']}: {error['message']}")
    result.notes += session.notes
    return result
