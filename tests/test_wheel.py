"""The wheel installs and works outside a checkout.

It builds newsmon's wheel, installs it (not editable) into a fresh virtual environment
and runs `newsmon db upgrade` and `newsmon demo` from `/`, so nothing of the checkout
is on the path: the package must carry its Scrapy settings, sample sites and Alembic
migrations itself. The fresh environment borrows the third-party libraries of the one
running the tests through a path entry (the checkout's own editable hook is not
processed there), so the test needs no network.
"""

from __future__ import annotations

import os
import site
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "--no-build-isolation", "-w", str(out), str(ROOT)],
                   check=True, capture_output=True, text=True)
    [built] = out.glob("newsmon-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed; returns its bin directory."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip()
    # The libraries newsmon depends on, from the environment running the tests.
    borrowed = [sysconfig.get_paths()["purelib"], *site.getsitepackages()]
    (Path(purelib) / "borrowed.pth").write_text("\n".join(dict.fromkeys(borrowed)) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                    "--no-deps", "--no-index", str(wheel)], check=True, capture_output=True,
                   text=True)
    return env_dir / "bin"


def test_the_wheel_carries_every_layer_and_the_migrations(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("newsmon/crawler/settings.py", "newsmon/storage/migrate.py",
                   "newsmon/scheduler/service.py", "newsmon/migrations/env.py",
                   "newsmon/migrations/script.py.mako",
                   "newsmon/migrations/versions/0001_initial_schema.py"):
        assert needed in names, needed
    tops = {name.split("/")[0] for name in names}
    assert tops == {"newsmon", f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info"}


def _run(bin_dir: Path, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"),
               XDG_CONFIG_HOME=str(home / "config"), PYTHONPATH="")
    return subprocess.run([str(bin_dir / "newsmon"), *args], cwd="/", env=env,
                          capture_output=True, text=True, timeout=600, check=False)


def test_installed_newsmon_creates_its_schema_and_runs_the_demo_from_root(
        installed: Path, tmp_path: Path) -> None:
    where = subprocess.run([str(installed / "python"), "-c",
                            "import newsmon.storage.migrate as m; print(m.MIGRATIONS_DIR)"],
                           cwd="/", check=True, capture_output=True, text=True).stdout
    assert "site-packages" in where and str(ROOT) not in where

    db = f"sqlite:///{tmp_path / 'wheel.db'}"
    upgraded = _run(installed, "--db", db, "db", "upgrade", home=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    demo = _run(installed, "demo", home=tmp_path)
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]
    assert "[5/5]" in demo.stdout + demo.stderr
    assert (tmp_path / "data" / "newsmon" / "demo.db").exists()
