"""Where an error came from, told from the student's side.

An error raised inside conv_lib or NumPy (a wrong cache passed to a layer, say)
is the student's call gone wrong: the student's line comes first, then the
library function it called. Imports nothing heavy: the sandboxed worker uses it
before any student code runs, and must not load conv_lib early.
"""

import os
import traceback


def _library_name(frame):
    path = frame.filename.replace(os.sep, "/")
    for package in ("conv_lib", "numpy"):
        marker = f"/{package}/"
        if marker in path:
            module = path.split(marker, 1)[1].removesuffix(".py").replace("/", ".")
            module = module.removesuffix(".__init__").removesuffix("__init__")
            return f"{package}.{module}".rstrip(".") + f".{frame.name}"
    return frame.name


def where(tb, is_student):
    """'in f, line N: `code`', plus ' -> inside conv_lib.layers.affine_backward' when the
    error was raised in a library the student's line called; '' without a student frame."""
    frames = traceback.extract_tb(tb)
    mine = [i for i, f in enumerate(frames) if is_student(f.filename)]
    if not mine:
        return ""
    frame = frames[mine[-1]]
    text = f"in {frame.name}, line {frame.lineno}"
    if frame.line:
        text += f": `{frame.line.strip()}`"
    deeper = frames[mine[-1] + 1:]
    if deeper:
        text += f" -> inside {_library_name(deeper[0])}"
    return text
