"""Benchmark: newsmon's extractor against trafilatura, GNE and readability-lxml.

Runs every extractor in the same process over every labelled article page of the
shared corpus, writes one predictions JSONL per extractor, scores them all with
the corpus's own ``score.py`` and prints one table: a column per extractor, a row
per field, plus pages/second (extraction time only, measured in this run, so the
speed figures compare like with like on this machine).

Peers get what suits them: trafilatura and readability the raw bytes (they detect
the encoding themselves), GNE text decoded by newsmon's decoder (it needs str).

    python bench/extraction.py [--corpus DIR] [--out DIR] [--only newsmon,gne] [--pages]
                               [--by-folder] [--leave-one-out]

``--by-folder`` adds newsmon's scores per source folder (one folder = one source
project, mostly one or a few sites): a folder scoring far above the others is a
sign of rules fitted to it rather than general ones.

``--leave-one-out`` guards against rules tuned to the corpus: for every named rule
of ``crawler/extract/rules.py`` it scores newsmon with and without the rule, per
folder and per site, and lists how many folders and sites the rule helps. A
general rule must help at least two sources (a folder such as the
immortal-autumn dataset holds dozens of sites, so sites are counted as well as
folders); one that helps a single source belongs in the per-source override
table. It then scores each folder held out: with only the rules that help two or
more sites *outside* that folder, and prints the spread (min/median/max of folder
overalls, with every rule and held out).

Exits 2 with a message when the corpus is not there.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from newsmon.crawler.extract import decode_html, extract_article

DEFAULT_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
FIELDS = ["title", "date", "date_day", "source", "author", "editor", "body_f1",
          "body_contains", "body_clean", "body_start"]
# The corpus pages carry no fetch time; relative dates are anchored to this run.
FETCHED_AT = datetime.now(UTC)

Prediction = dict[str, Any]
Extractor = Callable[[bytes, str], Prediction]


@dataclass(frozen=True, slots=True)
class Page:
    id: str
    path: Path
    url: str
    timezone: str
    site: str = ""  # the manifest's site column: one folder may hold many sites


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    corpus = Path(args.corpus)
    if not (corpus / "MANIFEST.tsv").is_file() or not (corpus / "score.py").is_file():
        print(f"error: corpus not found at {corpus} (MANIFEST.tsv and score.py needed); "
              "pass --corpus DIR", file=sys.stderr)
        return 2
    pages = load_pages(corpus)
    extractors = {name: make for name, make in EXTRACTORS.items()
                  if not args.only or name in args.only.split(",")}
    out_dir = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="newsmon-bench-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    speeds: dict[str, float] = {}
    files: list[Path] = []
    for name, make in extractors.items():
        extractor = make()
        predictions, seconds = run(extractor, pages)
        speeds[name] = len(pages) / seconds if seconds else float("inf")
        path = out_dir / f"{name}.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for prediction in predictions:
                handle.write(json.dumps(prediction, ensure_ascii=False) + "\n")
        files.append(path)
        print(f"{name}: {len(pages)} pages in {seconds:.2f}s", file=sys.stderr)
    scorer = _load_scorer(corpus)
    scores = {path.stem: _score(scorer, corpus, path) for path in files}
    print(render_table(scores, speeds, len(pages)))
    print(f"predictions in {out_dir}", file=sys.stderr)
    if args.by_folder and "newsmon" in extractors:
        print()
        print(render_by_folder(scorer, corpus, out_dir / "newsmon.jsonl"))
    if args.pages:
        print_pages(scorer, corpus, out_dir / "newsmon.jsonl")
    if args.leave_one_out:
        print()
        print(render_leave_one_out(leave_one_out(scorer, corpus, pages)))
    return 0


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS), help="corpus directory")
    parser.add_argument("--out", help="where to write predictions (default: a temp dir)")
    parser.add_argument("--only", help="comma-separated extractors to run")
    parser.add_argument("--pages", action="store_true",
                        help="also print newsmon's per-page scores (for debugging)")
    parser.add_argument("--by-folder", action="store_true",
                        help="also print newsmon's scores per corpus source folder")
    parser.add_argument("--leave-one-out", action="store_true",
                        help="score newsmon without each named rule, per folder, and with "
                             "each folder held out of the rule selection")
    return parser.parse_args(argv)


def load_pages(corpus: Path) -> list[Page]:
    """Every article page of the manifest that has a truth file."""
    pages = []
    with (corpus / "MANIFEST.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row["page_type"] != "article" or not row["truth_file"]:
                continue
            truth = json.loads((corpus / row["folder"] / row["truth_file"]).read_text("utf-8"))
            pages.append(Page(id=f"{row['folder']}/{row['file']}",
                              path=corpus / row["folder"] / row["file"],
                              url=truth.get("url") or f"https://{(row['site'] or 'x').split()[0]}/",
                              timezone=_zone_for(row["site"]),
                              site=(row["site"] or row["folder"]).split()[0]))
    return pages


def _zone_for(site: str) -> str:
    """The site's zone (same rule as tests/data/corpus/refresh.py)."""
    if ".tw" in site:
        return "Asia/Taipei"
    if re.search(r"\.hk\b|stheadline|mingpao|rthk|hkej|singtao|appledaily\.com(?!\.tw)", site):
        return "Asia/Hong_Kong"
    return "Asia/Shanghai"


def run(extractor: Extractor, pages: list[Page]) -> tuple[list[Prediction], float]:
    """Predictions for every page and the seconds spent inside the extractor."""
    predictions = []
    total = 0.0
    for page in pages:
        raw = page.path.read_bytes()
        started = time.perf_counter()
        try:
            prediction = extractor(raw, page.url)
        except Exception as exc:  # a peer crashing on a page is a data point
            prediction = {"error": f"{type(exc).__name__}: {exc}"}
        total += time.perf_counter() - started
        prediction["id"] = page.id
        predictions.append(prediction)
    return predictions, total


def newsmon_extractor() -> Extractor:
    def extract(raw: bytes, url: str) -> Prediction:
        article = extract_article(raw, url=url, fetched_at=FETCHED_AT)
        return {"title": article.title,
                "published_at": article.published_at.isoformat() if article.published_at
                else None,
                "source": article.source, "author": article.author, "editor": article.editor,
                "body": article.body}
    return extract


def trafilatura_extractor() -> Extractor:
    import trafilatura

    def extract(raw: bytes, url: str) -> Prediction:
        found = trafilatura.bare_extraction(raw, url=url, with_metadata=True)
        if not found:
            return {}
        doc: dict[str, Any] = found if isinstance(found, dict) else found.as_dict()
        return {"title": doc.get("title"), "published_at": doc.get("date"),
                "source": doc.get("sitename"), "author": doc.get("author"),
                "body": doc.get("text")}
    return extract


def gne_extractor() -> Extractor:
    from gne import GeneralNewsExtractor

    gne = GeneralNewsExtractor()

    def extract(raw: bytes, url: str) -> Prediction:
        result = gne.extract(decode_html(raw).text)
        return {"title": result.get("title"), "published_at": result.get("publish_time"),
                "author": result.get("author"), "body": result.get("content")}
    return extract


def readability_extractor() -> Extractor:
    import lxml.html
    from readability import Document

    def extract(raw: bytes, url: str) -> Prediction:
        doc = Document(raw, url=url)
        summary = doc.summary(html_partial=True)
        tree = lxml.html.fragment_fromstring(summary, create_parent="div")
        paragraphs = [" ".join(t.split()) for t in tree.itertext()]
        return {"title": doc.short_title(), "body": "\n".join(p for p in paragraphs if p)}
    return extract


EXTRACTORS: dict[str, Callable[[], Extractor]] = {
    "newsmon": newsmon_extractor,
    "trafilatura": trafilatura_extractor,
    "gne": gne_extractor,
    "readability": readability_extractor,
}


def _load_scorer(corpus: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("corpus_score", corpus / "score.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _score(scorer: ModuleType, corpus: Path, path: Path) -> dict[str, float]:
    truths = scorer.load_truth(str(corpus))
    predictions = _read_jsonl(path)
    summary: dict[str, tuple[float, int]] = scorer.summarise(truths, predictions)
    means = {field: value for field, (value, _count) in summary.items()}
    counted = [means[f] for f in FIELDS if f in means and f != "date_day"]
    means["overall"] = sum(counted) / len(counted) if counted else 0.0
    return means


def _read_jsonl(path: Path) -> dict[str, Prediction]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            out[record["id"]] = record
    return out


def render_table(scores: dict[str, dict[str, float]], speeds: dict[str, float],
                 pages: int) -> str:
    """One markdown table: a column per extractor, a row per field."""
    names = list(scores)
    lines = [f"{pages} labelled article pages",
             "| field | " + " | ".join(names) + " |",
             "|---|" + "---|" * len(names)]
    for field in [*FIELDS, "error", "overall"]:
        if any(field in scores[n] for n in names):
            cells = [f"{scores[n][field]:.3f}" if field in scores[n] else "-" for n in names]
            lines.append(f"| {field} | " + " | ".join(cells) + " |")
    lines.append("| pages/s | " + " | ".join(f"{speeds[n]:.1f}" for n in names) + " |")
    return "\n".join(lines)


def render_by_folder(scorer: ModuleType, corpus: Path, path: Path) -> str:
    """newsmon's field means per source folder (``-`` where the folder has no labels)."""
    truths = scorer.load_truth(str(corpus))
    predictions = _read_jsonl(path)
    sums: dict[str, dict[str, list[float]]] = {}
    for page_id, truth in truths.items():
        result = scorer.score_page(truth, predictions.get(page_id, {"error": "missing"}))
        fields = sums.setdefault(page_id.split("/", 1)[0], {})
        for field, value in result.items():
            if field != "error":
                fields.setdefault(field, []).append(float(value))
    shown = [f for f in FIELDS if f != "date_day"]
    lines = ["newsmon per source folder",
             "| folder | pages | " + " | ".join(shown) + " | overall |",
             "|---|---|" + "---|" * (len(shown) + 1)]
    overalls = []
    for folder in sorted(sums):
        values = sums[folder]
        means = {f: sum(v) / len(v) for f, v in values.items()}
        cells = [f"{means[f]:.2f}" if f in means else "-" for f in shown]
        counted = [means[f] for f in shown if f in means]
        pages = max(len(v) for v in values.values())
        overall = sum(counted) / len(counted) if counted else 0.0
        overalls.append(overall)
        lines.append(f"| {folder} | {pages} | " + " | ".join(cells) + f" | {overall:.2f} |")
    # every source counts once: closer to "a site we have not seen" than the page mean
    macro = sum(overalls) / len(overalls) if overalls else 0.0
    lines.append(f"folders: {len(overalls)}, mean of folder overalls {macro:.3f}, "
                 f"lowest {min(overalls, default=0.0):.2f}")
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class RuleEffect:
    name: str
    helped: list[str]  # folders whose overall rises with the rule
    hurt: list[str]  # folders whose overall falls with it
    sites_helped: list[str]  # "folder/site" pairs whose overall rises with it
    sites_hurt: list[str]
    delta: float  # page-mean overall with the rule minus without
    structural: bool = False  # reads document shape only (crawler/extract/rules.py)


@dataclass(frozen=True, slots=True)
class LeaveOneOut:
    effects: list[RuleEffect]
    folders: dict[str, float]  # folder -> overall with every rule
    held_out: dict[str, float]  # folder -> overall with the rules chosen without it
    overall: float  # page-mean overall, every rule
    held_out_overall: float  # page-mean overall, each folder scored held out


_EPSILON = 1e-9


def leave_one_out(scorer: ModuleType, corpus: Path, pages: list[Page]) -> LeaveOneOut:
    """Per-rule, per-folder effects and held-out folder scores (see the module doc)."""
    from newsmon.crawler.extract.rules import RULES, rules_off

    truths = scorer.load_truth(str(corpus))
    extract = newsmon_extractor()

    def page_scores(off: frozenset[str], only: list[Page]) -> dict[str, float]:
        with rules_off(off):
            predictions, _ = run(extract, only)
        return {p["id"]: _page_overall(scorer, truths[p["id"]], p)
                for p in predictions if p["id"] in truths}

    site_of = {p.id: f"{p.id.split('/', 1)[0]}/{p.site}" for p in pages}
    full = page_scores(frozenset(), pages)
    folders = _folder_means(full)
    sites = _group_means(full, site_of)
    effects = []
    for name in RULES:
        no_rule = page_scores(frozenset({name}), pages)
        folder_means, site_means = _folder_means(no_rule), _group_means(no_rule, site_of)
        effects.append(RuleEffect(
            name,
            helped=[f for f in folders if folders[f] > folder_means[f] + _EPSILON],
            hurt=[f for f in folders if folders[f] + _EPSILON < folder_means[f]],
            sites_helped=[s for s in sites if sites[s] > site_means[s] + _EPSILON],
            sites_hurt=[s for s in sites if sites[s] + _EPSILON < site_means[s]],
            delta=_mean(full.values()) - _mean(no_rule.values()),
            structural=RULES[name].structural))
    held_pages: dict[str, float] = {}
    by_folder: dict[str, list[Page]] = {}
    for page in pages:
        by_folder.setdefault(page.id.split("/", 1)[0], []).append(page)
    for folder, folder_pages in by_folder.items():
        kept = {e.name for e in effects
                if len([s for s in e.sites_helped if not s.startswith(folder + "/")]) >= 2}
        held_pages.update(page_scores(frozenset(RULES) - kept, folder_pages))
    return LeaveOneOut(effects, folders, _folder_means(held_pages), _mean(full.values()),
                       _mean(held_pages.values()))


def _page_overall(scorer: ModuleType, truth: dict[str, Any], prediction: Prediction) -> float:
    result = scorer.score_page(truth, prediction)
    values = [float(v) for k, v in result.items() if k not in ("error", "date_day")]
    return _mean(values)


def _folder_means(page_scores: dict[str, float]) -> dict[str, float]:
    return _group_means(page_scores, {page_id: page_id.split("/", 1)[0]
                                      for page_id in page_scores})


def _group_means(page_scores: dict[str, float], group_of: dict[str, str]) -> dict[str, float]:
    grouped: dict[str, list[float]] = {}
    for page_id, value in page_scores.items():
        grouped.setdefault(group_of[page_id], []).append(value)
    return {group: _mean(values) for group, values in sorted(grouped.items())}


def _mean(values: Any) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def _spread(values: list[float]) -> str:
    ordered = sorted(values)
    if not ordered:
        return "-"
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return f"min {ordered[0]:.3f} / median {median:.3f} / max {ordered[-1]:.3f}"


def render_leave_one_out(result: LeaveOneOut) -> str:
    """The per-rule table, the verdicts and the spread figures."""
    lines = ["newsmon rules, leave one out (per folder: overall with vs without the rule)",
             "| rule | folders helped | hurt | sites helped | hurt | Δ page mean | verdict |",
             "|---|---|---|---|---|---|---|"]
    for effect in result.effects:
        sources = max(len(effect.helped), len(effect.sites_helped))
        verdict = ("general" if sources >= 2 else
                   "structural, one site" if sources and effect.structural
                   and not effect.hurt and not effect.sites_hurt else
                   "per-source override" if sources else "no effect on corpus")
        lines.append(f"| {effect.name} | {len(effect.helped)} | {len(effect.hurt)} | "
                     f"{len(effect.sites_helped)} | {len(effect.sites_hurt)} | "
                     f"{effect.delta:+.4f} | {verdict} |")
    lines.append("")
    lines.append("| folder | overall | held out |")
    lines.append("|---|---|---|")
    for folder, value in result.folders.items():
        lines.append(f"| {folder} | {value:.3f} | {result.held_out.get(folder, 0.0):.3f} |")
    lines.append(f"spread, every rule: {_spread(list(result.folders.values()))}; "
                 f"mean of page overalls {result.overall:.3f}")
    lines.append(f"spread, held out:   {_spread(list(result.held_out.values()))}; "
                 f"mean of page overalls {result.held_out_overall:.3f}")
    return "\n".join(lines)


def print_pages(scorer: ModuleType, corpus: Path, path: Path) -> None:
    """Per-page scores of one predictions file, worst first."""
    truths = scorer.load_truth(str(corpus))
    predictions = _read_jsonl(path)
    rows = []
    for page_id, truth in truths.items():
        result = scorer.score_page(truth, predictions.get(page_id, {}))
        failed = [k for k, v in result.items() if k != "error" and float(v) < 0.8]
        rows.append((len(failed), page_id, {k: round(float(v), 2) for k, v in result.items()
                                            if k != "error"}))
    for _count, page_id, result in sorted(rows, key=lambda r: -r[0]):
        print(page_id, json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
