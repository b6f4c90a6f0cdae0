"""大衆網 (dzwww.com), Traditional-script edition, UTF-8: the site of the seed article.

Served under ``/dzwww/``. The rolling-news list (``xinwen/index.htm``, then
``index_1.htm``, ``index_2.htm`` as TRS-built sites number their pages) is paginated
five to a page; the sitemap lists channel pages as well as articles. Every article page
wraps its content in the spam-injected empty markup the seed page showed, escaped so it
leaks into the text (the seed's own ``g1nl9c`` lines; other pages get their own ids),
and ends with the site boilerplate the seed text kept: 責編, 廣播頻率 FM926 FM957, the
論壇 links and the ``X-POWER-BY`` server signature.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import cache

from newsmon.samplesites import feeds
from newsmon.samplesites.catalog import SampleArticle, all_articles
from newsmon.samplesites.pages import (
    Resource,
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
    name="dzwww",
    display_name="大衆網",
    timezone="Asia/Shanghai",
    charset="utf-8",
    list_path="/dzwww/xinwen/index.htm",
    sitemaps=("/dzwww/sitemap.xml",),
    max_list_pages=5,
    robots_disallow=("/dzwww/member/",),
)

PAGE_SIZE = 5
CHANNELS = {"qingdao": "青島", "liangan": "兩岸"}
# The 論壇 links of the site boilerplate after every article body (the seed text shows
# them; the rest of that boilerplate is in templates/dzwww_article.html).
FORUMS = ("新區民生", "新區鎮街", "房産樓市", "車友之家", "求職招聘", "美食美客", "旅遊攝影",
          "社會萬象", "電子競技", "征婚交友", "愛心公益")
_LEAK_TAGS = ("dir", "ol", "abbr", "tbody", "div", "fieldset", "kbd", "form", "thead", "b", "q",
              "u", "ins", "tfoot", "style", "strong", "em", "dfn", "sub", "sup", "big", "small",
              "font", "center", "address", "i", "cite", "code", "var", "tt")


def list_page_path(number: int) -> str:
    """Page 1 is ``index.htm``; page n is ``index_{n-1}.htm`` (the TRS convention)."""
    return "/dzwww/xinwen/index.htm" if number == 1 else f"/dzwww/xinwen/index_{number - 1}.htm"


def leak_lines(article: SampleArticle) -> tuple[str, ...]:
    """The escaped empty-markup lines before the headline: the seed's own, or lines of
    the same shape with an id of the page's own (so a cleaner cannot key on one id)."""
    if article.leak:
        return article.leak
    digest = hashlib.sha1(article.slug.encode(), usedforsecurity=False).digest()
    ident = "".join("abcdefghijklmnopqrstuvwxyz0123456789"[b % 36] for b in digest[:6])
    picks = [_LEAK_TAGS[b % len(_LEAK_TAGS)] for b in digest[6:]]

    def run(tags: Sequence[str]) -> str:
        return "".join(f'<{t} id="{ident}"></{t}>' for t in tags)

    return ("• " + run(picks[0:2]), "• " + run(picks[2:7]), run(picks[7:11]),
            "1. " + run(picks[11:14]), run(picks[0:5]))


def _real_elements(leak: Sequence[str]) -> str:
    """The same empty elements as live markup (as the injecting template wrote them);
    only their escaped copies reach the text."""
    return "".join(line.removeprefix("• ").removeprefix("1. ") for line in leak)


@cache
def _tag_numbers() -> dict[str, int]:
    tags = sorted({t for a in all_articles() if a.site == SPEC.name for t in a.tags})
    return {tag: number for number, tag in enumerate(tags, start=1)}


class _Site(SitePages):
    spec, page_size, channels = SPEC, PAGE_SIZE, CHANNELS
    home_paths = ("/dzwww/", "/dzwww/index.htm")
    static_pages = (
        ("/dzwww/about.htm", "關於我們", "大衆網是山東省重點新聞網站，由大衆報業集團主辦。"),
        ("/dzwww/contact.htm", "聯系我們", "新聞熱線：0531-85193114　廣告服務：0531-85193588"),
        ("/dzwww/member/login.htm", "會員登錄", "請輸入用戶名和密碼。"),
        ("/dzwww/member/register.htm", "會員註冊", "註冊成爲大衆網會員。"),
        ("/dzwww/bbs/index.htm", "大衆論壇", "論壇版塊正在維護中，請稍後訪問。"),
    )
    list_page_path = staticmethod(list_page_path)
    channel_path = "/dzwww/{}/index.htm"

    def sections(self) -> list[tuple[str, str, list[SampleArticle]]]:
        tagged = [(f"/dzwww/tag/{number}.htm", f"標簽：{tag}",
                   [a for a in self.articles if tag in a.tags])
                  for tag, number in _tag_numbers().items()]
        return super().sections() + tagged
    def extras(self) -> dict[str, Resource]:
        return {"/dzwww/sitemap.xml": self.xml(self.sitemap(), "application/xml")}

    def page(self, title: str, content: str, head: str = "", crumbs: str = "",
             page_id: str = "index") -> str:
        nav = joined(f'<li><a href="/dzwww/{key}/index.htm">{name}</a></li>'
                     for key, name in CHANNELS.items())
        return fill("dzwww_page.html", title=esc(title), head=head, nav=nav, crumbs=crumbs,
                    content=content, tracking=tracking_script("dzwww", page_id))

    def sidebar(self) -> str:
        hot = joined(f'<li><em>{n}</em><a href="{a.path}" target="_blank">{esc(a.title)}</a></li>'
                     for n, a in enumerate(self.articles[:5], start=1))
        tags = joined(f'<a href="/dzwww/tag/{number}.htm">{esc(tag)}</a>'
                      for tag, number in list(_tag_numbers().items())[:8])
        return fill("dzwww_sidebar.html", hot=hot, tags=tags)

    @staticmethod
    def crumbs(*parts: str) -> str:
        trail = " &gt; ".join(('<a href="/dzwww/index.htm">大衆網</a>', *parts))
        return f'<div class="position w1000">您的位置：{trail}</div>'

    # --- pages ----------------------------------------------------------------------
    def home(self) -> str:
        top = joined(f'<li><a href="{a.path}">{esc(a.title)}</a></li>' for a in self.articles[:3])
        blocks = []
        for key, name in CHANNELS.items():
            items = joined(f'<li><a href="{a.path}">{esc(a.title)}</a></li>'
                           for a in self.articles if a.channel == key)
            blocks.append(f'<div class="block"><h2><a href="/dzwww/{key}/index.htm">{name}</a>'
                          f'</h2><ul>{items}</ul></div>')
        content = f"""<div class="left">
<div class="headline"><h2>今日要聞</h2><ul>{top}</ul></div>
{joined(blocks)}
<p class="more"><a href="/dzwww/xinwen/index.htm">更多滾動新聞&gt;&gt;</a></p>
</div>
{self.sidebar()}"""
        return self.page("大衆網_山東新聞門戶", content)

    def list_page(self, chunk: list[SampleArticle], number: int) -> str:
        items = joined(
            f'<li><span class="time">[{a.published:%m-%d %H:%M}]</span>'
            f'<a href="{a.path}" target="_blank" title="{esc(a.title)}">{esc(a.title)}</a>'
            f'<p class="summary">{esc(a.summary())}</p></li>'
            for a in chunk)
        content = f"""<div class="left">
<div class="list"><h2>滾動新聞</h2>
<ul>
{items}
</ul>
{self.pager(number, self.page_count)}
</div>
</div>
{self.sidebar()}"""
        crumbs = self.crumbs('<a href="/dzwww/xinwen/index.htm">新聞</a>', "滾動新聞")
        title = "滾動新聞_大衆網" if number == 1 else f"滾動新聞_第{number}頁_大衆網"
        return self.page(title, content, crumbs=crumbs, page_id=f"list{number}")

    @staticmethod
    def pager(number: int, pages: int) -> str:
        parts = [f"共{pages}頁", f'<a href="{list_page_path(1)}">首頁</a>']
        if number > 1:
            parts.append(f'<a href="{list_page_path(number - 1)}">上一頁</a>')
        for n in range(1, pages + 1):
            parts.append(f"<span>{n}</span>" if n == number
                         else f'<a href="{list_page_path(n)}">{n}</a>')
        if number < pages:
            parts.append(f'<a href="{list_page_path(number + 1)}">下一頁</a>')
        parts.append(f'<a href="{list_page_path(pages)}">尾頁</a>')
        return f'<div class="page">{" ".join(parts)}</div>'

    def section(self, heading: str, chosen: list[SampleArticle]) -> str:
        items = joined(f'<li><a href="{a.path}">{esc(a.title)}</a>'
                       f'<span>{a.published:%Y-%m-%d}</span></li>' for a in chosen)
        content = (f'<div class="left"><div class="list"><h2>{esc(heading)}</h2>'
                   f'<ul>{items or "<li>暫無內容</li>"}</ul></div></div>{self.sidebar()}')
        return self.page(f"{heading}_大衆網", content)

    def static(self, title: str, text: str) -> str:
        return self.page(f"{title}_大衆網", f'<div class="left"><h2>{esc(title)}</h2>'
                                            f'<p>{esc(text)}</p></div>')

    def article(self, a: SampleArticle) -> str:
        head = joined([
            f'<meta name="keywords" content="{esc(",".join(a.keywords))}" />' if a.keywords else "",
            f'<meta name="description" content="{esc(a.summary(80))}" />',
            f'<link rel="canonical" href="{self.ctx.url(a.path)}" />',
        ])
        channel = CHANNELS[a.channel]
        crumbs = self.crumbs(f'<a href="/dzwww/{a.channel}/index.htm">{channel}</a>', "正文")
        leak = [esc(line) for line in leak_lines(a)]
        others = [o for o in self.articles if o.slug != a.slug][:4]
        related = joined(f'<li><a href="{o.path}" target="_blank">{esc(o.title)}</a>'
                         f'<span>{o.published:%m-%d}</span></li>' for o in others)
        forums = " ".join(f'<a href="/dzwww/bbs/index.htm?fid={n}" target="_blank">{name}</a>'
                          for n, name in enumerate(FORUMS, start=1))
        content = fill(
            "dzwww_article.html", leak0=leak[0], leak1=leak[1], leak2=leak[2], leak3=leak[3],
            leak4=leak[4], real_leak=_real_elements(leak_lines(a)), title=esc(a.title),
            info=self.info(a),
            lead=paragraphs_html(a.lead), body=body_html(a), tail=paragraphs_html(a.tail),
            editor=esc(a.editor or "大衆網"), forums=forums, related=related,
            sidebar=self.sidebar())
        return self.page(f"{a.title}_{channel}_大衆網", content, head=head, crumbs=crumbs,
                         page_id=a.slug)

    def info(self, a: SampleArticle) -> str:
        """The metadata line: ``2020-01-13 08:46 來源:大衆網 標簽:青島換道超越``."""
        info = [f"{a.published:%Y-%m-%d %H:%M}", f"來源:{esc(a.source)}"]
        if a.author:
            info.append(f"作者:{esc(a.author)}")
        if a.tags:
            links = " ".join(f'<a href="/dzwww/tag/{_tag_numbers()[t]}.htm">{esc(t)}</a>'
                             for t in a.tags)
            info.append(f"標簽:{links}")
        return " ".join(info)

    def sitemap(self) -> str:
        modified = self.modified
        entries = [
            feeds.SitemapEntry(self.ctx.url("/dzwww/index.htm"), modified, "hourly", "1.0"),
            feeds.SitemapEntry(self.ctx.url(SPEC.list_path), modified, "hourly", "0.9"),
        ]
        entries += [feeds.SitemapEntry(self.ctx.url(f"/dzwww/{key}/index.htm"), modified,
                                       "daily", "0.8") for key in CHANNELS]
        entries += [feeds.SitemapEntry(self.ctx.url(a.path), a.published, "never", "0.6")
                    for a in self.articles]
        return feeds.urlset(entries)


def body_html(a: SampleArticle) -> str:
    """The body blocks as dzwww's editor writes them: centred bold section headings,
    bold decks, pictures with their caption under a line break."""
    return joined(blocks_html(a, {
        "h": '<p style="text-align: center;"><strong>{text}</strong></p>',
        "deck": "<p><strong>{text}</strong></p>",
        "cap": '<p style="text-align: center;"><img src="/dzwww/images/{slug}_{number}.jpg"'
               ' border="0" /><br />{text}</p>',
        "p": "<p>{text}</p>"}))


render = _Site.render
