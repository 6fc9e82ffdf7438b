"""What a worker's Python can import: a folder holding the worker's own code, and, sent
with each notebook's job, the task's ``conv_lib``, in which every module the task forbids
is a stub.

The stubs are compiled here in place of the real modules, and the real ones never enter
the sandbox (the worker imports conv_lib from the job, in memory), so no import trick
inside the worker (deleting ``sys.modules`` entries, ``importlib.reload``, reading the
source by path) can bring a forbidden layer back: it is not there.
Third-party packages come from :func:`allowed_packages`: numpy, matplotlib and
what they need, and nothing else of the grader's environment (no scipy, no nbgrader).
"""

import ast
import compileall
import functools
import importlib.metadata
import marshal
import shutil
import sys
from multiprocessing.util import Finalize
from pathlib import Path

import conv_lib

from .. import diagnosis
from . import leftovers
from .worker import VIEW

PACKAGES = ("numpy", "matplotlib", "tqdm", "threadpoolctl")  # what conv_lib needs; all student code may import
# The worker's own code, as package-relative paths: enough to run
# ``grader.sandbox.worker`` and nothing of the judge, the cases or the reference.
WORKER_FILES = ("sandbox/worker.py", "sandbox/protocol.py", "sandbox/confine.py", "diagnosis/opaque.py",
                "diagnosis/inputs.py", "diagnosis/tracebacks.py")
GRADER = Path(diagnosis.__file__).resolve().parent.parent
CONV_LIB = Path(conv_lib.__file__).resolve().parent

STUB = '''"""{module} is not available while this task is graded: the task is to write it yourself."""


class ForbiddenCall(Exception):
    pass


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)

    def refuse(*args, **kwargs):
        raise ForbiddenCall("{module}." + name + " is not available while this task is graded: "
                            "the task is to write it yourself")

    return refuse
'''


@functools.cache  # conv_lib does not change while grading; parsing it costs 0.1 s a view
def _relative_imports(path):
    """The sibling modules ``path`` imports with ``from .x import ...``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.module.split(".")[0] for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module}


def conv_lib_modules(blocked):
    """{module name: "copy" or "stub"} for conv_lib under the ``blocked`` module names.

    A module that imports a forbidden one is a stub too (it could only hand the
    forbidden layer back); a private helper that no copied module uses is left out.
    """
    names = {p.stem for p in CONV_LIB.glob("*.py")} - {"__init__"}
    imports = {n: _relative_imports(CONV_LIB / f"{n}.py") for n in names | {"__init__"}}
    stubbed = {n for n in names if f"conv_lib.{n}" in blocked}
    while tainted := {n for n in names - stubbed if imports[n] & stubbed}:
        stubbed |= tainted
    kept = {n for n in names - stubbed if not n.startswith("_")} | {"__init__"}
    while needed := {n for n in names - stubbed - kept if any(n in imports[k] for k in kept)}:
        kept |= needed
    return {**dict.fromkeys(kept, "copy"), **dict.fromkeys(stubbed, "stub")}


@functools.cache
def conv_lib_code(blocked):
    """{module name: marshal bytes} of conv_lib under the ``blocked`` module names (a
    frozenset), compiled once per grading process; the worker imports it from memory."""
    code = {}
    for name, how in conv_lib_modules(set(blocked)).items():
        module = "conv_lib" if name == "__init__" else f"conv_lib.{name}"
        source = ((CONV_LIB / f"{name}.py").read_text(encoding="utf-8") if how == "copy"
                  else STUB.format(module=f"conv_lib.{name}"))
        path = f"{VIEW}/conv_lib/{name}.py"
        code[module] = marshal.dumps(compile(source, path, "exec", dont_inherit=True))
    return code


def build():
    """A new folder with ``grader`` (the worker only); the caller removes it
    (``shutil.rmtree``) when it is done with it."""
    root = leftovers.make_folder("grader-view-")
    root.chmod(0o755)  # the sandbox's unprivileged user reads it
    for relative in WORKER_FILES:
        target = root / "grader" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(GRADER / relative, target)
    # Empty package files: the real ones re-export modules the view leaves out.
    for package in {root / "grader", *(p.parent for p in (root / "grader").rglob("*.py"))}:
        (package / "__init__.py").touch()
    # Compiled once here: the worker runs with -B and would otherwise compile on every start.
    compileall.compile_dir(root, quiet=1)
    for path in root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return root


_SHARED = {}


def shared():
    """The view, built once per grading process and mounted read-only by each of its
    sandboxes; removed when the process that built it exits."""
    if "view" not in _SHARED or not _SHARED["view"].is_dir():
        _SHARED["view"] = build()
        Finalize(None, shutil.rmtree, args=(str(_SHARED["view"]),),
                 kwargs={"ignore_errors": True}, exitpriority=0)
    return _SHARED["view"]


def site_links():
    """A folder of links to the allowed packages, built once per grading process: a
    container-mode worker's site folder (bubblewrap mounts them at isolation.SITE instead)."""
    if "site" not in _SHARED or not _SHARED["site"].is_dir():
        root = leftovers.make_folder("grader-site-")
        for name, path in allowed_packages().items():
            (root / name).symlink_to(path.resolve())
        root.chmod(0o755)
        _SHARED["site"] = root
        Finalize(None, shutil.rmtree, args=(str(root),), kwargs={"ignore_errors": True},
                 exitpriority=0)
    return _SHARED["site"]


@functools.cache
def allowed_packages():
    """{top-level name: Path} of the files PACKAGES and their requirements install."""
    from packaging.requirements import Requirement  # matplotlib's own dependency

    entries, pending, seen = {}, list(PACKAGES), set()
    while pending:
        name = pending.pop()
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue  # an optional requirement that is not installed
        if dist.metadata["Name"].lower() in seen:
            continue
        seen.add(dist.metadata["Name"].lower())
        for text in dist.requires or ():
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(requirement.name)
        for file in dist.files or ():
            top = file.parts[0]
            if top in ("..", "__pycache__") or top.endswith(".pth"):
                continue
            path = Path(dist.locate_file(top))
            if path.exists():
                entries[top] = path
    return entries


def python_installation():
    """The folder holding the interpreter and its standard library, and the interpreter."""
    return Path(sys.base_prefix).resolve(), Path(sys._base_executable).resolve()
