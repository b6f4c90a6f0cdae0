"""The set of sample sites: one rendering of everything served for a day, robots.txt,
the portal page, and the newsmon config that points at them."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from newsmon.samplesites import (
    broken,
    daythree,
    feeds,
    site_bandao,
    site_dzwww,
    site_qingdaonews,
    site_wenweipo,
)
from newsmon.samplesites.catalog import all_articles, articles_for, newest
from newsmon.samplesites.pages import (
    STATIC_MODIFIED,
    RenderContext,
    Resource,
    SiteSpec,
    esc,
    html_resource,
    joined,
    xml_resource,
)


@dataclass(frozen=True, slots=True)
class Site:
    spec: SiteSpec
    render: Callable[[RenderContext], dict[str, Resource]]


NEWS_SITES = (
    Site(site_dzwww.SPEC, site_dzwww.render),
    Site(site_qingdaonews.SPEC, site_qingdaonews.render),
    Site(site_bandao.SPEC, site_bandao.render),
    Site(site_wenweipo.SPEC, site_wenweipo.render),
)
BROKEN_SITE = Site(broken.SPEC, broken.render)
ALL_SITES = (*NEWS_SITES, BROKEN_SITE)
SITE_NAMES = tuple(site.spec.name for site in ALL_SITES)
# Shared by all sites: advertisement click-throughs are no place for a crawler.
SHARED_DISALLOW = ("/ads/",)


def render_all(ctx: RenderContext) -> dict[str, Resource]:
    """Every resource served on ``ctx.day``, keyed by path (``path?query`` where the
    query selects a different page, as qingdaonews' ``roll.htm?page=2``)."""
    out: dict[str, Resource] = {}
    for site in ALL_SITES:
        out.update(site.render(ctx))
    out["/robots.txt"] = Resource(robots_txt(ctx).encode("utf-8"), "text/plain; charset=utf-8",
                                  STATIC_MODIFIED)
    out["/"] = out["/index.html"] = html_resource(_portal(ctx), "utf-8", "utf-8", STATIC_MODIFIED)
    out["/sitemap.xml"] = xml_resource(_root_sitemap(ctx), "utf-8", "application/xml", None)
    if ctx.day == 3:  # a removed story's address shows the site's "page not found" page
        path_of = {a.key: a.path for a in all_articles()}
        for path in daythree.paths_with("soft404", path_of):
            out[path] = html_resource(daythree.SOFT_404_HTML, "utf-8", "utf-8", STATIC_MODIFIED)
    return out


def robots_txt(ctx: RenderContext) -> str:
    """One robots.txt for the whole host: every site's private paths and sitemaps."""
    disallow = [*SHARED_DISALLOW, *(p for site in ALL_SITES for p in site.spec.robots_disallow)]
    sitemaps = [ctx.url(p) for site in NEWS_SITES for p in site.spec.sitemaps]
    return joined([
        "# robots.txt of the newsmon sample sites (all on one host, one prefix per site)",
        "User-agent: *",
        *(f"Disallow: {path}" for path in disallow),
        "",
        "User-agent: BadBot",
        "Disallow: /",
        "",
        *(f"Sitemap: {url}" for url in sitemaps),
        "",
    ])


def config_toml(ctx: RenderContext, include_broken: bool = False) -> str:
    """A newsmon config (see ``newsmon.config``) with one source per sample site."""
    sites = ALL_SITES if include_broken else NEWS_SITES
    lines = [
        f"# newsmon sources for the sample sites at {ctx.base_url} (day {ctx.day}),",
        "# written by newsmon.samplesites. Every URL is on this machine.",
        "[settings]",
        'timezone = "Asia/Shanghai"',
    ]
    if include_broken:
        lines += ["# shorter than the delay of the broken site's slow page",
                  f"download_timeout = {broken.CONFIG_TIMEOUT_SECONDS}"]
    for site in sites:
        spec = site.spec
        lines += [
            "",
            "[[sources]]",
            f"name = {_toml_string(spec.name)}",
            f"timezone = {_toml_string(spec.timezone)}",
            f"lists = {_toml_list([ctx.url(spec.list_path)])}",
        ]
        if spec.feeds:
            lines.append(f"feeds = {_toml_list([ctx.url(p) for p in spec.feeds])}")
        if spec.sitemaps:
            lines.append(f"sitemaps = {_toml_list([ctx.url(p) for p in spec.sitemaps])}")
        lines += [
            f"allowed_domains = {_toml_list([_host(ctx.base_url)])}",
            f"max_list_pages = {spec.max_list_pages}",
            "",
            "[sources.politeness]",
            "obey_robots = true",
            "# a local server: no need to wait between requests",
            "download_delay = 0.0",
        ]
    return "\n".join(lines) + "\n"


def _toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a TOML basic string


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(_toml_string(item) for item in items) + "]"


def _host(base_url: str) -> str:
    return base_url.split("://", 1)[1].rsplit(":", 1)[0]


def _portal(ctx: RenderContext) -> str:
    items = joined(f'<li><a href="/{site.spec.name}/">{esc(site.spec.display_name)}</a> '
                   f"<code>/{site.spec.name}/</code></li>" for site in NEWS_SITES)
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>newsmon sample sites</title></head>
<body>
<h1>newsmon sample sites (day {ctx.day})</h1>
<ul>
{items}
<li><a href="/broken/index.html">broken</a> <code>/broken/</code></li>
</ul>
</body></html>
"""


# The urlsets behind the host-wide /sitemap.xml (an index may not list another index,
# so bandao's own index is replaced by the two files it points at).
ROOT_SITEMAPS = (("dzwww", "/dzwww/sitemap.xml"), ("bandao", "/bandao/sitemap_news.xml"),
                 ("bandao", "/bandao/sitemap_pages.xml"))


def _root_sitemap(ctx: RenderContext) -> str:
    return feeds.sitemap_index(
        feeds.SitemapEntry(ctx.url(path), newest(articles_for(name, ctx.day)))
        for name, path in ROOT_SITEMAPS)
