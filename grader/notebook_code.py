"""A later notebook's door to an earlier one: ``function_from_notebook`` (notebook 4 fetches the
student's loops from notebooks 1 and 3). The code lives in ``grader.diagnosis.notebook_code``."""

from .diagnosis.notebook_code import function_from_notebook  # noqa: F401 - re-exported
