"""The probe ladders of notebook 6's tasks (spatial batch norm, group norm), as data for
grader.diagnosis.probes; grader.diagnosis.ladders adds them to LADDERS."""

from . import norm_cases
from .probes import Finding, Ladder, Rung

RUNNING = ("bn_param['running_mean']", "bn_param['running_var']")


def running_only(rung, result):
    """out right, a running average wrong: the update of bn_param is the place to look."""
    if result.wrong and set(result.wrong) <= set(RUNNING) and rung.aspect != "test_mode":
        return Finding("running", (
            f"where to look: out is right but {' and '.join(sorted(result.wrong))} "
            f"{'is' if len(result.wrong) == 1 else 'are'} not, on {rung.says or 'the simplest probe'}: "
            "in train mode store running_mean = momentum * running_mean + (1 - momentum) * mean "
            "(the same for running_var) back in bn_param"))
    return None


def batchnorm_probe(g, rng):
    return norm_cases.batchnorm_case("probe", rng, (g["N"], g["C"], g["H"], g["W"]), g["mode"],
                                     g["momentum"], g["eps"], g["running"])


def groupnorm_probe(g, rng):
    return norm_cases.groupnorm_case("probe", rng, (g["N"], g["C"], g["H"], g["W"]), g["G"], g["eps"])


BATCHNORM_BASE = {"N": 2, "C": 1, "H": 1, "W": 2, "mode": "train", "momentum": 0.9, "eps": 1e-5,
                  "running": True}
# Three values a group at least: with two, x_hat is +-1 whatever x is, so dx is about 0.
GROUPNORM_BASE = {"N": 1, "C": 1, "H": 1, "W": 3, "G": 1, "eps": 1e-5}
# A constant factor is named on several channels: with one, every wrong dgamma is "a factor".
FACTOR_PROBE = {"C": 4, "H": 2, "W": 3}

_BATCHNORM_STATISTICS = ("the mean and (biased) variance of the channel over its N * H * W "
                         "values, std = np.sqrt(var + eps), out = gamma * (x - mean) / std + beta")
_BATCHNORM_CHANNELS = ("how x becomes one row per pixel and one column per channel: "
                       "x.transpose(0, 2, 3, 1).reshape(-1, C), and back with "
                       "reshape(N, H, W, C).transpose(0, 3, 1, 2)")
_BATCHNORM_SPATIAL = ("the axes the statistics run over: N, H and W together, one mean and "
                      "variance per channel")


def _batchnorm_rungs(backward):
    rungs = [
        Rung("gradient" if backward else "statistics", {}, "", _BATCHNORM_STATISTICS if not backward else
             "the gradient of one channel: g = dout * gamma, dx = (g - mean(g) - x_hat * "
             "mean(g * x_hat)) / std, dgamma = sum(dout * x_hat), dbeta = sum(dout)"),
        Rung("channels", {"C": 3}, "cases with C > 1 channels", _BATCHNORM_CHANNELS),
        Rung("spatial", {"C": 2, "H": 2, "W": 3}, "cases with images larger than 1x2",
             _BATCHNORM_SPATIAL, refine=(
                 Rung("spatial", {"C": 1, "H": 3, "W": 2}, "with one channel",
                      _BATCHNORM_SPATIAL),)),
        Rung("batch", {"N": 3, "C": 2, "H": 2, "W": 2}, "cases with N = 3 images",
             "the batch axis: statistics include all N images"),
    ]
    if backward:
        return tuple(rungs)
    return (*rungs,
            Rung("running", {"C": 2, "momentum": 0.6}, "cases with momentum other than 0.9",
                 "the running averages: running_mean = momentum * running_mean + "
                 "(1 - momentum) * mean, the same for running_var, with bn_param's momentum"),
            Rung("running", {"C": 2, "running": False}, "cases whose bn_param has no running "
                 "averages yet", "the first call: start from zeros, "
                 "bn_param.get('running_mean', np.zeros(C)), and store both back in bn_param"),
            Rung("test_mode", {"C": 2, "mode": "test"}, "cases in test mode",
                 "test mode: normalise with bn_param['running_mean'] and ['running_var'] and "
                 "leave them as they are"),
            Rung("eps", {"C": 2, "eps": 0.5}, "cases with a large eps",
                 "where eps goes: std = np.sqrt(var + eps)"))


_GROUPNORM_LOOK = ("the groups: x.reshape(N, G, -1), statistics over axis 2 (a group's C // G "
                   "channels and all their pixels), then back to x's shape")


def _groupnorm_rungs(backward):
    look = ("the gradient of one group: g = dout * gamma, dx = (g - mean(g) - x_hat * "
            "mean(g * x_hat)) / std per (image, group); dgamma and dbeta sum over N, H, W "
            "with keepdims") if backward else ("the statistics of one group: mean and biased "
                                               "variance, std = np.sqrt(var + eps)")
    return (
        Rung("gradient" if backward else "statistics", {}, "", look),
        Rung("groups", {"C": 2, "G": 2}, "cases with G = C (one channel a group)", _GROUPNORM_LOOK),
        Rung("groups", {"C": 2, "G": 1}, "cases with G = 1 and C > 1 (layer norm)", _GROUPNORM_LOOK),
        Rung("groups", {"C": 4, "G": 2}, "cases with 1 < G < C", _GROUPNORM_LOOK),
        Rung("spatial", {"C": 4, "G": 2, "H": 3, "W": 2}, "cases with images larger than 1x3",
             "a group's statistics cover all H * W pixels of its channels"),
        Rung("batch", {"N": 3, "C": 4, "G": 2}, "cases with N > 1 images",
             "each image is normalised on its own: statistics per (n, group), never over N"),
        Rung("eps", {"C": 2, "G": 1, "eps": 0.5}, "cases with a large eps",
             "where eps goes: std = np.sqrt(var + eps)"),
    )


NORM_LADDERS = {
    "spatial_batchnorm_forward": Ladder(
        BATCHNORM_BASE, batchnorm_probe, _batchnorm_rungs(False), factor_probe=FACTOR_PROBE,
        parts_say=running_only, base_says="the simplest probe (one channel, two 1x2 images, train mode)"),
    "spatial_batchnorm_backward": Ladder(
        BATCHNORM_BASE, batchnorm_probe, _batchnorm_rungs(True), factor_probe=FACTOR_PROBE,
        linear_in="dout",
        base_says="the simplest probe (one channel, two 1x2 images)"),
    "spatial_groupnorm_forward": Ladder(
        GROUPNORM_BASE, groupnorm_probe, _groupnorm_rungs(False),
        factor_probe={**FACTOR_PROBE, "G": 2},
        base_says="the simplest probe (one 1x3 image, one channel, G = 1)"),
    "spatial_groupnorm_backward": Ladder(
        GROUPNORM_BASE, groupnorm_probe, _groupnorm_rungs(True), linear_in="dout",
        factor_probe={**FACTOR_PROBE, "G": 2},
        base_says="the simplest probe (one 1x3 image, one channel, G = 1)"),
}
