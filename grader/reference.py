"""What a correct function returns on a case, computed with conv_lib."""

import numpy as np

from conv_lib import (
    avg_pool_backward_fast,
    avg_pool_forward_fast,
    conv_backward_fast,
    conv_forward_fast,
    max_pool_backward_fast,
    max_pool_forward_fast,
)

# The parts of each task's return value that get judged, in order.
PARTS = {
    "conv_forward": ("out",),
    "conv_forward_im2col": ("out",),
    "conv_backward": ("dx", "dw", "db"),
    "max_pool_forward": ("out",),
    "avg_pool_forward": ("out",),
    "max_pool_backward": ("dx",),
    "avg_pool_backward": ("dx",),
}


def rel_error(x, y):
    """max |x - y| / max(1e-8, |x| + |y|), in float64."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y)), initial=0.0))


def _conv_forward(i):
    return conv_forward_fast(i["x"], i["w"], i["b"], i["conv_param"])


def output(task, case):
    """The reference result of ``task`` on ``case``: an array, or a tuple for conv_backward."""
    i = case.inputs
    if task in ("conv_forward", "conv_forward_im2col"):
        return _conv_forward(i)[0]
    if task == "conv_backward":
        return conv_backward_fast(i["dout"], _conv_forward(i)[1])
    pool = {"max": (max_pool_forward_fast, max_pool_backward_fast),
            "avg": (avg_pool_forward_fast, avg_pool_backward_fast)}[task[:3]]
    out, cache = pool[0](i["x"], i["pool_param"])
    return out if task.endswith("forward") else pool[1](i["dout"], cache)


def parts(task, result):
    """Split a result into its named parts: {"out": ...} or {"dx": ..., "dw": ..., "db": ...}."""
    names = PARTS[task]
    return dict(zip(names, result)) if len(names) > 1 else {names[0]: result}
