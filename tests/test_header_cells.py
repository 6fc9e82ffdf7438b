"""A course made by `nbgrader quickstart` puts its header notebook (a `NAME = ""` cell every
student fills in) at the top of each released notebook: that cell is the course's, never
listed as one the student added, and never run as theirs."""

import shutil

import nbformat

from grader.diagnosis.notebook_code import notes_on_cells, student_cells
from grader.gradebook import load

from .conftest import load_sample_class_builder

build = load_sample_class_builder()
ASSIGNMENT, NOTEBOOK = "01_conv_forward", "conv_forward"


def quickstart_course(root):
    header = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("Before you turn this problem in, restart and run all."),
        nbformat.v4.new_code_cell('NAME = ""\nCOLLABORATORS = ""'),
        nbformat.v4.new_markdown_cell("---")])
    (root / "source").mkdir(parents=True)
    nbformat.write(header, str(root / "source" / "header.ipynb"))
    shutil.copytree(build.SOLUTIONS / ASSIGNMENT, root / "source" / ASSIGNMENT)
    (root / "nbgrader_config.py").write_text(
        'c = get_config()\nc.IncludeHeaderFooter.header = "source/header.ipynb"\n')
    return load(root), header


def submitted(header, name, added=None):
    """The release as a student hands it in: the header on top, their name in it."""
    notebook = nbformat.read(str(build.RELEASE / ASSIGNMENT / f"{NOTEBOOK}.ipynb"), as_version=4)
    cells = [nbformat.from_dict(c) for c in header.cells]
    cells[1].source = f'NAME = "{name}"\nCOLLABORATORS = "nobody"'
    notebook.cells = cells + notebook.cells + ([nbformat.v4.new_code_cell(added)] if added else [])
    return notebook


def test_the_quickstart_header_is_the_courses_cell(tmp_path):
    course, header = quickstart_course(tmp_path / "course")
    course_nb = course.notebooks([ASSIGNMENT])[ASSIGNMENT][NOTEBOOK]
    assert course_nb.cells[1].source == header.cells[1].source  # as the release has it
    submission = submitted(header, "Ada Lovelace")
    cells = student_cells(submission, course_nb)
    assert not any("NAME" in source for _, source in cells)
    assert not any("Cells you added" in n for n in notes_on_cells(submission, course_nb, cells))


def test_a_cell_the_student_did_add_is_still_listed(tmp_path):
    course, header = quickstart_course(tmp_path / "course")
    course_nb = course.notebooks([ASSIGNMENT])[ASSIGNMENT][NOTEBOOK]
    submission = submitted(header, "Ada", added="NAME = 'Ada'\nprint(NAME)")
    cells = student_cells(submission, course_nb)
    assert [source for cell_id, source in cells if cell_id.endswith("(added by you)")] == \
        ["NAME = 'Ada'\nprint(NAME)"]
    assert any("Cells you added" in n for n in notes_on_cells(submission, course_nb, cells))
