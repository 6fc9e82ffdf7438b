"""Issue 25: notebook 6's tasks are graded like the others, in the kernel and in the
sandbox; the running averages a batch norm must leave in bn_param (cs231n's contract) are
judged, while any other input changed in place still fails the case."""

import numpy as np
import pytest

from grader import checks
from grader.diagnosis import inputs, norm_cases
from grader.diagnosis.tasks import ASSIGNMENTS, TASKS

BATCHNORM = '''
import numpy as np

def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    N, C, H, W = x.shape
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    running_mean = bn_param.get("running_mean", np.zeros(C))
    running_var = bn_param.get("running_var", np.zeros(C))
    if bn_param["mode"] == "train":
        mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean
        bn_param["running_var"] = {var_update}
    else:
        mean, var = running_mean, running_var
    x_hat = (x - mean[:, None, None]) / np.sqrt(var[:, None, None] + eps)
    return gamma[:, None, None] * x_hat + beta[:, None, None], None
'''
RIGHT = "momentum * running_var + (1 - momentum) * var"


def _define(source):
    namespace = {}
    exec(source, namespace)
    return namespace["spatial_batchnorm_forward"]


def test_notebook_6_has_four_tasks_with_public_and_hidden_cases():
    assert ASSIGNMENTS["06_normalisation"] == ("spatial_batchnorm_forward", "spatial_batchnorm_backward",
                                               "spatial_groupnorm_forward", "spatial_groupnorm_backward")
    for task in ASSIGNMENTS["06_normalisation"]:
        public = TASKS[task].make_cases()
        hidden = TASKS[task].make_cases(hidden=True, seed=5)
        assert len(public) >= 5 and len(hidden) >= 4
        again = TASKS[task].make_cases(hidden=True, seed=5)
        assert all(np.array_equal(a.inputs["x"], b.inputs["x"]) for a, b in zip(hidden, again))
    modes = {c.inputs["bn_param"]["mode"] for c in norm_cases.spatial_batchnorm_cases()}
    groups = {(c.inputs["G"], c.inputs["x"].shape[1]) for c in norm_cases.spatial_groupnorm_cases()}
    assert modes == {"train", "test"}
    assert {g for g, _ in groups} >= {1, 2, 3, 4} and any(g == c for g, c in groups)


@pytest.mark.parametrize("seed", range(20))
def test_every_channel_and_group_holds_three_values_at_least(seed):
    """With two, x_hat is +-1 whatever x is, and a backward case's dx is about 0."""
    for hidden in (False, True):
        for case in (norm_cases.spatial_batchnorm_cases(hidden, seed)
                     + norm_cases.spatial_batchnorm_backward_cases(hidden, seed)):
            n, _, h, w = case.inputs["x"].shape
            assert n * h * w >= 3
        for case in norm_cases.spatial_groupnorm_cases(hidden, seed):
            x, groups = case.inputs["x"], case.inputs["G"]
            assert x.shape[1] % groups == 0 and x[0].size // groups >= 3


def test_a_right_batch_norm_passes_and_a_wrong_running_average_fails_in_the_kernel(capsys):
    assert all(v.passed for v in checks.run("spatial_batchnorm_forward", _define(BATCHNORM.format(var_update=RIGHT))))
    wrong = _define(BATCHNORM.format(var_update="momentum * running_var + (1 - momentum) * np.sqrt(var)"))
    verdicts = checks.run("spatial_batchnorm_forward", wrong)
    assert [v.passed for v in verdicts] == [c.inputs["bn_param"]["mode"] == "test"
                                            for c in norm_cases.spatial_batchnorm_cases()]
    failing = next(v for v in verdicts if not v.passed)
    assert failing.problems[0].startswith("bn_param['running_var'] has the right shape")


def test_a_batch_norm_that_forgets_to_store_the_averages_is_told_so():
    source = BATCHNORM.format(var_update=RIGHT).replace('bn_param["running_mean"] =', "new_mean =")
    verdicts = checks.run("spatial_batchnorm_forward", _define(source))
    absent = [v for v in verdicts if v.case.shown["running averages"].startswith("absent")]
    assert absent and "bn_param['running_mean'] is missing" in absent[0].problems


def test_only_the_running_averages_may_change_in_place():
    args = ({"running_mean": np.zeros(2), "x": np.zeros(2)},)
    before = inputs.snapshot(args)
    args[0]["running_mean"] = np.ones(2)
    args[0]["x"][0] = 1
    changed = inputs.changed_paths(before, args)
    assert len(changed) == 2
    value, still = inputs.settle("spatial_batchnorm_forward", "out", ({}, {}, {}, args[0]), changed)
    assert value[0] == "out" and still == changed  # paths of argument 4 only are allowed
    value, still = inputs.settle("spatial_batchnorm_forward", "out", (0, 0, 0, args[0]),
                                 [[3, "running_mean"], [3, "x"]])
    assert still == [[3, "x"]] and np.array_equal(value[1][0], np.ones(2)) and value[1][1] is None


def test_grading_in_the_sandbox_judges_the_running_averages():
    from grader.judge import judge_notebook

    wrong = BATCHNORM.format(var_update="momentum * running_var + (1 - momentum) * np.sqrt(var)")
    result = judge_notebook([], [("cell-1", BATCHNORM.format(var_update=RIGHT))],
                            ["spatial_batchnorm_forward"], seed=0)
    assert all(v.passed for v in result.verdicts["spatial_batchnorm_forward"])
    result = judge_notebook([], [("cell-1", wrong)], ["spatial_batchnorm_forward"], seed=0)
    public = [v for v in result.verdicts["spatial_batchnorm_forward"] if v.case.label.startswith("public")]
    assert [v.passed for v in public] == [c.inputs["bn_param"]["mode"] == "test"
                                          for c in norm_cases.spatial_batchnorm_cases()]
    assert any("bn_param['running_var']" in p for v in public for p in v.problems)
    finding = result.findings["spatial_batchnorm_forward"][0]
    assert finding.aspect == "running"


def test_grading_in_the_sandbox_still_fails_a_changed_x():
    from grader.judge import judge_notebook

    source = BATCHNORM.format(var_update=RIGHT).replace("    N, C, H, W = x.shape\n",
                                                        "    N, C, H, W = x.shape\n    x -= 0\n    x[...] = x * 1.5\n")
    result = judge_notebook([], [("cell-1", source)], ["spatial_batchnorm_forward"], seed=0)
    problems = [v.problems[0] for v in result.verdicts["spatial_batchnorm_forward"]
                if v.case.label.startswith("public")]
    assert all(p.startswith("your function changed its input x") for p in problems)


# ------------------------------------------------ hostile and hidden: the bn_param channel

HOSTILE_RUNNING = {
    # a running average far heavier than any honest answer
    "heavy": "np.zeros(40_000_000)",
    # something that is not an array, or cannot cross the pipe
    "text": "'0.5'",
    "object": "type('Odd', (), {})()",
    "nested": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_RUNNING))
def test_whatever_a_function_leaves_in_bn_param_fails_its_case_and_nothing_else(kind):
    from grader.judge import judge_notebook

    source = BATCHNORM.format(var_update=RIGHT).replace(
        '        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean\n',
        f'        bn_param["running_mean"] = {HOSTILE_RUNNING[kind]}\n')
    result = judge_notebook([], [("cell-1", source)], ["spatial_batchnorm_forward"], seed=1)
    verdicts = result.verdicts["spatial_batchnorm_forward"]
    train = [v for v in verdicts if v.case.inputs["bn_param"]["mode"] == "train"]
    test = [v for v in verdicts if v.case.inputs["bn_param"]["mode"] == "test"]
    assert train and not any(v.passed for v in train)
    assert test and all(v.passed for v in test)  # the grading went on, case by case
    public = [p for v in train if v.case.label.startswith("public") for p in v.problems]
    assert public and all(len(p) < 400 for p in public)


def test_a_hidden_case_failing_on_its_running_averages_says_nothing_more():
    from grader.judge import judge_notebook
    from grader.judge.calls import SEALED_WRONG

    # Right on the public cases; on others it writes a value of its choosing: a channel, if
    # the feedback quoted it.
    source = BATCHNORM.format(var_update=RIGHT).replace(
        '        bn_param["running_var"] = ',
        '        bn_param["running_var"] = (np.full(C, 123.456) if x.size not in (120, 12, 3, 60) '
        'else 0) + ')
    verdicts = judge_notebook([], [("cell-1", source)], ["spatial_batchnorm_forward"],
                              seed=3).verdicts["spatial_batchnorm_forward"]
    hidden = [v for v in verdicts if v.case.label.startswith("hidden")
              and v.case.inputs["bn_param"]["mode"] == "train"]
    assert hidden and not any(v.passed for v in hidden)
    assert {tuple(v.problems) for v in hidden} == {(SEALED_WRONG,)}
    assert all(v.passed for v in verdicts if v.case.label.startswith("public"))


def test_a_forged_answer_shape_is_a_sentence_not_a_crash():
    from grader.diagnosis import judge as judging

    case = norm_cases.spatial_batchnorm_cases()[0]
    for forged in ("text", (None,), ((np.zeros(1), None), (1,)), ((np.zeros(1), None), None)):
        verdict = judging.judge("spatial_batchnorm_forward", case, forged)
        assert not verdict.passed and verdict.problems


@pytest.mark.parametrize("task", ASSIGNMENTS["06_normalisation"])
def test_every_bit_of_the_seed_draws_notebook_6s_hidden_cases(task):
    from grader.judge import code_fingerprint, code_seed

    seed = code_seed("secret", "06_normalisation", code_fingerprint(["x = 1\n"]))
    low = seed % 2**32
    full = [c.inputs["x"] for c in TASKS[task].make_cases(hidden=True, seed=seed)]
    cut = [c.inputs["x"] for c in TASKS[task].make_cases(hidden=True, seed=low)]
    assert not any(a.shape == b.shape and np.allclose(a, b) for a, b in zip(full, cut))
