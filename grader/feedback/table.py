"""The table an autograde run prints: one row per student, one column per assignment."""

from ..sandbox import UNSAFE_FLAG
from .grades import LATE_PENALTY


def summary(results):
    """A text table: one row per student, one column per assignment, then the total."""
    graded = sorted({r.assignment for res in results for r in res.rows})
    header = ["student"] + graded + ["total"]
    table = []
    for result in results:
        row, total, possible = [result.student], 0.0, 0.0
        for assignment in graded:
            # Written answers (score left blank for the instructor) do not count here.
            mine = [r for r in result.rows if r.assignment == assignment and r.score != ""]
            earned = sum(float(r.score or 0) for r in mine)
            best = sum(float(r.max_score) for r in mine)
            broken = any(r.status in ("error", "missing") for r in mine)
            late = -sum(float(r.score) for r in mine if r.grade_id == LATE_PENALTY)
            row.append(f"{earned:g}/{best:g}" + (" (" + mine[0].status + ")" if broken else "")
                       + (f" (late -{late:g})" if late else ""))
            total, possible = total + earned, possible + best
        row.append(f"{total:g}/{possible:g}")
        table.append(row)
    widths = [max(len(str(r[i])) for r in [header] + table) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in table]
    if any(r.unsandboxed for r in results):
        lines.append(f"\nUNSAFE: graded without the sandbox ({UNSAFE_FLAG}); hostile code could "
                     "have changed any of these grades.")
    return "\n".join(lines)
