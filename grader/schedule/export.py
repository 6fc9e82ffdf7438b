"""Grade one student's upload on its own (Gradescope's ``run_autograder``)."""

from pathlib import Path

from ..collect import StudentWork, match_upload, missing_message, take_notebook, upload_copy
from ..gradebook import apply_penalties
from ..judge import Run, course_secret, grade_student
from ..sandbox import Limits, temporary_folder, verify


class UploadError(ValueError):
    """The upload cannot be graded at all; the message says why."""


def grade_upload(folder, course, student, assignment=None, seed=None, limits=None,
                 seconds_late=0.0):
    """Grade the notebooks under ``folder`` as ``student``'s ``assignment`` (by default the
    assignment recognised from them) against ``course`` (a gradebook.CourseDir), taking off
    the late penalty the course's nbgrader config sets for ``seconds_late``.

    Returns (StudentResult, [messages for the student about the upload]). Raises
    sandbox.SandboxUnavailable, UploadError or gradebook.CourseError, grading nothing."""
    limits = limits or Limits()
    verify(limits)
    folder = Path(folder)
    if not folder.is_dir():
        raise UploadError(f"SUBMISSION must be a folder of notebooks, got {folder}")
    work = StudentWork(student)
    with temporary_folder("export-") as scratch:
        # Only regular files, copied, are read: never a link, a FIFO or a device.
        upload, messages = upload_copy(folder, Path(scratch) / "upload")
        matched, unmatched = match_upload(upload, course, assignment)
        messages += unmatched
        for key, path in matched.items():
            take_notebook(work, key, path, scratch)
        graded = [assignment] if assignment else sorted({a for a, _ in matched})
        if len(graded) > 1:  # one upload, one assignment: the maximum must not grow with it
            messages.append(f"Your upload holds notebooks of {len(graded)} assignments "
                            f"({', '.join(graded)}), so none was graded: upload only the "
                            f"notebook this assignment asks for.")
            work.notebooks.clear()
            graded = []
        elif not graded:  # no assignment named and none recognised: nothing to grade against
            graded, messages = [], messages + ["Your upload holds no notebook of this course, "
                                               "so it scores 0. Upload the notebook you worked in."]
        elif not any(a == graded[0] for a, _ in matched):
            messages.append(missing_message(graded[0], course.notebook_paths(graded[0])))
        run = Run(course_secret(course.root) if seed is None else seed, limits, tuple(graded),
                  course.notebooks(graded))
        result = grade_student(work, run)
        for graded_assignment in graded:
            apply_penalties(result, graded_assignment, student, seconds_late, course.config)
        return result, messages
