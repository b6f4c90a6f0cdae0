"""Benchmark: the search page and the search API of ``newsmon serve`` at 200,000 articles,
against the CLI's ``search`` in the same run.

    python bench/web.py [--articles 200000] [--postgres [URL]] [--workdir DIR]
                        [--terms 20] [--requests 5] [--corpus DIR]

**Archive.** The synthetic archive of ``bench/search.py`` (same generator, same seed:
corpus paragraphs, three years of publish times, eight sources), reused from
``--workdir`` when already built there (the file names match bench/search.py's, so one
workdir serves both).

**Server.** ``newsmon serve`` in its own process (as users run it: uvicorn, one worker),
on a free localhost port, read-only. The client is one keep-alive HTTP connection from
this process, requests one after another, so a latency is what one reader waits.

**Queries.** ``--terms`` 2-character terms and 4-character terms cut from stored text
(bench/search.py's sampler), each asked ``--requests`` times after one warm-up:

* *search page* — ``GET /search?q=TERM``: the HTML page, 20 results with snippets;
* *search API* — ``GET /api/v1/articles?q=TERM``: JSON, 20 results with snippets;
* *use-case* — ``newsmon.app.reading.search`` called in this process (what both
  shells call: the floor under them);
* *CLI* — ``newsmon search TERM --json`` as a process, start-up included (what a
  script that shells out pays), asked once per term.

Reported: p50 and p95 latency over all requests of a kind, requests/s (sequential, one
connection), and each against the CLI. Target (issue 17): search page p95 <= 100 ms for
2-character terms at 200,000 articles on SQLite. The machine may be shared: figures
are of this run only.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx
from search import DEFAULT_CORPUS, DEFAULT_PG, archive, load_pool, postgres_schema, sample_queries
from sqlalchemy import text

from newsmon.app import reading
from newsmon.storage.engine import Database


@dataclass
class Timings:
    name: str
    ms: list[float] = field(default_factory=list)

    def percentile(self, share: float) -> float:
        ordered = sorted(self.ms)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    @property
    def per_second(self) -> float:
        return 1000 * len(self.ms) / sum(self.ms)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def server(url: str) -> Iterator[str]:
    """``newsmon serve`` on ``url``'s archive in a child process; yields its base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
    child = subprocess.Popen([sys.executable, "-m", "newsmon", "--db", url, "serve",
                              "--port", str(port), "--read-only"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/api/v1/topics", timeout=5)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or child.poll() is not None:
                    raise SystemExit("newsmon serve did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        child.terminate()
        child.wait(timeout=30)


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def measure(url: str, terms: list[str], repeats: int) -> list[Timings]:
    page, api, use_case, cli = (Timings("search page"), Timings("search API"),
                                Timings("use-case"), Timings("CLI search"))
    database = Database(url)
    with server(url) as base, httpx.Client(base_url=base, timeout=60) as client:
        def get(path: str, term: str) -> Callable[[], object]:
            def call() -> None:
                response = client.get(path, params={"q": term})
                if response.status_code != 200:
                    raise SystemExit(f"{path}?q={term}: HTTP {response.status_code}")
            return call

        for term in terms:
            actions: list[tuple[Timings, Callable[[], object]]] = [
                (page, get("/search", term)), (api, get("/api/v1/articles", term)),
                (use_case, partial(reading.search, database,
                                   reading.SearchRequest(query=term)))]
            for _, action in actions:
                action()  # warm-up: caches, the first statement's plan
            for _ in range(repeats):
                for timings, action in actions:  # interleaved: the same load for each
                    timings.ms.append(timed(action))
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
    for term in terms:
        cli.ms.append(timed(partial(
            subprocess.run,
            [sys.executable, "-m", "newsmon", "--db", url, "search", term, "--json"],
            env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
    database.dispose()
    return [page, api, use_case, cli]


def render(kind: str, results: list[Timings]) -> str:
    cli = results[-1]
    lines = [f"{kind}:", f"  {'':12} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>8} "
             f"{'p50 vs CLI':>11}"]
    for timings in results:
        lines.append(f"  {timings.name:12} {timings.percentile(0.5):8.1f} "
                     f"{timings.percentile(0.95):8.1f} {timings.per_second:8.1f} "
                     f"{cli.percentile(0.5) / timings.percentile(0.5):10.1f}x")
    return "\n".join(lines)


def run_backend(name: str, url: str, pool: object, count: int, args: argparse.Namespace
                ) -> None:
    database, _ = archive(url, pool, count, f"{name} {count:,}")  # type: ignore[arg-type]
    if name == "PostgreSQL":  # what autovacuum does after a bulk load (as bench/search.py)
        with database.engine.begin() as connection:
            connection.execute(text("ANALYZE articles"))
    if args.build_only:
        database.dispose()
        return
    kinds = {kind.name: kind.queries for kind in sample_queries(database, args.terms)}
    database.dispose()
    print(f"\n== {name}, {count:,} articles ==")
    for kind in ("2 chars", "4 chars"):
        results = measure(url, kinds[kind], args.requests)
        print(render(kind, results))
        if kind == "2 chars" and name == "SQLite":
            p95 = results[0].percentile(0.95)
            verdict = "met" if p95 <= 100 else "NOT met"
            print(f"  search page p95 {p95:.1f} ms for 2-character terms "
                  f"(target <= 100 ms: {verdict})")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    corpus = Path(args.corpus)
    if not (corpus / "MANIFEST.tsv").is_file():
        print(f"error: corpus not found at {corpus} (MANIFEST.tsv needed); pass --corpus DIR",
              file=sys.stderr)
        return 2
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="newsmon-web-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    pool = load_pool(corpus)
    count = args.articles
    if not args.skip_sqlite:
        run_backend("SQLite", f"sqlite:///{workdir / f'full-{count}.db'}", pool, count, args)
    if args.postgres:
        schema = f"bench_web_full_{count}"  # not bench/search.py's: both may run at once
        run_backend("PostgreSQL", postgres_schema(args.postgres, schema), pool, count, args)
    print(f"\narchives in {workdir}", file=sys.stderr)
    return 0


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS), help="corpus directory")
    parser.add_argument("--articles", type=int, default=200_000, help="archive size")
    parser.add_argument("--postgres", nargs="?", const=DEFAULT_PG, metavar="URL",
                        help=f"also run on PostgreSQL (default {DEFAULT_PG})")
    parser.add_argument("--workdir", help="keep archives here and reuse them")
    parser.add_argument("--terms", type=int, default=20, help="terms per kind")
    parser.add_argument("--requests", type=int, default=5, help="requests per term and way")
    parser.add_argument("--skip-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--build-only", action="store_true",
                        help="build the archives in --workdir, measure nothing")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
