"""Table-driven tests of the extractor's parts: decoding, dates, bylines, cleaning, overrides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from newsmon.config import ExtractOverrides
from newsmon.crawler.extract import decode_html, extract_article
from newsmon.crawler.extract.byline import is_credit_line, opens_story, parse_byline, reporter_names
from newsmon.crawler.extract.dates import date_from_url, find_date, parse_iso
from newsmon.crawler.extract.rules import rules_off

SHANGHAI = ZoneInfo("Asia/Shanghai")
TAIPEI = ZoneInfo("Asia/Taipei")
FETCHED = datetime(2024, 5, 1, 12, 0, tzinfo=SHANGHAI)
PARAGRAPH = ("青島市今天召開會議，研究部署今年的重點工作。會議指出，要堅持穩中求進，"
             "推動高質量發展，持續改善民生，確保各項任務落到實處。")
PARAGRAPH2 = ("會議要求，各區市要抓好項目建設，優化營商環境，穩定就業，"
              "做好春節前後的安全生產和市場供應工作。")
PARAGRAPH3 = ("與會人員表示，將認真落實會議部署，以更大力度推動改革開放，"
              "確保全年目標任務順利完成。")


def page(body: str, head: str = "", charset: str = "utf-8") -> str:
    return (f"<html><head><meta charset=\"{charset}\"><title>標題 - 大衆網</title>{head}"
            f"</head><body>{body}</body></html>")


# -- decoding ------------------------------------------------------------------------------

TEXT = "<html><head><meta charset=\"gb2312\"></head><body><p>青岛新闻：镕基。</p></body></html>"


@pytest.mark.parametrize(("raw", "content_type", "declared", "used"), [
    ("<p>青岛</p>".encode(), None, None, "utf-8"),
    (b"\xef\xbb\xbf" + "<p>青岛</p>".encode(), "text/html; charset=gbk", "utf-8", "utf-8"),
    ("<p>青岛</p>".encode("utf-16-le").join([b"\xff\xfe", b""]), None, "utf-16-le",
     "utf-16-le"),
    ("<p>青岛新闻</p>".encode("gbk"), "text/html; charset=GB2312", "gb2312", "gb18030"),
    (TEXT.encode("gb18030"), None, "gb2312", "gb18030"),  # 镕 is GBK, not GB2312
    (TEXT.encode("utf-8"), None, "gb2312", "utf-8"),  # declared GB2312, stored as UTF-8
    ("<meta charset=big5><p>臺灣新聞報導，今天天氣很好。</p>".encode("big5"), None, "big5",
     "big5hkscs"),
    ("<p>青岛</p>".encode(), "text/html; charset=utf-8", "utf-8", "utf-8"),
])
def test_decode_picks_the_right_codec(raw: bytes, content_type: str | None,
                                      declared: str | None, used: str) -> None:
    decoded = decode_html(raw, content_type)
    assert decoded.declared == declared
    assert decoded.used == used
    assert "\ufffd" not in decoded.text
    assert "青" in decoded.text or "臺" in decoded.text


def test_big5_page_with_stray_utf8_bytes_stays_big5() -> None:
    text = "<meta charset=big5><p>" + "臺灣新聞報導，今天天氣很好，民眾出遊。" * 20 + "</p>"
    raw = text.encode("big5") + "<!-- 留言 -->".encode() + "<p>結束了。</p>".encode("big5")
    decoded = decode_html(raw)
    assert decoded.used == "big5hkscs"
    assert "臺灣新聞報導" in decoded.text


def test_undeclared_gbk_page_is_detected() -> None:
    sentence = "山东省青岛市人民政府今天发布通知，要求各部门做好工作。"
    raw = ("<p>" + sentence * 10 + "</p>").encode("gbk")
    assert decode_html(raw).used == "gb18030"


# -- dates -------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected", "has_time"), [
    ("2020-01-13 08:46 來源:大衆網", datetime(2020, 1, 13, 8, 46), True),
    ("发布时间：2022年02月13日 07:48", datetime(2022, 2, 13, 7, 48), True),
    ("２０２２年２月１３日　０７：４８", datetime(2022, 2, 13, 7, 48), True),
    ("2005年8月12日16:12:21", datetime(2005, 8, 12, 16, 12, 21), True),
    ("2013年06月29日 下午7:35", datetime(2013, 6, 29, 19, 35), True),
    ("2013年06月29日 上午11時35分", datetime(2013, 6, 29, 11, 35), True),
    ("民國113年5月1日", datetime(2024, 5, 1), False),
    ("113/05/01 09:30", datetime(2024, 5, 1, 9, 30), True),
    ("2014/04/30 14:49:37", datetime(2014, 4, 30, 14, 49, 37), True),
    ("2005-5-7", datetime(2005, 5, 7), False),
    ("March 10, 2017 9:58 am", datetime(2017, 3, 10, 9, 58), True),
    ("刚刚", datetime(2024, 5, 1, 12, 0), True),
    ("3小时前", datetime(2024, 5, 1, 9, 0), True),
    ("3小時前", datetime(2024, 5, 1, 9, 0), True),
    ("25分钟前", datetime(2024, 5, 1, 11, 35), True),
    ("昨天 08:30", datetime(2024, 4, 30, 8, 30), True),
])
def test_find_date(text: str, expected: datetime, has_time: bool) -> None:
    found = find_date(text, SHANGHAI, FETCHED)
    assert found is not None, text
    assert found.when == expected.replace(tzinfo=SHANGHAI)
    assert found.has_time is has_time


@pytest.mark.parametrize("text", ["", "第3版", "电话：0800-788995", "2099年1月1日 10:00"])
def test_find_date_rejects_non_dates(text: str) -> None:
    assert find_date(text, SHANGHAI, FETCHED) is None


@pytest.mark.parametrize(("value", "expected"), [
    ("2020-01-13T08:46:00+08:00", datetime(2020, 1, 13, 8, 46, tzinfo=SHANGHAI)),
    ("2020-01-13T00:46:00Z", datetime(2020, 1, 13, 8, 46, tzinfo=SHANGHAI)),
    ("2020-01-13 08:46:00", datetime(2020, 1, 13, 8, 46, tzinfo=SHANGHAI)),
    ("2020-01-13", datetime(2020, 1, 13, tzinfo=SHANGHAI)),
])
def test_parse_iso(value: str, expected: datetime) -> None:
    found = parse_iso(value, SHANGHAI)
    assert found is not None
    assert found.when == expected


def test_times_without_offset_are_site_local() -> None:
    found = find_date("2024年5月1日 09:30", TAIPEI)
    assert found is not None
    assert found.when.utcoffset() == timedelta(hours=8)
    assert found.when.tzinfo == TAIPEI


@pytest.mark.parametrize(("url", "expected"), [
    ("http://www.he.xinhuanet.com/news/2012-06/04/content_25340717.htm", datetime(2012, 6, 4)),
    ("http://www.appledaily.com.tw/realtimenews/article/politics/20130629/217673/",
     datetime(2013, 6, 29)),
    ("http://example.com/a/123.html", None),
])
def test_date_from_url(url: str, expected: datetime | None) -> None:
    found = date_from_url(url, SHANGHAI)
    assert (found.when.replace(tzinfo=None) if found else None) == expected


# -- bylines -----------------------------------------------------------------------------

@pytest.mark.parametrize(("line", "source", "author", "editor", "tags"), [
    ("2020-01-13 08:46 來源:大衆網 標簽:青島換道超越", "大衆網", None, None, ["青島換道超越"]),
    ("来源：新华网 作者：王明 责任编辑：李四", "新华网", "王明", "李四", []),
    ("(责编：萧潇、张妍)", None, None, "萧潇 张妍", []),
    ("責編:劉亞會", None, None, "劉亞會", []),
    ("【纠错】 责任编辑： 焦鹏", None, None, "焦鹏", []),
    ("本报记者 葛灵丹", None, "葛灵丹", None, []),
    ("记者 伊琳 李清芬", None, "伊琳 李清芬", None, []),
    ("时间：2004年10月21日14:18 作者：郭励弘", None, "郭励弘", None, []),
    ("来源: 巴彦淖尔日报 编辑：苏亮", "巴彦淖尔日报", None, "苏亮", []),
    ("关键词：青岛 改革", None, None, None, ["青岛", "改革"]),
    # a value stops at the next label, even one glued to it
    ("2020年1月14日 15:19来源：国际金融报作者：黄宇", "国际金融报", "黄宇", None, []),
    ("来源：中国新闻网作者：上官云 宋宇晟", "中国新闻网", "上官云 宋宇晟", None, []),
    # ... and at the link labels and buttons printed beside it
    ("2020-01-12 12:12:00 来源：人民网 我要评论 字号：大 中 小", "人民网", None, None, []),
    ("记者 彭冲 我要评论", None, "彭冲", None, []),
    ("来源：搜狐汽车 [我来说两句]", "搜狐汽车", None, None, []),
    # a name is short; a name with an affiliation glued on is not a name
    ("(作者：方敏北京大学经济学院教授)", None, None, None, []),
    ("作者：劳伦斯·洛克菲勒", None, "劳伦斯·洛克菲勒", None, []),
    # user names keep their digits
    ("编辑：化成雨_NBJ11143", None, None, "化成雨_NBJ11143", []),
    ("作者： 放飞&心情", None, "放飞&心情", None, []),
    # vertical-bar separators of feature bylines; production credits fill no field
    ("作者︱春春", None, "春春", None, []),
    ("作者丨王明", None, "王明", None, []),
    ("出品︱网易科学人栏目组 胖胖", None, None, None, []),
    ("顶端新闻·河南商报记者马俊峰/文受访者供图", None, "马俊峰", None, []),
    # a label glued to a word names no one unless a family name follows
    ("作者最新文章", None, None, None, []),
    ("新华网记者王明 北京报道", None, "王明", None, []),
    # what 来源/作者 say when there is no one to name; 来源于
    ("作者：佚名 来源于网络", "网络", None, None, []),
    ("作者：未知 责任编辑：棒棒不是糖", None, None, "棒棒不是糖", []),
])
def test_parse_byline(line: str, source: str | None, author: str | None, editor: str | None,
                      tags: list[str]) -> None:
    parsed = parse_byline(line)
    assert (parsed.source, parsed.author, parsed.editor, parsed.tags) == (
        source, author, editor, tags)


@pytest.mark.parametrize("sentence", [
    "记者从市教育局获悉，今年全市新增学位一万个。",
    "記者采訪期間，方方面面都能得出這樣的結論",
    "（記者方賓照攝）",
    "上海汇达丰律师事务所有关律师接受记者采访时称，《广告法》有明确规定",
    "据记者了解，江西工商局没有与其他地方工商局连手调查",
    "维基媒体项目贡献者",
])
def test_body_sentences_are_not_bylines(sentence: str) -> None:
    assert parse_byline(sentence).author is None


@pytest.mark.parametrize(("text", "names"), [
    ("【王家俊／台北報導】配合行政院組織改造", "王家俊"),
    ("〔記者施曉光、吳亮儀、陳慧萍／台北報導〕市面上", "施曉光 吳亮儀 陳慧萍"),
    ("（中央社記者楊思瑞台南4日電）台南市虱目魚", "楊思瑞"),
    ("記者王文萱／台北報導", "王文萱"),
    ("由海姑娘张贴 @ 2005-03-21 01:20:44", "海姑娘"),
    ("ggjjzhzz 发表于 2005-9-15 11:46:00", "ggjjzhzz"),
    ("記者地方中心／綜合報導", None),
])
def test_reporter_names(text: str, names: str | None) -> None:
    assert reporter_names(text) == names


@pytest.mark.parametrize(("line", "opens"), [
    ("新华社北京4月24日电 题：促进航天技术更好惠及人民", True),
    ("本报讯 （实习记者 樊亮 张明超 记者惠禾）13岁，正是花季", True),
    ("(星島日報報道)中美貿易戰不斷升級", True),
    ("【王家俊／台北報導】配合行政院組織改造", True),
    ("（中央社記者姜遠珍仁川富平29日專電）中華代表隊選手楊家正", True),
    ("中國外交部發言人耿爽警告，若美再加徵關稅，中方必然反制。", False),
    ("记者1月13日电话采访了他。", False),
])
def test_opens_story(line: str, opens: bool) -> None:
    assert opens_story(line) is opens


@pytest.mark.parametrize(("line", "credit"), [
    ("出品︱网易科学人栏目组 胖胖", True), ("策划：王明", True), ("设计师说这很好", False),
])
def test_is_credit_line(line: str, credit: bool) -> None:
    assert is_credit_line(line) is credit


# -- whole pages --------------------------------------------------------------------------

SEED_LIKE = page(
    "<div class=nav><a href=/>首頁</a> <a href=/qd>青島</a> <a href=/sd>山東</a></div>"
    "<div class=main>"
    "&lt;dir id=\"g1nl9c\"&gt;&lt;/dir&gt;&lt;ol id=\"g1nl9c\"&gt;&lt;/ol&gt;"
    "<dir id=g1nl9c></dir><kbd id=g1nl9c></kbd>"
    "<h1>“活”城如謀戰局——看青島如何憑借頂層設計實現“換道超越”</h1>"
    "<div class=info>2020-01-13 08:46 來源:大衆網 標簽:青島換道超越</div>"
    f"<div class=content><p>{PARAGRAPH}</p><p>戰略篇</p><p>{PARAGRAPH2}</p><p>{PARAGRAPH3}</p>"
    "<p>【纠错】</p><p>責編:劉亞會</p></div>"
    "<div>廣播頻率<br>FM926 FM957</div>"
    "<div>論壇 <a href=/1>新區民生</a> <a href=/2>新區鎮街</a> <a href=/3>房産樓市</a></div>"
    "<div>分享到：微信 微博</div><p>Copyright © 2020 大衆網 版權所有</p>"
    "<div>X-POWER-BY FNC V0.5.2 FROM ZZ56</div></div>",
    head="<link rel=canonical href=/qd/202001/t20200113_4712345.htm>")


def test_seed_like_page_fields_and_clean_body() -> None:
    article = extract_article(SEED_LIKE.encode(), url="http://www.dzwww.com/x.htm",
                              fetched_at=FETCHED)
    assert article.title == "“活”城如謀戰局——看青島如何憑借頂層設計實現“換道超越”"
    assert article.published_at == datetime(2020, 1, 13, 8, 46, tzinfo=SHANGHAI)
    assert article.source == "大衆網"
    assert article.editor == "劉亞會"
    assert article.tags == ("青島換道超越",)
    assert article.script == "traditional"
    assert article.canonical_url == "http://www.dzwww.com/qd/202001/t20200113_4712345.htm"
    assert article.is_article
    assert article.body.splitlines() == [PARAGRAPH, "戰略篇", PARAGRAPH2, PARAGRAPH3]
    for junk in ("g1nl9c", "<d", "廣播頻率", "FM926", "新區民生", "X-POWER-BY", "責編",
                 "纠错", "版權所有", "分享到"):
        assert junk not in article.body


@pytest.mark.parametrize("raw", [
    b"", b"   ", b"\x00\x01\x02\xff\xfe\xfd" * 100, b"<html", b"<?xml version='1.0'?><a/>",
    b"<div>" * 5000 + b"text" + b"</div>" * 10, "<p>只有一句話。</p>".encode(),
    bytes(range(256)) * 50, b"<html><body><table><tr><td>\xb0\xa1\xff</td></tr></body>",
])
def test_never_raises_and_says_not_an_article(raw: bytes) -> None:
    article = extract_article(raw, url="http://example.com/x", fetched_at=FETCHED)
    assert not article.is_article
    assert article.body == ""
    assert article.warnings
    assert not any("extraction failed" in w for w in article.warnings)


def test_unknown_timezone_falls_back_with_warning() -> None:
    article = extract_article(SEED_LIKE.encode(), url="http://x/", fetched_at=FETCHED,
                              timezone="Mars/Olympus")
    assert article.published_at == datetime(2020, 1, 13, 8, 46, tzinfo=SHANGHAI)
    assert any("Mars/Olympus" in w for w in article.warnings)


def test_relative_time_uses_fetch_time() -> None:
    html = page(f"<h1>標題測試新聞一則</h1><div>3小時前 來源：新華網</div><p>{PARAGRAPH}</p>"
                f"<p>{PARAGRAPH2}</p>")
    article = extract_article(html.encode(), url="http://x/", fetched_at=FETCHED)
    assert article.published_at == datetime(2024, 5, 1, 9, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize("author", [
    "网易", "name, email@gmail.com", "新浪科技", "维基媒体项目贡献者", "admin"])
def test_meta_author_that_is_no_person_is_ignored(author: str) -> None:
    html = page(f"<h1>標題測試新聞一則</h1><p>{PARAGRAPH}</p><p>{PARAGRAPH2}</p>",
                head=f'<meta name="author" content="{author}">').replace(
        "<title>標題 - 大衆網</title>", "<title>標題測試新聞一則_网易新闻</title>")
    article = extract_article(html.encode(), url="http://x/", fetched_at=FETCHED)
    assert article.author is None


def test_json_ld_and_meta_fill_fields() -> None:
    head = ('<script type="application/ld+json">{"@type": "NewsArticle", '
            '"headline": "標題測試新聞一則", "datePublished": "2024-04-30T10:15:00+08:00", '
            '"author": {"@type": "Person", "name": "王小明"}, "keywords": "青島,經濟"}</script>')
    html = page(f"<h1>標題測試新聞一則</h1><p>{PARAGRAPH}</p><p>{PARAGRAPH2}</p>", head=head)
    article = extract_article(html.encode(), url="http://x/", fetched_at=FETCHED)
    assert article.published_at == datetime(2024, 4, 30, 10, 15, tzinfo=SHANGHAI)
    assert article.author == "王小明"
    assert article.tags == ("青島", "經濟")


# -- per-source overrides ---------------------------------------------------------------------

OVERRIDE_PAGE = page(
    "<h1>網站名稱</h1><div class=teaser><p>這是一段很長的廣告文字，" + "內容豐富，" * 40
    + "</p></div>"
    "<div id=story><h2 class=hl>真正的標題在這裏</h2><span class=when>2021年3月4日 10:20</span>"
    "<span class=by>記者 張三</span>"
    f"<p>{PARAGRAPH}</p><div class=ad>推廣內容：請點擊購買。</div><p>{PARAGRAPH2}</p></div>")


@pytest.mark.parametrize("overrides", [
    ExtractOverrides(title="h2.hl", body="#story", published=".when", byline=".by",
                     noise=(".ad",)),
    ExtractOverrides(title="css:h2.hl", body="css:#story", published="css:.when",
                     byline="css:.by", noise=("css:.ad",)),
    ExtractOverrides(title="xpath://h2[@class='hl']", body="xpath://div[@id='story']",
                     published="xpath://span[@class='when']/text()",
                     byline="xpath://span[@class='by']", noise=("xpath://div[@class='ad']",)),
])
def test_overrides_win_over_the_generic_path(overrides: ExtractOverrides) -> None:
    article = extract_article(OVERRIDE_PAGE.encode(), url="http://x/", fetched_at=FETCHED,
                              overrides=overrides)
    assert article.title == "真正的標題在這裏"
    assert article.published_at == datetime(2021, 3, 4, 10, 20, tzinfo=SHANGHAI)
    assert article.author == "張三"
    assert article.body.splitlines() == [PARAGRAPH, PARAGRAPH2]
    assert article.warnings == ()


def test_generic_path_differs_without_overrides() -> None:
    article = extract_article(OVERRIDE_PAGE.encode(), url="http://x/", fetched_at=FETCHED)
    assert "推廣內容" in article.body or "廣告文字" in article.body


def test_bad_override_selector_is_a_warning_not_a_crash() -> None:
    overrides = ExtractOverrides(title="xpath://h2[", body="css:#nothing-here", noise=("[[",))
    article = extract_article(OVERRIDE_PAGE.encode(), url="http://x/", fetched_at=FETCHED,
                              overrides=overrides)
    assert article.title
    messages = " ".join(article.warnings)
    assert "bad xpath selector" in messages
    assert "#nothing-here" in messages
    assert "noise:" in messages


def test_fetched_at_in_utc_is_accepted() -> None:
    html = page(f"<h1>標題測試新聞一則</h1><div>刚刚</div><p>{PARAGRAPH}</p><p>{PARAGRAPH2}</p>")
    now = datetime(2024, 5, 1, 4, 0, tzinfo=UTC)
    article = extract_article(html.encode(), url="http://x/", fetched_at=now)
    assert article.published_at == now.astimezone(SHANGHAI)


# -- where the story starts and ends --------------------------------------------------------

def _body_of(body_html: str) -> tuple[list[str], str | None, str | None]:
    html = page(f"<h1>標題測試新聞一則</h1><div>2024-04-30 10:15 來源：新華網</div>{body_html}")
    article = extract_article(html.encode(), url="http://x/", fetched_at=FETCHED)
    return article.body.splitlines(), article.author, article.editor


@pytest.mark.parametrize(("body_html", "author"), [
    # a caption above the paragraph that opens with the dateline
    (f"<p>中國外交部發言人警告，中方必然反制。</p><p>(星島日報報道){PARAGRAPH}</p><p>{PARAGRAPH2}</p>",
     None),
    # a deck and a caption above the byline
    ("<p>年过五十的她带领学校民乐团的孩子们一路快乐前行</p><p>郭荣梅指挥乐团练习</p>"
     f"<p>河南商报记者马俊峰/文</p><p>{PARAGRAPH}</p><p>{PARAGRAPH2}</p>", "马俊峰"),
    # a standfirst marked by its class
    (f"<p class=lead>梁振英同時遭到議員質問。</p><p>{PARAGRAPH}</p><p>{PARAGRAPH2}</p>", None),
    # a caption closed by a bracketed picture credit, and one left below the text
    (f"<p>香港航空宣布航班改期。（港台圖片）</p><p>{PARAGRAPH}</p><p>{PARAGRAPH2}</p>"
     "<p>現任衛生署長呼聲高。資料照片</p>", None),
    # a post stamp with counters, however much punctuation it has
    (f"<p>{PARAGRAPH}</p><p>{PARAGRAPH2}</p>"
     "<p>发表于 2024年4月30日 10:15 - (阅读:3727;评论:63)</p>", None),
])
def test_only_the_story_is_the_body(body_html: str, author: str | None) -> None:
    body, found_author, _editor = _body_of(body_html)
    assert body == [PARAGRAPH, PARAGRAPH2]
    assert found_author == author


def test_an_editor_is_not_the_author() -> None:
    _body, author, editor = _body_of(
        f"<p>{PARAGRAPH}</p><p>{PARAGRAPH2}</p><p>（责任编辑：魏喆）</p>")
    assert (author, editor) == (None, "魏喆")


# -- publish times printed in odd places -----------------------------------------------------

@pytest.mark.parametrize(("head", "under_title", "expected"), [
    # a date printed in pieces, one element each
    ("", "<div><span>2019</span><div>09/07</div><div>19:02</div></div>",
     datetime(2019, 9, 7, 19, 2)),
    # a date printed by an inline script
    ("", '<div><script>showDate("2020/04/17 01:43:09")</script> 瀏覽 7</div>',
     datetime(2020, 4, 17, 1, 43, 9)),
    # a date only in the page's script data
    ('<script>window.DATA = {"title": "x", "pubtime": "2019-09-07 19:02:26"};</script>', "",
     datetime(2019, 9, 7, 19, 2, 26)),
])
def test_publish_time_from_pieces_and_scripts(head: str, under_title: str,
                                              expected: datetime) -> None:
    html = page(f"<h1>標題測試新聞一則</h1>{under_title}<p>{PARAGRAPH}</p><p>{PARAGRAPH2}</p>",
                head=head)
    article = extract_article(html.encode(), url="http://x/", fetched_at=FETCHED)
    assert article.published_at == expected.replace(tzinfo=SHANGHAI)


def test_a_paragraph_printed_twice_is_kept_once() -> None:
    body, _author, _editor = _body_of(
        f"<div class=summary>{PARAGRAPH}</div><p>{PARAGRAPH}</p><p>{PARAGRAPH2}</p>"
        "<p>________________________________。</p><p>________________________________。</p>")
    assert body == [PARAGRAPH, PARAGRAPH2, "________________________________。",
                    "________________________________。"]


@pytest.mark.parametrize("furniture", [
    "打印 关闭", "延伸 · 推荐", "20190926|国贸|增长率|全球经济", "图片均来自网络",
    "相关资讯请关注:逆水寒专区", "正文已结束，您可以按alt+4进行评论",
    "即将播放 取消 50% 75% 100% 播放模式"])
def test_site_furniture_below_the_text_is_dropped(furniture: str) -> None:
    body, _author, _editor = _body_of(
        f"<p>{PARAGRAPH}</p><p>{PARAGRAPH2}</p><p>{furniture}</p><p>{PARAGRAPH3}</p>")
    assert furniture not in body


@pytest.mark.parametrize("furniture", ["(本文发表于首页批评与建议, 已被阅读178次)", "广告"])
def test_counters_and_ad_labels_are_furniture(furniture: str) -> None:
    body, _author, _editor = _body_of(
        f"<p>{PARAGRAPH}</p><p>{furniture}</p><p>{PARAGRAPH2}</p>")
    assert body == [PARAGRAPH, PARAGRAPH2]


def test_a_legal_notice_heading_ends_the_story() -> None:
    body, _author, _editor = _body_of(
        f"<p>{PARAGRAPH}</p><p>{PARAGRAPH2}</p><p>郑 重 声 明</p>"
        "<p>1. 任何言论纯属作者个人观点，与本站无关；</p><p>2. 禁止发表违反国家法律的言论；</p>")
    assert body == [PARAGRAPH, PARAGRAPH2]


# A paragraph of the story that happens to hold a furniture word ("版权所有").
COPYRIGHT_PROSE = ("其次，提供音频和视频内容的播客，使本来已经很麻烦的互联网版权问题更加复杂。"
                   "播客节目完全依靠用户自身下载和储存，这有可能会引发法律纠纷。美国唱片工会表示："
                   "“播客在使用其它音乐时，一定要获得版权所有者或制作人的许可。”")


def test_a_furniture_word_inside_sentences_keeps_the_paragraph() -> None:
    html = f"<p>{PARAGRAPH}</p><p>{COPYRIGHT_PROSE}</p><p>{PARAGRAPH2}</p>"
    body, _author, _editor = _body_of(html)
    assert body == [PARAGRAPH, COPYRIGHT_PROSE, PARAGRAPH2]
    with rules_off({"prose_not_furniture"}):  # the rule is what keeps it
        body, _author, _editor = _body_of(html)
    assert body == [PARAGRAPH, PARAGRAPH2]


@pytest.mark.parametrize("footer", [
    "市场有风险，投资需谨慎。本网站所有信息仅供参考。Copyright © 2018-2020 某基金 "
    "All Rights Reserved. Powered by 某公司",
    "免责声明：本文仅代表作者个人观点，与本网无关。其原创性以及文中陈述文字和内容未经本站证实，"
    "对本文以及其中全部或者部分内容的真实性、完整性不作任何保证或承诺。"])
def test_footers_and_disclaimers_stay_furniture(footer: str) -> None:
    body, _author, _editor = _body_of(f"<p>{PARAGRAPH}</p><p>{PARAGRAPH2}</p><p>{footer}</p>")
    assert footer not in body


STORY = [f"{text}（之{n}）" for n in range(1, 4) for text in (PARAGRAPH, PARAGRAPH2, PARAGRAPH3)]


def _text_split_by_tables() -> str:
    """A notes box above a long text whose paragraphs are separated by data tables."""
    notes = ("<table class=notes><tr><td><div>本条目存在以下问题，请协助改善本条目。</div>"
             "<div>维基百科不是不经筛选的资讯收集处。请帮助改进这个条目，使用中立的语气，"
             "移除琐碎的轶事与未经证实的评论、不合适的列表和链接收集等。</div></td></tr></table>")
    cells = "".join(f"<tr><td>第{n}集</td><td>嘉宾{n}</td><td>2015年</td></tr>"
                    for n in range(1, 40))
    table = f"<table>{cells}</table>"
    story = "".join(f"<p>{text}</p>{table}" for text in STORY)
    return f"<h1>標題測試新聞一則</h1><div id=content>{notes}{table}{story}</div>"


def _titled(body: str) -> bytes:
    return (f"<html><head><meta charset=utf-8><title>標題測試新聞一則</title></head>"
            f"<body>{body}</body></html>").encode()


def test_a_text_split_by_tables_wins_over_a_notes_box_above_it() -> None:
    raw = _titled(_text_split_by_tables())
    body = extract_article(raw, url="http://x/", fetched_at=FETCHED).body
    assert all(text in body for text in STORY)
    assert "第39集" in body  # the tables between the paragraphs belong to the text
    with rules_off({"body_widen"}):
        body = extract_article(raw, url="http://x/", fetched_at=FETCHED).body
    assert STORY[-1] not in body  # without the rule the notes box wins


def test_widening_does_not_take_in_comments_or_link_lists() -> None:
    comments = "".join(f"<div class=c><p>网友{n}：{PARAGRAPH3}</p></div>" for n in range(8))
    links = "".join(f"<li><a href=/n{n}>相关新闻标题第{n}条内容</a></li>" for n in range(30))
    html = (f"<div id=page><h1>標題測試新聞一則</h1><div id=story><p>{PARAGRAPH}</p>"
            f"<p>{PARAGRAPH2}</p></div><ul>{links}</ul><h3>网友评论</h3>{comments}</div>")
    article = extract_article(_titled(html), url="http://x/", fetched_at=FETCHED)
    assert article.body.splitlines() == [PARAGRAPH, PARAGRAPH2]


def _notice_with_table(last_line: str, cell_link: bool = False) -> bytes:
    """A layout-table notice: prose in one cell, the table it announces in the next row."""
    def cell(text: str) -> str:
        return f"<td><a href=/x>{text}</a></td>" if cell_link else f"<td>{text}</td>"
    rows = "".join(f"<tr>{cell(f'0504{n:02d}专业')}{cell(f'导师{n}')}{cell('英语或日语')}</tr>"
                   for n in range(1, 8))
    prose = "".join(f"<p>{text}</p>" for text in (PARAGRAPH, PARAGRAPH2, PARAGRAPH3))
    return _titled(f"<table><tr><td><h1>標題測試新聞一則</h1></td></tr>"
                   f"<tr><td>{prose}<p>{last_line}</p></td></tr>"
                   f"<tr><td><table>{rows}</table></td></tr></table>")


def test_a_table_the_text_announces_is_part_of_it() -> None:
    raw = _notice_with_table("附：招生专业及考试科目")
    body = extract_article(raw, url="http://x/", fetched_at=FETCHED).body.splitlines()
    assert body[-3:] == ["050407专业", "导师7", "英语或日语"]
    assert "050401专业" in body and body.index("附：招生专业及考试科目") < body.index("050401专业")
    with rules_off({"body_announced_table"}):
        body = extract_article(raw, url="http://x/", fetched_at=FETCHED).body.splitlines()
    assert "050401专业" not in body


@pytest.mark.parametrize(("last_line", "cell_link"), [
    ("会议要求各单位认真落实。", False),  # the text does not point at the table
    ("相关专业：", True),  # a table of links is navigation, whatever announces it
])
def test_an_unannounced_or_linked_table_stays_out(last_line: str, cell_link: bool) -> None:
    body = extract_article(_notice_with_table(last_line, cell_link), url="http://x/",
                           fetched_at=FETCHED).body
    assert "050401专业" not in body and PARAGRAPH3 in body
