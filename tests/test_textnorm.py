"""Script conversion (identical to opencc-python-reimplemented) and the matching key."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import opencc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsmon.crawler.extract.script import detect_script
from newsmon.textnorm import (
    VARIANT_FOLDS,
    align,
    normalize,
    normalize_with_offsets,
    to_simplified,
    to_traditional,
)

DATA = Path(__file__).parent / "data"
EXCERPTS = sorted((DATA / "textnorm").glob("*.txt"))
CORPUS_PAGES = sorted((DATA / "corpus" / "pages").rglob("*.gz"))
OPENCC_DICTIONARIES = Path(opencc.__file__).parent / "dictionary"

T2S = opencc.OpenCC("t2s")
S2T = opencc.OpenCC("s2t")


@cache
def dictionary(name: str) -> dict[str, str]:
    """One of the package's dictionaries: key -> first candidate."""
    entries = {}
    for line in (OPENCC_DICTIONARIES / name).read_text(encoding="utf-8").splitlines():
        key, value = line.strip().split("\t")
        entries[key] = value.split(" ")[0]
    return entries


# --------------------------------------------------------------------------------------
# Conversion: identical to the package's convert()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "青島市的乾隆皇帝一目瞭然，看著書本。",
        "反覆盆子",  # longest phrase anywhere (覆盆子) beats the earlier 反覆
        "么麼些族",
        "頭髮發展，乾燥的天氣",
        "Hello, 世界! 1,2.3 — 台灣／臺灣",
        "青島\udc80島嶼",  # a lone surrogate, as left by surrogateescape decoding
        "𧹒賬𫫇英",  # beyond the BMP
        "   \t\n",
    ],
)
def test_to_simplified_equals_opencc(text: str) -> None:
    assert to_simplified(text) == T2S.convert(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "一伙头发上指",  # the longer phrase 头发上指 wins over the earlier 一伙头
        "一出剧力万钧",
        "乔治．布希",  # a phrase key holding a separator never matches
        "计划发展，头发干燥。后来皇后说：这里面有面。",
        "ABC abc 123 —— 测试",
    ],
)
def test_to_traditional_equals_opencc(text: str) -> None:
    assert to_traditional(text) == S2T.convert(text)


def _cjk_and_more() -> st.SearchStrategy[str]:
    """Text mixing dictionary characters, whole phrase keys, Latin, digits, separators."""
    t2s_chars = sorted(dictionary("TSCharacters.txt"))
    s2t_chars = sorted(dictionary("STCharacters.txt"))
    phrases = sorted(dictionary("TSPhrases.txt")) + sorted(dictionary("STPhrases.txt"))[::50]
    pieces = st.one_of(
        st.sampled_from(t2s_chars),
        st.sampled_from(s2t_chars),
        st.sampled_from(phrases),
        st.sampled_from(list("abcXYZ019 \t\n,.!?-—，。、：；！？「」（）《》…．／")),
        st.characters(codec="utf-8"),
    )
    return st.lists(pieces, max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(_cjk_and_more())
def test_conversions_equal_opencc_on_generated_text(text: str) -> None:
    assert to_simplified(text) == T2S.convert(text)
    assert to_traditional(text) == S2T.convert(text)


def _corpus_text(path: Path) -> str:
    """A corpus page's visible text, decoded roughly (both sides get the same input)."""
    raw = gzip.decompress(path.read_bytes())
    for encoding in ("utf-8", "gb18030", "big5"):
        try:
            page = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        page = raw.decode("utf-8", errors="replace")
    page = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", page)
    return re.sub(r"<[^>]+>", " ", page)


@pytest.mark.parametrize("path", CORPUS_PAGES, ids=lambda path: path.parent.name + "/" + path.name)
def test_conversions_equal_opencc_on_corpus_page(path: Path) -> None:
    text = _corpus_text(path)
    assert to_simplified(text) == T2S.convert(text)
    assert to_traditional(text) == S2T.convert(text)


def test_corpus_copies_are_present() -> None:
    # The parametrised test above would pass vacuously without them.
    assert len(CORPUS_PAGES) >= 50


@pytest.mark.parametrize("path", EXCERPTS, ids=lambda path: path.name)
def test_conversions_equal_opencc_on_excerpt(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert to_simplified(text) == T2S.convert(text)
    assert to_traditional(text) == S2T.convert(text)


# --------------------------------------------------------------------------------------
# Script detection


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("青島市政府發佈新聞", "traditional"),
        ("青岛市政府发布新闻", "simplified"),
        ("皇后", "simplified"),  # 后 is kept by s2t here, so it marks nothing
        ("Hello world", "simplified"),
        ("", "simplified"),
    ],
)
def test_detect_script(text: str, script: str) -> None:
    assert detect_script(text) == script


@pytest.mark.parametrize("path", EXCERPTS, ids=lambda path: path.name)
def test_detect_script_on_recorded_text(path: Path) -> None:
    expected = "simplified" if path.name.startswith("cn_") else "traditional"
    text = path.read_text(encoding="utf-8")
    assert detect_script(text) == expected
    assert detect_script(to_simplified(text)) == "simplified"
    assert detect_script(to_traditional(text)) == "traditional"


# --------------------------------------------------------------------------------------
# The matching key


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("青島", "青岛"),
        ("青岛", "青岛"),
        ("看著 看着", "看着 看着"),  # Taiwan 著 for zhe
        ("裏 裡 里", "里 里 里"),
        ("計畫 计划", "计画 计画"),  # a phrase pair: 計畫 is s2t's 计划
        ("乾隆 乾燥", "干隆 干燥"),  # per character, whatever the phrase table does
        ("保衞 化粧", "保卫 化妆"),  # Hong Kong forms
        ("ＡＩ　１２３（Ｘ）", "ai 123(x)"),  # full width, ideographic space
        ("等等……", "等等......"),
        ("Zürich Zu\u0308rich ZURICH", "zurich zurich zurich"),
        ("Straße", "strasse"),
        ("青\u200b島\ufeff", "青岛"),  # zero-width space, BOM
        ("島\ufe00", "岛"),  # variation selector
        ("a  \n\t b", "a b"),
        ("\uf907", "龟"),  # CJK compatibility ideograph 龜
        ("x\udc80y", "x\ufffdy"),
        ("", ""),
    ],
)
def test_normalize(text: str, key: str) -> None:
    assert normalize(text) == key


def test_variant_folds_are_needed_and_land_on_simplified() -> None:
    for variant, standard in VARIANT_FOLDS.items():
        assert normalize(variant) == normalize(standard)
        assert normalize(variant) != variant
        assert detect_script(normalize(variant)) == "simplified"


@pytest.mark.parametrize(
    "name", ["TSCharacters.txt", "STCharacters.txt", "TSPhrases.txt", "STPhrases.txt"]
)
def test_every_dictionary_entry_keeps_its_key(name: str) -> None:
    separators = opencc.OpenCC().split_chars_re
    changed = [
        (key, value)
        for key, value in dictionary(name).items()
        if not separators.search(key) and normalize(key) != normalize(value)
    ]
    assert changed == []


def test_every_bmp_character_key_is_final() -> None:
    unsettled = [
        code
        for code in range(0x10000)
        if normalize(key := normalize(chr(code))) != key or "  " in key
    ]
    assert unsettled == []


def _anything() -> st.SearchStrategy[str]:
    """Dictionary text plus the awkward cases: marks, width forms, invisibles, astral."""
    marks_and_forms = "\u0301\u0308\u200b\u00ad\ufeff\ufe0f\u3000\u00a0…ＡＢ１（ﬁ①ßİ\uf907\u2028"
    awkward = st.sampled_from([*marks_and_forms, "𫫇", "𝐀", "\U000e0101", "\ud800"])
    return st.lists(st.one_of(_cjk_and_more(), awkward, st.text(max_size=5)), max_size=8).map(
        "".join
    )


@settings(max_examples=400, deadline=None)
@given(_anything())
def test_normalize_is_idempotent(text: str) -> None:
    key = normalize(text)
    assert normalize(key) == key


@settings(max_examples=300, deadline=None)
@given(_anything(), st.data())
def test_normalize_is_closed_under_substrings(text: str, data: st.DataObject) -> None:
    key = normalize(text)
    start = data.draw(st.integers(0, len(key)))
    end = data.draw(st.integers(start, len(key)))
    assert normalize(key[start:end]) == key[start:end]


@settings(max_examples=300, deadline=None)
@given(_cjk_and_more())
def test_key_survives_conversion_both_ways(text: str) -> None:
    key = normalize(text)
    assert normalize(to_simplified(text)) == key
    assert normalize(to_traditional(text)) == key


@pytest.mark.parametrize("path", EXCERPTS, ids=lambda path: path.name)
def test_key_of_recorded_text_survives_conversion(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    key = normalize(text)
    assert normalize(to_simplified(text)) == key
    assert normalize(to_traditional(text)) == key


# --------------------------------------------------------------------------------------
# Offsets back into the original


def test_normalize_with_offsets_points_at_source_characters() -> None:
    text = "Ａ…Zu\u0308rich  \u200b 青島"
    key, offsets = normalize_with_offsets(text)
    assert key == "a...zurich 青岛"
    assert offsets == [0, 1, 1, 1, 2, 3, 5, 6, 7, 8, 9, 13, 14]


def test_span_of_an_expanded_character_covers_it_whole() -> None:
    text = "前……後"
    alignment = align(text)
    assert alignment.text == "前......后"
    assert alignment.original_span(2, 4) == (1, 2)  # "..", inside the first "…"
    assert alignment.original_span(3, 5) == (1, 3)  # across both
    assert alignment.original_span(7, 8) == (3, 4)  # 后, written 後
    assert alignment.original_span(8, 8) == (4, 4)


def _sources(text: str) -> Iterator[tuple[str, str]]:
    key, offsets = normalize_with_offsets(text)
    for position, char in enumerate(key):
        yield char, text[offsets[position]]


@settings(max_examples=400, deadline=None)
@given(_anything())
def test_offsets_agree_with_normalize(text: str) -> None:
    key, offsets = normalize_with_offsets(text)
    assert key == normalize(text)
    assert len(offsets) == len(key)
    assert offsets == sorted(offsets)
    assert all(0 <= offset < len(text) for offset in offsets)
    for char, source in _sources(text):
        assert char in normalize(source)  # a merged space points at the run's first


@pytest.mark.parametrize("path", EXCERPTS, ids=lambda path: path.name)
def test_offsets_on_recorded_text(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for char, source in _sources(text):
        assert char in normalize(source)


def _offsets_one_character_at_a_time(text: str) -> tuple[str, list[int]]:
    """The reference: each character's own key, then runs of spaces merged into their first."""
    pairs: list[tuple[str, int]] = []
    for index, source in enumerate(text):
        for char in normalize(source):
            if not (char == " " and pairs and pairs[-1][0] == " "):
                pairs.append((char, index))
    return "".join(char for char, _ in pairs), [index for _, index in pairs]


def _bmp_with_runs() -> st.SearchStrategy[str]:
    """BMP text thick with what breaks one-to-one alignment (the regex path of align)."""
    widening = st.sampled_from(list(" \t\n\u3000\u00a0\ufeff\u200b\u0301…ﬁ①ß㈱"))
    plain = st.sampled_from(list("青島港ab1，。"))
    return st.lists(st.one_of(widening, plain), max_size=30).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.one_of(_anything(), _bmp_with_runs()))
def test_offsets_equal_the_one_character_at_a_time_reference(text: str) -> None:
    expected = _offsets_one_character_at_a_time(text)
    assert normalize_with_offsets(text) == expected
    assert align(text, normalize(text)).offsets() == expected[1]


@pytest.mark.parametrize("path", EXCERPTS, ids=lambda path: path.name)
def test_offsets_on_recorded_text_equal_the_reference(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert normalize_with_offsets(text) == _offsets_one_character_at_a_time(text)
