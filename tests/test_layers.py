"""The import contract between newsmon's packages, read from the source with ``ast``.

Layers, lowest first: the pure core (``newsmon/*.py``: config, values, query, …),
``storage``, then ``crawler`` and ``scheduler`` side by side, then the CLI
(``newsmon.cli``) on top. A module may import its own layer and the ones below,
never one above or beside it; ORM rows (``storage.models``) and SQLAlchemy stay
inside ``storage``, so other layers get plain values from its repositories.
Every import counts, including the lazy ones inside functions.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("newsmon", "crawler", "storage", "scheduler")

# What each layer must not import (prefixes of module names).
FORBIDDEN = {
    "core": ("crawler", "storage", "scheduler", "newsmon.cli", "newsmon.samplesites",
             "sqlalchemy", "scrapy"),
    "samplesites": ("crawler", "storage", "scheduler", "newsmon.cli"),
    "storage": ("crawler", "scheduler", "newsmon.cli", "newsmon.samplesites"),
    "crawler": ("scheduler", "newsmon.cli", "newsmon.samplesites", "storage.models"),
    "scheduler": ("crawler", "newsmon.cli", "newsmon.samplesites", "storage.models", "scrapy"),
    "cli": ("storage.models",),
}
# The CLI's exit codes are a contract with whoever runs a command, the service among
# them: a leaf module of constants that any layer may read.
SHARED_LEAVES = ("newsmon.cli.exitcodes",)


def layer_of(module: str) -> str:
    if module.startswith("newsmon.cli"):
        return "cli"
    if module.startswith("newsmon.samplesites"):
        return "samplesites"
    if module == "newsmon.__main__":
        return "cli"  # `python -m newsmon` is the CLI's entry point
    top = module.split(".")[0]
    return "core" if top == "newsmon" else top


def modules() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join(parts), path


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


# The Celery executor's package: the one place Celery and its transport (kombu) are
# imported, so the local executor and every other command never load them.
CLUSTER_PACKAGE = "scheduler.cluster"
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
                if name.split(".")[0] in PACKAGES]
        assert ours == [], leaf


@pytest.mark.parametrize(("module", "layer"), [
    ("newsmon.config", "core"), ("newsmon.cli.commands_crawl", "cli"),
    ("newsmon.samplesites.server", "samplesites"), ("storage.models", "storage"),
    ("scheduler.delivery.webhook", "scheduler"), ("newsmon", "core"),
    ("scheduler.cluster.worker", "scheduler"), ("newsmon.cli.commands_worker", "cli"),
])
def test_layers_are_told_apart(module: str, layer: str) -> None:
    assert layer_of(module) == layer


def test_the_scan_sees_every_kind_of_import(tmp_path: Path) -> None:
    """A check that reads no imports would pass on anything: it must see these."""
    source = tmp_path / "probe.py"
    source.write_text("import crawler.runner\nfrom storage import models\n"
                      "def lazy():\n    from scheduler.jobs import JobRunner\n"
                      "from . import sibling\n", encoding="utf-8")
    seen = {name for name, _ in imports_of("storage.probe", source)}
    assert {"crawler.runner", "storage.models", "scheduler.jobs", "storage.sibling"} <= seen
