"""The shape the README's "Where things are" describes: pages never query, domains never reach into pages."""

from __future__ import annotations

import ast
from pathlib import Path

BACKEND = Path(__file__).resolve().parents[2] / "backend"
PAGE_MODULES = sorted([*BACKEND.glob("*/pages.py"), *BACKEND.glob("web/*.py")])
QUERY_NAMES = {"select", "text", "func", "col"}


def _imported_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in {"sqlmodel", "sqlalchemy"}:
            names.update(alias.name for alias in node.names)
    return names


def _calls_exec(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in {"exec", "execute", "scalar", "scalars", "get"}
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "session"
        for node in ast.walk(tree)
    )


def test_there_are_pages_to_check() -> None:
    assert len(PAGE_MODULES) >= 6


def test_pages_never_query_the_database_themselves() -> None:
    for module in PAGE_MODULES:
        tree = ast.parse(module.read_text())
        assert not _imported_names(tree) & QUERY_NAMES, f"{module} builds its own query"
        assert not _calls_exec(tree), f"{module} runs a query: ask a service that applies the scope rule"


def test_no_service_imports_pages_or_routes() -> None:
    for module in BACKEND.glob("*/*.py"):
        if module.name in {"pages.py", "api.py"} or module.parent.name in {"web", "cli"}:
            continue
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.endswith((".pages", ".api")), f"{module} imports {node.module}"
