"""What a student's checks run: tasks, cases, the reference, the judge, the named mistakes."""
