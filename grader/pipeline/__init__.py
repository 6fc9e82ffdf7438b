"""The old home of the instructor's pipeline, kept only so that existing course configs go on
working: ``from grader.pipeline.nbgrader_judge import use_trusted_grading``. New code imports
from the rooms (see the README's architecture section); new configs from ``grader.gradebook``."""
