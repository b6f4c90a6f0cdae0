"""Tell Simplified from Traditional script by which conversion changes more characters."""

from __future__ import annotations

import functools
from typing import Any

import opencc

_SAMPLE = 400  # Han characters; enough to decide, cheap to convert


@functools.cache
def _converters() -> tuple[Any, Any]:
    return opencc.OpenCC("t2s"), opencc.OpenCC("s2t")


def detect_script(text: str) -> str:
    """``"traditional"`` when converting to Simplified changes more than the reverse."""
    han = [ch for ch in text[:20000] if "\u4e00" <= ch <= "\u9fff"][:_SAMPLE]
    if not han:
        return "simplified"
    sample = "".join(han)
    to_simplified, to_traditional = _converters()
    trad_marks = sum(a != b for a, b in zip(sample, to_simplified.convert(sample), strict=False))
    simp_marks = sum(a != b for a, b in zip(sample, to_traditional.convert(sample), strict=False))
    return "traditional" if trad_marks > simp_marks else "simplified"
