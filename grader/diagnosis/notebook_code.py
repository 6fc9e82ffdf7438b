"""Which code of a submitted notebook the autograder runs.

Only the student's own code: the solution cells, plus any code cells the
student added. Before them runs a prelude of the top-level imports found in
the course's (trusted) notebook, so solutions can use what the notebook
imported. Check cells, test cells and the notebook's demo cells never run.
"""

import ast

import nbformat


def _nbgrader(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def strip_magics(source):
    """IPython-only lines (%magic, !shell) are dropped; Python cannot parse them."""
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()
    )


def prelude(course_notebook):
    """The top-level import statements of the course notebook's plain code cells."""
    statements = []
    for cell in course_notebook.cells:
        if cell.cell_type != "code" or _nbgrader(cell):
            continue
        try:
            tree = ast.parse(strip_magics(cell.source))
        except SyntaxError:
            continue
        statements += [
            ast.unparse(node) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))
        ]
    # One statement per entry: the worker runs each on its own, so one import that
    # fails (say, a plotting helper) does not take the others down with it.
    return statements


def own_tests(course_notebook):
    """[(grade_id, source, points)] of the course's test cells that name no task (a test of
    the instructor's own, graded the nbgrader way), in notebook order. Manually graded
    cells (grade and solution both set) are graded by hand and are not among them."""
    from .tasks import TASKS

    return [(meta["grade_id"], cell.source, float(meta.get("points", 0)))
            for cell in course_notebook.cells
            if cell.cell_type == "code" and (meta := _nbgrader(cell)).get("grade")
            and not meta.get("solution") and meta["grade_id"].removeprefix("test_") not in TASKS]


def _course_shape(source):
    """A cell's code with every string literal emptied: the course's cell `NAME = ""` is
    still the course's once a student writes their name in it."""
    try:
        tree = ast.parse(strip_magics(source))
    except SyntaxError:
        return source.strip()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
    return ast.dump(tree)


def student_cells(submission, course_notebook, tests=None):
    """[(cell id, source)] of the solution cells and the student-added code cells,
    in notebook order. ``tests`` ({grade_id: source}, the course's): those test cells
    too, with the course's source, where the submission has them (at the end where
    it does not). A plain cell that is one of the course's, but for its strings (a
    header's NAME = "Ada"), is the course's."""
    course_sources = {_course_shape(cell.source) for cell in course_notebook.cells
                      if cell.cell_type == "code"}
    tests = tests or {}
    cells, placed = [], set()
    for index, cell in enumerate(submission.cells):
        if cell.cell_type != "code":
            continue
        meta = _nbgrader(cell)
        if meta.get("solution") and not meta.get("grade"):
            grade_id = meta.get("grade_id")
            cells.append((grade_id if grade_id and grade_id not in tests else f"#{index + 1}",
                          cell.source))
        elif meta.get("grade") and not meta.get("solution") and meta.get("grade_id") in tests \
                and meta["grade_id"] not in placed:
            placed.add(meta["grade_id"])
            cells.append((meta["grade_id"], tests[meta["grade_id"]]))
        elif not meta and cell.source.strip() and _course_shape(cell.source) not in course_sources:
            cells.append((f"#{index + 1} (added by you)", cell.source))
    return cells + [(g, source) for g, source in tests.items() if g not in placed]


def read(path):
    """The notebook at ``path``; raises ValueError with a readable reason when it is broken."""
    try:
        return nbformat.read(str(path), as_version=4)
    except Exception as error:  # nbformat raises many kinds for a broken file
        raise ValueError(f"{path.name} is not a readable notebook: {type(error).__name__}: "
                         f"{str(error).splitlines()[0] if str(error) else ''}") from error


def _without_hidden_tests(source):
    """A test cell as students receive it: the release drops the hidden-test block."""
    kept, hidden = [], False
    for line in source.splitlines():
        if line.strip() == "### BEGIN HIDDEN TESTS":
            hidden = True
        elif line.strip() == "### END HIDDEN TESTS":
            hidden = False
        elif not hidden:
            kept.append(line)
    return "\n".join(kept).strip()


def notes_on_cells(submission, course_notebook, cells):
    """Sentences for the student about cells that grading treats specially:
    test cells edited or deleted, and code cells they added (``cells`` is what
    student_cells returned)."""
    def tests(notebook):
        return {_nbgrader(c).get("grade_id"): _without_hidden_tests(c.source) for c in notebook.cells
                if c.cell_type == "code" and _nbgrader(c).get("grade") and not _nbgrader(c).get("solution")}

    theirs, ours = tests(submission), tests(course_notebook)
    deleted = sorted(set(ours) - set(theirs))
    edited = sorted(g for g in ours if g in theirs and theirs[g] != ours[g])
    notes = []
    if edited or deleted:
        changed = ", ".join([f"{g} (edited)" for g in edited] + [f"{g} (deleted)" for g in deleted])
        notes.append(f"Test cells changed in your notebook: {changed}. Grading always uses the "
                     f"course's own tests, so this neither helps nor hurts.")
    added = [cell_id for cell_id, _ in cells if cell_id.endswith("(added by you)")]
    if added:
        notes.append(f"Cells you added ({', '.join(added)}) ran before grading, in a separate "
                     f"process: whatever they change (numpy, conv_lib, grader) does not affect "
                     f"how your functions are judged.")
    return notes


def function_from_notebook(path, name):
    """Your function ``name`` from another course notebook, e.g. your conv_forward_naive
    from notebook 1, so a later notebook can use it without copy and paste.

    Runs that notebook's import cell and the solution cell defining ``name`` (nothing
    else) and returns the function, or None with a printed reason when the notebook
    is missing or unreadable or the function is not written yet.
    """
    from pathlib import Path

    path = Path(path)
    if not path.exists():
        print(f"{name}: {path} not found, so it is left out")
        return None
    try:
        notebook = read(path)
    except ValueError as error:
        print(f"{name}: {error}, so it is left out")
        return None
    namespace = {}
    for statement in prelude(notebook):
        try:
            exec(statement, namespace)  # noqa: S102 - the student's own notebook, in their own kernel
        except Exception:  # noqa: BLE001 - an import that fails here only costs that name
            continue
    cell = next((c for c in notebook.cells if _nbgrader(c).get("grade_id") == name), None)
    if cell is None:
        print(f"{name}: no solution cell {name!r} in {path.name}, so it is left out")
        return None
    if "raise NotImplementedError" in cell.source:
        print(f"{name}: not written yet in {path.name}, so it is left out")
        return None
    try:
        exec(compile(strip_magics(cell.source), f"<{path.name}: {name}>", "exec"), namespace)  # noqa: S102
    except Exception as error:  # noqa: BLE001 - report, never crash the notebook
        print(f"{name}: its cell in {path.name} raised {type(error).__name__}: {error}")
        return None
    return namespace.get(name)
