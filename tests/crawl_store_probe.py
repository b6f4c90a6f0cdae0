"""A crawl process that watches its own database calls, for tests/test_crawl_store.py.

    python -m tests.crawl_store_probe CONFIG DB_URL SOURCE...

Crawls the sources with ``run_crawl`` (one crawler each, in this process) while a
SQLAlchemy ``before_cursor_execute`` listener on every engine notes which engine ran
each statement and on which thread; prints the notes and the crawl results as JSON.
"""

from __future__ import annotations

import json
import sys
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from twisted.python import threadable

from newsmon.config import load_config
from newsmon.crawler.runner import run_crawl


def main(config_path: str, db_url: str, *sources: str) -> None:
    engines: list[Engine] = []  # held, so no engine's id is reused by another
    statements: list[dict[str, Any]] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if conn.engine not in engines:
            engines.append(conn.engine)
        thread = threading.current_thread()
        statements.append({"engine": engines.index(conn.engine),
                           "thread": thread.name,
                           "reactor_thread": bool(threadable.isInIOThread()),  # type: ignore[no-untyped-call]
                           "main_thread": thread is threading.main_thread(),
                           "sql": " ".join(statement.split())[:80]})

    event.listen(Engine, "before_cursor_execute", note)
    config = load_config(Path(config_path))
    results = run_crawl(config, db_url, [config.source(name) for name in sources])
    print(json.dumps({"statements": statements, "engines": len(engines),
                      "results": [asdict(r) for r in results]}))


if __name__ == "__main__":
    main(*sys.argv[1:])
