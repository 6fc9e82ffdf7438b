"""nbgrader configuration for this course (nbgrader reads it from the top level)."""

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

c.CourseDirectory.root = "."
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.course_id = "conv-course"
# Released notebooks carry no outputs; instructors regenerate them with `make release`.
c.ClearOutput.enabled = True
