"""Day three of the sample sites: what happens to articles after publication.

Day three serves day two's articles, except that seven day-one articles changed:

* ``retitled``  — bandao 368812 gets a new headline;
* ``edited``    — bandao 368790 gains a paragraph (one that names 青島);
* ``script``    — bandao 368530 is re-published in Traditional characters, same text;
* ``gone``      — qingdaonews 21011876 answers 404;
* ``home``      — qingdaonews 21011650 redirects to the site's home page;
* ``soft404``   — dzwww t20200112_4711873 answers 200 with a "页面不存在" page;
* ``unavailable`` — wenweipo AP5e1a6f3c answers 503 (not a takedown).

The last four leave the lists, as a site's lists drop a removed story (the 503 stays
listed: the server is busy, the story still there). ``TRACK_TERMS`` holds a query
term of each changed article for tests that track them with a topic.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from newsmon.textnorm import to_traditional

if TYPE_CHECKING:
    from newsmon.samplesites.catalog import SampleArticle

# article key -> what day three does to it
CHANGES = {
    "bandao/368812": "retitled",
    "bandao/368790": "edited",
    "bandao/368530": "script",
    "qingdaonews/21011876": "gone",
    "qingdaonews/21011650": "home",
    "dzwww/t20200112_4711873": "soft404",
    "wenweipo/AP5e1a6f3c": "unavailable",
}
# A term of each changed article's title, for a topic that tracks all seven.
TRACK_TERMS = {
    "bandao/368812": "故宫",
    "bandao/368790": "扩大内需",
    "bandao/368530": "宇航员",
    "qingdaonews/21011876": "SKII",
    "qingdaonews/21011650": "现代汽车",
    "dzwww/t20200112_4711873": "電競",
    "wenweipo/AP5e1a6f3c": "直銷公司",
}
NEW_TITLE = "故宫回应：实力已不允许我继续低调"
ADDED_PARAGRAPH = "青島港务部门当天表示，将进一步扩大内需、稳定外贸，支持港口企业扩大投资。"
SOFT_404_HTML = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>页面不存在 - 大众网</title></head>
<body><div class="err"><h1>抱歉，您访问的页面不存在或已被删除</h1>
<p>请<a href="/dzwww/">返回首页</a>。</p></div></body></html>
"""
LEAVE_LISTS = frozenset({"gone", "home", "soft404"})


def changed(article: SampleArticle) -> SampleArticle | None:
    """``article`` as day three shows it in lists and pages; None when it left them."""
    change = CHANGES.get(article.key)
    if change in LEAVE_LISTS:
        return None
    if change == "retitled":
        return replace(article, title=NEW_TITLE)
    if change == "edited":
        from newsmon.samplesites.catalog import Block

        paragraphs = (*article.body, Block("p", ADDED_PARAGRAPH))
        return replace(article, body=paragraphs)
    if change == "script":
        return replace(article, title=to_traditional(article.title),
                       body=tuple(replace(b, text=to_traditional(b.text)) for b in article.body),
                       lead=tuple(to_traditional(line) for line in article.lead))
    return article


def paths_with(change: str, path_of: dict[str, str]) -> list[str]:
    """The served paths of the articles day three gives ``change``."""
    return [path_of[key] for key, kind in CHANGES.items() if kind == change and key in path_of]
