"""The Chinese byline grammar, in Simplified and Traditional script.

News pages name their people in a short metadata line near the headline or at the
end of the body: ``来源：新华网 作者：王明 责任编辑：李四``, ``（记者 王明 通讯员 李四）``,
``【王家俊／台北報導】``, ``（中央社記者楊思瑞台南4日電）``, ``□ 本报记者 葛灵丹``,
``(责编：萧潇、张妍)``. This module reads such lines into source / author / editor /
tags. Labels split a line into fields; a label without a colon only counts when the
name after it is short and ends at a boundary, so body sentences such as
"记者从市教育局获悉" are not read as bylines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_HAN = "\u3400-\u9fff\uf900-\ufaff"
_NAME_CHARS = rf"[{_HAN}·•A-Za-z]"

_LABELS: dict[str, tuple[str, ...]] = {
    "source": ("文章来源", "文章來源", "信息来源", "信息來源", "消息来源", "消息來源", "新闻来源",
               "新聞來源", "本文来源", "本文來源", "稿件来源", "稿件來源", "来源", "來源", "稿源",
               "出处", "出處", "转自", "轉自", "转载自", "轉載自", "出自"),
    "editor": ("责任编辑", "責任編輯", "责任编缉", "值班编辑", "值班編輯", "实习编辑", "實習編輯",
               "编辑", "編輯", "责编", "責編", "主编", "主編", "编审", "編審", "审核", "審核",
               "校对", "校對", "审校", "審校", "监制", "監製"),
    "author": ("作者", "作　者", "记者", "記者", "撰文", "撰稿", "通讯员", "通訊員",
               "发布者", "發布者", "發佈者", "发布人", "發布人", "发帖人", "發帖人", "楼主",
               "樓主", "博主", "原作者", "口述", "文／", "文/", "撰稿人", "供稿", "实习生",
               "實習生"),
    "tags": ("标签", "標簽", "標籤", "关键词", "關鍵詞", "关键字", "關鍵字", "Tags", "TAG", "tags"),
    "time": ("发布时间", "發布時間", "發佈時間", "发表时间", "發表時間", "更新时间", "更新時間",
             "时间", "時間", "日期", "发表于", "發表於", "发布于", "發布於", "发布日期", "發布日期",
             "刊登日期", "出版日期", "录入时间", "錄入時間", "上传时间"),
    "stop": ("点击", "點擊", "阅读", "閱讀", "浏览", "瀏覽", "字号", "字號", "字体", "字體",
             "评论", "評論", "分享", "打印", "列印", "收藏", "人气", "人氣", "访问", "訪問",
             "摄影", "攝影", "图片", "圖片", "热度", "熱度", "次数", "次數", "发布", "发表",
             "所属", "所屬", "栏目", "欄目", "频道", "頻道", "摄", "攝", "版次", "作者简介",
             "作者簡介", "联系作者", "聯繫作者", "相关", "相關"),
}
_LABEL_KIND = {label: kind for kind, labels in _LABELS.items() for label in labels}
_LABEL_RE = re.compile(
    r"(?:本报|本報|本台|本网|本網|新华社|新華社|中新社|特约|特約|实习|實習|首席|驻\w{1,3}|駐\w{1,3})?"
    r"(" + "|".join(sorted((re.escape(x) for x in _LABEL_KIND), key=len, reverse=True)) + r")"
    r"(\s*[:：]\s*|\s*[/／]\s*|\s+|(?=[" + _HAN + r"]))")

# 【王家俊／台北報導】, 記者李欣芳／台北報導, 記者施曉光、吳亮儀／台北報導, 張立勳／特稿
_SLASH = "[／/╱]"
_OUTLET = (rf"[{_HAN}A-Za-z]{{1,8}}?(?:日報|日报|晚報|晚报|時報|时报|早報|早报|商報|商报|報|报|"
           r"通訊社|通讯社|社|新聞網|新闻网|網|网|電台|电台|電視|电视|廣播|广播|週刊|周刊)")
_REPORTED = re.compile(
    rf"(?:({_OUTLET})\s+)?(?:記者|记者)?\s*((?:{_NAME_CHARS}{{2,4}}\s*[、，,]\s*)*{_NAME_CHARS}{{2,4}})"
    rf"\s*{_SLASH}\s*(?:綜合|综合)?[{_HAN}]{{0,8}}?(?:\d{{1,2}}\s*日)?\s*"
    r"(?:報導|报道|報道|電|电|外電|編譯|编译|專電|专电|特稿|專訪|专访)")
# Blogs and forums: "由海姑娘张贴 @ …", "本贴由 大卫 于2005年…", "ggjjzhzz 发表于 2005-9-15"
_POSTED_BY = re.compile(
    r"(?:^|[\s|｜贴帖])由\s*([^\s|｜@()（）\[\]【】]{2,20}?)\s*"
    r"(?:张贴|張貼|发表|發表|发布|發布|于|於|@)"
    r"|^([^\s|｜@:：()（）\[\]【】]{2,20})\s*(?:发表于|發表於|发表在|發表在|发布于|發佈於|posted\b)",
    re.IGNORECASE)
# Names that are desks, channels or organisations, not people.
_NOT_A_PERSON = re.compile(
    r"(?:中心|小組|小组|編輯部|编辑部|新聞|新闻|頻道|频道|網絡|网络|出版社|期刊|公司|集團|集团|"
    r"簡介|简介|攝|摄|提供|報導|报道|[報报社網网台])$")
# （中央社記者楊思瑞台南4日電）, 新华社北京4月24日电（记者 王明）
_WIRE = re.compile(rf"(?:記者|记者)\s*([{_HAN}]{{2,3}}?)\s*[{_HAN}]{{2}}\s*\d{{1,2}}\s*日\s*[電电]")
_PAREN_NAMES = re.compile(
    rf"^[(（【\[]\s*((?:{_NAME_CHARS}{{2,4}}[\s、，,]+){{0,5}}{_NAME_CHARS}{{2,4}})\s*[)）】\]]$")
_AGENCY = re.compile(
    r"^[(（【\[]?\s*(新华社|新華社|中新社|中新网|中新網|中央社|美联社|美聯社|路透社|法新社|共同社|"
    r"人民网|人民網|新华网|新華網|央视网|央視網|大公报|大公報|文汇报|文匯報)")
_ROLE_PREFIX = re.compile(
    r"^(?:本报|本報|本台|本网|本網)?(?:记者|記者|通讯员|通訊員|实习生|實習生)\s*")
_NAME = re.compile(rf"[{_HAN}]{{2,5}}|[A-Za-z][\w.&·•\- ]{{0,30}}|{_NAME_CHARS}[\w&·•]{{1,15}}")
_PLACE_REPORT = re.compile(r"(?:报道|報導|報道|电|電)\s*$")
_CREDIT_SUFFIX = re.compile(r"\s*[/／]\s*(?:文|图|圖|摄|攝|编|編)(?=\s|$).*$")
_NOT_NAMES = frozenset({"推薦", "推荐", "本文", "本帖", "本贴", "简介", "簡介", "精选", "精選",
                        "排行", "更多", "热门", "熱門", "专栏", "專欄", "团队", "團隊", "部落格",
                        "博客", "首页", "首頁", "登录", "登入", "注册", "註冊"})
_TRAILING_NOISE = re.compile(r"[\s\-—_|｜·•:：,，;；.。)\]）】>》»]+$")
_LEADING_NOISE = re.compile(r"^[\s\-—_|｜·•:：,，;；\[（(【<《«]+")
_DATEISH = re.compile(r"\d{2,4}\s*[-/年.]\s*\d{1,2}|\d{1,2}:\d{2}|\d{4}")


@dataclass
class Byline:
    """Fields read from one or more metadata lines (empty when not found)."""

    source: str | None = None
    author: str | None = None
    editor: str | None = None
    tags: list[str] = field(default_factory=list)
    labelled: bool = False  # the line carried at least one label (it is metadata, not body)

    def merge(self, other: Byline) -> None:
        """Fill the fields still empty from ``other``."""
        self.source = self.source or other.source
        self.author = self.author or other.author
        self.editor = self.editor or other.editor
        if not self.tags:
            self.tags = list(other.tags)
        self.labelled = self.labelled or other.labelled


def parse_byline(line: str) -> Byline:
    """Read source / author / editor / tags from one short metadata line."""
    result = Byline()
    text = line.replace("\u00a0", " ").replace("\u3000", " ").strip()
    if not text:
        return result
    matches = [m for m in _LABEL_RE.finditer(text) if _label_ok(text, m)]
    for index, match in enumerate(matches):
        kind = _LABEL_KIND[match.group(1)]
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        value = text[match.end():end]
        colon = bool(re.search(r"[:：/／]", match.group(2)))
        _assign(result, kind, value, colon)
        if kind != "stop":
            result.labelled = True
    if result.author is None:
        result.author = reporter_names(text)
        result.labelled = result.labelled or result.author is not None
    return result


def reporter_names(text: str) -> str | None:
    """Names from the wire-style bylines (``王家俊／台北報導``, ``中央社記者楊思瑞台南4日電``)."""
    head = text[:80]
    match = _REPORTED.search(head)
    if match:
        return _join_names(re.split(r"\s*[、，,]\s*", match.group(2)))
    match = _WIRE.search(head)
    if match:
        return _join_names([match.group(1)])
    match = _POSTED_BY.search(head)
    if match:
        return _join_names([match.group(1) or match.group(2)])
    return None


def reporter_outlet(text: str) -> str | None:
    """The outlet written before a reporter's name (``中國時報 張立勳／特稿``)."""
    match = _REPORTED.search(text[:80])
    return match.group(1) if match and match.group(1) else None


def bracketed_names(line: str) -> str | None:
    """A line that is only names in brackets, e.g. ``（常书香 马丹阳）`` ending an article."""
    match = _PAREN_NAMES.match(line.strip())
    if match is None:
        return None
    names = [n for n in re.split(r"[\s、，,]+", match.group(1)) if n]
    if any(_LABEL_RE.search(n) for n in names):
        return None
    return _join_names(names)


def agency_in(line: str) -> str | None:
    """A news agency opening a dateline (``新华社北京4月24日电``)."""
    match = _AGENCY.match(line.strip())
    return match.group(1) if match else None


def _label_ok(text: str, match: re.Match[str]) -> bool:
    """A label must start a field: at the line start or after a separator."""
    start = match.start()
    if start == 0:
        return True
    before = text[start - 1]
    if before in " \t|｜/／:：,，;；()（）[]【】<>《》〔〕-—_·•□■◆":
        return True
    if before.isdigit():  # "2020-01-13 08:46來源:" glued to a time
        return True
    # "新华网记者王明": an outlet directly before 记者 is common; allow for author labels.
    return _LABEL_KIND[match.group(1)] == "author" and match.group(1) in ("记者", "記者")


def _assign(result: Byline, kind: str, value: str, colon: bool) -> None:
    if kind in ("stop", "time"):
        return
    if kind == "tags":
        tags = [t for t in re.split(r"[\s,，、;；|｜/]+", _clean_value(value)) if t]
        if tags and not result.tags:
            result.tags = tags[:10]
        return
    cleaned = _clean_value(value)
    if not cleaned:
        return
    if kind == "author" and re.match(r"\S{1,6}?(?:攝|摄|翻攝|翻摄)(?:影)?(?:$|\s|[)）])", cleaned):
        return  # （記者方賓照攝）credits a photo, not the text
    if kind == "source":
        cleaned = _cut_at_space(cleaned) if len(cleaned) > 20 else cleaned
        if _plausible_source(cleaned) and result.source is None:
            result.source = cleaned
        return
    names = _names(cleaned, colon)
    if names is None:
        return
    if kind == "author":
        result.author = names if result.author is None else f"{result.author} {names}"
    elif kind == "editor" and result.editor is None:
        result.editor = names


def _clean_value(value: str) -> str:
    value = _DATEISH.split(value, maxsplit=1)[0]
    value = _CREDIT_SUFFIX.sub("", value)
    value = re.split(r"[|｜\[\]【】<>《》]|\s{3,}", value, maxsplit=1)[0]
    value = _TRAILING_NOISE.sub("", _LEADING_NOISE.sub("", value))
    return value.strip()


def _cut_at_space(value: str) -> str:
    return value.split(" ", 1)[0]


def _plausible_source(value: str) -> bool:
    return 1 < len(value) <= 30 and not value.startswith(("http", "www"))


def _names(value: str, colon: bool) -> str | None:
    """Person names from a field value; stricter when no colon introduced it."""
    value = _ROLE_PREFIX.sub("", value)
    parts = [p for p in re.split(r"\s*[、，,;；]\s*|\s+", value) if p]
    if not parts:
        return None
    if not colon:
        # without a colon only short names are believable: "记者 彭冲 山东冠县报道"
        leading = []
        for part in parts[:4]:
            if not re.fullmatch(rf"{_NAME_CHARS}{{2,4}}", part):
                break
            leading.append(part)
        if not leading or (len(leading) < len(parts) and not _PLACE_REPORT.search(value)):
            return None
        parts = leading
    kept: list[str] = []
    for part in parts[:8]:
        if _NAME.fullmatch(part):
            kept.append(part)
        elif kept:
            break
        else:
            return None
    return _join_names(kept) if kept else None


def _join_names(names: list[str]) -> str | None:
    names = [n.strip() for n in names if n.strip() and not _NOT_A_PERSON.search(n.strip())
             and n.strip() not in _NOT_NAMES]
    return " ".join(dict.fromkeys(names)) if names else None


_DATE_RUN = re.compile(
    r"\d{2,4}\s*[-/年.]\s*\d{1,2}\s*[-/月.]\s*\d{1,2}\s*[日号]?\s*(?:\d{1,2}[:：]\d{2}(?:[:：]\d{2})?)?")


def unlabelled_source(line: str) -> str | None:
    """The outlet in an unlabelled ``TNW中文站2016年10月14日07:17`` line under a headline."""
    match = _DATE_RUN.search(line)
    if match is None or len(line) > 60:
        return None
    rest = (line[:match.start()] + " " + line[match.end():]).strip(" |｜\u3000")
    if _LABEL_RE.search(rest) or not re.fullmatch(rf"[{_HAN}A-Za-z][{_HAN}A-Za-z0-9 ·]{{1,15}}",
                                                  rest):
        return None
    if re.search(r"\d", rest) or " " in rest.strip():
        return None
    return rest.strip()


def is_outlet_name(line: str) -> bool:
    """A line that is only a newspaper / agency / site name (``中國時報``)."""
    return bool(re.fullmatch(_OUTLET, line.strip())) and len(line.strip()) <= 8


_TRAILING_CREDIT = re.compile(
    rf"[(（]\s*(?:(?:特约|特約|本报|本報)?(?:评论员|評論員|通讯员|通訊員|记者|記者)\s*)?"
    rf"((?:[{_HAN}]{{2,4}}\s+){{0,4}}[{_HAN}]{{2,4}})\s*[)）]\s*$")
_NOT_CREDIT = re.compile(
    r"完|記者|记者|图|圖|摄|攝|新华社|新華社|中新社|中央社|综合|綜合|报道|報導|评论员|評論員")
_NAMES_LINE = re.compile(rf"(?:[{_HAN}]{{2,3}}\s*[、，,\s]\s*){{1,5}}[{_HAN}]{{2,3}}")
_BRACKETED_NAME = re.compile(rf"[\[［]\s*([{_HAN}]{{2,4}})\s*[\]］]")


def trailing_credit(paragraph: str) -> str | None:
    """Reporter names closing the last paragraph: ``…佳节。（常书香 马丹阳 ）``."""
    match = _TRAILING_CREDIT.search(paragraph[-40:])
    if match is None or _NOT_CREDIT.search(match.group(1)):
        return None
    return _join_names(match.group(1).split())


def names_line(line: str) -> str | None:
    """A line under a headline that is only names: ``赵延东、风笑天``."""
    text = line.strip()
    if len(text) > 24 or not _NAMES_LINE.fullmatch(text):
        return None
    return _join_names(re.split(r"\s*[、，,\s]\s*", text))


def bracketed_name_beside_date(line: str) -> str | None:
    """``2004年7月16日08:19 [ 黄宇 ] 来源：…``: a lone bracketed name in the dateline."""
    if _DATE_RUN.search(line) is None:
        return None
    match = _BRACKETED_NAME.search(line)
    return _join_names([match.group(1)]) if match else None


def person_like_source(source: str) -> bool:
    """A 来源 value that is a person's name (old portals put the writer there)."""
    return bool(re.fullmatch(rf"[{_HAN}]{{2,3}}", source)) and not _NOT_A_PERSON.search(source) \
        and not re.search(r"[網网刊站台社报報]$", source)


def outlet_and_reporter(line: str) -> tuple[str, str] | None:
    """``中廣 溫蘭魁 2013/06/29 18:24``: an outlet and a reporter beside the date."""
    match = _DATE_RUN.search(line)
    if match is None or len(line) > 60:
        return None
    rest = (line[:match.start()] + " " + line[match.end():]).split()
    if len(rest) != 2 or _LABEL_RE.search(" ".join(rest)):
        return None
    outlet, person = rest
    if not re.fullmatch(rf"[{_HAN}A-Za-z]{{2,10}}", outlet) or _NOT_A_PERSON.search(person) \
            or not re.fullmatch(rf"[{_HAN}]{{2,4}}", person) or outlet in _NOT_NAMES:
        return None
    return outlet, person


def is_dateline(line: str) -> bool:
    """``地方中心／桃園報導``, ``（中央社記者楊思瑞台南4日電）``: a reporting credit line."""
    head = line.strip()[:40]
    return bool(_REPORTED.match(head.lstrip("【〔[（(")) or _WIRE.search(head))
