"""Benchmark: re-visits of watched articles against a full crawl of the same pages.

Serves the 2,000-page mirror of ``bench/mirror.py`` (real corpus pages behind list
pages), this time with ``ETag``/``Last-Modified`` and ``304 Not Modified`` answers as
most news sites give them, and in one run, each step in its own child process:

1. a full newsmon crawl of the mirror (every article stored and watched,
   ``watch = "all"``), which keeps each article's ETag and Last-Modified;
2. ``--changed`` (5 %) of the pages are edited (a word of the body);
3. re-visit round 1, the first look at each page, sending the crawl's validators:
   the edited pages answer in full and are extracted and compared, the rest 304;
4. re-visit round 2 (planned 11 minutes later, when the next offset is due): the
   steady state, with the validators round 1 kept: every page answers 304.

It prints the seconds per page of each (wall clock and CPU) and the re-visit's cost
per page as a share of the crawl's; the target is at most a third (``--target``), for
the steady state. Exits 1 when round 2 misses it.

    python bench/revisit.py [--pages 2000] [--changed 0.05] [--target 0.334] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mirror import build_mirror, cpu_seconds, mirror_config, mirror_server, run_child

if TYPE_CHECKING:
    from newsmon.config import Config

PER_LIST = 50
# A look at each watched article at once, then 10 minutes later (round 2 plans 11 ahead).
_REVISITS = 'revisit_after = ["0m", "10m", "30d"]\nrevisit_batch = 100000\n'


def _config(base_url: str, pages: int) -> Config:
    return mirror_config(base_url, pages, PER_LIST, settings=_REVISITS, source='watch = "all"\n')


def crawl(base_url: str, pages: int, database_url: str) -> dict[str, float]:
    from newsmon.crawler.runner import run_crawl
    from newsmon.storage.engine import Database

    config = _config(base_url, pages)
    Database(database_url).ensure_schema()
    started, cpu = time.perf_counter(), cpu_seconds()
    [result] = run_crawl(config, database_url, list(config.sources))
    return {"pages": result.pages, "articles": result.new_articles,
            "seconds": time.perf_counter() - started, "cpu_seconds": cpu_seconds() - cpu}


def revisit(base_url: str, pages: int, database_url: str, later: float) -> dict[str, Any]:
    from newsmon.app.revisit import RevisitRecorder, finish_run, plan_revisits
    from newsmon.crawler.revisit import run_revisits
    from newsmon.storage.engine import Database

    config = _config(base_url, pages)
    database = Database(database_url)
    started, cpu = time.perf_counter(), cpu_seconds()
    # `later`: plan as if that many minutes had passed (the next offset falls due)
    plan = plan_revisits(database, config, datetime.now(UTC) + timedelta(minutes=later),
                         limit=100000)
    recorder = RevisitRecorder(database, config, plan.run_id)
    run_revisits(config, database_url, plan.batches, recorder)
    recorder.flush()
    finish_run(database, plan.run_id, "finished", recorder.outcomes, datetime.now(UTC))
    return {"pages": plan.due, "seconds": time.perf_counter() - started,
            "cpu_seconds": cpu_seconds() - cpu, "outcomes": dict(recorder.outcomes)}


def _edit_pages(site: Path, share: float, seed: int = 7) -> int:
    # Only pages the edit changes: the mirror's copies permute characters, and about
    # half of them hold no 的 in their body, where the edit would be a no-op.
    pages = [page for page in sorted((site / "a").glob("*.html"))
             if "的" in page.read_text(encoding="utf-8").partition("<body")[2]]
    chosen = random.Random(seed).sample(pages, min(len(pages), max(1, int(
        len(list((site / "a").glob("*.html"))) * share))))
    for page in chosen:
        text = page.read_text(encoding="utf-8")
        head, _, body = text.partition("<body")
        page.write_text(head + "<body" + body.replace("的", "之", 3), encoding="utf-8")
    return len(chosen)


def run_bench(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="newsmon-revisit-bench-"))
    try:
        articles = build_mirror(work / "site", args.pages, PER_LIST)
        with mirror_server(work / "site", validators=True) as base_url:
            common = [base_url, "--pages", str(len(articles)), "--db",
                      f"sqlite:///{work / 'bench.db'}"]
            full = run_child(__file__, "crawl", *common)
            edited = _edit_pages(work / "site", args.changed)
            first = run_child(__file__, "revisit", *common, "--later", "0")
            # the steady state: 11 minutes on, when the 10m offset falls due
            steady = run_child(__file__, "revisit", *common, "--later", "11")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return report(full, first, steady, edited, args)


def _per_page(row: dict[str, Any], clock: str) -> float:
    return float(row[clock]) / max(1, int(row["pages"]))


def report(full: dict[str, Any], first: dict[str, Any], steady: dict[str, Any], edited: int,
           args: argparse.Namespace) -> int:
    figures: dict[str, Any] = {"crawl": full, "revisit_first": first, "revisit_steady": steady,
               "edited_pages": edited}
    for name in ("revisit_first", "revisit_steady"):
        for clock in ("seconds", "cpu_seconds"):
            figures[f"{name}_{clock}_share"] = (_per_page(figures[name], clock)
                                                / _per_page(full, clock))
    ok = figures["revisit_steady_seconds_share"] <= args.target
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"crawl:            {full['pages']} pages in {full['seconds']:.1f} s "
              f"({full['pages'] / full['seconds']:.0f}/s), {_per_page(full, 'seconds') * 1000:.2f}"
              f" ms/page wall, {_per_page(full, 'cpu_seconds') * 1000:.2f} ms/page CPU")
        for name, label in (("revisit_first", "re-visit, 1st"), ("revisit_steady",
                                                                 "re-visit, 2nd")):
            row = figures[name]
            print(f"{label}:    {row['pages']} articles in {row['seconds']:.1f} s "
                  f"({row['pages'] / row['seconds']:.0f}/s), "
                  f"{figures[f'{name}_seconds_share']:.0%} of the crawl's cost per page wall, "
                  f"{figures[f'{name}_cpu_seconds_share']:.0%} CPU — {row['outcomes']}")
        print(f"{edited} pages edited between crawl and re-visit; target: the steady "
              f"re-visit at most {args.target:.0%} of the crawl per page: "
              f"{'met' if ok else 'MISSED'}")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    for name in ("crawl", "revisit"):
        child = sub.add_parser(name)
        child.add_argument("base_url")
        child.add_argument("--pages", type=int, required=True)
        child.add_argument("--db", required=True)
        child.add_argument("--later", type=float, default=0.0)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--changed", type=float, default=0.05)
    parser.add_argument("--target", type=float, default=0.334)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "crawl":
        print(json.dumps(crawl(args.base_url, args.pages, args.db)))
        return 0
    if args.command == "revisit":
        print(json.dumps(revisit(args.base_url, args.pages, args.db, args.later)))
        return 0
    return run_bench(args)


if __name__ == "__main__":
    raise SystemExit(main())
