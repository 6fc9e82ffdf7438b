"""The grader after a normal install: a built wheel in a fresh venv grades a course made by
`nbgrader quickstart`, outside this repository, with the source notebooks copied in."""

import csv
import shutil
import site
import subprocess
import sys
from pathlib import Path

from .conftest import load_sample_class_builder

build = load_sample_class_builder()
ASSIGNMENT = "01_conv_forward"


def run(*command, cwd, env=None):
    result = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_a_wheel_in_a_fresh_venv_grades_a_quickstart_course(tmp_path):
    # Build from a copy holding only what the wheel packs, so the checkout stays untouched.
    project = tmp_path / "project"
    project.mkdir()
    for name in ("pyproject.toml", "README.md", "conv_lib", "grader"):
        copy = shutil.copytree if (build.ROOT / name).is_dir() else shutil.copy
        copy(build.ROOT / name, project / name, **({"ignore": shutil.ignore_patterns("__pycache__")}
                                                    if copy is shutil.copytree else {}))
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", tmp_path / "dist",
        project, cwd=tmp_path)
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
        next((tmp_path / "dist").glob("*.whl")), cwd=tmp_path)
    # The dependencies (nbgrader, numpy, ...) are this environment's, to spare a download; the
    # project itself is not: the .pth adds a plain folder, whose editable-install hooks never run.
    fresh_site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))",
                          cwd=tmp_path).strip())
    (fresh_site / "dependencies.pth").write_text(site.getsitepackages()[0] + "\n")
    where = run(python, "-c", "import grader; print(grader.__file__)", cwd=tmp_path)
    assert where.startswith(str(fresh_site)), where

    env = {"PATH": f"{venv / 'bin'}:{Path(sys.executable).parent}:/usr/bin:/bin",
           "HOME": str(tmp_path), "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter")}
    run(python, "-m", "nbgrader", "quickstart", "course", cwd=tmp_path, env=env)
    course = tmp_path / "course"
    shutil.rmtree(course / "source" / "ps1")  # quickstart's example; its header.ipynb stays
    shutil.copytree(build.SOLUTIONS / ASSIGNMENT, course / "source" / ASSIGNMENT)
    with open(course / "nbgrader_config.py", "a") as config:
        config.write("\nfrom grader.gradebook import use_trusted_grading\n"
                     "use_trusted_grading(c)\n")
    shutil.copytree(build.EXAMPLES / "ada" / ASSIGNMENT, course / "submitted" / "ada" / ASSIGNMENT)
    shutil.copytree(build.EXAMPLES / "eve" / ASSIGNMENT, course / "submitted" / "eve" / ASSIGNMENT)

    grader = venv / "bin" / "conv-grader"
    run(grader, "release", cwd=course, env=env)
    run(grader, "autograde", "submitted", "--out", tmp_path / "out", "--no-progress", cwd=course,
        env=env)
    with open(tmp_path / "out" / "grades.csv", newline="") as handle:
        scores = {r["student_id"]: r["score"] for r in csv.DictReader(handle)
                  if r["grade_id"] == "test_conv_forward"}
    assert scores == {"ada": "10.0", "eve": "0.0"}
    assert (course / "autograded" / "ada" / ASSIGNMENT / "conv_forward.ipynb").exists()
