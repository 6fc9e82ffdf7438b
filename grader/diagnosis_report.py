"""How well the checks find and name bugs they were not written for.

``python -m grader.diagnosis_report`` runs every bug of the corpus in
tests/bug_corpus.py (realistic bugs that are not the planted mistakes) through
the public and hidden cases and the probe ladders, and prints per function and
overall: how many bugs the public check fails (caught), how many get a first
diagnosis naming the aspect the bug is tagged with (named), and how many pass the
public check but lose points on the hidden cases (surprises, which must be 0), for
the part the rules were tuned on and the held-out part. ``--list`` prints each bug's
diagnosis. Run it from the repository (the corpus lives with the tests).
"""

import argparse
import sys
from pathlib import Path

from .diagnosis import checks, pointers
from .diagnosis.ladders import LADDERS
from .diagnosis.probes import diagnose

REPO = Path(__file__).resolve().parent.parent


def _corpus():
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    try:
        from tests.bug_corpus import BUGS
    except ImportError as error:
        raise SystemExit(f"the bug corpus needs the repository's tests folder ({REPO / 'tests'}): "
                         f"{error}") from None
    return BUGS


def evaluate(bug, seed=0):
    """(caught, named, what the check says first, surprise) for one bug.

    Caught: the public check (the cases a student's check cell runs) fails it. A surprise
    is a bug the public check passes that still loses points on the hidden cases of
    ``seed``: "Well done!" must mean full marks.

    Named counts the known mistake said up front when there is one, else the probe
    ladder's first finding (grader.diagnosis.pointers). A check shows the finding unless
    every failing case already names one known mistake (or one changed input); then that
    line is what the student reads first, and it is what is printed here.
    """
    public = checks.run(bug.task, bug.fn)
    hidden = checks.run(bug.task, bug.fn, hidden=True, seed=seed)
    caught = not all(v.passed for v in public)
    surprise = not caught and not all(v.passed for v in hidden)
    verdicts = public + hidden
    failing = not all(v.passed for v in verdicts)
    found = diagnose(bug.task, LADDERS[bug.task], checks.attempt(bug.task, bug.fn)) if failing else []
    said = pointers.arrange(verdicts, found)
    # what the student reads first: a known mistake said up front, else the ladder's finding
    if said.leading is not None and said.lead:
        first = said.leading.aspect
    else:
        first = said.findings[0].aspect if said.findings else getattr(said.leading, "aspect", None)
    named = first in bug.aspects
    shown = (said.lead + [f.sentence for f in said.findings] or ["(no diagnosis)"])[0]
    return caught, named, shown, surprise


def _cell(rows):
    if not rows:
        return "-"
    n = len(rows)
    return (f"{sum(r[0] for r in rows)}/{n} caught, {sum(r[1] for r in rows)}/{n} named, "
            f"{sum(r[2] for r in rows)} surprises")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m grader.diagnosis_report", description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="print each bug's first diagnosis")
    parser.add_argument("--seed", type=int, default=0, help="seed of the hidden cases (default 0)")
    options = parser.parse_args(argv)
    results = {}
    for bug in _corpus():
        caught, named, sentence, surprise = evaluate(bug, options.seed)
        results.setdefault(bug.task, []).append((bug, (caught, named, surprise)))
        if options.list:
            mark = "SURPRISE" if surprise else "named" if named else ("caught" if caught else "MISSED")
            part = "held-out" if bug.held_out else "tuned"
            print(f"[{mark}] {bug.task} / {bug.name} ({part}; wants {' or '.join(bug.aspects)})\n"
                  f"    {sentence}")
    width = max(len(t) for t in results)
    print(f"{'function':{width}}  {'tuned':42}  held-out")
    every = []
    for task, rows in results.items():
        every += rows
        tuned = [r for b, r in rows if not b.held_out]
        held = [r for b, r in rows if b.held_out]
        print(f"{task:{width}}  {_cell(tuned):42}  {_cell(held)}")
    tuned = [r for b, r in every if not b.held_out]
    held = [r for b, r in every if b.held_out]
    print(f"{'overall':{width}}  {_cell(tuned):42}  {_cell(held)}")
    sittings = sorted({getattr(b, "written_for", "") for b, _ in every} - {""})
    for sitting in sittings if len(sittings) > 1 else ():  # each sitting's bugs on their own
        mine = [(b, r) for b, r in every if getattr(b, "written_for", "") == sitting]
        tuned = [r for b, r in mine if not b.held_out]
        held = [r for b, r in mine if b.held_out]
        print(f"{'(' + sitting + ')':{width}}  {_cell(tuned):42}  {_cell(held)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
