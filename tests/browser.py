"""The course in a real browser: a JupyterLab server on 127.0.0.1 and Debian's chromium
driven by selenium, for tests/test_browser.py.

Cell outputs are read from the notebook model (``cell.model.toJSON()``), never from the
page: JupyterLab 4 keeps only the visible cells of a long notebook in the DOM.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# Without the background-networking flags chromium keeps dialling out, and a closed
# network refuses it; --no-sandbox because CI runs as root.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1400,1000"]
SCRIPT_TIMEOUT = 300  # seconds for one notebook's cells, solutions' training included


def missing_browser():
    """Why the browser test cannot run here, or None when it can."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        return (f"no browser: {' and '.join(missing)} not found (install Debian's chromium and "
                "chromium-driver, as .ci/run does, to run the course in a real browser)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "no browser driver: selenium is not installed (pip install -e '.[dev]')"
    return None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """JupyterLab serving ``root`` on 127.0.0.1 with a token; a context manager."""

    def __init__(self, root, log_path):
        self.root, self.log_path = Path(root), Path(log_path)
        self.port, self.token = _free_port(), os.urandom(16).hex()
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        home = Path(tempfile.mkdtemp(prefix="lab-home-"))
        env = dict(os.environ, JUPYTER_CONFIG_DIR=str(home / "config"),
                   JUPYTER_RUNTIME_DIR=str(home / "runtime"),
                   JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
                   PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
        self._home = home
        # no "get notified about Jupyter news?" toast over the screenshots
        (home / "config" / "labconfig").mkdir(parents=True)
        (home / "config" / "labconfig" / "page_config.json").write_text(
            '{"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": true}}')
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in __exit__
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
             f"--port={self.port}", f"--IdentityProvider.token={self.token}",
             f"--ServerApp.root_dir={self.root}", "--LabApp.expose_app_in_browser=True", "--allow-root",
             "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
            cwd=self.root, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited: see {self.log_path}")
            try:
                urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=2)
                return self
            except OSError:
                time.sleep(0.3)
        self.__exit__()
        raise RuntimeError(f"JupyterLab did not answer within 60 s: see {self.log_path}")

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()
        shutil.rmtree(self._home, ignore_errors=True)


def chromium(user_data_dir):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS + [f"--user-data-dir={user_data_dir}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_script_timeout(SCRIPT_TIMEOUT)
    return driver


# Each script gets the notebook's path and selenium's callback last; it answers
# {"cells": [...]} with every cell's JSON, or {"error": "..."}.
_OPEN = """
const [path, done] = [arguments[0], arguments[arguments.length - 1]];
(async () => {
  const app = window.jupyterapp;
  const panel = await app.commands.execute('docmanager:open', {path, factory: 'Notebook'});
  await panel.context.ready;
  await panel.sessionContext.ready;
  while (panel.sessionContext.session?.kernel?.status !== 'idle') {
    await new Promise(resolve => setTimeout(resolve, 100));
  }
  window.coursePanel = panel;
  done({cells: panel.content.widgets.length});
})().catch(error => done({error: String(error)}));
"""

_STEP = """
const done = arguments[arguments.length - 1];
(async () => {
  const app = window.jupyterapp, panel = window.coursePanel, notebook = panel.content;
  const count = notebook.widgets.length;
  app.shell.activateById(panel.id);
  notebook.activeCellIndex = 0;
  for (let i = 0; i < count; i++) {  // Shift-Enter, cell after cell
    await app.commands.execute('notebook:run-cell-and-select-next');
  }
  done({cells: notebook.widgets.slice(0, count).map(cell => cell.model.toJSON())});
})().catch(error => done({error: String(error)}));
"""

_RUN_ALL = """
const done = arguments[arguments.length - 1];
(async () => {
  const app = window.jupyterapp, panel = window.coursePanel;
  app.shell.activateById(panel.id);
  await app.commands.execute('notebook:run-all-cells');
  done({cells: panel.content.widgets.map(cell => cell.model.toJSON())});
})().catch(error => done({error: String(error)}));
"""

_CLOSE = """
const done = arguments[arguments.length - 1];
(async () => {
  const panel = window.coursePanel;
  await panel.sessionContext.shutdown();
  panel.dispose();
  done({});
})().catch(error => done({error: String(error)}));
"""


class Course:
    """A browser on a Lab server: opens, runs and validates one notebook at a time."""

    def __init__(self, driver, server, screenshots):
        self.driver, self.server, self.screenshots = driver, server, Path(screenshots)
        driver.get(f"{server.url}/lab?token={server.token}")
        self._wait_for("return !!(window.jupyterapp && window.jupyterapp.shell"
                       " && document.querySelector('#jp-main-dock-panel'))", 60)

    def _wait_for(self, script, timeout):
        deadline = time.monotonic() + timeout
        while not self.driver.execute_script(script):
            if time.monotonic() > deadline:
                self.screenshot("timeout")
                raise TimeoutError(f"the page did not get there in {timeout} s: {script}")
            time.sleep(0.2)

    def _call(self, script, *args):
        answer = self.driver.execute_async_script(script, *args)
        if "error" in answer:
            raise RuntimeError(f"JupyterLab: {answer['error']}")
        return answer

    def screenshot(self, name):
        path = self.screenshots / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
        self.driver.save_screenshot(str(path))
        return path

    def run(self, path, how):
        """Open ``path`` (relative to the server's root), run it ``how`` ("step": each cell in
        turn, as Shift-Enter does; "run all": the Run All command), screenshot it, close it
        and shut its kernel down; return the cells' JSON."""
        self._call(_OPEN, str(path))
        try:
            cells = self._call(_STEP if how == "step" else _RUN_ALL)["cells"]
            self.screenshot(f"{how}-{path}")
        finally:
            self._call(_CLOSE)
        return cells

    def validate(self, path):
        """Click nbgrader's Validate button on ``path``; return the result dialog's CSS
        classes and text."""
        from selenium.webdriver.common.by import By

        self._call(_OPEN, str(path))
        try:
            selector = f"#{self._panel_id()} .validate-button"
            self._wait_for(f"return !!document.querySelector('{selector}')", 30)
            self.driver.find_element(By.CSS_SELECTOR, selector).click()
            self._wait_for("return !!document.querySelector('#validation-message')", 240)
            message = self.driver.find_element(By.CSS_SELECTOR, "#validation-message")
            result = message.get_attribute("class") or "", message.text
            self.screenshot(f"validate-{path}")
            self.driver.find_element(By.CSS_SELECTOR, ".jp-Dialog .jp-mod-accept").click()
            self._wait_for("return !document.querySelector('#validation-message')", 10)
        finally:
            self._call(_CLOSE)
        return result

    def _panel_id(self):
        return self.driver.execute_script("return window.coursePanel.id")


def _text(cell):
    return "".join("".join(o.get("text", "")) for o in cell.get("outputs", []))


def _is_autograder_cell(cell):
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta.get("grade", False) and not meta.get("solution", False)


def _label(index, cell):
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    return f"cell {index}" + (f" ({grade_id})" if grade_id else "")


def _errors(index, cell):
    problems = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            problems.append(f"{_label(index, cell)} raised {output.get('ename')}: "
                            f"{output.get('evalue', '')[:200]}")
        elif output.get("name") == "stderr":
            problems.append(f"{_label(index, cell)} wrote to stderr: {_text(cell)[:200]}")
    return problems


def _is_check(cell):
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
    return grade_id.startswith("check_")


def _code_cells(cells, problems):
    """(index, cell) of every code cell; one that never ran is a problem."""
    for index, cell in enumerate(cells):
        if cell["cell_type"] == "code":
            if cell.get("execution_count") is None:
                problems.append(f"{_label(index, cell)} did not run")
            yield index, cell


def release_problems(cells):
    """What a student stepping through an untouched release would trip over: any error or
    stderr output outside the autograder cells (which may raise on unfinished work, so that
    Validate flags it), and check cells that do not say in words that the task is missing."""
    problems = []
    for index, cell in _code_cells(cells, problems):
        if not _is_autograder_cell(cell):
            problems += _errors(index, cell)
        if _is_check(cell) and "not implemented yet" not in _text(cell):
            problems.append(f"{_label(index, cell)} does not say the task is missing: "
                            f"{_text(cell)[:200]!r}")
    return problems


_DRAWS = re.compile(r"plt\.show\(\)|\bshow_\w+\(")


def solution_problems(cells):
    """What Run All on a solution notebook must not show: a cell that did not run, error or
    stderr output, a cell that draws without a picture, a check that is not all passed."""
    problems = []
    for index, cell in _code_cells(cells, problems):
        problems += _errors(index, cell)
        source = "".join(cell.get("source", ""))
        pictures = [o for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
        if _DRAWS.search(source) and not pictures:
            problems.append(f"{_label(index, cell)} draws but shows no picture")
        if _is_check(cell) and "all passed" not in _text(cell):
            problems.append(f"{_label(index, cell)}: {_text(cell)[:200]!r}")
    return problems
