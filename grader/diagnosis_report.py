"""How well the checks find and name bugs they were not written for.

``python -m grader.diagnosis_report`` runs every bug of the corpus in
tests/bug_corpus.py (realistic bugs that are not the planted mistakes) through
the public and hidden cases and the probe ladders, and prints per function and
overall: how many bugs fail some case (detected) and how many get a first
diagnosis naming the aspect the bug is tagged with (named), for the part the
rules were tuned on and the held-out part. ``--list`` prints each bug's
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
    """(detected, named, what the check says first) for one bug.

    Named counts the probe ladder's first finding, or the known mistake that replaces
    it when most failing cases name one the finding disagrees with
    (grader.diagnosis.pointers). A check shows the finding unless every failing case
    already names one known mistake (or one changed input); then that line is what
    the student reads first, and it is what is printed here.
    """
    verdicts = checks.run(bug.task, bug.fn) + checks.run(bug.task, bug.fn, hidden=True, seed=seed)
    detected = not all(v.passed for v in verdicts)
    found = diagnose(bug.task, LADDERS[bug.task], checks.attempt(bug.task, bug.fn)) if detected else []
    said = pointers.arrange(verdicts, found)
    # what the student reads first: a known mistake said up front, else the ladder's finding
    if said.leading is not None and said.lead:
        first = said.leading.aspect
    else:
        first = said.findings[0].aspect if said.findings else getattr(said.leading, "aspect", None)
    named = first in bug.aspects
    shown = (said.lead + [f.sentence for f in said.findings] or ["(no diagnosis)"])[0]
    return detected, named, shown


def _cell(rows):
    if not rows:
        return "-"
    return f"{sum(d for d, _ in rows)}/{len(rows)} detected, {sum(n for _, n in rows)}/{len(rows)} named"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m grader.diagnosis_report", description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="print each bug's first diagnosis")
    parser.add_argument("--seed", type=int, default=0, help="seed of the hidden cases (default 0)")
    options = parser.parse_args(argv)
    results = {}
    for bug in _corpus():
        detected, named, sentence = evaluate(bug, options.seed)
        results.setdefault(bug.task, []).append((bug, detected, named))
        if options.list:
            mark = "named" if named else ("detected" if detected else "MISSED")
            part = "held-out" if bug.held_out else "tuned"
            print(f"[{mark}] {bug.task} / {bug.name} ({part}; wants {' or '.join(bug.aspects)})\n"
                  f"    {sentence}")
    width = max(len(t) for t in results)
    print(f"{'function':{width}}  {'tuned':32}  held-out")
    every = []
    for task, rows in results.items():
        every += rows
        tuned = [(d, n) for b, d, n in rows if not b.held_out]
        held = [(d, n) for b, d, n in rows if b.held_out]
        print(f"{task:{width}}  {_cell(tuned):32}  {_cell(held)}")
    tuned = [(d, n) for b, d, n in every if not b.held_out]
    held = [(d, n) for b, d, n in every if b.held_out]
    print(f"{'overall':{width}}  {_cell(tuned):32}  {_cell(held)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
