"""Extraction that generalises: structured data as evidence, 来源 only when an outlet
is named, credits in headers and at the end of the text, the article's title rather
than the site's, and the named-rule registry with its leave-one-out bench.

The pages under tests/data/generalise/ are small hand-written pages, one behaviour
each (not copies of the shared corpus).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsmon.crawler.extract import extract_article
from newsmon.crawler.extract.byline import plausible_outlet
from newsmon.crawler.extract.rules import RULES, UnknownRuleError, enabled, rules_off
from newsmon.values import ExtractedArticle

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "tests" / "data" / "generalise"
FETCHED = datetime(2025, 1, 1, tzinfo=UTC)
URL = "https://news.example.com/2024/a.html"


def extract(name: str) -> ExtractedArticle:
    return extract_article((PAGES / name).read_bytes(), url=URL, fetched_at=FETCHED)


# -- structured data ---------------------------------------------------------------------


def test_json_ld_article_gives_body_headline_author_publisher_and_tags() -> None:
    article = extract("jsonld_teaser.html")  # the DOM shows one teaser paragraph only
    assert article.is_article
    assert article.title == "新线路下月开通"
    assert article.body.splitlines()[1].startswith("交通局官员表示")
    assert len(article.body.splitlines()) == 3
    assert "<p>" not in article.body
    assert article.author == "陈小明"
    assert article.source == "示例日报"
    assert article.published_at == datetime.fromisoformat("2024-03-05T09:30:00+08:00")
    assert article.tags == ("交通", "公交")
    assert article.warnings == ()


def test_next_data_state_gives_the_body_of_a_script_rendered_page() -> None:
    article = extract("next_data.html")
    assert article.is_article
    assert article.title == "港口吞吐量创新高"  # not the "载入中……" placeholder
    assert article.body.startswith("今年首季，本市港口集装箱吞吐量")
    assert article.body.endswith("需要加快自动化码头建设。")
    assert "短摘要" not in article.body


def test_window_initial_state_gives_the_body() -> None:
    article = extract("initial_state.html")
    assert article.is_article
    assert article.body.startswith("一批来自各地捐赠的图书")
    assert len(article.body.splitlines()) == 3


def test_structured_body_rules_can_be_switched_off() -> None:
    with rules_off({"ld_body"}):
        teaser = extract("jsonld_teaser.html")
    assert "交通局官员表示" not in teaser.body  # back to what the DOM shows
    with rules_off({"state_body"}):
        assert not extract("next_data.html").is_article
    assert extract("next_data.html").is_article  # the switch ends with the block


# -- 来源 --------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["source_not_outlet.html", "source_region.html"])
def test_a_time_word_or_a_bare_region_is_not_a_source(page: str) -> None:
    article = extract(page)
    assert article.is_article
    assert article.source is None


def test_a_named_outlet_is_the_source() -> None:
    assert extract("source_outlet.html").source == "示例晚报"


@pytest.mark.parametrize("value", ["am", "PM", "上午", "下午", "香港", "北京", "2024-06-01"])
def test_plausible_outlet_rejects_non_outlets(value: str) -> None:
    assert not plausible_outlet(value)


def test_plausible_outlet_rejects_the_headline_and_keeps_outlets() -> None:
    assert not plausible_outlet("给计算机系学生的建议", "给计算机系学生的建议")
    assert plausible_outlet("香港01")
    assert plausible_outlet("新华社", "给计算机系学生的建议")


# -- credits and titles ------------------------------------------------------------------


def test_author_from_a_header_credit() -> None:
    article = extract("header_credit.html")
    assert article.author == "周丽华"
    assert article.body.endswith("又保留了儿时的记忆。")  # "更多内容请继续关注…" is furniture


def test_author_from_an_outlet_reporter_credit_closing_the_text() -> None:
    article = extract("body_end_credit.html")
    assert article.author == "王海明 李晓华"
    with rules_off({"author_body_end"}):
        assert extract("body_end_credit.html").author is None


def test_author_from_a_writer_credit_closing_the_text() -> None:
    assert extract("body_end_writer.html").author == "赵一鸣"


def test_the_site_logo_is_not_the_headline() -> None:
    article = extract("title_site_suffix.html")
    assert article.title == "图书馆延长开放时间"
    with rules_off({"title_not_site_name"}):
        assert extract("title_site_suffix.html").title == "示例新闻网"


# -- the registry and the leave-one-out bench --------------------------------------------


def test_registry_names_every_rule_and_refuses_unknown_ones() -> None:
    assert {"ld_body", "state_body", "source_reject_non_outlet", "author_body_end",
            "title_not_site_name"} <= RULES.keys()
    assert enabled("ld_body", URL)
    with rules_off({"ld_body"}):
        assert not enabled("ld_body", URL)
        assert enabled("state_body", URL)
    assert enabled("ld_body", URL)
    with pytest.raises(UnknownRuleError), rules_off({"no_such_rule"}):
        pass


def _mini_corpus(tmp_path: Path) -> Path:
    """Two source folders of the fixture pages, with truth that the rules decide."""
    corpus = tmp_path / "corpus"
    rows = ["folder\tfile\tpage_type\tsite\tscript\tdeclared_charset\tbytes_encoding\tbytes"
            "\ttruth_file\tlabelled_fields"]
    cases = {"one": [("body_end_credit.html", {"author": "王海明 李晓华"}),
                     ("jsonld_teaser.html", {"author": "陈小明"})],
             "two": [("body_end_writer.html", {"author": "赵一鸣"}),
                     ("title_site_suffix.html", {"title": "图书馆延长开放时间"})]}
    for folder, pages in cases.items():
        for name, truth in pages:
            (corpus / folder / "html").mkdir(parents=True, exist_ok=True)
            (corpus / folder / "truth").mkdir(parents=True, exist_ok=True)
            (corpus / folder / "html" / name).write_bytes((PAGES / name).read_bytes())
            record = {"id": f"{folder}/html/{name}", "page_type": "article",
                      "url": f"https://{folder}.example.com/a.html", **truth}
            (corpus / folder / "truth" / f"{name}.json").write_text(
                json.dumps(record, ensure_ascii=False), encoding="utf-8")
            rows.append(f"{folder}\thtml/{name}\tarticle\t{folder}.example.com\tsimplified"
                        f"\tutf-8\tutf-8\t1\ttruth/{name}.json\tauthor")
    (corpus / "MANIFEST.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (corpus / "score.py").write_bytes((ROOT / "tests/data/corpus/score.py").read_bytes())
    return corpus


def test_leave_one_out_reports_every_rule_and_the_held_out_spread(tmp_path: Path) -> None:
    corpus = _mini_corpus(tmp_path)
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "extraction.py"), "--corpus", str(corpus),
         "--only", "newsmon", "--leave-one-out", "--out", str(tmp_path / "out")],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode == 0, result.stderr
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]]
            for line in result.stdout.splitlines() if line.startswith("| ")}
    for name in RULES:
        assert name in rows, name
    # the end-of-text credit decides a page in each folder: a general rule
    assert rows["author_body_end"][0] == "2"
    assert rows["author_body_end"][-1] == "general"
    # the logo rule decides one page in one folder only: a per-source override
    assert rows["title_not_site_name"][0] == "1"
    assert rows["title_not_site_name"][-1] == "per-source override"
    assert rows["ld_body"][-1] == "no effect on corpus"
    assert "spread, every rule: min" in result.stdout
    held_out = next(line for line in result.stdout.splitlines()
                    if line.startswith("spread, held out"))
    # held out, a folder keeps only rules that help two sites elsewhere; with one other
    # folder of one site there are none, so both of its pages lose their field
    assert rows["two"] == ["1.000", "0.000"]
    assert rows["one"] == ["1.000", "0.000"]  # the JSON-LD author is a named rule too
    assert "min 0.000 / median 0.000 / max 0.000" in held_out


def test_corpus_floors_are_a_one_way_ratchet() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("refresh", ROOT / "tests/data/corpus/refresh.py")
    assert spec is not None and spec.loader is not None
    refresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(refresh)
    drops: list[str] = []
    # a better score raises the floor; a still-passing lower score keeps the old floor
    kept = refresh.ratchet("p", {"body_f1": 0.99, "author": 1.0}, {"body_f1": 0.9}, {}, drops)
    assert kept == {"body_f1": 0.96, "author": 1.0}
    assert refresh.ratchet("p", {"body_f1": 0.91}, {"body_f1": 0.9}, {}, drops) == {
        "body_f1": 0.9}
    assert drops == []
    # under the floor: refused without a reason, lowered with one
    refresh.ratchet("p", {"title": 0.0}, {"title": 1.0}, {}, drops)
    assert drops == ["p: title 0.000 is under its floor 1.000"]
    assert refresh.ratchet("p", {"title": 0.0}, {"title": 1.0},
                           {"title": "truth fixed upstream"}, []) == {"title": 0.0}


def test_a_per_source_rule_runs_only_on_its_hosts() -> None:
    assert enabled("author_tail_bracket", "https://bjmu.edu.cn/info/1.htm")
    assert enabled("author_tail_bracket", "https://news.bjmu.edu.cn/a.html")
    assert not enabled("author_tail_bracket", "https://notbjmu.edu.cn/a.html")
    assert not enabled("author_tail_bracket", URL)
    with rules_off({"author_tail_bracket"}):
        assert not enabled("author_tail_bracket", "https://bjmu.edu.cn/info/1.htm")
