"""Canonical URLs: one spelling per page (table-driven, pure)."""

from __future__ import annotations

import pytest

from newsmon.crawler.canonical import (
    UrlError,
    article_canonical,
    canonicalize,
    origin,
    registrable_domain,
)

ALIASES = {"m.dzwww.com": "www.dzwww.com", "WAP.Bandao.cn": "www.bandao.cn"}


@pytest.mark.parametrize(("url", "expected"), [
    # tracking parameters go, content parameters stay (sorted)
    ("http://www.bandao.cn/a/368530.html?utm_source=wechat&utm_medium=social&from=timeline",
     "http://www.bandao.cn/a/368530.html"),
    ("http://www.bandao.cn/a/1.html?spm=bandao.hot.1", "http://www.bandao.cn/a/1.html"),
    ("http://news.example.cn/show.php?id=12&utm_campaign=x&catid=3",
     "http://news.example.cn/show.php?catid=3&id=12"),
    ("http://news.example.cn/roll.htm?page=2", "http://news.example.cn/roll.htm?page=2"),
    ("https://mp.example.com/s?__biz=MzA&mid=22&idx=1&sn=ab&scene=21&srcid=0113",
     "https://mp.example.com/s?__biz=MzA&idx=1&mid=22&sn=ab"),
    # fragments, default ports, case of scheme and host
    ("HTTP://WWW.Dzwww.COM:80/xinwen/a.htm#comments", "http://www.dzwww.com/xinwen/a.htm"),
    ("https://www.dzwww.com:443/a.htm", "https://www.dzwww.com/a.htm"),
    ("http://127.0.0.1:8080/dzwww/a.htm", "http://127.0.0.1:8080/dzwww/a.htm"),
    ("http://www.dzwww.com", "http://www.dzwww.com/"),
    # the same non-ASCII path, raw or percent-encoded
    ("https://hd.stheadline.com/news/日報", "https://hd.stheadline.com/news/%E6%97%A5%E5%A0%B1"),
    ("https://hd.stheadline.com/news/%e6%97%a5%e5%a0%b1",
     "https://hd.stheadline.com/news/%E6%97%A5%E5%A0%B1"),
    # mobile host mapped to the desktop host by the source config
    ("http://m.dzwww.com/xinwen/a.htm", "http://www.dzwww.com/xinwen/a.htm"),
    ("http://wap.bandao.cn/a/1.html", "http://www.bandao.cn/a/1.html"),
])
def test_canonicalize(url: str, expected: str) -> None:
    assert canonicalize(url, ALIASES) == expected


@pytest.mark.parametrize("url", ["ftp://example.cn/a", "mailto:x@example.cn", "/relative/a.htm",
                                 "http://", "http://example.cn:99999/a"])
def test_unusable_urls_are_named(url: str) -> None:
    with pytest.raises(UrlError, match="URL"):
        canonicalize(url)


@pytest.mark.parametrize(("page", "declared", "expected"), [
    # no rel=canonical: the fetched URL, cleaned
    ("http://www.bandao.cn/a/1.html?spm=x", None, "http://www.bandao.cn/a/1.html"),
    # same site, tracking parameters in the canonical link itself
    ("http://www.bandao.cn/a/368530.html",
     "http://www.bandao.cn/a/368530.html?utm_source=wechat&from=timeline",
     "http://www.bandao.cn/a/368530.html"),
    # same registrable domain, other host: believed
    ("http://m.news.163.com/a/1.html", "https://news.163.com/20/0113/a.html",
     "https://news.163.com/20/0113/a.html"),
    # a copy naming the site it was copied from: not believed
    ("http://www.wenweipo.com/a/1.html", "http://www.dzwww.com/qingdao/t1.htm",
     "http://www.wenweipo.com/a/1.html"),
    # a CMS pointing every article at the front page: not believed
    ("http://www.example.cn/a/2020/1.html", "http://www.example.cn/",
     "http://www.example.cn/a/2020/1.html"),
    ("http://www.example.cn/a/2020/1.html", "http://www.example.cn/index.html",
     "http://www.example.cn/a/2020/1.html"),
    # garbage in the canonical link
    ("http://www.example.cn/a/1.html", "javascript:void(0)", "http://www.example.cn/a/1.html"),
    # the mobile page declares the desktop one; aliases make them the same host anyway
    ("http://m.dzwww.com/a/1.htm", "http://www.dzwww.com/a/1.htm", "http://www.dzwww.com/a/1.htm"),
])
def test_article_canonical(page: str, declared: str | None, expected: str) -> None:
    assert article_canonical(page, declared, ALIASES) == expected


@pytest.mark.parametrize(("host", "domain"), [
    ("news.163.com", "163.com"), ("www.dzwww.com", "dzwww.com"), ("a.b.com.cn", "b.com.cn"),
    ("www.bbc.co.uk", "bbc.co.uk"), ("127.0.0.1", "127.0.0.1"), ("localhost", "localhost"),
    ("https://hk.appledaily.com/x", "appledaily.com"),
])
def test_registrable_domain_uses_the_public_suffix_list(host: str, domain: str) -> None:
    assert registrable_domain(host) == domain


def test_origin_always_names_the_port() -> None:
    assert origin("http://127.0.0.1:8123/dzwww/a.htm") == "http://127.0.0.1:8123"
    assert origin("https://www.dzwww.com/a") == "https://www.dzwww.com:443"
