"""The query language: parsing, errors with positions, aliases, the compiled plan and the
reference matcher."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsmon.query import (
    And,
    Node,
    Not,
    Or,
    QuerySyntaxError,
    Term,
    evaluate,
    parse_query,
)


def show(node: Node) -> str:
    """A compact rendering: terms by key, scopes as prefix, phrases quoted."""
    if isinstance(node, Term):
        text = f'"{node.norm}"' if node.phrase else node.norm
        return f"{node.field}:{text}" if node.field else text
    if isinstance(node, Not):
        return f"NOT {show(node.child)}"
    operator = " AND " if isinstance(node, And) else " OR "
    return "(" + operator.join(show(child) for child in node.children) + ")"


ALIASES = {
    "qingdao": "青島 OR Qingdao OR 島城",
    "ftz": "自贸区 OR 自由贸易试验区",
    "two words": "烟台",
    "loop_a": "x @loop_b",
    "loop_b": "y @loop_a",
    "broken": "a OR",
}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("青岛", "青岛"),
        ("青岛 自贸区", "(青岛 AND 自贸区)"),
        ("青岛自贸区", "青岛自贸区"),  # a run of CJK is one term
        ("青島 OR 青岛", "(青岛 OR 青岛)"),
        ("青岛 | 烟台", "(青岛 OR 烟台)"),
        ("a b OR c", "((a AND b) OR c)"),  # AND binds tighter than OR
        ("a (b OR c)", "(a AND (b OR c))"),
        ("a AND b", "(a AND b)"),
        ("青岛 -房产", "(青岛 AND NOT 房产)"),
        ("青岛 NOT 房产", "(青岛 AND NOT 房产)"),
        ("青岛 -(房产 OR 楼市)", "(青岛 AND NOT (房产 OR 楼市))"),
        ("青岛 NOT NOT 港口", "(青岛 AND NOT NOT 港口)"),
        ('"Hong  Kong" 港', '("hong kong" AND 港)'),
        ("“青岛 港”", '"青岛 港"'),
        ('"a (b) | OR"', '"a (b) | or"'),  # operators are literal inside a phrase
        ("title:青岛", "title:青岛"),
        ("Title:青岛", "title:青岛"),
        ('source:"新华社"', 'source:"新华社"'),
        ("title:(青岛 OR 烟台) 港", "((title:青岛 OR title:烟台) AND 港)"),
        ("title:(青岛 body:港)", "(title:青岛 AND body:港)"),  # the innermost scope wins
        ("title:-x y", None),  # see the error table
        ("12:30 http://x.cn", "(12:30 AND http://x.cn)"),  # unknown prefixes are text
        ("COVID-19", "covid-19"),
        ("a or b", "(a AND or AND b)"),  # operators only in capitals
        ("user@example.com", "user@example.com"),
        ("ＡＩ", "ai"),
    ],
)
def test_parse(query: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(QuerySyntaxError):
            parse_query(query)
    else:
        assert show(parse_query(query).root) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("@qingdao -房产", "((青岛 OR qingdao OR 岛城) AND NOT 房产)"),
        ("topic:qingdao topic:ftz", "((青岛 OR qingdao OR 岛城) AND (自贸区 OR 自由贸易试验区))"),
        ('topic:"two words" 港', "(烟台 AND 港)"),
        ("title:@ftz", "(title:自贸区 OR title:自由贸易试验区)"),
    ],
)
def test_aliases_expand(query: str, expected: str) -> None:
    assert show(parse_query(query, ALIASES).root) == expected


@pytest.mark.parametrize(
    ("query", "position", "expected", "message"),
    [
        ("", 0, "a term", "query position 0: expected a term (the query is empty)"),
        ("   ", 0, "a term", None),
        (
            "青岛 OR",
            5,
            "a term or '(' after OR",
            "query position 5: expected a term or '(' after OR",
        ),
        ("青岛 OR OR 港", 6, "a term or '(' after OR", None),
        ("a | ", 4, "a term or '(' after '|'", None),
        ("a AND", 5, "a term or '(' after AND", None),
        ("a NOT", 5, "a term or '(' after NOT", None),
        ("(a OR b", 7, "')'", "query position 7: expected ')' (to close the '(' at position 0)"),
        ("a)", 1, "an operator or the end", None),
        ("()", 1, "a term or '(' after '('", None),
        ("OR a", 0, "a term or '('", None),
        ('"abc', 4, 'a closing "', None),
        ("“abc", 4, "a closing ”", None),
        ('""', 0, "text inside the quotes", None),
        ("title:", 6, "a term, phrase or '(' after title:", None),
        ("a title: b", 8, "a term, phrase or '(' after title:", None),
        ("title:-x y", 6, "a term, phrase or '(' after title:", None),
        ("青岛 - 房产", 4, "a term right after '-'", None),
        ("@", 1, "a topic name", None),
        ("\u200b", 0, "a term with letters", None),
        ("NOT 房产", 0, "at least one term that must be present", None),
        ("-房产 -楼市", 0, "at least one term that must be present", None),
        ("青岛 OR -房产", 0, "at least one term that must be present", None),
    ],
)
def test_syntax_errors(query: str, position: int, expected: str, message: str | None) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query(query)
    assert caught.value.position == position
    assert caught.value.expected == expected
    assert str(caught.value).startswith(f"query position {position}: expected {expected}")
    if message is not None:
        assert str(caught.value) == message


@pytest.mark.parametrize(
    ("query", "position", "detail"),
    [
        ("港 @nowhere", 2, "unknown topic 'nowhere'"),
        ("@loop_a", 0, "topic alias cycle: loop_a -> loop_b -> loop_a"),
        ("x topic:broken", 2, "in topic 'broken' at position 4: expected a term or '(' after OR"),
    ],
)
def test_alias_errors_point_at_the_use(query: str, position: int, detail: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query(query, ALIASES)
    assert caught.value.position == position
    assert detail in str(caught.value)


def test_a_topic_cannot_refer_to_itself() -> None:
    with pytest.raises(QuerySyntaxError, match="topic alias cycle: me -> me"):
        parse_query("港 @me", {"me": "港 @me"}, name="me")


def test_caret_line_counts_wide_characters() -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query("青岛 OR")
    assert caught.value.caret_lines() == "青岛 OR\n       ^"


def test_label_names_the_query() -> None:
    error = QuerySyntaxError("a OR", 4, "a term or '(' after OR").with_label("topic 7 'x'")
    assert str(error) == "topic 7 'x': query position 4: expected a term or '(' after OR"
    assert (error.position, error.expected) == (4, "a term or '(' after OR")


def test_terms_and_positive_terms() -> None:
    plan = parse_query("(青岛 OR title:烟台) -房产 -(楼市 -港口)")
    assert [term.norm for term in plan.terms] == ["房产", "楼市", "港口", "烟台", "青岛"]
    assert [term.norm for term in plan.positive] == ["港口", "烟台", "青岛"]


def test_term_flags() -> None:
    latin, cjk, mixed, dashed = (Term.of(text) for text in ("AI", "青岛", "A股", "-ai-"))
    assert (latin.norm, latin.latin, latin.left, latin.right) == ("ai", True, True, True)
    assert (cjk.norm, cjk.latin, cjk.bounded) == ("青岛", False, False)
    assert (mixed.norm, mixed.latin, mixed.left, mixed.right) == ("a股", True, True, False)
    assert (dashed.latin, dashed.bounded) == (True, False)  # its ends are not letters
    assert (cjk.scope, Term.of("x", field="source").scope) == (("title", "body"), ("source",))


@pytest.mark.parametrize(("query", "required"), [
    ("青岛", [{"青岛"}]),
    ("青岛 自贸区", [{"自贸区"}, {"青岛"}]),  # the longer (likely rarer) term first
    ("青岛 (港口 OR 码头)", [{"青岛"}, {"港口", "码头"}]),
    ("青岛 OR 烟台 -房产", [{"青岛", "烟台"}]),
    ("青岛 OR -(-烟台)", [{"青岛", "烟台"}]),  # a branch requiring nothing: every positive
    ("NOT (NOT 烟台)", [{"烟台"}]),
])
def test_requirements(query: str, required: list[set[str]]) -> None:
    assert [{term.norm for term in terms} for terms in parse_query(query).requirements
            ] == required


def test_evaluate() -> None:
    node = parse_query("(a OR b) c -d").root
    assert evaluate(node, lambda term: term.norm in {"a", "c"})
    assert not evaluate(node, lambda term: term.norm in {"a", "c", "d"})
    assert not evaluate(node, lambda term: term.norm in {"a", "b"})


@pytest.mark.parametrize(
    ("query", "title", "body", "source", "expected"),
    [
        ("青岛", "青岛新闻", "", "", True),
        ("青岛", "", "今日青島", "", True),
        ("青島", "", "今日青岛", "", True),
        ("青島", "青岛", "", "", True),
        ("青岛", "", "", "青岛日报", False),  # unscoped terms look in title and body
        ("source:青岛日报", "", "", "青島日報", True),
        ("title:青岛", "", "青岛", "", False),
        ("body:青岛", "青岛", "", "", False),
        ("青岛 -房产", "", "青岛港口", "", True),
        ("青岛 -房产", "", "青岛房产", "", False),
        ("青岛 -房产", "房產", "青岛", "", False),
        ("(青岛 OR 烟台) (港口 -(房产 OR 楼市))", "", "烟台港口", "", True),
        ("(青岛 OR 烟台) (港口 -(房产 OR 楼市))", "", "烟台港口楼市", "", False),
        ("AI", "", "AI 芯片", "", True),
        ("AI", "", "ai-driven", "", True),
        ("AI", "", "MAIL", "", False),
        ("AI", "", "用AI做", "", True),  # CJK neighbours are boundaries
        ("ai", "", "OpenAI", "", False),
        ("5G", "", "15G", "", False),
        ("A股", "", "A股大涨", "", True),
        ("A股", "", "CA股", "", False),
        ('"Hong Kong"', "", "HONG   KONG", "", True),
        ('"Hong Kong"', "", "Hong Kongers", "", False),
        ("qingdao", "", "QINGDAO", "", True),
        ("青岛 港口", "青岛", "港口", "", True),  # terms may sit in different fields
        ("计划", "", "計畫", "", True),
    ],
)
def test_matches(query: str, title: str, body: str, source: str, expected: bool) -> None:
    fields = {"title": title, "body": body, "source": source}
    assert parse_query(query).matches(fields) is expected


@settings(max_examples=500, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list('ab青岛 ()"“”|-@:ORNTDAtiletopic\u200b')), max_size=30)
)
def test_any_text_parses_or_fails_cleanly(query: str) -> None:
    try:
        plan = parse_query(query, ALIASES)
    except QuerySyntaxError as error:
        assert 0 <= error.position <= len(query)
        assert str(error).startswith(f"query position {error.position}: expected ")
        assert error.caret_lines().startswith(query.replace("\n", " ").replace("\t", " "))
    else:
        assert plan.positive and plan.requirements
        assert not evaluate(plan.root, lambda term: False)
        assert all(set(terms) <= set(plan.positive) for terms in plan.requirements)


@settings(max_examples=300, deadline=None)
@given(query=st.text(alphabet=st.sampled_from(list("abcd ()|-")), max_size=24),
       present=st.sets(st.sampled_from("abcd")))
def test_the_compiled_predicate_is_the_reference_evaluation(query: str, present: set[str]
                                                             ) -> None:
    """The matcher's compiled test and the reference agree, and a query holds only when
    each of its requirements has a present term."""
    try:
        plan = parse_query(query)
    except QuerySyntaxError:
        return
    holds = evaluate(plan.root, lambda term: term.norm in present)
    assert plan.predicate(lambda term: term.norm)(frozenset(present)) is holds
    if holds:
        assert all(any(term.norm in present for term in terms) for terms in plan.requirements)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["青岛", "烟台", "港口", "AI", '"hong kong"']), min_size=1))
def test_juxtaposed_terms_all_required(words: list[str]) -> None:
    plan = parse_query(" ".join(words))
    node = plan.root
    assert {term.text for term in plan.terms} == {word.strip('"') for word in words}
    assert isinstance(node, Term) or (isinstance(node, And) and not isinstance(node, Or))
