"""``bench/extraction.py``: refuses clearly without a corpus; scores per source folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_exits_2_without_a_corpus(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "extraction.py"), "--corpus", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 2
    assert result.stdout == ""
    assert f"corpus not found at {tmp_path}" in result.stderr


def test_by_folder_table_scores_each_source_folder(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import extraction
    finally:
        sys.path.remove(str(ROOT / "bench"))
    corpus = tmp_path / "corpus"
    for folder, title in (("siteA", "青島新聞"), ("siteB", "臺灣新聞")):
        truth_dir = corpus / folder / "truth"
        truth_dir.mkdir(parents=True)
        (truth_dir / "p.json").write_text(json.dumps(
            {"id": f"{folder}/p.html", "page_type": "article", "title": title},
            ensure_ascii=False), encoding="utf-8")
    predictions = tmp_path / "newsmon.jsonl"
    predictions.write_text(
        json.dumps({"id": "siteA/p.html", "title": "青島新聞"}, ensure_ascii=False) + "\n"
        + json.dumps({"id": "siteB/p.html", "title": "別的標題"}, ensure_ascii=False) + "\n",
        encoding="utf-8")
    scorer = extraction._load_scorer(ROOT / "tests" / "data" / "corpus")
    table = extraction.render_by_folder(scorer, corpus, predictions).splitlines()
    rows = {line.split("|")[1].strip(): line for line in table if line.startswith("| site")}
    assert rows["siteA"].split("|")[3].strip() == "1.00"
    assert rows["siteB"].split("|")[3].strip() == "0.00"
    assert table[-1] == "folders: 2, mean of folder overalls 0.500, lowest 0.00"
