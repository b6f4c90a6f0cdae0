"""Lint, types and layering run with the tests, so one command checks everything."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["newsmon", "crawler", "storage", "scheduler"]
LINKED = ("crawler", "storage", "scheduler")  # linked into newsmon/ as newsmon.crawler, …

# Which top-level packages may import which third-party layers (STYLE.md, habit 1).
ONLY_IN = {
    "scrapy": {"crawler"},
    "twisted": {"crawler"},
    "sqlalchemy": {"storage", "alembic"},
}


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail(f"{name} is not installed in this environment (pip install -e '.[dev]')")
    return found


def test_ruff_is_clean() -> None:
    result = subprocess.run([_tool("ruff"), "check", "."], cwd=ROOT, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean() -> None:
    result = subprocess.run([_tool("mypy")], cwd=ROOT, capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def _root(module: str) -> str:
    """The library or layer a module belongs to: `newsmon.storage.x` is `storage`."""
    parts = module.split(".")
    if parts[0] == "newsmon" and len(parts) > 1 and parts[1] in LINKED:
        return parts[1]
    return parts[0]


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(_root(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(_root(node.module))
    return roots


def _files(package: str) -> list[Path]:
    """A package's own files; newsmon/ holds links to the other folders, scanned on their own."""
    files = sorted((ROOT / package).rglob("*.py"))
    if package == "newsmon":
        files = [f for f in files if f.relative_to(ROOT).parts[1] not in (*LINKED, "migrations")]
    return files


def test_layers_import_only_what_they_may() -> None:
    offenders = []
    for package in [*PACKAGES, "alembic"]:
        for path in _files(package):
            for library, allowed in ONLY_IN.items():
                if library in _imported_roots(path) and package not in allowed:
                    offenders.append(f"{path.relative_to(ROOT)} imports {library}")
    assert offenders == []


def test_pure_stages_do_not_import_io_layers() -> None:
    """Extraction, normalisation, query parsing, matching and digest building and
    rendering are pure functions."""
    pure = [ROOT / "crawler" / "extract", ROOT / "newsmon" / "textnorm.py",
            ROOT / "newsmon" / "query.py", ROOT / "newsmon" / "matching.py",
            ROOT / "newsmon" / "digest"]
    offenders = []
    for target in pure:
        files = sorted(target.rglob("*.py")) if target.is_dir() else [target]
        for path in files:
            bad = _imported_roots(path) & {"scrapy", "twisted", "sqlalchemy", "storage",
                                           "urllib3", "requests", "socket"}
            if bad:
                offenders.append(f"{path.relative_to(ROOT)}: {sorted(bad)}")
    assert offenders == []
