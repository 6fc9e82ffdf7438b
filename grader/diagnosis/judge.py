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


def cache_names(task):
    """The notebook's names of the entries of the cache a backward task receives."""
    return _CACHES.get(task.replace("backward", "forward"), ())


def input_changed(task, paths):
    """The problem line for a call that changed its inputs (paths from inputs.changed_paths)."""
    return inputs.changed_message(paths, TASKS[task].arguments, cache_names(task))


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
    """The judged parts of a return value, or a sentence saying why it has none. A task
    whose function updates inputs in place (inputs.IN_PLACE) gets (returned, updated values):
    they are judged as the parts after the forward's out."""
    updates = inputs.IN_PLACE.get(TASKS[task].function)
    if not updates:
        return _unpack(task, case, returned)
    if not (isinstance(returned, tuple) and len(returned) == 2 and isinstance(returned[1], tuple)
            and len(returned[1]) == len(updates)):
        return None, "returned something the grader cannot read"
    parts, problem = _unpack(task, case, returned[0])
    if parts is not None:
        parts.update(zip(TASKS[task].parts[1:], returned[1]))
    return parts, problem


def _unpack(task, case, returned):
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


def unset_line(name):
    return (f"likely mistake: {name} holds {inputs.UNSET:.0e}, the value the check puts in fresh "
            f"np.empty / np.empty_like memory: some entries of {name} are read or added to (+=) "
            f"before they are set. Fix: create {name} with np.zeros(...) or np.zeros_like(...)")


def wrong_dtype(actual, expected):
    """True when a float64 answer comes back with less precision (float32, float16, ints)."""
    if not isinstance(actual, np.ndarray):
        return False
    want = np.asarray(expected).dtype
    return want.kind == "f" and want.itemsize >= 8 and (
        actual.dtype.kind in "iub" or (actual.dtype.kind in "fc" and actual.dtype.itemsize < 8))


def dtype_line(name, actual, expected):
    if actual.dtype.kind in "iub":
        return (f"likely mistake: {name} is an integer array ({actual.dtype}), so every value is "
                f"cut to a whole number. Fix: create it as floats, e.g. np.zeros(shape) or "
                f"np.zeros(shape, dtype=x.dtype), not dtype=int")
    with np.errstate(all="ignore"):
        error = reference.rel_error(actual.astype(np.float64), expected)
    return (f"likely mistake: {name} is a {actual.dtype} array, but the inputs are float64 "
            f"(rel_error {error:.1e}). Fix: keep float64 throughout: no astype(np.float32), and "
            f"create arrays with np.zeros(shape) or the input's dtype, not a smaller one")


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
    elif inputs.holds_unset(actual):
        return [unset_line(name)]
    elif not np.all(np.isfinite(actual)):
        problems = [f"{name} contains NaN or inf values"]
    elif wrong_dtype(actual, expected):
        return [dtype_line(name, actual, expected)]  # the values may match only by chance
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


_CACHES = {  # what each forward pass's cache holds: the backward pass reads exactly this
    "conv_forward": ("x", "w", "b", "conv_param"),
    "conv_forward_dilated": ("x", "w", "b", "conv_param"),
    "conv_forward_im2col": ("x", "w", "b", "conv_param", "cols"),  # what notebook 4 asks for
    "max_pool_forward": ("x", "pool_param"),
    "avg_pool_forward": ("x", "pool_param"),
}


def _cache_entry(case, name):
    i = case.inputs
    if name == "cols":
        from conv_lib.im2col import im2col

        p = i["conv_param"]
        return im2col(i["x"], *i["w"].shape[2:], stride=p["stride"], pad=p["pad"])
    return i[name]


def _describe(value):
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return f"the dict {value!r}"[:120] if isinstance(value, dict) else _type_name(value)


def cache_problem(task, case, cache, sizes=True):
    """Why a forward pass's cache is not what its backward pass reads, or None; without
    ``sizes`` the sentence is the same for every case, so a check says it once."""
    names = _CACHES.get(task)
    if names is None:
        return None
    wanted = f"({', '.join(names)})"
    # entries after these are the student's own business (conv_lib's pool keeps out too)
    if not isinstance(cache, (tuple, list)) or len(cache) < len(names):
        got = f"a tuple of {len(cache)}" if isinstance(cache, (tuple, list)) else _type_name(cache)
        return (f"where to look: the cache, which the backward pass reads: it must be the tuple "
                f"{wanted}, got {got}. Fix: return out, {wanted}")
    for k, (name, value) in enumerate(zip(names, cache)):
        want = _cache_entry(case, name)
        if name == "cols":  # a student's backward may read its own layout of the same columns
            same = isinstance(value, np.ndarray) and value.size == want.size and \
                bool(np.array_equal(np.sort(value, axis=None), np.sort(want, axis=None)))
        elif isinstance(want, np.ndarray):
            same = isinstance(value, np.ndarray) and value.shape == want.shape and \
                bool(np.array_equal(value, want))
        else:
            same = isinstance(value, dict) and value == want
        if not same:
            as_given = "the columns im2col(x, HH, WW, stride=stride, pad=pad) returns" \
                if name == "cols" else f"{name} as it was passed in"
            got = f" ({_describe(want)}), got {_describe(value)}" if sizes else ", unchanged"
            return (f"where to look: the cache, which the backward pass reads: cache[{k}] must be "
                    f"{as_given}{got}. Fix: keep the inputs in the cache unchanged: return "
                    f"out, {wanted}")
    return None


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
    if not problems and task in _CACHES and (wrong := cache_problem(task, case, returned[1], False)):
        problems.append(wrong)  # the forward is right; what it keeps for the backward is not
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
