"""The project's own files agree with each other."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _requirement(spec):
    match = re.match(r"([A-Za-z0-9_.\-]+)\s*([<>=!~]=?\s*\S+)?", spec)
    return match[1].lower().replace("_", "-"), (match[2] or "").replace(" ", "")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_deps = project["dependencies"] + project["optional-dependencies"]["dev"]
    conda_deps = []
    deps_section = (ROOT / "environment.yml").read_text().split("dependencies:", 1)[1]
    for line in deps_section.splitlines():
        item = line.strip()
        if item.startswith("- ") and not item.startswith("- -") and ":" not in item:
            spec = item[2:].strip()
            if not spec.startswith(("python", "pip")):
                conda_deps.append(spec)
    assert sorted(map(_requirement, conda_deps)) == sorted(map(_requirement, pip_deps))


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^(make \w+)$", quick_start, flags=re.M)
    assert commands == ["make demo", "make test"]
    assert "make test" in (ROOT / ".ci/run").read_text()


def test_no_torch_and_no_downloads_in_dependencies():
    text = (ROOT / "pyproject.toml").read_text().lower()
    assert "torch" not in text


def test_public_api_is_importable():
    names = """conv_forward_fast conv_backward_fast max_pool_forward_fast max_pool_backward_fast
    avg_pool_forward_fast avg_pool_backward_fast global_avg_pool_forward
    global_avg_pool_backward im2col col2im""".split()
    code = f"import conv_lib; print(all(hasattr(conv_lib, n) for n in {names!r}))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "True", result.stderr


def test_gitignore_covers_student_folders_grader_output_and_the_course_secret():
    paths = ["submitted/ada/01_conv_forward/conv_forward.ipynb", "autograded/ada/x.ipynb",
             "feedback/ada/01_conv_forward/conv_forward.html", "grades.csv", "graded.sqlite", "gradebook.db",
             ".grader_secret", "exchange/conv/inbound/x"]
    result = subprocess.run(["git", "check-ignore", "--no-index", *paths], cwd=ROOT,
                            capture_output=True, text=True)
    if result.returncode == 128:  # not a git checkout
        import pytest

        pytest.skip("not a git checkout")
    assert sorted(result.stdout.split()) == sorted(paths)
