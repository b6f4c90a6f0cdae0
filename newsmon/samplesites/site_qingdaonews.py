"""青岛新闻网 (qingdaonews.com), Simplified script, served in GBK.

Served under ``/qingdaonews/``. An older table layout: the rolling list
``news/roll.htm`` paginates with a query string (``roll.htm?page=2``) and links its
articles relatively (``../content/2020-01/13/content_N.htm``); an RSS feed in GBK;
``<meta name="keywords">`` on every article; body paragraphs indented with full-width
spaces; one article has an advertisement table in the middle of a paragraph, as the
sina page it came from had.
"""

from __future__ import annotations

from newsmon.samplesites import feeds
from newsmon.samplesites.catalog import SampleArticle
from newsmon.samplesites.pages import (
    Resource,
    SitePages,
    SiteSpec,
    blocks_html,
    esc,
    fill,
    joined,
    tracking_script,
)

SPEC = SiteSpec(
    name="qingdaonews",
    display_name="青岛新闻网",
    timezone="Asia/Shanghai",
    charset="gbk",
    list_path="/qingdaonews/news/roll.htm",
    feeds=("/qingdaonews/rss/roll.xml",),
    max_list_pages=3,
    robots_disallow=("/qingdaonews/search/",),
)

PAGE_SIZE = 6
CHANNELS = {"guonei": "国内", "shandong": "山东", "caijing": "财经", "qiche": "汽车",
            "fangchan": "房产", "shehui": "社会", "jiaoyu": "教育"}
INDENT = "\u3000\u3000"  # paragraphs start with two ideographic spaces


def list_page_path(number: int) -> str:
    """Page 1 is ``roll.htm``; later pages add ``?page=N``."""
    base = "/qingdaonews/news/roll.htm"
    return base if number == 1 else f"{base}?page={number}"


def published_text(a: SampleArticle) -> str:
    if a.time_format == "cn_compact":
        return f"{a.published:%Y年%m月%d日%H:%M}"
    return f"{a.published:%Y-%m-%d %H:%M:%S}"


class _Site(SitePages):
    spec, page_size, channels = SPEC, PAGE_SIZE, CHANNELS
    home_paths = ("/qingdaonews/", "/qingdaonews/index.htm")
    static_pages = (
        ("/qingdaonews/about/index.htm", "关于我们", "青岛新闻网是青岛市重点新闻网站。"),
        ("/qingdaonews/about/jiucuo.htm", "我要纠错", "发现错误请发送邮件至本网编辑部。"),
        ("/qingdaonews/search/index.htm", "站内搜索", "请输入关键词。"),
    )
    list_page_path = staticmethod(list_page_path)
    channel_path = "/qingdaonews/news/{}.htm"

    def extras(self) -> dict[str, Resource]:
        return {"/qingdaonews/rss/roll.xml": self.xml(self.feed(), "application/rss+xml")}

    def page(self, title: str, main: str, head: str = "", location: str = "") -> str:
        nav = " | ".join(f'<a href="/qingdaonews/news/{key}.htm">{name}</a>'
                         for key, name in CHANNELS.items())
        ranking = joined(f'<li><a href="{self.ctx.url(a.path)}" target="_blank">'
                         f"{esc(a.title)}</a></li>" for a in self.articles[:6])
        return fill("qingdaonews_page.html", title=esc(title), head=head, nav=nav,
                    location=location, main=main, ranking=ranking,
                    tracking=tracking_script("qingdaonews", "roll"))

    @staticmethod
    def location(*parts: str) -> str:
        trail = " &gt; ".join(('<a href="/qingdaonews/">青岛新闻网</a>',
                               '<a href="/qingdaonews/news/roll.htm">新闻中心</a>', *parts))
        return f'<div class="location">您现在的位置：{trail}</div>'

    def home(self) -> str:
        items = joined(f'<li><a href="{a.path}">{esc(a.title)}</a></li>' for a in self.articles[:8])
        main = (f'<div class="focus"><h2>要闻</h2><ul>{items}</ul>'
                f'<p><a href="/qingdaonews/news/roll.htm">更多即时新闻&gt;&gt;</a></p></div>')
        return self.page("青岛新闻网_青岛第一门户", main)

    def list_page(self, chunk: list[SampleArticle], number: int) -> str:
        items = joined(
            f'<li><a href="{_relative_article(a)}" target="_blank">{esc(a.title)}</a>'
            f'<span class="date">[{a.published:%Y-%m-%d}]</span></li>'
            for a in chunk)
        links = []
        if number > 1:
            links.append(f'<a href="{_relative_list(number - 1)}">上一页</a>')
        for n in range(1, self.page_count + 1):
            links.append(f"<b>{n}</b>" if n == number else f'<a href="{_relative_list(n)}">{n}</a>')
        if number < self.page_count:
            links.append(f'<a href="{_relative_list(number + 1)}">下一页</a>')
        main = f"""<div class="list"><h2>即时新闻</h2>
<ul class="newslist">
{items}
</ul>
<div class="pages">{" ".join(links)} 共{len(self.articles)}条</div>
</div>"""
        return self.page("即时新闻-青岛新闻网", main, location=self.location("即时新闻"))

    def section(self, channel: str, chosen: list[SampleArticle]) -> str:
        heading = f"{channel}新闻"
        items = joined(f'<li><a href="{a.path}">{esc(a.title)}</a> [{a.published:%m-%d}]</li>'
                       for a in chosen)
        return self.page(f"{heading}-青岛新闻网",
                         f'<div class="list"><h2>{esc(heading)}</h2>'
                         f'<ul class="newslist">{items or "<li>暂无新闻</li>"}</ul></div>')

    def static(self, title: str, text: str) -> str:
        return self.page(f"{title}-青岛新闻网", f"<h2>{esc(title)}</h2><p>{esc(text)}</p>")

    def article(self, a: SampleArticle) -> str:
        head = joined([
            f'<meta name="keywords" content="{esc(",".join(a.keywords))}">',
            f'<meta name="description" content="{esc(a.summary(100))}">',
        ])
        info = [published_text(a), f"来源：{esc(a.source)}"]
        if a.author:
            info.append(f"作者：{esc(a.author)}")
        channel = CHANNELS[a.channel]
        location = self.location(f'<a href="/qingdaonews/news/{a.channel}.htm">{channel}新闻</a>',
                                 "正文")
        related = joined(f'<li><a href="{o.path}" target="_blank">{esc(o.title)}</a></li>'
                         for o in self.articles if o.slug != a.slug and o.channel == a.channel)
        main = fill("qingdaonews_article.html", title=esc(a.title), info="　".join(info),
                    lead=joined(f"<p>{INDENT}{esc(line)}</p>" for line in a.lead),
                    body=_body(a), tail=joined(f"<p>{INDENT}{esc(line)}</p>" for line in a.tail),
                    editor=esc(a.editor or "青岛新闻网"),
                    related=related or "<li>暂无相关新闻</li>")
        return self.page(f"{a.title}-青岛新闻网", main, head=head, location=location)

    def feed(self) -> str:
        items = [feeds.FeedItem(
            title=a.title, link=self.ctx.url(a.path), description=a.summary(100),
            published=a.published, author=a.author or a.source,
            category=CHANNELS[a.channel], guid=self.ctx.url(a.path)) for a in self.articles]
        return feeds.rss("青岛新闻网-即时新闻", self.ctx.url("/qingdaonews/"),
                         "青岛新闻网即时新闻频道", items, SPEC.charset, self.modified)


def _relative_article(a: SampleArticle) -> str:
    """The list page's link: relative to ``/qingdaonews/news/``."""
    return f"..{a.path.removeprefix('/qingdaonews')}"


def _relative_list(number: int) -> str:
    return "roll.htm" if number == 1 else f"roll.htm?page={number}"


def _body(a: SampleArticle) -> str:
    parts = blocks_html(a, {
        "h": "<p><b>{text}</b></p>",
        "cap": '<p align="center"><img src="/qingdaonews/images/{slug}_{number}.jpg" border="0">'
               "<br>{text}</p>",
        "p": f"<p>{INDENT}{{text}}</p>"})
    if a.inline_ad_after is not None and a.inline_ad_after < len(parts):
        # The advertisement table the original page had inside a paragraph.
        parts.insert(a.inline_ad_after + 1, fill("qingdaonews_inline_ad.html"))
    return joined(parts)


render = _Site.render
