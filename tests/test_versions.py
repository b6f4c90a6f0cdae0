"""The pure core of re-visits: diffs, takedown classification, the schedule, config."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newsmon.config import ConfigError, parse_config
from newsmon.crawler.normalise import content_hash
from newsmon.textnorm import to_traditional
from newsmon.versions import (
    FetchEvidence,
    Snapshot,
    article_content_hash,
    classify_fetch,
    diff_versions,
    event_line,
    first_step,
    is_front_or_channel,
    next_step,
)

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
STORED = Snapshot("青岛港扩大对外开放", "青岛港今日宣布新航线。\n货物吞吐量同比增长百分之五。",
                  "大众网", "王明", "李华", T0)
URL = "http://news.example.cn/a/123.html"
OFFSETS = tuple(timedelta(hours=h) for h in (1, 6, 24, 72, 168))


def _page(status: int | None = 200, article: Snapshot | None = STORED, final: str = URL,
          headline: str = "", text: str = "") -> FetchEvidence:
    return FetchEvidence(URL, status, final, headline=headline, text_head=text,
                         article=article)


def test_script_and_whitespace_changes_are_not_edits() -> None:
    traditional = Snapshot(to_traditional(STORED.title), to_traditional(STORED.body),
                           STORED.source, STORED.author, STORED.editor, T0)
    verdict = classify_fetch(_page(article=traditional), STORED)
    assert traditional.title != STORED.title
    assert verdict.outcome == "cosmetic" and {c.kind for c in verdict.diff.changes} == {"script"}
    spaced = Snapshot(STORED.title + " ", STORED.body.replace("\n", "\n\n"), "大众网", "王明",
                      "李华", T0)
    diff = diff_versions(STORED, spaced)
    assert not diff.is_edit and diff.cosmetic_kind == "whitespace"


def test_edits_are_summarised() -> None:
    edited = Snapshot("青岛港对外开放再提速", STORED.body + "\n新增一段。", "新华社", "王明",
                      "李华", T0 + timedelta(hours=2))
    verdict = classify_fetch(_page(article=edited), STORED)
    assert verdict.outcome == "edited"
    fields = [c.name for c in verdict.diff.changes]
    assert fields == ["title", "body", "source", "published_at"]
    body = verdict.diff.changes[1]
    assert 0 < body.share < 0.3
    summary = verdict.diff.summary()
    assert "retitled: 青岛港扩大对外开放 → 青岛港对外开放再提速" in summary
    assert "来源 changed: 大众网 → 新华社" in summary and "time changed" in summary
    line = event_line("edited", [c.as_dict() for c in verdict.diff.changes], "", T0, T0, T0)
    assert line.startswith("retitled: ") and "body edited (" in line


def test_unchanged_and_not_modified() -> None:
    assert classify_fetch(_page(), STORED).outcome == "unchanged"
    assert classify_fetch(_page(status=304), STORED).outcome == "not_modified"
    same_time_read_again = Snapshot(STORED.title, STORED.body, "大众网", "王明", "李华",
                                    T0 + timedelta(seconds=20))
    assert classify_fetch(_page(article=same_time_read_again), STORED).outcome == "unchanged"


@pytest.mark.parametrize(("evidence", "outcome"), [
    (_page(status=404, article=None), "taken_down"),
    (_page(status=410, article=None), "taken_down"),
    (_page(final="http://news.example.cn/", article=None), "taken_down"),
    (_page(final="http://news.example.cn/xinwen/index.htm", article=None), "taken_down"),
    (_page(headline="该頁面不存在 - 大众网", article=None), "taken_down"),
    (_page(text="抱歉，您访问的内容已刪除", article=None), "taken_down"),
    (_page(article=None), "taken_down"),  # no longer an article
    (_page(status=503, article=None), "failed"),
    (_page(status=None, article=None), "failed"),  # timeout, refused
    (_page(status=403, article=None), "failed"),
    (_page(final="http://news.example.cn/a/124.html"), "unchanged"),  # moved, same story
    # an article that quotes "已删除" in its body is still an article
    (_page(text="网友称相关帖子已删除", article=STORED), "unchanged"),
])
def test_takedowns_and_failures(evidence: FetchEvidence, outcome: str) -> None:
    assert classify_fetch(evidence, STORED).outcome == outcome


def test_front_and_channel_pages() -> None:
    starts = ["http://news.example.cn/roll/list.shtml"]
    assert is_front_or_channel("http://news.example.cn/roll/list.shtml?x=1", starts)
    assert is_front_or_channel("http://news.example.cn/qingdao/", starts)
    assert not is_front_or_channel("http://news.example.cn/a/2024/123.html", starts)


def test_the_schedule_decays_and_ends() -> None:
    assert first_step(T0, OFFSETS, T0) == 0
    assert first_step(T0, OFFSETS, T0 + timedelta(hours=7)) == 1  # one look now
    assert first_step(T0, OFFSETS, T0 + timedelta(days=8)) is None
    assert next_step(T0, OFFSETS, 0, T0 + timedelta(hours=1)) == 1
    assert next_step(T0, OFFSETS, 1, T0 + timedelta(days=4)) == 4  # missed ones skipped
    assert next_step(T0, OFFSETS, 4, T0 + timedelta(days=7)) is None


def test_the_content_hash_is_the_crawls() -> None:
    assert article_content_hash("标题", "正文") == content_hash("标题", "正文")


def _config(text: str) -> str:
    return text + '\n[[sources]]\nname = "a"\nlists = ["http://a.example/"]\n'


@pytest.mark.parametrize(("settings", "message"), [
    ('revisit_after = ["1h", "30m"]', "must grow"),
    ('revisit_after = ["1h", "400d"]', "must be from 0 to"),
    ('revisit_after = []', "list of 1 to 20"),
    ('revisit_after = ["soon"]', "not a duration"),
    ("revisit_batch = 0", "must be from 1 to"),
    ("revisit_unreachable_after = 0", "must be from 1 to"),
    ('revisit_schedule = "0 25 * * *"', ""),
])
def test_revisit_settings_are_checked(settings: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    with pytest.raises(ConfigError, match=f"{path}:2: .*{message}"):
        parse_config(_config(f"[settings]\n{settings}\n"), path)


def test_watch_mode_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    good = parse_config(_config("") + 'watch = "all"\n', path)
    assert good.sources[0].watch == "all"
    assert parse_config(_config(""), path).sources[0].watch == "matched"
    with pytest.raises(ConfigError, match=f"{path}:5: source 'a': 'watch' must be one of"):
        parse_config(_config("") + 'watch = "sometimes"\n', path)
