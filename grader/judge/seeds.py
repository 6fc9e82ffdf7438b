"""Where the hidden cases' values come from: a course secret, the assignment and the code.

The secret is made once, in the course directory (``.grader_secret``, mode 600, git-ignored),
so every regrade, by ``nbgrader autograde``, ``conv-grader autograde`` or on Gradescope,
draws the same hidden cases for the same code, and nobody can draw them without it.

The hidden cases' geometries are fixed by design (diagnosis/cases.py); only their values
are drawn, from the secret, the assignment and a fingerprint of the code that runs. So
identical code gets identical cases and an identical grade, whoever hands it in and however
often; and whatever a submission learns of its own hidden values is useless to any other
code, a classmate's or its own next version with a lookup table in it: that code draws
other values.
"""

import ast
import hashlib
import os
import secrets
from pathlib import Path

from ..diagnosis.notebook_code import strip_magics

SECRET_FILE = ".grader_secret"


def course_secret(course_root):
    """The course's secret, made on first use; ``course_root`` must be a writable folder."""
    return course_secret_made(course_root)[0]


def course_secret_made(course_root):
    """(course_secret, whether this call made the file): a run that then fails before
    grading anyone removes the secret it made (forget_course_secret)."""
    path = Path(course_root) / SECRET_FILE
    try:
        # O_EXCL: two graders starting at once still end up with one secret.
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except PermissionError as error:
        raise PermissionError(f"cannot make the course secret {path} ({error.strerror}): grade "
                              f"where the course folder is writable, or pass --seed S") from None
    except FileExistsError:
        secret = path.read_text(encoding="ascii").strip()
        if not secret:
            raise ValueError(f"{path} is empty: delete it to make a new course secret "
                             f"(the hidden cases of every student change then)") from None
        return secret, False
    with os.fdopen(handle, "w", encoding="ascii") as file:
        file.write(secrets.token_hex(32) + "\n")
    return path.read_text(encoding="ascii").strip(), True


def forget_course_secret(course_root, secret):
    """Remove the course secret if it still holds ``secret``: for a run that made it and then
    graded no one, so a failed run leaves no file behind. (A second grader started on the
    same new course within those seconds would have read it; the next run makes a new one.)"""
    path = Path(course_root) / SECRET_FILE
    try:
        if path.read_text(encoding="ascii").strip() == secret:
            path.unlink()
    except OSError:
        pass


def code_fingerprint(sources):
    """A digest of the code in ``sources`` (cell sources, in order) that formatting, comments
    and IPython magics do not change: the same program, the same fingerprint."""
    digest = hashlib.sha256()
    for source in sources:
        text = strip_magics(source)
        try:
            canonical = ast.dump(ast.parse(text), annotate_fields=False, include_attributes=False)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            canonical = "\n".join(line.rstrip() for line in text.strip().splitlines())
        digest.update(hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).digest())
    return digest.hexdigest()


def code_seed(seed, assignment, fingerprint):
    """The hidden cases' seed for code with ``fingerprint`` in ``assignment``, from ``seed``
    (the course secret, or ``--seed``). All 256 bits of the hash seed NumPy's generator: no
    search over seeds can find one from the cases feedback describes."""
    digest = hashlib.sha256(f"{seed}:{assignment}:{fingerprint}".encode()).digest()
    return int.from_bytes(digest, "little")
