"""The channels-last exercise of notebook 1: does a student's conversion give this
course's layout, and if not, which axis order did it give?

TensorFlow and most image libraries store a batch as (N, H, W, C) and a conv kernel
as (HH, WW, C, F); this course (like PyTorch and cs231n) uses (N, C, H, W) and
(F, C, HH, WW). ``check_channels_last(to_channels_first)`` calls
``to_channels_first(x_nhwc, w_hwcf) -> (x, w)`` on random arrays and names what is
wrong: an axis order (with the transpose that gives it), a reshape where a
transpose belongs, or a shape.
"""

import itertools

import numpy as np

from conv_lib import conv_forward_fast
from conv_lib.gradient_check import rel_error

from .checks import call
from .judge import NOT_IMPLEMENTED

NAME = "to_channels_first"
# (channels-last axis names, the transpose to the course's order, that order's names)
LAYOUTS = {
    "x": (("N", "H", "W", "C"), (0, 3, 1, 2), "(N, C, H, W)"),
    "w": (("HH", "WW", "C", "F"), (3, 2, 0, 1), "(F, C, HH, WW)"),
}
# (x_nhwc shape, w_hwcf shape): sizes that differ, so every axis order is told apart
# by its shape as well as by its values
SHAPES = [((2, 7, 6, 3), (5, 4, 3, 2)), ((1, 4, 5, 2), (3, 1, 2, 4))]


def _order(axes, permutation):
    return "(" + ", ".join(axes[a] for a in permutation) + ")"


def explain(part, got, source):
    """None when ``got`` is ``source`` (channels-last) in the course's layout,
    else one sentence on what it is instead."""
    axes, want, course_order = LAYOUTS[part]
    if not isinstance(got, np.ndarray):
        return f"{part} must be a numpy array, got {type(got).__name__}"
    expected = source.transpose(want)
    if got.shape == expected.shape and np.array_equal(got, expected):
        return None
    for permutation in itertools.permutations(range(4)):
        if not np.array_equal(got, source.transpose(permutation)):  # False on other shapes
            continue
        if permutation == (0, 1, 2, 3):
            return (f"{part} is unchanged, still channels-last {_order(axes, permutation)}: "
                    f"{course_order} is transpose{want}")
        return (f"{part} holds the right numbers but its axes are in the order "
                f"{_order(axes, permutation)}, not {course_order}: that is "
                f"transpose{permutation}; the course's layout is transpose{want}")
    if got.shape == expected.shape and got.size and np.array_equal(got.ravel(), source.ravel()):
        return (f"{part} has the right shape {got.shape} but its numbers are scrambled: "
                f"reshape keeps the order in memory and only relabels the axes; use "
                f"transpose{want}, which moves the axes")
    if got.shape != expected.shape:
        return f"{part} has shape {got.shape}, expected {expected.shape}, which is {course_order}"
    return f"{part} has the right shape {got.shape} but wrong values"


def run_case(fn, x_nhwc, w_hwcf):
    """The problems of one call, [] when it is right."""
    status, value = call(fn, (x_nhwc.copy(), w_hwcf.copy()))
    if status == "error":
        error_type, message, where = value
        if error_type == "NotImplementedError":
            return [NOT_IMPLEMENTED]
        return [f"raised {error_type}: {message}" + (f" ({where})" if where else "")]
    if not isinstance(value, tuple) or len(value) != 2:
        return [f"must return a tuple (x, w), got {type(value).__name__}"]
    problems = [p for p in (explain("x", value[0], x_nhwc), explain("w", value[1], w_hwcf)) if p]
    if problems:
        return problems
    # The converted arrays must give conv_forward_fast the layer a channels-last loop computes.
    b = np.linspace(-1, 1, w_hwcf.shape[3])
    out = conv_forward_fast(value[0], value[1], b, {"stride": 1, "pad": 1})[0]
    error = rel_error(out.transpose(0, 2, 3, 1), conv_channels_last(x_nhwc, w_hwcf, b, pad=1))
    return [] if error < 1e-9 else [f"conv_forward_fast on your arrays is off: rel_error {error:.1e}"]


def conv_channels_last(x_nhwc, w_hwcf, b, pad):
    """A stride-1 conv layer written for channels-last arrays: (N, H', W', F)."""
    x_pad = np.pad(x_nhwc, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    hh, ww = w_hwcf.shape[:2]
    windows = np.lib.stride_tricks.sliding_window_view(x_pad, (hh, ww), axis=(1, 2))
    return np.einsum("nijcpq,pqcf->nijf", windows, w_hwcf) + b


def check_channels_last(to_channels_first):
    """Check ``to_channels_first(x_nhwc, w_hwcf) -> (x, w)`` on random arrays; prints
    a pass, or what is wrong with each case."""
    if not callable(to_channels_first):
        print(f"{NAME}: expected a function, got {type(to_channels_first).__name__}. "
              f"Run the cell that defines {NAME} first.")
        return
    rng = np.random.default_rng(235)
    results = []
    for x_shape, w_shape in SHAPES:
        x_nhwc, w_hwcf = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
        results.append((x_shape, w_shape, run_case(to_channels_first, x_nhwc, w_hwcf)))
    if all(problems == [NOT_IMPLEMENTED] for *_, problems in results):
        print(f"{NAME}: 0/{len(results)} cases passed: {NOT_IMPLEMENTED}")
        return
    passed = sum(not problems for *_, problems in results)
    verdict = "all passed" if passed == len(results) else "see the failing cases below"
    lines = [f"{NAME}: {passed}/{len(results)} cases passed ({verdict})"]
    for x_shape, w_shape, problems in results:
        mark = "✗" if problems else "✓"
        lines.append(f"  {mark} x_nhwc {x_shape}, w_hwcf {w_shape}")
        lines += [f"      {p}" for p in problems]
    if passed == len(results):
        lines.append("Well done: conv_forward_fast on your arrays matches a channels-last layer.")
    print("\n".join(lines))
