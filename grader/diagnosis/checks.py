"""The checks students run after every task, and the autograder's test-cell calls.

A check never raises and never writes to stderr: it prints either a pass or,
for each failing case, its parameters, the expected and actual shapes, the
error and the mistake it most likely is; then one sentence from the task's
probe ladder (grader.diagnosis.ladders) on where the bug is, and, in a
notebook, a picture of the first failing case (``show=False`` leaves it out).
A call that changes its inputs fails the case. Use them as plain calls, with or
without nbgrader::

    check_conv_forward(conv_forward_naive)
    check_conv_backward(conv_backward_naive, forward=conv_forward_naive)

``score(task, fn, points)`` runs the public and hidden cases and returns the
points earned (fraction of cases passed x points); ``grade``, which test cells
call, also raises while a public case fails, so nbgrader's Validate flags
unfinished code. Grades themselves come from the trusted grader.
"""

import contextlib
import functools
import io
import os
import textwrap
import types
import warnings

import numpy as np

import conv_lib

from . import inputs, pictures, pointers, tracebacks
from . import judge as judging
from .judge import Verdict
from .ladders import LADDERS
from .probes import diagnose
from .tasks import TASKS

_GRADER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the whole grader package
_LIBRARIES = (_GRADER_DIR, os.path.dirname(os.path.abspath(conv_lib.__file__)),
              os.path.dirname(os.path.abspath(np.__file__)))


def _is_student(filename):
    return not filename.startswith(_LIBRARIES) and "site-packages" not in filename


def _where(tb):
    """The student's innermost line, and the library function it called if the error came from there."""
    return tracebacks.where(tb, _is_student)


@contextlib.contextmanager
def quiet():
    """Swallow a student's prints, warnings and floating-point complaints, so
    that nothing reaches stderr (nbgrader zeroes a test cell with stderr output)."""
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), \
            warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield sink


def call(fn, args):
    """Run a student's function; returns ("ok", value) or ("error", (type, message, where))."""
    with quiet(), inputs.unset_memory_marked():
        try:
            return "ok", fn(*args)
        except Exception as error:  # the student's bug, reported, never re-raised
            return "error", (type(error).__name__, str(error).split("\n")[0][:300],
                             _where(error.__traceback__))


def attempt(task, fn):
    """``case -> (status, value)`` for the probe ladders: ("changed", paths) when the
    call changed its inputs, else what ``call`` returns."""

    def run_on(case):
        status, value, changed = _watched_call(task, fn, case)
        return ("changed", changed) if changed else (status, value)

    return run_on


def _watched_call(task, fn, case):
    """``call`` on fresh copies of the case's inputs: (status, value, changed input paths);
    an input the task updates in place by contract comes back with the value."""
    args = judging.call_args(task, case)
    before = inputs.snapshot(args)
    status, value = call(fn, args)
    changed = inputs.changed_by(TASKS[task].function, before, args)
    if status == "ok":
        value, changed = inputs.settle(TASKS[task].function, value, args, changed)
    return status, value, changed


def run_case(task, fn, case):
    status, value, changed = _watched_call(task, fn, case)
    if status == "error":
        verdict = judging.judge_error(case, *value)
    else:
        try:
            verdict = judging.judge(task, case, value)
        except Exception as error:  # a return value so odd the judge cannot read it
            verdict = Verdict(case, False, [f"returned something the check cannot read: {error}"])
    if changed:  # even a right answer fails: the caller's array is damaged
        verdict.passed = False
        verdict.problems.insert(0, judging.input_changed(task, changed))
    return verdict


def run(task, fn, hidden=False, seed=None):
    """Verdicts of ``fn`` on the public cases, or on the hidden ones."""
    return [run_case(task, fn, case) for case in TASKS[task].make_cases(hidden=hidden, seed=seed)]


# ------------------------------------------------------------------- forward?


def _own_forward_hint(task, verdict, backward, forward):
    """For a failing backward case: does the student's dx agree with the numerical
    gradient of the student's own forward? Says only what it measured."""
    case = verdict.case
    if forward is None or not any(p.startswith("dx ") for p in verdict.problems) \
            or case.shown.get("values") == "ties":  # a max has no derivative at a tie
        return None
    status, grads = call(backward, judging.call_args(task, case))
    if status == "error":
        return None
    dx = grads[0] if isinstance(grads, tuple) else grads
    if not isinstance(dx, np.ndarray) or dx.shape != case.inputs["x"].shape:
        return None
    forward_task = task.replace("backward", "forward")
    args = judging.call_args(forward_task, case)
    status, result = call(forward, args)
    if status == "error" or not isinstance(result, tuple):
        return None
    judged, _ = inputs.settle(TASKS[forward_task].function, result, args, [])
    x = args[0]
    rng = np.random.default_rng(0)
    picks = [tuple(int(rng.integers(s)) for s in x.shape) for _ in range(8)]
    h = 1e-5
    numeric = []
    for index in picks:
        values = []
        for step in (h, -h):
            x_moved = x.copy()
            x_moved[index] += step
            status, moved = call(forward, (x_moved,) + args[1:])
            if status == "error" or not isinstance(moved, tuple):
                return None
            values.append(np.sum(np.asarray(moved[0], dtype=np.float64) * case.inputs["dout"]))
        numeric.append((values[0] - values[1]) / (2 * h))
    error = judging.reference.rel_error(np.array([dx[p] for p in picks], dtype=np.float64),
                                        np.array(numeric))
    measured = f"at 8 sampled entries, rel_error {error:.1e}"
    forward_ok = judging.judge(forward_task, case, judged).passed
    if error < 1e-5:
        if forward_ok:
            return (f"your dx agrees with the numerical gradient of your (correct) forward pass "
                    f"({measured}): the wrong entries are elsewhere in dx")
        return (f"your dx agrees with the numerical gradient of YOUR forward pass ({measured}), so "
                "the backward is consistent: the bug is in your forward pass; fix it first")
    if forward_ok:
        return (f"your forward pass is right on this case, and your dx disagrees with its "
                f"numerical gradient ({measured}): the bug is in the backward pass")
    return (f"your dx also disagrees with the numerical gradient of your own forward pass "
            f"({measured}): the bug is in the backward pass")


# ------------------------------------------------------------------- reporting


MAX_LINES = 40  # a check's output stays readable


def report(title, verdicts, show_passes=True, findings=()):
    passed = sum(v.passed for v in verdicts)
    shared = judging.common_problem(verdicts)
    if shared:
        return f"{title}: 0/{len(verdicts)} cases passed: {shared}"
    said = pointers.arrange(verdicts, findings)
    lines = [f"  {line}" for line in said.lead] + [f"  {f.sentence}" for f in said.findings]
    for v in verdicts:
        if v.passed:
            if show_passes:
                lines.append(f"  ✓ {v.case.label}: {v.case.describe()}")
            continue
        lines.append(f"  ✗ {v.case.label}: {v.case.describe()}")
        lines += [f"      {p}" for p in said.problems(v)]
    if len(lines) > MAX_LINES - 1:
        hidden = len(lines) - (MAX_LINES - 2)
        lines = lines[:MAX_LINES - 2] + [f"  ... and {hidden} more lines like the ones above"]
    verdict = "all passed" if passed == len(verdicts) else "see the failing cases below"
    return f"{title}: {passed}/{len(verdicts)} cases passed ({verdict})\n" + "\n".join(lines)


def findings(task, fn, verdicts):
    """What the probe ladder localised about a function that fails some case."""
    if not pointers.ladder_wanted(task, verdicts):
        return []
    with quiet():
        try:
            return diagnose(task, LADDERS[task], attempt(task, fn))
        except Exception:  # noqa: BLE001 - a probe the function cannot take explains nothing
            return []


@functools.cache
def _blocked_functions(task):
    """{name: module} of the public functions a task's solution may not use."""
    import importlib

    found = {}
    for module_name in TASKS[task].blocked:
        module = importlib.import_module(module_name)
        for name, obj in vars(module).items():
            if callable(obj) and not name.startswith("_") and getattr(obj, "__module__", None) == module_name:
                found[name] = module_name
    return found


def forbidden_uses(task, fn):
    """The blocked conv_lib functions ``fn`` (or a helper of the student's it calls) uses.

    The autograder switches those modules off, so a solution built on them scores 0
    there; the checks say so up front instead of showing a pass that will not hold.
    """
    blocked = _blocked_functions(task)
    used, seen = set(), set()

    def walk(function):
        code = getattr(function, "__code__", None)
        if code is None or code in seen:
            return
        seen.add(code)
        names, stack = set(), [code]
        while stack:
            current = stack.pop()
            names.update(current.co_names)
            stack += [c for c in current.co_consts if isinstance(c, types.CodeType)]
        scope = dict(getattr(function, "__globals__", {}))
        for name, cell in zip(code.co_freevars, function.__closure__ or ()):
            try:
                scope[name] = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            names.add(name)
        for name in names:
            target = scope.get(name)
            if getattr(target, "__module__", None) in blocked.values() or (
                    target is None and name in blocked):
                used.add(name)
            elif isinstance(target, types.FunctionType) and target.__module__ == function.__module__:
                walk(target)  # a helper the student wrote

    walk(fn)
    return sorted(used)


def _forbidden_message(task, names):
    blocked = _blocked_functions(task)
    listed = ", ".join(f"{n} ({blocked[n]})" if n in blocked else n for n in names)
    return (f"{TASKS[task].function} uses {listed}, which is switched off when your notebook is "
            f"graded: the task is to write this yourself. As it stands it scores 0.")


def _check(task, fn, forward=None, show=True):
    name = TASKS[task].function
    if not callable(fn):
        print(f"{name}: expected a function, got {type(fn).__name__}. Run the cell that "
              f"defines {name} first.")
        return
    banned = forbidden_uses(task, fn)
    if banned:
        print(_forbidden_message(task, banned))
        return
    verdicts = run(task, fn)
    # Only the first failing backward case gets the (slower) forward-consistency check.
    for v in verdicts:
        if not v.passed and "backward" in task:
            hint = _own_forward_hint(task, v, fn, forward)
            if hint:
                v.problems.append(hint)
            break
    print(report(name, verdicts, findings=findings(task, fn, verdicts)))
    if all(v.passed for v in verdicts):
        print("Well done! Move on to the next task.")
    elif show:
        with quiet():
            try:
                pictures.show_first_difference(verdicts)
            except Exception:  # noqa: BLE001 - a picture is a bonus, never an error
                pass


def check_conv_forward(conv_forward_naive, show=True):
    """Run conv_forward_naive on the public cases and explain any failure;
    ``show=False`` leaves out the picture of the first failing case."""
    _check("conv_forward", conv_forward_naive, show=show)


def check_conv_forward_dilated(conv_forward_dilated_naive, show=True):
    """Run conv_forward_dilated_naive on the public cases (dilations 1 to 3) and
    explain any failure; ``show=False`` leaves out the picture."""
    _check("conv_forward_dilated", conv_forward_dilated_naive, show=show)


def check_conv_backward(conv_backward_naive, forward=None, show=True):
    """Run conv_backward_naive on the public cases; with ``forward`` (your own
    conv_forward_naive), also tell a forward bug from a backward bug."""
    _check("conv_backward", conv_backward_naive, forward, show)


def check_max_pool_forward(max_pool_forward_naive, show=True):
    _check("max_pool_forward", max_pool_forward_naive, show=show)


def check_max_pool_backward(max_pool_backward_naive, forward=None, show=True):
    _check("max_pool_backward", max_pool_backward_naive, forward, show)


def check_avg_pool_forward(avg_pool_forward_naive, show=True):
    _check("avg_pool_forward", avg_pool_forward_naive, show=show)


def check_avg_pool_backward(avg_pool_backward_naive, forward=None, show=True):
    _check("avg_pool_backward", avg_pool_backward_naive, forward, show)


def check_conv_forward_im2col(conv_forward_im2col, show=True):
    _check("conv_forward_im2col", conv_forward_im2col, show=show)


def check_conv_backward_im2col(conv_backward_im2col, forward=None, show=True):
    """Run conv_backward_im2col on the public cases (its cache is the one
    conv_forward_im2col keeps, cols included); with ``forward`` (your own
    conv_forward_im2col), also tell a forward bug from a backward bug."""
    _check("conv_backward_im2col", conv_backward_im2col, forward, show)


def check_convnet_loss(convnet_loss, show=True):
    """Run convnet_loss(model, X, y=None) on small models and explain any failure."""
    _check("convnet_loss", convnet_loss, show=show)


# Notebook 6 (issue 25): normalisation.


def check_spatial_batchnorm_forward(spatial_batchnorm_forward, show=True):
    """Run spatial_batchnorm_forward on the public cases (train and test mode); the running
    averages it leaves in bn_param are checked too."""
    _check("spatial_batchnorm_forward", spatial_batchnorm_forward, show=show)


def check_spatial_batchnorm_backward(spatial_batchnorm_backward, forward=None, show=True):
    """Run spatial_batchnorm_backward on the public cases (its cache is batchnorm_forward's);
    with ``forward`` (your spatial_batchnorm_forward), also tell a forward bug from a backward one."""
    _check("spatial_batchnorm_backward", spatial_batchnorm_backward, forward, show)


def check_spatial_groupnorm_forward(spatial_groupnorm_forward, show=True):
    _check("spatial_groupnorm_forward", spatial_groupnorm_forward, show=show)


def check_spatial_groupnorm_backward(spatial_groupnorm_backward, forward=None, show=True):
    """Run spatial_groupnorm_backward on the public cases (its cache is the forward's
    inputs (x, gamma, beta, G, gn_param)); ``forward`` as for the other backward checks."""
    _check("spatial_groupnorm_backward", spatial_groupnorm_backward, forward, show)


class NotPassingYet(Exception):
    """Raised by a test cell while the public cases fail, so nbgrader's Validate shows it."""

    def __str__(self):
        # Validate cuts each line of a traceback at 87 characters: short lines keep the
        # whole sentence readable there (and in the notebook).
        return textwrap.fill(str(self.args[0]), 60) if self.args else ""


def _scored(task, fn, points, seed):
    """(points earned, why the code is unfinished or None); prints the report."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {sorted(TASKS)}, got {task!r}")
    name = TASKS[task].function
    if not callable(fn):
        print(f"{name} is not a function: 0/{points} points")
        return 0.0, (f"{name} is not a function (it is {type(fn).__name__}): run the cell "
                     f"that defines {name} first")
    banned = forbidden_uses(task, fn)
    if banned:
        print(_forbidden_message(task, banned))
        print(f"score: 0 / {points} points")
        return 0.0, (f"{name} uses functions that are switched off when your notebook is "
                     f"graded (see above)")
    public = run(task, fn)
    verdicts = public + run(task, fn, hidden=True, seed=seed)
    earned = round(points * sum(v.passed for v in verdicts) / len(verdicts), 2)
    print(report(name, verdicts, show_passes=False))
    print(f"score: {earned:g} / {points} points")
    failed = sum(not v.passed for v in public)
    unfinished = (f"{name} fails {failed} of its {len(public)} public cases; the lines above "
                  f"say which and why (check_{task} shows them too)") if failed else None
    return earned, unfinished


def score(task, fn, points, seed=None):
    """Points earned by ``fn`` on the public and hidden cases of ``task`` (fraction of
    cases passed x points); prints which cases failed and why, never test code."""
    return _scored(task, fn, points, seed)[0]


def grade(task, fn, points, seed=None):
    """What a test cell calls: score(), but while a public case fails it raises
    NotPassingYet with a plain sentence, so the cell (and nbgrader's Validate) says the code
    is unfinished. In a learner's own kernel (not nbgrader's) it prints that sentence
    instead and returns None, so Run All goes on and the cell echoes no number. An optional task worth 0 points never raises: skipping it is allowed.
    When a notebook is graded, the course's grader decides the points in its own process;
    what this returns does not count there.
    """
    __tracebackhide__ = True  # IPython: the student sees the sentence, not our frames
    earned, unfinished = _scored(task, fn, points, seed)
    if _learners_kernel():  # Run All goes on; no score echoed under the report
        if unfinished and points > 0:
            print(f"Not finished yet: {unfinished}. nbgrader's Validate flags this cell; "
                  f"the rest of the notebook runs on.")
        return None
    if unfinished and points > 0:
        raise NotPassingYet(unfinished)
    return earned


def _learners_kernel():
    """A notebook kernel that nbgrader is not running: nbgrader sets NBGRADER_EXECUTION
    while it validates or autogrades, and needs the raise (and the number) there."""
    import sys

    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    return getattr(shell, "kernel", None) is not None and not os.environ.get("NBGRADER_EXECUTION")
