"""How ``scripts/test`` spreads the suite over pytest-xdist workers (``--dist loadgroup``).

Most tests are independent and are handed out one at a time, which keeps the workers
evenly busy. A module that uses a module-scoped fixture (a crawled archive, a running
site) is handed out whole instead, so one worker builds that fixture once rather than
every worker that gets one of its tests building it again. Such modules are sent
first (largest first), so a long one does not start last and hold up the end.

xdist's own ``loadgroup`` reads ``xdist_group`` marks through a suffix it writes into
each test id on the workers, which pytest 9 no longer allows; this scheduler decides
on the controller instead, from the source: a module is kept whole when it defines
a fixture of module, class or package scope, or imports one from a ``tests.*`` module.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

from xdist.scheduler import LoadScopeScheduling

_SHARED_SCOPES = {"module", "class", "package"}


@cache
def _tree(path: Path) -> ast.Module:
    try:
        return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError):
        return ast.Module(body=[], type_ignores=[])


def _shared_fixtures(path: Path) -> set[str]:
    """Names of the fixtures ``path`` defines with a module, class or package scope."""
    names = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                scopes = [k.value for k in getattr(decorator, "keywords", [])
                          if k.arg == "scope" and isinstance(k.value, ast.Constant)]
                if any(scope.value in _SHARED_SCOPES for scope in scopes):
                    names.add(node.name)
    return names


@cache
def shares_fixtures(module: Path) -> bool:
    """Whether ``module`` (a test file) defines a fixture kept across its tests, or
    imports one from another ``tests`` module."""
    if _shared_fixtures(module):
        return True
    imports = [node for node in _tree(module).body if isinstance(node, ast.ImportFrom)]
    for node in imports:
        if node.module is not None and node.module.startswith("tests."):
            helper = module.parent / f"{node.module.removeprefix('tests.')}.py"
            if {alias.name for alias in node.names} & _shared_fixtures(helper):
                return True
    return False


class ModuleFixtureScheduling(LoadScopeScheduling):  # type: ignore[misc]  # xdist is untyped
    """Work units: a whole module when :func:`shares_fixtures`, else a single test.
    xdist sends the units with the most tests first (``--loadscope-reorder``)."""

    def _split_scope(self, nodeid: str) -> str:
        module = nodeid.split("::", 1)[0]
        if shares_fixtures(self.config.rootpath / module):
            return module
        return nodeid
