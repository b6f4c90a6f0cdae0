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
    "source": ("来源于", "來源於", "来源自", "來源自",
               "文章来源", "文章來源", "信息来源", "信息來源", "消息来源", "消息來源", "新闻来源",
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
    # production credits closing feature articles (出品︱网易科学人栏目组): metadata,
    # but no field of ours
    "credit": ("出品", "策划", "策劃", "统筹", "統籌", "制作", "製作", "设计", "設計", "视觉",
               "視覺", "摄像", "攝像", "配音", "剪辑", "剪輯", "排版", "美编", "美編"),
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
    r"(\s*[:：︰]\s*|\s*[/／︱丨｜|]\s*|\s+|(?=[" + _HAN + r"]))")

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
    r"簡介|简介|攝|摄|提供|報導|报道|管理员|管理員|文章|[報报社網网台讯訊])$"
    # a brand's channel: 新浪科技, 腾讯财经 (a person's name is too short to end so)
    r"|^.{2,}(?:科技|财经|財經|体育|體育|娱乐|娛樂|汽车|汽車|时尚|時尚|房产|房產|军事|軍事|"
    r"数码|數碼|游戏|遊戲|视频|視頻|图片|圖片|客户端|客戶端)$")
# （中央社記者楊思瑞台南4日電）, 新华社北京4月24日电（记者 王明）
_WIRE = re.compile(rf"(?:記者|记者)\s*([{_HAN}]{{2,3}}?)\s*[{_HAN}]{{2}}\s*\d{{1,2}}\s*日\s*[電电]")
_PAREN_NAMES = re.compile(
    rf"^[(（【\[]\s*((?:{_NAME_CHARS}{{2,4}}[\s、，,]+){{0,5}}{_NAME_CHARS}{{2,4}})\s*[)）】\]]$")
# The outlet opening a dateline: a news agency (…社) before its reporter or place, or any
# outlet before a place, a date and 电/讯 ("人民网北京1月13日电"). Not "本报" (this paper).
_AGENCY = re.compile(
    r"^[(（【\[]?\s*(?:据|據)?\s*(?![本该該此其这這我])"
    rf"(?:([{_HAN}]{{1,4}}社)(?=\s*(?:[{_HAN}]{{2,8}}\s*\d{{1,2}}\s*月|记者|記者|报道|報道|報導"
    r"|[讯訊电電])(?![话話]))"
    rf"|([{_HAN}A-Za-z]{{2,8}}?(?:通讯社|通訊社|网|網|报|報|台))(?=[讯訊](?![号號])|\s*[{_HAN}]{{0,8}}?\s*"
    r"\d{1,2}\s*月\s*\d{1,2}\s*日\s*(?:电|電|讯|訊|专电|專電)))")
_ROLE_PREFIX = re.compile(
    r"^(?:本报|本報|本台|本网|本網)?(?:记者|記者|通讯员|通訊員|实习生|實習生)\s*")
# A person's name is short: 2-5 hanzi, a transliteration joined with "·", a Latin
# name, or a user name mixing scripts ("化成雨_NBJ11143"). Six or more hanzi in a
# row are a title or an organisation ("方敏北京大学经济学院教授", "维基媒体项目贡献者").
_NAME = re.compile(rf"[{_HAN}]{{2,5}}|[{_HAN}]{{1,8}}(?:[·•][{_HAN}]{{1,8}}){{1,3}}"
                   rf"|[A-Za-z][\w.&·•\- ]{{0,30}}"
                   rf"|(?=\S*[A-Za-z0-9_&])(?!\d+$){_NAME_CHARS}[\w&·•]{{1,19}}")
_NAME_LIST = re.compile(rf"(?:{_NAME_CHARS}{{2,4}}[\s、]*)+")
# Words of a sentence, never of a name: "记者采访时称", "记者了解到".
_NOT_NAME_WORD = re.compile(r"采访|採訪|获悉|獲悉|了解|瞭解|表示|介绍|介紹|透露|指出|告诉|告訴|"
                            r"发现|發現|看到|注意到|走访|走訪|调查|調查|整理|编译|編譯")
# ...and single characters that make an unlabelled run of hanzi a clause (a nickname
# after "编辑：" may hold them: 棒棒不是糖)
_NOT_NAME_CHAR = re.compile(r"[称稱说說的了是在被把]")
# Interface words printed next to a byline value ("来源：人民网 我要评论 字号：大 中 小"):
# a value ends before the first whitespace-separated token holding one.
_UI_WORD = re.compile(r"评论|評論|留言|分享|打印|列印|收藏|字号|字號|字体|字體|纠错|糾錯|推荐|推薦|"
                      r"关闭|關閉|订阅|訂閱|关注|關注|举报|舉報|复制|複製|返回|转发|轉發|点赞|點讚|"
                      r"阅读|閱讀|浏览|瀏覽|投稿|登录|登入|注册|註冊|手机|手機|扫码|掃碼|大\s*中\s*小")
_PLACE_REPORT = re.compile(r"(?:报道|報導|報道|电|電)\s*$")
# "马俊峰/文", "王明/文 受访者供图": the role after the slash ends the name
_CREDIT_SUFFIX = re.compile(r"\s*[/／]\s*(?:文|图|圖|摄|攝|编|編)"
                            r"(?=\s|$|受访|受訪|供[图圖]|[图圖摄攝]).*$")
_NOT_NAMES = frozenset({"推薦", "推荐", "本文", "本帖", "本贴", "简介", "簡介", "精选", "精選",
                        "排行", "更多", "热门", "熱門", "专栏", "專欄", "团队", "團隊", "部落格",
                        "博客", "首页", "首頁", "登录", "登入", "注册", "註冊",
                        # what 来源/作者 say when there is no one to name
                        "佚名", "匿名", "未知", "不详", "不詳", "原创", "原創", "转载", "轉載",
                        "综合", "綜合", "网友", "網友", "投稿", "本站", "本网", "本網", "互联网",
                        "互聯網", "管理员", "管理員", "admin", "webmaster",
                        # channel names printed next to dates
                        "国内", "國內", "国际", "國際", "社会", "社會", "财经", "財經", "体育",
                        "體育", "娱乐", "娛樂", "科技", "评论", "評論", "时政", "時政", "要闻",
                        "要聞", "正文", "资讯", "資訊", "新闻", "新聞",
                        # template placeholders left in meta tags
                        "name", "author", "editor", "none", "null", "undefined", "unknown"})
# The commonest family names (Simplified and Traditional): a 2-3 hanzi value written
# where an outlet is expected is taken for a person only when it starts with one.
_SURNAMES = frozenset(
    "王李张張刘劉陈陳杨楊黄黃赵趙吴吳周徐孙孫马馬朱胡郭何高林罗羅郑鄭梁谢謝宋唐许許韩韓冯馮"
    "邓鄧曹彭曾肖萧蕭田董袁潘于蒋蔣蔡余杜叶葉程苏蘇魏吕呂丁任沈姚卢盧姜崔钟鍾谭譚陆陸汪范"
    "範金石廖贾賈夏韦韋付方白邹鄒孟熊秦邱江尹薛闫閆阎閻段雷侯龙龍史陶黎贺賀顾顧毛郝龚龔邵"
    "万萬钱錢严嚴覃武戴莫孔向汤湯常温溫康施文牛樊葛邢安齐齊易乔喬伍庞龐颜顏倪庄莊聂聶章鲁"
    "魯岳翟殷詹申欧歐耿关關兰蘭焦俞左柳甘祝包宁寧尚符舒阮柯纪紀梅童凌毕畢单單季裴霍涂成"
    "苗谷盛曲翁冉骆駱蓝藍路游辛靳管柴蒙鲍鮑华華喻祁蒲房滕屈饶饒解牟艾尤阳陽时時穆农農司卓"
    "古吉缪繆简簡车車项項连連芦蘆麦麥褚娄婁窦竇戚岑景党黨宫宮费費卜冷晏席卫衛米柏宗瞿桂全"
    "佟应應臧闵閔苟邬鄔边邊卞姬师師和仇栾欒隋商刁沙荣榮巫寇桑郎甄丛叢仲虞敖巩鞏明佘池查麻"
    "苑迟遲邝鄺欧歐阙闕")
_TRAILING_NOISE = re.compile(r"[\s\-—_|｜·•:：,，;；.。)\]）】>》»]+$")
_LEADING_NOISE = re.compile(r"^[\s\-—_|｜·•:：,，;；\[（(【<《«]+")
# Where a byline value runs into the date; digits inside a user name are not a date.
_DATEISH = re.compile(r"(?<![A-Za-z0-9_])(?:\d{2,4}\s*[-/年.]\s*\d{1,2}|\d{1,2}:\d{2}|\d{4})")


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
        colon = bool(re.search(r"[:：︰/／︱丨｜|]", match.group(2)))
        if not match.group(2) and kind in ("author", "editor") and not _starts_with_name(value):
            continue  # "作者最新文章": a label glued to a word is a name only if one follows
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


def is_credit_line(line: str) -> bool:
    """A production-credit line (``出品︱网易科学人栏目组 胖胖``, ``策划：王明``)."""
    match = _LABEL_RE.match(line.strip())
    return bool(match and _LABEL_KIND[match.group(1)] == "credit"
                and _label_ok(line.strip(), match))


def agency_in(line: str) -> str | None:
    """A news agency opening a dateline (``新华社北京4月24日电``)."""
    match = _AGENCY.match(line.strip())
    return (match.group(1) or match.group(2)) if match else None


def _label_ok(text: str, match: re.Match[str]) -> bool:
    """A label must start a field: at the line start or after a separator."""
    if _LABEL_KIND[match.group(1)] == "credit" and not re.search(r"[:：︰/／︱丨｜|]",
                                                                  match.group(2)):
        return False  # "设计师说": only "设计：…" / "设计︱…" is a credit
    start = match.start()
    if start == 0:
        return True
    before = text[start - 1]
    if before in " \t|｜/／:：,，;；()（）[]【】<>《》〔〕-—_·•□■◆":
        return True
    if before.isdigit():  # "2020-01-13 08:46來源:" glued to a time
        return True
    if re.search(r"[:：︰]", match.group(2)):
        # "来源：求是网作者：方敏": a label with its colon starts a field even when the
        # page glued it to the previous value, so that value stops here
        return True
    # "新华网记者王明": an outlet directly before 记者 is common; allow for author labels.
    return _LABEL_KIND[match.group(1)] == "author" and match.group(1) in ("记者", "記者")


def _assign(result: Byline, kind: str, value: str, colon: bool) -> None:
    if kind in ("stop", "time", "credit"):
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
        cleaned = cleaned.split(" ", 1)[0] if len(cleaned) > 20 else cleaned
        if _plausible_source(cleaned) and result.source is None:
            result.source = cleaned
        return
    if not colon and _runs_into_sentence(value):
        return  # "记者采访时称，《广告法》有明确规定": a sentence, not a byline
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
    value = _cut_at_ui_word(value)
    value = _TRAILING_NOISE.sub("", _LEADING_NOISE.sub("", value))
    return value.strip()


def _cut_at_ui_word(value: str) -> str:
    """The value up to the first link label or button word beside it."""
    tokens = value.split()
    for position, token in enumerate(tokens):
        if _UI_WORD.search(token):
            return " ".join(tokens[:position])
    return value


def _runs_into_sentence(value: str) -> bool:
    """An unlabelled "name" followed by more clauses: body prose, not a credit."""
    clauses = [c.strip() for c in re.split(r"[，,。；;！？!?：:]", value.strip())]
    return any(c and not _NAME_LIST.fullmatch(c) and not _PLACE_REPORT.search(c)
               for c in clauses[1:])


def _plausible_source(value: str) -> bool:
    """An outlet name: short, not a URL, not markup that leaked into the text."""
    return 1 < len(value) <= 30 and not value.startswith(("http", "www")) \
        and not re.search(r"[=\"<>{}]", value)


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
        if _NAME.fullmatch(part) and not _NOT_NAME_WORD.search(part) \
                and (colon or not _NOT_NAME_CHAR.search(part)):
            kept.append(part)
        elif kept:
            break
        else:
            return None
    return _join_names(kept) if kept else None


def _starts_with_name(value: str) -> bool:
    """A family name (or a Latin name) right after a label with no separator."""
    head = _ROLE_PREFIX.sub("", value.lstrip())
    return bool(head) and (head[0] in _SURNAMES or head[0].isascii())


def is_person_name(value: str) -> bool:
    """A single name as bylines write it (see ``_NAME``), not a phrase or a title."""
    return bool(_NAME.fullmatch(value)) and not _NOT_NAME_WORD.search(value) \
        and not _NOT_A_PERSON.search(value) and value.lower() not in _NOT_NAMES


def _join_names(names: list[str]) -> str | None:
    names = [n.strip() for n in names if n.strip() and not _NOT_A_PERSON.search(n.strip())
             and n.strip().lower() not in _NOT_NAMES and not _UI_WORD.search(n)
             and not _NOT_NAME_WORD.search(n)]
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


# "（记者 王明）", "(信报记者 蔡雪婧)", "（新华社记者 王明 李华）": an outlet may precede the label
_TRAILING_CREDIT = re.compile(
    rf"[(（]\s*(?:(?:特约|特約|本报|本報|[{_HAN}]{{1,6}}?)?"
    rf"(?:评论员|評論員|通讯员|通訊員|记者|記者)\s*)?"
    rf"((?:[{_HAN}]{{2,4}}\s+){{0,4}}[{_HAN}]{{2,4}})\s*[)）]\s*$")
_NOT_CREDIT = re.compile(
    r"完|記者|记者|图|圖|摄|攝|新华社|新華社|中新社|中央社|综合|綜合|报道|報導|评论员|評論員")
# "…而已。文/张三" closing the text: the writer's credit after the last sentence
_TRAILING_WRITER = re.compile(
    rf"(?:^|[。！？!?」”\s])\s*(?:文|撰文)\s*[/／|｜]\s*([{_HAN}]{{2,4}})\s*$")
_NAMES_LINE = re.compile(rf"(?:[{_HAN}]{{2,3}}\s*[、，,\s]\s*){{1,5}}[{_HAN}]{{2,3}}")
_BRACKETED_NAME = re.compile(rf"[\[［]\s*([{_HAN}]{{2,4}})\s*[\]］]")


def trailing_credit(paragraph: str) -> str | None:
    """Reporter names closing the last paragraph: ``…佳节。（常书香 马丹阳 ）``."""
    tail = paragraph[-40:]
    writer = _TRAILING_WRITER.search(tail)
    if writer is not None:
        return _join_names([writer.group(1)])
    match = _TRAILING_CREDIT.search(tail)
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
    """A 来源 value that is a person's name (old portals put the writer there):
    2-3 hanzi starting with a family name, not an outlet ("新华", "央视" are not)."""
    return bool(re.fullmatch(rf"[{_HAN}]{{2,3}}", source)) and source[0] in _SURNAMES \
        and not _NOT_A_PERSON.search(source) and source not in _NOT_NAMES \
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
            or not re.fullmatch(rf"[{_HAN}]{{2,4}}", person) or outlet in _NOT_NAMES \
            or person in _NOT_NAMES or person[0] not in _SURNAMES:
        return None
    return outlet, person


_OPENING = re.compile(
    r"^\s*[(（【\[]?\s*(?:本报讯|本報訊|本报消息|本報消息|本台消息|本网讯|本網訊|"
    rf"[{_HAN}]{{2,6}}?(?:社|網|网|台|報|报)?\s*[{_HAN}]{{0,6}}\s*\d{{1,2}}\s*月?\s*\d{{1,2}}\s*日\s*"
    r"(?:電|电|專電|专电)(?![话話脑腦视視影子梯器])|"
    rf"[{_HAN}]{{2,8}}?(?:報道|報導|报道|訊|讯)\s*[)）】\]])")


def opens_story(line: str) -> bool:
    """A paragraph that starts the story with its dateline: ``新华社北京4月24日电``,
    ``本报讯``, ``(星島日報報道)``, ``【王家俊／台北報導】``, ``（中央社記者…29日專電）``."""
    return bool(_OPENING.match(line)) or is_dateline(line)


def is_dateline(line: str) -> bool:
    """``地方中心／桃園報導``, ``（中央社記者楊思瑞台南4日電）``: a reporting credit line."""
    head = line.strip()[:40]
    return bool(_REPORTED.match(head.lstrip("【〔[（(")) or _WIRE.search(head))


# Words that fill a "来源" slot on badly parsed pages but name no publisher.
_TIME_WORD = re.compile(r"^(?:am|pm|a\.m\.|p\.m\.|上午|下午|中午|凌晨|晚上|早上|傍晚|"
                        r"今天|今日|昨天|昨日|日期|时间|時間|[\d\s:/.\-年月日时時分]+)$",
                        re.IGNORECASE)
_REGION_WORDS = (
    "香港 澳門 澳门 台灣 台湾 臺灣 北京 上海 天津 重庆 重慶 廣州 广州 深圳 台北 臺北 新北 "
    "高雄 台中 臺中 台南 臺南 桃園 桃园 中國 中国 內地 内地 大陸 大陆 全國 全国 國際 国际 "
    "海外 本地 本港 河北 山西 遼寧 辽宁 吉林 黑龍江 黑龙江 江蘇 江苏 浙江 安徽 福建 江西 "
    "山東 山东 河南 湖北 湖南 廣東 广东 海南 四川 貴州 贵州 雲南 云南 陝西 陕西 甘肅 甘肃 "
    "青海 內蒙古 内蒙古 廣西 广西 西藏 寧夏 宁夏 新疆 南京 杭州 武汉 武漢 成都 西安 长沙 "
    "長沙 沈阳 瀋陽 青岛 青島 厦门 廈門 苏州 蘇州 郑州 鄭州 济南 濟南 福州 合肥 昆明 哈尔滨 "
    "哈爾濱 长春 長春 石家庄 石家莊 南宁 南寧 贵阳 貴陽 兰州 蘭州 太原 南昌 海口 银川 銀川 "
    "西宁 西寧 拉萨 拉薩 乌鲁木齐 烏魯木齊 呼和浩特")
_REGIONS = frozenset(_REGION_WORDS.split())


def plausible_outlet(source: str, headline: str = "") -> bool:
    """Whether a "来源" value names a publisher: not a time word, a bare region
    ("香港" is where, not who) or the article's own headline."""
    value = source.strip(" :：()（）[]【】")
    if not value or _TIME_WORD.match(value) or value in _REGIONS:
        return False
    squashed = "".join(value.split())
    return not (headline and len(squashed) >= 6 and squashed in "".join(headline.split()))
