"""Worker processes for the pure stages: same results as in-process, the function's
own errors come back, and workers never outlive a killed crawl process."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsmon.crawler.dedup import fingerprint
from newsmon.crawler.extract import extract_article
from newsmon.crawler.workers import PurePool, spare_cpus, worker_count
from tests.conftest import Newsmon

CORPUS = Path(__file__).resolve().parent / "data" / "corpus"
T0 = datetime(2020, 8, 8, tzinfo=UTC)


def _pages(count: int) -> list[tuple[str, bytes]]:
    cases = json.loads((CORPUS / "cases.json").read_text(encoding="utf-8"))
    chosen = [c for c in cases if c["page_type"] == "article"][:count]
    return [(c["url"], gzip.decompress((CORPUS / "pages" / f"{c['id']}.gz").read_bytes()))
            for c in chosen]


def _fails(text: str) -> None:
    raise ValueError(f"bad input {text!r}")


def test_workers_give_the_in_process_results_and_the_functions_own_errors() -> None:
    pages = _pages(6)
    expected = [extract_article(raw, url=url, fetched_at=T0) for url, raw in pages]

    async def run_all(pool: PurePool) -> list[object]:
        results = await asyncio.gather(*(pool.run(extract_article, raw, url=url, fetched_at=T0)
                                         for url, raw in pages))
        with pytest.raises(ValueError, match="bad input 'x'"):
            await pool.run(_fails, "x")
        assert await pool.run(fingerprint, "一二三四五六七八九十" * 10) == fingerprint(
            "一二三四五六七八九十" * 10)
        return list(results)

    pool = PurePool(workers=2, start_after=0, spare=lambda: True)
    try:
        assert asyncio.run(run_all(pool)) == expected
        assert pool.started and pool.offloaded == len(pages) + 1
    finally:
        pool.close()


def test_small_crawls_and_busy_machines_stay_in_process() -> None:
    async def one(pool: PurePool) -> None:
        await pool.run(fingerprint, "短文本")

    small = PurePool(workers=2, start_after=5, spare=lambda: True)
    asyncio.run(one(small))
    assert not small.started
    busy = PurePool(workers=2, start_after=0, spare=lambda: False)
    asyncio.run(one(busy))
    assert not busy.started and busy.calls == 1
    assert spare_cpus(load=0.9, cpus=2) and not spare_cpus(load=1.6, cpus=2)
    assert spare_cpus(load=3.0, cpus=8) and not spare_cpus(load=7.5, cpus=8)


@pytest.mark.parametrize(("setting", "expected"), [("0", 0), (3, 3), ("auto", None)])
def test_worker_count(setting: str | int, expected: int | None) -> None:
    cpus = os.cpu_count() or 1
    assert worker_count(setting) == (expected if expected is not None
                                     else (cpus if cpus > 1 else 0))
    with pytest.raises(ValueError, match="NEWSMON_WORKERS"):
        worker_count("many")


CHILD = """
import asyncio, sys, time
from newsmon.crawler.dedup import fingerprint
from newsmon.crawler.workers import PurePool
if __name__ == "__main__":
    pool = PurePool(workers=2, start_after=0, spare=lambda: True)
    asyncio.run(pool.run(fingerprint, "一二三四五六七八九十" * 10))
    print(" ".join(map(str, pool.worker_pids())), flush=True)
    time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def test_workers_exit_when_their_crawl_process_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "crawl_like.py"
    script.write_text(CHILD, encoding="utf-8")
    child = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    pids = [int(pid) for pid in child.stdout.readline().split()]
    assert pids and all(_alive(pid) for pid in pids)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=10)
    deadline = time.monotonic() + 15
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in pids), "orphaned workers kept running"


def test_one_crawl_process_shares_one_pool_and_one_progress_line(newsmon: Newsmon) -> None:
    """``run_crawl`` owns the process's worker pool and progress board and hands them to
    every crawler (one per source): each source's pipelines report the pool's count,
    and the board draws the progress line (off a terminal: the first update, then one
    every 5 s)."""
    result = newsmon("crawl", "-vv", "--progress")
    sources = re.findall(r"^(\w+): \d+ linked pages", result.stdout, re.MULTILINE)
    assert len(sources) >= 2, result.stdout
    # -vv: Scrapy dumps each crawler's stats on stderr when it closes.
    assert result.stderr.count("'newsmon/workers/offloaded': ") == len(sources)
    assert re.search(r"^crawling [1-9] source\(s\): \d+ pages, \d+ new articles, \d+ errors$",
                     result.stderr, re.MULTILINE), result.stderr
