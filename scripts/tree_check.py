"""`make check`'s tree rules: no module over 500 lines, no folder over 20 modules, and no
import cycle between modules (lazy imports inside functions count; `TYPE_CHECKING` blocks
do not, since they never run)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "policies", "audit", "collab", "proxy")
MAX_LINES = 500
MAX_MODULES = 20


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return "cogate." + ".".join(parts)


def is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported(tree: ast.Module, name: str, is_package: bool, known: set[str]) -> set[str]:
    """The cogate modules one module imports, anywhere in its body."""
    out: set[str] = set()
    skipped = {id(n) for n in ast.walk(tree) if isinstance(n, ast.If) and is_type_checking(n)}
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if id(node) in skipped:
            continue
        stack.extend(ast.iter_child_nodes(node))
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name if is_package else name.rsplit(".", 1)[0]
                for _ in range(node.level - 1):
                    package = package.rsplit(".", 1)[0]
                base = f"{package}.{base}" if base else package
            for alias in node.names:
                full = f"{base}.{alias.name}"
                out.add(full if full in known else base)
    return {m for m in out if m in known and m != name}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def main() -> int:
    files = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")]
    problems: list[str] = []
    for path in files:
        lines = len(path.read_text().splitlines())
        if lines > MAX_LINES:
            problems.append(
                f"{path.relative_to(ROOT)}: {lines} lines (limit {MAX_LINES}); split it"
            )
    folders = {p.parent for p in files}
    for folder in sorted(folders):
        count = sum(1 for p in folder.glob("*.py") if p.name != "__init__.py")
        if count > MAX_MODULES:
            problems.append(
                f"{folder.relative_to(ROOT)}/: {count} modules (limit {MAX_MODULES}); "
                "group them into sub-packages"
            )
    names = {module_name(p): p for p in files}
    known = set(names)
    graph = {
        name: imported(ast.parse(path.read_text()), name, path.name == "__init__.py", known)
        for name, path in names.items()
    }
    for component in cycles(graph):
        problems.append("import cycle between modules: " + " ↔ ".join(component))
    for problem in problems:
        print(problem)
    if not problems:
        print(f"tree ok: {len(files)} modules, no cycle, none over {MAX_LINES} lines")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
