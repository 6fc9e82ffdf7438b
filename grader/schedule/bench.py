"""How fast a class is graded: ``python -m grader.bench [--copies K] [--cluster ADDRESS]``.

Grades the sample class in examples/ (its five students, each copied K times
under new ids so that there is work to share) once with ``--jobs 1`` and once
with ``--jobs 2`` (and once on the Dask cluster at ADDRESS), in one run, and prints
the wall time per student, students per minute and the speed-up, under a line
naming the machine and its load. Absolute times vary between machines and with
whatever else runs on them: compare figures measured side by side.

``--steps`` instead grades the class once with ``--jobs 1`` and prints where the time
went, step by step (wall time inside each step, summed over the class).
"""

import argparse
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from ..gradebook import EXAMPLES, REPO, load
from .class_run import ClassRun, autograde


def class_of(copies, target):
    """The sample class with every student copied ``copies`` times."""
    for student in sorted(p for p in EXAMPLES.iterdir() if p.is_dir()):
        for k in range(copies):
            shutil.copytree(student, Path(target) / f"{student.name}{k + 1}")
    return Path(target)


def measure(course, submissions, jobs, seed, cluster=None, in_process=False):
    with tempfile.TemporaryDirectory(prefix="bench-out-") as out:
        start = time.perf_counter()
        results, _ = autograde(ClassRun(course, submissions, out, seed=seed, jobs=jobs,
                                        cluster=cluster, progress=False, in_process=in_process))
        return time.perf_counter() - start, [r.seconds for r in results]


def _steps():
    """(owner, attribute, label) of the steps --steps times; nested steps count in both."""
    from . import class_run
    from ..diagnosis import notebook_code
    from ..feedback import pages
    from ..gradebook.recorder import Recorder
    from ..judge import student
    from ..sandbox import sandbox

    return [
        (class_run, "verify", "sandbox check and font list (once a run)"),
        (Recorder, "prepare", "scratch nbgrader course (once a run)"),
        (notebook_code, "read", "reading the submitted notebooks"),
        (sandbox.Sandbox, "__init__", "starting a student's sandbox and template"),
        (sandbox.Worker, "load", "a notebook's worker: fork, conv_lib, the cells"),
        (sandbox.Worker, "call", "calls: the student's code, both ways on the pipes"),
        (sandbox.StudentSandbox, "release", "ending a notebook: the template's check"),
        (student, "judge_notebook", "all of the above per notebook, and judging"),
        (pages, "picture", "pictures of failing cases"),
        (Recorder, "record", "nbgrader autograde, recording in the gradebook"),
    ]


def steps(course, submissions, seed):
    """{label: (seconds, calls)} for one ``--jobs 1`` run, and the run's wall time."""
    import functools

    spent = {label: [0.0, 0] for _, _, label in _steps()}
    originals = []

    def timed(function, label):
        @functools.wraps(function)
        def step(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[label][0] += time.perf_counter() - start
                spent[label][1] += 1
        return step

    for owner, name, label in _steps():
        originals.append((owner, name, getattr(owner, name)))
        setattr(owner, name, timed(getattr(owner, name), label))
    try:
        wall, _ = measure(course, submissions, 1, seed, in_process=True)  # timed here
    finally:
        for owner, name, function in originals:
            setattr(owner, name, function)
    return spent, wall


def machine():
    """The machine line: processor, cores, Python, and the load when the run began."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            model = next(line.split(":", 1)[1].strip() for line in info
                         if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"machine: {model}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"load average {load} at the start")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m grader.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=2, help="copies of each sample student")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cluster", default=None, metavar="ADDRESS",
                        help="also grade on the Dask cluster whose scheduler is at ADDRESS")
    parser.add_argument("--steps", action="store_true",
                        help="grade once with --jobs 1 and print where the time went")
    args = parser.parse_args(argv)
    course = load(REPO)  # the sample class is graded against this checkout's course
    print(machine())
    with tempfile.TemporaryDirectory(prefix="bench-class-") as scratch:
        submissions = class_of(args.copies, scratch)
        students = len(list(submissions.iterdir()))
        print(f"grading {students} students x {sum(len(course.notebook_paths(a)) for a in course.assignments())} notebooks\n")
        if args.steps:
            spent, wall = steps(course, submissions, args.seed)
            print(f"{'step (wall time inside it, whole class, --jobs 1)':56}{'s':>7}{'calls':>7}")
            for label, (seconds, calls) in spent.items():
                print(f"{label:56}{seconds:7.2f}{calls:7d}")
            print(f"{'the whole run':56}{wall:7.2f}")
            return 0
        runs = {"jobs 1": measure(course, submissions, 1, args.seed),
                "jobs 2": measure(course, submissions, 2, args.seed)}
        if args.cluster:
            runs["cluster"] = measure(course, submissions, 1, args.seed, args.cluster)
    columns = "".join(f"{name:>10}" for name in runs)
    print(f"{'':30}{columns}")
    rows = {"whole class (s)": [f"{wall:10.1f}" for wall, _ in runs.values()],
            "wall time per student (s)": [f"{wall / students:10.2f}" for wall, _ in runs.values()],
            "students per minute": [f"{60 * students / wall:10.1f}" for wall, _ in runs.values()],
            "median one student (s)": [f"{statistics.median(t):10.2f}" for _, t in runs.values()]}
    for label, cells in rows.items():
        print(f"{label:30}{''.join(cells)}")
    print(f"\nspeed-up with --jobs 2: {runs['jobs 1'][0] / runs['jobs 2'][0]:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
