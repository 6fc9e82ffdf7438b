"""Did a student's function change its inputs?

The docstrings say "do not modify the input": in a network, x is the previous
layer's output and the cache is what the backward pass reads. The checks (in
the student's kernel) and the worker (in the sandbox) snapshot the arguments
before a call and compare after it; only plain data crosses to the judge, so
the trusted side never runs student code.
"""

import contextlib
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


SETTING = "="  # a path's last step when a setting (not an array) changed: a key or a value


def _same(a, b, strict):
    if isinstance(a, np.ndarray):
        return (isinstance(b, np.ndarray) and a.shape == b.shape
                and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")))
    if not strict:
        return True  # a rebound attribute of a namespace harms no caller
    if isinstance(b, np.ndarray):
        return False
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # noqa: BLE001 - values that cannot be compared are left alone
        return True


def changed_paths(before, after, path=(), strict=True, free=()):
    """Paths (lists of tuple indexes, dict keys and ".attribute"s) to the arrays that
    differ between a snapshot and the arguments after the call, and to the dicts whose
    keys or plain values (a conv_param's ints) changed, those ending in SETTING; JSON-safe.
    A namespace's own attributes may be rebound (only arrays inside them count); the
    ``free`` paths (IN_PLACE's) may be set, added or changed."""
    if isinstance(before, (tuple, list)) and isinstance(after, (tuple, list)):
        return [p for i, (b, a) in enumerate(zip(before, after))
                for p in changed_paths(b, a, (*path, i), free=free)]
    if isinstance(before, dict) and isinstance(after, dict):
        kept = [k for k in before if (*path, k) not in free]
        if strict and set(kept) != {k for k in after if (*path, k) not in free}:
            return [[*path, SETTING]]  # pop, del, setdefault, update
        return [p for k in kept if k in after
                for p in changed_paths(before[k], after[k], (*path, k), free=free)]
    if isinstance(before, SimpleNamespace) and isinstance(after, SimpleNamespace):
        return changed_paths(vars(before), vars(after), (*path, "."), strict=False, free=free)
    if _same(before, after, strict):
        return []
    arrays = isinstance(before, np.ndarray) or isinstance(after, np.ndarray)
    return [list(path) if arrays else [*path, SETTING]]


def changed_by(function, before, after):
    """changed_paths of a call of the graded ``function``, whose IN_PLACE paths are free."""
    return changed_paths(before, after, free=IN_PLACE.get(function, ()))


def _name(path, names, cache=()):
    """('cache', 0) -> 'cache[0]'; ('model', '.', 'params', 'W1') -> "model.params['W1']";
    with ``cache`` (the notebook's names of its entries) ('cache', 3) -> 'cache[3] (conv_param)'."""
    head, *rest = path
    rest = [key for key in rest if key != SETTING]
    text = names[head] if isinstance(head, int) and head < len(names) else f"argument {head + 1}"
    if text == "cache" and len(rest) == 1 and type(rest[0]) is int and rest[0] < len(cache):
        return f"cache[{rest[0]}] ({cache[rest[0]]})"
    attribute = False
    for key in rest:
        if key == ".":
            attribute = True
            continue
        text += f".{key}" if attribute else f"[{key!r}]"
        attribute = False
    return text


CHANGED = "your function changed its input"


def changed_message(paths, names, cache=()):
    """The sentence a student reads when the call changed an input in place."""
    listed = ", ".join(dict.fromkeys(_name(p, names, cache) for p in paths))
    if any(p and p[-1] == SETTING for p in paths):
        param = next((k for k in ("pool_param", "conv_param") if k in listed), None)
        how = f" ({param}['stride'], or {param}.get(key, default) for an optional one)" if param else ""
        return (f"{CHANGED} {listed} (a setting was removed, added or changed), which its caller "
                f"still needs. Fix: read settings without changing them{how}: never pop, del, "
                f"update or setdefault")
    return (f"{CHANGED} {listed}, which its caller still needs. Fix: compute into a new "
            f"array (x = x / 4, or work on x.copy()) instead of writing into it (x /= 4, x[...] = ...)")


def changed_where(paths, names, cache=()):
    """The probe ladder's pointer for a call that changed an input: which line to look for."""
    listed = ", ".join(dict.fromkeys(_name(p, names, cache) for p in paths))
    if any(p and p[-1] == SETTING for p in paths):
        return (f"where to look: the line that changes the settings in {listed} (pop, del, "
                f"update, setdefault or [key] = ...): read them without changing them")
    return (f"where to look: the line that writes into {listed} in place ({listed.split(',')[0]} "
            f"/= ..., += ..., [...] = ...): work on a new array instead")


# Fresh memory from np.empty / np.empty_like holds whatever was there before: by chance 0,
# by chance garbage. While a student's function runs, both fill it with this value instead,
# so code that reads or adds to (+=) entries it never set fails every time, recognisably.
UNSET = 1e300


def _marked(allocate):
    def allocate_marked(*args, **kwargs):
        array = allocate(*args, **kwargs)
        if isinstance(array, np.ndarray):
            kind = array.dtype.kind
            if kind in "fc":
                array.fill(UNSET if array.dtype.itemsize >= 8 else np.inf)
            elif kind in "iu":
                array.fill(np.iinfo(array.dtype).max // 2)
        return array

    return allocate_marked


@contextlib.contextmanager
def unset_memory_marked():
    """np.empty and np.empty_like, while it lasts, return memory filled with UNSET."""
    saved = np.empty, np.empty_like
    np.empty, np.empty_like = _marked(saved[0]), _marked(saved[1])
    try:
        yield
    finally:
        np.empty, np.empty_like = saved


def holds_unset(array):
    """True when an output carries the mark of memory it read before setting it."""
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "fc" or array.size == 0:
        return False
    with np.errstate(all="ignore"):
        if array.dtype.itemsize < 8:  # the mark is inf there, which overflow makes too
            return bool(np.any(np.isinf(array)))
        magnitude = np.abs(array)
        return bool(np.any((magnitude >= UNSET / 1e3) & np.isfinite(magnitude)))


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
