"""Benchmark: topic matching throughput, and the OpenCC-identical script converter.

    python bench/matching.py [--corpus DIR] [--rounds 5] [--pages N] [--no-converter]
                             [--text stored|page|both]

**Converter.**  Every page of the corpus (decoded with the manifest's encoding, else
UTF-8 with replacement: both sides get the same text) goes through
``opencc.OpenCC('t2s').convert`` and :func:`newsmon.textnorm.to_simplified`; prints MB/s
of each (MB of UTF-8 input), their ratio, and on how many pages the outputs are identical.
``normalize`` (the matching key) is timed on the same text for reference.

**Matching.**  Articles of about 5 KB of UTF-8 text (~1,700 Chinese characters) are cut
from one of two texts (``--text``; both by default, one after the other):

* ``stored`` -- the title and body newsmon's extractor takes from each corpus article
  page, what storage keeps and the match job reads: the target's workload;
* ``page`` -- the corpus pages' whole visible text, menus, footers and stray marks
  (byte-order marks, no-break spaces) included, which storage never holds: for
  reference (its articles get over twice the matches of stored text).

Half the pages give the articles, the other half the topic words (synthetic text when
the corpus is absent). Each article gets a title and an outlet name as source; keys are
normalised once up front, as storage keeps them.  Topic sets of 10, 1,000 and 10,000 are
built from a list of real place names, subject words and words drawn from the articles
(see ``make_topics``) in two mixes:

* ``watchlist`` -- what a monitoring desk tracks: named things (words of 3-5 characters
  found in at most 1% of the articles), a place with a specific subject, alternatives,
  exclusions, a few title-scoped and Latin terms;
* ``broad`` -- a place with a generic subject word (北京 经济): such topics match a few
  dozen of 10,000 per article, and the cost of reporting every match dominates (a
  stress case: its lines say "reference").

For each set: the engine's articles/s with full evidence (:meth:`Matcher.match`: hits
with offsets and snippets) and decision-only (:meth:`Matcher.match_ids`), against a naive
baseline in the same run (every topic, every term searched with ``str.find`` plus the
word-boundary rule -- the reference, ``Plan.matches_keys``), the ratio, matches per article, and
whether engine and baseline picked the same topics.  Timings are the median of
``--rounds`` passes, by the wall clock and by this process's CPU time (the machine may be
shared: the load average is printed before and after); the baseline runs for about a
second per set.  ``us/match`` is what hits and snippets cost per match -- full minus ids,
in CPU time, over the matches -- since full evidence grows with the matches an article
has, not with the topic count.

Targets (issue 4): with 10,000 topics >= 10,000 articles/s (stored text); converter
>= 20x convert().
Exits 2 when ``--corpus`` is given but missing.
"""

from __future__ import annotations

import argparse
import csv
import html
import os
import random
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import ahocorasick_rs
import opencc
from corpus_articles import extracted_articles

from newsmon.matching import ArticleText, Matcher, TopicSpec
from newsmon.query import Plan, parse_query
from newsmon.textnorm import normalize, to_simplified, to_traditional

DEFAULT_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
ARTICLE_BYTES = 5000
TOPIC_COUNTS = (10, 1_000, 10_000)
TARGET_ARTICLES_PER_SECOND = 10_000
TARGET_CONVERTER_RATIO = 20.0


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


PLACES = _words(
    "北京 上海 天津 重庆 青岛 济南 烟台 威海 潍坊 淄博 临沂 济宁 泰安 日照 东营 滨州 德州 聊城 "
    "菏泽 枣庄 广州 深圳 珠海 佛山 东莞 杭州 宁波 温州 南京 苏州 无锡 常州 合肥 武汉 长沙 郑州 "
    "西安 成都 昆明 贵阳 南宁 海口 福州 厦门 南昌 太原 石家庄 沈阳 大连 长春 哈尔滨 呼和浩特 "
    "银川 兰州 西宁 乌鲁木齐 拉萨 香港 澳门 台北 高雄 台中 台南 新竹 基隆 九龙 新界 湾仔 "
    "铜锣湾 崂山 黄岛 即墨 胶州 平度 莱西 市南区 市北区 李沧区 城阳区 浦东 徐汇 静安 海淀 "
    "朝阳区 丰台 南山区 福田区 罗湖区 宝安区 龙岗区 天河区 越秀区 番禺 滨海新区 雄安 "
    "粤港澳大湾区 长三角 京津冀 山东 江苏 浙江 广东 福建 河北 河南 湖北 湖南 四川 云南 贵州 "
    "广西 海南 江西 安徽 山西 陕西 甘肃 青海 宁夏 新疆 西藏 内蒙古 辽宁 吉林 黑龙江 台湾"
)
SPECIFIC_SUBJECTS = _words(
    "地铁 台风 高铁 机场 拍卖 破产 自贸区 暴雨 停水 停电 火灾 交通事故 地震 疫苗 核酸 马拉松 "
    "演唱会 世界杯 垃圾分类 新能源 芯片 半导体 人工智能 电商 直播 快递 外卖 食品安全 啤酒 "
    "港口 码头 隧道 大桥 轮渡 海关 关税 楼盘 学区房 公积金 医保 养老金 高考 中考 招聘会 "
    "博览会 峰会 论坛 展会 音乐节 电影节 航展 渔业 海洋牧场 造船 风电 光伏 氢能 锂电池"
)
GENERIC_SUBJECTS = _words(
    "经济 发展 建设 企业 项目 会议 政策 改革 工作 服务 管理 市场 投资 生产 社会 文化 教育 "
    "安全 环境 技术 产业 城市 农村 国际 合作 政府 领导 群众 问题 活动 组织 部门 单位 公司"
)
OUTLETS = _words("新华社 中新社 人民日报 大众日报 青岛日报 明报 中央社 联合报 南方日报 澎湃新闻")
FILLER = (
    "青岛港今天发布消息，自贸区建设稳步推进。烟台举办博览会，市民踊跃参加。台风过境后交通恢复。"
)


# --------------------------------------------------------------------------------------
# Input


def corpus_pages(corpus: Path) -> list[tuple[str, str]]:
    """(name, text) of every corpus page, decoded as the manifest says (roughly)."""
    pages = []
    with (corpus / "MANIFEST.tsv").open(encoding="utf-8") as manifest:
        for row in csv.DictReader(manifest, delimiter="\t"):
            raw = (corpus / row["folder"] / row["file"]).read_bytes()
            try:
                text = raw.decode(row["bytes_encoding"])
            except (LookupError, UnicodeDecodeError):
                text = raw.decode("utf-8", errors="replace")
            pages.append((f"{row['folder']}/{row['file']}", text))
    return pages


def stored_texts(corpus: Path) -> list[str]:
    """Title and body of every corpus article page, as newsmon's extractor stores them:
    the text the match job reads from the database."""
    return [f"{article.title}\n{article.body}" for article in extracted_articles(corpus)]


def visible_lines(page: str) -> list[str]:
    """Lines of a page's visible text that hold at least 10 Chinese characters."""
    page = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", page)
    text = html.unescape(re.sub(r"<[^>]+>", "\n", page))
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if len(re.findall(r"[\u4e00-\u9fff]", line)) >= 10]


def cut_articles(text: str, rng: random.Random) -> list[ArticleText]:
    """Consecutive pieces of ``text`` of about ARTICLE_BYTES UTF-8 bytes each."""
    articles: list[ArticleText] = []
    start = 0
    while start < len(text):
        end = min(len(text), start + ARTICLE_BYTES // 3)
        while end < len(text) and len(text[start:end].encode()) < ARTICLE_BYTES:
            end += 20
        body, start = text[start:end], end
        if len(body.encode()) < ARTICLE_BYTES * 0.9:
            break  # the short tail
        title = body.split("\n", 1)[0][:30]
        source = rng.choice(OUTLETS)
        keys = normalize(title), normalize(body), normalize(source)
        articles.append(ArticleText(len(articles), title, body, source, *keys))
    return articles


def synthetic_text(rng: random.Random, size: int = 2_000_000) -> str:
    """Text from the word lists when the corpus is absent (far less varied than news)."""
    words = [*PLACES, *SPECIFIC_SUBJECTS, *GENERIC_SUBJECTS, *FILLER]
    pieces: list[str] = []
    length = 0
    while length < size:
        piece = rng.choice(words) + rng.choice(["", "", "，", "。", "的", "\n"])
        pieces.append(piece)
        length += len(piece)
    return "".join(pieces)


# --------------------------------------------------------------------------------------
# Topics


def named_words(articles: Sequence[ArticleText], rng: random.Random, wanted: int) -> list[str]:
    """Words of 3-5 Chinese characters drawn from the articles, found in <= 1% of them.

    Stands in for the names a desk tracks; real names are rarer still in any one article.
    """
    runs = [run for article in articles for run in re.findall(r"[\u4e00-\u9fff]{5,}", article.body)]
    candidates: set[str] = set()
    while len(candidates) < wanted * 3 and runs:
        run = rng.choice(runs)
        length = rng.choice((3, 4, 4, 5))
        start = rng.randrange(len(run) - length + 1)
        candidates.add(run[start : start + length])
    ordered = sorted(candidates)
    automaton = ahocorasick_rs.AhoCorasick([normalize(word) for word in ordered])
    found_in = [0] * len(ordered)
    for article in articles:
        for pattern in {
            match[0]
            for match in automaton.find_matches_as_indexes(
                article.body_norm or "", overlapping=True
            )
        }:
            found_in[pattern] += 1
    limit = max(1, len(articles) // 100)
    rare = [word for word, count in zip(ordered, found_in, strict=True) if count <= limit]
    rng.shuffle(rare)
    return rare[:wanted]


def latin_words(articles: Sequence[ArticleText]) -> list[str]:
    words = {
        word for article in articles for word in re.findall(r"\b[A-Za-z]{4,10}\b", article.body)
    }
    return sorted(words)[:200] or ["Qingdao", "APEC"]


def make_topics(
    count: int, mix: str, words: list[str], latin: list[str], seed: int
) -> list[TopicSpec]:
    """``count`` topics of the given mix; 20% of places are written in Traditional script."""
    rng = random.Random(seed)

    def place() -> str:
        name = rng.choice(PLACES)
        return to_traditional(name) if rng.random() < 0.2 else name

    topics = []
    for number in range(count):
        word, other = rng.sample(words, 2)
        subject, subject2 = rng.sample(SPECIFIC_SUBJECTS, 2)
        roll = rng.random()
        if mix == "broad":
            query = f"{place()} {rng.choice(GENERIC_SUBJECTS)}"
        elif roll < 0.30:
            query = word
        elif roll < 0.40:
            query = f"{word} OR {to_traditional(other)}"
        elif roll < 0.65:
            query = f"{place()} {subject}"
        elif roll < 0.80:
            query = f"{word} {place()}"
        elif roll < 0.90:
            query = f"{place()} ({subject} OR {subject2})"
        elif roll < 0.95:
            query = f"{place()} {subject} -{subject2}"
        elif roll < 0.98:
            query = f"title:{word}"
        else:
            query = f"{rng.choice(latin)} {place()}"
        topics.append(TopicSpec(number, f"t{number}", query))
    return topics


# --------------------------------------------------------------------------------------
# Measurements


def rate(work: Callable[[], int], rounds: int) -> tuple[float, float]:
    """Median items/second over ``rounds`` runs of ``work`` (which returns its item count),
    by the wall clock and by this process's CPU time.

    The machine may be shared: the CPU-time rate leaves out the time other processes held
    the CPU (not their effect on caches), so it varies less from run to run.
    """
    wall, cpu = [], []
    for _ in range(rounds):
        started, started_cpu = time.perf_counter(), time.process_time()
        items = work()
        wall.append(items / (time.perf_counter() - started))
        cpu.append(items / max(time.process_time() - started_cpu, 1e-9))
    return statistics.median(wall), statistics.median(cpu)


def naive_ids(topics: Sequence[tuple[int, Plan]], article: ArticleText) -> list[int]:
    """The baseline: every topic, every term looked up on its own."""
    keys = {
        "title": article.title_norm or "",
        "body": article.body_norm or "",
        "source": article.source_norm or "",
    }
    return [topic_id for topic_id, plan in topics if plan.matches_keys(keys)]


@dataclass(frozen=True, slots=True)
class MatchFigures:
    topics: int
    mix: str
    patterns: int
    build_seconds: float
    full_rate: float
    ids_rate: float
    full_cpu_rate: float
    ids_cpu_rate: float
    naive_rate: float
    matches_per_article: float
    agreed: int
    compared: int


def measure_matching(
    articles: Sequence[ArticleText], topics: list[TopicSpec], mix: str, rounds: int
) -> MatchFigures:
    started = time.perf_counter()
    matcher = Matcher(topics)
    build_seconds = time.perf_counter() - started

    def full() -> int:
        for article in articles:
            matcher.match(article)
        return len(articles)

    def ids() -> int:
        for article in articles:
            matcher.match_ids(article)
        return len(articles)

    full_rate, full_cpu_rate = rate(full, rounds)
    ids_rate, ids_cpu_rate = rate(ids, rounds)
    results = [matcher.match(article) for article in articles]
    matches = sum(len(found) for found in results)

    parsed = [(topic.id, parse_query(topic.query)) for topic in topics]
    compared = agreed = 0
    started = time.perf_counter()
    while compared < len(articles) and (compared < 3 or time.perf_counter() - started < 1.0):
        article = articles[compared]
        agreed += naive_ids(parsed, article) == matcher.match_ids(article)
        compared += 1
    naive_seconds = time.perf_counter() - started
    return MatchFigures(
        len(topics),
        mix,
        matcher.pattern_count,
        build_seconds,
        full_rate,
        ids_rate,
        full_cpu_rate,
        ids_cpu_rate,
        compared / naive_seconds,
        matches / len(articles),
        agreed,
        compared,
    )


def measure_converter(pages: Sequence[tuple[str, str]]) -> None:
    reference = opencc.OpenCC("t2s")
    size = sum(len(text.encode()) for _, text in pages)
    identical = 0
    reference_seconds = ours_seconds = key_seconds = 0.0
    different: list[str] = []
    for name, text in pages:
        started = time.perf_counter()
        expected = reference.convert(text)
        reference_seconds += time.perf_counter() - started
        started = time.perf_counter()
        ours = to_simplified(text)
        ours_seconds += time.perf_counter() - started
        started = time.perf_counter()
        normalize(text)
        key_seconds += time.perf_counter() - started
        if ours == expected:
            identical += 1
        else:
            different.append(name)
    reference_rate = size / reference_seconds / 1e6
    ours_rate = size / ours_seconds / 1e6
    ratio = ours_rate / reference_rate
    print(f"converter (t2s) over {len(pages)} corpus pages, {size / 1e6:.1f} MB of UTF-8")
    print(f"  OpenCC('t2s').convert   {reference_rate:8.2f} MB/s")
    verdict = "PASS" if ratio >= TARGET_CONVERTER_RATIO else "FAIL"
    print(
        f"  to_simplified           {ours_rate:8.2f} MB/s   {ratio:5.1f}x convert()   "
        f"[target >= {TARGET_CONVERTER_RATIO:.0f}x: {verdict}]"
    )
    print(f"  normalize (the key)     {size / key_seconds / 1e6:8.2f} MB/s   (reference only)")
    print(
        f"  identical output        {identical}/{len(pages)} pages"
        + (f"; differ: {', '.join(different[:5])}" if different else "")
    )


def print_matching(
    figures: Sequence[MatchFigures], articles: Sequence[ArticleText], workload: Workload
) -> None:
    sizes = [len(article.body.encode()) + len(article.title.encode()) for article in articles]
    chars = statistics.mean(len(article.body) for article in articles)
    print(f"\nmatching, {workload.label} text: {len(articles)} articles from {workload.source}")
    print(
        f"  {min(sizes) / 1000:.1f}-{max(sizes) / 1000:.1f} KB of UTF-8 each "
        f"(~{chars:,.0f} characters); keys normalised up front, as storage keeps them"
    )
    print(
        "  full = Matcher.match (hits with offsets, snippets); ids = Matcher.match_ids;"
        " naive = every topic, every term by str.find"
    )
    header = (
        "topics",
        "mix",
        "terms",
        "build s",
        "matches/art",
        "full art/s",
        "ids art/s",
        "full cpu",
        "ids cpu",
        "naive art/s",
        "full/naive",
        "ids/naive",
        "us/match",
        "same",
    )
    print("  " + " ".join(f"{name:>11}" for name in header))
    for row in figures:
        cells = (
            f"{row.topics:,}",
            row.mix,
            f"{row.patterns:,}",
            f"{row.build_seconds:.2f}",
            f"{row.matches_per_article:.2f}",
            f"{row.full_rate:,.0f}",
            f"{row.ids_rate:,.0f}",
            f"{row.full_cpu_rate:,.0f}",
            f"{row.ids_cpu_rate:,.0f}",
            f"{row.naive_rate:,.1f}",
            f"{row.full_rate / row.naive_rate:,.0f}x",
            f"{row.ids_rate / row.naive_rate:,.0f}x",
            f"{evidence_per_match(row):.1f}" if row.matches_per_article >= 0.5 else "-",
            f"{row.agreed}/{row.compared}",
        )
        print("  " + " ".join(f"{cell:>11}" for cell in cells))
    print(
        "  art/s: by the wall clock; cpu: by this process's CPU time (median of the rounds);"
        " us/match: (full - ids) CPU time per match, the cost of hits and snippets"
    )
    for row in figures:
        if row.topics == 10_000:
            for label, wall, cpu in (
                ("full", row.full_rate, row.full_cpu_rate),
                ("ids", row.ids_rate, row.ids_cpu_rate),
            ):
                print(
                    f"{'target' if workload.target and row.mix == 'watchlist' else 'reference'}"
                    f" ({workload.label} text): "
                    f"10,000 {row.mix} topics, {label}: {wall:,.0f} articles/s "
                    f"({verdict(wall)}), {cpu:,.0f} by CPU time ({verdict(cpu)}); "
                    f"target >= {TARGET_ARTICLES_PER_SECOND:,}"
                )


def evidence_per_match(row: MatchFigures) -> float:
    """Microseconds of CPU time that hits and snippets add per match (too noisy to show
    when there is less than one match every two articles)."""
    extra = 1 / row.full_cpu_rate - 1 / row.ids_cpu_rate
    return max(extra, 0.0) * 1e6 / row.matches_per_article


def verdict(value: float) -> str:
    return "PASS" if value >= TARGET_ARTICLES_PER_SECOND else "FAIL"


def load_average() -> str:
    """The 1-minute load average and the CPU count: how shared the machine was."""
    try:
        load = f"{os.getloadavg()[0]:.2f}"
    except OSError:
        load = "unknown"
    return f"load average {load} on {os.cpu_count()} CPUs"


@dataclass(frozen=True, slots=True)
class Workload:
    """Articles to match and the text their topics' words are drawn from."""

    label: str
    source: str
    archive_text: str
    incoming_text: str
    target: bool  # whether its 10,000-topic figures are the target


def workloads(pages: Sequence[tuple[str, str]], corpus: Path, chosen: str,
              rng: random.Random) -> list[Workload]:
    """Topics are written before the articles they catch arrive: their words are drawn
    from an "archive" (every other page), the articles matched come from the others."""
    if not pages:
        text = synthetic_text(rng), synthetic_text(rng)
        return [Workload("synthetic", "synthetic text", *text, target=True)]
    found = []
    if chosen in ("stored", "both"):
        texts = stored_texts(corpus)
        found.append(Workload(
            "stored", "the corpus's article pages as the extractor stores them (title and "
            "body; half the pages, the other half gave the topic words)",
            "\n".join(texts[0::2]), "\n".join(texts[1::2]), target=True))
    if chosen in ("page", "both"):
        lines = [visible_lines(page) for _, page in pages]
        found.append(Workload(
            "page", "the corpus pages' whole visible text, menus and footers included (half "
            "the pages, the other half gave the topic words; for reference)",
            "\n".join(line for page in lines[0::2] for line in page),
            "\n".join(line for page in lines[1::2] for line in page), target=False))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--corpus", help=f"corpus directory (default {DEFAULT_CORPUS} if present)")
    parser.add_argument("--rounds", type=int, default=5, help="timed passes per figure (median)")
    parser.add_argument("--pages", type=int, default=0, help="only the first N pages (0: all)")
    parser.add_argument("--no-converter", action="store_true", help="skip the converter part")
    parser.add_argument("--text", choices=("stored", "page", "both"), default="both",
                        help="articles from stored article text, whole page text, or both")
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args(argv)
    corpus = Path(args.corpus) if args.corpus else DEFAULT_CORPUS
    if args.corpus and not (corpus / "MANIFEST.tsv").is_file():
        print(f"error: no corpus at {corpus} (MANIFEST.tsv missing)", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    pages = corpus_pages(corpus) if (corpus / "MANIFEST.tsv").is_file() else []
    if args.pages:
        pages = pages[: args.pages]
    if pages and not args.no_converter:
        measure_converter(pages)
    elif not pages:
        print(f"no corpus at {corpus}: converter part skipped, synthetic articles", file=sys.stderr)
    load_before = load_average()
    for workload in workloads(pages, corpus, args.text, rng):
        articles = cut_articles(workload.incoming_text, rng)
        archive = cut_articles(workload.archive_text, rng)
        words = named_words(archive, rng, 6000)
        latin = latin_words(archive)
        figures = [
            measure_matching(
                articles, make_topics(count, mix, words, latin, args.seed), mix, args.rounds
            )
            for mix in ("watchlist", "broad")
            for count in TOPIC_COUNTS
        ]
        print_matching(figures, articles, workload)
    print(f"machine: {load_before} before the matching part, {load_average()} after")
    return 0


if __name__ == "__main__":
    sys.exit(main())
