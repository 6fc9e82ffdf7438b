"""The class report: what an instructor opens the morning after the deadline.

One offline HTML page (plots inlined as PNG data URIs) and two CSVs in OUT, built from the
results a run already committed (its journal), never by grading again:

- the score distribution of each task and each assignment;
- the diagnosed mistakes across the class, by function and kind, most common first, with
  the students who made each (linked to their feedback pages);
- the aspects (stride > 1, padding, dilation, ...) of the hidden cases that failed most;
- the submissions that hit a limit, were refused or crashed, or could not be graded;
- late submissions and their penalties (from the gradebook, when there is one);
- the similarity check's flagged pairs, when it ran.

Everything is read from the cell reports the students also see (the check's own words), so
the report names a mistake exactly as the feedback does.
"""

import base64
import csv
import html
import io
import functools
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from urllib.parse import quote

from .grades import csv_cell, write_atomically

HTML_FILE = "report.html"
MISTAKES_CSV = "report_mistakes.csv"
SCORES_CSV = "report_scores.csv"

HEADLINE = re.compile(r"^(?P<function>\w+): (?P<passed>\d+)/(?P<total>\d+) cases passed")
CASE = re.compile(r"^  ✗ (?P<label>(?:public|hidden) \d+): (?P<params>.*)$")
MISTAKE = re.compile(r"likely mistake: (?P<name>[^.]+)\.")
RAISED = re.compile(r"raised (?P<type>\w+):")
NUMBERED = re.compile(r"\s*\([^()]*\d[^()]*\)")  # "(rel_error 4e-02; ...)", "(int64)"
# A case's settings as Case.describe() writes them: "stride 2, pad 1, dilation 2, pool 2x3".
SETTING = re.compile(r"(?P<key>[a-z_]+) (?P<value>[\w.]+)")

# What stopped a case, as the judge words it, and the heading it gets in the report.
LIMITS = (
    ("did not finish within", "a case timed out"),
    ("the grading time for this notebook ran out", "the notebook's grading time ran out"),
    ("your code ended the grading process", "crashed the grading process (or ran out of memory)"),
    ("returned more than the task's answer can hold", "answer refused: too large"),
    ("judging time", "the judging time ran out"),
)
NOT_IMPLEMENTED = "not implemented yet"
NO_SIMILARITY = ("<h2>Similar code</h2><p class='muted'>Not checked in this report: "
                 "<code>conv-grader report OUT --submissions SUBMISSIONS</code> or "
                 "<code>conv-grader similarity SUBMISSIONS --out DIR</code> compares the "
                 "students' own code.</p>")


@dataclass
class TaskReading:
    """What one test cell's report says, read back from its text."""

    function: str
    passed: int
    total: int
    kinds: list = field(default_factory=list)  # named mistakes, or what kind of failure
    failed_hidden: list = field(default_factory=list)  # [settings dict] of failing hidden cases
    stopped: list = field(default_factory=list)  # LIMITS headings that apply


def read_report(text):
    """A TaskReading of a test cell's report (diagnosis.checks.report's words), or None when
    the text is not one (an instructor's own test cell, a notebook not submitted)."""
    lines = text.splitlines()
    head = HEADLINE.match(lines[0]) if lines else None
    if head is None:
        return None
    reading = TaskReading(head["function"], int(head["passed"]), int(head["total"]))
    if reading.passed == reading.total:
        return reading
    named = list(dict.fromkeys(_kind(m["name"]) for m in MISTAKE.finditer(text)))
    reading.kinds = named or [_failure_kind(text)]
    for line in lines:
        case = CASE.match(line)
        if case and case["label"].startswith("hidden"):
            reading.failed_hidden.append(
                {m["key"]: m["value"] for m in SETTING.finditer(case["params"])})
    reading.stopped = [heading for words, heading in LIMITS if words in text]
    return reading


def _kind(name):
    """A named mistake without the numbers of one student's case ("dx is a float32 array
    (rel_error 4e-02; ...)"), so everyone who made it is counted under one name; a name of
    the catalogue stays whole, numbers and all ("... (divided by count - 1)")."""
    known = next((k for k in _catalogue_names() if name.startswith(k)), None)
    return known or " ".join(NUMBERED.sub("", name).split())


@functools.cache
def _catalogue_names():
    """The known mistakes' names, longest first (one may begin another)."""
    from ..diagnosis.mistakes import CATALOG

    return sorted({m.name for mistakes in CATALOG.values() for m in mistakes}, key=len,
                  reverse=True)


def _failure_kind(text):
    """A failure no mistake is named for, in the report's own terms."""
    if NOT_IMPLEMENTED in text:
        return NOT_IMPLEMENTED
    if (raised := RAISED.search(text)) is not None:
        return f"raises {raised['type']}"
    for words, heading in LIMITS:
        if words in text:
            return heading
    if "has the wrong shape" in text:
        return "wrong shape (no known mistake matched)"
    if "changed" in text and "input" in text:
        return "changes its input"
    if "wrong values" in text:
        return "wrong values (no known mistake matched)"
    return "fails hidden cases only" if "public" not in text else "other"


# Aspects of a hidden case that can make it fail where the public ones pass.
ASPECTS = (
    ("stride > 1", lambda s: _num(s.get("stride")) > 1),
    ("padding > 0", lambda s: _num(s.get("pad")) > 0),
    ("dilation > 1", lambda s: _num(s.get("dilation")) > 1),
    ("non-square pool window", lambda s: "x" in s.get("pool", "x") and
     len(set(s.get("pool", "1x1").split("x"))) > 1),
    ("regularisation (reg > 0)", lambda s: _num(s.get("reg")) > 0),
)


def _num(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


@dataclass
class LateSubmission:
    student: str
    assignment: str
    submitted: str
    due: str
    seconds_late: float
    penalty: float


def _feedback_link(student, assignment, notebook):
    href = "/".join(quote(p) for p in ("feedback", student, assignment, f"{notebook}.html"))
    return f"<a href='{html.escape(href)}'>{html.escape(student)}</a>"


def _figure(draw, alt):
    """A matplotlib figure drawn by ``draw(fig)`` as an <img> with a data URI."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 2.6), layout="constrained")
    draw(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f"<img alt='{html.escape(alt)}' src='data:image/png;base64,{data}'>"


def _histogram(ax, values, top, title):
    ax.hist(values, bins=min(20, max(5, int(top) or 5)), range=(0, top or 1), color="#4c72b0")
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("points", fontsize=8)
    ax.set_ylabel("students", fontsize=8)
    ax.tick_params(labelsize=7)
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # students come whole


@dataclass
class ClassData:
    """The numbers of the report, gathered once from the results (also what tests check)."""

    tasks: dict  # (assignment, notebook, grade_id) -> {"max": float, "scores": {student: float}}
    assignments: dict  # assignment -> {"max": float, "scores": {student: float}}
    mistakes: dict  # (assignment, notebook, function, kind) -> [student]
    aspects: dict  # (function, aspect) -> number of failing hidden cases with it
    hidden_only: dict  # function -> [student] who pass every public case but fail hidden ones
    stopped: list  # [(student, assignment, notebook, what)]
    warnings: list  # [(student, warning)]


def gather(results):
    """ClassData of ``results`` (StudentResults: rows and cell reports)."""
    tasks, assignments = {}, {}
    mistakes = defaultdict(list)
    aspects, hidden_only = Counter(), defaultdict(list)
    stopped, warnings = [], []
    for result in results:
        for row in result.rows:
            if row.score == "" or row.status == "needs manual grading":
                continue  # written answers are the instructor's to grade
            key = (row.assignment, row.notebook, row.grade_id)
            task = tasks.setdefault(key, {"max": float(row.max_score), "scores": {}})
            task["scores"][result.student] = float(row.score or 0)
            whole = assignments.setdefault(row.assignment, {"max": 0.0, "scores": {}})
            whole["scores"][result.student] = whole["scores"].get(result.student, 0.0) + \
                float(row.score or 0)
            if row.status in ("error", "missing"):
                what = "not submitted" if row.status == "missing" else "could not be graded"
                entry = (result.student, row.assignment, row.notebook, what)
                if entry not in stopped:
                    stopped.append(entry)
        for (assignment, notebook, _grade_id), text in sorted(result.reports.items()):
            reading = read_report(text)
            if reading is None:
                continue
            for kind in reading.kinds:
                mistakes[(assignment, notebook, reading.function, kind)].append(result.student)
            for settings in reading.failed_hidden:
                for name, applies in ASPECTS:
                    if applies(settings):
                        aspects[(reading.function, name)] += 1
            public_failed = any(line.startswith("  ✗ public") for line in text.splitlines())
            if reading.failed_hidden and not public_failed and reading.passed < reading.total:
                hidden_only[reading.function].append(result.student)
            stopped += [(result.student, assignment, notebook, what) for what in reading.stopped]
        warnings += [(result.student, w) for w in result.warnings]
    for (assignment, _notebook, _grade_id), task in tasks.items():
        assignments[assignment]["max"] += task["max"]
    return ClassData(tasks, assignments, dict(mistakes), dict(aspects), dict(hidden_only),
                     stopped, warnings)


def ranked_mistakes(data):
    """[(assignment, notebook, function, kind, students)], most common first."""
    return sorted(((*key, sorted(students)) for key, students in data.mistakes.items()),
                  key=lambda m: (-len(m[4]), m[0], m[2], m[3]))


STYLE = """
body { font-family: system-ui, sans-serif; max-width: 70rem; margin: 2rem auto; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; } h3 { font-size: 1rem; }
table { border-collapse: collapse; margin: .5rem 0; }
td, th { border: 1px solid #ddd; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; } td.n { text-align: right; } .muted { color: #666; }
img { max-width: 100%; }
"""


def _table(header, rows):
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _score_section(data):
    parts = ["<h2>Scores</h2>"]
    rows = []
    for assignment, whole in sorted(data.assignments.items()):
        values = list(whole["scores"].values())
        rows.append([html.escape(assignment), f"{whole['max']:g}",
                     f"{statistics.mean(values):.2f}", f"{statistics.median(values):g}",
                     str(sum(v >= whole["max"] for v in values)), str(sum(v == 0 for v in values))])
    parts.append(_table(["assignment", "points", "mean", "median", "full marks", "zero"], rows))

    def per_assignment(fig):
        axes = fig.subplots(1, max(1, len(data.assignments)), squeeze=False)[0]
        for ax, (assignment, whole) in zip(axes, sorted(data.assignments.items())):
            _histogram(ax, list(whole["scores"].values()), whole["max"], assignment)

    if data.assignments:
        fig_width = max(1, len(data.assignments))
        parts.append(_figure(per_assignment, f"score histograms of {fig_width} assignments"))
    by_assignment = defaultdict(list)
    for (assignment, notebook, grade_id), task in sorted(data.tasks.items()):
        by_assignment[assignment].append((notebook, grade_id, task))
    for assignment, tasks in sorted(by_assignment.items()):
        shown = [t for t in tasks if t[2]["max"] > 0]
        rows = [[html.escape(f"{nb} / {g}"), f"{t['max']:g}",
                 f"{statistics.mean(t['scores'].values()):.2f}"]
                + ([str(sum(v >= t["max"] for v in t["scores"].values())),
                    str(sum(v == 0 for v in t["scores"].values()))] if t["max"] > 0
                   else ["(0 points)", ""]) for nb, g, t in tasks]
        parts.append(f"<h3>{html.escape(assignment)}: per task</h3>")
        parts.append(_table(["test cell", "points", "mean", "full marks", "zero"], rows))
        if shown:
            def draw(fig, shown=shown):
                axes = fig.subplots(1, len(shown), squeeze=False)[0]
                for ax, (_nb, grade_id, task) in zip(axes, shown):
                    _histogram(ax, list(task["scores"].values()), task["max"],
                               grade_id.removeprefix("test_"))
            parts.append(_figure(draw, f"score histograms of the tasks of {assignment}"))
    return "\n".join(parts)


def _mistake_section(data):
    parts = ["<h2>Mistakes across the class</h2>",
             "<p class='muted'>Each failing task of each student, under the mistake its feedback "
             "names (<q>likely mistake</q>), or the kind of failure when none is named. Most "
             "common first; a name links to that student's feedback page.</p>"]
    rows = []
    for assignment, notebook, function, kind, students in ranked_mistakes(data):
        links = ", ".join(_feedback_link(s, assignment, notebook) for s in students)
        rows.append([f"<code>{html.escape(function)}</code>", html.escape(kind),
                     f"<span class='n'>{len(students)}</span>", links])
    parts.append(_table(["function", "mistake", "students", "who"], rows) if rows
                 else "<p>No task failed.</p>")
    parts.append("<h2>Hidden cases</h2>")
    rows = [[f"<code>{html.escape(f)}</code>", html.escape(a), str(n)] for (f, a), n in
            sorted(data.aspects.items(), key=lambda i: (-i[1], i[0]))]
    parts.append("<p class='muted'>Settings of the failing hidden cases that feedback lists "
                 "(a long report lists the first ones only).</p>")
    parts.append(_table(["function", "aspect", "failing hidden cases"], rows) if rows
                 else "<p>No hidden case failed.</p>")
    rows = [[f"<code>{html.escape(f)}</code>", str(len(s)), html.escape(", ".join(sorted(s)))]
            for f, s in sorted(data.hidden_only.items(), key=lambda i: -len(i[1]))]
    if rows:
        parts.append("<h3>Pass every public case, fail hidden ones</h3>")
        parts.append(_table(["function", "students", "who"], rows))
    return "\n".join(parts)


def _trouble_section(data):
    parts = ["<h2>Limits, refusals, crashes</h2>"]
    rows = [[_feedback_link(s, a, nb), html.escape(f"{a} / {nb}"), html.escape(what)]
            for s, a, nb, what in sorted(data.stopped)]
    parts.append(_table(["student", "notebook", "what happened"], rows) if rows
                 else "<p>No submission hit a limit, was refused or crashed.</p>")
    if data.warnings:
        parts.append("<h3>Warnings of the run</h3><ul>" + "".join(
            f"<li>{html.escape(w)}</li>" for _s, w in data.warnings) + "</ul>")
    return "\n".join(parts)


def _late_section(late):
    parts = ["<h2>Late submissions</h2>"]
    if late is None:
        parts.append("<p class='muted'>No gradebook was found, so lateness is not known here.</p>")
        return "\n".join(parts)
    rows = [[html.escape(x.student), html.escape(x.assignment), html.escape(x.submitted),
             html.escape(x.due), html.escape(_duration(x.seconds_late)), f"{x.penalty:g}"]
            for x in sorted(late, key=lambda x: (x.assignment, -x.seconds_late))
            if x.seconds_late > 0]
    parts.append(_table(["student", "assignment", "submitted", "due", "late by", "penalty"],
                        rows) if rows else "<p>No submission was late.</p>")
    return "\n".join(parts)


def _glance(data, late):
    """The few numbers to read first."""
    top = [m for m in ranked_mistakes(data) if m[3] != NOT_IMPLEMENTED][:3]
    items = [f"{html.escape(a)}: mean {statistics.mean(w['scores'].values()):.1f} of "
             f"{w['max']:g} points" for a, w in sorted(data.assignments.items())]
    if top:
        items.append("most common mistakes: " + "; ".join(
            f"<code>{html.escape(f)}</code>: {html.escape(k)} ({len(s)})"
            for _a, _nb, f, k, s in top))
    items.append(f"{len({s for s, *_ in data.stopped})} students hit a limit, crashed or "
                 f"could not be graded somewhere" if data.stopped else "no limit hit, no crash")
    if late is not None:
        items.append(f"{sum(x.seconds_late > 0 for x in late)} late submissions")
    return "<h2>At a glance</h2><ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


def _duration(seconds):
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    return " ".join(f"{n} {u}" for n, u in ((days, "d"), (hours, "h"), (minutes, "min")) if n) \
        or f"{int(seconds)} s"


def html_page(results, late=None, similarity_html="", data=None):
    """The report page of ``results``; ``late``: [LateSubmission] or None (no gradebook);
    ``data``: their ClassData, when already gathered."""
    data = data or gather(results)
    body = [f"<h1>Class report: {len(results)} students</h1>",
            "<p class='muted'>Built from the graded results (nothing was graded again). "
            "Scores are the autograded test cells; written answers are not included.</p>",
            _glance(data, late), _mistake_section(data), _score_section(data), _trouble_section(data),
            _late_section(late), similarity_html or NO_SIMILARITY]
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Class report</title>"
            f"<style>{STYLE}</style></head><body>" + "\n".join(body) + "</body></html>")


def _csv(header, rows):
    stream = io.StringIO()
    writer = csv.writer(stream)
    writer.writerow(header)
    writer.writerows([csv_cell(c) for c in row] for row in rows)
    return stream.getvalue()


def write(out, results, late=None, similarity_html=""):
    """OUT/report.html, OUT/report_mistakes.csv and OUT/report_scores.csv; returns the page's path."""
    data = gather(results)
    write_atomically(out / MISTAKES_CSV, _csv(
        ["assignment", "notebook", "function", "mistake", "count", "students"],
        [(a, nb, f, k, len(s), " ".join(s)) for a, nb, f, k, s in ranked_mistakes(data)]))
    write_atomically(out / SCORES_CSV, _csv(
        ["assignment", "notebook", "grade_id", "max_score", "students", "mean", "median",
         "full_marks", "zero"],
        [(a, nb, g, t["max"], len(t["scores"]), round(statistics.mean(t["scores"].values()), 4),
          statistics.median(t["scores"].values()),
          sum(v >= t["max"] for v in t["scores"].values()),
          sum(v == 0 for v in t["scores"].values()))
         for (a, nb, g), t in sorted(data.tasks.items())]))
    path = out / HTML_FILE
    write_atomically(path, html_page(results, late, similarity_html, data))
    return path
