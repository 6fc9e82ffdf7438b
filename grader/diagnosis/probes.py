"""Probe ladders: find WHERE a failing function goes wrong, not just that it does.

A task declares its ladder as data (grader.diagnosis.ladders): a base probe,
the simplest case there is, and rungs that each change one aspect of it. This
runner tries them in order; the first rung that fails while the simpler ones
pass names the aspect, and that rung's impulse probes (a single nonzero in x, w
or dout) and value checks (dtype, a constant factor, rounding) can sharpen the
name. Every sentence says only what a probe measured.

The runner never calls student code itself: ``attempt(case)`` does, so the same
ladder runs in a student's kernel (the checks) and through the sandbox.
"""

from dataclasses import dataclass, field

import numpy as np

from . import judge as judging
from . import inputs, mistakes, reference
from .mistakes import TOLERANCE, close
from .tasks import TASKS


@dataclass(frozen=True)
class Reading:
    """What an impulse's landing means. ``matches(probe)`` sees an ImpulseResult."""

    aspect: str
    matches: object
    says: str  # a sentence fragment, may use {index}, {found}, {part}, {alpha:g}
    fix: str = ""


@dataclass(frozen=True)
class Impulse:
    """A single ``value`` at ``index`` of input ``input`` (the others random)."""

    input: str  # "x", "w" or "dout"
    index: tuple
    readings: tuple
    changes: dict = field(default_factory=dict)  # geometry changes from the rung's
    value: float = 1.0


@dataclass(frozen=True)
class Rung:
    """One aspect changed from the base probe (``changes`` = {} is the base itself)."""

    aspect: str
    changes: dict
    says: str  # "cases with stride > 1 fail"
    look: str  # "how the window's start uses the stride: row i * stride, column j * stride"
    fix: str = ""
    refine: tuple = ()  # narrower rungs tried when this one fails: the only failing one is named
    impulses: tuple = ()
    size_look: str = ""  # where the output size comes from when this rung changes it


@dataclass(frozen=True)
class Factor:
    """A named quantity a wrong result can be off by, e.g. ("pool_width", lambda g: g["pw"])."""

    name: str
    value: object  # geometry -> number
    aspect: str  # the aspect a factor of this size points to
    says: str = ""  # the fix, e.g. "divide by pool_height * pool_width, not pool_height alone"
    when: str = ""  # "times" or "divided by": the direction ``says`` fixes ("": either)


@dataclass(frozen=True)
class Ladder:
    base: dict  # the simplest probe's geometry
    make_case: object  # (geometry, rng) -> Case
    rungs: tuple  # Rung, the base first, simplest next
    factors: tuple = ()  # Factor, to name a constant factor
    factor_probe: dict = field(default_factory=dict)  # geometry changes where factors differ
    linear_in: str = ""  # the input the output must scale with (backward passes: "dout")
    parts_say: object = None  # (rung, Outcome) -> Finding or None, e.g. convnet's gradient keys
    factor_aspect: str = "factor"  # the aspect of a constant factor no Factor names
    base_says: str = "the simplest probe"  # the base in words, for "even ... fails"
    tries: int = 2  # seeds per rung: a max-pool slip can hide behind lucky random values


@dataclass
class Finding:
    aspect: str
    sentence: str
    mistake: object = None  # the catalog's Mistake the probe showed, if it showed one


@dataclass
class Outcome:
    """A probe's result: an error, or the parts that are wrong as {part: (expected, actual)}."""

    case: object
    error: tuple = None
    changed: list = None
    wrong: dict = field(default_factory=dict)
    parts: dict = field(default_factory=dict)
    cache: str = None  # why a right forward pass's cache is wrong (judge.cache_problem)

    @property
    def failed(self):
        return bool(self.error or self.changed or self.wrong)


@dataclass
class ImpulseResult:
    impulse: Impulse
    part: str
    expected: np.ndarray
    actual: np.ndarray
    found: tuple = None  # where a one would have to sit to give the student's output
    alpha: float = None  # ... times this factor
    case: object = None

    @property
    def index(self):
        return self.impulse.index


def outcome(task, case, attempt):
    """Run the student's function on ``case`` through ``attempt`` and compare part by part."""
    status, value = attempt(case)
    if status == "error":
        return Outcome(case, error=tuple(value))
    if status == "changed":
        return Outcome(case, changed=value)
    try:
        parts, problem = judging.unpack(task, case, value)
    except Exception as error:  # noqa: BLE001 - an unreadable return value
        return Outcome(case, error=("TypeError", str(error), ""))
    if problem:
        return Outcome(case, error=("TypeError", problem, ""))
    expected = reference.parts(task, case, reference.output(task, case))
    wrong = {name: (want, parts.get(name)) for name, want in expected.items()
             if not close(parts.get(name), want) or judging.wrong_dtype(parts.get(name), want)}
    cache = None if wrong else judging.cache_problem(task, case, value[1] if isinstance(value, tuple) else None)
    return Outcome(case, wrong=wrong, parts=expected, cache=cache)


def _geometry(ladder, *changes):
    geometry = dict(ladder.base)
    for change in changes:
        geometry.update(change)
    return geometry


def _case(ladder, geometry, seed=0):
    return ladder.make_case(geometry, np.random.default_rng(seed))


# ------------------------------------------------------------ value checks


def _as_float(a):
    return np.asarray(a, dtype=np.float64)


def _constant_factor(expected, actual):
    """alpha when actual == alpha * expected everywhere (alpha != 1), else None."""
    if not isinstance(actual, np.ndarray) or actual.shape != np.shape(expected):
        return None
    e, a = _as_float(expected).ravel(), _as_float(actual).ravel()
    if not np.all(np.isfinite(a)) or float(e @ e) == 0:
        return None
    alpha = float(e @ a) / float(e @ e)
    if abs(alpha - 1) < 1e-6 or abs(alpha) < 1e-9:
        return None
    return alpha if reference.rel_error(a, alpha * e) < 1e-7 else None


def known_mistake(task, result):
    """The catalog's mistake (grader.diagnosis.mistakes) when every wrong part of a probe
    is one: a probe that shows a known mistake names it as the judge does, so the
    ladder and the cases' lines never point two ways."""
    if not result.wrong or result.error:
        return None
    explained = [mistakes.diagnose(task, result.case, part, actual)
                 for part, (_, actual) in result.wrong.items()]
    return explained[0][0] if all(explained) else None


def _known_finding(task, ladder, rung, mistake, attempt):
    """The mistake's own line on the base probe; past it, which rung shows it too. The
    mistake names the aspect when the ladder's rung for that aspect fails as well (an output
    rounded up first shows wherever a size does not divide); else the rung does."""
    if not rung.changes:
        return Finding(mistake.aspect, mistake.line, mistake)
    home = next((r for r in ladder.rungs if r.aspect == mistake.aspect), None)
    if home is None or home is rung or not _probe(task, ladder, home, attempt).failed:
        home = rung
    aspect, look = home.aspect, home.look
    if mistake.aspect == "output_size" and rung.size_look:  # the size this rung's setting makes
        aspect, look = mistake.aspect, rung.size_look
    return Finding(aspect, (
        f"likely mistake: {mistake.name}. It shows in {rung.says} (the simpler probes "
        f"pass): look at {look}. Fix: {mistake.hint}"), mistake)


def memory_finding(wrong):
    """np.empty memory read before it was set, or a float64 answer given with less precision:
    said before any known mistake, which such values can match by chance."""
    for name, (expected, actual) in wrong.items():
        if not isinstance(actual, np.ndarray) or actual.shape != np.shape(expected):
            continue
        if inputs.holds_unset(actual):
            return Finding("uninitialised", judging.unset_line(name))
        if judging.wrong_dtype(actual, expected):
            return Finding("dtype", judging.dtype_line(name, actual, expected))
    return None


def value_finding(wrong):
    """A dtype or rounding problem seen in any wrong part."""
    for name, (expected, actual) in wrong.items():
        if not isinstance(actual, np.ndarray) or actual.shape != np.shape(expected):
            continue
        if actual.dtype.kind in "iub" and np.asarray(expected).dtype.kind == "f":
            return Finding("dtype", (
                f"likely mistake: {name} is an integer array ({actual.dtype}), so every value is "
                f"cut to a whole number. Fix: create it as floats, e.g. np.zeros(shape) or "
                f"np.zeros(shape, dtype=x.dtype), not dtype=int"))
        error = reference.rel_error(_as_float(actual), expected)
        if actual.dtype == np.float32 or error < 1e-5:  # right to float32's precision only
            what = ("is a float32 array" if actual.dtype == np.float32 else
                    "is right only to float32's precision, so some value passed through float32")
            return Finding("dtype", (
                f"likely mistake: {name} {what} (rel_error {error:.0e}; the cases need "
                f"< {TOLERANCE:.0e}). Fix: keep float64 throughout: no astype(np.float32), and "
                f"allocate arrays with the input's dtype"))
        floor = np.floor(_as_float(expected))
        # an output left at 0 equals the floor of values in [0, 1): that says nothing
        if np.array_equal(_as_float(actual), floor) and not np.array_equal(floor, expected) \
                and np.any(floor):
            return Finding("int_division", (
                f"likely mistake: {name} holds the expected values rounded down: `//` is floor "
                f"division. Fix: divide with `/` (or use .mean())"))
    return None


def _named_factor(alpha, geometry, factors):
    """("times" or "divided by", Factor) when alpha is one of the factors or its inverse."""
    for factor in factors:
        value = float(factor.value(geometry))
        if value in (0, 1):
            continue
        for word, target in (("times", value), ("divided by", 1 / value)):
            if abs(alpha - target) < 1e-6 * abs(target):
                return word, factor
    return None


def _factor_finding(task, ladder, rung, outcome_, attempt):
    """A constant factor, named by re-running on the factor probe, where the sizes differ."""
    if any(_constant_factor(e, a) is None for e, a in outcome_.wrong.values()):
        return None
    geometry = _geometry(ladder, rung.changes, ladder.factor_probe)
    probe = outcome(task, _case(ladder, geometry, seed=1), attempt)
    alphas = {part: _constant_factor(e, a) for part, (e, a) in probe.wrong.items()}
    if not alphas or any(a is None for a in alphas.values()):
        return None
    alpha = next(iter(alphas.values()))
    if any(abs(a - alpha) > 1e-6 * abs(alpha) for a in alphas.values()):
        return None  # different factors per part: no one line scales them all
    parts = ", ".join(alphas)
    named = _named_factor(alpha, geometry, ladder.factors)
    if named is None:
        return Finding(ladder.factor_aspect, (
            f"where to look: {parts} is right up to a constant factor ({alpha:.4g} times the "
            f"expected values): look for a wrong divisor or a missing or extra factor"))
    word, factor = named
    fix = f" Fix: {factor.says}." if factor.says and factor.when in ("", word) else ""
    return Finding(factor.aspect, (
        f"where to look: {parts} is exactly the expected value {word} {factor.name} "
        f"(measured on a probe where the sizes all differ): look at the line that scales it."
        + fix))


def _linearity_finding(task, ladder, base_outcome, attempt):
    """A backward pass must scale with dout: does the student's?"""
    case = base_outcome.case
    doubled = _with_input(case, ladder.linear_in, 2 * case.inputs[ladder.linear_in])
    first, second = attempt(case), attempt(doubled)
    if first[0] != "ok" or second[0] != "ok":
        return None
    try:
        a, _ = judging.unpack(task, case, first[1])
        b, _ = judging.unpack(task, doubled, second[1])
    except Exception:  # noqa: BLE001
        return None
    if not a or not b:
        return None
    for name in base_outcome.wrong:
        one, two = a.get(name), b.get(name)
        if isinstance(one, np.ndarray) and isinstance(two, np.ndarray) and one.shape == two.shape \
                and np.any(one) and np.array_equal(one, two):
            return Finding("dout_scale", (
                f"where to look: your {name} stays the same when {ladder.linear_in} is doubled, so "
                f"the value you add does not use {ladder.linear_in}. Fix: add "
                f"{ladder.linear_in}[n, c, i, j] (times the local derivative), not 1"))
    return None


# ----------------------------------------------------------------- impulses


def _one_hot(shape, index, value):
    a = np.zeros(shape)
    a[index] = value
    return a


def _with_input(case, name, array):
    return type(case)(case.label, {**case.inputs, name: array}, case.shown)


def _run_impulse(task, ladder, rung, impulse, attempt):
    geometry = _geometry(ladder, rung.changes, impulse.changes)
    case = _case(ladder, geometry, seed=2)
    shape = case.inputs[impulse.input].shape
    probe_case = _with_input(case, impulse.input, _one_hot(shape, impulse.index, impulse.value))
    result = outcome(task, probe_case, attempt)
    found = []
    for part, (expected, actual) in result.wrong.items():
        landing = ImpulseResult(impulse, part, expected, actual, case=probe_case)
        if isinstance(actual, np.ndarray) and actual.shape == np.shape(expected):
            for k in np.ndindex(shape):
                moved = _with_input(case, impulse.input, _one_hot(shape, k, impulse.value))
                candidate = reference.parts(task, moved, reference.output(task, moved))[part]
                alpha = 1.0 if close(actual, candidate) else _constant_factor(candidate, actual)
                if alpha is not None:
                    landing.found, landing.alpha = k, alpha
                    break
        found.append(landing)
    return found


def _impulse_finding(task, ladder, rung, attempt):
    for impulse in rung.impulses:
        for landing in _run_impulse(task, ladder, rung, impulse, attempt):
            for reading in impulse.readings:
                try:
                    hit = reading.matches(landing)
                except Exception:  # noqa: BLE001 - a reading that does not apply
                    hit = False
                if hit:
                    text = reading.says.format(index=list(landing.index), found=landing.found and list(landing.found),
                                               part=landing.part, alpha=landing.alpha or 0)
                    fix = f" Fix: {reading.fix}." if reading.fix else ""
                    return Finding(reading.aspect, f"likely mistake: {text}.{fix}")
    return None


# ------------------------------------------------------------------ pattern


def difference_pattern(expected, actual):
    """Where two same-shaped arrays differ, in words: '' when it is everywhere."""
    if not isinstance(actual, np.ndarray) or actual.shape != np.shape(expected) or actual.ndim != 4:
        return ""
    bad = ~np.isclose(_as_float(actual), expected, rtol=1e-6, atol=1e-9)
    rows, cols = bad.any(axis=(0, 1, 3)), bad.any(axis=(0, 1, 2))
    h, w = bad.shape[2:]
    if not bad.any() or h < 3 or w < 3:
        return ""
    inner = bad[:, :, 1:-1, 1:-1]
    if not inner.any() and bad[:, :, [0, -1], :].any() and bad[:, :, :, [0, -1]].any():
        return "only along the border (a frame)"
    if not rows[: h // 2].any():
        return "only in the bottom rows"
    if not cols[: w // 2].any():
        return "only in the right-hand columns"
    if not rows[(h + 1) // 2:].any():
        return "only in the top rows"
    if not cols[(w + 1) // 2:].any():
        return "only in the left-hand columns"
    return ""


def _rung_sentence(ladder, rung, result, all_parts, parent=None):
    wrong = sorted(result.wrong)
    part_words = ""
    if len(all_parts) > 1 and wrong:
        right = [p for p in all_parts if p not in wrong]
        part_words = f" ({', '.join(wrong)} wrong" + (f"; {', '.join(right)} right)" if right else ")")
    if result.error and result.error[2]:  # the student's line is the evidence, not the rung
        error_type, message, where = result.error
        probes = f"even on {ladder.base_says}" if not rung.changes else (
            f"in {parent.says + ', and only ' + rung.says if parent else rung.says}, while the "
            f"simpler probes pass")
        return f"where to look: {where}: it raises {error_type}: {message} {probes}."
    if result.error:
        error_type, message, where = result.error
        what = f"they raise {error_type}: {message}"
    else:
        pattern = next((difference_pattern(*result.wrong[p]) for p in wrong
                        if difference_pattern(*result.wrong[p])), "")
        what = "they give wrong values" + (f", {pattern}" if pattern else "")
    fix = f" Fix: {rung.fix}." if rung.fix else ""
    if not rung.changes:
        return (f"where to look: even {ladder.base_says} fails{part_words}: {what}. "
                f"Look at {rung.look}.{fix}")
    says = f"{parent.says} fail, and only {rung.says}" if parent else f"{rung.says} fail"
    return (f"where to look: the simpler probes pass, but {says}{part_words}: {what}. "
            f"Look at {rung.look}.{fix}")


def _probe(task, ladder, rung, attempt):
    """The rung's first failing outcome over ``ladder.tries`` seeds, else the last one."""
    for seed in range(ladder.tries):
        result = outcome(task, _case(ladder, _geometry(ladder, rung.changes), seed), attempt)
        if result.failed:
            break
    return result


def diagnose(task, ladder, attempt):
    """Findings for a function that fails some case; [] when every probe passes. A forward
    pass whose outputs are right everywhere but whose cache is not gets the cache's sentence."""
    with np.errstate(all="ignore"):  # NaN and inf in a student's answers are findings, not noise
        return _diagnose(task, ladder, attempt)


def _diagnose(task, ladder, attempt):
    cache = None
    for rung in ladder.rungs:
        result = _probe(task, ladder, rung, attempt)
        if not result.failed:
            cache = cache or result.cache
            continue
        if result.changed:
            return [Finding("input_modified", inputs.changed_where(
                result.changed, TASKS[task].arguments, judging.cache_names(task)))]
        if early := memory_finding(result.wrong):
            return [early]
        if known := known_mistake(task, result):
            return [_known_finding(task, ladder, rung, known, attempt)]
        narrower = [(r, n) for r in rung.refine if (n := _probe(task, ladder, r, attempt)).failed]
        parent = None
        if len(narrower) == 1:
            parent, (rung, result) = rung, narrower[0]
        if result.error and " -> inside " in (result.error[2] or ""):
            error_type, message, where = result.error
            return [Finding("raises", (
                f"where to look: {where}: raised {error_type}: {message}. The error comes from "
                f"the library, the call from your line: {judging.inside_library(error_type)}"))]
        shapes = [(p, e.shape, a.shape) for p, (e, a) in result.wrong.items()
                  if isinstance(a, np.ndarray) and a.shape != np.shape(e)]
        size_look = rung.size_look or (parent.size_look if parent else "")
        if shapes and size_look and not result.error:  # the rung's own setting changes the size
            part, want, got = shapes[0]
            return [Finding("output_size", (
                f"where to look: the simpler probes pass, but {rung.says} give {part} the shape "
                f"{got}, expected {want}: look at {size_look}"))]
        if shapes and not rung.changes:
            part, want, got = shapes[0]
            if ladder.linear_in:  # a gradient has the shape of what it is the gradient of
                return [Finding("shape", (
                    f"where to look: even the simplest probe gives {part} the shape {got}, "
                    f"expected {want}: a gradient has the shape of its input; look at the line "
                    f"that creates or slices {part}"))]
            sizes = next((r for r in ladder.rungs if r.aspect == "output_size"), rung)
            return [Finding("output_size", (
                f"where to look: even the simplest probe gives {part} the shape {got}, expected "
                f"{want}: look at {sizes.look}"))]
        if result.wrong and not result.error:
            finding = value_finding(result.wrong)
            if finding is None and ladder.linear_in:
                finding = _linearity_finding(task, ladder, result, attempt)
            finding = finding or _impulse_finding(task, ladder, rung, attempt)
            finding = finding or _factor_finding(task, ladder, rung, result, attempt)
            if finding is None and ladder.parts_say:
                finding = ladder.parts_say(rung, result)
            if finding:
                return [finding]
        return [Finding(rung.aspect, _rung_sentence(ladder, rung, result, list(result.parts), parent))]
    return [Finding("cache", cache)] if cache else []
