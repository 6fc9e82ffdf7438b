"""A run as the judge sees it: one value, the same for every student of the run."""

from dataclasses import dataclass, field

from ..sandbox import UNSAFE_NOTE, Limits
from .seeds import code_fingerprint, code_seed


@dataclass(frozen=True)
class Run:
    """What grading needs besides the student's work, made once per run (from the command
    line, or from nbgrader's config for ``nbgrader autograde``) and handed down whole: to a
    pool process, a Dask worker and each student's grading alike. Plain data, so it pickles.

    seed: the course secret, or ``--seed``; the hidden cases of each submitted code come from
        it (seeds.py).
    limits: the sandbox's Limits.
    assignments: the graded assignments, in order.
    books: {assignment: {notebook name: course notebook}}, read once per run.
    """

    seed: object
    limits: Limits = field(default_factory=Limits)
    assignments: tuple = ()
    books: dict = field(default_factory=dict, compare=False)

    def hidden_seed(self, assignment, sources):
        """The hidden cases' seed for code made of ``sources`` (the cells that run)."""
        return code_seed(self.seed, assignment, code_fingerprint(sources))

    @property
    def notes(self):
        """What every feedback page of this run says about how it was graded."""
        return [UNSAFE_NOTE] if self.limits.unsafe_no_sandbox else []
