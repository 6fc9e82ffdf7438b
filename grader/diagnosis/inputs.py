"""Did a student's function change its inputs?

The docstrings say "do not modify the input": in a network, x is the previous
layer's output and the cache is what the backward pass reads. The checks (in
the student's kernel) and the worker (in the sandbox) snapshot the arguments
before a call and compare after it; only plain data crosses to the judge, so
the trusted side never runs student code.
"""

from types import SimpleNamespace

import numpy as np


def snapshot(value):
    """A deep copy of arrays inside tuples, lists, dicts and namespaces."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (tuple, list)):
        return type(value)(snapshot(v) for v in value)
    if isinstance(value, dict):
        return {k: snapshot(v) for k, v in value.items()}
    if isinstance(value, SimpleNamespace):
        return SimpleNamespace(**snapshot(vars(value)))
    return value


def _same(a, b):
    if isinstance(a, np.ndarray):
        return (isinstance(b, np.ndarray) and a.shape == b.shape
                and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")))
    return True  # only arrays are compared: a rebound attribute harms no caller


def changed_paths(before, after, path=()):
    """Paths (lists of tuple indexes, dict keys and ".attribute"s) to the arrays that
    differ between a snapshot and the arguments after the call; JSON-safe."""
    if isinstance(before, (tuple, list)) and isinstance(after, (tuple, list)):
        return [p for i, (b, a) in enumerate(zip(before, after))
                for p in changed_paths(b, a, (*path, i))]
    if isinstance(before, dict) and isinstance(after, dict):
        return [p for k in before if k in after for p in changed_paths(before[k], after[k], (*path, k))]
    if isinstance(before, SimpleNamespace) and isinstance(after, SimpleNamespace):
        return changed_paths(vars(before), vars(after), (*path, "."))
    return [] if _same(before, after) else [list(path)]


def _name(path, names):
    """('cache', 0) -> 'cache[0]'; ('model', '.', 'params', 'W1') -> "model.params['W1']"."""
    head, *rest = path
    text = names[head] if isinstance(head, int) and head < len(names) else f"argument {head + 1}"
    attribute = False
    for key in rest:
        if key == ".":
            attribute = True
            continue
        text += f".{key}" if attribute else f"[{key!r}]"
        attribute = False
    return text


CHANGED = "your function changed its input"


def changed_message(paths, names):
    """The sentence a student reads when the call changed an input in place."""
    listed = ", ".join(dict.fromkeys(_name(p, names) for p in paths))
    return (f"{CHANGED} {listed}, which its caller still needs. Fix: compute into a new "
            f"array (x = x / 4, or work on x.copy()) instead of writing into it (x /= 4, x[...] = ...)")


# Inputs a graded function updates in place by contract: cs231n's batch norm keeps its
# running averages in bn_param (argument 4). {function name: paths}. Such a call's value is
# (what it returned, the values at those paths after it, None where absent), so the judge
# sees the updates; changes at other paths still fail the case.
IN_PLACE = {"spatial_batchnorm_forward": ((3, "running_mean"), (3, "running_var"))}


def _at(args, path):
    value = args
    for key in path:
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def settle(function, returned, args, changed):
    """(value, changed paths) of a call of ``function`` once it ran on ``args`` (see IN_PLACE)."""
    paths = IN_PLACE.get(function)
    if not paths:
        return returned, changed
    allowed = [list(p) for p in paths]
    return ((returned, tuple(_at(args, p) for p in paths)),
            [p for p in changed if list(p) not in allowed])
