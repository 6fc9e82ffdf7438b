"""The grader's rooms stay as the README's architecture section draws them: imports go one way
(no circle between modules, no room importing a room above it), other rooms are entered by
their public face, and no private name is used outside its module."""

import ast
from pathlib import Path

import pytest

GRADER = Path(__file__).resolve().parent.parent / "grader"

# Which rooms each room may import (besides itself). The order is the README's: the command
# line drives schedule/, which uses every room below it; nothing imports upwards.
ALLOWED = {
    "schedule": {"gradebook", "judge", "feedback", "review", "collect", "sandbox", "diagnosis"},
    "gradebook": {"judge", "diagnosis"},
    "judge": {"feedback", "sandbox", "diagnosis"},
    "feedback": {"collect", "sandbox", "diagnosis"},
    "review": {"collect", "diagnosis"},  # the similarity check: reads code, runs none
    "collect": set(),
    "sandbox": {"diagnosis"},
    "diagnosis": set(),
    "pipeline": {"gradebook"},  # the old import path of use_trusted_grading, kept for courses
}
# Modules that may reach inside other rooms: the benchmark times their steps by wrapping them,
# and ``python -m grader.bench`` is the benchmark's door.
REACHES_INSIDE = {"grader.schedule.bench", "grader.bench"}
NO_FACE = {"diagnosis"}  # stays as it is: its modules are imported by name


def module_name(path):
    parts = path.relative_to(GRADER.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(GRADER.rglob("*.py"))}


def is_package(name):
    return MODULES[name].name == "__init__.py"


def public_face(package):
    """The names a package's ``__all__`` lists."""
    for node in ast.parse(MODULES[package].read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__all__"
                                                for t in node.targets):
            return set(ast.literal_eval(node.value))
    return set()


def resolve(importer, node):
    """[(bound name, module, imported names)] that an import statement in ``importer`` loads
    from grader: one entry per name it binds."""
    if isinstance(node, ast.Import):
        return [(a.asname or a.name.split(".")[0], a.name, []) for a in node.names
                if a.name.split(".")[0] == "grader"]
    base = importer if is_package(importer) else importer.rsplit(".", 1)[0]
    for _ in range(node.level - 1):
        base = base.rsplit(".", 1)[0]
    target = (f"{base}.{node.module}" if node.module else base) if node.level else node.module
    if target is None or target.split(".")[0] != "grader":
        return []
    found = []
    for alias in node.names:  # `from package import module` loads that module
        bound = alias.asname or alias.name
        if f"{target}.{alias.name}" in MODULES and not (
                target in MODULES and is_package(target) and target != importer
                and alias.name in public_face(target)):
            found.append((bound, f"{target}.{alias.name}", []))
        else:
            found.append((bound, target, [alias.name]))
    return found


def imports():
    """{module: [(imported module, names, line)]}, imports inside functions included."""
    graph = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        graph[name] = [(target, names, node.lineno)
                       for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                       for _, target, names in resolve(name, node)]
    return graph


def loaded(importer, target):
    """What importing ``target`` runs: it and every package above it that does not hold
    ``importer`` (a package being imported already is not run again)."""
    parts = target.split(".")
    chain = [".".join(parts[:i]) for i in range(2, len(parts) + 1)]
    return [m for m in chain if m in MODULES
            and not (is_package(m) and (importer + ".").startswith(m + "."))]


def room(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and is_package(module)) else None


def test_the_import_graph_knows_every_module():
    assert {"grader.schedule.class_run", "grader.sandbox.worker", "grader.judge.run"} <= set(MODULES)
    graph = imports()
    assert ("grader.judge", ["Run"]) in [(t, n) for t, n, _ in graph["grader.gradebook.nbgrader_judge"]]


def test_no_module_of_the_grader_imports_itself_back_in_a_circle():
    graph = {m: {d for t, _, _ in edges for d in loaded(m, t) if d != m}
             for m, edges in imports().items()}
    index, low, stack, on_stack, circles = {}, {}, [], set(), []

    def visit(node):  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert circles == []


def test_rooms_import_only_the_rooms_below_them_and_enter_by_their_face():
    wrong = []
    for module, edges in imports().items():
        mine = room(module)
        for target, _, line in edges:
            theirs = room(target)
            if theirs is None or theirs == mine:
                continue
            if mine is not None and theirs not in ALLOWED[mine]:
                wrong.append(f"{module}:{line} imports room {theirs}, above it")
            entered = target.split(".")[:3]
            if (theirs not in NO_FACE and len(entered) > 2 and module not in REACHES_INSIDE):
                wrong.append(f"{module}:{line} reaches inside {target}; import from grader.{theirs}")
    assert wrong == []


def test_no_private_name_is_used_outside_its_module():
    graph = imports()
    wrong = [f"{module}:{line} imports {name} from {target}"
             for module, edges in graph.items() for target, names, line in edges
             for name in names if name.startswith("_") and not name.startswith("__")]
    for module, path in MODULES.items():
        aliases = {}
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for bound, target, names in resolve(module, node):
                    if not names:  # a module bound to a name
                        aliases[bound] = target
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in aliases and node.attr.startswith("_")
                    and not node.attr.startswith("__")):
                wrong.append(f"{module}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    assert wrong == []


@pytest.mark.parametrize("room_name", sorted(set(ALLOWED) - NO_FACE - {"pipeline"}))
def test_each_room_says_what_it_owns_and_what_it_may_import(room_name):
    doc = ast.get_docstring(ast.parse((GRADER / room_name / "__init__.py").read_text()))
    assert doc and len(doc.splitlines()) >= 3
    if ALLOWED[room_name]:
        assert "May import" in doc
        for other in ALLOWED[room_name] - {"diagnosis"}:
            assert f"grader.{other}" in doc or other == "gradebook", (room_name, other)


def test_the_stable_doors_still_open():
    from grader.checks import check_conv_forward, grade  # noqa: F401 - the notebooks' door
    from grader.gradebook import use_trusted_grading
    from grader.pipeline.nbgrader_judge import use_trusted_grading as old_path

    assert old_path is use_trusted_grading
    config = (GRADER.parent / "nbgrader_config.py").read_text()
    assert "from grader.gradebook import use_trusted_grading" in config
