"""How fast a class is graded: ``python -m grader.bench [--copies K]``.

Grades the sample class in examples/ (its five students, each copied K times
under new ids so that there is work to share) once with ``--jobs 1`` and once
with ``--jobs 2``, in one run, and prints the median time per student and the
speed-up. Absolute times vary between machines; the ratio is the point.
"""

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from .autograde import autograde
from .course import EXAMPLES, REPO, use


def class_of(copies, target):
    """The sample class with every student copied ``copies`` times."""
    for student in sorted(p for p in EXAMPLES.iterdir() if p.is_dir()):
        for k in range(copies):
            shutil.copytree(student, Path(target) / f"{student.name}{k + 1}")
    return Path(target)


def measure(submissions, jobs, seed):
    with tempfile.TemporaryDirectory(prefix="bench-out-") as out:
        start = time.perf_counter()
        results, _ = autograde(submissions, out, jobs=jobs, seed=seed, progress=False)
        return time.perf_counter() - start, [r.seconds for r in results]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m grader.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=2, help="copies of each sample student")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    use(REPO)  # the sample class is graded against this checkout's course
    with tempfile.TemporaryDirectory(prefix="bench-class-") as scratch:
        submissions = class_of(args.copies, scratch)
        students = len(list(submissions.iterdir()))
        print(f"grading {students} students x 5 notebooks on {os.cpu_count()} cores\n")
        serial, per_student = measure(submissions, 1, args.seed)
        parallel, _ = measure(submissions, 2, args.seed)
    print(f"{'':28}{'jobs 1':>10}{'jobs 2':>10}")
    print(f"{'whole class (s)':28}{serial:10.1f}{parallel:10.1f}")
    print(f"{'median per student (s)':28}{statistics.median(per_student):10.2f}")
    print(f"{'slowest student (s)':28}{max(per_student):10.2f}")
    print(f"\nspeed-up with --jobs 2: {serial / parallel:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
