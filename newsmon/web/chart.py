"""A small bar chart as inline SVG: new articles per day, no script and no chart CDN.

The SVG is built here from numbers and dates only (no crawled text), and its styling
comes from the page's stylesheet, so the Content-Security-Policy needs nothing extra.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from markupsafe import Markup

WIDTH = 600
HEIGHT = 90
LABEL_ROOM = 14  # below the bars, for the first and last day


def daily_bars(name: str, days: Sequence[tuple[date, int]]) -> Markup:
    """``<svg>`` with one bar per day (oldest left); an empty day is a thin grey bar."""
    if not days:
        return Markup("")
    top = max(count for _, count in days) or 1
    step = WIDTH / len(days)
    plot = HEIGHT - LABEL_ROOM
    total = sum(count for _, count in days)
    parts = [Markup(
        '<svg class="chart" role="img" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
        'xmlns="http://www.w3.org/2000/svg" data-days="{n}" data-total="{t}">'
        '<title>{label}</title>').format(
            w=WIDTH, h=HEIGHT, n=len(days), t=total,
            label=f"{name}: {total} new articles in {len(days)} days")]
    for index, (day, count) in enumerate(days):
        height = max(1.0, plot * count / top) if count else 1.0
        parts.append(Markup(
            '<rect class="bar{zero}" x="{x:.1f}" y="{y:.1f}" width="{bw:.1f}" '
            'height="{bh:.1f}" data-day="{day}" data-count="{count}">'
            "<title>{day}: {count}</title></rect>").format(
                zero="" if count else " zero", x=index * step + 1, y=plot - height,
                bw=max(1.0, step - 2), bh=height, day=day.isoformat(), count=count))
    parts.append(Markup('<line class="axis" x1="0" y1="{y}" x2="{w}" y2="{y}"/>').format(
        y=plot + 0.5, w=WIDTH))
    parts.append(Markup('<text x="0" y="{y}">{first}</text>'
                        '<text x="{w}" y="{y}" text-anchor="end">{last} · max {top}/day</text>'
                        ).format(y=HEIGHT - 2, w=WIDTH, first=days[0][0].isoformat(),
                                 last=days[-1][0].isoformat(), top=top))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)
