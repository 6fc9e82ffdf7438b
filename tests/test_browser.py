"""The course as a student meets it: JupyterLab in chromium (tests/browser.py drives them).

Every release notebook is stepped cell by cell with nothing filled in, every solution notebook
runs with Run All, and nbgrader's Validate button is clicked on one of each. One Lab server
and one browser serve them all. Screenshots go to the folder printed at the start.

Where no browser is installed the tests skip and say why; under CI they fail instead, since
.ci/run installs chromium and chromium-driver.
"""

import os
import shutil
from pathlib import Path

import nbformat
import pytest

from . import browser

REPO = Path(__file__).resolve().parent.parent
RELEASES = sorted((REPO / "notebooks").glob("*/*.ipynb"))
SOLUTIONS = sorted((REPO / "solutions").glob("*/*.ipynb"))
VALIDATED = "03_pooling/pooling.ipynb"  # the quickest graded notebook to execute twice more


@pytest.fixture(scope="module")
def course(request, tmp_path_factory):
    why_not = browser.missing_browser()
    if why_not:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI must run the browser test, but: {why_not}")
        pytest.skip(why_not)
    root = tmp_path_factory.mktemp("browser-course")
    for folder in ("notebooks", "solutions"):
        shutil.copytree(REPO / folder, root / folder)
    shutil.copy(REPO / "nbgrader_config.py", root)
    _plant_mistakes(root)
    screenshots = tmp_path_factory.mktemp("browser-screenshots")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\nbrowser test screenshots: {screenshots}")
    with browser.LabServer(root, screenshots / "jupyterlab.log") as server:
        driver = browser.chromium(tmp_path_factory.mktemp("chromium-profile"))
        try:
            yield browser.Course(driver, server, screenshots)
        finally:
            driver.quit()


PLANTED_CHECK = "planted/raising_check.ipynb"
PLANTED_SOLUTION = "planted/erroring_solution.ipynb"


def _plant_mistakes(root):
    """Short copies of notebook 1: a release whose check cell raises, and a solution with a
    cell that errors half-way (so the cells after it never run)."""
    (root / "planted").mkdir()
    release = nbformat.read(str(REPO / "notebooks/01_conv_forward/conv_forward.ipynb"), as_version=4)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in release.cells]
    release.cells = release.cells[:ids.index("check_conv_forward") + 1]
    release.cells[-1].source += '\nraise RuntimeError("planted: this check raises")'
    nbformat.write(release, str(root / PLANTED_CHECK))
    solution = nbformat.read(str(REPO / "solutions/01_conv_forward/conv_forward.ipynb"), as_version=4)
    solution.cells = solution.cells[:8]
    code = [c for c in solution.cells if c.cell_type == "code"]
    code[1].source = "1 / 0  # planted\n" + code[1].source
    nbformat.write(solution, str(root / PLANTED_SOLUTION))


def _relative(path):
    return path.relative_to(REPO)


@pytest.mark.parametrize("path", RELEASES, ids=lambda p: p.parent.name)
def test_a_student_steps_through_the_untouched_release(course, path):
    cells = course.run(_relative(path), "step")
    assert browser.release_problems(cells) == []


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.parent.name)
def test_run_all_on_a_solution_notebook_draws_every_figure_without_an_error(course, path):
    cells = course.run(_relative(path), "run all")
    assert browser.solution_problems(cells) == []


def test_validate_passes_the_solution_and_fails_the_untouched_release(course):
    classes, text = course.validate(Path("solutions") / VALIDATED)
    assert "validation-success" in classes, text
    classes, text = course.validate(Path("notebooks") / VALIDATED)
    assert "validation-success" not in classes, f"the untouched release passed Validate: {text}"
    assert "failed" in classes, text
    # not only for the unanswered written questions: for the unwritten code too
    release = nbformat.read(str(REPO / "notebooks" / VALIDATED), as_version=4)
    tests = [c.source.strip().splitlines()[0] for c in release.cells if c.cell_type == "code"
             and c.metadata.get("nbgrader", {}).get("grade")]
    assert any(line in text for line in tests), f"Validate did not flag the unfinished code: {text}"


def test_the_browser_test_catches_a_raising_check_and_an_erroring_cell(course):
    problems = browser.release_problems(course.run(PLANTED_CHECK, "step"))
    assert any("check_conv_forward" in p and "RuntimeError" in p for p in problems), problems
    problems = browser.solution_problems(course.run(PLANTED_SOLUTION, "run all"))
    assert any("ZeroDivisionError" in p for p in problems), problems
    assert any("did not run" in p for p in problems), problems
