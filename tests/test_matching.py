"""The matching engine against the brute-force reference (the compiled plan's
:meth:`Plan.matches`), hits as written, snippets."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from newsmon.matching import (
    ArticleText,
    Hit,
    Matcher,
    Snippet,
    TopicMatch,
    TopicSpec,
    make_snippet,
)
from newsmon.query import QuerySyntaxError, find_term, parse_query
from newsmon.textnorm import normalize, normalize_with_offsets, to_simplified, to_traditional

EXCERPTS = sorted((Path(__file__).parent / "data" / "textnorm").glob("*.txt"))


def topic_names(matcher: Matcher, article: ArticleText) -> list[str]:
    return [match.topic_name for match in matcher.match(article)]


def article(body: str = "", title: str = "", source: str = "") -> ArticleText:
    return ArticleText(id=1, title=title, body=body, source=source)


# --------------------------------------------------------------------------------------
# 青島 and 青岛, either script, title or body


@pytest.mark.parametrize("query", ["青島", "青岛", "qingdao", "title:青島 OR body:青岛"])
@pytest.mark.parametrize("field", ["title", "body"])
@pytest.mark.parametrize("convert", [to_simplified, to_traditional], ids=["simp", "trad"])
def test_qingdao_in_either_script_and_field(query: str, field: str, convert: object) -> None:
    assert callable(convert)
    text = convert("山东青岛港今日发布消息，Qingdao 港口吞吐量创新高。")
    matcher = Matcher([TopicSpec(1, "qd", query)])
    found = matcher.match(article(**{field: text}))
    assert [match.topic_id for match in found] == [1]
    hit = found[0].hits[0]
    assert hit.field == field
    assert hit.variant == text[hit.start : hit.end]
    assert hit.variant in {"青島", "青岛", "Qingdao"}


def test_hits_report_the_variant_as_written() -> None:
    body = "青島啤酒節開幕。青岛市民……参加了 QINGDAO 啤酒节"
    (match,) = Matcher([TopicSpec(1, "qd", "青岛 OR Qingdao")]).match(article(body))
    assert [(hit.variant, hit.start, hit.end) for hit in match.hits] == [
        ("青島", 0, 2),
        ("青岛", 8, 10),
        ("QINGDAO", 18, 25),
    ]
    assert {hit.term for hit in match.hits} == {"青岛", "Qingdao"}


def test_offsets_survive_width_forms_invisibles_and_space_runs() -> None:
    body = "【青\u200b島】　　Ｑｉｎｇｄａｏ……港口  新闻 Zu\u0308rich"
    topics = [
        TopicSpec(1, "qd", "青岛"),
        TopicSpec(2, "latin", "qingdao"),
        TopicSpec(3, "dots", '"......港口 新闻"'),
        TopicSpec(4, "zurich", "zurich"),
    ]
    found = {match.topic_id: match.hits for match in Matcher(topics).match(article(body))}
    assert found[1] == (Hit("青岛", "青\u200b島", "body", 1, 4),)
    assert found[2] == (Hit("qingdao", "Ｑｉｎｇｄａｏ", "body", 7, 14),)
    assert found[3] == (Hit("......港口 新闻", "……港口  新闻", "body", 14, 22),)
    assert found[4] == (Hit("zurich", "Zu\u0308rich", "body", 23, 30),)


def test_pre_normalised_fields_give_the_same_matches() -> None:
    title, body = "青島新聞", "青岛港口，房产市场"
    matcher = Matcher([TopicSpec(1, "a", "青岛 港口"), TopicSpec(2, "b", "title:新闻 -房产")])
    given_keys = ArticleText(1, title, body, "", normalize(title), normalize(body), "")
    assert matcher.match(given_keys) == matcher.match(ArticleText(1, title, body))


# --------------------------------------------------------------------------------------
# Aliases, exclusions, nesting, Latin words


def test_aliases_and_exclusion() -> None:
    topics = [
        TopicSpec(1, "qingdao", "青島 OR Qingdao OR 島城"),
        TopicSpec(2, "qingdao-no-property", "@qingdao -房产"),
        TopicSpec(3, "ftz", "topic:qingdao (自贸区 OR 自由贸易试验区)"),
    ]
    matcher = Matcher(topics)
    assert topic_names(matcher, article("岛城新闻")) == ["qingdao", "qingdao-no-property"]
    assert topic_names(matcher, article("青岛房产价格")) == ["qingdao"]
    assert topic_names(matcher, article("青島自貿區")) == ["qingdao", "qingdao-no-property", "ftz"]
    assert topic_names(matcher, article("房产 自贸区")) == []


def test_exclusion_only_hits_never_match() -> None:
    matcher = Matcher(
        [TopicSpec(1, "a", "青岛 -房产"), TopicSpec(2, "b", "(港口 OR 码头) -(房产 楼市)")]
    )
    assert matcher.match(article("房产 楼市 房產")) == []
    assert topic_names(matcher, article("码头 楼市")) == ["b"]
    assert topic_names(matcher, article("码头 楼市 房产")) == []


def test_nested_boolean_queries() -> None:
    matcher = Matcher(
        [TopicSpec(1, "n", "((青岛 OR 烟台) (港口 OR 码头)) OR (title:威海 -body:旅游)")]
    )
    assert topic_names(matcher, article("烟台码头")) == ["n"]
    assert topic_names(matcher, article("烟台旅游")) == []
    assert topic_names(matcher, article("港口", title="威海")) == ["n"]
    assert topic_names(matcher, article("旅游", title="威海")) == []


@pytest.mark.parametrize(
    ("query", "body", "expected"),
    [
        ("AI", "new AI chips", True),
        ("AI", "MAIL SERVER", False),
        ("ai", "OpenAI 发布", False),
        ("AI", "用AI审稿", True),
        ("Qingdao", "QINGDAO port", True),
        ("5G", "15G", False),
        ("5G", "5G网络", True),
        ('"hong kong"', "HONG KONG's", True),
        ("A股", "A股大涨", True),
        ("A股", "CA股", False),
    ],
)
def test_latin_words_case_and_boundaries(query: str, body: str, expected: bool) -> None:
    assert bool(Matcher([TopicSpec(1, "t", query)]).match(article(body))) is expected


def test_source_scope() -> None:
    matcher = Matcher([TopicSpec(1, "xinhua", "source:新华社"), TopicSpec(2, "plain", "新华社")])
    assert topic_names(matcher, article("内容", source="新華社")) == ["xinhua"]
    found = matcher.match(article("据新华社报道", source="新華社"))
    assert [match.topic_name for match in found] == ["xinhua", "plain"]
    assert found[0].hits == (Hit("新华社", "新華社", "source", 0, 3),)


def test_a_bad_topic_is_named() -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        Matcher([TopicSpec(1, "ok", "港口"), TopicSpec(7, "青岛", "青岛 OR")])
    assert str(caught.value) == "topic 7 '青岛': query position 5: expected a term or '(' after OR"
    assert caught.value.position == 5


def test_undecodable_text_does_not_crash() -> None:
    body = "青島\udc80港口\ufffd"  # a lone surrogate, as surrogateescape decoding leaves
    (match,) = Matcher([TopicSpec(1, "qd", "青岛 港口")]).match(article(body))
    assert [(hit.variant, hit.start) for hit in match.hits] == [("青島", 0), ("港口", 3)]


def test_no_topics_match_nothing() -> None:
    assert Matcher([]).match(article("青岛")) == []


def test_topics_reported_in_given_order_with_snippets() -> None:
    topics = [TopicSpec(9, "z", "港口"), TopicSpec(3, "a", "title:青岛")]
    found = Matcher(topics).match(article("今天港口很忙。", title="青岛新闻"))
    assert [match.topic_id for match in found] == [9, 3]
    assert found[0].snippet == Snippet("今天港口很忙。", 2, 4, "body")
    assert found[1].snippet == Snippet("青岛新闻", 0, 2, "title")


# --------------------------------------------------------------------------------------
# The engine agrees with the brute-force reference

WORDS = ["青岛", "青島", "烟台", "港口", "房产", "房產", "自贸区", "AI", "mail", "hong kong"]
FILLER = ["今天", "的", "，", "。", " ", "\n", "……", "Ｑ", "ai-driven", "MAIL", "x"]


@st.composite
def queries(draw: st.DrawFn, depth: int = 2) -> str:
    if depth == 0 or draw(st.booleans()):
        word = draw(st.sampled_from(WORDS))
        text = f'"{word}"' if " " in word else word
        scope = draw(st.sampled_from(["", "", "", "title:", "body:", "source:"]))
        return scope + text
    left, right = draw(queries(depth - 1)), draw(queries(depth - 1))
    shape = draw(st.sampled_from(["{} {}", "{} OR {}", "({} OR {})", "{} -{}", "{} NOT ({})"]))
    return shape.format(left, right)


texts = st.lists(st.sampled_from(WORDS + FILLER), max_size=12).map("".join)


def valid_topics(topic_queries: list[str]) -> list[TopicSpec]:
    """The generated queries that parse (one of only exclusions does not), as topics
    numbered by position; rejects the example when none does."""
    valid = []
    for number, query in enumerate(topic_queries):
        try:
            parse_query(query)
        except QuerySyntaxError:
            continue
        valid.append(TopicSpec(number, f"t{number}", query))
    assume(valid)
    return valid


@settings(max_examples=300, deadline=None)
@given(st.lists(queries(), min_size=1, max_size=6), texts, texts, texts)
def test_engine_equals_brute_force(
    topic_queries: list[str], title: str, body: str, source: str
) -> None:
    valid = valid_topics(topic_queries)
    fields = {"title": title, "body": body, "source": source}
    expected = [topic.id for topic in valid if parse_query(topic.query).matches(fields)]
    matcher = Matcher(valid)
    found = matcher.match(ArticleText(1, title, body, source))
    assert [match.topic_id for match in found] == expected
    assert matcher.match_ids(ArticleText(1, title, body, source)) == expected
    for match in found:
        assert match.hits  # a match always shows why
        for hit in match.hits:
            assert hit.variant == fields[hit.field][hit.start : hit.end]
            assert normalize(hit.term) in normalize(hit.variant)


def every_hit(query: str, fields: dict[str, str]) -> list[Hit]:
    """The reference hits: every occurrence of every required term, overlapping ones too,
    found by ``find_term`` on each field's key and mapped back one character at a time."""
    hits = []
    for term in parse_query(query).positive:
        for name in term.scope:
            text = fields[name]
            key, offsets = normalize_with_offsets(text)
            at = find_term(term, key)
            while at >= 0:
                first, last = offsets[at], offsets[at + len(term.norm) - 1] + 1
                hits.append(Hit(term.text, text[first:last], name, first, last))
                at = find_term(term, key, at + 1)
    order = {"title": 1, "body": 2, "source": 3}
    return sorted(hits, key=lambda hit: (order[hit.field], hit.start, hit.end, hit.term))


@settings(max_examples=300, deadline=None)
@given(st.lists(queries(), min_size=1, max_size=6), texts, texts, texts)
def test_hits_are_every_occurrence_of_the_required_terms(
    topic_queries: list[str], title: str, body: str, source: str
) -> None:
    valid = valid_topics(topic_queries)
    fields = {"title": title, "body": body, "source": source}
    for match in Matcher(valid).match(ArticleText(1, title, body, source)):
        expected = every_hit(valid[[t.id for t in valid].index(match.topic_id)].query, fields)
        assert list(match.hits) == expected


def test_hit_as_dict_has_every_field_in_order() -> None:
    hit = Hit("青岛", "青島", "body", 3, 5)
    assert hit.as_dict() == {"term": "青岛", "variant": "青島", "field": "body", "start": 3,
                             "end": 5}
    assert list(hit.as_dict()) == list(Hit._fields)  # same key order in the stored JSON


def test_overlapping_occurrences_are_all_hits() -> None:
    (match,) = Matcher([TopicSpec(1, "haha", "哈哈")]).match(article("哈哈哈，哈哈"))
    assert [(hit.start, hit.end) for hit in match.hits] == [(0, 2), (1, 3), (4, 6)]


def test_a_term_holding_a_nul_matches_exactly() -> None:
    # The Hyperscan binding cuts literals at NUL: such terms are found by a piece, then
    # confirmed; a term of NULs only is looked for in every article.
    matcher = Matcher([TopicSpec(1, "nul", "青岛\x00港"), TopicSpec(2, "only", "\x00\x00")])
    assert topic_names(matcher, article("青岛\x00港口")) == ["nul"]
    assert topic_names(matcher, article("青岛港口")) == []
    assert topic_names(matcher, article("前\x00\x00后 青岛\x00港")) == ["nul", "only"]
    assert matcher.match_ids(article("青岛港 \x00")) == []


def test_one_matcher_shared_by_threads() -> None:
    # Hyperscan's scratch space may not be used by two scans at once; each thread has its own.
    texts = [path.read_text(encoding="utf-8") for path in EXCERPTS]
    topics = [TopicSpec(number, f"t{number}", text[10:14]) for number, text in enumerate(texts)]
    matcher = Matcher(topics)
    bodies = [text for text in texts for _ in range(40)]
    expected = [matcher.match(article(body)) for body in bodies]

    def run(_: int) -> list[list[TopicMatch]]:
        return [matcher.match(article(body)) for body in bodies]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, range(4)))
    assert all(result == expected for result in results)
    assert all(expected)


# --------------------------------------------------------------------------------------
# A term cut from an article matches it, also after conversion to the other script
#
# Why this holds by construction (and is not luck of the sample): normalize() maps each
# character on its own and every character of a key maps to itself, so the key of a
# piece cut from an article is exactly the same slice of the article's key; and both
# conversions keep lengths and only exchange characters of one variant class, which
# share a key, so the converted article has the very same key.  A phrase-aware key (real
# t2s output) would break this: s2t writes 计划 as 計畫, whose t2s is 计画.


def _is_ideograph(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\U00020000" <= char <= "\U0003134f"


def _dictionary_text() -> st.SearchStrategy[str]:
    chars = st.sampled_from(list("青岛島计划計畫乾隆干燥头发髮后後里裏著着面麵台臺灣湾发展覆盖"))
    words = st.sampled_from(["计划", "計畫", "项链", "項鍊", "一伙头发上指", "反覆盆子", "乾隆"])
    other = st.sampled_from(list("，。 ab1\n…（）"))
    return st.lists(st.one_of(chars, words, other), min_size=2, max_size=30).map("".join)


def _cut_term(text: str, data: st.DataObject) -> str:
    runs, run = [], ""
    for char in text + " ":
        if _is_ideograph(char):
            run += char
        elif run:
            runs.append(run)
            run = ""
    runs = [run for run in runs if len(run) >= 2]
    assume(runs)
    run = data.draw(st.sampled_from(runs))
    length = data.draw(st.integers(2, min(6, len(run))))
    start = data.draw(st.integers(0, len(run) - length))
    return run[start : start + length]


def _assert_found_everywhere(term: str, text: str) -> None:
    matcher = Matcher([TopicSpec(1, "cut", term)])
    for body in (text, to_traditional(text), to_simplified(text)):
        assert matcher.match(article(body)), (term, body)
        assert matcher.match(article(title=body)), (term, body)


@settings(max_examples=300, deadline=None)
@given(_dictionary_text(), st.data())
def test_a_term_cut_from_an_article_matches_it_in_both_scripts(
    text: str, data: st.DataObject
) -> None:
    _assert_found_everywhere(_cut_term(text, data), text)


@pytest.mark.parametrize("path", EXCERPTS, ids=lambda path: path.name)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_a_term_cut_from_recorded_news_matches_it_in_both_scripts(
    path: Path, data: st.DataObject
) -> None:
    text = path.read_text(encoding="utf-8")
    _assert_found_everywhere(_cut_term(text, data), text)


# --------------------------------------------------------------------------------------
# Snippets


@pytest.mark.parametrize(
    ("text", "start", "end", "width", "expected"),
    [
        ("青岛港", 0, 2, 60, Snippet("青岛港", 0, 2)),
        # a sentence end before the hit starts the excerpt, one after it ends it
        (
            "前面的句子很长很长。青岛港今日开港。后面还有很多很多的内容。",
            10,
            12,
            16,
            Snippet("青岛港今日开港。", 0, 2),
        ),
        # no boundary near: cut with ellipses
        (
            "一二三四五六七八九十青岛一二三四五六七八九十",
            10,
            12,
            8,
            Snippet("…九十青岛一二三四…", 3, 5),
        ),
        # a comma is a soft boundary: cut there, still marked as a cut
        (
            "很长的开头，青岛港的消息，然后是很长很长的结尾部分",
            6,
            8,
            14,
            Snippet("…青岛港的消息…", 1, 3),
        ),
        # whitespace runs become single spaces, offsets follow
        (
            "Port  of\n\nQingdao   opens today",
            10,
            17,
            60,
            Snippet("Port of Qingdao opens today", 8, 15),
        ),
        # Latin text is cut between words
        (
            "the quick brown fox jumps over the lazy dog near Qingdao harbour at dawn",
            49,
            56,
            30,
            Snippet("…dog near Qingdao harbour at…", 10, 17),
        ),
        # a hit longer than the width is kept whole
        ("abc 青岛港口码头 def", 4, 10, 3, Snippet("…青岛港口码头…", 1, 7)),
        ("", 0, 0, 60, Snippet("", 0, 0)),
    ],
)
def test_make_snippet(text: str, start: int, end: int, width: int, expected: Snippet) -> None:
    snippet = make_snippet(text, start, end, width)
    assert snippet == expected
    assert snippet.text[snippet.hit_start : snippet.hit_end] == " ".join(text[start:end].split())
