"""Each graded function's probe ladder, declared as data for grader.diagnosis.probes.

A ladder is a ``Ladder``: a probe builder ``(geometry, rng) -> Case``, the base
geometry (the simplest case), and ``Rung``s, simplest first, each changing one
aspect of the base, with ``says`` (which cases fail, in words), ``look`` (which
line of code handles that aspect), an optional ``fix``, narrower ``refine``
rungs (stride along rows vs columns) and ``Impulse`` probes whose ``Reading``s
say what a misplaced single value means. ``Factor``s name a constant factor.

To add a task with conv_forward's signature, declare data only, as the dilated
conv's entry in ``LADDERS`` does: ``extra`` rungs for its own aspect, and a base
with ``"dilation": 1`` so every probe carries the key its contract promises;
and ``_conv_ladder("dx, dw, db", backward=True)`` for a conv_backward_im2col.
"""

import numpy as np

from conv_lib.im2col import output_size

from . import cases, norm_ladders
from .probes import Factor, Impulse, Ladder, Reading, Rung

# ------------------------------------------------------------------ conv probes


def conv_probe(g, rng):
    """A conv case from a geometry dict: N, C, F, H, W, HH, WW, stride, pad, bias, and
    an optional dilation (then conv_param gets a "dilation" entry and dout its size)."""
    case = cases.conv_case("probe", rng, (g["N"], g["C"], g["H"], g["W"]),
                            (g["F"], g["HH"], g["WW"]), g["stride"], g["pad"])
    if not g.get("bias"):
        case.inputs["b"] = np.zeros(g["F"])
    if "dilation" in g:  # tasks whose contract has the key get it, even at dilation 1
        d, s, p = g["dilation"], g["stride"], g["pad"]
        case.inputs["conv_param"]["dilation"] = d
        size = [output_size(n, k, s, p, d) for n, k in ((g["H"], g["HH"]), (g["W"], g["WW"]))]
        case.inputs["dout"] = rng.standard_normal((g["N"], g["F"], *size))
    return case


CONV_BASE = {"N": 1, "C": 1, "F": 1, "H": 4, "W": 4, "HH": 3, "WW": 3, "stride": 1, "pad": 0,
             "bias": False}


def _kernel_readings():
    """Where a single 1 in w[0, 0, 0, 1] of a 4x4 kernel acts from."""

    def at(*spot):
        return lambda p: p.found is not None and tuple(p.found) == (0, 0, *spot)

    def moved(p):
        return p.found is not None and tuple(p.found) != tuple(p.index)

    read = "a single 1 in w{index} changes {part} as if it sat at w{found}"
    return (
        Reading("kernel", at(3, 2), f"{read}: the kernel is flipped",
                "multiply w[f, c, p, q] with the pixel at offset (p, q) of the window; "
                "a conv layer does not flip the kernel"),
        Reading("kernel", at(1, 0), f"{read}: the kernel is read transposed, w[f, c, q, p]",
                "row offset p pairs with w's third axis, column offset q with the fourth"),
        Reading("kernel", at(3, 1), f"{read}: the kernel's rows are read upside down",
                "use w[f, c, p, q] with p counting down from the window's top row"),
        Reading("kernel", at(0, 2), f"{read}: the kernel's columns are read right to left",
                "use w[f, c, p, q] with q counting from the window's left column"),
        Reading("kernel", moved, f"{read}: window and kernel are lined up wrong",
                "pixel (i * stride + p, j * stride + q) of the padded input pairs with w[f, c, p, q]"),
    )


def _channel_readings():
    return (
        Reading("channels", lambda p: p.found is not None and p.found[1] == 2 and p.index[1] == 0,
                "a single 1 in w{index} changes {part} as if it sat at w{found}: "
                "the channels are read in reverse",
                "channel c of x pairs with w[f, c], in the same order"),
        Reading("channels", lambda p: p.found is not None and p.found[1] != p.index[1],
                "a single 1 in w{index} changes {part} as if it sat at w{found}: "
                "channel c of x meets the kernel of another channel",
                "channel c of x pairs with w[f, c]"),
    )


def _dout_readings():
    """Where a single 2 in dout[0, 0, 0, 1] lands in a backward pass's ``part``."""
    read = "a single 2 in dout{index} changes {part} as if it sat at dout{found}"
    return (
        Reading("dout", lambda p: p.found is not None and tuple(p.found[2:]) == tuple(p.index[2:][::-1]),
                f"{read}: dout is read transposed (dout[n, f, j, i])",
                "output (i, j) sends back dout[n, f, i, j]: row index first"),
        Reading("window_offset", lambda p: p.found is not None and not any(p.found[2:]),
                f"{read}: every window's gradient lands at the first window",
                "window (i, j) starts at row i * stride, column j * stride: add that offset"),
        Reading("dout", lambda p: p.found is not None and tuple(p.found) != tuple(p.index),
                f"{read}: output (i, j) sends its gradient to the wrong place",
                "output (i, j) reads the window starting at (i * stride, j * stride)"),
        Reading("dout_scale", lambda p: p.found is not None and abs(p.alpha - 0.5) < 1e-9,
                "a single 2 in dout{index} reaches {part} at the right place but as a 1: "
                "it is not multiplied by dout",
                "multiply the local derivative by dout[n, f, i, j]"),
    )


def conv_rungs(words, backward=False):
    """The conv ladder's rungs; ``words`` names the output in sentences ("out", "dx, dw, db")."""
    core_impulses = (
        (Impulse("dout", (0, 0, 0, 1), _dout_readings(), value=2.0),) if backward else
        (Impulse("w", (0, 0, 0, 1), _kernel_readings(),
                 changes={"HH": 4, "WW": 4, "H": 6, "W": 6}),))
    channel_impulses = () if backward else (
        Impulse("w", (0, 0, 1, 1), _channel_readings(), changes={"C": 3}),)
    with_bias = {"bias": True}
    return (
        Rung("kernel", {}, "", f"the sum over one window: {words} at (i, j) adds "
             "x_pad[n, c, i * stride + p, j * stride + q] * w[f, c, p, q] over c, p and q",
             impulses=core_impulses),
        Rung("bias", with_bias, "cases with a bias (b != 0)",
             "where b[f] is used: it is added once to every output of filter f"),
        Rung("channels", {"C": 3, **with_bias}, "cases with C > 1 channels",
             "the sum over channels: channel c of x pairs with w[f, c], every channel once",
             impulses=channel_impulses),
        Rung("filters", {"F": 3, **with_bias}, "cases with F > 1 filters",
             "how filter f picks its kernel w[f] and bias b[f], and where its output is written"),
        Rung("batch", {"N": 3, **with_bias}, "cases with N > 1 images",
             "the loop over images: image n reads x[n] and writes only its own outputs"),
        Rung("pad", {"pad": 1, **with_bias}, "cases with pad > 0",
             "the padding: np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))) pads H and W "
             "only, on both sides"),
        Rung("stride", {"stride": 2, "H": 5, "W": 5, **with_bias}, "cases with stride > 1",
             "where each window starts: row i * stride, column j * stride",
             refine=(
                 Rung("stride_rows", {"stride": 2, "H": 5, "W": 3, **with_bias},
                      "along the rows (H)",
                      "how the window's row start uses the stride: row i * stride"),
                 Rung("stride_cols", {"stride": 2, "H": 3, "W": 5, **with_bias},
                      "along the columns (W)",
                      "how the window's column start uses the stride: column j * stride"),
             )),
        Rung("height_width", {"H": 4, "W": 6, **with_bias}, "cases with H != W",
             "which sizes come from H and which from W: H' from H and HH, W' from W and WW"),
        Rung("kernel_shape", {"HH": 2, "WW": 3, **with_bias}, "cases with a non-square kernel",
             "the window's size: HH = w.shape[2] rows and WW = w.shape[3] columns"),
        Rung("output_size", {"H": 6, "W": 6, "stride": 2, **with_bias},
             "cases where the stride does not divide H + 2 * pad - HH",
             "the output size: H' = 1 + (H + 2 * pad - HH) // stride (floor division)"),
        Rung("combined", {"N": 2, "C": 2, "F": 3, "H": 7, "W": 6, "HH": 3, "WW": 2, "stride": 2,
                          "pad": 1, **with_bias}, "cases that change several sizes at once",
             "indices that only go wrong when N, C, F, H, W differ from each other"),
    )


CONV_FACTORS = (
    Factor("N", lambda g: g["N"], "batch", "sum over the images; do not average over N",
           "divided by"),
    Factor("C", lambda g: g["C"], "channels"),
    Factor("F", lambda g: g["F"], "filters"),
)
# A forward pass: image n's outputs come from x[n] alone (no sum over images to speak of).
CONV_FORWARD_FACTORS = (
    Factor("N", lambda g: g["N"], "batch",
           "image n's outputs come from x[n] alone: nothing is divided by the number of images",
           "divided by"),
    *CONV_FACTORS[1:],
)
CONV_FACTOR_PROBE = {"N": 2, "C": 3, "F": 4}


def _conv_ladder(words, backward=False, extra=(), replace=(), base=CONV_BASE):
    """The conv ladder; ``extra`` rungs go after the batch rung, ``replace`` rungs take
    the place of the rung with the same ``changes``."""
    swaps = {tuple(sorted(r.changes.items())): r for r in replace}
    rungs = tuple(swaps.get(tuple(sorted(r.changes.items())), r) for r in conv_rungs(words, backward))
    return Ladder(base, conv_probe, rungs[:5] + extra + rungs[5:],
                  CONV_FACTORS if backward else CONV_FORWARD_FACTORS,
                  CONV_FACTOR_PROBE, "dout" if backward else "",
                  base_says="the simplest probe (one image, one channel, one filter, a 3x3 "
                            "kernel, stride 1, no padding, no bias)")


# ------------------------------------------------------------------ pool probes


def pool_probe(g, rng):
    return cases.pool_case("probe", rng, (g["N"], g["C"], g["H"], g["W"]), g["ph"], g["pw"],
                            g["stride"], g.get("values", "tie-free"))


POOL_BASE = {"N": 1, "C": 1, "H": 2, "W": 2, "ph": 2, "pw": 2, "stride": 2}  # one window
_SEVERAL_WINDOWS = {"H": 4, "W": 4}


def _window_of(p, index):
    s = p.case.inputs["pool_param"]
    return (slice(index[2] * s["stride"], index[2] * s["stride"] + s["pool_height"]),
            slice(index[3] * s["stride"], index[3] * s["stride"] + s["pool_width"]))


def _landed_in_first_window(p):
    rows, cols = _window_of(p, (0, 0, 0, 0))
    inside = np.zeros(p.actual.shape, bool)
    inside[:, :, rows, cols] = True
    return any(p.index[2:]) and p.actual.any() and not p.actual[~inside].any()


def _landed_on(pick):
    """True when the gradient sits on the window's ``pick`` (np.argmin, ...) pixel."""

    def matches(p):
        rows, cols = _window_of(p, p.index)
        window = p.case.inputs["x"][p.index[0], p.index[1], rows, cols]
        r, c = np.unravel_index(pick(window), window.shape)
        spot = np.zeros(p.actual.shape, bool)
        spot[p.index[0], p.index[1], rows.start + r, cols.start + c] = True
        return bool(p.actual[spot].all() and not p.actual[~spot].any())

    return matches


_POOL_OFFSET = Reading("window_offset", _landed_in_first_window,
                       "a single 2 in dout{index} lands inside the first window, not in its own",
                       "window (i, j) covers rows i * stride + p and columns j * stride + q: "
                       "add the window's start to the position inside it")
_MAX_ARGMIN = Reading("argmax", _landed_on(np.argmin),
                      "a single 2 in dout{index} lands on its window's minimum",
                      "the gradient goes to the window's maximum (np.argmax), the pixel the "
                      "forward pass picked")


def _pool_rungs(words, impulses=(), base_impulses=(), backward=False):
    return (
        Rung("window", {}, "", f"one window: {words}", impulses=base_impulses),
        Rung("stride", _SEVERAL_WINDOWS, "cases with several windows",
             "where each window starts: row i * stride, column j * stride", impulses=impulses,
             refine=(
                 Rung("stride_rows", {"H": 4, "W": 2}, "along the rows (H)",
                      "how the window's row start uses the stride: row i * stride"),
                 Rung("stride_cols", {"H": 2, "W": 4}, "along the columns (W)",
                      "how the window's column start uses the stride: column j * stride"),
             )),
        Rung("channels", {"C": 3}, "cases with C > 1 channels",
             "the loop over channels: channel c reads x[n, c] and writes only its own outputs"),
        Rung("batch", {"N": 3}, "cases with N > 1 images",
             "the loop over images: image n reads x[n] and writes only its own outputs"),
        Rung("stride", {"stride": 3, "H": 5, "W": 5}, "cases where the stride differs from the window",
             "where each window starts: row i * stride, column j * stride",
             refine=(
                 Rung("stride_rows", {"stride": 3, "H": 5, "W": 2}, "along the rows (H)",
                      "how the window's row start uses the stride: row i * stride"),
                 Rung("stride_cols", {"stride": 3, "H": 2, "W": 5}, "along the columns (W)",
                      "how the window's column start uses the stride: column j * stride"),
             )),
        Rung("overlap", {"stride": 1, "H": 3, "W": 3}, "cases with overlapping windows (stride < window)",
             "pixels that belong to several windows: each window adds (+=) its share" if backward
             else "windows that share pixels: window (i, j) reads rows i * stride to "
                  "i * stride + pool_height - 1 whatever its neighbours read"),
        Rung("height_width", {"H": 4, "W": 6}, "cases with H != W",
             "which sizes come from H and which from W: H' from H and pool_height, W' from W "
             "and pool_width"),
        Rung("window_shape", {"pw": 3, "H": 4, "W": 6}, "cases with pool_height != pool_width",
             "the window's size: pool_height rows and pool_width columns"),
        Rung("output_size", {"H": 5, "W": 5}, "cases where the stride does not divide H - pool_height",
             "the output size: H' = 1 + (H - pool_height) // stride (floor division)"),
        Rung("combined", {"N": 2, "C": 3, "H": 7, "W": 6, "ph": 3, "pw": 2, "stride": 2},
             "cases that change several sizes at once",
             "indices that only go wrong when N, C, H, W and the window differ from each other"),
    )


POOL_FACTORS = (
    Factor("pool_height * pool_width", lambda g: g["ph"] * g["pw"], "divisor",
           "each output is the mean of pool_height * pool_width pixels"),
    Factor("pool_width", lambda g: g["pw"], "divisor",
           "divide by pool_height * pool_width, not by pool_height alone", "times"),
    Factor("pool_height", lambda g: g["ph"], "divisor",
           "divide by pool_height * pool_width, not by pool_width alone", "times"),
    Factor("N", lambda g: g["N"], "batch"),
    Factor("C", lambda g: g["C"], "channels"),
)
POOL_FACTOR_PROBE = {"N": 2, "C": 5, "ph": 2, "pw": 3, "H": 4, "W": 6}


_TIES = Rung("ties", {"values": "ties", "H": 4, "W": 4}, "cases where a window holds several "
             "equal maxima (an all-zero window too)",
             "which pixel gets dout[n, c, i, j] when its window holds equal maxima: only the "
             "first one in row-major order, once (np.argmax(window) gives it); a mask "
             "window == window.max() gives it to every tied pixel")


def _pool_ladder(words, impulses=(), base_impulses=(), backward=False, extra=()):
    factors = POOL_FACTORS
    if backward:  # a backward pass shares dout out; it does not take a mean
        factors = (Factor("pool_height * pool_width", POOL_FACTORS[0].value, "divisor",
                          "each pixel of the window gets dout[n, c, i, j] / (pool_height * "
                          "pool_width)"), *POOL_FACTORS[1:])
    return Ladder(POOL_BASE, pool_probe,
                  _pool_rungs(words, impulses, base_impulses, backward) + extra, factors,
                  POOL_FACTOR_PROBE, "dout" if backward else "", factor_aspect="divisor",
                  base_says="the simplest probe (one image, one channel, a single 2x2 window)")


# --------------------------------------------------------------- convnet probes


def convnet_probe(g, rng):
    return cases.convnet_case("probe", rng, g["N"], (g["C"], g["H"], g["W"]), g["F"], g["size"],
                               g["hidden"], g["classes"], g["reg"], g["labelled"],
                               g.get("scores", "moderate"))


CONVNET_BASE = {"N": 1, "C": 1, "H": 4, "W": 4, "F": 2, "size": 3, "hidden": 3, "classes": 3,
                "reg": 0.0, "labelled": False}

# Going backward, the first layer whose gradients are wrong holds the bug.
_LAYERS = (
    ("layer3", ("W3", "b3"), "the output affine layer's backward (affine_backward with cache3)"),
    ("layer2", ("W2", "b2"), "the hidden block's backward (affine_relu_backward with cache2: "
                             "the ReLU's gradient included)"),
    ("layer1", ("W1", "b1"), "the first block's backward (conv_relu_pool_backward with cache1)"),
)


def _reg_factor(result, key):
    """c when grads[key] = expected + c * reg * params[key], else None."""
    expected, actual = result.wrong[f"grads[{key!r}]"]
    spec = result.case.inputs["model"]
    term = spec["reg"] * spec["params"][key]
    if not isinstance(actual, np.ndarray) or actual.shape != term.shape or not term.any():
        return None
    c = float(np.sum((actual - expected) * term) / np.sum(term * term))
    return c if np.allclose(actual, expected + c * term, rtol=1e-7, atol=1e-10) else None


def convnet_parts(rung, result):
    """Which gradient keys are wrong, and a regularisation factor when there is one."""
    from .probes import Finding

    if rung.aspect == "stability":  # every gradient is NaN: the rung's own words say where
        return None
    order = ("W1", "b1", "W2", "b2", "W3", "b3")
    wrong = {name.split("'")[1] for name in result.wrong if name.startswith("grads")}
    if rung.aspect == "reg" and wrong:
        factors = {k: _reg_factor(result, k) for k in order if k in wrong}
        if all(f is not None for f in factors.values()):
            keys = ", ".join(f"grads[{k!r}]" for k in factors)
            c = next(iter(factors.values()))
            if any(k.startswith("b") for k in factors):
                return Finding("reg", (
                    f"where to look: {keys} hold an extra {c:g} * reg * b, but the biases are "
                    f"not regularised. Fix: add reg * W to the gradients of W1, W2, W3 only, and "
                    f"leave the biases out of the penalty too"))
            used = "no reg * W term" if abs(1 + c) < 1e-9 else f"{1 + c:g} * reg * W"
            return Finding("reg", (
                f"where to look: {keys} hold {used} where the gradient of 0.5 * reg * sum(W**2) "
                f"is reg * W. Fix: add model.reg * W to each weight's gradient, once"))
    for aspect, keys, look in _LAYERS:
        if wrong & set(keys):
            right = [k for k in order if k not in wrong]
            return Finding(aspect, (
                f"where to look: {rung.says or 'the simplest labelled probe'} gives wrong "
                f"{', '.join(k for k in order if k in wrong)} (right: {', '.join(right) or 'none'}); "
                f"going backward the first wrong ones are "
                f"{' and '.join(k for k in keys if k in wrong)}: look at {look}"))
    return None


CONVNET_LADDER = Ladder(
    CONVNET_BASE, convnet_probe,
    (
        Rung("scores", {}, "", "the forward pass: conv - relu - 2x2 max pool, affine - relu, "
             "affine; each layer's output feeds the next"),
        Rung("data_loss", {"labelled": True}, "the probe with labels (one image, reg = 0)",
             "softmax_loss(scores, y) and the backward passes in reverse order"),
        Rung("data_loss", {"labelled": True, "N": 3}, "probes with N > 1 images",
             "the loss and gradients are averages over the N images, taken once (softmax_loss does it)"),
        Rung("reg", {"labelled": True, "N": 2, "reg": 0.3}, "probes with reg > 0",
             "the regularisation: loss += 0.5 * reg * (sum(W1**2) + sum(W2**2) + sum(W3**2)) "
             "and grads[W] += reg * W, for the weights only"),
        Rung("combined", {"labelled": True, "N": 2, "C": 2, "H": 6, "W": 5, "F": 3, "reg": 0.1},
             "probes that change several sizes at once",
             "the shapes handed from layer to layer (reshape of the pooled output)"),
        Rung("stability", {"labelled": True, "N": 3, "scores": "large"},
             "probes with large scores (about +-1000)",
             "the softmax: subtract each row's maximum before np.exp (the probabilities do not "
             "change), and take the log of the shifted scores, shifted - log(sum(exp(shifted))), "
             "not np.log of a probability that rounds to 0"),
    ),
    factors=(Factor("N", lambda g: g["N"], "data_loss",
                    "softmax_loss already averages the loss and dscores over the N images: "
                    "remove the extra division by N", "divided by"),),
    factor_probe={"N": 3},
    parts_say=convnet_parts,
    base_says="the simplest probe (one 1x4x4 image, two filters, no labels)",
)


LADDERS = {
    "conv_forward": _conv_ladder("out"),
    "conv_backward": _conv_ladder("dx, dw, db", backward=True),
    "conv_forward_im2col": _conv_ladder("out", extra=(
        Rung("layout", {"N": 2, "F": 2, "bias": True}, "cases with N > 1 and F > 1 together",
             "how the (F, N * H' * W') product becomes (N, F, H', W'): reshape to (F, N, H', W'), "
             "then transpose(1, 0, 2, 3)"),), replace=(
        Rung("pad", {"pad": 1, "bias": True}, "cases with pad > 0",
             "the call to im2col: im2col(x, HH, WW, stride=stride, pad=pad) pads for you; "
             "pass pad by keyword, and do not pad x yourself as well"),
        # No loop over channels here: with C > 1 it is the order w is flattened in.
        Rung("kernel", {"C": 3, "bias": True}, "cases with C > 1 channels",
             "how w is flattened: w.reshape(F, -1) lists (c, p, q) in the order of im2col's "
             "rows; a transpose before it mixes channels and kernel positions"),)),
    "conv_backward_im2col": _conv_ladder("dx, dw, db", backward=True, extra=(
        Rung("layout", {"N": 2, "F": 2, "bias": True}, "cases with N > 1 and F > 1 together",
             "how dout (N, F, H', W') becomes the product's (N, F, H' * W'): "
             "dout.reshape(N, F, -1), one (F, P) matrix per image; dw sums the N products"),),
        replace=(
            Rung("pad", {"pad": 1, "bias": True}, "cases with pad > 0",
                 "the call to col2im: col2im(dcols, x.shape, HH, WW, stride=stride, pad=pad) "
                 "crops the padding for you; pass pad by keyword"),
            # No loop over channels here: with C > 1 it is the order dw is unflattened in.
            Rung("channels", {"C": 3, "bias": True}, "cases with C > 1 channels",
                 "how dw_row (F, C * HH * WW) goes back to w's shape: dw_row.reshape(w.shape), "
                 "taps in im2col's row order (c, p, q); and dcols = W_row.T @ dout, not W_row"),)),
    "conv_forward_dilated": _conv_ladder("out", extra=(
        Rung("dilation", {"dilation": 2, "H": 7, "W": 7, "bias": True}, "cases with dilation > 1",
             "where tap (p, q) reads: row i * stride + p * dilation, column j * stride + "
             "q * dilation (the window starts at i * stride, undilated)",
             size_look="the output size with the dilated kernel's span: H' = 1 + (H + 2 * pad - "
                       "(dilation * (HH - 1) + 1)) // stride, and likewise W'",
             refine=(
                 Rung("dilation_rows", {"dilation": 2, "H": 7, "W": 3, "WW": 1, "bias": True},
                      "along the rows (H)", "the row that tap p reads: i * stride + p * dilation"),
                 Rung("dilation_cols", {"dilation": 2, "H": 3, "W": 7, "HH": 1, "bias": True},
                      "along the columns (W)",
                      "the column that tap q reads: j * stride + q * dilation"),
             )),), base={**CONV_BASE, "dilation": 1}),
    "max_pool_forward": _pool_ladder("out[n, c, i, j] is the maximum of the window at row "
                                     "i * stride, column j * stride"),
    "avg_pool_forward": _pool_ladder("out[n, c, i, j] is the mean of the window at row "
                                     "i * stride, column j * stride"),
    "max_pool_backward": _pool_ladder(
        "dout[n, c, i, j] goes to the position of the window's maximum",
        (Impulse("dout", (0, 0, 0, 1), (*_dout_readings()[:1], _POOL_OFFSET, _MAX_ARGMIN,
                                        *_dout_readings()[1:]), value=2.0),),
        (Impulse("dout", (0, 0, 0, 0), (_MAX_ARGMIN,), value=2.0),), backward=True,
        extra=(_TIES,)),
    "avg_pool_backward": _pool_ladder(
        "dout[n, c, i, j] / (pool_height * pool_width) goes to every pixel of the window",
        (Impulse("dout", (0, 0, 0, 1), (*_dout_readings()[:1], _POOL_OFFSET,
                                        *_dout_readings()[1:]), value=2.0),), backward=True),
    "convnet_loss": CONVNET_LADDER,
}

# Notebook 6 (issue 25): normalisation, declared in grader.diagnosis.norm_ladders.
LADDERS.update(norm_ladders.NORM_LADDERS)
