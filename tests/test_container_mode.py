"""Gradescope's run_autograder end to end inside a stand-in of a default Docker container (root
without CAP_SYS_ADMIN, namespace calls refused by seccomp: tests/container.py), where
bubblewrap cannot start and the grader's container mode isolates each worker instead.

- an honest, a buggy and a hostile upload each get a correct results.json; the hostile one
  (it tries to overwrite results.json, to read the course secret and the solutions and use
  them, and to kill every process it can) earns nothing, and the grader answers all the same;
- identical code uploaded by two students gets the same score;
- where container mode cannot start either (a profile that also refuses Landlock), and when
  the grader cannot run at all or runs out of time, results.json still says why."""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

from grader.sandbox import worker_view

from .conftest import load_sample_class_builder
from .test_gradescope import check_schema

build = load_sample_class_builder()
RUN = build.ROOT / "examples" / "gradescope" / "run_autograder"
HARNESS = Path(__file__).with_name("container.py")
ASSIGNMENT, NOTEBOOK = "01_conv_forward", "conv_forward"
SYSTEM_PYTHON = Path("/usr/bin/python3.11")

HOSTILE = '''
import glob, json, os, signal

def conv_forward_naive(x, w, b, conv_param):
    for path in glob.glob("/**/results.json", recursive=True) + ["{root}/results/results.json"]:
        try:
            with open(path, "w") as handle:
                json.dump({{"score": 1000, "output": "pwned", "tests": []}}, handle)
        except OSError:
            pass
    for pid in range(2, 1 << 16):  # the grader, the harness, Gradescope's harness...
        if pid != os.getpid():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    namespace = {{}}
    try:
        secret = open("{root}/source/.grader_secret").read()
        solutions = open("{root}/source/solutions/{assignment}/{notebook}.ipynb").read()
        for cell in json.loads(solutions)["cells"]:
            if "def conv_forward_naive" in "".join(cell["source"]):
                exec("".join(cell["source"]), namespace)
    except OSError:
        raise NotImplementedError("nothing readable")
    return namespace["conv_forward_naive"](x, w, b, conv_param)
'''


@pytest.fixture(scope="module")
def container_python():
    """A Python an unprivileged user can run (the tests' own may live under /root, which
    only root may enter): Debian's 3.11, in a world-readable venv holding copies of the
    packages a worker imports and the rest of the tests' environment behind them."""
    if not SYSTEM_PYTHON.exists() or sys.version_info[:2] != (3, 11):
        pytest.fail(f"container mode's test needs {SYSTEM_PYTHON} and the tests on Python 3.11 "
                    f"(apt-get install python3.11-venv)")
    folder = Path(tempfile.mkdtemp(prefix="container-python-"))
    folder.chmod(0o755)
    subprocess.run([str(SYSTEM_PYTHON), "-m", "venv", "--without-pip", str(folder)], check=True)
    site = folder / "lib" / "python3.11" / "site-packages"
    for name, path in worker_view.allowed_packages().items():
        (shutil.copytree if path.is_dir() else shutil.copy2)(path, site / name)
    (site / "tests-environment.pth").write_text(
        f"{sysconfig.get_paths()['purelib']}\n{build.ROOT}\n")
    subprocess.run(["chmod", "-R", "a+rX", str(folder)], check=True)
    yield folder / "bin" / "python"
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def autograder(tmp_path, container_python):
    root = tmp_path / "autograder"
    shutil.copytree(build.SOLUTIONS / ASSIGNMENT, root / "source" / "solutions" / ASSIGNMENT)
    shutil.copy(build.ROOT / "nbgrader_config.py", root / "source")
    (root / "source" / ".grader_secret").write_text("c0ffee" * 10 + "\n")
    (root / "source" / ".grader_secret").chmod(0o600)

    def run(notebook, user=4242, harness=(), **settings):
        shutil.rmtree(root / "submission", ignore_errors=True)
        (root / "submission").mkdir(parents=True)
        notebook_path = root / "submission" / f"{NOTEBOOK}.ipynb"
        if isinstance(notebook, Path):
            shutil.copy(notebook, notebook_path)
        else:
            import nbformat
            nbformat.write(notebook, str(notebook_path))
        (root / "submission_metadata.json").write_text(json.dumps(
            {"users": [{"email": f"{user}@example.org", "id": user, "name": "S"}]}))
        env = {"PATH": os.environ["PATH"], "AUTOGRADER_ROOT": str(root),
               "AUTOGRADER_PYTHON": str(container_python), "ASSIGNMENT": ASSIGNMENT, **settings}
        command = [sys.executable, str(HARNESS), *harness, "--", str(RUN)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        document = json.loads((root / "results" / "results.json").read_text())
        check_schema(document)
        return done, document

    return root, run


def hostile(root):
    code = HOSTILE.format(root=root, assignment=ASSIGNMENT, notebook=NOTEBOOK)
    return build.submission(ASSIGNMENT, NOTEBOOK, {"conv_forward_naive": code})


def test_a_default_container_grades_honest_buggy_and_hostile_uploads(autograder):
    root, run = autograder
    secret = (root / "source" / ".grader_secret").read_bytes()
    done, honest = run(build.EXAMPLES / "ada" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    if os.geteuid() != 0:  # a container started as an ordinary user: no uid to give workers
        assert done.returncode == 2 and honest["score"] == 0
        assert "must run as root" in honest["output"] and "bubblewrap" in honest["output"]
        return
    assert done.returncode == 0, done.stderr
    assert honest["score"] == 10 and "Isolation: container mode" in honest["output"]
    assert "bubblewrap" not in honest["output"]  # it could not start here: namespaces refused

    buggy_upload = build.EXAMPLES / "ben" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    _, buggy = run(buggy_upload, user=1)
    _, same = run(buggy_upload, user=2)  # identical code, another student
    assert 0 < buggy["score"] < 10 and same["score"] == buggy["score"]
    assert same["tests"] == buggy["tests"]

    done, attack = run(hostile(root), user=666)
    assert done.returncode == 0, done.stderr  # the grader lived to answer
    assert attack["score"] == 0 and "pwned" not in json.dumps(attack)
    assert (root / "source" / ".grader_secret").read_bytes() == secret


def test_where_no_sandbox_can_start_results_json_says_why(autograder):
    _, run = autograder
    done, document = run(build.EXAMPLES / "ada" / ASSIGNMENT / f"{NOTEBOOK}.ipynb",
                         harness=("--no-landlock",))
    assert done.returncode == 2
    assert document["score"] == 0 and document["tests"] == []
    assert "could not grade this upload" in document["output"]
    why = "Landlock" if os.geteuid() == 0 else "must run as root"
    assert why in document["output"] and "bubblewrap" in document["output"]


@pytest.mark.parametrize(("settings", "reason"), [
    ({"AUTOGRADER_PYTHON": "/nowhere/python"}, "could not be started"),
    ({"GRADER_TIMEOUT": "1"}, "took longer than GRADER_TIMEOUT (1 s)"),
])
def test_a_grader_that_cannot_run_or_runs_out_of_time_still_answers(autograder, settings, reason):
    _, run = autograder
    done, document = run(build.EXAMPLES / "ada" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", **settings)
    assert done.returncode != 0
    assert document["score"] == 0 and reason in document["output"]
