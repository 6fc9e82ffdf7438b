"""Notebook 5's network, built on the layers the student wrote in notebooks 3 and 4.

``layers_from_notebooks`` fetches the student's conv_forward_im2col and
conv_backward_im2col (notebook 4) and max_pool_forward_naive and
max_pool_backward_naive (notebook 3), tries each pair once against conv_lib
on a small case, times the pooling on a training batch, and returns a
conv_lib.ConvReluPool with theirs where they work (and, for pooling, are fast
enough to train in seconds) and conv_lib's otherwise, plus one sentence that
says which is which and why. It never raises: a missing or broken notebook
only costs the student's layer its place in the network.
"""

import contextlib
import io
import time
from pathlib import Path

import numpy as np

from conv_lib import (
    ConvReluPool,
    conv_backward_fast,
    conv_forward_fast,
    max_pool_backward_fast,
    max_pool_forward_fast,
)
from conv_lib.gradient_check import rel_error

from .checks import quiet
from .notebook_code import function_from_notebook

CONV = ("04_im2col/im2col.ipynb", "conv_forward_im2col", "conv_backward_im2col")
POOL = ("03_pooling/pooling.ipynb", "max_pool_forward_naive", "max_pool_backward_naive")
TOLERANCE = 1e-6
TRAINING_CALLS = 500  # forward-backward pairs in notebook 5's training, accuracy checks included
TRAINING_BATCH = (50, 16, 8, 8)  # what the pool layer sees in notebook 5: 16 maps of 8x8
BUDGET_SECONDS = 20.0


def _fetch(folder, notebook, name):
    """(function, None) or (None, why it is left out)."""
    said = io.StringIO()
    with contextlib.redirect_stdout(said):
        fn = function_from_notebook(Path(folder) / notebook, name)
    if fn is None:
        reason = said.getvalue().strip().splitlines()
        return None, reason[-1].removesuffix(", so it is left out") if reason else f"{name}: not found"
    return fn, None


def _compare(function, label, ours, theirs):
    """None when every array ``function`` returned matches conv_lib's, else a short reason."""
    ours = ours if isinstance(ours, tuple) else (ours,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    for name, a, b in zip(label.split(", "), ours, theirs):
        a = np.asarray(a)
        if a.shape != b.shape:
            return f"{function}'s {name} has shape {a.shape}, not {b.shape}, on a quick self-test"
        error = rel_error(a.astype(np.float64), b)
        if not error < TOLERANCE:
            return f"{function}'s {name} is off by rel_error {error:.0e} on a quick self-test"
    return None


def _self_test(forward, backward, forward_args, fast_forward, fast_backward, parts):
    """None when forward and backward agree with conv_lib on one case, else why not."""
    rng = np.random.default_rng(0)
    with quiet():
        try:
            out, cache = forward(*forward_args)
            reference, fast_cache = fast_forward(*forward_args)
            problem = _compare(forward.__name__, "out", out, reference)
            if problem:
                return problem
            dout = rng.standard_normal(reference.shape)
            return _compare(backward.__name__, parts, backward(dout, cache),
                            fast_backward(dout, fast_cache))
        except Exception as error:  # noqa: BLE001 - the student's bug, reported in words
            message = str(error).splitlines()[0][:120] if str(error) else ""
            return f"a quick self-test raised {type(error).__name__}: {message}"


def _seconds_to_train(forward, backward):
    """Seconds the pool layer alone would add to notebook 5's training."""
    x = np.random.default_rng(1).standard_normal(TRAINING_BATCH).astype(np.float32)
    param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    with quiet():
        start = time.perf_counter()
        out, cache = forward(x, param)
        backward(np.ones_like(out), cache)
        return (time.perf_counter() - start) * TRAINING_CALLS


def layers_from_notebooks(folder=".."):
    """(ConvReluPool, sentence): the student's layers where they work, conv_lib's elsewhere.

    ``folder`` holds the course's assignment folders (``..`` from a notebook).
    """
    rng = np.random.default_rng(2)
    chosen, said = {}, []

    notebook, forward_name, backward_name = CONV
    conv_args = (rng.standard_normal((2, 2, 6, 5)), rng.standard_normal((3, 2, 3, 3)),
                 rng.standard_normal(3), {"stride": 1, "pad": 1})
    forward, why = _fetch(folder, notebook, forward_name)
    backward, why_backward = _fetch(folder, notebook, backward_name) if forward else (None, None)
    why = why or why_backward or _self_test(forward, backward, conv_args, conv_forward_fast,
                                            conv_backward_fast, "dx, dw, db")
    if why:
        said.append(f"conv_lib's conv layer ({why})")
    else:
        chosen.update(conv_forward=forward, conv_backward=backward)
        said.append(f"YOUR {forward_name} and {backward_name}")

    notebook, forward_name, backward_name = POOL
    x = (rng.permutation(2 * 3 * 6 * 6).reshape(2, 3, 6, 6) + 0.5) / 100  # no ties
    pool_args = (x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    forward, why = _fetch(folder, notebook, forward_name)
    backward, why_backward = _fetch(folder, notebook, backward_name) if forward else (None, None)
    why = why or why_backward or _self_test(forward, backward, pool_args, max_pool_forward_fast,
                                            max_pool_backward_fast, "dx")
    if not why:
        seconds = _seconds_to_train(forward, backward)
        if seconds > BUDGET_SECONDS:
            why = (f"your loops would add about {seconds:.0f} s to the training; conv_lib's "
                   f"take milliseconds")
    if why:
        said.append(f"conv_lib's max pool ({why})")
    else:
        chosen.update(pool_forward=forward, pool_backward=backward)
        said.append(f"YOUR {forward_name} and {backward_name}")
    return ConvReluPool(**chosen), "The network's conv - relu - pool block runs " + "; ".join(said) + "."
