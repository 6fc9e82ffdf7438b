"""Lateness from a clock the student does not own (nbgrader #1104: timestamp.txt is written by
the student's own process).

- by default, when the course's nbgrader exchange exists, a submission's time is when it
  reached the exchange (the latest ctime over its inbound folder): a timestamp.txt claiming
  an early date changes nothing, and collecting after the deadline makes no one late;
- without an exchange the default is the student's timestamp.txt, as nbgrader does, said once
  in the summary; so is a submission with no folder in the exchange;
- ``--lateness collected`` takes when the copy was collected (a hub collecting continuously);
- an oversized, unreadable, garbage, empty or future timestamp.txt is read at most
  MAX_TIMESTAMP_BYTES, costs no time, is never used (the collected time counts), and is said
  in the printed summary and on the student's feedback page;
- the gradebook holds the very time that was chosen; in the course's own submitted/ folder,
  which is never written, a submission whose timestamp.txt would give nbgrader another
  lateness is left out of the gradebook with a warning."""

import datetime
import os
import shutil
import time

import pytest

from grader.__main__ import main
from grader.collect import collect_usable
from grader.collect.submissions import MAX_TIMESTAMP_BYTES, claimed_time
from grader.gradebook import REPO, load

from .conftest import load_sample_class_builder
from .test_hostile import tree_digest

build = load_sample_class_builder()
ASSIGNMENT, NOTEBOOK = "03_pooling", "pooling"
HONEST = build.EXAMPLES / "ada" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
NOW = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
DUE = NOW - datetime.timedelta(days=1)
STAMPS = {  # what each student's timestamp.txt holds
    "early": b"2020-01-01 00:00:00.000000 UTC",  # forged: long before the due date
    "big": b"2020-01-01 00:00:00" + b" " * (32 * 1024**2),  # 32 MiB
    "junk": b"\x00\xff not a date \x1b[2J",
    "ahead": b"2999-01-01 00:00:00 UTC",
    "empty": b"",
}
FLAGGED = {"big": "is larger than 256 bytes", "junk": "holds no date",
           "ahead": "says 2999-01-01 00:00:00 UTC, a date in the future", "empty": "is empty"}


def submissions(folder, students):
    for student in students:
        (folder / student / ASSIGNMENT).mkdir(parents=True)
        shutil.copy(HONEST, folder / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
        if student in STAMPS:
            (folder / student / ASSIGNMENT / "timestamp.txt").write_bytes(STAMPS[student])
    return folder


def collected(folder, student):
    """When the student's copy reached ``folder``: its notebook's change time, naive UTC."""
    seconds = os.stat(folder / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb").st_ctime
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).replace(tzinfo=None)


def gradebook_with_due_date(path, course_id, due=DUE, extensions=()):
    """A gradebook where ASSIGNMENT is due at ``due``; ``extensions``: {student: timedelta}."""
    from nbgrader.api import Gradebook

    from grader.gradebook import nbgrader_api, nbgrader_config

    nbgrader_api(nbgrader_config(path.parent, f"sqlite:///{path}"))  # alembic, as a run does
    with Gradebook(f"sqlite:///{path}", course_id) as gradebook:
        gradebook.update_or_create_assignment(ASSIGNMENT, duedate=due)
        for student, extension in dict(extensions).items():
            gradebook.update_or_create_student(student)
            gradebook.update_or_create_submission(ASSIGNMENT, student, extension=extension)
    return f"sqlite:///{path}"


def recorded(db_url, course_id):
    """{student: (timestamp, seconds late)} of ASSIGNMENT in the gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url, course_id) as gradebook:
        students = [s.student_id for s in gradebook.assignment_submissions(ASSIGNMENT)]
        return {student: (gradebook.find_submission(ASSIGNMENT, student).timestamp,
                          gradebook.find_submission(ASSIGNMENT, student).total_seconds_late)
                for student in students}


def grade(submitted, out, *options, course=build.ROOT):
    return main(["autograde", str(submitted), "--course", str(course), "--out", str(out),
                 "--seed", "5", "--no-progress", "--assignment", ASSIGNMENT, "--jobs", "2",
                 *options])


def page(out, student):
    return (out / "feedback" / student / ASSIGNMENT / f"{NOTEBOOK}.html").read_text()


def test_a_timestamp_is_read_within_its_bound_and_an_unusable_one_is_never_used(tmp_path):
    submitted = submissions(tmp_path / "submitted", ["early", *FLAGGED, "none"])
    (submitted / "link" / ASSIGNMENT).mkdir(parents=True)
    shutil.copy(HONEST, submitted / "link" / ASSIGNMENT)
    (submitted / "link" / ASSIGNMENT / "timestamp.txt").symlink_to("/etc/passwd")
    # Modification times are the student's to set (nbgrader's collect copies them): not used.
    os.utime(submitted / "early" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", (1577836800, 1577836800))
    start = time.perf_counter()
    works = {w.student: w for w in collect_usable(submitted, load(REPO), ASSIGNMENT,
                                                  tmp_path / "scratch").works}
    assert time.perf_counter() - start < 2  # 32 MiB of timestamp cost nbgrader ~90 s
    times = {student: work.times[ASSIGNMENT] for student, work in works.items()}
    for student, found in FLAGGED.items():
        assert found in times[student].problem and times[student].claimed is None
    assert "symbolic link" in times["link"].problem
    assert times["early"].claimed == datetime.datetime(2020, 1, 1) and not times["early"].problem
    assert times["none"].claimed is None and times["none"].problem is None
    assert times["early"].collected > NOW - datetime.timedelta(minutes=5)  # not 2020
    for student, work in works.items():
        assert times[student].collected == collected(submitted, student)
        assert times[student].chosen("collected") == times[student].collected
        assert not work.kept_from_nbgrader  # the scratch course gets our timestamp.txt
    # --lateness timestamp: the student's date when usable, none without a file (as nbgrader
    # records it), and the collected time for every unusable one: a bad file erases nothing.
    assert times["early"].chosen("timestamp") == datetime.datetime(2020, 1, 1)
    assert times["none"].chosen("timestamp") is None
    for student in [*FLAGGED, "link"]:
        assert times[student].chosen("timestamp") == times[student].collected
    assert len((tmp_path / "scratch" / "collected" / "early" / ASSIGNMENT / "timestamp.txt")
               .read_bytes()) <= MAX_TIMESTAMP_BYTES
    # Only date-like ASCII reaches nbgrader's parser: a zone name would be looked up as a path.
    assert claimed_time(b"2026-01-01 00:00:00 ../../../etc/passwd", NOW) == (
        None, "timestamp.txt holds no date")
    assert claimed_time(b"2026-01-01 00:00:00 UTC\n", NOW) == (
        datetime.datetime(2026, 1, 1), None)


def test_lateness_collected_lets_the_copy_decide_and_bad_timestamps_are_flagged(tmp_path,
                                                                                capsys):
    submitted = submissions(tmp_path / "submitted", ["early", "big", "junk", "ahead"])
    course_id = load(build.ROOT).course_id
    db_url = gradebook_with_due_date(tmp_path / "gradebook.db", course_id)
    out = tmp_path / "out"
    assert grade(submitted, out, "--db", db_url, "--lateness", "collected") == 0
    printed = capsys.readouterr().out
    book = recorded(db_url, course_id)
    for student in ("early", "big", "junk", "ahead"):
        # The gradebook holds the collected time, to the microsecond, whatever the file says.
        assert book[student][0] == collected(submitted, student)
        assert book[student][1] > 0  # collected after the due date: late
    # The forged early date is late, and the instructor is told the two clocks disagree.
    assert ("early/03_pooling: the gradebook has it late by 1 d" in printed
            and "its timestamp.txt says 2020-01-01 00:00:00 UTC (on time)" in printed)
    assert "was not used" not in page(out, "early")
    for student in ("big", "junk", "ahead"):
        assert f"warning: {student}/03_pooling: timestamp.txt {FLAGGED[student]}" in printed
        note = (f"Note: timestamp.txt {FLAGGED[student]}, so it was not used: your submission "
                f"time is when your work was collected, "
                f"{collected(submitted, student):%Y-%m-%d %H:%M:%S} UTC.")
        assert note in page(out, student)
    assert "\x1b" not in printed and "\x1b" not in page(out, "junk")
    rows = (out / "grades.csv").read_text().splitlines()[1:]
    assert {r.split(",")[4] for r in rows if ",test_" in r} == {"5.0"}  # full marks for all
    # The class report lists them as the gradebook has them: late, each by a day or more.
    late = (out / "report.html").read_text().split("<h2>Late submissions</h2>")[1]
    late = late.split("<h2>")[0]
    for student in ("early", "big", "junk", "ahead"):
        assert f"<tr><td>{student}</td><td>03_pooling</td>" in late
    assert late.count("<td>1 d") == 4


def test_lateness_timestamp_takes_a_usable_timestamp_and_never_an_unusable_one(tmp_path,
                                                                                 capsys):
    submitted = submissions(tmp_path / "submitted", ["early", "junk"])
    course_id = load(build.ROOT).course_id
    db_url = gradebook_with_due_date(tmp_path / "gradebook.db", course_id)
    assert grade(submitted, tmp_path / "out", "--db", db_url, "--lateness", "timestamp") == 0
    printed = capsys.readouterr().out
    book = recorded(db_url, course_id)
    assert book["early"] == (datetime.datetime(2020, 1, 1), 0)  # the student's own date
    assert book["junk"][0] == collected(submitted, "junk") and book["junk"][1] > 0
    assert "early/" not in printed and "junk/03_pooling: timestamp.txt holds no date" in printed
    assert "note: lateness" not in printed  # asked for: nothing to say


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course of one assignment, released and registered in its own gradebook, due
    yesterday."""
    root = tmp_path_factory.mktemp("course")
    shutil.copy(REPO / "nbgrader_config.py", root)
    shutil.copytree(build.SOLUTIONS / ASSIGNMENT, root / "solutions" / ASSIGNMENT)
    assert main(["release", "--course", str(root)]) == 0
    return root


def test_in_place_the_course_gradebook_gets_a_submission_only_with_the_chosen_lateness(
        course, capsys):
    """ontime has an extension (on time by both clocks); early's file says on time but its copy
    came late; junk's file is no date. The submitted folder is read, never written."""
    submitted = submissions(course / "submitted", ["ontime", "early", "junk"])
    (submitted / "ontime" / ASSIGNMENT / "timestamp.txt").write_text(
        f"{NOW - datetime.timedelta(hours=1):%Y-%m-%d %H:%M:%S.%f} UTC")
    course_id = load(course).course_id
    db_url = gradebook_with_due_date(course / "gradebook.db", course_id,
                                     extensions={"ontime": datetime.timedelta(days=2)})
    before = tree_digest(submitted)
    assert grade(submitted, course / "out", "--lateness", "collected", course=course) == 0
    printed = capsys.readouterr().out
    assert tree_digest(submitted) == before
    book = recorded(db_url, course_id)
    # nbgrader read ontime's own file (formgrader matches the gradebook against it): the same
    # lateness as the collected copy's, on time.
    assert set(book) == {"ontime"} and book["ontime"][1] == 0
    assert ("early/03_pooling: not recorded in the course's gradebook (grades.csv has it): "
            "nbgrader there goes by its timestamp.txt, which says 2020-01-01 00:00:00 UTC "
            "(on time), but its copy was collected") in printed
    assert ("junk/03_pooling: not recorded in the course's gradebook (grades.csv has it): "
            "timestamp.txt holds no date, and nbgrader would read it there") in printed
    assert "Note: timestamp.txt holds no date" in page(course / "out", "junk")


def test_resume_keeps_a_student_only_with_the_same_submission_times(tmp_path):
    from grader.collect import StudentWork, SubmissionTime
    from grader.judge import Run
    from grader.schedule.journal import fingerprint

    notebook = tmp_path / "pooling.ipynb"
    notebook.write_text("{}")
    run = Run(7, assignments=(ASSIGNMENT,))

    def mark(lateness="collected", **times):
        work = StudentWork("ada", {(ASSIGNMENT, NOTEBOOK): notebook},
                           times={ASSIGNMENT: SubmissionTime(**{"collected": NOW,
                                                                "claimed": DUE, **times})})
        return fingerprint(work, run, "course", lateness)

    assert mark() == mark()
    assert mark() == mark(claimed=NOW)  # a date the run does not use
    assert mark() not in (mark("timestamp"), mark(collected=DUE), mark(problem="no date"))


COURSE_ID = "conv101"
RANDOM = "AbCdEfGhIjKl"  # nbgrader submit's +{random} part (ExchangeSubmit.add_random_string)


def exchange_course(tmp_path):
    """A course whose nbgrader config names an exchange (c.Exchange.root) holding its inbound
    folder, as a hub's does; returns (course root, inbound folder)."""
    root = tmp_path / "course"
    shutil.copytree(build.SOLUTIONS / ASSIGNMENT, root / "solutions" / ASSIGNMENT)
    (root / "nbgrader_config.py").write_text(
        (REPO / "nbgrader_config.py").read_text()
        + f"\nc.CourseDirectory.course_id = {COURSE_ID!r}"
        + f"\nc.Exchange.root = {str(tmp_path / 'exchange')!r}\n")
    inbound = tmp_path / "exchange" / COURSE_ID / "inbound"
    inbound.mkdir(parents=True)
    return root, inbound


def submit_and_collect(inbound, submitted, student, stamp):
    """`nbgrader submit` now (its inbound folder, named by the student's process's
    ``stamp``, which also fills timestamp.txt), then `nbgrader collect` into ``submitted``.
    Returns the inbound folder."""
    folder = inbound / f"{student}+{ASSIGNMENT}+{stamp}+{RANDOM}"
    folder.mkdir()
    shutil.copy(HONEST, folder / f"{NOTEBOOK}.ipynb")
    (folder / "timestamp.txt").write_text(stamp)
    shutil.copytree(folder, submitted / student / ASSIGNMENT)
    return folder


def arrived(folder):
    """When ``folder`` reached the exchange: the latest ctime over it and its entries."""
    latest = max(os.lstat(p).st_ctime for p in [folder, *folder.iterdir()])
    return datetime.datetime.fromtimestamp(latest, datetime.UTC).replace(tzinfo=None)


def class_in_exchange(tmp_path):
    """honest submits now with today's date; forger's process claims 2020 (folder name and
    timestamp.txt alike); rewrote rewrites timestamp.txt in the exchange after submitting;
    handcopied has no folder in the exchange (its file says 2020). Collected afterwards."""
    course, inbound = exchange_course(tmp_path)
    submitted = tmp_path / "submitted"
    folders = {
        "honest": submit_and_collect(inbound, submitted, "honest",
                                     f"{NOW:%Y-%m-%d %H:%M:%S.%f} UTC"),
        "forger": submit_and_collect(inbound, submitted, "forger", "2020-01-01 00:00:00.000000 UTC"),
        "rewrote": submit_and_collect(inbound, submitted, "rewrote",
                                      f"{NOW:%Y-%m-%d %H:%M:%S.%f} UTC"),
    }
    for student in ("rewrote",):  # the copy's timestamp.txt then names no folder
        (submitted / student / ASSIGNMENT / "timestamp.txt").write_text(
            "2020-01-01 00:00:00.000000 UTC")
    submissions(submitted, ["handcopied"])
    (submitted / "handcopied" / ASSIGNMENT / "timestamp.txt").write_text(
        "2020-01-01 00:00:00.000000 UTC")
    time.sleep(0.05)
    for student in ("honest", "forger", "rewrote", "handcopied"):  # collected later still
        os.utime(submitted / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    return course, submitted, folders


def test_by_default_with_an_exchange_its_clock_makes_a_forged_date_late(tmp_path, capsys):
    course, submitted, folders = class_in_exchange(tmp_path)
    db_url = gradebook_with_due_date(tmp_path / "gradebook.db", COURSE_ID)  # due yesterday
    assert grade(submitted, tmp_path / "out", "--db", db_url, course=course) == 0
    printed = capsys.readouterr().out
    book = recorded(db_url, COURSE_ID)
    for student in ("honest", "forger", "rewrote"):
        assert book[student][0] == arrived(folders[student])  # to the microsecond
        assert book[student][0] < collected(submitted, student)  # not when collected
        assert book[student][1] > 0  # submitted today, due yesterday
    said = next(line for line in printed.splitlines() if line.startswith("warning: forger/"))
    assert ("the gradebook has it late by 1 d" in said and "it reached nbgrader's exchange" in said
            and "its timestamp.txt says 2020-01-01 00:00:00 UTC (on time)" in said)
    assert ("warning: rewrote/03_pooling: its timestamp.txt names none of its 1 submission(s) "
            "in the exchange, so the latest change to any of them counts") in printed
    # No folder in the exchange: its timestamp.txt, said once in the summary.
    assert book["handcopied"] == (datetime.datetime(2020, 1, 1), 0)
    assert printed.count("note: lateness:") == 1
    assert ("note: lateness: 1 submission(s) (handcopied/03_pooling) have no folder in the "
            f"exchange {tmp_path / 'exchange' / COURSE_ID / 'inbound'}, so their time is "
            f"their timestamp.txt's") in printed


def test_with_an_exchange_a_submission_before_the_due_date_is_on_time_however_late_collected(
        tmp_path, capsys):
    course, submitted, folders = class_in_exchange(tmp_path)
    db_url = gradebook_with_due_date(tmp_path / "gradebook.db", COURSE_ID,
                                     due=NOW + datetime.timedelta(days=30))
    assert grade(submitted, tmp_path / "out", "--db", db_url, "--lateness", "exchange",
                 course=course) == 0
    printed = capsys.readouterr().out
    book = recorded(db_url, COURSE_ID)
    for student in ("honest", "forger", "rewrote"):
        assert book[student] == (arrived(folders[student]), 0)
        assert collected(submitted, student) > book[student][0]
    assert "the gradebook has it" not in printed  # both clocks say on time


def test_without_an_exchange_the_default_is_the_timestamp_said_once(tmp_path, capsys):
    course, inbound = exchange_course(tmp_path)
    shutil.rmtree(tmp_path / "exchange")
    submitted = submissions(tmp_path / "submitted", ["early", "junk", "none"])
    db_url = gradebook_with_due_date(tmp_path / "gradebook.db", COURSE_ID)
    assert grade(submitted, tmp_path / "out", "--db", db_url, course=course) == 0
    printed = capsys.readouterr().out
    book = recorded(db_url, COURSE_ID)
    assert book["early"] == (datetime.datetime(2020, 1, 1), 0)  # nbgrader's own choice
    assert book["junk"][0] == collected(submitted, "junk") and book["junk"][1] > 0
    assert book["none"] == (None, 0)
    assert printed.count("note: lateness:") == 1
    assert (f"note: lateness: no nbgrader exchange here ({inbound} not found), so submission "
            f"times are the students' own timestamp.txt") in printed
    assert "junk/03_pooling: timestamp.txt holds no date" in printed  # flagged as before


def test_the_exchange_is_read_by_lstat_only_and_within_its_bound(tmp_path):
    from grader.collect.submissions import MAX_ENTRIES, Inbound, exchange_time

    inbound = tmp_path / "inbound"
    inbound.mkdir()
    target = tmp_path / "elsewhere"
    target.mkdir()
    (inbound / f"link+{ASSIGNMENT}+2020-01-01 00:00:00 UTC").symlink_to(target)
    assert Inbound(inbound).time_of("link", ASSIGNMENT, "2020-01-01 00:00:00 UTC", NOW) == (
        None, None)  # a link is no submission: its timestamp.txt counts
    crowded = inbound / f"crowd+{ASSIGNMENT}+2020-01-01 00:00:00 UTC"
    crowded.mkdir()
    for index in range(MAX_ENTRIES + 5):
        (crowded / f"{index}.txt").write_text("")
    latest, complete = exchange_time([crowded])
    assert not complete and latest >= NOW - datetime.timedelta(minutes=5)
    later = NOW + datetime.timedelta(days=1)  # more than is looked at: never earlier than its copy
    when, note = Inbound(inbound).time_of("crowd", ASSIGNMENT, "2020-01-01 00:00:00 UTC", later)
    assert when == later and f"more than {MAX_ENTRIES} entries" in note
