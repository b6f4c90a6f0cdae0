"""The file channel writes regular files only, atomically, with a sane mode."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from newsmon.cli import cli
from newsmon.delivery import open_channel
from newsmon.delivery.base import DeliveryError
from newsmon.digest import Digest
from newsmon.storage.engine import Database
from tests.digest_support import seed_two_topics

DIGEST = Digest("desk", datetime(2026, 12, 5, 8, 0, tzinfo=UTC), "UTC", ())


def send(path: Path, file_mode: int | None = None) -> None:
    channel = open_channel(f"file:{path}", env={}, base_dir=path.parent, write=print,
                           file_mode=file_mode)
    channel.send(DIGEST, "text")


def mode_of(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_a_symlink_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.txt"
    target.write_text("keep me", encoding="utf-8")
    link = tmp_path / "digest.txt"
    link.symlink_to(target)
    with pytest.raises(DeliveryError) as error:
        send(link)
    assert str(error.value) == (f"file:{link}: is a symbolic link; refusing to replace it "
                                "(point the channel at the real file)")
    assert link.is_symlink() and target.read_text(encoding="utf-8") == "keep me"
    assert leftovers(tmp_path) == []


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "digest.txt"
    os.mkfifo(fifo)
    with pytest.raises(DeliveryError) as error:
        send(fifo)
    assert str(error.value) == (f"file:{fifo}: is a FIFO; the file channel writes only "
                                "regular files")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert leftovers(tmp_path) == []


def test_a_device_is_refused() -> None:
    device = Path("/dev/full")
    before = os.lstat(device)
    with pytest.raises(DeliveryError) as error:
        send(device)
    assert str(error.value) == ("file:/dev/full: is a device; the file channel writes only "
                                "regular files")
    after = os.lstat(device)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert leftovers(Path("/dev")) == []


def test_a_new_file_gets_0644_whatever_the_umask(tmp_path: Path) -> None:
    path = tmp_path / "digest.txt"
    old = os.umask(0o077)
    try:
        send(path)
    finally:
        os.umask(old)
    assert mode_of(path) == 0o644
    assert "desk" in path.read_text(encoding="utf-8")
    assert leftovers(tmp_path) == []


def test_a_new_file_gets_the_configured_mode(tmp_path: Path) -> None:
    path = tmp_path / "digest.txt"
    send(path, file_mode=0o640)
    assert mode_of(path) == 0o640


def test_an_existing_file_keeps_its_mode_and_is_replaced_whole(tmp_path: Path) -> None:
    path = tmp_path / "digest.txt"
    path.write_text("old digest " * 1000, encoding="utf-8")
    path.chmod(0o600)
    before = os.stat(path).st_ino
    send(path, file_mode=0o644)
    assert mode_of(path) == 0o600
    assert "old digest" not in path.read_text(encoding="utf-8")
    assert os.stat(path).st_ino != before  # a new file renamed over: no half-written one
    assert leftovers(tmp_path) == []


@pytest.fixture
def seeded(sqlite_url: str) -> str:
    database = Database(sqlite_url)
    seed_two_topics(database)
    database.dispose()
    return sqlite_url


def digest(db_url: str, config: Path) -> Result:
    return CliRunner().invoke(cli, ["--db", db_url, "--config", str(config), "digest"], env={})


def test_file_mode_from_the_config(seeded: str, tmp_path: Path) -> None:
    config = tmp_path / "newsmon.toml"
    config.write_text('[[subscriptions]]\nname = "desk"\nchannel = "file:out/desk.txt"\n'
                      'file_mode = "0640"\n', encoding="utf-8")
    result = digest(seeded, config)
    assert result.exit_code == 0, result.output
    assert mode_of(tmp_path / "out" / "desk.txt") == 0o640


def test_the_cli_names_a_refused_path_in_one_line(seeded: str, tmp_path: Path) -> None:
    config = tmp_path / "newsmon.toml"
    config.write_text('[[subscriptions]]\nname = "desk"\nchannel = "file:desk.txt"\n',
                      encoding="utf-8")
    (tmp_path / "desk.txt").symlink_to(tmp_path / "newsmon.toml")
    result = digest(seeded, config)
    assert result.exit_code == 1, result.output
    refused = [line for line in result.stderr.splitlines() if "symbolic link" in line]
    assert len(refused) == 1 and str(tmp_path / "desk.txt") in refused[0]
    assert config.read_text(encoding="utf-8").startswith("[[subscriptions]]")
