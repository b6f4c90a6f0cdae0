"""The file channel: the digest written to a path, atomically.

The path may hold ``{subscription}``, ``{date}`` (YYYY-MM-DD) and ``{time}`` (HHMMSS),
in the subscription's time zone, and for Atom ``{topic}``: one feed per topic. A
path ending in ``/`` (or an existing directory) gets ``<topic>.atom`` files for Atom
and ``<subscription>.<ext>`` otherwise. Each file is written to a temporary name and
renamed over the old one, so a reader never sees half a digest. Only regular files
are written: a symlink, FIFO or device at the path is refused (replacing it could
clobber what it points to, or block, or write into a device). A file that exists
keeps its permission bits; a new one gets ``file_mode`` (0644 unless configured).
"""

from __future__ import annotations

import os
import re
import stat
import string
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

from newsmon.delivery.base import ChannelError, DeliveryError
from newsmon.digest import Digest
from newsmon.digest.render import render, render_atom_feeds

PLACEHOLDERS = frozenset({"subscription", "date", "time", "topic"})
EXTENSIONS = {"text": "txt", "markdown": "md", "html": "html", "json": "json", "atom": "atom"}
DEFAULT_FILE_MODE = 0o644
_UNSAFE = re.compile(r'[\x00-\x1f/\\:*?"<>|]+')


def safe_filename(text: str) -> str:
    """``text`` usable as one file name on any system (CJK kept, separators replaced)."""
    cleaned = _UNSAFE.sub("_", text).strip(" .")
    return cleaned or "_"


class FileChannel:
    def __init__(self, template: str, base_dir: Path, mode: int = DEFAULT_FILE_MODE) -> None:
        if not template:
            raise ChannelError("file: needs a path, e.g. file:digests/{date}.html")
        try:
            fields = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        except ValueError as exc:
            raise ChannelError(f"file:{template}: bad placeholder ({exc})") from None
        unknown = fields - PLACEHOLDERS
        if unknown:
            raise ChannelError(f"file:{template}: unknown placeholder {{{sorted(unknown)[0]}}} "
                               f"(use {', '.join('{' + p + '}' for p in sorted(PLACEHOLDERS))})")
        self._template = template
        self._fields = fields
        self._base_dir = base_dir
        self._mode = mode
        self.name = f"file:{template}"
        self.written: list[Path] = []  # the files the last send wrote, for the status line

    def send(self, digest: Digest, fmt: str) -> None:
        self.written = []
        if fmt == "atom":
            for topic, feed in render_atom_feeds(digest).items():
                self._write(self._path(digest, fmt, topic), feed)
        else:
            self._write(self._path(digest, fmt, None), render(digest, fmt))

    def _write(self, path: Path, text: str) -> None:
        if "time" in self._fields:  # a timestamped file is never overwritten
            path = _claim_unused(path)
            try:
                os.chmod(path, self._mode)  # claimed empty: not yet "existing"
                _write_atomically(path, text, self._mode)
            except DeliveryError:
                path.unlink(missing_ok=True)  # no empty placeholder left behind
                raise
        else:
            _write_atomically(path, text, self._mode)
        self.written.append(path)

    def _path(self, digest: Digest, fmt: str, topic: str | None) -> Path:
        local = digest.generated_at.astimezone(ZoneInfo(digest.zone))
        values = {"subscription": safe_filename(digest.subscription),
                  "date": f"{local:%Y-%m-%d}", "time": f"{local:%H%M%S}",
                  "topic": safe_filename(topic or "all")}
        path = self._base_dir / Path(self._template.format_map(values)).expanduser()
        if self._template.endswith(("/", os.sep)) or path.is_dir():
            name = values["topic"] if topic is not None else values["subscription"]
            return path / f"{name}.{EXTENSIONS[fmt]}"
        if topic is not None and "topic" not in self._fields and len(digest.groups) > 1:
            raise DeliveryError(f"{self.name}: Atom is one feed per topic; put {{topic}} in "
                                "the path or end it with / to write one file per topic")
        return path


def _claim_unused(path: Path) -> Path:
    """``path``, or ``NAME-2.EXT``, ``NAME-3.EXT`` … when a digest of the same second
    is there already; created empty at once (O_EXCL) so two writers never share one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    candidate, number = path, 1
    while True:
        try:
            with candidate.open("x"):
                return candidate
        except FileExistsError:
            number += 1
            candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
        except OSError as exc:
            raise DeliveryError(f"file:{candidate}: {exc.strerror or exc}") from None


def _mode_for(path: Path, new_mode: int) -> int:
    """The permission bits to write ``path`` with; refuses anything but a regular file."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return new_mode
    if stat.S_ISLNK(info.st_mode):
        raise DeliveryError(f"file:{path}: is a symbolic link; refusing to replace it "
                            "(point the channel at the real file)")
    if not stat.S_ISREG(info.st_mode):
        kind = ("a FIFO" if stat.S_ISFIFO(info.st_mode) else
                "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else
                "a socket" if stat.S_ISSOCK(info.st_mode) else "not a regular file")
        raise DeliveryError(f"file:{path}: is {kind}; the file channel writes only "
                            "regular files")
    return stat.S_IMODE(info.st_mode)


def _write_atomically(path: Path, text: str, new_mode: int = DEFAULT_FILE_MODE) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = _mode_for(path, new_mode)
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            os.fchmod(fd, mode)  # mkstemp makes 0600
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise DeliveryError(f"file:{path}: {exc.strerror or exc}") from None
