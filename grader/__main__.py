"""The instructor's command: ``python -m grader`` (also installed as ``conv-grader``).

  release                         regenerate the release from the source notebooks and
                                  register every assignment in the gradebook
  autograde SUBMISSIONS --out OUT grade a class (nbgrader layout, or --assignment
                                  with a flat folder or an LMS zip of notebooks)
  export --format gradescope DIR  grade one student's notebooks into results.json
  demo                            grade the bundled sample class in examples/
  progress [FOLDER]               a self-learner's notebooks (default notebooks/) graded
                                  in the sandbox, as one table; no course set-up needed
  report OUT                      the class report of an autograde run into OUT (again):
                                  mistakes, scores, limits, lateness; nothing regraded
  similarity SUBMISSIONS --out D  pairs of students whose own code is unusually alike,
                                  side by side (code read as text, never run)

The course is the one nbgrader uses from the working directory (its nbgrader_config.py),
or the folder given with --course DIR.
"""

import argparse
import html
import os
import re
import sys
import tempfile
import time
from pathlib import Path

from .collect import LATENESS_SOURCES, TIMESTAMP
from .gradebook import EXAMPLES, REPO, CourseError, environment_path

NOT_ALL_GRADED = 3  # autograde's exit status: graded, but not the submissions in not_graded.txt
NOT_ALL_JUDGED = 4  # graded, but the grader could not judge the students listed at the end
AUTOGRADE_EXIT = """exit status: 0 every submission was processed (broken notebooks get error rows);
  2 nothing was graded (the message says why); 3 everyone was graded except the
  submissions listed at the end and in OUT/not_graded.txt (a folder or file name that is
  not a usable student id): rename them and run again with --resume; 4 everyone was graded
  except the students listed at the end, whom the grader itself could not judge (their
  judging crashed the grading process, or a bug of ours): their rows say "error", and
  --resume tries them again; 130 interrupted (run again with --resume)"""


def class_run(args, course):
    """The ClassRun that ``autograde``'s command line asks for, against ``course``."""
    from .schedule import ClassRun, Limits

    jobs = args.jobs if args.jobs and args.jobs > 0 else os.cpu_count() or 1
    return ClassRun(course, Path(args.submissions), Path(args.out), assignment=args.assignment,
                    seed=args.seed, limits=Limits(unsafe_no_sandbox=args.unsafe_no_sandbox),
                    db_url=args.db, resume=args.resume, jobs=jobs, cluster=args.cluster,
                    progress=not args.no_progress, lateness=args.lateness)


def _autograde(args):
    from .feedback import NOT_GRADED, summary
    from .schedule import (JOURNAL, NOTHING_GRADED, SECRET_FILE, autograde, cgroup_notice,
                           isolation_description)

    started = time.perf_counter()
    try:
        notes = []
        results, seed = autograde(class_run(args, args.course_dir), notes)
    except KeyboardInterrupt:
        print(f"\nautograde: interrupted; every student graded so far is recorded in "
              f"{Path(args.out) / JOURNAL} and the gradebook. Run the same command with "
              f"--resume to grade the rest.", file=sys.stderr)
        return 130
    except NOTHING_GRADED as error:  # say why, exit non-zero
        print(f"autograde: {error}", file=sys.stderr)
        return 2
    print(summary(results))
    for result in results:
        for warning in result.warnings:
            print(f"warning: {warning}")
    for note in notes:  # once per run, not per student
        print(f"note: {note}")
    if not args.unsafe_no_sandbox and cgroup_notice():  # once per run, not per student
        print(f"note: {cgroup_notice()}")
    source = (f"seed {seed}; pass --seed {seed} to reproduce" if args.seed is not None else
              f"from the course secret in {SECRET_FILE}, the same on every regrade")
    kept = sum(r.resumed for r in results)
    resumed = f", {kept} of them kept from the earlier run" if kept else ""
    not_graded = Path(args.out) / NOT_GRADED  # written by this run, or removed by it
    some_not = " (some submissions NOT graded: see below)" if not_graded.exists() else ""
    print(f"\n{len(results)} students graded{resumed} in {time.perf_counter() - started:.1f} s "
          f"(hidden cases {source}){some_not}")
    if args.cluster is None:  # each cluster machine has its own, said on its pages
        print(f"isolation: {isolation_description(args.unsafe_no_sandbox)}")
    print(f"grades: {Path(args.out) / 'grades.csv'}\nfeedback: {Path(args.out) / 'feedback'}/")
    print(f"class report: {Path(args.out) / 'report.html'}")
    if some_not:
        print(f"\n{not_graded.read_text(encoding='utf-8')}(this list: {not_graded})")
    unjudged = [r for r in results if r.broken]
    if unjudged:
        print(f"\nNOT JUDGED: {len(unjudged)} student{'s' if len(unjudged) > 1 else ''}, whose "
              f"rows say \"error\" (nobody else's grade was touched):")
        for result in unjudged:
            print("\n".join(f"  {warning}" for warning in result.warnings))
        print("Run the same command with --resume to try them again.")
    return NOT_ALL_GRADED if some_not else NOT_ALL_JUDGED if unjudged else 0


def _export(args):
    """Gradescope's results.json, on every path: graded, refused or crashed."""
    from .feedback import gradescope
    from .schedule import NOTHING_GRADED

    try:
        return _export_graded(args)
    except NOTHING_GRADED as error:
        gradescope.write_failure(args.out, str(error), args.visibility)
        print(f"export: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        gradescope.write_failure(args.out, f"the grader crashed ({type(error).__name__}: "
                                 f"{error}); the log has the details", args.visibility)
        raise


def _export_graded(args):
    from .collect import seconds_late_from_metadata, student_from_metadata
    from .feedback import gradescope
    from .gradebook import load
    from .schedule import Limits, grade_upload, isolation_description

    course = load(args.course)
    student = (student_from_metadata(args.metadata) if args.metadata else None) or args.student
    limits = Limits(unsafe_no_sandbox=args.unsafe_no_sandbox)
    result, messages = grade_upload(
        args.submission, course, student, args.assignment, args.seed, limits,
        seconds_late_from_metadata(args.metadata) if args.metadata else 0.0)
    messages = [*messages, f"Isolation: {isolation_description(limits.unsafe_no_sandbox)}."]
    gradescope.write(result, args.out, visibility=args.visibility, messages=messages,
                     seed=args.seed)
    print(f"wrote {args.out}: {sum(float(r.score or 0) for r in result.rows):g} points")
    return 0


def _demo(args):
    from .gradebook import load

    if not EXAMPLES.is_dir():
        print(f"demo: the sample class is not installed with the package; run the demo from a "
              f"checkout of the course repository (looked in {EXAMPLES})", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="grader-demo-"))
    print(f"Grading the sample class in {EXAMPLES.relative_to(REPO)}/ "
          f"(one full-marks notebook set, three with typical mistakes, one empty):\n")
    # The sample class has no exchange and no timestamp.txt: nbgrader's own source, said as such.
    demo_args = argparse.Namespace(submissions=EXAMPLES, out=out, jobs=args.jobs, db=None,
                                   seed=args.seed, assignment=None, no_progress=args.no_progress,
                                   unsafe_no_sandbox=args.unsafe_no_sandbox, resume=False,
                                   cluster=None, course_dir=load(REPO), lateness=TIMESTAMP)
    code = _autograde(demo_args)
    if code != 0:
        return code
    print("\nMistakes the feedback names:")
    for student in sorted(p.name for p in (out / "feedback").iterdir()):
        pages = "".join(p.read_text(encoding="utf-8") for p in (out / "feedback" / student).rglob("*.html"))
        named = sorted({html.unescape(m) for m in re.findall(r"likely mistake: ([^.]+)\.", pages)})
        print(f"  {student}: {'; '.join(named) if named else '(none)'}")
    return code


def _progress(args):
    from .gradebook import load
    from .schedule import NOTHING_GRADED, Limits, progress, table

    folder = Path(args.folder)
    if not folder.is_dir():
        print(f"progress: {folder} is not a folder; give the folder that holds your assignment "
              f"folders (01_conv_forward/, ...), e.g. notebooks/", file=sys.stderr)
        return 2
    try:  # the course this checkout ships (its solutions/ are the trusted notebooks)
        course = load(args.course) if args.course else load(REPO)
        lines, seed, absent = progress(folder, course, args.seed,
                                       Limits(unsafe_no_sandbox=args.unsafe_no_sandbox))
    except NOTHING_GRADED as error:
        print(f"progress: {error}", file=sys.stderr)
        return 2
    if not lines:
        print(f"progress: no notebook of the course in {folder} (looked for "
              f"{', '.join(f'{a}/' for a in absent)})", file=sys.stderr)
        return 2
    print(table(lines))
    if absent:
        print(f"not found in {folder}: {', '.join(absent)}")
    print(f"hidden cases drawn with seed {seed}: `conv-grader progress {args.folder} --seed {seed}` "
          f"draws the same ones again")
    return 0


def _report(args):
    from .gradebook import load
    from .schedule import NOTHING_GRADED, NoRun, compare_submissions, write_report

    db = args.db
    if db is None and not (Path(args.out) / "gradebook.db").is_file():
        db = load(args.course).db_url  # a run on the course's own submitted/ recorded there
    try:  # the similarity section needs the class's notebooks
        similar = compare_submissions(args.submissions, load(args.course)) \
            if args.submissions else None
        path = write_report(args.out, db, similar=similar)
    except (NoRun, *NOTHING_GRADED) as error:
        print(f"report: {error}", file=sys.stderr)
        return 2
    print(f"class report: {path}")
    return 0


def _similarity(args):
    from .schedule import NOTHING_GRADED, similarity_check

    try:
        pairs, index = similarity_check(args.submissions, args.course_dir, args.out,
                                        args.assignment, args.threshold)
    except NOTHING_GRADED as error:
        print(f"similarity: {error}", file=sys.stderr)
        return 2
    for pair in pairs:
        print(f"{pair.first} and {pair.second}, {pair.assignment}/{pair.notebook}: "
              f"{pair.shares[0]:.0%} / {pair.shares[1]:.0%} alike")
    print(f"{len(pairs)} pair{'' if len(pairs) == 1 else 's'} flagged; side by side: {index}")
    return 0


def _review_commands(commands, where):
    from .review import DEFAULT_THRESHOLD

    report = commands.add_parser("report", parents=[where],
                                 help="the class report of an autograde run, again")
    report.add_argument("out", help="the OUT folder of a conv-grader autograde run")
    report.add_argument("--db", default=None, help="the run's gradebook URL, for lateness "
                        "(default: OUT/gradebook.db when there is one, else the course's)")
    report.add_argument("--submissions", default=None, help="the SUBMISSIONS the run graded: "
                        "with it, the report has the similarity check too")
    report.set_defaults(run=_report)
    similar = commands.add_parser("similarity", parents=[where],
                                  help="pairs of students whose own code is unusually alike")
    similar.add_argument("submissions", help="SUBMISSIONS folder (or zip with --assignment)")
    similar.add_argument("--out", required=True, help="where similarity/ (pages) goes")
    similar.add_argument("--assignment", default=None, help="compare only this assignment")
    similar.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD,
                         help="share of one student's own code found in the other's, from 0 "
                         f"to 1 (default {DEFAULT_THRESHOLD}: independent solutions stay below)")
    similar.set_defaults(run=_similarity)


def _release(args):
    from .gradebook import WorkWouldBeLost, release

    course = args.course_dir
    try:
        destination = release(course, args.out, force=args.force)
    except (WorkWouldBeLost, CourseError) as error:
        print(f"release stopped: {error}", file=sys.stderr)
        return 1
    print(f"released the student notebooks into {destination} and registered "
          f"{', '.join(course.assignments())} in the gradebook {course.db_url}")
    return 0


def _unsafe_option(command):
    command.add_argument("--unsafe-no-sandbox", action="store_true",
                         help="run student code WITHOUT the bubblewrap sandbox (when it cannot "
                              "be installed); every feedback page and the summary say so")


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n", 2)[2])
    commands = parser.add_subparsers(dest="command", required=True)
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--course", default=None, metavar="DIR",
                       help="the nbgrader course directory (default: nbgrader's, from here)")

    release = commands.add_parser("release", parents=[where], help="regenerate the release and "
                                  "register the assignments in the gradebook")
    release.add_argument("--out", default=None,
                         help="where the release goes (default: the course's release folder)")
    release.add_argument("--force", action="store_true",
                         help="replace notebooks there even if they hold someone's work")
    release.set_defaults(run=_release)

    grade = commands.add_parser("autograde", parents=[where], help="grade a whole class",
                                epilog=AUTOGRADE_EXIT,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    grade.add_argument("submissions", help="SUBMISSIONS folder (or zip with --assignment)")
    grade.add_argument("--out", required=True, help="where grades.csv and feedback/ go")
    grade.add_argument("--jobs", type=int, nargs="?", default=1, const=0,
                       help="students graded in parallel; --jobs alone or 0: one per core")
    grade.add_argument("--db", default=None, help="gradebook SQLAlchemy URL (default: the "
                       "course's when grading its submitted/ folder, else OUT/gradebook.db)")
    grade.add_argument("--seed", type=int, default=None,
                       help="seed of the hidden cases (default: from the course secret)")
    grade.add_argument("--assignment", default=None, help="grade only this assignment")
    grade.add_argument("--no-progress", action="store_true", help="no progress bar")
    grade.add_argument("--resume", action="store_true",
                       help="keep the students an earlier run into the same OUT finished with "
                       "this seed and these very notebooks (by content); grade only the rest")
    grade.add_argument("--lateness", choices=LATENESS_SOURCES, default=None,
                       help="where a submission's time (nbgrader's layout) comes from, for the "
                       "gradebook's lateness: 'exchange', when the student's `nbgrader submit` "
                       "put it in the course's exchange inbound folder (its change times, a "
                       "clock the student can only push later; a submission with no folder "
                       "there goes by its timestamp.txt); 'timestamp', the timestamp.txt the "
                       "student's own process wrote, as nbgrader takes it; 'collected', when "
                       "its copy reached SUBMISSIONS (right only if collect runs continuously: "
                       "after one `nbgrader collect` past the deadline everyone is late). "
                       "Default: 'exchange' when the course's exchange (c.Exchange.root, else "
                       "nbgrader's default, /<course_id>/inbound) exists here, else "
                       "'timestamp'. An unusable timestamp.txt counts as 'collected'")
    grade.add_argument("--cluster", default=None, metavar="ADDRESS",
                       help="grade on the Dask cluster whose scheduler is at ADDRESS "
                       "(tcp://host:8786; needs conv-course[cluster]) instead of --jobs")
    _unsafe_option(grade)
    grade.set_defaults(run=_autograde)

    export = commands.add_parser("export", parents=[where],
                                 help="grade one student for another platform")
    export.add_argument("submission", help="folder holding one student's notebooks")
    export.add_argument("--format", choices=["gradescope"], required=True)
    export.add_argument("--out", default="results.json")
    export.add_argument("--assignment", default=None,
                        help="the assignment this upload is for (default: recognised from it)")
    export.add_argument("--student", default="student")
    export.add_argument("--metadata", default=None,
                        help="Gradescope's submission_metadata.json: the student id comes from it")
    export.add_argument("--seed", type=int, default=None,
                        help="seed of the hidden cases (default: from the course secret)")
    export.add_argument("--visibility", default="visible",
                        choices=["hidden", "after_due_date", "after_published", "visible"])
    _unsafe_option(export)
    export.set_defaults(run=_export)

    mine = commands.add_parser("progress", help="grade your own notebooks (a self-learner's "
                               "table: points, what is left, where to look)")
    mine.add_argument("folder", nargs="?", default="notebooks",
                      help="the folder holding your assignment folders (default: notebooks)")
    mine.add_argument("--seed", type=int, default=None,
                      help="seed of the hidden cases (default: a fresh one each run, printed)")
    mine.add_argument("--course", default=None, metavar="DIR",
                      help="the course's nbgrader directory (default: this checkout's)")
    _unsafe_option(mine)
    mine.set_defaults(run=_progress)

    demo = commands.add_parser("demo", help="grade the bundled sample class")
    demo.add_argument("--out", default=None, help="where results go (default: a temp folder)")
    demo.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    demo.add_argument("--seed", type=int, default=2026)
    demo.add_argument("--no-progress", action="store_true")
    _unsafe_option(demo)
    demo.set_defaults(run=_demo)
    _review_commands(commands, where)
    return parser


def main(argv=None):
    os.environ["PATH"] = environment_path()  # nbgrader runs `alembic` as a subprocess
    args = build_parser().parse_args(argv)
    # The demo grades the sample class here; the others load a course where they need one.
    if args.command not in ("demo", "export", "progress", "report"):
        from .gradebook import load

        args.course_dir = load(args.course)  # the course, read once
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
