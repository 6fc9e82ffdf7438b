"""The course notebooks: they run, their release is current, and nbgrader's own
autograde gives the solutions full marks and the untouched release zero."""

import os
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from grader.gradebook import WorkWouldBeLost, load, nbgrader_api, nbgrader_config, release
from grader.diagnosis.tasks import ASSIGNMENTS

from .conftest import load_sample_class_builder

REPO = Path(__file__).resolve().parent.parent
COURSE = load(REPO)
SOLUTION_NOTEBOOKS = sorted((REPO / "solutions").glob("*/*.ipynb"))


def _nbgrader(cell):
    return cell.metadata.get("nbgrader", {})


def test_the_course_has_its_six_assignments():
    assert COURSE.assignments() == sorted(ASSIGNMENTS)
    assert [p.parent.name for p in SOLUTION_NOTEBOOKS] == sorted(ASSIGNMENTS)


@pytest.mark.parametrize("path", SOLUTION_NOTEBOOKS, ids=lambda p: p.parent.name)
def test_solution_notebook_runs_top_to_bottom_quickly_and_cleanly(path):
    notebook = nbformat.read(str(path), as_version=4)
    # "Quickly" in CPU seconds of the kernel: other processes on a busy machine do not count.
    notebook.cells.append(nbformat.v4.new_code_cell(
        "import resource\n"
        "sum(getattr(resource.getrusage(who), part) for part in ('ru_utime', 'ru_stime')\n"
        "    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))"))
    NotebookClient(notebook, timeout=600, kernel_name="python3",  # per cell: a hang catcher
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    spent = float(notebook.cells.pop().outputs[0]["data"]["text/plain"])
    assert spent < 120, f"{path.name}: {spent:.0f} CPU seconds"
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        stderr = [o.get("text", "") for o in cell.outputs if o.get("name") == "stderr"]
        assert not stderr, f"stderr in a cell of {path.name}: {stderr[0][:200]}"
        meta = _nbgrader(cell)
        if meta.get("grade") and not meta.get("solution"):  # a test cell prints full points
            text = "".join(o.get("text", "") for o in cell.outputs)
            assert f"score: {meta['points']:g} / {meta['points']:g} points" in text, meta["grade_id"]
            # in a learner's kernel no number is echoed under the report (nbgrader gets one)
            assert not [o for o in cell.outputs if o.output_type == "execute_result"], meta["grade_id"]
        if meta.get("grade_id", "").startswith("check_"):
            text = "".join(o.get("text", "") for o in cell.outputs)
            assert "all passed" in text, f"{meta['grade_id']}: {text[:300]}"
    if path.parent.name == "06_normalisation":  # the experiment shows what the notebook says
        text = "".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code"
                       for o in c.outputs)
        final = {line.split()[0]: float(line.rsplit(", ", 1)[1]) for line in text.splitlines()
                 if "validation accuracy after each epoch" in line}
        assert final["no"] < 0.5 and final["spatial"] > 0.9 and final["group"] > 0.9, final
        assert text.count(": YOURS") == 4  # the experiment runs on the student's own layers
    if path.parent.name == "05_convnet":  # the course's payoff: your own layers learn
        text = "".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code"
                       for o in c.outputs)
        assert "runs YOUR conv_forward_im2col and conv_backward_im2col" in text
        assert float(text.split("test accuracy: ")[1].split()[0]) >= 0.95


def test_every_task_has_solution_check_and_test_cells_in_order():
    for path in SOLUTION_NOTEBOOKS:
        cells = nbformat.read(str(path), as_version=4).cells
        ids = [_nbgrader(c).get("grade_id") for c in cells]
        for task in ASSIGNMENTS[path.parent.name]:
            from grader.diagnosis.tasks import TASKS

            function = TASKS[task].function
            assert function in ids, f"{path.name}: no solution cell {function}"
            at = ids.index(function)
            assert ids[at + 1:at + 3] == [f"check_{task}", f"test_{task}"], path.name
            solution = cells[at]
            assert solution.source.lstrip().startswith(f"def {function}(")
            assert "### BEGIN SOLUTION" in solution.source
            assert f'grade("{task}", {function}, points=' in cells[at + 2].source
        assert any(i and i.startswith("question_") for i in ids), f"{path.name}: no written question"


def test_release_is_exactly_what_generate_assignment_makes(tmp_path):
    release(COURSE, tmp_path, register=False)
    for path in SOLUTION_NOTEBOOKS:
        relative = path.relative_to(REPO / "solutions")
        fresh = nbformat.read(str(tmp_path / relative), as_version=4)
        shipped = nbformat.read(str(REPO / "notebooks" / relative), as_version=4)
        assert fresh == shipped, f"notebooks/{relative} is stale: run `make release`"
        assert not any(c.get("outputs") for c in shipped.cells), "released notebooks carry no outputs"
        assert "### BEGIN SOLUTION" not in str(shipped) and "BEGIN HIDDEN TESTS" not in str(shipped)


def test_test_cells_hold_nothing_for_the_instructor_only():
    """nbgrader puts a test cell's hidden-tests block back into the autograded notebook, so
    students read it in their feedback (nbgrader #917), and a test cell whose release differs
    from its source makes every `nbgrader autograde` warn that its checksum changed. The
    trusted grader draws the hidden cases from the course secret: no test cell needs one."""
    from nbgrader.utils import compute_checksum

    for path in SOLUTION_NOTEBOOKS:
        relative = path.relative_to(REPO / "solutions")
        shipped = {_nbgrader(c).get("grade_id"): c for c in
                   nbformat.read(str(REPO / "notebooks" / relative), as_version=4).cells}
        for cell in nbformat.read(str(path), as_version=4).cells:
            meta = _nbgrader(cell)
            if meta.get("grade") and not meta.get("solution") and cell.cell_type == "code":
                assert "HIDDEN TESTS" not in cell.source, (relative, meta["grade_id"])
                assert compute_checksum(cell) == \
                    _nbgrader(shipped[meta["grade_id"]])["checksum"], (relative, meta["grade_id"])


def test_release_refuses_to_overwrite_a_notebook_holding_work(tmp_path):
    release(COURSE, tmp_path, register=False)
    worked = next(tmp_path.glob("03_pooling/*.ipynb"))
    notebook = nbformat.read(str(worked), as_version=4)
    solution = next(c for c in notebook.cells if _nbgrader(c).get("solution") and c.cell_type == "code")
    solution.source = "def max_pool_forward_naive(x, pool_param):\n    return my_work"
    nbformat.write(notebook, str(worked))
    with pytest.raises(WorkWouldBeLost, match=worked.name):
        release(COURSE, tmp_path, register=False)
    assert "my_work" in worked.read_text()
    release(COURSE, tmp_path, force=True, register=False)
    assert "my_work" not in worked.read_text()


@pytest.fixture(scope="module")
def nbgrader_autograded(tmp_path_factory):
    """nbgrader's own autograde, executing the notebooks, on a full-marks student
    and on one who submitted the untouched release."""
    build = load_sample_class_builder()
    root = tmp_path_factory.mktemp("nbgrader-course")
    import shutil

    shutil.copytree(REPO / "solutions", root / "source")
    api = nbgrader_api(nbgrader_config(root, f"sqlite:///{root / 'gradebook.db'}", execute=True))
    scores = {}
    for assignment in COURSE.assignments():
        assert api.generate_assignment(assignment)["success"]
        sources = build.solution_sources(assignment)
        for student, filled in (("ada", sources), ("eve", None)):
            for path in sorted((REPO / "notebooks" / assignment).glob("*.ipynb")):
                target = root / "submitted" / student / assignment / path.name
                target.parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(build.submission(assignment, path.stem, filled), str(target))
            result = api.autograde(assignment, student)
            assert result["success"], result.get("log")
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        for assignment in COURSE.assignments():
            for student in ("ada", "eve"):
                submission = gradebook.find_submission(assignment, student)
                scores[assignment, student] = (submission.code_score, submission.max_code_score)
    return scores


@pytest.mark.parametrize("assignment", sorted(ASSIGNMENTS))
def test_nbgrader_autograde_gives_the_solutions_full_marks(nbgrader_autograded, assignment):
    score, best = nbgrader_autograded[assignment, "ada"]
    assert best > 0 and score == best


@pytest.mark.parametrize("assignment", sorted(ASSIGNMENTS))
def test_nbgrader_autograde_gives_the_untouched_release_zero(nbgrader_autograded, assignment):
    score, best = nbgrader_autograded[assignment, "eve"]
    assert best > 0 and score == 0


@pytest.mark.parametrize("path", sorted((REPO / "notebooks").glob("*/*.ipynb")),
                         ids=lambda p: p.parent.name)
def test_untouched_release_runs_top_to_bottom_with_friendly_messages(path):
    """A self-learner can run every cell before writing any code (Run All): each check says what
    is missing, and each test cell worth points says in one plain sentence that the task is not
    finished, without stopping the notebook (under nbgrader's Validate it raises: test_course);
    an optional task's 0-point cell says nothing of the kind."""
    notebook = nbformat.read(str(path), as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    checks = [c for c in notebook.cells if _nbgrader(c).get("grade_id", "").startswith("check_")]
    assert checks
    for cell in checks:
        text = "".join(o.get("text", "") for o in cell.outputs)
        assert "not implemented yet" in text and "Traceback" not in text
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        assert not [o for o in cell.outputs if o.get("name") == "stderr"]
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, f"{path.name}: {errors[0].ename}: {errors[0].evalue}"
        text = "".join(o.get("text", "") for o in cell.outputs)
        if _nbgrader(cell).get("grade") and not _nbgrader(cell).get("solution"):
            unfinished = "Not finished yet:" in text and "public cases" in text
            assert unfinished == bool(_nbgrader(cell).get("points")), _nbgrader(cell)["grade_id"]
            assert not [o for o in cell.outputs if o.output_type == "execute_result"]


def test_a_later_notebook_can_borrow_your_function_from_an_earlier_one(capsys):
    from grader.diagnosis.notebook_code import function_from_notebook

    solved = function_from_notebook(REPO / "solutions/01_conv_forward/conv_forward.ipynb",
                                    "conv_forward_naive")
    assert callable(solved)
    assert function_from_notebook(REPO / "notebooks/01_conv_forward/conv_forward.ipynb",
                                  "conv_forward_naive") is None
    assert function_from_notebook(REPO / "nowhere.ipynb", "conv_forward_naive") is None
    out = capsys.readouterr().out
    assert "not written yet" in out and "not found" in out


# Notebooks 1-3 keep their hints in one Markdown cell before each task; 4-5 in one cell per
# hint (test below).
WORKING_ALONE = ["01_conv_forward", "02_conv_backward", "03_pooling"]


def _solution_lines(source):
    inside = source.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0]
    return [line.strip() for line in inside.splitlines() if len(line.strip()) > 12]


@pytest.mark.parametrize("assignment", WORKING_ALONE)
def test_a_self_learner_finds_hints_the_hidden_cases_and_the_model_answers(assignment):
    import re

    path = next((REPO / "solutions" / assignment).glob("*.ipynb"))
    cells = nbformat.read(str(path), as_version=4).cells
    intro = cells[0].source
    assert f"solutions/{assignment}/{path.name}" in intro, "the intro says where the model answers are"
    graded = [c for c in cells if c.cell_type == "code" and _nbgrader(c).get("points")]
    for cell in graded:  # the intro's grade(...) calls are the autograder's own
        assert re.search(r"grade\(.*\)", cell.source).group(0) in intro
    for at, cell in enumerate(cells):
        meta = _nbgrader(cell)
        if cell.cell_type == "code" and meta.get("solution"):
            hints = cells[at - 1].source
            numbers = re.findall(r"<details><summary>Hint (\d): [^<]+</summary>\n\n", hints)
            assert numbers in (["1", "2"], ["1", "2", "3"]), f"{meta['grade_id']}: hints {numbers}"
            assert hints.count("</details>") == len(numbers)
            given = [line for line in _solution_lines(cell.source) if line in hints]
            assert len(given) <= len(_solution_lines(cell.source)) // 2, \
                f"{meta['grade_id']}: the hints give away the function: {given}"
        if cell.cell_type == "markdown" and meta.get("solution"):
            assert len(cell.source.split()) >= 80, f"{meta['grade_id']}: the model answer is thin"


def test_rel_error_is_defined_before_a_check_first_prints_it():
    cells = nbformat.read(str(REPO / "notebooks/01_conv_forward/conv_forward.ipynb"), as_version=4).cells
    ids = [_nbgrader(c).get("grade_id") for c in cells]
    defined = next(i for i, c in enumerate(cells) if r"\mathrm{rel\_error}" in c.source)
    assert defined < ids.index("check_conv_forward")


@pytest.mark.parametrize("assignment", ["04_im2col", "05_convnet", "06_normalisation"])
def test_notebooks_4_to_6_give_hints_grade_and_the_model_answers(assignment):
    """Issue 13: two or three collapsed hints before every task, never the whole function;
    the introduction names grade(...) and where the model answers are."""
    path = next((REPO / "notebooks" / assignment).glob("*.ipynb"))
    cells = nbformat.read(str(path), as_version=4).cells
    assert "grade(" in cells[0].source and f"solutions/{assignment}/{path.name}" in cells[0].source
    ids = [_nbgrader(c).get("grade_id") for c in cells]
    for task in ASSIGNMENTS[assignment]:
        from grader.diagnosis.tasks import TASKS

        at = ids.index(TASKS[task].function)
        hints = []
        for cell in reversed(cells[:at]):
            if not cell.source.startswith("<details><summary>Hint"):
                break
            hints.insert(0, cell.source)
        assert 2 <= len(hints) <= 3, task
        assert [h.split("</summary>")[0] for h in hints] == [
            f"<details><summary>Hint {k}" for k in range(1, len(hints) + 1)]
        assert all(f"def {TASKS[task].function}" not in h for h in hints)
    solution = nbformat.read(str(REPO / "solutions" / assignment / path.name), as_version=4)
    answers = [c for c in solution.cells if (_nbgrader(c).get("grade_id") or "").startswith("question_")]
    assert answers and all(len(c.source.split()) > 40 for c in answers)  # a model answer, not a stub


def test_validate_prints_the_whole_sentence_and_no_warning(tmp_path):
    """`nbgrader validate` in the course, as a student runs it on unfinished work: each failing
    test cell's sentence whole, and no warning (ipykernel warns of a kernel on plain TCP)."""
    import subprocess
    import sys

    work = tmp_path / "conv_forward.ipynb"
    shutil.copy(load_sample_class_builder().EXAMPLES / "ben" / "01_conv_forward"
                / "conv_forward.ipynb", work)
    bin_dir = Path(sys.executable).parent
    result = subprocess.run([str(bin_dir / "nbgrader"), "validate", str(work)], cwd=REPO,
                            capture_output=True, text=True, timeout=600,
                            env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"})
    said = result.stdout + result.stderr
    assert "VALIDATION FAILED" in said
    assert "(check_conv_forward shows them too)" in said  # the sentence's end, not cut off
    assert "WARNING" not in said and "Warning:" not in said, said
