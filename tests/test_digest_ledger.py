"""The digest job on real databases (SQLite and PostgreSQL): what is sent, held,
marked, and what the footer reports. Digests go through the real file channel."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser

from newsmon.app.digests import run_digest
from newsmon.config import SubscriptionConfig
from newsmon.delivery import open_channel
from newsmon.delivery.base import Channel
from newsmon.digest.render.data import digest_as_json
from newsmon.storage.articles import ensure_source
from newsmon.storage.digests import CLAIM_LEASE, claim_digest, recent_digests
from newsmon.storage.engine import Database
from newsmon.storage.matches import undelivered_matches
from newsmon.storage.models import DigestRun
from newsmon.storage.runs import finish_run, start_run
from newsmon.values import CrawlStats
from tests.digest_support import make_story, seed_two_topics, store_article, store_match

NOW = datetime(2024, 5, 2, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
DESK = SubscriptionConfig(name="desk", channel="file:out/{subscription}.txt")


def file_channel(tmp_path: Path, spec: str = "file:out/{subscription}.txt") -> Channel:
    return open_channel(spec, env={}, base_dir=tmp_path, write=print)


def pending_ids(database: Database, subscription: str = "desk") -> list[int]:
    with database.session() as session:
        return sorted(m.match_id for m in undelivered_matches(session, subscription))


def statuses(database: Database, subscription: str = "desk") -> list[str]:
    with database.session() as session:
        return [run.status for run in reversed(recent_digests(session, subscription))]


def test_a_sent_digest_marks_its_matches_and_the_next_one_is_not_sent(
        database: Database, tmp_path: Path) -> None:
    seed_two_topics(database)
    channel = file_channel(tmp_path)
    sent = run_digest(database, DESK, channel, "text", NOW)
    assert sent.status == "sent" and sent.matches == 4
    output = tmp_path / "out" / "desk.txt"
    assert "== 青島 · 2 stories · 3 outlets ==" in output.read_text(encoding="utf-8")
    assert pending_ids(database) == []
    assert len(pending_ids(database, "other-subscription")) == 4  # ledgers are per subscription

    output.unlink()
    again = run_digest(database, DESK, channel, "text", NOW + timedelta(hours=1))
    assert again.status == "empty" and not output.exists()
    assert statuses(database) == ["sent", "empty"]


def test_a_republished_story_is_sent_once_with_all_its_outlets(
        database: Database, tmp_path: Path) -> None:
    seed_two_topics(database)
    run_digest(database, DESK, file_channel(tmp_path), "text", NOW)
    text = (tmp_path / "out" / "desk.txt").read_text(encoding="utf-8")
    assert text.count("* 青島港開通新航線") == 1  # the original's title, in its script
    assert "青岛港开通新航线" in text  # the copy is listed under it …
    assert "1 story · 2 outlets · 来源 新華社" in text  # … as a second outlet
    assert "http://dz.example/a/1.html" in text and "http://bd.example/n/9.html" in text


def test_a_story_republished_after_a_digest_lists_its_earlier_outlet_as_sent(
        database: Database, tmp_path: Path) -> None:
    original = store_article(database, "dzwww", "http://dz.example/a/1.html", "青島港開通新航線",
                             "青島港今天開通新航線。", NOW - timedelta(hours=3), outlet="新華社")
    store_match(database, "青島", original, "青島", "青島港今天開通新航線。")
    run_digest(database, DESK, file_channel(tmp_path), "text", NOW)

    copy = store_article(database, "bandao", "http://bd.example/n/9.html", "青岛港开通新航线",
                         "青岛港今天开通新航线。", NOW + timedelta(hours=1), outlet="新华社")
    store_match(database, "青島", copy, "青岛", "青岛港今天开通新航线。")
    make_story(database, [original, copy], origin="新華社")
    later = NOW + timedelta(hours=2)
    preview = run_digest(database, DESK, file_channel(tmp_path), "json", later,
                         dry_run=True)
    assert preview.digest is not None
    [story] = digest_as_json(preview.digest)["topics"][0]["stories"]
    assert [e["site"] for e in story["earlier"]] == ["dzwww"]
    assert story["outlets"] == ["dzwww", "bandao"] and len(story["match_ids"]) == 1

    sent = run_digest(database, DESK, file_channel(tmp_path), "text", later)
    assert sent.status == "sent" and sent.matches == 1  # only the copy is delivered now
    text = (tmp_path / "out" / "desk.txt").read_text(encoding="utf-8")
    assert "1 story · 1 article · 1 topic" in text
    assert "1 story · 2 outlets · 来源 新華社" in text
    copies = [line for line in text.splitlines() if line.startswith("  - ")]
    assert copies[0].startswith("  - dzwww") and copies[0].endswith("in an earlier digest")
    assert copies[1].startswith("  - bandao") and "earlier" not in copies[1]


def test_subscriptions_get_only_their_topics(database: Database, tmp_path: Path) -> None:
    seed_two_topics(database)
    yantai = SubscriptionConfig(name="yantai-desk", topics=("烟台",))
    outcome = run_digest(database, yantai, file_channel(tmp_path), "json", NOW)
    assert outcome.digest is not None
    assert [g.topic for g in outcome.digest.groups] == ["烟台"]
    assert len(pending_ids(database, "yantai-desk")) == 3  # the 青島 ones are not its business


def test_quiet_hours_hold_the_digest_until_they_end(database: Database, tmp_path: Path) -> None:
    seed_two_topics(database)
    night = SubscriptionConfig(name="desk", quiet_hours="22:00-07:00")
    at_night = datetime(2024, 5, 1, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai
    held = run_digest(database, night, file_channel(tmp_path), "text", at_night)
    assert held.status == "held"
    assert held.held_until is not None
    assert held.held_until == datetime(2024, 5, 1, 23, 0, tzinfo=UTC)  # 07:00 in Shanghai
    assert not (tmp_path / "out").exists()
    assert len(pending_ids(database)) == 4  # held, not dropped

    morning = datetime(2024, 5, 1, 23, 0, tzinfo=UTC)  # 07:00 in Shanghai
    sent = run_digest(database, night, file_channel(tmp_path), "text", morning)
    assert sent.status == "sent" and sent.matches == 4
    assert statuses(database) == ["held", "sent"]


def test_an_empty_digest_is_sent_only_with_a_heartbeat(database: Database,
                                                        tmp_path: Path) -> None:
    quiet = run_digest(database, DESK, file_channel(tmp_path), "text", NOW)
    assert quiet.status == "empty" and not (tmp_path / "out").exists()
    beating = SubscriptionConfig(name="desk", heartbeat=True)
    sent = run_digest(database, beating, file_channel(tmp_path), "text", NOW)
    assert sent.status == "sent"
    assert "No new matches." in (tmp_path / "out" / "desk.txt").read_text(encoding="utf-8")


def test_a_dry_run_sends_and_marks_nothing(database: Database, tmp_path: Path) -> None:
    seed_two_topics(database)
    outcome = run_digest(database, DESK, file_channel(tmp_path), "text", NOW, dry_run=True)
    assert outcome.status == "dry-run" and outcome.matches == 4
    assert not (tmp_path / "out").exists()
    assert len(pending_ids(database)) == 4 and statuses(database) == []


def test_a_second_sender_steps_back_while_the_first_is_sending(
        database: Database, tmp_path: Path) -> None:
    seed_two_topics(database)
    with database.session() as session, session.begin():  # this process, mid-send
        claim_digest(session, "desk", "stdout", "text", NOW)
    busy = run_digest(database, DESK, file_channel(tmp_path), "text", NOW)
    assert busy.status == "busy" and "is sending" in (busy.error or "")
    assert len(pending_ids(database)) == 4 and not (tmp_path / "out").exists()

    later = NOW + CLAIM_LEASE + timedelta(minutes=1)  # the claim's lease ran out
    assert run_digest(database, DESK, file_channel(tmp_path), "text", later).status == "sent"


def test_a_claim_left_by_a_process_that_died_is_taken_over(
        database: Database, tmp_path: Path) -> None:
    seed_two_topics(database)
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
    dead_pid = int(finished.stdout)
    with database.session() as session, session.begin():
        run_id = claim_digest(session, "desk", "stdout", "text", NOW)
        run = session.get(DigestRun, run_id)
        assert run is not None
        run.pid = dead_pid  # what a crashed sender on this host leaves behind
    outcome = run_digest(database, DESK, file_channel(tmp_path), "text", NOW)
    assert outcome.status == "sent" and outcome.matches == 4
    assert statuses(database) == ["failed", "sent"]


def crawl(database: Database, source: str, started: datetime,
          errors: dict[str, int] | None = None, new: int = 0, status: str = "finished") -> None:
    with database.session() as session, session.begin():
        run_id = start_run(session, ensure_source(session, source), started)
        finish_run(session, run_id, CrawlStats(source, pages=3, new_articles=new,
                                               errors=errors or {}),
                   started + timedelta(minutes=1), status=status)


def test_the_footer_names_sources_that_failed_or_went_silent_since_the_last_digest(
        database: Database, tmp_path: Path) -> None:
    seed_two_topics(database)  # articles first seen 2024-05-01 00:00 UTC
    sources = ["dzwww", "bandao", "qingdaonews", "wenweipo"]
    for source in sources[:3]:
        crawl(database, source, NOW - timedelta(hours=1))
    desk = SubscriptionConfig(name="desk", heartbeat=True, silent_after=timedelta(days=3))
    first = run_digest(database, desk, file_channel(tmp_path), "text", NOW, sources=sources)
    assert first.digest is not None
    assert [(a.source, a.kind) for a in first.digest.alerts] == [("wenweipo", "not crawled")]

    crawl(database, "dzwww", NOW + timedelta(hours=2), errors={"http_404": 4})
    crawl(database, "dzwww", NOW + timedelta(hours=3))
    crawl(database, "bandao", NOW + timedelta(hours=2), status="interrupted")
    crawl(database, "qingdaonews", NOW + timedelta(days=4))
    later = NOW + timedelta(days=4, hours=1)
    second = run_digest(database, desk, file_channel(tmp_path), "text", later,
                        sources=sources)
    assert second.digest is not None
    alerts = {a.source: a for a in second.digest.alerts}
    assert alerts["dzwww"].kind == "failed" and alerts["dzwww"].errors == {"http_404": 4}
    assert (alerts["dzwww"].crawls, alerts["dzwww"].failed_crawls) == (2, 1)
    assert alerts["bandao"].kind == "failed"
    assert alerts["qingdaonews"].kind == "silent"  # crawled, nothing new for > 3 days
    assert alerts["wenweipo"].kind == "not crawled"
    text = (tmp_path / "out" / "desk.txt").read_text(encoding="utf-8")
    assert "! dzwww: 1 of 2 crawls failed (http_404 ×4)" in text
    assert "! qingdaonews: silent, no new article since 2024-05-01 08:00 CST (1 crawl)" in text
    assert "! wenweipo: not crawled (never crawled)" in text

    third = run_digest(database, desk, file_channel(tmp_path), "text",
                       later + timedelta(hours=2), sources=sources)
    assert third.digest is not None
    kinds = {a.source: a.kind for a in third.digest.alerts}
    # A failure is reported once; what is left are states that still hold.
    assert kinds == {"dzwww": "not crawled", "bandao": "not crawled",
                     "qingdaonews": "silent", "wenweipo": "not crawled"}


def test_the_atom_feed_keeps_a_window_of_delivered_stories(
        database: Database, tmp_path: Path) -> None:
    ids = seed_two_topics(database)
    feeds = file_channel(tmp_path, "file:feeds/")
    run_digest(database, DESK, feeds, "atom", NOW)
    first = feedparser.parse((tmp_path / "feeds" / "青島.atom").read_text(encoding="utf-8"))
    assert first.bozo == 0 and len(first.entries) == 2

    late = store_article(database, "dzwww", "http://dz.example/a/2.html", "青島啤酒節",
                         "青島啤酒節開幕。", NOW + timedelta(hours=1))
    store_match(database, "青島", late, "青島", "青島啤酒節開幕。")
    outcome = run_digest(database, DESK, feeds, "atom", NOW + timedelta(hours=2))
    assert outcome.digest is not None
    assert outcome.digest.match_ids == [outcome.digest.groups[1].stories[0].entries[0].match_id]
    second = feedparser.parse((tmp_path / "feeds" / "青島.atom").read_text(encoding="utf-8"))
    assert second.bozo == 0
    assert [e.title for e in second.entries] == [
        "青島啤酒節", "青島港開通新航線", "島城地鐵六號線開通"]
    assert {e.id for e in first.entries} <= {e.id for e in second.entries}  # same ids
    assert ids and pending_ids(database) == []
