"""Pairs of students whose own code is unusually alike, and a side-by-side page per pair.

A student's own code is what grading runs of a notebook (diagnosis.notebook_code): the
solution cells and the code cells they added. What the course gave everyone (the released
notebook's code: signatures, docstrings, stubs, the course's cells) is boilerplate, removed
from the fingerprints, so two students are never alike for what they were handed.

copydetect does the comparing (winnowed k-gram fingerprints of the tokenised code, with
names and strings replaced by placeholders, so renaming variables hides nothing, and a set of
fingerprints, so reordering functions hides nothing). A pair is flagged when the share of
one's own code found in the other's is at least the threshold (so a student who copied one
function of three is flagged too). Short naive loops look alike by nature; DEFAULT_THRESHOLD
is calibrated on independently written correct solutions (tests/test_similarity.py) so that
they are not flagged.
"""

import copy
import html
import io
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from urllib.parse import quote

from ..diagnosis.notebook_code import read, student_cells

# Share of one's own code that the other has too. Independent correct solutions of notebook
# 01 (tests/independent_solutions.py) reach 0.77: two students who follow the template's
# hints write the same four loops. Copies with renamed variables and moved helpers, and a
# function copied alone, score 0.95 and more (tests/test_similarity.py).
DEFAULT_THRESHOLD = 0.85
NOISE = 25  # copydetect's defaults: k-grams shorter than this are never matched,
GUARANTEE = 30  # and a match this long (of the filtered code) is always found
MIN_PRINTS = 40  # fingerprints: less own code than this (stubs, a few lines) is not compared
MAX_CODE = 50_000  # characters of own code compared (a course solution has a few thousand)
PAGES = "similarity"  # OUT/similarity/: one side-by-side page per flagged pair


@dataclass
class Pair:
    """Two students' own code in one notebook, alike by ``share`` (the larger of the two
    shares of own code the other has too)."""

    first: str
    second: str
    assignment: str
    notebook: str
    shares: tuple  # (share of first's code in second's, share of second's in first's)
    first_code: str
    second_code: str
    slices: tuple  # copydetect's copied slices of each code, for highlighting

    @property
    def share(self):
        return max(self.shares)

    @property
    def page(self):
        """The side-by-side page's file name, in OUT/similarity/."""
        return f"{self.assignment}__{self.notebook}__{self.first}__{self.second}.html"


def _without_solutions(source):
    """A source cell as released: a solution becomes nbgrader's stub, hidden tests go."""
    kept, inside = [], False
    for line in source.splitlines():
        marker = line.strip()
        if marker == "### BEGIN SOLUTION":
            indent = line[:len(line) - len(line.lstrip())]
            kept += [f"{indent}# YOUR CODE HERE", f"{indent}raise NotImplementedError()"]
        if marker in ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS"):
            inside = True
        elif marker in ("### END SOLUTION", "### END HIDDEN TESTS"):
            inside = False
        elif not inside:
            kept.append(line)
    return "\n".join(kept)


def as_released(notebook):
    """``notebook`` as students receive it: a source notebook's solutions and hidden tests
    dropped (a released one stays as it is)."""
    released = copy.deepcopy(notebook)
    for cell in released.cells:
        cell.source = _without_solutions(cell.source)
    return released


def template_code(notebook):
    """The code every student was handed in ``notebook`` (a released notebook, or a source
    one whose solutions are dropped): the boilerplate no pair is alike for. The hints in its
    comments count as code too (`# out[n, f, i, j] = b[f] + ...`): students who follow them
    write them out, alike for what the course gave them."""
    cells = [_without_solutions(cell.source) for cell in notebook.cells
             if cell.cell_type == "code"]
    hints = [line.strip().lstrip("#") for cell in cells for line in cell.splitlines()
             if line.strip().startswith("#")]
    return "\n\n".join(cells + ["\n".join(hints)])


def own_code(submission, template):
    """A student's own code in ``submission``: solution cells and added code cells, as text,
    at most MAX_CODE characters of it (a notebook padded with megabytes of code costs no
    more to compare than an honest one)."""
    return "\n\n".join(source for _cell, source in student_cells(submission, template))[:MAX_CODE]


def course_templates(release, books):
    """{(assignment, notebook): what students were handed}: the copy in the course's
    ``release`` folder where there is one, else the source notebook of ``books``
    ({assignment: {notebook: notebook}}), whose solutions compare_class drops."""
    templates = {}
    for assignment, notebooks in books.items():
        for name, source in notebooks.items():
            released = Path(release) / assignment / f"{name}.ipynb"
            try:
                templates[(assignment, name)] = read(released) if released.is_file() else source
            except ValueError:
                templates[(assignment, name)] = source
    return templates


def _fingerprint(code, boilerplate=()):
    from copydetect import CodeFingerprint

    return CodeFingerprint("own.py", NOISE, GUARANTEE - NOISE + 1, boilerplate=list(boilerplate),
                           fp=io.StringIO(code))


def compare_class(works, templates, threshold=DEFAULT_THRESHOLD):
    """Flagged Pairs, most alike first. ``works``: {student: {(assignment, notebook): path}};
    ``templates``: {(assignment, notebook): the course's notebook, released or source}. Student notebooks are read
    as text, never run; one that cannot be read is skipped."""
    from copydetect import compare_files

    flagged = []
    for key, given in sorted(templates.items()):
        template = as_released(given)
        # The stubs as own_code joins them too: a k-gram across two untouched cells is given.
        boilerplate = (_fingerprint(template_code(template)).hashes
                       | _fingerprint(own_code(template, template)).hashes)
        prints = {}
        for student, notebooks in sorted(works.items()):
            if key not in notebooks:
                continue
            try:
                code = own_code(read(notebooks[key]), template)
            except ValueError:
                continue
            found = _fingerprint(code, boilerplate)
            if len(found.hashes) >= MIN_PRINTS:
                prints[student] = found
        for first, second in combinations(sorted(prints), 2):
            a, b = prints[first], prints[second]
            common = len(a.hashes & b.hashes)
            # Fingerprints shared are a quick bound: most pairs share too few to be looked at.
            if common < threshold / 2 * min(len(a.hashes), len(b.hashes)):
                continue
            _overlap, shares, slices = compare_files(a, b)
            if max(shares) >= threshold:
                flagged.append(Pair(first, second, *key, tuple(float(s) for s in shares),
                                    a.raw_code, b.raw_code, slices))
    return sorted(flagged, key=lambda p: (-p.share, p.assignment, p.first, p.second))


def _highlighted(code, slices):
    from copydetect.utils import highlight_overlap

    if slices.size == 0:
        return html.escape(code)
    marked, _share = highlight_overlap(code, slices.astype(int), "<mark>", "</mark>",
                                       escape_html=True)
    return marked


STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
pre { background: #f6f8fa; padding: .6rem; overflow-x: auto; font-size: .8rem; }
mark { background: #ffe08a; }
"""


def pair_page(pair):
    """The side-by-side HTML page of a flagged pair: each one's own code, the parts found in
    the other marked."""
    first, second = (html.escape(s) for s in (pair.first, pair.second))
    where = html.escape(f"{pair.assignment} / {pair.notebook}")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{first} and {second}: "
            f"{where}</title><style>{STYLE}</style></head><body>"
            f"<h1>{first} and {second}: {where}</h1>"
            f"<p>Own code only (what the course handed out is left out of the comparison). "
            f"Marked: stretches found in the other's code, with names and strings ignored. "
            f"{pair.shares[0]:.0%} of {first}'s code is in {second}'s; {pair.shares[1]:.0%} of "
            f"{second}'s is in {first}'s. Alike code is a reason to look, not a finding.</p>"
            f"<div class='pair'><div><h2>{first}</h2><pre>"
            f"{_highlighted(pair.first_code, pair.slices[0])}</pre></div>"
            f"<div><h2>{second}</h2><pre>{_highlighted(pair.second_code, pair.slices[1])}"
            f"</pre></div></div></body></html>")


def write_pages(out, pairs, write):
    """The side-by-side page of each of ``pairs`` in OUT/similarity/, each with ``write(path,
    text)`` (a whole-or-nothing writer)."""
    for pair in pairs:
        write(out / PAGES / pair.page, pair_page(pair))


def report_section(pairs, threshold=DEFAULT_THRESHOLD, compared=None):
    """The class report's section on the flagged ``pairs`` (pages in similarity/)."""
    parts = ["<h2>Similar code</h2>",
             f"<p class='muted'>Pairs where at least {threshold:.0%} of one student's own code "
             f"(the course's code left out) is found in the other's, names and order ignored. "
             f"A reason to look, not a finding: see the README.</p>"]
    if compared is not None:
        parts.append(f"<p class='muted'>{compared} students' notebooks compared.</p>")
    if not pairs:
        parts.append("<p>No pair is flagged.</p>")
        return "\n".join(parts)
    rows = "".join(
        f"<tr><td>{html.escape(p.first)}</td><td>{html.escape(p.second)}</td>"
        f"<td>{html.escape(p.assignment)} / {html.escape(p.notebook)}</td>"
        f"<td>{p.shares[0]:.0%} / {p.shares[1]:.0%}</td>"
        f"<td><a href='{PAGES}/{quote(p.page)}'>side by side</a></td></tr>" for p in pairs)
    parts.append("<table><tr><th>student</th><th>student</th><th>notebook</th>"
                 f"<th>alike (each way)</th><th></th></tr>{rows}</table>")
    return "\n".join(parts)
