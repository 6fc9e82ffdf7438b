"""The similarity check: independently written correct solutions are never flagged, a copy
with renamed variables and a moved helper is, the side-by-side page shows student code as
text only, and nothing a student wrote is ever run."""

import copy
import html

import nbformat
import numpy as np
import pytest

from conv_lib import conv_forward_fast
from grader.__main__ import main
from grader.review import DEFAULT_THRESHOLD, compare_class, pair_page

from .conftest import load_sample_class_builder
from .independent_solutions import COPY, COPY_OF, SOLUTIONS, filled

build = load_sample_class_builder()
KEY = ("01_conv_forward", "conv_forward")
RELEASE = build.RELEASE / KEY[0] / f"{KEY[1]}.ipynb"


def notebook_of(solution):
    """The released notebook 01 with ``solution``'s code in its solution cells."""
    notebook = nbformat.read(str(RELEASE), as_version=4)
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            cell.source = filled(cell.source, meta["grade_id"], solution)
    return notebook


def solution_cells(notebook):
    return [c.source for c in notebook.cells
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")]


@pytest.mark.parametrize("name", sorted(SOLUTIONS) + ["copy"])
def test_the_calibration_solutions_are_correct(name):
    """Our own test code (never a student's): each solution must be right, or the calibration
    would be on wrong code."""
    namespace = {"np": np}
    for source in solution_cells(notebook_of(COPY if name == "copy" else SOLUTIONS[name])):
        exec(source, namespace)
    rng = np.random.default_rng(4)
    checked = 0
    while checked < 25:
        N, C, F, HH, WW = rng.integers(1, 4, 5)
        H, W = rng.integers(4, 9, 2)
        stride, pad, dilation = (int(v) for v in rng.integers(1, 4, 3))
        if min(H + 2 * pad - dilation * (HH - 1), W + 2 * pad - dilation * (WW - 1)) < 1:
            continue
        x, w, b = rng.standard_normal((N, C, H, W)), rng.standard_normal((F, C, HH, WW)), \
            rng.standard_normal(F)
        param = {"stride": stride, "pad": pad, "dilation": dilation}
        got, _ = namespace["conv_forward_dilated_naive"](x, w, b, param)
        np.testing.assert_allclose(got, conv_forward_fast(x, w, b, param)[0], atol=1e-10)
        if dilation == 1:
            got, _ = namespace["conv_forward_naive"](x, w, b, {"stride": stride, "pad": pad})
            np.testing.assert_allclose(got, conv_forward_fast(x, w, b, param)[0], atol=1e-10)
        checked += 1
    x_nhwc, w_hwcf = rng.standard_normal((2, 5, 4, 3)), rng.standard_normal((3, 2, 3, 4))
    x, w = namespace["to_channels_first"](x_nhwc, w_hwcf)
    assert np.array_equal(x, x_nhwc.transpose(0, 3, 1, 2))
    assert np.array_equal(w, w_hwcf.transpose(3, 2, 0, 1))


# Who copied: the renamed and reordered copy, and a student who copied one function of three.
COPIED = {tuple(sorted(("copier", COPY_OF))), ("flat_dot_products", "one_function_copied")}


@pytest.fixture(scope="module")
def generated_class(tmp_path_factory):
    """A class in nbgrader's layout: the independent solutions, the instructor's own, the two
    copies, students who handed in the release untouched, and students who did only the
    short task (two transposes, or a few loops): too little code to tell anything."""
    root = tmp_path_factory.mktemp("similar") / "submitted"
    students = {name: notebook_of(solution) for name, solution in SOLUTIONS.items()}
    students["copier"] = notebook_of(COPY)
    students["one_function_copied"] = notebook_of(
        {"conv_forward_naive": SOLUTIONS["flat_dot_products"]["conv_forward_naive"]})
    students["instructor"] = nbformat.read(str(build.EXAMPLES / "ada" / KEY[0] / f"{KEY[1]}.ipynb"),
                                           as_version=4)
    for index in range(6):
        students[f"untouched{index}"] = nbformat.read(str(RELEASE), as_version=4)
    for index, name in enumerate(sorted(SOLUTIONS)):
        students[f"short{index}"] = notebook_of(
            {"to_channels_first": SOLUTIONS[name]["to_channels_first"]})
    for student, notebook in students.items():
        path = root / student / KEY[0] / f"{KEY[1]}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(notebook, str(path))
    works = {s: {KEY: root / s / KEY[0] / f"{KEY[1]}.ipynb"} for s in students}
    return root, works


def test_the_copy_is_flagged_and_no_independent_pair_is(generated_class):
    _root, works = generated_class
    release = nbformat.read(str(RELEASE), as_version=4)
    flagged = compare_class(works, {KEY: release})
    assert {(p.first, p.second) for p in flagged} == COPIED
    assert min(p.share for p in flagged) > DEFAULT_THRESHOLD + 0.05  # not a near miss
    # The calibration has room below: the most alike independent pair stays clear of it.
    below = compare_class(works, {KEY: release}, threshold=0.0)
    independent = [p for p in below if (p.first, p.second) not in COPIED
                   and "copier" not in (p.first, p.second)  # a copy of six_scalar_loops
                   and "one_function_copied" not in (p.first, p.second)]
    assert independent and max(p.share for p in independent) < DEFAULT_THRESHOLD - 0.05
    assert not any(p.first.startswith(("untouched", "short")) or
                   p.second.startswith(("untouched", "short")) for p in below)


def test_the_source_notebook_works_as_the_template_too(generated_class):
    """Without a release folder the source notebook (solutions dropped) is the template: the
    instructor's solution is not boilerplate, so copying it is no hiding place."""
    _root, works = generated_class
    source = nbformat.read(str(build.SOLUTIONS / KEY[0] / f"{KEY[1]}.ipynb"), as_version=4)
    flagged = compare_class(works, {KEY: source})
    assert {(p.first, p.second) for p in flagged} == COPIED


def test_the_side_by_side_page_shows_code_as_text(generated_class, tmp_path):
    _root, works = generated_class
    release = nbformat.read(str(RELEASE), as_version=4)
    hostile = copy.deepcopy(nbformat.read(str(works["copier"][KEY]), as_version=4))
    marker = tmp_path / "ran"
    for cell in hostile.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "conv_forward_naive":
            cell.source += (f"\nopen({str(marker)!r}, 'w').write('</pre><script>alert(1)</script>')"
                            f"\nraise SystemExit")
    path = tmp_path / "hostile.ipynb"
    nbformat.write(hostile, str(path))
    flagged = compare_class({"copier": {KEY: path}, COPY_OF: works[COPY_OF]}, {KEY: release})
    page = pair_page(flagged[0])
    assert "<script>" not in page and html.escape("<script>") in page
    assert "<mark>" in page  # the shared stretches are marked
    assert not marker.exists()  # read as text, never run


def test_the_command_writes_an_index_and_a_page_per_pair(generated_class, tmp_path, capsys):
    root, _works = generated_class
    code = main(["similarity", str(root), "--out", str(tmp_path), "--course", str(build.ROOT)])
    assert code == 0
    said = capsys.readouterr().out
    assert "2 pairs flagged" in said and "copier" in said
    pages = sorted(p.name for p in (tmp_path / "similarity").iterdir())
    assert pages == ["01_conv_forward__conv_forward__copier__six_scalar_loops.html",
                     "01_conv_forward__conv_forward__flat_dot_products__one_function_copied.html",
                     "index.html"]
    index = (tmp_path / "similarity" / "index.html").read_text()
    assert pages[0] in index and pages[1] in index
