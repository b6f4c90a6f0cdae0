"""Benchmark: newsmon's extractor against trafilatura, GNE and readability-lxml.

Runs every extractor in the same process over every labelled article page of the
shared corpus, writes one predictions JSONL per extractor, scores them all with
the corpus's own ``score.py`` and prints one table: a column per extractor, a row
per field, plus pages/second (extraction time only, measured in this run, so the
speed figures compare like with like on this machine).

Peers get what suits them: trafilatura and readability the raw bytes (they detect
the encoding themselves), GNE text decoded by newsmon's decoder (it needs str).

    python bench/extraction.py [--corpus DIR] [--out DIR] [--only newsmon,gne] [--pages]
                               [--by-folder]

``--by-folder`` adds newsmon's scores per source folder (one folder = one source
project, mostly one or a few sites): a folder scoring far above the others is a
sign of rules fitted to it rather than general ones.

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

from crawler.extract import decode_html, extract_article

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
                              timezone=_zone_for(row["site"])))
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
