"""nbgrader's documented workflow on a course configured with the trusted judge: generate,
release to a local exchange, fetch and submit as four students (honest, one who redefines
``grade``, one who submits the untouched release, one whose kernel is flipped), collect,
autograde, feedback, export, formgrader; then ``conv-grader autograde`` on the same
submissions."""

import csv
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

from grader.__main__ import main
from grader.gradebook import nbgrader_api, nbgrader_config

from .conftest import graded, load_sample_class_builder

build = load_sample_class_builder()
ASSIGNMENT, NOTEBOOK, TEST = "01_conv_forward", "conv_forward", "test_conv_forward"
BIN = Path(sys.executable).parent
CHEAT = "grade = lambda *args, **kwargs: kwargs.get('points', 10)\n"


# As on a JupyterHub: every student's OS user is jovyan, and nbgrader takes the student id
# from JUPYTERHUB_USER.
AS_HUB_USER = ("import sys, nbgrader.utils; nbgrader.utils.get_osusername = lambda: 'jovyan'; "
               "from nbgrader.apps.nbgraderapp import main; sys.argv[0] = 'nbgrader'; main()")


def nbgrader(*args, cwd, user=None):
    env = {**os.environ, "PATH": os.pathsep.join([str(BIN), os.environ["PATH"]]),
           "HOME": str(cwd), "JUPYTERHUB_USER": user or ""}
    command = [sys.executable, "-c", AS_HUB_USER] if user else [str(BIN / "nbgrader")]
    result = subprocess.run([*command, *args], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"nbgrader {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def write_config(folder, exchange):
    (folder / "nbgrader_config.py").write_text(
        "from grader.gradebook import use_trusted_grading\n"
        "c = get_config()\n"
        "c.CourseDirectory.course_id = 'conv-test'\n"
        f"c.Exchange.root = {str(exchange)!r}\n"
        "use_trusted_grading(c)\n")


def work(fetched, student):
    """What each student does with the fetched notebook before submitting it."""
    notebook = nbformat.read(str(fetched), as_version=4)
    solutions = build.solution_sources(ASSIGNMENT)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if student == "honest" and grade_id in solutions:
            cell.source = solutions[grade_id]
        if student == "flipped" and grade_id in solutions:
            cell.source = solutions[grade_id] if grade_id != "conv_forward_naive" else \
                build.plant(solutions[grade_id], "kernel flipped")
        if student == "cheat" and grade_id == "conv_forward_naive":
            cell.source = CHEAT + cell.source
    if student == "cheat":
        # Metadata nbgrader itself chokes on, which used to stop autograde for every later
        # student: a duplicated test cell claiming 100 points, and a cell of another schema.
        test = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == TEST)
        copy = nbformat.from_dict(json.loads(json.dumps(test)))
        copy.source, copy.metadata.nbgrader["points"] = "100", 100
        alien = nbformat.v4.new_code_cell("100")
        alien.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True,
                                      "grade_id": "bonus", "points": 100, "schema_version": 99}
        notebook.cells += [copy, alien]
    nbformat.write(notebook, str(fetched))


def gradebook_scores(db_url):
    from nbgrader.api import Gradebook

    with Gradebook(db_url, "conv-test") as gradebook:
        courses = gradebook.db.execute(__import__("sqlalchemy").text("select id from course")).all()
        scores = {}
        for submission in gradebook.assignment_submissions(ASSIGNMENT):
            grade = gradebook.find_grade(TEST, NOTEBOOK, ASSIGNMENT, submission.student_id)
            scores[submission.student_id] = (grade.score, submission.timestamp)
    return scores, sorted(c[0] for c in courses)


@pytest.fixture(scope="module")
def workflow(tmp_path_factory):
    top = tmp_path_factory.mktemp("workflow")
    root, exchange = top / "course", top / "exchange"
    exchange.mkdir(mode=0o777)
    shutil.copytree(build.SOLUTIONS / ASSIGNMENT, root / "source" / ASSIGNMENT)
    write_config(root, exchange)
    nbgrader("generate_assignment", ASSIGNMENT, cwd=root)
    nbgrader("release_assignment", ASSIGNMENT, cwd=root)
    students = ("honest", "cheat", "eve", "flipped")
    for student in students:
        home = top / student
        home.mkdir()
        write_config(home, exchange)
        nbgrader("fetch_assignment", ASSIGNMENT, cwd=home, user=student)
        work(home / ASSIGNMENT / f"{NOTEBOOK}.ipynb", student)
        nbgrader("submit", ASSIGNMENT, cwd=home, user=student)
    nbgrader("collect", ASSIGNMENT, cwd=root)
    autograde_log = nbgrader("autograde", ASSIGNMENT, cwd=root)
    db_url = f"sqlite:///{root / 'gradebook.db'}"
    after_nbgrader = gradebook_scores(db_url)
    nbgrader("generate_feedback", ASSIGNMENT, cwd=root)
    nbgrader("release_feedback", ASSIGNMENT, cwd=root)
    nbgrader("fetch_feedback", ASSIGNMENT, cwd=top / "cheat", user="cheat")
    nbgrader("export", cwd=root)
    return {"root": root, "top": top, "db_url": db_url, "nbgrader": after_nbgrader,
            "autograde_log": autograde_log}


def test_nbgrader_autograde_uses_the_trusted_judge(workflow):
    scores, courses = workflow["nbgrader"]
    assert scores["honest"][0] == 10
    assert scores["cheat"][0] == scores["eve"][0] == 0  # redefining grade earns nothing
    assert all(timestamp is not None for _, timestamp in scores.values())
    assert "conv-test" in courses
    graded = nbformat.read(str(workflow["root"] / "autograded" / "honest" / ASSIGNMENT
                               / f"{NOTEBOOK}.ipynb"), as_version=4)
    test_cell = next(c for c in graded.cells if c.metadata.get("nbgrader", {}).get("grade_id") == TEST)
    assert "all passed" in test_cell.outputs[0]["text"]


def test_feedback_and_export_carry_the_trusted_scores(workflow):
    feedback = next((workflow["top"] / "cheat" / ASSIGNMENT / "feedback").rglob("*.html")).read_text()
    assert "cases passed" in feedback and "not implemented yet" in feedback
    with open(workflow["root"] / "grades.csv", newline="") as handle:
        exported = {row["student_id"]: float(row["raw_score"]) for row in csv.DictReader(handle)}
    assert 0 < exported.pop("flipped") < 10
    assert exported == {"honest": 10.0, "cheat": 0.0, "eve": 0.0}


def test_nbgrader_feedback_shows_the_picture_and_no_hidden_test_text(workflow):
    """nbgrader's own feedback page has what conv-grader's page has: the report and the
    picture of a failing case; and nothing of the instructor's."""
    pages = {s: (workflow["root"] / "feedback" / s / ASSIGNMENT / f"{NOTEBOOK}.html").read_text()
             for s in ("honest", "cheat", "eve", "flipped")}
    assert "likely mistake: kernel flipped" in pages["flipped"]
    assert pages["flipped"].count("data:image/png;base64,") == 1  # the failing task, drawn
    assert "expected, yours, and where they differ" in pages["flipped"]
    assert "data:image/png;base64," not in pages["honest"]  # every case passed: nothing to draw
    for page in pages.values():
        assert "HIDDEN TESTS" not in page and "INSTRUCTOR" not in page


def test_a_clean_autograde_prints_no_warning(workflow):
    """No checksum warning for an untouched cell (a test cell whose release differed from
    its source gave one for every student), and no other warning from nbgrader, except for
    the cheat, whose duplicated test cell nbgrader rightly warns about."""
    sections = re.split(r"SubmittedAssignment<\S+ for (\w+)>", workflow["autograde_log"])
    said = dict(zip(sections[1::2], sections[2::2]))
    assert set(said) == {"honest", "cheat", "eve", "flipped"}
    assert "checksum" in said["cheat"]  # the log is read as it should be
    for student in ("honest", "eve", "flipped"):
        assert "checksum" not in said[student] and "WARNING" not in said[student], student


def test_regrading_gives_identical_grades_and_feedback(workflow):
    root = workflow["root"]
    page = root / "feedback" / "honest" / ASSIGNMENT / f"{NOTEBOOK}.html"
    before = page.read_text()
    nbgrader("autograde", ASSIGNMENT, "--force", cwd=root)
    nbgrader("generate_feedback", ASSIGNMENT, "--force", cwd=root)
    assert gradebook_scores(workflow["db_url"])[0] == workflow["nbgrader"][0]
    assert page.read_text() == before


def test_conv_grader_is_the_same_engine_on_the_same_gradebook(workflow):
    root = workflow["root"]
    out = workflow["top"] / "out"

    def submitted():  # every file nbgrader collected, timestamps included
        return {p.relative_to(root): p.read_bytes() for p in (root / "submitted").rglob("*")
                if p.is_file()}

    before = submitted()
    assert main(["autograde", str(root / "submitted"), "--course", str(root), "--out", str(out),
                 "--jobs", "2", "--no-progress"]) == 0
    assert submitted() == before  # the course's submissions are read, never rewritten
    with open(out / "grades.csv", newline="") as handle:
        rows = {r["student_id"]: float(r["score"]) for r in csv.DictReader(handle)
                if r["grade_id"] == TEST}
    scores, courses = gradebook_scores(workflow["db_url"])
    assert rows == {s: score for s, (score, _) in workflow["nbgrader"][0].items()}
    assert scores == workflow["nbgrader"][0]  # same scores, same timestamps, one course row
    assert courses == workflow["nbgrader"][1] and not (out / "gradebook.db").exists()


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_formgrader_lists_the_trusted_scores(workflow):
    root, port = workflow["root"], _free_port()
    env = {**os.environ, "PATH": os.pathsep.join([str(BIN), os.environ["PATH"]]),
           "HOME": str(root), "USER": "instructor"}
    server = subprocess.Popen(
        [str(BIN / "jupyter"), "server", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.token=t0ken", f"--ServerApp.root_dir={root}"],
        cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/formgrader/api/submissions/{ASSIGNMENT}?token=t0ken"
        for _ in range(120):
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    listed = json.loads(response.read())
                break
            except urllib.error.HTTPError:
                raise
            except OSError:  # not listening yet
                assert server.poll() is None, "the Jupyter server stopped"
                time.sleep(0.5)
        else:
            pytest.fail("the Jupyter server with formgrader did not answer")
    finally:
        server.terminate()
        server.wait(timeout=30)
    by_student = {s["student"]: s for s in listed}
    assert by_student["honest"]["code_score"] == 10 and by_student["honest"]["autograded"]
    assert by_student["cheat"]["code_score"] == 0 and by_student["cheat"]["autograded"]


def test_an_instructors_own_test_cells_run_in_the_sandbox_never_in_a_kernel(tmp_path, monkeypatch):
    """A course notebook may mix task cells with test cells of the instructor's own and a
    manually graded code cell: the own tests run in the student's sandbox after the cells
    above them and are scored by nbgrader's rules (partial credit, errors zero the cell);
    nbgrader's Execute is never called and no kernel starts, so a test cell that writes
    outside or reads the course secret fails there and leaves nothing behind."""
    import jupyter_client.manager
    from nbformat.v4 import new_code_cell, new_notebook
    from nbgrader.api import Gradebook
    from nbgrader.preprocessors import Execute

    from grader.gradebook.nbgrader_judge import TrustedTests

    def refuse(*args, **kwargs):
        raise AssertionError("a kernel was asked for")

    assert not issubclass(TrustedTests, Execute)  # nothing to fall back to
    monkeypatch.setattr(Execute, "preprocess", refuse)
    monkeypatch.setattr(jupyter_client.manager.KernelManager, "start_kernel", refuse)
    monkeypatch.setattr(jupyter_client.manager.AsyncKernelManager, "start_kernel", refuse)

    marker, secret = tmp_path / "escaped.txt", tmp_path / ".grader_secret"
    solution = build.solution_sources(ASSIGNMENT)["conv_forward_naive"]
    shape_test = ("out, _ = conv_forward_naive(np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2)), "
                  "np.zeros(1), {'stride': 1, 'pad': 0})\nassert out.shape == (1, 1, 2, 2)")
    escape_test = f"open({str(marker)!r}, 'w').write('out')\n1"
    source = new_notebook(cells=[
        new_code_cell("import numpy as np\nfrom grader.checks import grade"),
        graded(f"### BEGIN SOLUTION\n{solution}\n### END SOLUTION", "conv_forward_naive",
               solution=True),
        graded('grade("conv_forward", conv_forward_naive, points=10)', TEST, points=10),
        graded(shape_test, "test_output_shape", points=2),
        graded("out.mean() / 2", "test_partial", points=3),
        graded(escape_test, "test_escape", points=1),
        graded(f"print(open({str(secret)!r}).read())", "test_secret", points=1),
        graded(f"### BEGIN SOLUTION\nopen({str(marker)!r}, 'w').write('manual')\n"
               "### END SOLUTION", "manual_code", points=4, solution=True)])
    (tmp_path / "source" / "a1").mkdir(parents=True)
    nbformat.write(source, str(tmp_path / "source" / "a1" / "tiny.ipynb"))
    db_url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    api = nbgrader_api(nbgrader_config(tmp_path, db_url, course_id="mixed"))
    assert api.generate_assignment("a1")["success"]
    release = nbformat.read(str(tmp_path / "release" / "a1" / "tiny.ipynb"), as_version=4)
    for student, code in (("honest", solution), ("cheat", CHEAT + "def conv_forward_naive(*a):\n"
                                                 "    return np.ones((1, 1, 2, 2)) / 2, None")):
        for cell in release.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == "conv_forward_naive":
                cell.source = code
            if cell.metadata.get("nbgrader", {}).get("grade_id") == "manual_code":
                cell.source = f"open({str(marker)!r}, 'w').write('manual')"
        target = tmp_path / "submitted" / student / "a1" / "tiny.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(release, str(target))
        assert api.autograde("a1", student)["success"]
    assert not marker.exists()  # neither the own test nor the manually graded cell ran outside
    assert secret.exists()  # made by the trusted judge, out of the test cell's reach

    own = ("test_output_shape", "test_partial", "test_escape", "test_secret")
    with Gradebook(db_url, "mixed") as gradebook:
        scores = {(s, g): gradebook.find_grade(g, "tiny", "a1", s).score
                  for s in ("honest", "cheat") for g in (TEST, *own)}
        manual = [gradebook.find_grade("manual_code", "tiny", "a1", s) for s in ("honest", "cheat")]
        assert all(g.auto_score is None and g.needs_manual_grade for g in manual)
    # out: a conv of ones, every entry 4 (honest), or 0.5 (cheat); the partial test: out.mean() / 2
    assert scores == {("honest", TEST): 10, ("honest", "test_output_shape"): 2,
                      ("honest", "test_partial"): 2, ("honest", "test_escape"): 0,
                      ("honest", "test_secret"): 0,
                      ("cheat", TEST): 0, ("cheat", "test_output_shape"): 2,
                      ("cheat", "test_partial"): 0.25, ("cheat", "test_escape"): 0,
                      ("cheat", "test_secret"): 0}
    autograded = nbformat.read(str(tmp_path / "autograded" / "honest" / "a1" / "tiny.ipynb"),
                               as_version=4)
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in autograded.cells}
    escape = "".join(o.get("text", "") for o in by_id["test_escape"].outputs)
    assert "run in the grading sandbox" in escape
    assert "It raised FileNotFoundError" in escape and "Score: 0 / 1" in escape, escape
    secret_run = "".join(o.get("text", "") for o in by_id["test_secret"].outputs)
    assert "It raised FileNotFoundError" in secret_run, secret_run
    assert secret.read_text().strip() not in json.dumps(autograded)
    assert "Score: 2 / 3" in "".join(o.get("text", "") for o in by_id["test_partial"].outputs)
    assert by_id["manual_code"].outputs == []  # graded by hand: never run
