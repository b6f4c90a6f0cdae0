"""``newsmon serve``'s pages in a real headless Chromium, over a really crawled archive.

Debian's Chromium (/usr/bin/chromium; scripts/test installs it) is driven through
Playwright without any browser download. The tests fail, not skip, without it. Each
page is saved as a screenshot in ``tests/screenshots/`` (ignored by git) so a person
can look at what the tests saw.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.web_support import HOSTILE_TITLE, TOKEN, Archive, crawl_archive, serving

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parent / "screenshots"


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    return crawl_archive(tmp_path_factory.mktemp("web"))


@pytest.fixture(scope="module")
def base_url(archive: Archive) -> Iterator[str]:
    with serving(archive) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is required (apt-get install chromium; scripts/test "
                    "installs it)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM,
                                              args=["--no-sandbox", "--disable-gpu"])
        yield launched
        launched.close()


class Watched:
    """A page and what Chromium reported while it was open: dialogs (alert, confirm),
    console messages and page errors."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.console: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", self._dialog)
        page.on("console", lambda message: self.console.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _dialog(self, dialog: object) -> None:
        self.dialogs.append(getattr(dialog, "message", "?"))
        dialog.dismiss()  # type: ignore[attr-defined]


@pytest.fixture
def page(browser: Browser) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1000, "height": 900}, locale="zh-CN",
                                  timezone_id="Asia/Shanghai")
    watched = Watched(context.new_page())
    yield watched
    context.close()
    assert watched.errors == [], watched.errors


def shot(page: Page, name: str) -> Path:
    SHOTS.mkdir(exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000, f"{path} looks blank"
    return path


def result_ids(page: Page) -> list[str]:
    return [str(item.get_attribute("data-id")) for item in page.locator("li.result").all()]


def test_search_finds_the_same_articles_in_either_script(page: Watched, base_url: str) -> None:
    page.page.goto(f"{base_url}/search")
    page.page.fill("input[name=q]", "青島")
    page.page.click("button[type=submit]")
    traditional = result_ids(page.page)
    page.page.fill("input[name=q]", "青岛")
    page.page.click("button[type=submit]")
    simplified = result_ids(page.page)
    assert traditional and traditional == simplified
    assert page.page.locator("li.result mark").count() >= len(simplified)  # highlighted
    export = page.page.locator("a", has_text="CSV").get_attribute("href") or ""
    assert export.startswith("/search/export?") and "format=csv" in export
    shot(page.page, "search")


def test_search_pages_on_with_a_cursor(page: Watched, base_url: str) -> None:
    """"Next page" continues where the first page stopped, without repeating any."""
    page.page.goto(f"{base_url}/search?q=的")
    first = result_ids(page.page)
    assert len(first) == 20
    page.page.click("a[rel=next]")
    second = result_ids(page.page)
    assert second and not set(first) & set(second)
    assert "cursor=" in page.page.url


def test_a_topic_is_added_with_the_token_and_refused_without(page: Watched,
                                                            base_url: str) -> None:
    tab = page.page
    tab.goto(f"{base_url}/topics")
    tab.fill("input[name=name]", "port")
    tab.fill("input[name=query]", "港口 OR 码头")
    tab.click("button.primary")
    assert "a valid token is needed" in tab.locator("#form-problem").inner_text()
    assert tab.locator("tr[data-topic=port]").count() == 0

    tab.fill("input[name=query]", "港口 OR 码头")
    tab.fill("input[name=token]", "not-the-token")
    tab.click("button.primary")
    assert "a valid token is needed" in tab.locator("#form-problem").inner_text()
    assert tab.locator("tr[data-topic=port]").count() == 0

    tab.fill("input[name=query]", "港口 OR 码头")
    tab.fill("input[name=token]", TOKEN)
    tab.click("button.primary")
    assert "added topic 'port'" in tab.locator(".notice").inner_text()
    assert tab.locator("tr[data-topic=port] .topic-query").inner_text() == "港口 OR 码头"
    # The token logged this browser in: the next form asks for none.
    assert tab.locator("input[name=token]").count() == 0
    shot(tab, "topics")


def test_a_malformed_topic_query_shows_where_it_went_wrong(page: Watched,
                                                          base_url: str) -> None:
    tab = page.page
    query = "青岛 (港口 OR"
    tab.goto(f"{base_url}/topics")
    tab.fill("input[name=name]", "broken")
    tab.fill("input[name=query]", query)
    tab.click("button[name=try]")  # the backtest parses it first
    error = tab.locator(".error[data-position]")
    position = int(error.get_attribute("data-position") or "-1")
    assert 0 <= position <= len(query)
    before_mark = error.evaluate(
        "e => { const r = document.createRange(); r.setStart(e.querySelector('pre.query'), 0);"
        " r.setEndBefore(e.querySelector('.at')); return r.toString(); }")
    assert before_mark == query[:position]  # the marked character is the failing one
    assert "expected" in error.locator("strong").inner_text()
    shot(tab, "topic-error")

    tab.fill("input[name=token]", TOKEN)  # saving it is refused for the same reason
    tab.click("button.primary")
    assert tab.locator(".error[data-position]").get_attribute("data-position") == str(position)
    assert tab.locator("tr[data-topic=broken]").count() == 0


def test_try_it_backtests_without_saving(page: Watched, base_url: str) -> None:
    tab = page.page
    tab.goto(f"{base_url}/topics")
    tab.fill("input[name=name]", "trial")
    tab.fill("input[name=query]", "青岛")
    tab.select_option("select[name=since]", label="all time")
    tab.click("button[name=try]")
    heading = tab.locator("#trial h2").inner_text()
    assert "stored articles match" in heading and not heading.startswith("Try it: 0 ")
    assert tab.locator(".trial-hit mark").count() >= 1
    assert tab.locator("tr[data-topic=trial]").count() == 0


def test_the_sources_page_draws_thirty_days_per_source(page: Watched, base_url: str) -> None:
    tab = page.page
    tab.goto(f"{base_url}/sources")
    for name in ("dzwww", "qingdaonews", "bandao", "wenweipo", "markup"):
        chart = tab.locator(f"section[data-source={name}] svg.chart")
        assert chart.count() == 1, name
        assert chart.locator("rect.bar").count() == 30
        assert int(chart.get_attribute("data-total") or 0) > 0  # crawled today
        box = chart.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 40
    shot(tab, "sources")


def test_a_crawled_title_made_of_markup_stays_text(page: Watched, base_url: str) -> None:
    tab = page.page
    tab.goto(f"{base_url}/search?q=onerror")
    assert tab.locator("li.result").count() == 1
    assert tab.locator("li.result h3").inner_text() == HOSTILE_TITLE
    tab.click("li.result h3 a")
    assert tab.locator("h1#title").inner_text() == HOSTILE_TITLE
    assert "alert(2)" in tab.locator("article.body").inner_text()
    assert tab.locator("main img, main script").count() == 0
    tab.wait_for_load_state("load")
    assert page.dialogs == []  # no alert(1) or alert(2) ran
    shot(tab, "article-markup-title")


def test_new_page_groups_matches_and_the_script_runs_under_the_csp(page: Watched,
                                                                   base_url: str) -> None:
    tab = page.page
    tab.goto(f"{base_url}/")
    assert tab.locator("section.topic[data-topic=qingdao] article.story").count() >= 1
    assert tab.locator("section.topic mark").count() >= 1
    shot(tab, "new")
    # Choosing another window submits the form: the nonce'd script from /static ran.
    with tab.expect_navigation():
        tab.select_option("select[name=since]", "7d")
    assert tab.url.endswith("since=7d")
    assert not any("Content Security Policy" in line for line in page.console), page.console


def test_runs_feeds_and_an_article_render(page: Watched, base_url: str) -> None:
    tab = page.page
    tab.goto(f"{base_url}/runs")
    assert tab.locator("table.crawl-runs tr").count() >= 1 + 10  # 5 sources x 2 crawls
    shot(tab, "runs")
    tab.goto(f"{base_url}/feeds")
    href = tab.locator("a.feed", has_text="qingdao.atom").get_attribute("href") or ""
    shot(tab, "feeds")
    response = tab.request.get(f"{base_url}{href}")
    assert response.ok and "atom" in response.headers["content-type"]
    feed = feedparser.parse(response.body())
    assert feed.bozo == 0 and feed.entries and feed.feed.title.endswith("qingdao")
    tab.goto(f"{base_url}/search?q=青岛")
    tab.click("li.result h3 a >> nth=0")
    assert tab.locator("dl.fields dt", has_text="来源").count() == 1
    assert tab.locator("dl.fields dt", has_text="责编").count() == 1
    assert tab.locator("article.body p").count() >= 2
    shot(tab, "article")
