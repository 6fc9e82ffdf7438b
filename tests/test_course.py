"""The course comes from nbgrader's configuration, from any folder: release registers the
assignments, unknown assignments are clear errors, Validate flags unfinished code."""

import shutil

import pytest

from grader.__main__ import main
from grader import gradebook as course

from .conftest import load_sample_class_builder

build = load_sample_class_builder()
ASSIGNMENT = "01_conv_forward"


@pytest.fixture
def fresh_clone(tmp_path):
    """A course whose release is committed but whose gradebook does not exist yet."""
    root = tmp_path / "course"
    shutil.copytree(build.SOLUTIONS / ASSIGNMENT, root / "source" / ASSIGNMENT)
    shutil.copytree(build.RELEASE / ASSIGNMENT, root / "release" / ASSIGNMENT)
    (root / "nbgrader_config.py").write_text("c = get_config()\nc.CourseDirectory.course_id = 'c1'\n")
    return root


def test_release_registers_the_assignments_in_the_gradebook(fresh_clone):
    from nbgrader.api import Gradebook

    assert main(["release", "--course", str(fresh_clone)]) == 0
    with Gradebook(f"sqlite:///{fresh_clone / 'gradebook.db'}", "c1") as gradebook:
        notebook = gradebook.find_notebook("conv_forward", ASSIGNMENT)
        assert {cell.name for cell in notebook.grade_cells} >= {"test_conv_forward", "question_1"}


def test_grading_the_course_before_release_says_how_to_fix_it(fresh_clone, tmp_path, capsys):
    submitted = fresh_clone / "submitted" / "ada" / ASSIGNMENT
    shutil.copytree(build.EXAMPLES / "ada" / ASSIGNMENT, submitted)
    assert main(["autograde", str(fresh_clone / "submitted"), "--course", str(fresh_clone),
                 "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    assert "run `conv-grader release`" in capsys.readouterr().err


@pytest.mark.parametrize(("layout", "message"), [
    ("flag", "unknown assignment 'renamed'"),
    ("folder", "none of the submitted assignments ['renamed'] is an assignment of the course"),
])
def test_an_unknown_assignment_is_a_clear_error(fresh_clone, tmp_path, capsys, layout, message):
    folder = tmp_path / "submissions" / "ada" / ("renamed" if layout == "folder" else ASSIGNMENT)
    shutil.copytree(build.EXAMPLES / "ada" / ASSIGNMENT, folder)
    extra = ["--assignment", "renamed"] if layout == "flag" else []
    assert main(["autograde", str(tmp_path / "submissions"), "--course", str(fresh_clone),
                 "--out", str(tmp_path / "out"), "--no-progress", *extra]) == 2
    assert message in capsys.readouterr().err


def test_the_course_comes_from_the_hubs_config_wherever_the_grader_runs(fresh_clone, tmp_path,
                                                                        monkeypatch):
    hub = tmp_path / "hub"
    hub.mkdir()
    (hub / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(fresh_clone)!r}\n"
        "c.CourseDirectory.course_id = 'from-the-hub'\n")
    (fresh_clone / "nbgrader_config.py").write_text("c = get_config()\n")
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(hub))
    monkeypatch.chdir(tmp_path)
    found = course.load()
    assert (found.root, found.course_id, found.source) == (
        fresh_clone, "from-the-hub", fresh_clone / "source")
    assert found.assignments() == [ASSIGNMENT]


def test_this_repository_is_a_course_without_a_hard_coded_id_or_relative_root():
    from traitlets.config.loader import PyFileConfigLoader

    own = PyFileConfigLoader("nbgrader_config.py", str(build.ROOT)).load_config()
    assert "root" not in own.CourseDirectory and "course_id" not in own.CourseDirectory
    found = course.load(build.ROOT)
    assert found.root == build.ROOT and found.source == build.SOLUTIONS


@pytest.mark.parametrize(("folder", "fails"), [(build.RELEASE, True), (build.SOLUTIONS, False)],
                         ids=["untouched release", "solutions"])
def test_validate_fails_an_empty_notebook_and_passes_the_solutions(folder, fails):
    from nbgrader.validator import Validator

    result = Validator().validate(str(folder / ASSIGNMENT / "conv_forward.ipynb"))
    assert bool(result.get("failed")) == fails, result
    if fails:
        assert any("public cases" in cell["error"] for cell in result["failed"])


def test_the_course_secret_is_made_once_private_and_seeds_each_code(tmp_path):
    from grader.judge import code_fingerprint, code_seed, course_secret

    secret = course_secret(tmp_path)
    assert (tmp_path / ".grader_secret").stat().st_mode & 0o777 == 0o600
    assert course_secret(tmp_path) == secret and len(secret) == 64
    codes = ["x = 1\n", "x = 2\n"]
    seeds = {code_seed(secret, a, code_fingerprint([c])) for c in codes for a in ("01", "02")}
    assert len(seeds) == 4
    assert code_seed("other secret", "01", code_fingerprint(codes[:1])) not in seeds
    # the same program, however it is laid out and commented, is the same code
    laid_out = "%matplotlib inline\n# my answer\nx = (1)  # one\n"
    assert code_fingerprint([laid_out]) == code_fingerprint(codes[:1])
    assert code_fingerprint(codes[:1]) != code_fingerprint(["y = 1\n"])


def test_the_gradebook_schema_version_read_in_process_is_alembics_own():
    import subprocess

    from nbgrader.dbutil import _temp_alembic_ini

    with _temp_alembic_ini("sqlite:///gradebook.db") as ini:
        heads = subprocess.run([course.environment_path().split(":")[0] + "/alembic", "-c", ini,
                                "heads"], capture_output=True, text=True, check=True).stdout
    assert heads.split()[0] == course.alembic_head()


def test_nbgrader_setup_once_shares_engines_and_validates_the_same_then_restores(tmp_path):
    import jsonschema
    import nbformat
    import nbgrader.api
    import nbgrader.nbgraderformat.common as metadata_format
    from nbgrader.api import Gradebook
    from nbgrader.nbgraderformat import MetadataValidator

    real = (nbgrader.api.create_engine, metadata_format.jsonschema)
    good = nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": {
        "grade": True, "solution": False, "locked": True, "points": 1, "grade_id": "t",
        "schema_version": 3}})
    bad = nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": {
        "grade": "yes", "solution": False, "grade_id": "t", "schema_version": 3}})
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with course.nbgrader_setup_once():
        with Gradebook(url, "c1") as first, Gradebook(url, "c1") as second:
            assert first.engine is second.engine
        MetadataValidator().validate_cell(good)
        with pytest.raises(jsonschema.ValidationError):
            MetadataValidator().validate_cell(bad)
    assert (nbgrader.api.create_engine, metadata_format.jsonschema) == real
    with pytest.raises(jsonschema.ValidationError):  # nbgrader's own validation agrees
        MetadataValidator().validate_cell(bad)
    with Gradebook(url, "c1") as first, Gradebook(url, "c1") as second:
        assert first.engine is not second.engine
