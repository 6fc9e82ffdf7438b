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
from conv_lib.gradient_check import rel_error  # noqa: F401 - the judge's measure


def _conv_forward(i):
    return conv_forward_fast(i["x"], i["w"], i["b"], i["conv_param"])


def _convnet(i):
    from conv_lib.cnn import ThreeLayerConvNet

    spec = i["model"]
    params = spec["params"]
    f, _, size, _ = params["W1"].shape
    model = ThreeLayerConvNet(
        input_dim=i["X"].shape[1:], num_filters=f, filter_size=size,
        hidden_dim=params["W2"].shape[1], num_classes=params["W3"].shape[1],
        reg=spec["reg"], dtype=np.float64,
    )
    model.params = {k: v.copy() for k, v in params.items()}
    return model.loss(i["X"].copy(), i.get("y"))


def _normalisation(task, i):
    """Notebook 6: the forward's out, with the batch norm's running averages after the call."""
    from conv_lib import normalization

    from .inputs import snapshot
    from .norm_cases import batchnorm_cache

    if task == "spatial_batchnorm_forward":
        param = snapshot(i["bn_param"])
        out, _ = normalization.spatial_batchnorm_forward(i["x"], i["gamma"], i["beta"], param)
        return out, param["running_mean"], param["running_var"]
    if task == "spatial_batchnorm_backward":
        return normalization.spatial_batchnorm_backward(i["dout"], batchnorm_cache(i))
    out, cache = normalization.spatial_groupnorm_forward(i["x"], i["gamma"], i["beta"], i["G"],
                                                         i["gn_param"])
    return out if task.endswith("forward") else normalization.spatial_groupnorm_backward(
        i["dout"], cache)


def output(task, case):
    """The reference result of ``task`` on ``case``: an array, or a tuple for
    conv_backward and for convnet_loss with labels."""
    i = case.inputs
    if task.startswith("spatial_"):
        return _normalisation(task, i)
    if task == "convnet_loss":
        return _convnet(i)
    if task in ("conv_forward", "conv_forward_dilated", "conv_forward_im2col"):
        return _conv_forward(i)[0]
    if task in ("conv_backward", "conv_backward_im2col"):
        return conv_backward_fast(i["dout"], _conv_forward(i)[1])
    pool = {"max": (max_pool_forward_fast, max_pool_backward_fast),
            "avg": (avg_pool_forward_fast, avg_pool_backward_fast)}[task[:3]]
    out, cache = pool[0](i["x"], i["pool_param"])
    return out if task.endswith("forward") else pool[1](i["dout"], cache)


def parts(task, case, result):
    """Split a result into its named parts: {"out": ...} or {"dx": ..., "dw": ..., "db": ...}."""
    from .tasks import TASKS

    if task == "convnet_loss":
        if case.inputs.get("y") is None:
            return {"scores": result}
        loss, grads = result
        return {"loss": np.asarray(loss, dtype=np.float64),
                **{f"grads[{k!r}]": v for k, v in grads.items()}}
    names = TASKS[task].parts
    return dict(zip(names, result)) if len(names) > 1 else {names[0]: result}
