#!/usr/bin/env python3
"""Package import graph of hotline/: one line per edge `a -> b  N` (N = import statements in a's non-migration
modules naming b at run time; imports under `if TYPE_CHECKING:` are counted apart), cycles marked. `--edge a b` lists those statements (file:line module).

Run from the repository root: python scripts/import_graph.py [--edge sla cases]
"""

from __future__ import annotations

import ast
import os
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(os.environ.get("HOTLINE_SOURCE", Path(__file__).resolve().parent.parent / "hotline"))


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "hotline" else None


def _is_module(name: str) -> bool:
    path = ROOT.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def _imports(path: Path) -> list[tuple[int, str, bool]]:
    """(line, absolute module, type-only) of every import statement in the file, relative ones resolved;
    `from pkg import submodule` counts as an import of the submodule."""
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    here = parts if path.name == "__init__.py" else parts[:-1]
    found: list[tuple[int, str, bool]] = []

    def visit(node: ast.AST, type_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            guarded = type_only or _type_checking(child)
            if isinstance(child, ast.Import):
                found.extend((child.lineno, alias.name, guarded) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = here[: len(here) - child.level + 1]
                    module = ".".join(base + ([child.module] if child.module else []))
                else:
                    module = child.module or ""
                submodules = [f"{module}.{a.name}" for a in child.names if _is_module(f"{module}.{a.name}")]
                found.append((child.lineno, submodules[0] if submodules else module, guarded))
            # the else-branch of `if TYPE_CHECKING:` runs; only its body is type-only
            if isinstance(child, ast.If) and _type_checking(child):
                for stmt in child.body:
                    visit(ast.Module(body=[stmt], type_ignores=[]), True)
                for stmt in child.orelse:
                    visit(ast.Module(body=[stmt], type_ignores=[]), type_only)
            else:
                visit(child, guarded)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


def graph() -> tuple[Counter[tuple[str, str]], Counter[tuple[str, str]], dict[tuple[str, str], list[str]]]:
    """Run-time import statements per package edge, type-only ones (under `if TYPE_CHECKING:`), and where."""
    edges: Counter[tuple[str, str]] = Counter()
    typing_only: Counter[tuple[str, str]] = Counter()
    where: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(ROOT.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        source = path.relative_to(ROOT).parts[0]
        if source.endswith(".py"):
            continue
        for line, module, type_only in _imports(path):
            target = _package(module)
            if target and target != source:
                (typing_only if type_only else edges)[(source, target)] += 1
                note = " (type only)" if type_only else ""
                where[(source, target)].append(f"{path.relative_to(ROOT.parent)}:{line} {module}{note}")
    return edges, typing_only, where


def main() -> None:
    edges, typing_only, where = graph()
    if len(sys.argv) == 4 and sys.argv[1] == "--edge":
        print("\n".join(where[(sys.argv[2], sys.argv[3])]))
        return
    for a, b in sorted(set(edges) | set(typing_only)):
        n, t = edges[(a, b)], typing_only[(a, b)]
        cycle = " (cycle)" if edges[(b, a)] and n else ""
        extra = f" (+{t} type-only)" if t else ""
        print(f"{a} -> {b}  {n}{extra}{cycle}")


if __name__ == "__main__":
    main()
