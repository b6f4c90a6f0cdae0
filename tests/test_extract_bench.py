"""``bench/extraction.py`` refuses clearly when the corpus is not there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_exits_2_without_a_corpus(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "extraction.py"), "--corpus", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 2
    assert result.stdout == ""
    assert f"corpus not found at {tmp_path}" in result.stderr
