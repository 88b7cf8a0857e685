"""Prints the shape of the code base: the figures the house rules are judged by.

Run: python bench/code_shape.py [--root PATH]   (PATH: another checkout, e.g. an old commit's
``git worktree``; default this one). Prints the largest files and functions, the commit and
rollback calls left in the web edge (views and API: they belong to web/transaction.py), and the
import cycles between modules (strongly connected components of grimp's import graph, type-only
imports included). Exits 0; the test suite asserts the cycle count separately.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

PACKAGES = ("fieldreport", "worker")
COMMIT_CALL = re.compile(r"\.(commit|rollback)\(\)")


@dataclass(frozen=True)
class Sized:
    name: str
    lines: int


def python_files(root: Path) -> list[Path]:
    return sorted(path for package in PACKAGES for path in (root / package).rglob("*.py"))


def file_sizes(root: Path) -> list[Sized]:
    sizes = [
        Sized(str(p.relative_to(root)), len(p.read_text().splitlines())) for p in python_files(root)
    ]
    return sorted(sizes, key=lambda sized: -sized.lines)


def function_sizes(root: Path) -> list[Sized]:
    sizes = []
    for path in python_files(root):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                sizes.append(Sized(f"{path.relative_to(root)}:{node.lineno} {node.name}", lines))
    return sorted(sizes, key=lambda sized: -sized.lines)


def is_web_edge(relative: str) -> bool:
    """Views, the API and the web package, less the one module that owns the transaction."""
    name = Path(relative).name
    in_edge = "views" in name or relative.startswith(("fieldreport/api/", "fieldreport/web/"))
    return in_edge and relative != "fieldreport/web/transaction.py"


def commit_calls_in_views(root: Path) -> list[str]:
    found = []
    for path in python_files(root):
        relative = str(path.relative_to(root))
        if not is_web_edge(relative):
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if COMMIT_CALL.search(line):
                found.append(f"{relative}:{number}: {line.strip()}")
    return found


def import_cycles(root: Path) -> list[list[str]]:
    """Groups of modules that import each other, directly or through others (Tarjan's SCC)."""
    import grimp

    sys.path.insert(0, str(root))
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    edges = {
        module: sorted(graph.find_modules_directly_imported_by(module)) for module in graph.modules
    }
    return [sorted(group) for group in _strongly_connected(edges) if len(group) > 1]


def _strongly_connected(edges: dict[str, list[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(edges.get(start, [])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    groups.append(group)
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(edges.get(child, []))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return groups


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--top", type=int, default=5)
    root = parser.parse_args().root.resolve()
    top = parser.parse_args().top
    files, functions = file_sizes(root), function_sizes(root)
    commits, cycles = commit_calls_in_views(root), import_cycles(root)
    print(f"code shape of {root}")
    print(f"modules: {len(files)}, lines: {sum(f.lines for f in files):,}")
    print("largest files:")
    for sized in files[:top]:
        print(f"  {sized.lines:5d}  {sized.name}")
    print("largest functions:")
    for sized in functions[:top]:
        print(f"  {sized.lines:5d}  {sized.name}")
    print(f"commit/rollback calls in the web edge: {len(commits)}")
    for line in commits:
        print(f"  {line}")
    print(f"import cycles: {len(cycles)}")
    for group in cycles:
        print(f"  {' <-> '.join(group)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
