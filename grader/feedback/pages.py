"""Feedback pages: what each student sees about one notebook.

They show every failing case with its parameters and the reason, the notes
about the run (skipped cells, time-outs), and the written answers left for the
instructor. They never show test code, hidden or not.
"""

import html
import re

from ..diagnosis import pictures, pointers
from ..diagnosis.judge import common_problem
from ..sandbox import UNSAFE_NOTE, SandboxUnavailable, isolation_description

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; color: #222; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 1.6rem; }
.score { font-weight: bold; } .ok { color: #1a7f37; } .bad { color: #b42318; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
td, th { border: 1px solid #ddd; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; } .note { background: #fff8e1; padding: .5rem .8rem; }
code { background: #f6f8fa; padding: 0 .2rem; }
"""


def _escape(text):
    return html.escape(str(text))


def _own_test_section(entry):
    """An instructor's own test cell: what it did when run after the student's code."""
    full = entry["score"] >= entry["max_score"]
    return (f"<h2>{_escape(entry['function'])} <span class='score {'ok' if full else 'bad'}'>"
            f"{entry['score']:g} / {entry['max_score']:g} points</span></h2>"
            f"<pre>{_escape(entry['report'])}</pre>")


def _task_section(entry):
    if "report" in entry:
        return _own_test_section(entry)
    verdicts = entry["verdicts"]
    passed = sum(v.passed for v in verdicts)
    score_class = "ok" if passed == len(verdicts) else "bad"
    parts = [
        f"<h2>{_escape(entry['function'])} <span class='score {score_class}'>"
        f"{entry['score']:g} / {entry['max_score']:g} points</span></h2>",
        f"<p>{passed} of {len(verdicts)} cases passed (public and hidden).</p>",
    ]
    failing = [v for v in verdicts if not v.passed]
    shared = common_problem(verdicts)
    if shared:
        parts.append(f"<p class='bad'>Every case: {_escape(shared)}</p>")
    elif failing:
        said = pointers.arrange(verdicts, entry.get("findings", []))
        parts += [f"<p class='bad'>{_escape(line)}</p>" for line in said.lead]
        parts += [f"<p class='bad'>{_escape(f.sentence)}</p>" for f in said.findings]
        rows = "".join(
            f"<tr><td>{_escape(v.case.label)}</td><td>{_escape(v.case.describe())}</td>"
            f"<td>{'<br>'.join(_escape(p) for p in said.problems(v))}</td></tr>"
            for v in failing
        )
        parts.append(f"<table><tr><th>case</th><th>parameters</th><th>what went wrong</th></tr>"
                     f"{rows}</table>")
        parts.append(picture(verdicts, entry.get("picture")))
    return "\n".join(parts)


def picture(verdicts, png=None):
    """The first failing case drawn (expected, yours, difference), from the arrays the
    trusted judge already holds (``png``: that drawing, when already made); '' when nothing
    can be drawn."""
    try:
        return pictures.html_figure(verdicts, png)
    except Exception:  # noqa: BLE001 - a picture is a bonus; the table says it all
        return ""


def _isolation_line(notes):
    """Which isolation the student's code ran in (the unsafe note says its own)."""
    if UNSAFE_NOTE in notes:
        return ""
    try:
        said = isolation_description()
    except SandboxUnavailable:  # a page made where no sandbox starts: no code of theirs ran
        return ""
    return f"<p><small>Your code ran in the grader's {_escape(said)}.</small></p>"


LATE_MARK = "<!-- late penalty -->"


def with_late_penalty(page_html, points, lateness):
    """``page_html`` saying that ``points`` were taken off for lateness, and the total left."""
    earned = re.search(r"Autograded: ([0-9.e+-]+) / ([0-9.e+-]+) points", page_html)
    left = f" Your score: {max(0.0, float(earned[1]) - points):g} / {float(earned[2]):g}." \
        if earned else ""
    said = (f"<p class='score bad'>Late penalty: &minus;{points:g} points ({_escape(lateness)}, "
            f"as the course's nbgrader late-submission rule sets it).{left}</p>")
    return page_html.replace(LATE_MARK, said, 1)


def page(student, assignment, notebook, entries, manual, notes, error=None):
    """One notebook's feedback as a standalone HTML page.

    entries: [{"function", "score", "max_score", "verdicts", "findings"}] for the test cells
    (findings: the probe ladder's, optional), or {"function", "score", "max_score", "report"}
    for an instructor's own test cell;
    manual: [(grade_id, points)] written answers; notes: sentences about the run.
    """
    earned = sum(e["score"] for e in entries)
    possible = sum(e["max_score"] for e in entries)
    body = [f"<h1>{_escape(assignment)} / {_escape(notebook)}: feedback for {_escape(student)}</h1>"]
    if error:
        body.append(f"<p class='note bad'>{_escape(error)}</p>")
    else:
        body.append(f"<p class='score'>Autograded: {earned:g} / {possible:g} points.</p>"
                    f"{LATE_MARK}")
    if notes:
        body.append("<div class='note'><b>About this run</b><ul>"
                    + "".join(f"<li>{_escape(n)}</li>" for n in notes) + "</ul></div>")
    body += [_task_section(e) for e in entries]
    if manual and not error:
        items = "".join(f"<li><code>{_escape(g)}</code> ({p:g} points)</li>" for g, p in manual)
        body.append(f"<h2>Written answers</h2><p>Graded by your instructor:</p><ul>{items}</ul>")
    body.append(_isolation_line(notes))
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Feedback: "
            f"{_escape(assignment)}</title><style>{STYLE}</style></head><body>"
            + "\n".join(body) + "</body></html>")
