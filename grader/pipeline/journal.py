"""What a run has finished, committed one student at a time: ``OUT/graded.sqlite``.

Each graded student's rows, feedback pages and reports are committed here (SQLite, one
transaction per student) the moment the instructor's process receives them, next to the
gradebook entry nbgrader made. A run that stops (Ctrl-C, a crash, a closed laptop) keeps
every finished student; ``--resume`` reuses the entries whose fingerprint still matches
(same seed, same submitted files by content, same course notebooks, same sandbox mode)
and grades only the rest. grades.csv, the feedback pages and the summary are rebuilt
from these entries, so a resumed run writes exactly what an uninterrupted one would.

Entries are JSON, never pickles: OUT is a folder others may be able to write.
"""

import hashlib
import json
import sqlite3
from pathlib import Path

FILE = "graded.sqlite"


def _digest(*parts):
    digest = hashlib.sha256()
    for part in parts:
        data = part if isinstance(part, bytes) else json.dumps(part, sort_keys=True).encode()
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def course_fingerprint(course_notebooks):
    """The course notebooks' points, tests and prelude, as graded: a changed one regrades all."""
    return _digest(sorted((a, name, json.dumps(nb, sort_keys=True))
                          for a, books in course_notebooks.items() for name, nb in books.items()))


def fingerprint(work, seed, graded, unsafe, course):
    """One student's grading inputs: the submitted files by content hash, what was refused
    and why, the seed (hashed, never stored), the assignments graded, and ``course``."""
    files = sorted((a, name, hashlib.sha256(Path(path).read_bytes()).hexdigest())
                   for (a, name), path in work.notebooks.items() if a in graded)
    refused = sorted([str(a), str(n), why] for (a, n), why in work.refused.items())
    return _digest(files, refused, _digest(str(seed)), sorted(graded), bool(unsafe), course)


def _to_json(result):
    return json.dumps({
        "rows": result.rows, "warnings": result.warnings, "seconds": result.seconds,
        "unsandboxed": result.unsandboxed,
        "pages": [[list(key), page] for key, page in result.pages.items()],
        "reports": [[list(key), text] for key, text in result.reports.items()],
    })


def _from_json(student, text, result_type):
    data = json.loads(text)
    return result_type(student, rows=data["rows"], warnings=data["warnings"],
                       seconds=data["seconds"], unsandboxed=data["unsandboxed"],
                       pages={tuple(k): v for k, v in data["pages"]},
                       reports={tuple(k): v for k, v in data["reports"]})


class Journal:
    """The finished students of a run in ``out``; ``fresh`` forgets an earlier run's."""

    def __init__(self, out, fresh):
        self.path = Path(out) / FILE
        self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")  # a commit survives a crash right after it
        self.db.execute("CREATE TABLE IF NOT EXISTS graded (student TEXT PRIMARY KEY, "
                        "fingerprint TEXT NOT NULL, result TEXT NOT NULL)")
        if fresh:
            self.db.execute("DELETE FROM graded")

    def finished(self, fingerprints, result_type):
        """{student: result} of the students whose entry matches ``fingerprints[student]``."""
        found = {}
        for student, mark, text in self.db.execute("SELECT student, fingerprint, result FROM graded"):
            if fingerprints.get(student) == mark:
                found[student] = _from_json(student, text, result_type)
        return found

    def commit(self, result, mark):
        # One statement, so one transaction: the student's entry is there whole, or not at all.
        self.db.execute("INSERT OR REPLACE INTO graded VALUES (?, ?, ?)",
                        (result.student, mark, _to_json(result)))

    def count(self):
        return self.db.execute("SELECT COUNT(*) FROM graded").fetchone()[0]

    def close(self):
        self.db.close()
