"""Issue 25: `conv-grader progress [FOLDER]`: a self-learner's notebooks graded in the sandbox
with the course's checks and hidden cases, as one table, with no course set-up."""

import shutil

import nbformat

from grader.__main__ import main
from grader.gradebook import EXAMPLES, REPO, load
from grader.schedule import progress


def _learner(tmp_path):
    """cleo's notebook 6 (group norm's variance planted unbiased) and eve's untouched notebook 3."""
    folder = tmp_path / "mine"
    shutil.copytree(EXAMPLES / "cleo" / "06_normalisation", folder / "06_normalisation")
    shutil.copytree(EXAMPLES / "eve" / "03_pooling", folder / "03_pooling")
    return folder


def test_the_table_says_points_what_is_left_and_which_cell_to_open(tmp_path):
    folder = _learner(tmp_path)
    lines, seed, absent = progress(folder, load(REPO), seed=5)
    assert seed == 5 and "01_conv_forward" in absent and "06_normalisation" not in absent
    by_task = {line.task: line for line in lines}
    groupnorm = by_task["spatial_groupnorm_forward"]
    assert groupnorm.score < groupnorm.max_score == 10
    assert "likely mistake: the variance is the unbiased one" in groupnorm.left
    notebook = folder / "06_normalisation" / "normalisation.ipynb"
    cells = nbformat.read(str(notebook), as_version=4).cells
    number = int(groupnorm.where.split(", cell ")[1].split()[0])
    assert cells[number - 1].metadata["nbgrader"]["grade_id"] == "check_spatial_groupnorm_forward"
    assert groupnorm.where.startswith(str(notebook))
    for task in ("spatial_batchnorm_forward", "spatial_batchnorm_backward", "spatial_groupnorm_backward"):
        assert by_task[task].left == "done" and by_task[task].score == 10 and not by_task[task].where
    pooling = by_task["max_pool_forward"]
    assert pooling.score == 0 and "not implemented yet" in pooling.left
    assert by_task["question_1"].score == ""  # written answers are not graded here


def test_the_command_needs_no_course_set_up_and_repeats_with_the_seed_it_prints(tmp_path, monkeypatch, capsys):
    folder = _learner(tmp_path)
    monkeypatch.chdir(tmp_path)  # no nbgrader_config.py, gradebook or secret file here
    assert main(["progress", str(folder), "--seed", "11"]) == 0
    first = capsys.readouterr().out
    assert "spatial_groupnorm_forward" in first and "total: " in first
    assert f"conv-grader progress {folder} --seed 11" in first
    assert not list(tmp_path.glob("*.db")) and not list(tmp_path.glob(".grader_secret"))
    assert main(["progress", str(folder), "--seed", "11"]) == 0
    assert capsys.readouterr().out == first


def test_a_folder_without_notebooks_is_a_clear_error(tmp_path, capsys):
    assert main(["progress", str(tmp_path / "nowhere")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert main(["progress", str(tmp_path)]) == 2
    assert "no notebook of the course" in capsys.readouterr().err
    assert (REPO / "notebooks").is_dir()  # the default FOLDER of a checkout
