"""``python -m newsmon.samplesites``: serve the sample sites until Ctrl-C.

Prints the base URL to stderr and a newsmon config for the sites to stdout, so
``python -m newsmon.samplesites > sites.toml`` writes a usable config. Type ``1`` or
``2`` and Enter to switch the day while it runs. ``--include-hostile`` also serves the
hostile site (see :mod:`newsmon.samplesites.hostile`) and adds its source.
"""

from __future__ import annotations

import argparse
import sys
import threading

from newsmon.samplesites.hostile import HostileSite
from newsmon.samplesites.server import SampleSites


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m newsmon.samplesites",
        description="Serve the newsmon sample news sites on localhost until Ctrl-C.",
        epilog="Example: python -m newsmon.samplesites --port 8765 --day 2 > sites.toml")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind [127.0.0.1]")
    parser.add_argument("--port", type=int, default=0, help="port, 0 for any free one [0]")
    parser.add_argument("--day", type=int, choices=(1, 2, 3), default=1, help="day to serve [1]")
    parser.add_argument("--include-broken", action="store_true",
                        help="add the 'broken' source (error pages) to the printed config")
    parser.add_argument("--include-hostile", action="store_true",
                        help="also serve the 'hostile' site (with its canary and FTP "
                             "listener, on ports of their own) and add its source")
    args = parser.parse_args(argv)
    try:
        sites = SampleSites(day=args.day, host=args.host, port=args.port).start()
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    hostile = _start_hostile(sites) if args.include_hostile else None
    print(f"sample sites: {sites.base_url}/ (day {sites.day}; type 1, 2 or 3 + Enter to switch, "
          "Ctrl-C to stop)", file=sys.stderr)
    sys.stdout.write(sites.config_toml(include_broken=args.include_broken))
    if hostile is not None:
        sys.stdout.write(hostile.config_toml())
    sys.stdout.flush()
    try:
        _switch_days_from_stdin(sites)
        threading.Event().wait()  # stdin closed: keep serving until interrupted
    except KeyboardInterrupt:
        pass
    finally:
        if hostile is not None:
            hostile.stop()
        sites.stop()
    return 0


def _start_hostile(sites: SampleSites) -> HostileSite:
    """The hostile site, its hijacking pages aimed at bandao's first articles."""
    victims = [sites.url(article.path) for article in sites.articles("bandao", day=1)[:3]]
    hostile = HostileSite(victims).start()
    print(f"hostile site: {hostile.base_url}/hostile/ (canary {hostile.canary_url}/, "
          f"FTP listener port {hostile.ftp_port})", file=sys.stderr)
    return hostile


def _switch_days_from_stdin(sites: SampleSites) -> None:
    for line in sys.stdin:
        choice = line.strip()
        if choice in {"1", "2", "3"}:
            sites.set_day(int(choice))
            print(f"now serving day {choice}", file=sys.stderr)
        elif choice:
            print(f"unknown command {choice!r}: type 1, 2 or 3", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
