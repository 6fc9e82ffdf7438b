"""The instructor's pipeline: collect submissions, run them in a sandbox, judge, write grades and feedback."""
