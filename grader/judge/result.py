"""What grading one student produces (rows of grades.csv, feedback pages, reports) and its JSON form."""

import json
from dataclasses import dataclass, field

from ..feedback import LATE_PENALTY, Row, with_late_penalty


@dataclass
class StudentResult:
    student: str
    rows: list = field(default_factory=list)  # [Row]
    pages: dict = field(default_factory=dict)  # (assignment, notebook) -> html
    warnings: list = field(default_factory=list)  # for the instructor
    reports: dict = field(default_factory=dict)  # (assignment, notebook, grade_id) -> text
    seconds: float = 0.0  # wall time spent grading this student
    unsandboxed: bool = False  # graded with --unsafe-no-sandbox
    # assignment -> {notebook: {grade_id: (score, report, picture)}}: what the gradebook records
    decided: dict = field(default_factory=dict)
    broken: bool = False  # grading broke down (failed_student): never kept for --resume
    resumed: bool = False  # kept from an earlier run by --resume, not graded by this one

    def penalise(self, assignment, notebook, points, lateness):
        """Take ``points`` off ``notebook`` for lateness (``lateness``: "late by 2 h"): a row
        of grades.csv with the negative score, and a line on its feedback page."""
        self.rows.append(Row(self.student, assignment, notebook, LATE_PENALTY, -round(points, 2),
                             0.0, f"late penalty ({lateness})"))
        if (assignment, notebook) in self.pages:
            self.pages[(assignment, notebook)] = with_late_penalty(
                self.pages[(assignment, notebook)], points, lateness)

    def to_json(self):
        """What a run's journal keeps of this result (JSON, never a pickle)."""
        return json.dumps({
            "rows": self.rows, "warnings": self.warnings, "seconds": self.seconds,
            "unsandboxed": self.unsandboxed,
            "pages": [[list(key), page] for key, page in self.pages.items()],
            "reports": [[list(key), text] for key, text in self.reports.items()],
        })

    @classmethod
    def from_json(cls, student, text):
        data = json.loads(text)
        return cls(student, rows=[Row(*row) for row in data["rows"]], warnings=data["warnings"],
                   seconds=data["seconds"], unsandboxed=data["unsandboxed"],
                   pages={tuple(k): v for k, v in data["pages"]},
                   reports={tuple(k): v for k, v in data["reports"]})
