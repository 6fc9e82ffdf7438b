"""A later notebook's door to an earlier one: ``function_from_notebook`` (notebook 4 fetches the
student's loops from notebooks 1 to 3) and ``layers_from_notebooks`` (notebook 5's network runs on
the student's layers). The code lives in ``grader.diagnosis.notebook_code`` and ``own_layers``."""

from .diagnosis.notebook_code import function_from_notebook  # noqa: F401 - re-exported
from .diagnosis.own_layers import layers_from_notebooks  # noqa: F401 - re-exported
