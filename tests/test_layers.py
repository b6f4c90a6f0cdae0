"""The import contract between newsmon's packages, read from the source with ``ast``.

Layers, lowest first: the pure core (``newsmon/*.py``: config, values, query, …),
``storage``, then ``crawler`` and ``scheduler`` side by side, then the application
layer's use-cases (``newsmon.app``), then the shells on top: the CLI (``newsmon.cli``),
the web view and HTTP API (``newsmon.web``) and the MCP server (``newsmon.mcp``).
A module may import its own layer and the ones below, never one above or beside
it; ORM rows (``storage.models``) and SQLAlchemy stay inside ``storage``, so other
layers get plain values from its repositories.
Every import counts, including the lazy ones inside functions.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Everything is imported as newsmon.…; the design card's top-level folders are linked
# into the package (newsmon/crawler -> ../crawler, …), so each is scanned at its real path.
LINKED = {"newsmon.crawler": "crawler", "newsmon.storage": "storage",
          "newsmon.scheduler": "scheduler"}
TOP_LEVEL_NAMES = ("crawler", "storage", "scheduler")

# What each layer must not import (prefixes of module names).
# The shells, and (for the layers below it) the application layer that calls them.
SHELLS = ("newsmon.web", "newsmon.mcp")
ABOVE_LOWER = ("newsmon.app", *SHELLS)
FORBIDDEN = {
    "core": (*ABOVE_LOWER, "newsmon.crawler", "newsmon.storage", "newsmon.scheduler",
             "newsmon.cli", "newsmon.samplesites", "sqlalchemy", "scrapy"),
    "samplesites": (*ABOVE_LOWER, "newsmon.crawler", "newsmon.storage", "newsmon.scheduler",
                    "newsmon.cli"),
    "storage": (*ABOVE_LOWER, "newsmon.crawler", "newsmon.scheduler", "newsmon.cli",
                "newsmon.samplesites"),
    "crawler": (*ABOVE_LOWER, "newsmon.scheduler", "newsmon.cli", "newsmon.samplesites",
                "newsmon.storage.models"),
    "scheduler": (*SHELLS, "newsmon.crawler", "newsmon.cli", "newsmon.samplesites",
                  "newsmon.storage.models", "scrapy"),
    "app": ("newsmon.cli", "newsmon.web", "newsmon.mcp", "newsmon.samplesites",
            "newsmon.storage.models", "sqlalchemy", "scrapy"),
    # `newsmon serve` and `newsmon mcp` start those shells (they never import the CLI).
    "cli": ("newsmon.storage.models",),
    # The web and MCP shells reach the archive through the use-cases only.
    "web": ("newsmon.cli", "newsmon.mcp", "newsmon.samplesites", "newsmon.storage.models",
            "sqlalchemy", "scrapy"),
    "mcp": ("newsmon.cli", "newsmon.web", "newsmon.samplesites", "newsmon.storage.models",
            "sqlalchemy", "scrapy"),
}
# The CLI's exit codes are a contract with whoever runs a command, the service among
# them: a leaf module of constants that any layer may read.
SHARED_LEAVES = ("newsmon.cli.exitcodes",)


def layer_of(module: str) -> str:
    for package, folder in LINKED.items():
        if module == package or module.startswith(package + "."):
            return folder
    if module.startswith("newsmon.cli"):
        return "cli"
    for shell in ("app", "web", "mcp"):
        if module == f"newsmon.{shell}" or module.startswith(f"newsmon.{shell}."):
            return shell
    if module.startswith("newsmon.samplesites"):
        return "samplesites"
    if module == "newsmon.__main__":
        return "cli"  # `python -m newsmon` is the CLI's entry point
    return "core"


def _walk(folder: Path, package: str) -> Iterator[tuple[str, Path]]:
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(folder).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join([package, *parts]), path


def modules() -> Iterator[tuple[str, Path]]:
    for module, path in _walk(ROOT / "newsmon", "newsmon"):
        if layer_of(module) not in TOP_LEVEL_NAMES and ".migrations" not in module:
            yield module, path
    for package, folder in LINKED.items():
        yield from _walk(ROOT / folder, package)


def imports_of(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """``(imported module, line)`` for every import in the file, relative ones resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base, node.lineno
            for alias in node.names:  # `from storage import models` imports storage.models
                yield f"{base}.{alias.name}", node.lineno


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations() -> list[str]:
    found = []
    for module, path in modules():
        banned = FORBIDDEN[layer_of(module)]
        for name, line in imports_of(module, path):
            if any(_matches(name, leaf) for leaf in SHARED_LEAVES):
                continue
            if any(_matches(name, prefix) for prefix in banned):
                found.append(f"{path.relative_to(ROOT)}:{line}: {layer_of(module)} module "
                             f"{module} imports {name}")
    return sorted(set(found))


def test_no_module_imports_a_layer_above_or_beside_its_own() -> None:
    assert violations() == []


def test_the_shared_leaves_import_nothing_of_ours() -> None:
    for leaf in SHARED_LEAVES:
        path = ROOT / (leaf.replace(".", "/") + ".py")
        ours = [name for name, _ in imports_of(leaf, path)
                if name.split(".")[0] in ("newsmon", *TOP_LEVEL_NAMES)]
        assert ours == [], leaf


def test_everything_is_imported_through_the_newsmon_package() -> None:
    """A bare `import storage` would load a second copy of the module beside
    newsmon.storage (and cannot work from the wheel), so no file may use one."""
    scanned = [*modules(), *_walk(ROOT / "tests", "tests"), *_walk(ROOT / "bench", "bench"),
               *_walk(ROOT / "alembic", "newsmon.migrations")]
    bare = [f"{path.relative_to(ROOT)}:{line}: {name}" for module, path in scanned
            if "tests/data/" not in path.as_posix()
            for name, line in imports_of(module, path)
            if name.split(".")[0] in TOP_LEVEL_NAMES]
    assert bare == []


@pytest.mark.parametrize(("module", "layer"), [
    ("newsmon.config", "core"), ("newsmon.cli.commands_crawl", "cli"),
    ("newsmon.samplesites.server", "samplesites"), ("newsmon.storage.models", "storage"),
    ("newsmon.scheduler.delivery.webhook", "scheduler"), ("newsmon", "core"),
    ("newsmon.crawler", "crawler"), ("newsmon.app.reading", "app"),
    ("newsmon.web.api", "web"), ("newsmon.mcp", "mcp"),
])
def test_layers_are_told_apart(module: str, layer: str) -> None:
    assert layer_of(module) == layer


def test_the_scan_sees_every_kind_of_import(tmp_path: Path) -> None:
    """A check that reads no imports would pass on anything: it must see these."""
    source = tmp_path / "probe.py"
    source.write_text("import newsmon.crawler.runner\nfrom newsmon.storage import models\n"
                      "def lazy():\n    from newsmon.scheduler.jobs import JobRunner\n"
                      "from . import sibling\n", encoding="utf-8")
    seen = {name for name, _ in imports_of("newsmon.storage.probe", source)}
    assert {"newsmon.crawler.runner", "newsmon.storage.models", "newsmon.scheduler.jobs",
            "newsmon.storage.sibling"} <= seen
