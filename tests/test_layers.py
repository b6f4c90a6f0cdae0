"""The import contract between newsmon's layers, read from the source with ``ast``.

Layers, lowest first (README, "How it is built"):

* **core** (``newsmon/*.py``, ``newsmon.digest``): values, config, text
  normalisation, query, matching, digest building and rendering, schedule and status
  rules. Imports nothing else of the project.
* **storage** on the core; **crawler** on core and storage; **delivery** on the core.
* **app**, the use-cases (crawl and match, run a digest …), on all of those.
* the shells on top: **scheduler** (the service), **samplesites**, the web view and
  HTTP API (**web**) and the MCP server (**mcp**) on the app and below; **cli**, the
  entry point, on everything (it starts the service, the demo, the web and MCP servers).

A module may import its own layer and those its layer lists in :data:`MAY_IMPORT`,
never one above or beside it; ORM rows (``storage.models``) and SQLAlchemy stay
inside storage, Scrapy and Twisted inside the crawler. Every import counts, including
the lazy ones inside functions and those under ``if TYPE_CHECKING:``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Everything is imported as newsmon.…; the design card's top-level folders are linked
# into the package (newsmon/crawler -> ../crawler, …), so each is scanned at its real path.
LINKED = {"newsmon.crawler": "crawler", "newsmon.storage": "storage",
          "newsmon.scheduler": "scheduler"}
TOP_LEVEL_NAMES = ("crawler", "storage", "scheduler")

# Each layer but the core, by the packages it is made of; the rest of newsmon is core.
PACKAGES = {
    "storage": ("newsmon.storage",),
    "crawler": ("newsmon.crawler",),
    "delivery": ("newsmon.delivery",),
    "app": ("newsmon.app",),
    "scheduler": ("newsmon.scheduler",),
    "samplesites": ("newsmon.samplesites",),
    "cli": ("newsmon.cli", "newsmon.__main__"),  # `python -m newsmon` is the CLI
    "web": ("newsmon.web",),
    "mcp": ("newsmon.mcp",),
}
# The layers each layer may import besides its own.
MAY_IMPORT = {
    "core": (),
    "storage": ("core",),
    "crawler": ("core", "storage"),
    "delivery": ("core",),
    "app": ("core", "storage", "crawler", "delivery"),
    "scheduler": ("core", "storage", "crawler", "delivery", "app"),
    "samplesites": ("core", "storage", "crawler", "delivery", "app"),
    "web": ("core", "storage", "delivery", "app"),
    "mcp": ("core", "storage", "app"),
    "cli": ("core", "storage", "crawler", "delivery", "app", "scheduler", "samplesites",
            "web", "mcp"),
}
# Libraries one layer owns: no other layer may import them (nor storage's ORM rows).
OWNED = {"storage": ("sqlalchemy", "newsmon.storage.models"), "crawler": ("scrapy", "twisted")}


def _forbidden(layer: str) -> tuple[str, ...]:
    allowed = {layer, *MAY_IMPORT[layer]}
    return (*(package for other, packages in PACKAGES.items() if other not in allowed
              for package in packages),
            *(name for owner, names in OWNED.items() if owner != layer for name in names))


# What each layer must not import (prefixes of module names).
FORBIDDEN = {layer: _forbidden(layer) for layer in MAY_IMPORT}
# The CLI's exit codes are a contract with whoever runs a command, the service among
# them: a leaf module of constants that any layer may read.
SHARED_LEAVES = ("newsmon.cli.exitcodes",)


def layer_of(module: str) -> str:
    for layer, packages in PACKAGES.items():
        if any(_matches(module, package) for package in packages):
            return layer
    return "core"


def _walk(folder: Path, package: str) -> Iterator[tuple[str, Path]]:
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(folder).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join([package, *parts]), path


def modules() -> Iterator[tuple[str, Path]]:
    for module, path in _walk(ROOT / "newsmon", "newsmon"):
        if not any(_matches(module, package) for package in LINKED) and ".migrations" not in module:
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


def violations(scanned: Iterable[tuple[str, Path]] | None = None) -> list[str]:
    found = []
    for module, path in modules() if scanned is None else scanned:
        banned = FORBIDDEN[layer_of(module)]
        for name, line in imports_of(module, path):
            if any(_matches(name, leaf) for leaf in SHARED_LEAVES):
                continue
            if any(_matches(name, prefix) for prefix in banned):
                shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
                found.append(f"{shown}:{line}: {layer_of(module)} module "
                             f"{module} imports {name}")
    return sorted(set(found))


def test_no_module_imports_a_layer_above_or_beside_its_own() -> None:
    assert violations() == []


# The Celery executor's package: the one place Celery and its transport (kombu) are
# imported, so the local executor and every other command never load them.
CLUSTER_PACKAGE = "newsmon.scheduler.cluster"
CLUSTER_LIBRARIES = ("celery", "kombu", "amqp")


def cluster_library_imports() -> list[str]:
    return sorted(f"{path.relative_to(ROOT)}:{line}: {module} imports {name}"
                  for module, path in modules()
                  if not _matches(module, CLUSTER_PACKAGE)
                  for name, line in imports_of(module, path)
                  if any(_matches(name, lib) for lib in CLUSTER_LIBRARIES))


def test_only_the_cluster_package_imports_celery() -> None:
    assert cluster_library_imports() == []
    # …and the scan sees the package's own imports of it (a scan that saw none would pass)
    seen = {name for module, path in modules() if _matches(module, CLUSTER_PACKAGE)
            for name, _ in imports_of(module, path)}
    assert {"celery", "kombu"} <= {name.split(".")[0] for name in seen}


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
    ("newsmon.scheduler.jobs", "scheduler"), ("newsmon", "core"),
    ("newsmon.crawler", "crawler"), ("newsmon.digest.render.html", "core"),
    ("newsmon.delivery.webhook", "delivery"), ("newsmon.app.crawling", "app"),
    ("newsmon.__main__", "cli"), ("newsmon.matching", "core"),
    ("newsmon.scheduler.cluster.worker", "scheduler"), ("newsmon.cli.commands_worker", "cli"),
    ("newsmon.app.reading", "app"), ("newsmon.web.api", "web"), ("newsmon.mcp", "mcp"),
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


def test_the_layers_are_ordered() -> None:
    """No two layers may import each other, and nothing may import a shell but the CLI."""
    for layer, below in MAY_IMPORT.items():
        assert all(layer not in MAY_IMPORT[other] for other in below), layer
    assert [layer for layer, below in MAY_IMPORT.items() if "scheduler" in below] == ["cli"]


@pytest.mark.parametrize(("module", "imported"), [
    ("newsmon.values", "newsmon.storage.engine"),
    ("newsmon.digest.render.text", "newsmon.delivery"),
    ("newsmon.storage.articles", "newsmon.crawler.runner"),
    ("newsmon.storage.articles", "newsmon.app.matching"),
    ("newsmon.crawler.pipelines", "newsmon.app.matching"),
    ("newsmon.crawler.pipelines", "newsmon.delivery.smtp"),
    ("newsmon.delivery.smtp", "newsmon.storage.digests"),
    ("newsmon.app.digests", "newsmon.scheduler.jobs"),
    ("newsmon.app.digests", "newsmon.cli.output"),
    ("newsmon.app.matching", "newsmon.storage.models"),
    ("newsmon.scheduler.jobs", "newsmon.cli.context"),
    ("newsmon.samplesites.server", "newsmon.scheduler.service"),
    ("newsmon.cli.commands_crawl", "sqlalchemy.orm"),
    ("newsmon.app.crawling", "scrapy"),
])
def test_a_lower_layer_importing_a_higher_one_is_reported(
        tmp_path: Path, module: str, imported: str) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(f"def lazy() -> None:\n    import {imported}\n", encoding="utf-8")
    assert len(violations([(module, probe)])) == 1


@pytest.mark.parametrize(("module", "imported"), [
    ("newsmon.storage.articles", "newsmon.values"),
    ("newsmon.crawler.pipelines", "newsmon.storage.articles"),
    ("newsmon.delivery.smtp", "newsmon.digest.render"),
    ("newsmon.app.crawling", "newsmon.crawler.runner"),
    ("newsmon.app.digests", "newsmon.delivery"),
    ("newsmon.scheduler.jobs", "newsmon.app.digests"),
    ("newsmon.scheduler.jobs", "newsmon.cli.exitcodes"),
    ("newsmon.cli.commands_run", "newsmon.scheduler.service"),
    ("newsmon.storage.engine", "sqlalchemy"),
])
def test_an_import_the_layers_allow_is_not_reported(
        tmp_path: Path, module: str, imported: str) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(f"import {imported}\n", encoding="utf-8")
    assert violations([(module, probe)]) == []
