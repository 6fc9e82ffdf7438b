"""Judge one result of a student's function against the reference.

The judge never runs student code: it gets what the function returned (or the
error it raised) and decides, so the same judge serves the check cells in a
student's kernel and the autograder's trusted process.
"""

from dataclasses import dataclass, field

import numpy as np

from . import inputs, mistakes, reference
from .mistakes import TOLERANCE
from .opaque import Opaque
from .tasks import TASKS


def call_args(task, case):
    """Fresh copies of the inputs, so a function that writes into them harms nothing."""
    return inputs.snapshot(TASKS[task].call(case.inputs))


def input_changed(task, paths):
    """The problem line for a call that changed its inputs (paths from inputs.changed_paths)."""
    return inputs.changed_message(paths, TASKS[task].arguments)


@dataclass
class Verdict:
    case: object
    passed: bool
    problems: list = field(default_factory=list)
    difference: tuple = None  # (part, expected, actual): the first wrong, drawable, same-shaped array


def _type_name(value):
    return value.type_name if isinstance(value, Opaque) else type(value).__name__


def _tuple_of(returned, length, task):
    if isinstance(returned, tuple) and len(returned) == length:
        return None
    got = f"a tuple of {len(returned)}" if isinstance(returned, tuple) else _type_name(returned)
    return f"must return {TASKS[task].returns}, got {got}"


def unpack(task, case, returned):
    """The judged parts of a return value, or a sentence saying why it has none."""
    if task == "convnet_loss":
        if case.inputs.get("y") is None:
            return {"scores": returned}, None
        if problem := _tuple_of(returned, 2, task):
            return None, problem
        loss, grads = returned
        if not isinstance(grads, dict):
            return None, f"grads must be a dict of arrays, got {_type_name(grads)}"
        parts = {"loss": np.asarray(loss) if isinstance(loss, (float, int, np.number, np.ndarray)) else loss}
        parts.update({f"grads[{k!r}]": grads.get(k) for k in case.inputs["model"]["params"]})
        return parts, None
    names = TASKS[task].parts
    if task.endswith("forward") or task in ("conv_forward_dilated", "conv_forward_im2col"):
        if problem := _tuple_of(returned, 2, task):
            return None, problem
        return {"out": returned[0]}, None
    if len(names) > 1:
        if problem := _tuple_of(returned, len(names), task):
            return None, problem
        return dict(zip(names, returned)), None
    return {names[0]: returned}, None


def _first_difference(actual, expected):
    bad = np.abs(actual - expected) / np.maximum(1e-8, np.abs(actual) + np.abs(expected))
    index = np.unravel_index(int(np.argmax(bad)), bad.shape) if bad.ndim else ()
    where = f"[{', '.join(str(int(i)) for i in index)}]" if index else ""
    # + 0.0 turns -0.0 into 0.0: a student should never read "should be -0".
    if not index:
        return where, float(expected) + 0.0, float(actual) + 0.0
    return where, float(expected[index]) + 0.0, float(actual[index]) + 0.0


def judge_part(task, case, name, actual, expected):
    """Problems with one part; an empty list means it is right. (The instructor's grader
    replaces what a failing hidden case says: grader.judge.calls.sealed.)"""
    if actual is None:
        return [f"{name} is missing"]
    if not isinstance(actual, np.ndarray):
        return [f"{name} must be a numpy array (np.ndarray), got {_type_name(actual)}"]
    explained = mistakes.diagnose(task, case, name, actual)
    if actual.shape != expected.shape:
        problems = [f"{name} has the wrong shape: expected {expected.shape}, got {actual.shape}"]
    elif not np.all(np.isfinite(actual)):
        problems = [f"{name} contains NaN or inf values (did you read uninitialised np.empty memory?)"]
    else:
        error = reference.rel_error(actual, expected)
        if error < TOLERANCE:
            return []
        where, want, got = _first_difference(actual.astype(np.float64), expected)
        problems = [
            f"{name} has the right shape {actual.shape} but wrong values: rel_error {error:.1e} "
            f"(needs < {TOLERANCE:.0e}); e.g. {name}{where} should be {want:.6g}, got {got:.6g}"
        ]
    problems += [m.line for m in explained]
    return problems


def judge(task, case, returned):
    """The verdict on what a student's function returned for ``case``."""
    parts, problem = unpack(task, case, returned)
    if problem:
        return Verdict(case, False, [problem])
    expected = reference.parts(task, case, reference.output(task, case))
    problems, difference = [], None
    for name, want in expected.items():
        found = judge_part(task, case, name, parts[name], want)
        problems += found
        actual = parts[name]
        if found and difference is None and isinstance(actual, np.ndarray) \
                and actual.shape == np.shape(want) and actual.ndim >= 2:  # drawable
            difference = (name, np.asarray(want), actual.copy())
    return Verdict(case, not problems, problems, difference)


NOT_IMPLEMENTED = "not implemented yet: replace `raise NotImplementedError()` with your code"


def common_problem(verdicts):
    """The one problem every case shares when all of them fail the same way
    (say, not implemented yet), so it can be said once instead of per case."""
    problems = {tuple(v.problems) for v in verdicts}
    if verdicts and not any(v.passed for v in verdicts) and len(problems) == 1:
        only = problems.pop()
        return only[0] if len(only) == 1 else None
    return None


# What the instructor's grader says of a failing hidden case (grader.judge.calls.sealed).
SEALED_WRONG = ("wrong answer (a hidden case does not say how: its sizes and settings are on "
                "the left, and the public cases in your notebook's check show your code's answers)")


def speaking(verdicts):
    """The failing verdicts that can name a mistake: all but sealed rows (which name
    nothing), when some are left; and what to call them."""
    failing = [v for v in verdicts if not v.passed]
    open_rows = [v for v in failing if v.problems != [SEALED_WRONG]]
    if open_rows and len(open_rows) < len(failing):
        return open_rows, "failing public case"
    return failing, "failing case"


def shared_mistake(verdicts):
    """The 'likely mistake' line that every failing case names (every failing public one,
    with hidden ones failing too), if they all name the same one: said once up front, it
    reads better than once per case."""
    failing, _ = speaking(verdicts)
    named = [{p for p in v.problems if p.startswith(("likely mistake:", inputs.CHANGED))}
             for v in failing]
    common = set.intersection(*named) if named else set()
    return sorted(common)[0] if len(failing) > 1 and len(common) == 1 else None


def inside_library(error_type):
    """What to check when a function the student's line calls raised ``error_type``: the
    arguments it passes, unless the function is one switched off for this task (the
    sandbox's stub raises ForbiddenCall), where calling it at all is the problem."""
    if error_type == "ForbiddenCall":
        return ("this line calls a conv_lib function that is switched off while this task is "
                "graded: compute it with your own code instead")
    return ("the arguments this line passes (the right cache, in the right order, with the "
            "shapes the function expects)")


def judge_error(case, error_type, message, where):
    """The verdict when the function raised instead of returning."""
    if error_type == "NotImplementedError":
        return Verdict(case, False, [NOT_IMPLEMENTED])
    # The student's line first: an error inside conv_lib or NumPy is still their call.
    problems = [f"{where}: raised {error_type}: {message}" if where else
                f"raised {error_type}: {message}"]
    if " -> inside " in where:
        problems.append(f"where to look: {inside_library(error_type)}")
    if "cannot be interpreted as an integer" in message or "slice indices must be integers" in message:
        problems.append("likely mistake: output size computed with `/`, which gives a float in "
                        "Python 3. Fix: use floor division `//`, e.g. 1 + (H + 2 * pad - HH) // stride")
    return Verdict(case, False, problems)
