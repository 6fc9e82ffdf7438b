"""What a run has finished, committed one student at a time: ``OUT/graded.sqlite``.

Each graded student's rows, feedback pages and reports are committed here (SQLite, one
transaction per student) the moment the instructor's process receives them, next to the
gradebook entry nbgrader made. A run that stops (Ctrl-C, a crash, a closed laptop) keeps
every finished student; ``--resume`` reuses the entries whose fingerprint still matches
(same seed, same submitted files by content, same course notebooks, same sandbox mode,
same submission times)
and grades only the rest. grades.csv, the feedback pages and the summary are rebuilt
from these entries, so a resumed run writes exactly what an uninterrupted one would.

Entries are JSON, never pickles: OUT is a folder others may be able to write.
"""

import hashlib
import json
import sqlite3
from pathlib import Path

from ..collect import COLLECTED
from ..judge import StudentResult

FILE = "graded.sqlite"


def _digest(*parts):
    digest = hashlib.sha256()
    for part in parts:
        data = part if isinstance(part, bytes) else json.dumps(part, sort_keys=True).encode()
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def course_fingerprint(books):
    """The course notebooks' points, tests and prelude, as graded: a changed one regrades all."""
    return _digest(sorted((a, name, json.dumps(nb, sort_keys=True))
                          for a, notebooks in books.items() for name, nb in notebooks.items()))


def fingerprint(work, run, course, lateness=COLLECTED):
    """One student's grading inputs: the submitted files by content hash, what was refused
    and why, the run's seed (hashed, never stored), assignments and sandbox mode,
    ``course`` (course_fingerprint of the run's books), and each assignment's submission
    time as ``lateness`` chooses it (the gradebook records it, the feedback may say it)."""
    files = sorted((a, name, hashlib.sha256(Path(path).read_bytes()).hexdigest())
                   for (a, name), path in work.notebooks.items() if a in run.assignments)
    refused = sorted([str(a), str(n), why] for (a, n), why in work.refused.items())
    times = sorted([a, str(t.chosen(lateness)), str(t.collected), str(t.problem),
                    str(t.exchange_note)]
                   for a, t in work.times.items() if a in run.assignments)
    return _digest(files, refused, _digest(str(run.seed)), sorted(run.assignments),
                   bool(run.limits.unsafe_no_sandbox), course, times)


def fingerprints(works, run, lateness=COLLECTED):
    """{student: fingerprint} of ``works`` graded in ``run``, times chosen by ``lateness``."""
    course = course_fingerprint(run.books)
    return {work.student: fingerprint(work, run, course, lateness) for work in works}


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

    def finished(self, marks):
        """{student: StudentResult} of the students whose entry matches ``marks[student]``."""
        found = {}
        for student, mark, text in self.db.execute("SELECT student, fingerprint, result FROM graded"):
            if marks.get(student) == mark:
                found[student] = StudentResult.from_json(student, text)
        return found

    def everyone(self):
        """[StudentResult] of every entry, whatever its fingerprint (what the class report reads)."""
        return [StudentResult.from_json(student, text) for student, text in
                self.db.execute("SELECT student, result FROM graded ORDER BY student")]

    def commit(self, result, mark):
        # One statement, so one transaction: the student's entry is there whole, or not at all.
        self.db.execute("INSERT OR REPLACE INTO graded VALUES (?, ?, ?)",
                        (result.student, mark, result.to_json()))

    def count(self):
        return self.db.execute("SELECT COUNT(*) FROM graded").fetchone()[0]

    def close(self):
        self.db.close()
