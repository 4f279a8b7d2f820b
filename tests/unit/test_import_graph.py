"""The house: dependencies point one way — views → services → workflows → engine → models and the
pure helpers; jobs → services — and no module imports another that (directly or not) imports it.
Read from the source (module-level and function-level imports alike), so a lazy import that
climbs back up fails here too."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def modules() -> dict[str, Path]:
    found = {}
    for path in [*ROOT.joinpath("webapp").rglob("*.py"), *ROOT.joinpath("jobs").rglob("*.py")]:
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    edges = {m: set() for m in mods}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")[:len(package.split(".")) - (node.level - 1)] if node.level else []
                target = ".".join(base + ([node.module] if node.module else []))
                subs = {f"{target}.{a.name}" for a in node.names} & mods.keys()
                edges[name] |= (subs or ({target} & mods.keys())) - {name}
            elif isinstance(node, ast.Import):
                edges[name] |= {a.name for a in node.names} & mods.keys()
    return edges


def layer(module: str) -> int:
    """Higher layers may import lower ones only."""
    if module.startswith(("webapp.views", "jobs")) or module in ("webapp", "webapp.cli", "webapp.openapi"):
        return 5
    if module.startswith(("webapp.services", "webapp.demo", "webapp.forms")):
        return 4
    if module.startswith("webapp.workflows") and module != "webapp.workflows.engine":
        return 3
    if module == "webapp.workflows.engine":
        return 2
    return 1  # models, outbox, alarms, settings, permissions and the pure helpers


def test_no_import_circles():
    edges, index, low, stack, on_stack, circles = graph(), {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                circles.append(sorted(group))

    for v in edges:
        if v not in index:
            visit(v)
    assert circles == []


def test_dependencies_point_down():
    upward = sorted(f"{a} → {b}" for a, targets in graph().items() for b in targets
                    if layer(b) > layer(a) and b != "webapp")
    assert upward == []
