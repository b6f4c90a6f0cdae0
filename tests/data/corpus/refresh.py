"""Rebuild the extractor's regression data from the shared corpus.

Copies every page of ``../shared/corpus`` (gzipped) and the ground truth of its
labelled pages into this folder, copies the corpus scorer, and records per-page
floors: what the current extractor scores on each labelled article, minus a small
margin, so the tests fail when a change makes any page worse.

    .venv/bin/python tests/data/corpus/refresh.py [--corpus DIR]

Run it after an extractor change that improves pages (commit the new floors with
the change); never hand-edit ``floors.json``.

Floors are a one-way ratchet: a refresh keeps every existing floor that the page
still reaches and raises it where the page now scores higher. A floor drops only
with a per-page reason in ``lowered.json`` (``{"<page id>": {"<field>": "why"}}``);
without one, a page scoring under its floor makes the refresh stop, write nothing
and name the page.

Pages under a copyleft licence (GPL) are not copied: newsmon is MIT-licensed, and
those pages carry no ground truth anyway. The bench still reads them from the
shared corpus.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import importlib.util
import json
import re
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"
FETCHED_AT = datetime(2026, 1, 1, tzinfo=UTC)  # fixed: relative dates must not drift
MARGIN = 0.03  # score a page may lose before its test fails (fractional fields only)
COPYLEFT = re.compile(r"\bA?GPL|\bLGPL", re.IGNORECASE)  # licences we do not redistribute


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    corpus = Path(parser.parse_args().corpus)
    if not (corpus / "MANIFEST.tsv").is_file():
        print(f"error: no corpus at {corpus}", file=sys.stderr)
        return 2
    sys.path.insert(0, str(REPO))
    from crawler.extract import extract_article

    pages_dir = HERE / "pages"
    if pages_dir.exists():
        shutil.rmtree(pages_dir)
    shutil.copy(corpus / "score.py", HERE / "score.py")
    scorer = _load(HERE / "score.py")
    cases, floors = [], {}
    old_floors = _read_json(HERE / "floors.json")
    reasons = _read_json(HERE / "lowered.json")
    drops: list[str] = []
    licences = read_licences(corpus)
    with (corpus / "MANIFEST.tsv").open(encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle, delimiter="\t")
                if not COPYLEFT.search(licences.get(row["folder"], ""))]
    for row in rows:
        page_id = f"{row['folder']}/{row['file']}"
        raw = (corpus / row["folder"] / row["file"]).read_bytes()
        target = pages_dir / row["folder"] / (row["file"] + ".gz")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(gzip.compress(raw, 9, mtime=0))
        truth = None
        if row["truth_file"]:
            truth = json.loads((corpus / row["folder"] / row["truth_file"]).read_text("utf-8"))
        case = {"id": page_id, "page_type": row["page_type"], "site": row["site"],
                "url": (truth or {}).get("url") or default_url(row["site"]),
                "timezone": zone_for(row["site"]), "truth": truth}
        cases.append(case)
        if truth and truth.get("page_type") == "article":
            article = extract_article(raw, url=case["url"], fetched_at=FETCHED_AT,
                                      timezone=case["timezone"])
            prediction = prediction_of(article)
            result = scorer.score_page(truth, prediction)
            scores = {k: float(v) for k, v in result.items() if k != "error"}
            scores["is_article"] = float(article.is_article)
            floors[page_id] = ratchet(page_id, scores, old_floors.get(page_id, {}),
                                      reasons.get(page_id, {}), drops)
    if drops:
        for drop in drops:
            print(f"error: {drop}", file=sys.stderr)
        print("error: floors not written; fix the regression or give a reason in "
              "lowered.json", file=sys.stderr)
        return 1
    (HERE / "cases.json").write_text(json.dumps(cases, ensure_ascii=False, indent=1) + "\n",
                                     encoding="utf-8")
    (HERE / "floors.json").write_text(json.dumps(floors, ensure_ascii=False, indent=1,
                                                 sort_keys=True) + "\n", encoding="utf-8")
    write_provenance(licences, rows)
    print(f"{len(cases)} pages, {len(floors)} floors written to {HERE}")
    return 0


def default_url(site: str) -> str:
    host = site.split()[0] if site.strip() else "unknown.invalid"
    return f"https://{host}/"


def zone_for(site: str) -> str:
    """The site's zone: Taiwan and Hong Kong hosts, else mainland time."""
    if ".tw" in site:
        return "Asia/Taipei"
    if re.search(r"\.hk\b|stheadline|mingpao|rthk|hkej|singtao|appledaily\.com(?!\.tw)", site):
        return "Asia/Hong_Kong"
    return "Asia/Shanghai"


def prediction_of(article: object) -> dict[str, object]:
    published = getattr(article, "published_at", None)
    return {"title": getattr(article, "title", ""),
            "published_at": published.isoformat() if published else None,
            "source": getattr(article, "source", None), "author": getattr(article, "author", None),
            "editor": getattr(article, "editor", None), "body": getattr(article, "body", "")}


FRACTIONAL = {"body_f1", "body_contains", "body_clean"}


def ratchet(page_id: str, scores: dict[str, float], old: dict[str, float],
            reasons: dict[str, str], drops: list[str]) -> dict[str, float]:
    """New floors for one page: never under the old ones unless a reason is given."""
    out = {}
    for field, value in scores.items():
        new = floor(field, value) if field != "is_article" else value
        previous = old.get(field)
        if previous is not None and value < previous:
            if field not in reasons:
                drops.append(f"{page_id}: {field} {value:.3f} is under its floor "
                             f"{previous:.3f}")
            out[field] = new
        else:
            out[field] = max(new, previous) if previous is not None else new
    return out


def _read_json(path: Path) -> dict[str, dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def floor(field: str, value: float) -> float:
    """Pass/fail fields stay exact (a passing field must keep passing); fractions get a margin."""
    if field not in FRACTIONAL:
        return value
    if field == "body_f1":
        return round(max(0.0, value - MARGIN), 3)
    return value  # share of snippets found / avoided: no snippet may be lost


def read_licences(corpus: Path) -> dict[str, str]:
    """Folder -> licence, from the corpus README's sources table."""
    licences = {}
    for line in (corpus / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0].startswith("`") and cells[0].endswith("`"):
            licences[cells[0].strip("`")] = cells[1]
    return licences


def write_provenance(licences: dict[str, str], rows: list[dict[str, str]]) -> None:
    skipped = sorted(f for f, licence in licences.items() if COPYLEFT.search(licence))
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["folder"]] = counts.get(row["folder"], 0) + 1
    lines = [
        "# Provenance of the extractor regression pages",
        "",
        "Copied by `refresh.py` from the project's shared Chinese news page corpus",
        "(`shared/corpus`, whose README documents where every page comes from). Every page is",
        "the byte-for-byte copy of a file in the public GitHub repository named by its folder,",
        "gzipped here; `cases.json` holds the corpus's normalised ground truth for the labelled",
        "pages, `score.py` is the corpus's reference scorer and `floors.json` the per-page",
        "scores the tests hold the extractor to.",
        "",
        "Not copied, because newsmon is MIT-licensed and these folders are under a copyleft",
        "licence (the bench still reads them from the shared corpus): "
        + (", ".join(f"`{f}` ({licences[f]})" for f in skipped) or "none") + ".",
        "",
        "| folder (source repository owner__name) | licence | pages |",
        "|---|---|---|",
    ]
    for folder in sorted(counts):
        lines.append(f"| `{folder}` | {licences.get(folder, 'see corpus README')} | "
                     f"{counts[folder]} |")
    lines.append("")
    (HERE / "PROVENANCE.md").write_text("\n".join(lines), encoding="utf-8")


def _load(path: Path):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("corpus_score", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    sys.exit(main())
