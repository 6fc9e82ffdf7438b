"""How fast a class is graded: ``python -m grader.bench`` (the code lives in grader.schedule.bench)."""

from .schedule.bench import main

if __name__ == "__main__":
    raise SystemExit(main())
