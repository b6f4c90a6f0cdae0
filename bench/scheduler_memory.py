"""Benchmark: the resident memory of ``newsmon run`` over many scheduled crawls.

Starts the sample sites on localhost and a real ``newsmon run`` (a child process)
whose config schedules one source every second, so its crawls run back to back
(``max_instances = 1`` skips the slots that fall while one is running). It samples
the service process's resident set size (RSS; the crawls are separate processes and
not counted) before the first crawl, after a warm-up of ``--warmup`` crawls, and
after ``--crawls`` crawls, and prints them with the ratio end / warm-up, both
measured in this run. A service that leaked per job (threads, pipes, scheduler
state, ORM objects) would grow with the number of crawls; a flat one stays near 1.0.

    python bench/scheduler_memory.py [--crawls 200] [--warmup 10] [--source wenweipo]
                                     [--max-growth 1.25] [--json]

Exits 1 when end / warm-up exceeds ``--max-growth`` or a crawl did not end ``ok``.
Needs psutil (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

from newsmon.samplesites import SampleSites
from newsmon.storage.engine import Database
from newsmon.storage.jobruns import job_runs

MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Sample:
    crawls: int
    rss_mb: float
    threads: int
    fds: int
    seconds: float


@dataclass(frozen=True, slots=True)
class Result:
    source: str
    crawls: int
    samples: list[Sample]
    growth_end_over_warmup: float
    crawls_per_minute: float
    not_ok: list[str]
    log: str


def write_config(sites: SampleSites, directory: Path, source: str) -> Path:
    text = sites.config_toml().replace("[settings]\n", '[settings]\nbackfill_window = "off"\n', 1)
    marker = f'name = "{source}"\n'
    if marker not in text:
        raise SystemExit(f"no sample source {source!r} (have {', '.join(sites.site_names())})")
    text = text.replace(marker, marker + 'schedule = "* * * * * *"\n', 1)
    path = directory / "bench.toml"
    path.write_text(text, encoding="utf-8")
    return path


def finished_crawls(database: Database, job_id: str) -> tuple[int, list[str]]:
    with database.session() as session:
        runs = [r for r in job_runs(session, job_id) if r.finished_at is not None]
    return len(runs), sorted({r.status for r in runs} - {"ok"})


def sample(process: psutil.Process, crawls: int, started: float) -> Sample:
    with process.oneshot():
        return Sample(crawls, process.memory_info().rss / MB, process.num_threads(),
                      process.num_fds(), time.monotonic() - started)


def wait_for(database: Database, job_id: str, count: int, service: subprocess.Popen[bytes],
             log: Path) -> list[str]:
    while True:
        done, bad = finished_crawls(database, job_id)
        if done >= count:
            return bad
        if service.poll() is not None:
            raise SystemExit(f"newsmon run exited {service.returncode}; see {log}")
        time.sleep(0.5)


def run(args: argparse.Namespace) -> Result:
    workdir = Path(tempfile.mkdtemp(prefix="newsmon-bench-run-"))
    db_url = f"sqlite:///{workdir / 'bench.db'}"
    log = workdir / "run.log"
    job_id = f"crawl:{args.source}"
    with SampleSites(day=1) as sites:
        config = write_config(sites, workdir, args.source)
        env = dict(os.environ, XDG_DATA_HOME=str(workdir / "data"))
        cmd = [sys.executable, "-m", "newsmon", "--db", db_url, "--config", str(config), "run",
               "--max-parallel", "1", "--lease", "30s", "--grace", "30s", "--log-file", str(log)]
        database = Database(db_url)
        database.ensure_schema()
        started = time.monotonic()
        service = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        try:
            process = psutil.Process(service.pid)
            while not log.exists() or "lease acquired" not in log.read_text(encoding="utf-8"):
                time.sleep(0.2)
            samples = [sample(process, 0, started)]
            bad = wait_for(database, job_id, args.warmup, service, log)
            samples.append(sample(process, args.warmup, started))
            bad += wait_for(database, job_id, args.crawls, service, log)
            samples.append(sample(process, args.crawls, started))
        finally:
            service.send_signal(signal.SIGTERM)
            service.wait(timeout=120)
            database.dispose()
    warm, end = samples[1], samples[2]
    per_minute = 60 * (end.crawls - warm.crawls) / max(end.seconds - warm.seconds, 1e-9)
    return Result(args.source, args.crawls, samples, round(end.rss_mb / warm.rss_mb, 3),
                  round(per_minute, 1), sorted(set(bad)), str(log))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--crawls", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--source", default="wenweipo",
                        help="which sample site to crawl (the smallest by default)")
    parser.add_argument("--max-growth", type=float, default=1.25)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not 0 < args.warmup < args.crawls:
        parser.error("need 0 < --warmup < --crawls")
    # Stopped from outside (timeout, Ctrl-C): unwind, so the service is stopped too.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    result = run(args)
    if args.json:
        print(json.dumps(asdict(result), indent=2))
    else:
        print(f"newsmon run, {result.crawls} scheduled crawls of {result.source} back to "
              f"back ({result.crawls_per_minute} crawls/min after warm-up)")
        print(f"{'after crawls':>12}  {'RSS MB':>8}  {'threads':>7}  {'fds':>5}  {'seconds':>8}")
        for s in result.samples:
            print(f"{s.crawls:>12}  {s.rss_mb:>8.1f}  {s.threads:>7}  {s.fds:>5}  "
                  f"{s.seconds:>8.0f}")
        print(f"RSS end / after warm-up: {result.growth_end_over_warmup} "
              f"(limit {args.max_growth})")
        if result.not_ok:
            print(f"crawl outcomes other than ok: {result.not_ok} (see {result.log})")
    sys.exit(1 if result.growth_end_over_warmup > args.max_growth or result.not_ok else 0)


if __name__ == "__main__":
    main()
