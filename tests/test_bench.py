"""The grading benchmark's step profile: every step is timed, and nothing stays patched."""

import shutil

from grader.gradebook import EXAMPLES, REPO, load
from grader.schedule import bench


def test_steps_time_every_step_of_a_run_and_restore_what_they_wrapped(tmp_path):
    shutil.copytree(EXAMPLES / "ben", tmp_path / "class" / "ben")  # fails some cases: pictures
    before = [getattr(owner, name) for owner, name, _ in bench._steps()]
    spent, wall = bench.steps(load(REPO), tmp_path / "class", seed=1)
    assert [getattr(owner, name) for owner, name, _ in bench._steps()] == before
    calls = {label: n for label, (_, n) in spent.items()}
    assert calls["starting a student's sandbox and template"] >= 1
    assignments = len([p for p in (EXAMPLES / "ben").iterdir() if p.is_dir()])
    assert calls["a notebook's worker: fork, conv_lib, the cells"] >= assignments  # one each at least
    assert calls["nbgrader autograde, recording in the gradebook"] == assignments
    assert calls["pictures of failing cases"] >= 1
    assert all(seconds <= wall for seconds, _ in spent.values())
    per_notebook = spent["all of the above per notebook, and judging"][0]
    assert per_notebook >= spent["calls: the student's code, both ways on the pipes"][0]
