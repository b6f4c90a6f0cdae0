"""Find the article body by text density, and strip the boilerplate inside it.

Every block gets a weight: positive for sentence-like text (long, punctuated, few
links), negative for navigation, link lists and short fragments. An element's
score is the sum of the weights of the blocks inside it, so the best-scoring
element is the one that holds the most prose and the least clutter: the body
container. Inside it, share bars, 【纠错】, copyright and hotline lines, radio
frequencies, server signatures and link lists are dropped, and the trailing
"related news" part is cut.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain, islice

from lxml.html import HtmlElement

from newsmon.crawler.extract.blocks import HEADING_TAGS, Block
from newsmon.crawler.extract.rules import enabled

# Lines that are site furniture wherever they appear (checked on short blocks only).
_BOILERPLATE = re.compile(
    r"版权所有|版權所有|copyright|©|\(c\)\s*\d{4}|all rights reserved|ICP[备證证]|"
    r"公网安备|公網安備|网安备|增值电信|互联网新闻信息服务许可|"
    r"违法和不良信息|違法和不良資訊|举报电话|舉報電話|举报邮箱|热线[:：]|熱線[:：]|客服电话|"
    r"广播频率|廣播頻率|\bFM\s?\d{2,3}(?:\.\d)?\b|X-POWER-BY|Powered by|Processed in|"
    r"[【\[]\s*(?:纠错|糾錯|打印|列印|關閉|关闭|收藏|推荐|推薦|我来说两句|發表評論|发表评论)\s*[】\]]|"
    r"分享到|分享至|分享：|分享:|扫一扫|掃一掃|扫描二维码|掃描二維碼|关注我们|關注我們|"
    r"打印本页|打印本頁|关闭窗口|關閉窗口|返回顶部|返回頂部|回到顶部|字号[:：]|字號[:：]|"
    r"[【\[]\s*字[体號号]|上一篇|下一篇|上一页|下一頁|下一页|点击排行|點擊排行|"
    # a print-edition note: 《光明日报》（ 2022年02月13日 02版）
    r"^《[^》]{2,16}》\s*[(（]\s*\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日"
    r"\s*(?:第?\s*\d{1,3}\s*版)?\s*[)）]\s*$|"
    r"相关链接|相關鏈接|免责声明|免責聲明|声明：|聲明：|本文来自\S{1,6}号|未经授权|未經授權|"
    r"不得转载|不得轉載|禁止转载|禁止轉載|转载请注明|轉載請註明|原标题[:：]|原標題[:：]|"
    r"^\s*(?:责任编辑|責任編輯|责编|責編|编辑|編輯)\s*[:：]|"
    r"^[(（]\s*(?:责任编辑|責任編輯|责编|責編|编辑|編輯)\s*[:：]|"
    r"^【?\s*(?:编辑|編輯)\s*[:：]|点击进入|點擊進入|进入论坛|進入論壇|"
    r"^(?:正在加载|正在載入|加载中|載入中|载入中|loading)\s*[.。…]*$|查看更多|展开全文|"
    r"即将播放|播放模式|观看完整版|觀看完整版|重新播放|您的浏览器不支持|您的瀏覽器不支援|"
    r"^图片(?:均)?来自网络|^圖片(?:均)?來自網絡|^图片来源[:：]|^圖片來源[:：]|"
    r"(?:请|請|敬请|敬請)关注.{0,12}(?:专区|專區|专题|專題|频道|頻道|公众号|公眾號|微信|微博|官网|官網)|"
    r"展開全文|阅读全文|閱讀全文|APP内打开|App內打開|"
    # a view counter: "(本文发表于…, 已被阅读178次)"; an ad slot's label
    r"已被(?:阅读|閱讀|浏览|瀏覽)\s*\d+\s*次|^(?:广告|廣告|advertisement)$|"
    r"更多(?:内容|精彩|资讯|資訊)[，,\s]*(?:请|請)(?:继续|繼續)?(?:关注|關注)|"
    r"^(?:相关新闻|相關新聞|相关阅读|相關閱讀|推荐阅读|推薦閱讀|延伸阅读|延伸閱讀|热门推荐|"
    r"熱門推薦|更多新闻|更多新聞|猜你喜欢|猜你喜歡|热点新闻|熱點新聞|网友评论|網友評論|"
    r"热门评论|熱門評論|论坛|論壇|相关文章|相關文章|精彩推荐|精彩推薦|今日推荐|今日推薦)\s*[:：]?\s*$",
    re.IGNORECASE)
_COMMENTS_HEADING = re.compile(
    r"^(?:发表意见|發表意見|留言规则|留言規則|我要留言|发表评论|發表評論|网友评论|網友評論|"
    r"读者评论|讀者評論|评论区|評論區|留言板|网友留言|網友留言|comments?)\s*[:：]?\s*$",
    re.IGNORECASE)
# Lines after which the article is over.
_END_MARKERS = re.compile(
    r"^[(（【\[]?\s*(?:责任编辑|責任編輯|责编|責編)\s*[:：]|"
    r"^(?:相关新闻|相關新聞|相关阅读|相關閱讀|推荐阅读|推薦閱讀|延伸阅读|延伸閱讀|热门推荐|"
    r"熱門推薦|猜你喜欢|猜你喜歡|相关文章|相關文章|网友评论|網友評論|热门评论|熱門評論|"
    r"精彩推荐|精彩推薦|更多新闻|更多新聞|相关链接|相關鏈接|上一篇|下一篇|延伸推荐|延伸推薦|"
    r"相关推荐|相關推薦|正文已结束|正文已結束|正文完)\s*[:：]?|"
    r"^(?:评论|評論|留言|网友留言|網友留言|发表评论|發表評論|我来说两句|我要评论|我要評論|全部评论|"
    r"全部評論|最新评论|最新評論|相关评论|相關評論|comments?|回复|回覆|读者回应|讀者回應)"
    r"\s*[(（]?\s*\d*\s*[)）]?\s*[:：]?\s*$|发表评论|發表評論|我来说两句|我來說兩句|"
    # "《…》已有1件评论", "本文通告引用(Trackback)链接": the comments start here
    r"已有\s*\d+\s*[件条條个個篇则則]?\s*(?:评论|評論|回复|回覆|留言)|trackback|"
    # a legal notice's heading: what follows is the site's, not the article's
    r"^(?:反侵权公告|反侵權公告|版权声明|版權聲明|免责声明|免責聲明|法律声明|法律聲明|郑重声明|鄭重聲明|"
    r"版权说明|版權說明|侵权举报|侵權舉報)\s*[:：]?\s*$",
    re.IGNORECASE)


_SPACERS = re.compile(r"[\s·•・|｜/]+")
_BUTTON = re.compile(r"[【\[]?(?:打印|列印|关闭|關閉|收藏|分享|评论|評論|纠错|糾錯|推荐|推薦|返回|"
                     r"顶部|頂部|顶|頂|踩|赞|讚|举报|舉報|复制链接|複製連結|转发|轉發|关注|關注|"
                     r"大|中|小|字号|字號|放大|缩小|縮小)[】\]]?")
_BARS = re.compile(r"[|｜]")
_SENTENCE_PUNCT = re.compile(r"[，。！？；,!?;]")
_SENTENCE_END = re.compile(r"[。！？!?]")

# Clutter (in negative weight) after which further prose counts half.
_PROSE = 40.0  # clutter is counted from the first block this good
_JUNK_HALF = 400.0
_SHORT_TEXT_FLOOR = -10.0


@dataclass(frozen=True, slots=True)
class BodyRegion:
    """The chosen body container and its paragraphs (still including meta lines)."""

    node: HtmlElement | None
    blocks: list[Block]
    score: float


def block_weight(block: Block) -> float:
    """How much a block looks like article prose (>0) or page furniture (<0)."""
    if block.link_density > 0.5:
        return -0.7 * block.chars - 4.0
    text_chars = block.chars - block.link_chars
    weight = text_chars + 7.0 * min(block.punct, text_chars / 8 + 1) - 25.0 - block.link_chars
    if block.tag in HEADING_TAGS:
        return min(weight, 5.0)
    if block.chars < 120 and is_furniture_line(block):
        return -20.0
    if block.link_chars == 0:
        # a short plain-text line (poster-style articles break every clause) is weak
        # evidence, not clutter; menus and link lists are penalised above
        return max(weight, _SHORT_TEXT_FLOOR)
    return weight


def find_body(blocks: list[Block], container: HtmlElement | None = None,
              widen: bool = False) -> BodyRegion:
    """The best-scoring element and the blocks inside it, in reading order.

    Prose that follows a lot of clutter (share bars, link lists, "recommended"
    boxes) counts for less: the article starts soon after its headline, while
    comment rules and teasers further down are separated from it by furniture.
    With ``widen``, a winner holding only a sliver of its ancestor's prose gives
    way to that ancestor (see :func:`_widen`).
    """
    if not blocks:
        return BodyRegion(None, [], 0.0)
    scores: dict[HtmlElement, float] = {}
    tally = _Tally()
    junk = 0.0
    seen_prose = False
    in_comments = False
    for block in blocks:
        weight = block_weight(block)
        if seen_prose and not in_comments and block.chars < 20 \
                and _COMMENTS_HEADING.search(block.text):
            in_comments = True  # readers' comments and their rules are not the article
        if in_comments and weight > 0:
            weight = 0.0
        if widen:
            tally.add(block, weight)
        if weight < 0:
            if seen_prose:
                junk -= weight
        elif weight > 0:
            seen_prose = seen_prose or weight >= _PROSE
            weight /= 1.0 + junk / _JUNK_HALF
        else:
            continue
        owner = block.owner
        scores[owner] = scores.get(owner, 0.0) + weight
        for ancestor in owner.iterancestors():
            scores[ancestor] = scores.get(ancestor, 0.0) + weight
    if container is not None:
        best, best_score = container, scores.get(container, 0.0)
    else:
        best, best_score = max(scores.items(), key=lambda item: item[1],
                               default=(None, 0.0))
    if best is None:
        return BodyRegion(None, [], 0.0)
    if widen and container is None:
        best = tally.widen(best)
    inside = set(best.iter())
    return BodyRegion(best, [b for b in blocks if b.owner in inside], best_score)


_WIDEN_SHARE = 4.0  # the ancestor holds this many times the winner's prose...
_WIDEN_LINKS = 0.3  # ...and is not a link list (navigation, a portal page)


class _Tally:
    """Undiscounted prose weight, characters and link characters per element.

    The clutter discount of :func:`find_body` protects the article from the comments
    and teasers below it, but it also starves a long text broken up by tables (an
    infobox, a data table, a schedule): a box of notes above such a text can then
    outscore it. The tally lets the winner be checked against its ancestors.

    Only the winner's ancestors are ever asked about, so :meth:`add` just notes each
    block's weight and :meth:`widen` sums for that one chain of elements: walking every
    block's ancestors up front cost more than the rest of :func:`find_body`.
    """

    def __init__(self) -> None:
        self._weighed: list[tuple[Block, float]] = []

    def add(self, block: Block, weight: float) -> None:
        self._weighed.append((block, weight))

    def widen(self, best: HtmlElement) -> HtmlElement:
        """The nearest ancestor of ``best`` (below ``<body>``) holding several times its
        prose without being a link list; ``best`` itself when there is none."""
        chain = [best]
        for ancestor in best.iterancestors():
            if ancestor.tag in ("body", "html"):
                break
            chain.append(ancestor)
        if len(chain) == 1:
            return best
        # Per block, the lowest chain element holding it; that element and all above it
        # count the block. Weights over 0 are multiples of 1/8 (see block_weight), so
        # these sums are exact whatever order they are added in.
        level = {element: position for position, element in enumerate(chain)}
        prose = [0.0] * len(chain)
        chars = [0] * len(chain)
        links = [0] * len(chain)
        for block, weight in self._weighed:
            position = _lowest_in(block.owner, level)
            if position < 0:
                continue
            if weight > 0:
                prose[position] += weight
            chars[position] += block.chars
            links[position] += block.link_chars
        held_prose, held_chars, held_links = prose[0], chars[0], links[0]
        floor = _WIDEN_SHARE * held_prose
        for position in range(1, len(chain)):
            held_prose += prose[position]
            held_chars += chars[position]
            held_links += links[position]
            if held_prose >= floor and held_chars \
                    and held_links <= _WIDEN_LINKS * held_chars:
                return chain[position]
        return best


def _lowest_in(element: HtmlElement, level: dict[HtmlElement, int]) -> int:
    """The position in ``level`` of ``element`` or its nearest ancestor there; -1 when
    none is. Elements passed on the way are added to ``level`` (as that position), so
    each element of the page is climbed through at most once."""
    passed: list[HtmlElement] = []
    node: HtmlElement | None = element
    position = -1
    while node is not None:
        found = level.get(node)
        if found is not None:
            position = found
            break
        passed.append(node)
        node = node.getparent()
    for node in passed:
        level[node] = position
    return position


_PROSE_SENTENCES = 2  # a block with this many full sentences...
_PROSE_CHARS = 80  # ...and this long is running text
_PHRASE_LEAD = 8  # a furniture phrase starting past this offset is inside a sentence


# Block.furniture: no furniture phrase; one phrase inside running text; furniture.
_NO_PHRASE, _PHRASE_IN_PROSE, _FURNITURE = 0, 1, 2


def is_furniture_line(block: Block) -> bool:
    """A line that names site furniture ("版权所有", "分享到", "责任编辑：").

    In running text the same words can be the story's own ("…需获得版权所有者的许可。"):
    a block of several sentences with one such phrase, not at its start (a disclaimer,
    "原标题：…" open with theirs), is prose. A footer piles them up ("Copyright ©
    … All Rights Reserved … Powered by")."""
    kind = block.furniture
    if kind < 0:
        kind = block.furniture = _furniture_kind(block)
    if kind == _PHRASE_IN_PROSE:
        return not enabled("prose_not_furniture")
    return kind == _FURNITURE


def _furniture_kind(block: Block) -> int:
    """What the phrases say of the text alone (the rule switch is applied by the
    caller, so the answer can be kept on the block)."""
    first = _BOILERPLATE.search(block.text)
    if first is None:
        return _NO_PHRASE
    if first.start() <= _PHRASE_LEAD or not _is_prose(block) \
            or _BOILERPLATE.search(block.text, first.end()) is not None:
        return _FURNITURE
    return _PHRASE_IN_PROSE


def _is_prose(block: Block) -> bool:
    return block.chars >= _PROSE_CHARS \
        and len(_SENTENCE_END.findall(block.text)) >= _PROSE_SENTENCES


def is_boilerplate(block: Block) -> bool:
    """Furniture inside the body container: link lists, known site lines, rows of
    buttons ("打印 关闭") and bar-separated tag or menu rows."""
    if block.link_density > 0.5 and not (block.chars > 150 and block.punct > 5):
        return True
    if block.chars >= 160:
        return False
    if is_furniture_line(block):
        return True
    tokens = block.text.split()
    if block.chars <= 24 and tokens and all(_BUTTON.fullmatch(t) for t in tokens):
        return True
    return block.chars < 80 and len(_BARS.findall(block.text)) >= 3 \
        and not _SENTENCE_PUNCT.search(block.text)


def is_end_marker(block: Block) -> bool:
    """A line after which only related links, comments and credits follow
    (spacing dots and bars ignored: "延伸 · 推荐")."""
    if block.chars >= 60:
        return False
    return bool(_END_MARKERS.search(block.text)
                or _END_MARKERS.search(_SPACERS.sub("", block.text)))


_CAPTION_HINT = re.compile(r"(?:^|[\s_-])(?:caption|photo|pic|img|image|figure|tupian|zhaopian)",
                           re.IGNORECASE)
_CAPTION_CREDIT = re.compile(
    r"(?:資料圖片|资料图片|資料照片|资料照片|圖片|图片|照片|[攝摄]|提供|(?:圖|图)\s*[／/:：]\s*\S{1,12}|"
    r"(?:圖|图)\s*[(（]\S{1,12}[)）]|Photo\S*)\s*[)）]?\s*$", re.IGNORECASE)


# "（港台圖片）", "（圖片擷取自每日郵報）", "（中央社記者姜遠珍仁川富平傳真 102年6月29日）":
# a bracketed picture credit closing a line says the line describes a picture.
_PICTURE_CREDIT = re.compile(
    r"[(（][^()（）]{0,24}(?:圖片|图片|照片|相片|[攝摄]|傳真|传真|供[圖图]|翻[攝摄])"
    r"[^()（）]{0,16}[)）]\s*$")


def is_caption(block: Block, at_edge: bool = False) -> bool:
    """A photo caption: in a figure/caption element, marked ▲/▼, closed by a bracketed
    picture credit, or (above or below the text) ending in a photo credit. Other mid-article
    credited lines stay: editors often write them as paragraphs of the story."""
    if block.chars >= 200:
        return False
    if block.text.startswith(("▲", "▼", "△", "▽")):
        return True
    if block.chars < 120 and _PICTURE_CREDIT.search(block.text):
        return True
    if at_edge and _CAPTION_CREDIT.search(block.text):
        return True
    for element in _owner_and_parents(block, 3):
        if element.tag in ("figure", "figcaption"):
            return True
        hint = f"{element.get('class', '')} {element.get('id', '')}"
        if hint.strip() and _CAPTION_HINT.search(hint) and block.chars < 150:
            return True
    return False


def _owner_and_parents(block: Block, levels: int) -> Iterator[HtmlElement]:
    """The block's element and its ancestors, ``levels`` elements at most."""
    return islice(chain((block.owner,), block.owner.iterancestors()), levels)


_DECK_HINT = re.compile(r"(?:^|[\s_-])(?:lead|summary|abstract|standfirst|deck|dek|intro|digest|"
                        r"zhaiyao|daoyu|subtitle|sub-title|subhead)", re.IGNORECASE)


def is_deck(block: Block) -> bool:
    """A standfirst / summary line above the text, marked so by its element's class."""
    if block.chars >= 100:
        return False
    return any(_DECK_HINT.search(f"{element.get('class', '')} {element.get('id', '')}")
               for element in _owner_and_parents(block, 2))


_TEASER_END = re.compile(r"(?:\.\.\.|…|⋯)\s*(?:全文|詳細|详细|更多|more)?\s*$", re.IGNORECASE)


def looks_like_list(scanned: list[Block], paragraphs: list[Block]) -> bool:
    """Repeated "headline, then teaser" items, or mostly truncated teasers: a list page."""
    if not paragraphs:
        return False
    prose = [b for b in paragraphs if block_weight(b) > 40]
    items = 0
    for position, block in enumerate(scanned):
        # list items are headline *links*; an article's subheadings are plain text
        if block.link_density > 0.8 and 6 <= block.chars <= 60 and any(
                block_weight(b) > 40 for b in scanned[position + 1:position + 3]):
            items += 1
    if items >= 4 and items * 2 >= len(prose):
        return True
    teasers = sum(1 for b in prose if _TEASER_END.search(b.text))
    return teasers >= 3 and teasers * 3 >= len(prose)
