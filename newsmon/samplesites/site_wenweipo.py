"""香港文匯網 (wenweipo.com), Traditional script, served in Big5, Hong Kong time.

Served under ``/wenweipo/``. Only a list page (``news/list.html``, ``list_2.html``),
four to a page, whose article links are protocol-relative (``//host:port/...``) as the
old site's were. Characters Big5 lacks (HKSCS characters such as 嘅 埗, the
mainland forms in the republished 大衆網 story) are sent as numeric character
references, which is what Big5 publishing systems did. On day two it republishes the
大衆網 seed story under a slightly different headline, 來源：大衆網.
"""

from __future__ import annotations

from newsmon.samplesites.catalog import SampleArticle
from newsmon.samplesites.pages import (
    WEEKDAYS_TRADITIONAL,
    SitePages,
    SiteSpec,
    blocks_html,
    esc,
    fill,
    joined,
    paragraphs_html,
    tracking_script,
)

SPEC = SiteSpec(
    name="wenweipo",
    display_name="香港文匯網",
    timezone="Asia/Hong_Kong",
    charset="big5",
    list_path="/wenweipo/news/list.html",
    max_list_pages=3,
)

PAGE_SIZE = 4
CHANNELS = {"hongkong": "港聞", "china": "中國"}


def list_page_path(number: int) -> str:
    return "/wenweipo/news/list.html" if number == 1 else f"/wenweipo/news/list_{number}.html"


class _Site(SitePages):
    spec, page_size, channels = SPEC, PAGE_SIZE, CHANNELS
    home_paths = ("/wenweipo/", "/wenweipo/index.html")
    static_pages = (("/wenweipo/about.html", "關於我們", "香港文匯網由香港文匯報主辦。"),)
    list_page_path = staticmethod(list_page_path)
    channel_path = "/wenweipo/{}/index.html"

    def today(self) -> str:
        when = self.modified
        return (f"{when.year}年{when.month}月{when.day}日 "
                f"星期{WEEKDAYS_TRADITIONAL[when.weekday()]}") if when else ""

    def link(self, a: SampleArticle) -> str:
        """Protocol-relative, as the old site wrote its links."""
        return self.ctx.netloc_url + a.path

    def page(self, title: str, main: str, head: str = "", path: str = "") -> str:
        hot = joined(f'<li><a href="{self.link(a)}">{esc(a.title)}</a></li>'
                     for a in self.articles[:5])
        return fill("wenweipo_page.html", title=esc(title), head=head, today=self.today(),
                    path=path, main=main, hot=hot, tracking=tracking_script("wenweipo", "page"))

    @staticmethod
    def path(*parts: str) -> str:
        trail = " &gt; ".join(('<a href="/wenweipo/">香港文匯網</a>', *parts))
        return f'<div id="path">{trail}</div>'

    def home(self) -> str:
        items = joined(f'<li><a href="{self.link(a)}">{esc(a.title)}</a></li>'
                       for a in self.articles[:6])
        return self.page("香港文匯網", f'<div class="focus"><ul>{items}</ul>'
                                       f'<a href="/wenweipo/news/list.html">更多即時新聞</a></div>')

    def list_page(self, chunk: list[SampleArticle], number: int) -> str:
        rows = joined(
            f'<tr><td class="time">{a.published:%m/%d %H:%M}</td>'
            f'<td><a href="{self.link(a)}" target="_blank">{esc(a.title)}</a></td></tr>'
            for a in chunk)
        pager = " ".join(
            f"<b>[{n}]</b>" if n == number else f'<a href="{list_page_path(n)}">[{n}]</a>'
            for n in range(1, self.page_count + 1))
        more = (f' <a href="{list_page_path(number + 1)}">下一頁</a>'
                if number < self.page_count else "")
        main = (f'<div class="listtitle">即時新聞</div>'
                f'<table class="list" width="100%">{rows}</table>'
                f'<div class="pager">{pager}{more}</div>')
        return self.page("即時新聞｜香港文匯網", main, path=self.path("即時新聞"))

    def section(self, name: str, chosen: list[SampleArticle]) -> str:
        items = joined(f'<li><a href="{self.link(a)}">{esc(a.title)}</a></li>' for a in chosen)
        return self.page(f"{name}｜香港文匯網", f'<div class="listtitle">{name}</div>'
                                               f'<ul>{items or "<li>暫無新聞</li>"}</ul>')

    def static(self, title: str, text: str) -> str:
        return self.page(f"{title}｜香港文匯網", f"<h2>{esc(title)}</h2><p>{esc(text)}</p>")

    def article(self, a: SampleArticle) -> str:
        head = joined([
            f'<meta name="keywords" content="{esc(",".join(a.keywords))}">',
            f'<meta name="description" content="{esc(a.summary(100))}">',
        ])
        # A republished story keeps the original's kicker (引題) above the headline.
        kicker = (f'<div class="kicker">{esc(a.lead[0])}</div>'
                  if a.republished_from and a.lead else "")
        lead_lines = a.lead[1:] if kicker else a.lead
        others = [o for o in self.articles if o.slug != a.slug and o.channel == a.channel][:4]
        related = joined(f'<li><a href="{self.link(o)}">{esc(o.title)}</a></li>' for o in others)
        main = fill("wenweipo_article.html", kicker=kicker, title=esc(a.title),
                    published=f"{a.published:%Y/%m/%d %H:%M}", source=esc(a.source),
                    lead=paragraphs_html(lead_lines), body=_body(a), tail=paragraphs_html(a.tail),
                    editor=esc(a.editor or "文匯網"), related=related or "<li>暫無</li>")
        channel = f'<a href="/wenweipo/{a.channel}/index.html">{CHANNELS[a.channel]}</a>'
        return self.page(f"{a.title}｜香港文匯網", main, head=head,
                         path=self.path("新聞", channel))


def _body(a: SampleArticle) -> str:
    return joined(blocks_html(a, {"h": "<p><b>{text}</b></p>", "deck": "<p><b>{text}</b></p>",
                                  "cap": '<p class="pic">{text}</p>', "p": "<p>{text}</p>"}))


render = _Site.render
