"""Each known mistake, planted in the instructor's own solution, loses points and
is named in the feedback (issue: the notebook series, Tests)."""

import pytest

from grader import checks
from grader.diagnosis.tasks import ASSIGNMENTS, TASKS

from .conftest import define_solution, load_sample_class_builder

build = load_sample_class_builder()
FUNCTION_TO_TASK = {TASKS[t].function: t for t in TASKS}


def assignment_of(function):
    return next(a for a, tasks in ASSIGNMENTS.items() if FUNCTION_TO_TASK[function] in tasks)


@pytest.mark.parametrize("mistake", sorted(build.PLANTINGS))
def test_planted_mistake_loses_points_and_is_named(mistake, capsys):
    planting = build.PLANTINGS[mistake]
    function = planting["function"]
    assignment = assignment_of(function)
    task = FUNCTION_TO_TASK[function]
    correct = build.solution_sources(assignment)[function]
    assert checks.score(task, define_solution(assignment, function, correct), points=10, seed=3) == 10
    capsys.readouterr()

    wrong = define_solution(assignment, function, build.plant(correct, mistake))
    assert checks.score(task, wrong, points=10, seed=3) < 10
    assert f"likely mistake: {planting.get('feedback', mistake)}" in capsys.readouterr().out


def test_every_mistake_the_issue_lists_has_a_planting():
    listed = {"kernel flipped", "bias missing", "stride ignored", "padding missing",
              "padding on the height axis only", "output size rounded up",
              "gradient overwritten instead of accumulated (dx)",
              "dx not cropped back from the padded input", "db summed over the wrong axes",
              "max-pool gradient spread over the window",
              "max-pool gradient overwritten where windows overlap",
              "average-pool gradient not divided by the window size"}
    assert listed <= set(build.PLANTINGS)
