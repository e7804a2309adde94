"""The layers keep their places (SPEC §1): checked on the source, so a stray import fails here.

- ``domain/`` imports neither ``api/`` nor ``worker/``: they are two doors onto it.
- ``domain/rules/`` is plain Python: no driver, no session, no service, no settings. It may build
  SQL *expressions* (the SQL form of a rule stands beside the rule) but never runs them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RULES_MAY_NOT_IMPORT = (
    "asyncpg",
    "aiosqlite",
    "sqlalchemy.ext.asyncio",
    "sqlalchemy.orm",
    "domain.services",
    "domain.jobs",
    "domain.channels",
    "domain.models",
    "domain.config",
    "domain.db",
    "domain.sql",
    "api",
    "worker",
)


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (function-level imports included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _is_under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _sources(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", _sources("domain"), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_domain_imports_neither_door(path: Path) -> None:
    doors = [m for m in imported_modules(path) if _is_under(m, "api") or _is_under(m, "worker")]
    assert doors == []


@pytest.mark.parametrize("path", _sources("domain/rules"), ids=lambda p: str(p.relative_to(ROOT)))
def test_rules_are_plain_python(path: Path) -> None:
    forbidden = [m for m in imported_modules(path) if any(_is_under(m, banned) for banned in RULES_MAY_NOT_IMPORT)]
    assert forbidden == []


def test_the_check_sees_function_level_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from worker.celery_app import make_celery\n", encoding="utf-8")
    assert imported_modules(sample) == {"worker.celery_app"}
