"""One task's feedback points one way.

Feedback has two kinds of pointer: the "likely mistake" lines the judge puts on
failing cases (the output is exactly a known wrong variant, grader.diagnosis.mistakes)
and the probe ladder's finding (where the simplest failing probe goes wrong,
grader.diagnosis.probes). A ladder whose probe shows a known mistake already names
it; but a probe can be too small to tell (a loop that stops one row early leaves a
1x1 output all 0, like many other bugs), so the two can still disagree: a finding
disagrees with a named mistake when neither its aspect nor the mistake it names is
the mistake's aspect (or a narrower one of it: stride_rows for stride).

Then the pointer that explains more wins. A mistake named on more than half of the
failing cases is said once up front and the finding is left out; otherwise the
finding, which targeted probes measured, stays and the disagreeing lines are left
out of the case list (they fit a few cases by coincidence of their sizes).
"""

import functools
from collections import Counter
from dataclasses import dataclass, field

from . import judge as judging
from .ladders import LADDERS
from .mistakes import CATALOG


@functools.cache
def _mistakes_by_line():
    return {m.line: m for catalog in CATALOG.values() for m in catalog}


def named_mistake(line):
    """The catalog's Mistake a feedback line names, or None."""
    return _mistakes_by_line().get(line)


def agrees(finding, mistake):
    aspects = {finding.aspect} | ({finding.mistake.aspect} if finding.mistake else set())
    return any(a == mistake.aspect or a.startswith(mistake.aspect + "_") for a in aspects)


def ladder_wanted(task, verdicts):
    """Whether a probe ladder has something to add: not when every case passes, or one
    problem or one known mistake is shared by every failing case and says it all."""
    return not all(v.passed for v in verdicts) and task in LADDERS \
        and not judging.common_problem(verdicts) and not judging.shared_mistake(verdicts)


@dataclass
class Pointers:
    lead: list = field(default_factory=list)  # lines said once, before the cases
    findings: list = field(default_factory=list)  # the ladder's findings shown
    left_out: set = field(default_factory=set)  # problem lines not repeated per case
    leading: object = None  # the Mistake said up front, if one is

    def problems(self, verdict):
        return [p for p in verdict.problems if p not in self.left_out]


def arrange(verdicts, findings=()):
    """What a task's feedback says up front and what it leaves out of the case list."""
    failing, noun = judging.speaking(verdicts)
    pointers = Pointers()
    shared = judging.shared_mistake(verdicts)
    if shared:
        pointers.lead.append(f"Every {noun}: {shared}")
        pointers.left_out.add(shared)
        pointers.leading = named_mistake(shared)
    named = Counter(line for v in failing for line in dict.fromkeys(v.problems) if named_mistake(line))
    for finding in findings:
        against = [line for line in named if not agrees(finding, named_mistake(line))]
        top = max(against, key=named.get, default=None)
        if top and 2 * named[top] > len(failing):
            if top not in pointers.left_out:
                many = f"Every {noun}" if named[top] == len(failing) else \
                    f"Most {noun}s ({named[top]} of {len(failing)})"
                pointers.lead.append(f"{many}: {top}")
                pointers.left_out.add(top)
                pointers.leading = pointers.leading or named_mistake(top)
            continue
        pointers.findings.append(finding)
        pointers.left_out.update(against)
        if finding.mistake and finding.mistake.line in named:  # said up front: once is enough
            pointers.left_out.add(finding.mistake.line)
    return pointers
