"""Call a notebook's functions in the student's sandbox, case by case, and judge each answer
here, where no student code ran; for a failing task, run its probe ladder the same way."""

from dataclasses import dataclass, field

from ..diagnosis import judge as judging
from ..diagnosis.judge import Verdict
from ..diagnosis.ladders import LADDERS
from ..diagnosis.notebook_code import strip_magics
from ..diagnosis.pointers import ladder_wanted
from ..diagnosis.probes import diagnose
from ..diagnosis.tasks import TASKS
from ..sandbox import INPUT_CHANGED, UNSAFE_NOTE, Limits, Session

MAX_DEATHS = 2  # after this many crashes in one task, its remaining cases are not run


@dataclass
class NotebookResult:
    verdicts: dict = field(default_factory=dict)  # task -> [Verdict]
    notes: list = field(default_factory=list)  # things the student should know about the run
    findings: dict = field(default_factory=dict)  # task -> [probes.Finding] for failing tasks


def sealed(case):
    """Hidden cases are judged sealed: their feedback carries nothing the student's code
    chose (messages, types, shapes, values) and nothing of the expected output, so
    resubmitting cannot smuggle the hidden inputs out or the answers back in."""
    return case.label.startswith("hidden")


def _verdict(task, case, status, value, limits):
    if status == "ok":
        try:
            return judging.judge(task, case, value, sealed(case))
        except Exception as error:  # a return value the judge cannot read
            why = "" if sealed(case) else f": {error}"
            return Verdict(case, False, [f"returned something the grader cannot read{why}"])
    if status == "error" and value.get("type") == INPUT_CHANGED:
        changed = value.get("changed") or [[0]]
        if sealed(case):  # which argument, by the task's own names; no key the worker chose
            changed = [[path[0]] for path in changed]
        return Verdict(case, False, [judging.input_changed(task, changed)])
    if status == "error":
        return judging.judge_error(case, value.get("type", "Error"), value.get("message", ""),
                                   value.get("where", ""), sealed(case))
    if status == "timeout":
        return Verdict(case, False, [f"did not finish within {limits.call_seconds:g} s "
                                     "(an endless loop, a sleep, or very slow code?)"])
    if status == "expired":
        return Verdict(case, False, ["not run: the grading time for this notebook ran out"])
    return Verdict(case, False, ["your code ended the grading process (os._exit, a crash, or "
                                 "more memory than the limit allows)"])


def _call(session, task, case):
    args = judging.call_args(task, case)
    if task == "convnet_loss":  # the model crosses as a dict; the worker rebuilds it
        args = (case.inputs["model"],) + args[1:]
    return session.call(TASKS[task].function, args, model_arg=task == "convnet_loss")


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


def grade_task(session, task, seed):
    spec = TASKS[task]
    all_cases = spec.make_cases(hidden=False) + spec.make_cases(hidden=True, seed=seed)
    verdicts, stop_reason, deaths = [], None, 0
    for case in all_cases:
        if stop_reason:
            verdicts.append(Verdict(case, False, [stop_reason]))
            continue
        status, value = _call(session, task, case)
        verdicts.append(_verdict(task, case, status, value, session.limits))
        if status == "timeout":
            stop_reason = "not run: an earlier case of this task timed out"
        elif status == "died":
            deaths += 1
            if deaths >= MAX_DEATHS:
                stop_reason = "not run: earlier cases of this task crashed the grading process"
    return verdicts


def judge_notebook(prelude, cells, tasks, seed, limits=None, deadline=None, host=None):
    """Run ``tasks`` against the student's ``cells``; returns a NotebookResult.

    Everything ends by ``deadline`` (a time.monotonic() value, say the student's),
    and by limits.notebook_seconds from now. ``host``: the student's StudentSandbox,
    kept for their next notebook (by default one of its own)."""
    limits = limits or Limits()
    blocked = sorted({m for t in tasks for m in TASKS[t].blocked})
    session = Session(prelude, [(i, strip_magics(s)) for i, s in cells], blocked, limits,
                      deadline=deadline, host=host)
    result = NotebookResult()
    if limits.unsafe_no_sandbox:
        result.notes.append(UNSAFE_NOTE)
    try:
        for task in tasks:
            result.verdicts[task] = grade_task(session, task, seed)
            unfinished = any(p.startswith(("did not finish", "not run:", "your code ended"))
                             for v in result.verdicts[task] for p in v.problems)
            if not unfinished:  # a ladder's probes would only time out again
                result.findings[task] = diagnose_task(session, task, result.verdicts[task])
    finally:
        session.close()
    for cell, error in session.cell_errors.items():
        result.notes.append(f"cell {cell} raised {error['type']}: {error['message']}")
    result.notes += session.notes
    return result
