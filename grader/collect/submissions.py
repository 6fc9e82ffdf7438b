"""Find each student's notebooks in whatever layout an instructor has.

- nbgrader's: ``SUBMISSIONS/<student_id>/<assignment>/<notebook>.ipynb``;
- for one assignment (``--assignment``): a flat folder of ``<student_id>.ipynb``
  files, or an LMS zip of them.

Only regular files are read, each once, into the run's scratch folder, and
everything after reads those copies: a symbolic link (to a classmate's notebook
or /etc/passwd), a FIFO or a device in a student's folder is refused with a
reason on the feedback page, and the submissions folder is never written.

A folder, file or zip member whose name is not a usable student id (or that would be the
same student as another one) is set aside as Unusable, with why and how to fix it; it
never becomes a path, and everyone else is still collected.
"""

import datetime
import hashlib
import itertools
import json
import os
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


# Matched whole (fullmatch): `$` would also match before a final newline, and nbgrader strips
# "vic\n" to "vic", a classmate.
STUDENT_ID = re.compile(r"[A-Za-z0-9_@+-][A-Za-z0-9_.@+-]{0,99}")
ID_RULE = "letters, digits and _ . @ + - only, not starting with a dot, at most 100 characters"
RENAME_FOLDER = f"rename the folder to the student's id ({ID_RULE})"
RENAME_FILE = f"rename the file to <the student's id>.ipynb ({ID_RULE})"
# What the trusted side reads of a submission is bounded before anything parses it (nbgrader's
# reading and copying has no deadline): a notebook's bytes, cells and JSON values, a
# timestamp's bytes, and the files in a student's or an assignment's folder.
MAX_NOTEBOOK_BYTES = 64 * 1024**2
MAX_CELLS = 2000  # the course's notebooks have about 100
MAX_JSON_VALUES = 2_000_000  # values and containers in a notebook's JSON: what parsing costs
MAX_NESTING = 32  # levels of JSON nesting; a notebook's own go about 8 deep
MAX_TIMESTAMP_BYTES = 256
MAX_ENTRIES = 100  # files and folders in a student's folder, or in an assignment's (all levels)
MAX_FOLDER_BYTES = 256 * 1024**2  # all files in a student's folder together
# Where a submission's time comes from (--lateness): when it reached nbgrader's exchange (the
# inbound folder the student's `nbgrader submit` made, by its change times: a clock the
# student cannot move back); the timestamp.txt the student's own process wrote (nbgrader's
# own choice); or when its copy reached SUBMISSIONS (right only when collect runs all along).
EXCHANGE, TIMESTAMP, COLLECTED = "exchange", "timestamp", "collected"
LATENESS_SOURCES = (EXCHANGE, TIMESTAMP, COLLECTED)
# nbgrader's timestamps: a date, a time and a zone name or offset. Nothing else is handed to
# its parser (dateutil's gettz would look a zone name up as a file path).
TIMESTAMP_TEXT = re.compile(r"[0-9A-Za-z :.,+_-]{1,64}")
CLOCK_SKEW = datetime.timedelta(minutes=5)  # a hub's clocks may differ a little from ours


class SubmissionError(ValueError):
    pass


@dataclass(frozen=True)
class SubmissionTime:
    """When one assignment of a student's (nbgrader's layout) was submitted, by three clocks;
    datetimes are naive UTC, as nbgrader's gradebook keeps them.

    collected: when its copy reached SUBMISSIONS: the latest change time (ctime) of its
      notebooks there. The kernel sets a ctime to its own clock whenever a file is written
      or its times are set, so no one without the machine's clock can move it back (nbgrader's
      collect copies the student's modification times, which the student can set). After a
      `nbgrader collect` run past the deadline, it is that run's time for everyone.
    claimed: the date in its timestamp.txt, written by the student's own process; None when
      there is none, or it is not used (``problem`` says why).
    exchanged: when it reached nbgrader's exchange: the latest ctime over the inbound folder
      it was collected from and everything in it (exchange_time); None when not looked for
      (another --lateness) or not found there.
    exchange_note: for the instructor, how ``exchanged`` was found when not plainly.
    """

    collected: datetime.datetime = None
    claimed: datetime.datetime = None
    problem: str = None
    exchanged: datetime.datetime = None
    exchange_note: str = None

    def chosen(self, source):
        """The submission time ``source`` (one of LATENESS_SOURCES) gives. ``exchange``
        without an inbound folder falls back to ``timestamp``; a timestamp.txt that is not
        used never erases lateness: then the collected time counts."""
        if source == EXCHANGE and self.exchanged is not None:
            return self.exchanged
        if source in (TIMESTAMP, EXCHANGE) and not self.problem:
            return self.claimed  # None without a timestamp.txt, as nbgrader records it
        return self.collected

    def _instead(self, whose):
        what = "your work" if whose == "your" else "its copy"
        if self.exchanged is not None:
            return f": {whose} submission time is when {what} reached nbgrader's exchange, " \
                   f"{shown_time(self.exchanged)}"
        if self.collected:
            return f": {whose} submission time is when {what} was collected, " \
                   f"{shown_time(self.collected)}"
        return ""

    def note(self):
        """For the student's feedback page: why their timestamp.txt was not used, or None."""
        if not self.problem:
            return None
        return f"Note: {self.problem}, so it was not used{self._instead('your')}."

    def flag(self, student, assignment):
        """For the instructor: the same, or None."""
        if not self.problem:
            return None
        return f"{student}/{assignment}: {self.problem}, so it was not used{self._instead('the')}"


def shown_time(moment):
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment else "none"


def _utc(seconds):
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).replace(tzinfo=None)


def claimed_time(data, now):
    """(date, None) from a timestamp.txt's bytes ``data`` (at most MAX_TIMESTAMP_BYTES), as
    nbgrader's own parser reads it, or (None, why it is not used): not a date, empty, or
    later than ``now`` (naive UTC)."""
    text = data.decode("ascii", "replace").strip()
    if not text:
        return None, "timestamp.txt is empty"
    if not TIMESTAMP_TEXT.fullmatch(text):
        return None, "timestamp.txt holds no date"
    from nbgrader.utils import parse_utc

    try:
        moment = parse_utc(text)
    except Exception:  # noqa: BLE001 - the student wrote it: any failure means "not a date"
        return None, "timestamp.txt holds no date"
    if moment > now + CLOCK_SKEW:
        return None, f"timestamp.txt says {shown_time(moment)}, a date in the future"
    return moment, None


@dataclass
class StudentWork:
    student: str
    notebooks: dict = field(default_factory=dict)  # (assignment, notebook) -> Path
    # Why a submitted file was not read: (assignment, notebook) -> reason; the key
    # (assignment, None) covers a whole assignment folder, (None, None) the student's.
    refused: dict = field(default_factory=dict)
    # assignment -> why its submitted folder, as it is, must not be handed to nbgrader
    # (something in it is out of bounds): the grades stand, the gradebook is not written.
    kept_from_nbgrader: dict = field(default_factory=dict)
    # assignment -> SubmissionTime, for assignments in nbgrader's layout
    times: dict = field(default_factory=dict)

    def refusal(self, assignment, notebook):
        return (self.refused.get((assignment, notebook)) or self.refused.get((assignment, None))
                or self.refused.get((None, None)))


@dataclass(frozen=True)
class Unusable:
    """A submission that was not collected: ``path`` (a zip member as ``zip:member``),
    ``reason`` and ``fix``, all meant for the instructor."""
    path: str
    reason: str
    fix: str


@dataclass
class Collection:
    works: list  # StudentWork of every usable student id
    unusable: list  # Unusable: the submissions set aside
    notes: list = field(default_factory=list)  # for the run's summary, each said once


def shown(text, limit=120):
    """``text`` as a quoted, escaped literal (no newline, terminal escape or bidi control
    survives), cut to ``limit`` characters: names students chose, printed safely."""
    text = str(text)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text)} characters)"


def _kind(mode):
    return ("a symbolic link" if stat.S_ISLNK(mode) else "a FIFO" if stat.S_ISFIFO(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")


_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)  # unrolled: fast on long strings


def notebook_problem(name, data):
    """Why the bytes ``data`` of the notebook ``name`` are too much to parse or to write back
    (nbgrader writes an autograded copy, indented: a line per level of nesting), or None.
    The structure is measured with the strings taken out, so nothing inside a string (or
    escaped in a key) counts; then the cells are counted as a parser sees them."""
    skeleton = np.frombuffer(_JSON_STRING.sub(b'""', data), dtype=np.uint8)
    opens = (skeleton == ord("[")) | (skeleton == ord("{"))
    closes = (skeleton == ord("]")) | (skeleton == ord("}"))
    if int(np.count_nonzero(skeleton == ord(","))) + int(np.count_nonzero(opens)) > MAX_JSON_VALUES:
        return f"{name} holds more than {MAX_JSON_VALUES:,} JSON values"
    if opens.any() and int(np.cumsum(opens.astype(np.int32) - closes).max()) > MAX_NESTING:
        return f"{name} nests its JSON more than {MAX_NESTING} levels deep"
    try:
        cells = json.loads(data).get("cells")
    except (ValueError, AttributeError):
        return None  # not a notebook: reading it says so, for this student only
    if isinstance(cells, list) and len(cells) > MAX_CELLS:
        return f"{name} holds more than {MAX_CELLS} cells"
    return None


def copy_regular(source, target, max_bytes=MAX_NOTEBOOK_BYTES, check=notebook_problem,
                 kind="a notebook file"):
    """Copy ``source`` to ``target`` if it is a regular file (not a link, FIFO or device)
    of at most ``max_bytes`` that ``check(name, data)`` finds nothing wrong with; otherwise
    return the reason it is not copied (``kind``: what it should have been)."""
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as error:
        if os.path.islink(source):
            return f"{Path(source).name} is a symbolic link, not {kind}"
        return f"{Path(source).name} could not be opened: {error.strerror}"
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return f"{Path(source).name} is {_kind(info.st_mode)}, not {kind}"
        data = handle.read(max_bytes + 1) if info.st_size <= max_bytes else b""
        if info.st_size > max_bytes or len(data) > max_bytes:
            return f"{Path(source).name} is larger than {_size(max_bytes)}"
    reason = check(Path(source).name, data) if check else None
    if reason:
        return reason
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    Path(target).write_bytes(data)
    return None


def _size(count):
    return f"{count >> 20} MiB" if count >= 1 << 20 else f"{count} bytes"


def folder_problem(folder):
    """Why ``folder`` is too much to read, or None: more than MAX_ENTRIES files and folders at
    all levels (links counted, never followed), or more than MAX_FOLDER_BYTES in its files.
    Stops looking at the first limit passed."""
    count = size = 0
    for root, dirs, files in os.walk(folder, followlinks=False):
        count += len(dirs) + len(files)
        if count > MAX_ENTRIES:
            return (f"the folder {Path(folder).name} holds more than {MAX_ENTRIES} files and "
                    f"folders")
        for name in files:
            try:
                size += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
        if size > MAX_FOLDER_BYTES:
            return f"the files in the folder {Path(folder).name} are larger than {_size(MAX_FOLDER_BYTES)}"
    return None


def upload_copy(folder, target):
    """Every regular ``*.ipynb`` file under ``folder`` (links, FIFOs and devices refused, linked
    folders never entered), copied under ``target``; returns (target, [why each was refused]).
    An upload of more than MAX_ENTRIES files and folders is not read at all."""
    Path(target).mkdir(parents=True, exist_ok=True)
    if folder_problem(folder):
        return Path(target), [f"Your upload holds more than {MAX_ENTRIES} files and folders or "
                              f"{_size(MAX_FOLDER_BYTES)}, so none was graded: upload only the "
                              f"notebook this assignment asks for."]
    refused = []
    for index, (root, dirs, files) in enumerate(os.walk(folder, followlinks=False)):
        dirs[:] = sorted(d for d in dirs if d != ".ipynb_checkpoints")
        for name in sorted(f for f in files if f.endswith(".ipynb")):
            reason = copy_regular(Path(root) / name, Path(target) / str(index) / name)
            if reason:
                refused.append(f"{reason}, so it was not graded.")
    return Path(target), refused


def _real_dirs(folder):
    """Sub-folders of ``folder`` and the links among its entries (never followed)."""
    entries = sorted(folder.iterdir())
    return ([p for p in entries if not p.is_symlink() and p.is_dir()],
            [p for p in entries if p.is_symlink()])


def unusable_id(name):
    """Why ``name`` cannot be a student id, or None when it can."""
    if STUDENT_ID.fullmatch(name):
        return None
    if not name:
        return "an empty name is not a usable student id"
    if name.startswith("."):
        problem = "it starts with a dot"
    elif len(name) > 100:
        problem = f"it is {len(name)} characters long"
    else:
        bad = sorted(set(re.sub(r"[A-Za-z0-9_.@+-]", "", name)))
        problem = "it holds " + " ".join(shown(c) for c in bad[:10])
    return f"{shown(name)} is not a usable student id: {problem}"


def _sorted_ids(entries, fix):
    """Split ``entries`` [(id, where, source)] into {id: (where, source)} of usable ids and
    [Unusable]. Ids that differ at most in letter case are one student to a case-insensitive
    disk (their feedback folders would be one), so all of them are set aside."""
    unusable, by_folded = [], {}
    for student, where, source in entries:
        reason = unusable_id(student)
        if reason:
            unusable.append(Unusable(where, reason, fix))
        else:
            by_folded.setdefault(student.lower(), []).append((student, where, source))
    usable = {}
    for same in by_folded.values():
        if len(same) == 1:
            student, where, source = same[0]
            usable[student] = (where, source)
            continue
        for index, (_, where, _) in enumerate(same):
            others = ", ".join(shown(w) for k, (_, w, _) in enumerate(same) if k != index)
            unusable.append(Unusable(where, f"it would be the same student as {others} (ids "
                                     f"{', '.join(shown(s) for s, _, _ in same)}, letter case "
                                     f"aside)", "keep only the one to grade: rename or remove "
                                     "the others"))
    return usable, sorted(unusable, key=lambda u: u.path)


def _folder_name(student):
    """The scratch folder of ``student``: the id itself, or a digest of an id that is not a
    usable one (e.g. from Gradescope's metadata), which then never becomes a path."""
    if STUDENT_ID.fullmatch(student):
        return student
    return "id-" + hashlib.sha256(student.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def take_notebook(work, key, source, scratch):
    """Record ``source`` as ``work``'s notebook ``key`` by a safe copy into ``scratch``."""
    target = Path(scratch) / "collected" / _folder_name(work.student) / key[0] / f"{key[1]}.ipynb"
    reason = copy_regular(source, target)
    if reason:
        work.refused[key] = reason
    else:
        work.notebooks[key] = target


def _one_notebook(course, assignment):
    names = sorted(course.notebook_paths(assignment))
    if len(names) != 1:
        raise SubmissionError(f"assignment {assignment!r} has {len(names)} notebooks; a flat "
                              f"folder or zip needs nbgrader's layout instead")
    return names[0]


def _flat(usable, assignment, notebook, scratch):
    works = []
    for student, (_, source) in sorted(usable.items()):
        works.append(StudentWork(student))
        take_notebook(works[-1], (assignment, notebook), source, scratch)
    return works


def _unzipped(path, course, assignment, scratch):
    """The students of a zip of ``<student_id>.ipynb`` members (in any of its folders; only
    the file name counts, so no member's path is ever used), each member read at most
    MAX_NOTEBOOK_BYTES + 1 (a larger one is then refused as a large file is)."""
    notebook = _one_notebook(course, assignment)
    target = Path(scratch) / "unzipped"
    target.mkdir(parents=True, exist_ok=True)
    works = []
    with zipfile.ZipFile(path) as archive:
        entries = [(re.split(r"[/\\]", m.filename)[-1].removesuffix(".ipynb"),
                    f"{path}:{m.filename}", m) for m in archive.infolist()
                   if m.filename.endswith(".ipynb") and not m.filename.startswith("__MACOSX")]
        usable, unusable = _sorted_ids(entries, f"unzip it, {RENAME_FILE}, and grade that folder")
        for student, (_, member) in sorted(usable.items()):
            works.append(StudentWork(student))
            copy = target / f"{student}.ipynb"
            try:
                with archive.open(member) as source:
                    copy.write_bytes(source.read(MAX_NOTEBOOK_BYTES + 1))
            except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError,
                    NotImplementedError) as error:  # corrupt, encrypted, unknown compression
                works[-1].refused[(assignment, notebook)] = (
                    f"{student}.ipynb could not be read from the zip ({error})")
                continue
            take_notebook(works[-1], (assignment, notebook), copy, scratch)
    return Collection(works, unusable)


def collect_usable(path, course, assignment=None, scratch=None, inbound=None):
    """Every student's work under ``path``, copied into ``scratch`` (a zip unpacked there;
    without ``scratch``, a temporary folder that lives as long as the process), and apart
    from it every submission whose name is not a usable student id. ``course`` (a
    gradebook.CourseDir) names the notebooks of a flat folder's or a zip's ``assignment``.
    ``inbound``: the folder of nbgrader's exchange where the course's submissions arrive,
    for SubmissionTime.exchanged (nbgrader's layout); the collection's notes then say which
    submissions it holds no folder of.

    Raises SubmissionError when there is nothing to grade."""
    if scratch is None:
        import tempfile

        scratch = tempfile.mkdtemp(prefix="collected-")
    path = Path(path).absolute()  # the paths set aside are read later, from anywhere
    if not path.exists():
        raise SubmissionError(f"SUBMISSIONS {path} does not exist")
    if path.is_file() and zipfile.is_zipfile(path):
        if assignment is None:
            raise SubmissionError("a zip of notebooks needs --assignment to say which one it holds")
        return _nothing_usable(path, _unzipped(path, course, assignment, scratch),
                               "<student_id>.ipynb")
    if not path.is_dir():
        raise SubmissionError(f"SUBMISSIONS must be a folder or a zip, got {path}")
    flat_files = sorted(path.glob("*.ipynb"))
    if flat_files:
        if assignment is None:
            raise SubmissionError(f"{path} holds notebooks directly: pass --assignment to say "
                                  f"which assignment they are")
        notebook = _one_notebook(course, assignment)
        usable, unusable = _sorted_ids([(p.stem, str(p), p) for p in flat_files],
                                       RENAME_FILE)
        return _nothing_usable(path, Collection(_flat(usable, assignment, notebook, scratch),
                                                unusable), "<student_id>.ipynb")
    student_dirs, student_links = _real_dirs(path)
    # Hidden folders (.git, ...) and an earlier run's output folder are not students.
    entries = [(d.name, str(d), d) for d in student_dirs + student_links
               if not d.name.startswith(".") and not (d / "grades.csv").exists()]
    usable, unusable = _sorted_ids(entries, RENAME_FOLDER)
    exchange = Inbound(inbound) if inbound is not None else None
    works = [_student_folder(student, folder, assignment, scratch, exchange)
             for student, (_, folder) in sorted(usable.items())]
    notes = [exchange.summary()] if exchange is not None and exchange.summary() else []
    return _nothing_usable(path, Collection(works, unusable, notes),
                           "<student_id>/<assignment>/<notebook>.ipynb")


def _student_folder(student, student_dir, assignment, scratch, inbound=None):
    work = StudentWork(student)
    if student_dir.is_symlink():
        work.refused[(None, None)] = (f"the folder {student_dir.name} is a symbolic link; "
                                      "only a real folder of your own notebooks is graded")
        return work
    with os.scandir(student_dir) as entries:  # each assignment folder is bounded below
        if next(itertools.islice(entries, MAX_ENTRIES, None), None) is not None:
            work.refused[(None, None)] = (f"the folder {student_dir.name} holds more than "
                                          f"{MAX_ENTRIES} entries; hand in only the assignments' "
                                          f"folders")
            return work
    assignment_dirs, assignment_links = _real_dirs(student_dir)
    for link in assignment_links:
        work.refused[(link.name, None)] = f"the folder {link.name} is a symbolic link"
    for assignment_dir in assignment_dirs:
        name = assignment_dir.name
        if assignment and name != assignment:
            continue
        problem = folder_problem(assignment_dir)
        if problem:
            work.refused[(name, None)] = work.kept_from_nbgrader[name] = problem
            continue
        taken = []
        for notebook in sorted(assignment_dir.glob("*.ipynb")):
            take_notebook(work, (name, notebook.stem), notebook, scratch)
            if (name, notebook.stem) in work.refused:
                work.kept_from_nbgrader[name] = work.refused[(name, notebook.stem)]
            else:
                taken.append(notebook)
        work.times[name] = _submission_time(assignment_dir, taken, Path(scratch) / "collected"
                                            / student / name / "timestamp.txt", student,
                                            inbound)
    return work


def _submission_time(folder, notebooks, copy, student, inbound=None):
    """The SubmissionTime of an assignment ``folder`` of ``student`` whose ``notebooks`` were
    collected; with ``inbound`` (an Inbound), also when it reached the exchange. Its
    timestamp.txt is read only when it is a regular file of at most MAX_TIMESTAMP_BYTES
    (through ``copy``, where it is kept), so a huge or odd one costs nothing."""
    changes = [os.lstat(p).st_ctime for p in notebooks]
    collected = _utc(max(changes)) if changes else None
    stamp, text, claimed, problem = folder / "timestamp.txt", None, None, None
    if os.path.lexists(stamp):
        problem = copy_regular(stamp, copy, max_bytes=MAX_TIMESTAMP_BYTES, check=None,
                               kind="a plain file")
        if not problem:
            now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
            text = copy.read_bytes().decode("ascii", "replace").strip()
            claimed, problem = claimed_time(copy.read_bytes(), now)
    exchanged = note = None
    if inbound is not None:
        exchanged, note = inbound.time_of(student, folder.name, text, collected)
    return SubmissionTime(collected, claimed, problem, exchanged, note)


class Inbound:
    """nbgrader's exchange folder of a course's submissions, ``{Exchange.root}/{course_id}/
    inbound``: each `nbgrader submit` makes ``{student}+{assignment}+{timestamp}`` there (with
    ``+{random}`` when ExchangeSubmit.add_random_string is on), holding the
    notebooks and a timestamp.txt of that very ``{timestamp}``; `nbgrader collect` copies the
    folder it picks (the latest by that name's timestamp, or the latest before the due date)
    to submitted/{student}/{assignment}/, timestamp.txt included.

    Its names are listed once per run (nothing followed, nothing read); the folders are only
    lstat'ed, each submission's at most MAX_ENTRIES entries (exchange_time)."""

    def __init__(self, path):
        self.path = Path(path)
        self.names = {}  # a name, and the name less its last one or two "+parts" -> [names]
        with os.scandir(self.path) as entries:
            for entry in entries:
                name = entry.name
                for key in {name, name.rsplit("+", 1)[0], name.rsplit("+", 2)[0]}:
                    self.names.setdefault(key, []).append(name)
        self.unmatched = []  # "student/assignment" with no folder here (timestamp.txt counts)

    def _named(self, key, exact):
        """The folders named ``key`` (+ a random part), or (``exact`` False) ``key``+anything."""
        found = self.names.get(key, [])
        if exact:
            return sorted({n for n in found if n == key or n.rsplit("+", 1)[0] == key})
        return sorted({n for n in found if n.startswith(key + "+")})

    def time_of(self, student, assignment, text, collected):
        """(when ``student``'s ``assignment`` reached the exchange, a note for the instructor
        or None); (None, None) when the student has no folder here for it. ``text``: its
        collected timestamp.txt (None when there is none or it was not read), which names the
        very folder collect copied: submit writes the same timestamp in both. When it names
        none (the student rewrote timestamp.txt in the exchange after submitting, or the copy
        is not from this exchange), every folder of the student's for the assignment counts:
        the latest is a time the student could only have made later, never earlier."""
        prefix = f"{student}+{assignment}"
        folders = self._named(f"{prefix}+{text}", exact=True) if text else []
        note = None
        if not folders:
            folders = self._named(prefix, exact=False)
            if not folders:
                self.unmatched.append(f"{student}/{assignment}")
                return None, None
            note = (f"its timestamp.txt names none of its {len(folders)} submission(s) in the "
                    f"exchange, so the latest change to any of them counts")
        latest, complete = exchange_time([self.path / name for name in folders])
        if latest is None:  # links or files by those names: no submission of nbgrader's
            self.unmatched.append(f"{student}/{assignment}")
            return None, None
        if not complete:  # more entries than are looked at: its copy's time may be later
            latest = max(t for t in (latest, collected) if t is not None)
            note = (f"its folders in the exchange hold more than {MAX_ENTRIES} entries, so "
                    f"the later of their latest change seen and its copy's collection counts")
        return latest, note

    def summary(self):
        """One line for the run's summary when some submissions had no folder here, or None."""
        if not self.unmatched:
            return None
        some = ", ".join(self.unmatched[:5]) + (", ..." if len(self.unmatched) > 5 else "")
        return (f"lateness: {len(self.unmatched)} submission(s) ({some}) have no folder in the "
                f"exchange {self.path}, so their time is their timestamp.txt's, which the "
                f"student's own process wrote (one that is unusable counts as when its copy "
                f"was collected)")


def exchange_time(folders):
    """(the latest change time, naive UTC, over ``folders`` and every entry in them, True) by
    lstat only (no link followed); after MAX_ENTRIES entries in all it stops: (the latest
    so far, False). A real folder only: a link or file of that name counts as nothing.

    A ctime is the kernel's clock when the entry was last written, renamed or had its times
    set: the folder's changes when an entry is added or removed in it, each file's when it is
    rewritten. No one but the machine's administrator can set it back, so the student can only
    make this time later."""
    latest, looked = None, 0
    stack = []
    for folder in folders:
        try:
            info = os.lstat(folder)
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode):
            latest = max(latest or info.st_ctime, info.st_ctime)
            stack.append(folder)
    while stack:
        try:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    looked += 1
                    if looked > MAX_ENTRIES:
                        return _utc(latest), False
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    latest = max(latest, info.st_ctime)
                    if stat.S_ISDIR(info.st_mode):
                        stack.append(entry.path)
        except OSError:
            continue
    return (_utc(latest) if latest is not None else None), True


def listing(unusable, limit=None):
    """The submissions set aside, two lines each: where and why, then the fix."""
    lines = []
    for entry in unusable[:limit]:
        lines += [f"  {shown(entry.path, 300)}: {entry.reason}", f"      fix: {entry.fix}"]
    if limit is not None and len(unusable) > limit:
        lines.append(f"  ... and {len(unusable) - limit} more")
    return "\n".join(lines)


def _nothing_usable(path, collection, expected):
    """``collection``, unless it holds no one to grade: then SubmissionError says why."""
    if not collection.works and collection.unusable:
        raise SubmissionError(f"nothing to grade in {path}: no submission has a usable student "
                              f"id\n{listing(collection.unusable, limit=20)}")
    if not collection.works:
        raise SubmissionError(f"no submissions found in {path}: expected {expected}")
    return collection


def collect(path, course, assignment=None, scratch=None):
    """collect_usable's students' work, for a caller that grades everyone or no one:
    SubmissionError names every submission whose name is not a usable student id."""
    collection = collect_usable(path, course, assignment, scratch)
    if collection.unusable:
        raise SubmissionError(f"not a usable student id:\n{listing(collection.unusable)}")
    return collection.works
