"""Benchmark: full-text search over a synthetic archive, against a LIKE scan in the same run.

    python bench/search.py [--articles 200000 | --large] [--postgres [URL]] [--workdir DIR]
                           [--terms 20] [--corpus DIR]

**Archive.** Articles are assembled from the bodies and titles newsmon's extractor reads
off the corpus's article pages (``../shared/corpus``): a title, 3-12 paragraphs drawn at
random, a publish time spread over three years (not in insertion order), one of eight
crawl sources. They are stored through the real path (``normalize`` then
:func:`storage.articles.upsert_article`, 500 per transaction), so the index is built by
the same triggers (SQLite) or index expressions (PostgreSQL) as in production. With
``--workdir`` archives are kept and reused by later runs.

**Queries.** Terms are cut from the stored text at random positions (so they are as
common as they are in the text: what people type), in kinds: 1, 2 and 4 characters,
2 characters drawn uniformly from the *distinct* bigrams, a phrase with punctuation, a
boolean query ``(A OR B) -C``, and a rare name. The pool repeats its ~150 articles'
paragraphs, so even its "rare" bigrams occur in hundreds of articles; 3% of the articles
therefore also carry a reporter's name from a list of 5,000 (about one article each),
standing in for the long tail of names and places real news has. Each query asks for the
newest 20 matches (:func:`storage.search.search_articles`, exact results). Two baselines
answer the same question with ``LIKE '%term%'`` on the normalised columns:

* *LIKE scan* -- the brute-force scan the issue names: every article is read and tested,
  then the matches are sorted by publish time (``ORDER BY`` an expression no index
  serves, so neither database can stop early);
* *LIKE, date index* -- ``ORDER BY published_at DESC LIMIT 20`` walking the publish-time
  index, which stops at the 20th match: as fast as any index for a term in many
  articles (search itself reads newest-first for those), slow for a rare one.

Latency is the median of 3 runs per query (1 for each baseline) after a warm-up; the
table shows p50/p95 over the queries of a kind, the ratios of the p50s, and the median
number of matching articles (in the whole archive) of a kind's terms.

**Also:** index size on disk against the bytes of normalised text it indexes; insert
throughput into two fresh 20,000-article archives, one with and one without the index,
filled with the same articles a chunk into each in turn (so both see the same machine
load); peak resident memory of ``newsmon export`` (whole archive to a file) over the
20,000 and the full archive. On PostgreSQL the full archive is ANALYZEd first, as
autovacuum would, and every build ends by folding the GIN index's pending entries in,
as every crawl run does (:func:`storage.fts.settle_search_index`; the insert rates
include it).

Targets (issue 8): on 200,000 articles a 2-character term's p50 <= 20 ms and >= 20x
faster than the (brute-force) LIKE scan; index <= 1.5x the text. Exits 2 when the corpus
is missing.
"""

from __future__ import annotations

import argparse
import functools
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from corpus_articles import extracted_articles
from sqlalchemy import (
    ColumnElement,
    LargeBinary,
    Select,
    and_,
    cast,
    func,
    not_,
    or_,
    select,
    text,
)

from newsmon.crawler.normalise import content_hash
from newsmon.query import And, Node, Not, Or, Term, parse_query
from newsmon.storage.articles import ensure_source, upsert_article
from newsmon.storage.engine import Database, Session
from newsmon.storage.fts import search_index_bytes, settle_search_index
from newsmon.storage.models import Article
from newsmon.storage.search import search_articles
from newsmon.textnorm import normalize
from newsmon.values import ExtractedArticle, NormalizedArticle

DEFAULT_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SMALL = 20_000
CHUNK = 500
SITES = ["dzwww", "qingdaonews", "bandao", "wenweipo", "iqilu", "sdnews", "jiaodong", "ycnews"]
OUTLETS = ["新华社", "大众网", "人民网", "中国新闻网", "青岛日报", None]
EPOCH = datetime(2021, 1, 1, tzinfo=UTC)
SPAN_SECONDS = 3 * 365 * 86400


# --------------------------------------------------------------------------------------
# Text pool and synthetic articles


@dataclass(frozen=True)
class Pool:
    titles: list[str]
    paragraphs: list[str]


def load_pool(corpus: Path) -> Pool:
    """Titles and paragraphs of every article page the extractor reads a body from."""
    titles: list[str] = []
    paragraphs: list[str] = []
    for article in extracted_articles(corpus):
        if len(article.body) < 200:
            continue
        titles.append(article.title)
        paragraphs.extend(p for p in article.body.split("\n") if len(p.strip()) >= 10)
    return Pool(titles, paragraphs)


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞斌宇浩凯晨欣怡婷雪梅琳"
NAMED_SHARE = 0.03  # articles that name a reporter from the long tail below
NAMES = 5000


def long_tail_names(seed: int = 7) -> list[str]:
    """5,000 reporter names; at 3% of 200,000 articles each is in about one article: the
    long tail of rare proper nouns real news has and a pool of ~150 articles does not."""
    rng = random.Random(seed)
    names: set[str] = set()
    while len(names) < NAMES:
        names.add(rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN))
    return sorted(names)


def synthetic_items(pool: Pool, count: int, seed: int = 8
                    ) -> Iterator[tuple[str, NormalizedArticle]]:
    """``count`` (site, article) pairs, the same sequence for the same seed."""
    rng = random.Random(seed)
    names = long_tail_names()
    fetched = EPOCH + timedelta(seconds=SPAN_SECONDS)
    for number in range(count):
        title = rng.choice(pool.titles)
        body = "\n".join(rng.sample(pool.paragraphs, rng.randint(3, 12)))
        if rng.random() < NAMED_SHARE:
            body += f"\n（记者 {rng.choice(names)}）"
        url = f"https://news.example.cn/{number // 1000}/{number}.html"
        published = EPOCH + timedelta(seconds=rng.randrange(SPAN_SECONDS))
        article = ExtractedArticle(url=url, canonical_url=url, title=title, body=body,
                                   published_at=published, source=rng.choice(OUTLETS))
        title_norm, body_norm = normalize(title), normalize(body)
        yield rng.choice(SITES), NormalizedArticle(
            article, title_norm, body_norm, content_hash(title_norm, body_norm), fetched)


def build(databases: list[Database], pool: Pool, count: int, label: str) -> list[float]:
    """Store the same ``count`` articles into each database, a chunk into each in turn
    (so all see the same machine load); returns each one's articles/s of storage writes."""
    spent = [0.0] * len(databases)
    sources: list[dict[str, int]] = [{} for _ in databases]
    items = synthetic_items(pool, count)
    done = 0
    while done < count:
        chunk = [next(items) for _ in range(min(CHUNK, count - done))]
        for number, database in enumerate(databases):
            started = time.perf_counter()
            with database.session() as session, session.begin():
                for site, item in chunk:
                    if site not in sources[number]:
                        sources[number][site] = ensure_source(session, site)
                    upsert_article(session, sources[number][site], item)
            spent[number] += time.perf_counter() - started
        done += len(chunk)
        if done % 10_000 == 0 or done == count:
            rates = ", ".join(f"{done / s:,.0f}/s" for s in spent)
            print(f"\r{label}: {done:,}/{count:,} stored, {rates}", end="", file=sys.stderr,
                  flush=True)
    print(file=sys.stderr)
    for number, database in enumerate(databases):  # as a crawl's match step ends
        started = time.perf_counter()
        settle(database)
        spent[number] += time.perf_counter() - started
    return [count / s for s in spent]


def settle(database: Database) -> int:
    """Fold the pending index entries in (PostgreSQL), as every crawl run ends by doing;
    returns the pages folded (0 for the archive built without the index)."""
    with database.session() as session, session.begin():
        index = session.scalar(text("SELECT to_regclass('article_search_tokens')")
                               ) if session.get_bind().dialect.name == "postgresql" else ""
        return 0 if index is None else settle_search_index(session)


def stored_count(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count(Article.id))) or 0


def drop_index(database: Database) -> None:
    """Remove the search index, so writes pay nothing for it (the 'without' case)."""
    database.ensure_schema()
    with database.engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            for trigger in ("insert", "update", "delete"):
                connection.execute(text(f"DROP TRIGGER IF EXISTS article_search_{trigger}"))
            connection.execute(text("DROP TABLE IF EXISTS article_search"))
            connection.execute(text("DROP INDEX IF EXISTS article_search_when"))
        else:
            connection.execute(text("DROP INDEX IF EXISTS article_search_tokens"))
            connection.execute(text("DROP INDEX IF EXISTS article_search_order"))


# --------------------------------------------------------------------------------------
# Queries


@dataclass(frozen=True)
class Kind:
    name: str
    queries: list[str]


def sample_queries(database: Database, per_kind: int, seed: int = 9) -> list[Kind]:
    """Queries cut from stored articles' text (see the module docstring)."""
    rng = random.Random(seed)
    with database.session() as session:
        # 400 articles drawn by the seeded generator, not ORDER BY random(): every run on
        # the same archive asks the same queries
        ids = sorted(session.scalars(select(Article.id)))
        chosen = rng.sample(ids, min(400, len(ids)))
        texts = list(session.scalars(select(Article.body_norm)
                                     .where(Article.id.in_(chosen)).order_by(Article.id)))
    runs = [run for t in texts for run in _cjk_runs(t)]

    def cut(length: int) -> str:
        while True:
            run = rng.choice(runs)
            if len(run) >= length:
                start = rng.randrange(len(run) - length + 1)
                return run[start:start + length]

    distinct = sorted({run[i:i + 2] for run in runs for i in range(len(run) - 1)})

    def phrase() -> str:
        # "，" is "," once normalised; three hanzi on either side, comma included
        for _ in range(100_000):
            body = rng.choice(texts)
            at = body.find(",", rng.randrange(len(body)))
            if 3 <= at < len(body) - 3 and all(_is_cjk(c) for c in body[at - 3:at] +
                                               body[at + 1:at + 4]):
                return f'"{body[at - 3:at + 4]}"'
        raise SystemExit("no comma between Chinese words in the sampled articles")

    return [
        Kind("1 char", [cut(1) for _ in range(per_kind)]),
        Kind("2 chars", [cut(2) for _ in range(per_kind)]),
        Kind("2 chars, rare", rng.sample(distinct, per_kind)),
        Kind("4 chars", [cut(4) for _ in range(per_kind)]),
        Kind("phrase", [phrase() for _ in range(per_kind)]),
        Kind("(A OR B) -C", [f"({cut(2)} OR {cut(2)}) -{cut(1)}" for _ in range(per_kind)]),
        Kind("rare name", rng.sample(long_tail_names(), per_kind)),
    ]


def _is_cjk(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff"


def _cjk_runs(text_: str) -> list[str]:
    runs, current = [], []
    for char in text_:
        if _is_cjk(char):
            current.append(char)
        elif current:
            runs.append("".join(current))
            current = []
    if current:
        runs.append("".join(current))
    return runs


def like_condition(node: Node) -> ColumnElement[bool]:
    """The brute-force baseline: ``LIKE '%term%'`` for every term (no word boundaries)."""
    if isinstance(node, Term):
        columns = [Article.title_norm] if node.field == "title" else [
            Article.title_norm, Article.body_norm]
        return or_(*(c.contains(node.norm, autoescape=True) for c in columns))
    if isinstance(node, Not):
        return not_(like_condition(node.child))
    if isinstance(node, And):
        return and_(*(like_condition(child) for child in node.children))
    assert isinstance(node, Or)
    return or_(*(like_condition(child) for child in node.children))


def timed(action: Callable[[], object], runs: int) -> float:
    """Median seconds of ``runs`` calls."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


@dataclass(frozen=True)
class Measured:
    kind: str
    index_ms: list[float]
    like_ms: list[float]  # every article read: the brute-force scan
    walk_ms: list[float]  # newest first through the publish-time index, stopping at 20
    matches: list[int]


def measure(database: Database, kinds: list[Kind], count_matches: bool) -> list[Measured]:
    results = []
    with database.session() as session:
        for kind in kinds:
            index_ms: list[float] = []
            like_ms: list[float] = []
            walk_ms: list[float] = []
            counts: list[int] = []
            for query in kind.queries:
                plan = parse_query(query)
                node = plan.root
                indexed = functools.partial(search_articles, session, plan, limit=20)
                indexed()  # warm-up
                index_ms.append(1000 * timed(indexed, runs=3))
                # search's settings (PostgreSQL: no JIT, no parallel workers) last to the
                # end of its transaction: the baselines run in their own, as the server
                # is configured
                session.rollback()
                for statement, into in ((brute_force(node), like_ms), (date_walk(node), walk_ms)):
                    into.append(1000 * timed(functools.partial(_all_rows, session, statement),
                                             runs=1))
                session.rollback()
                if count_matches:
                    counts.append(session.scalar(select(func.count()).select_from(Article)
                                                 .where(like_condition(node))) or 0)
            results.append(Measured(kind.name, index_ms, like_ms, walk_ms, counts))
            print(f"  measured {kind.name}", file=sys.stderr)
    return results


def brute_force(node: Node) -> Select[int]:
    """The newest 20 LIKE matches, every article read: no index serves the ordering
    expression (``coalesce`` of the column with itself), so no scan stops early."""
    newest = func.coalesce(Article.published_at, Article.published_at)
    return select(Article.id).where(like_condition(node)).order_by(newest.desc()).limit(20)


def date_walk(node: Node) -> Select[int]:
    """The newest 20 LIKE matches through the publish-time index, stopping at the 20th."""
    return (select(Article.id).where(like_condition(node))
            .order_by(Article.published_at.desc()).limit(20))


def _all_rows(session: Session, statement: Select[int]) -> list[int]:
    return list(session.scalars(statement))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def render(results: list[Measured]) -> str:
    head = (f"{'query kind':<15} {'n':>3} {'index p50':>10} {'p95':>8} {'LIKE scan p50':>14} "
            f"{'p95':>9} {'ratio':>6} {'LIKE, date index p50':>21} {'ratio':>6} "
            f"{'matches (median)':>17}")
    lines = [head, "-" * len(head)]
    for r in results:
        p50 = percentile(r.index_ms, 0.5)
        like50, walk50 = percentile(r.like_ms, 0.5), percentile(r.walk_ms, 0.5)
        counts = f"{statistics.median(r.matches):,.0f}" if r.matches else "-"
        lines.append(f"{r.kind:<15} {len(r.index_ms):>3} {p50:>8.2f}ms "
                     f"{percentile(r.index_ms, 0.95):>6.1f}ms {like50:>12.1f}ms "
                     f"{percentile(r.like_ms, 0.95):>7.1f}ms {like50 / p50:>5.0f}x "
                     f"{walk50:>19.1f}ms {walk50 / p50:>5.1f}x {counts:>17}")
    lines.append("ratio: the baseline's p50 over the index's p50")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# Sizes and memory


def text_bytes(database: Database) -> int:
    with database.session() as session:
        if session.get_bind().dialect.name == "postgresql":
            size = func.octet_length(Article.title_norm) + func.octet_length(Article.body_norm)
        else:
            size = (func.length(cast(Article.title_norm, LargeBinary))
                    + func.length(cast(Article.body_norm, LargeBinary)))
        return int(session.scalar(select(func.sum(size))) or 0)


def index_bytes(database: Database) -> int:
    with database.session() as session:
        return search_index_bytes(session)


EXPORT_PROBE = (
    "import resource, sys\n"
    "from newsmon.cli import cli\n"
    "try:\n"
    "    cli.main(sys.argv[1:], prog_name='newsmon', standalone_mode=False)\n"
    "finally:\n"
    "    print('maxrss_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
)


def _verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def export_peak_mb(url: str) -> tuple[float, float]:
    """Peak RSS (MB) and seconds of ``newsmon export`` of the whole archive to a temporary
    file (``export -o`` refuses a device such as /dev/null: it writes a file and renames it)."""
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", EXPORT_PROBE, "--db", url, "export",
                               "-o", str(Path(scratch) / "all.jsonl")],
                              capture_output=True, text=True, check=True)
        seconds = time.perf_counter() - started
    kb = next(int(line.split()[1]) for line in done.stderr.splitlines()
              if line.startswith("maxrss_kb"))
    return kb / 1024, seconds


# --------------------------------------------------------------------------------------
# Runs


def archive(url: str, pool: Pool, count: int, label: str) -> tuple[Database, float | None]:
    """The archive at ``url`` with ``count`` articles, built unless already there."""
    database = Database(url)
    have = stored_count(database)
    if have == count:
        print(f"{label}: reusing {count:,} stored articles", file=sys.stderr)
        return database, None
    if have:
        raise SystemExit(f"{url} holds {have:,} articles, not {count:,}: use another --workdir")
    return database, build([database], pool, count, label)[0]


def insert_rates(with_url: str, without_url: str, pool: Pool, count: int, label: str
                 ) -> tuple[Database, float, float]:
    """Archives with and without the index (URLs of empty databases), filled side by
    side; their rates."""
    indexed, plain = Database(with_url), Database(without_url)
    indexed.ensure_schema()
    drop_index(plain)
    with_rate, without_rate = build([indexed, plain], pool, count, label)
    plain.dispose()
    return indexed, with_rate, without_rate


def run_backend(name: str, url_for: Callable[[str, bool], str], pool: Pool, count: int,
                per_kind: int, small_count: int) -> None:
    print(f"\n== {name}, {count:,} articles ==")
    small, with_rate, without_rate = insert_rates(
        url_for("small", True), url_for("small_noindex", True), pool, small_count,
        f"{name} {small_count:,} with / without the index")
    print(f"insert, {small_count:,} articles: {with_rate:,.0f}/s with the index, "
          f"{without_rate:,.0f}/s without ({with_rate / without_rate:.2f}x)")
    full, full_rate = archive(url_for("full", False), pool, count, f"{name} {count:,}")
    if full_rate is not None:
        print(f"insert, {count:,} articles with the index: {full_rate:,.0f}/s")
    if name == "PostgreSQL":
        with full.engine.begin() as connection:  # what autovacuum does after a bulk load
            connection.execute(text("ANALYZE articles"))
        print(f"index entries pending, folded in before measuring: {settle(full)} pages",
              file=sys.stderr)  # 0 unless the archive was built before builds settled
    indexed, stored = index_bytes(full), text_bytes(full)
    print(f"index on disk: {indexed / 1e6:,.1f} MB for {stored / 1e6:,.1f} MB of normalised "
          f"text = {indexed / stored:.2f}x (target <= 1.5x)")
    kinds = sample_queries(full, per_kind)
    results = measure(full, kinds, count_matches=True)
    print(render(results))
    two = next(r for r in results if r.kind == "2 chars")
    p50 = percentile(two.index_ms, 0.5)
    ratio = percentile(two.like_ms, 0.5) / p50
    walk_ratio = percentile(two.walk_ms, 0.5) / p50
    print(f"2-character terms: p50 {p50:.2f} ms (target <= 20: {_verdict(p50 <= 20)}), "
          f"{ratio:.0f}x the LIKE scan (target >= 20x: {_verdict(ratio >= 20)}); "
          f"{walk_ratio:.1f}x a LIKE through the date index that stops at 20 (no target)")
    small_mb, small_s = export_peak_mb(small.url)
    full_mb, full_s = export_peak_mb(full.url)
    print(f"export peak RSS: {small_mb:.0f} MB for {small_count:,} articles ({small_s:.0f} s), "
          f"{full_mb:.0f} MB for {count:,} ({full_s:.0f} s)")
    for database in (small, full):
        database.dispose()


def postgres_schema(url: str, schema: str, *, empty: bool = False) -> str:
    """``url`` with its search path set to ``schema``, which is created (and first
    dropped with everything in it when ``empty``)."""
    import psycopg

    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        if empty:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'.encode())
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'.encode())
    return f"{url}?options=-csearch_path%3D{schema}"


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    corpus = Path(args.corpus)
    if not (corpus / "MANIFEST.tsv").is_file():
        print(f"error: corpus not found at {corpus} (MANIFEST.tsv needed); pass --corpus DIR",
              file=sys.stderr)
        return 2
    count = 1_000_000 if args.large else args.articles
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="newsmon-search-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    pool = load_pool(corpus)
    print(f"text pool: {len(pool.titles)} titles, {len(pool.paragraphs)} paragraphs from "
          f"{corpus}", file=sys.stderr)
    def sqlite_url(part: str, empty: bool) -> str:
        path = workdir / f"{part}-{count}.db"
        if empty:
            for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                leftover.unlink(missing_ok=True)
        return f"sqlite:///{path}"

    run_backend("SQLite", sqlite_url, pool, count, args.terms, args.small)
    if args.postgres:
        def schema_url(part: str, empty: bool) -> str:
            return postgres_schema(args.postgres, f"bench_search_{part}_{count}", empty=empty)

        run_backend("PostgreSQL", schema_url, pool, count, args.terms, args.small)
    print(f"\narchives in {workdir}", file=sys.stderr)
    return 0


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS), help="corpus directory")
    parser.add_argument("--articles", type=int, default=200_000, help="archive size")
    parser.add_argument("--large", action="store_true", help="1,000,000 articles")
    parser.add_argument("--postgres", nargs="?", const=DEFAULT_PG, metavar="URL",
                        help=f"also run on PostgreSQL (default {DEFAULT_PG})")
    parser.add_argument("--workdir", help="keep archives here and reuse them")
    parser.add_argument("--terms", type=int, default=20, help="queries per kind")
    parser.add_argument("--small", type=int, default=SMALL,
                        help="the smaller archive (insert rates, export memory)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
