"""Benchmark: the full newsmon crawl pipeline against a bare Scrapy spider.

Serves a local mirror of ``--pages`` article pages (default 2,000) built from the 169
real corpus article pages in ``tests/data/corpus``, behind paginated list pages (see
bench/mirror.py), and crawls it twice in the same run, each crawl in its own child process:

(a) a bare Scrapy spider that only downloads pages and follows their links;
(b) the full newsmon pipeline (link discovery, URL ledger, extract, normalise,
    dedup/stories, store) into a fresh SQLite file.

Both use the same Scrapy settings (newsmon's, with no download delay). It prints
pages per minute of each (wall clock, and per CPU minute — on a machine shared with
other work the wall-clock ratio moves with the load, the CPU-time one much less),
their ratio, and each crawl's peak resident memory (workers included). A third crawl,
download-only (lists followed, article pages not even parsed), shows Scrapy's floor.

    python bench/crawl.py [--pages 2000] [--per-list 50] [--rounds 1] [--target 0.35] [--json]

Exits 1 when the full pipeline is below ``--target`` of the bare spider's speed
(median over ``--rounds``).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from statistics import median
from typing import Any, ClassVar

from mirror import (
    CORPUS,
    MIRROR_LINKS,
    build_mirror,
    cpu_seconds,
    mirror_config,
    mirror_server,
    run_child,
)


# --- the two crawls (each runs in a child process) ---------------------------------------
class _PeakMemory:
    """Peak resident memory of this process plus its children (worker processes),
    sampled every 0.2 s (psutil); without psutil, this process's own peak."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        try:
            import psutil
        except ImportError:
            return
        me = psutil.Process()
        while not self._stop.wait(0.2):
            total = 0
            for process in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += process.memory_info().rss
            self.peak = max(self.peak, total)

    def __enter__(self) -> _PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def megabytes(self) -> float:
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
        return max(self.peak, own) / (1024 * 1024)


def crawl_bare(base_url: str, pages: int, per_list: int, *, follow_all: bool = True
               ) -> dict[str, float]:
    import scrapy
    from scrapy.crawler import CrawlerProcess
    from scrapy.linkextractors import LinkExtractor

    from newsmon.crawler.runner import scrapy_settings, source_settings

    config = mirror_config(base_url, pages, per_list)
    settings = source_settings(scrapy_settings(config, "sqlite://"), config.sources[0])
    settings.set("ITEM_PIPELINES", {}, priority="cmdline")
    settings.set("EXTENSIONS", {"scrapy.extensions.telnet.TelnetConsole": None},
                 priority="cmdline")

    class BareSpider(scrapy.Spider):
        """Like ``scrapy bench``'s spider: extract the links of every page and follow
        them, here only those into the mirror, so both crawls fetch the same pages."""

        name = "bare"
        allowed_domains: ClassVar[list[str]] = ["127.0.0.1"]
        # The request gate (crawler/gate.py) lets a spider fetch only its start URLs'
        # origins, port included; without them every request was refused and the
        # baseline fetched nothing.
        start_urls = [f"{base_url}/list/1.html"]  # noqa: RUF012 (Spider declares it so)
        links = LinkExtractor(allow=MIRROR_LINKS)

        async def start(self) -> Any:
            yield scrapy.Request(self.start_urls[0], callback=self.parse)

        def parse(self, response: Any) -> Any:
            if not follow_all and "/list/" not in response.url:
                return  # download-only variant: articles are leaves
            for link in self.links.extract_links(response):
                yield scrapy.Request(link.url, callback=self.parse)

    process = CrawlerProcess(settings)
    crawler = process.create_crawler(BareSpider)
    process.crawl(crawler)
    with _PeakMemory() as memory:
        started, cpu = time.perf_counter(), cpu_seconds()
        process.start()
        seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    assert crawler.stats is not None
    fetched = int(crawler.stats.get_value("response_received_count", 0))
    return {"pages": fetched, "seconds": seconds, "cpu_seconds": cpu,
            "peak_rss_mb": memory.megabytes}


def crawl_full(base_url: str, pages: int, per_list: int, database_url: str) -> dict[str, float]:
    from newsmon.crawler.runner import run_crawl
    from newsmon.storage.engine import Database

    config = mirror_config(base_url, pages, per_list)
    Database(database_url).ensure_schema()  # migrations are not part of the crawl
    with _PeakMemory() as memory:
        started, cpu = time.perf_counter(), cpu_seconds()
        [result] = run_crawl(config, database_url, list(config.sources))
        seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    return {"pages": result.pages, "seconds": seconds, "cpu_seconds": cpu,
            "peak_rss_mb": memory.megabytes,
            "new_articles": result.new_articles, "errors": result.error_count}


# --- link discovery on the labelled corpus list pages ----------------------------------
def link_discovery() -> dict[str, Any]:
    """How many labelled corpus list pages discovery passes (see tests/test_links.py)."""
    from newsmon.crawler.links import score_list_page

    cases = json.loads((CORPUS / "cases.json").read_text(encoding="utf-8"))
    pages: dict[str, dict[str, Any]] = {}
    for case in cases:
        truth = case.get("truth") or {}
        if case["page_type"] != "list" or not (
                {"expected_item_count", "first_item_title"} & set(truth)):
            continue
        raw = gzip.decompress((CORPUS / "pages" / f"{case['id']}.gz").read_bytes())
        score = score_list_page(raw, case["url"], expected_items=truth.get("expected_item_count"),
                                first_item=truth.get("first_item_title"))
        pages[case["id"]] = {"passed": score.passed, "items": score.items,
                             "expected": score.expected_items, "links": score.links,
                             "first_found": score.first_found if score.first_item else None}
    passed = sum(1 for page in pages.values() if page["passed"])
    return {"pages": len(pages), "passed": passed, "share": passed / max(1, len(pages)),
            "per_page": pages}


# --- orchestration ---------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    if args.command in ("bare", "download"):
        print(json.dumps(crawl_bare(args.base_url, args.pages, args.per_list,
                                    follow_all=args.command == "bare")))
        return 0
    if args.command == "full":
        print(json.dumps(crawl_full(args.base_url, args.pages, args.per_list, args.db)))
        return 0
    return run_bench(args)


def run_bench(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="newsmon-crawl-bench-"))
    rounds: list[dict[str, dict[str, float]]] = []
    try:
        articles = build_mirror(work / "site", args.pages, args.per_list)
        with mirror_server(work / "site") as base_url:
            common = [base_url, "--pages", str(len(articles)), "--per-list", str(args.per_list)]
            for number in range(args.rounds):
                rounds.append({
                    "bare": run_child(__file__, "bare", *common),
                    "download": run_child(__file__, "download", *common),
                    "full": run_child(__file__, "full", *common,
                                      "--db", f"sqlite:///{work / f'bench{number}.db'}"),
                })
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return report(rounds, len(articles), args)


def _rate(row: dict[str, float], clock: str = "seconds") -> float:
    return row["pages"] / row[clock] * 60


def report(rounds: list[dict[str, dict[str, float]]], articles: int,
           args: argparse.Namespace) -> int:
    """Print (or dump) the figures; the verdict uses the median wall-clock ratio."""
    ratios = sorted(_rate(r["full"]) / _rate(r["bare"]) for r in rounds)
    cpu_ratios = sorted(_rate(r["full"], "cpu_seconds") / _rate(r["bare"], "cpu_seconds")
                        for r in rounds)
    ratio, cpu_ratio = median(ratios), median(cpu_ratios)
    links = link_discovery()
    load = os.getloadavg()
    figures = {"articles": articles, "cpus": os.cpu_count(), "load_average": load,
               "rounds": rounds, "ratio": ratio, "ratios": ratios, "cpu_ratio": cpu_ratio,
               "target": args.target, "link_discovery": links}
    if args.json:
        print(json.dumps(figures, indent=1))
        return 0 if ratio >= args.target else 1
    print(f"mirror: {articles} article pages, {args.per_list} per list page; "
          f"{os.cpu_count()} CPUs, load average now {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    for number, row in enumerate(rounds, start=1):
        print(f"round {number}:")
        for label, key in (("(a) bare spider", "bare"), ("    download only", "download"),
                           ("(b) newsmon full", "full")):
            got = row[key]
            print(f"  {label:18} {got['pages']:6.0f} pages in {got['seconds']:6.1f} s "
                  f"({got['cpu_seconds']:6.1f} s CPU)  {_rate(got):7.0f} pages/min  "
                  f"{_rate(got, 'cpu_seconds'):7.0f} pages/CPU-min  "
                  f"peak RSS {got['peak_rss_mb']:5.0f} MB")
        print(f"  newsmon stored {row['full'].get('new_articles', 0):.0f} new articles, "
              f"{row['full'].get('errors', 0):.0f} errors; ratio (b)/(a) "
              f"{_rate(row['full']) / _rate(row['bare']):.2f}, by CPU time "
              f"{_rate(row['full'], 'cpu_seconds') / _rate(row['bare'], 'cpu_seconds'):.2f}, "
              f"(b)/download-only {_rate(row['full']) / _rate(row['download']):.2f}")
    print(f"link discovery: expected items found on {links['passed']} of {links['pages']} "
          f"labelled corpus list pages ({links['share']:.0%})")
    verdict = "meets" if ratio >= args.target else "BELOW"
    print(f"ratio (b)/(a), median of {len(rounds)} round(s): {ratio:.2f} ({verdict} the "
          f"target {args.target:.2f}); by CPU time {cpu_ratio:.2f}")
    return 0 if ratio >= args.target else 1


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs="?", default="bench",
                        choices=["bench", "bare", "download", "full"],
                        help=argparse.SUPPRESS)
    parser.add_argument("url", nargs="?", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", dest="base_url", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--pages", type=int, default=2000, help="article pages (default 2000)")
    parser.add_argument("--per-list", type=int, default=50,
                        help="article links per list page (default 50)")
    parser.add_argument("--target", type=float, default=0.35,
                        help="required full/bare ratio (default 0.35)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure this many times, alternating (default 1); the verdict "
                        "uses the median ratio")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if args.command in ("bare", "download", "full"):
        args.base_url = args.url
    return args


if __name__ == "__main__":
    sys.exit(main())
