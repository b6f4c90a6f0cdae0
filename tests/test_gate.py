"""The request gate's decision: which URLs a source's crawl may fetch (table-driven)."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector
from scrapy.utils.test import get_crawler

from newsmon.crawler.gate import GateDropped, Origins, RedirectGate, RequestGate, gate_reason

LOCAL = Origins.of(["http://127.0.0.1:8000/news/", "http://127.0.0.1:8000/feed.xml"])
DOMAIN = Origins.of(["https://www.example.com/news/"], ["example.com", "cdn.example.org:8443"])


@pytest.mark.parametrize(("url", "reason"), [
    ("http://127.0.0.1:8000/news/a.html", None),
    ("HTTP://127.0.0.1:8000/news/a.html", None),
    ("https://127.0.0.1:8000/x", None),  # same host and port, TLS
    ("http://127.0.0.1:8001/news/", "offsite"),  # another port: another server
    ("http://127.0.0.1/news/", "offsite"),  # default port is not the start URL's
    ("http://localhost:8000/news/", "offsite"),  # another host name for the same machine
    ("http://127.0.0.2:8000/", "offsite"),
    ("http://127.0.0.1:8000@evil.test/", "offsite"),  # userinfo: the host is evil.test
    ("http://user:pw@127.0.0.1:8000/", "offsite"),
    ("http://evil.test\\@127.0.0.1:8000/", "offsite"),  # backslash parsed differently
    ("http://127.0.0.1:99999/", "offsite"),  # invalid port
    ("file:///etc/passwd", "scheme"),
    ("file:///dev/zero", "scheme"),
    ("ftp://127.0.0.1:8000/", "scheme"),
    ("data:text/html,<a href='http://127.0.0.1:8000/'>x</a>", "scheme"),
    ("s3://bucket/key", "scheme"),
    ("javascript:alert(1)", "scheme"),
    ("//127.0.0.1:8000/news/", "scheme"),  # not absolute: the spider joins URLs first
])
def test_gate_local_origin(url: str, reason: str | None) -> None:
    assert gate_reason(url, LOCAL) == reason


@pytest.mark.parametrize(("url", "reason"), [
    ("https://www.example.com/a", None),
    ("http://www.example.com/a", None),  # http -> https upgrades on default ports
    ("https://news.example.com/a", None),  # subdomain of a configured domain
    ("https://WWW.EXAMPLE.COM/a", None),  # hosts compare lowercased
    ("https://www.example.com./a", None),  # trailing dot is the same host
    ("https://example.com/a", None),
    ("https://www.example.com:8080/a", "offsite"),  # explicit other port
    ("https://www.example.com:443/a", None),
    ("https://evil-example.com/a", "offsite"),
    ("https://example.com.evil.test/a", "offsite"),
    ("https://cdn.example.org:8443/a", None),  # configured host:port
    ("https://cdn.example.org/a", "offsite"),
    ("https://bücher.example.com/a", None),  # IDN subdomain, compared IDNA-encoded
    ("https://xn--bcher-kva.example.com/a", None),
    ("https://exämple.com/a", "offsite"),
    ("ftp://www.example.com/a", "scheme"),
])
def test_gate_domain_origin(url: str, reason: str | None) -> None:
    assert gate_reason(url, DOMAIN) == reason


def _stats() -> StatsCollector:
    stats = get_crawler().stats
    assert stats is not None
    return stats


class _Spider:
    gate_origins = LOCAL


def test_request_gate_drops_and_counts() -> None:
    stats = _stats()
    crawler = get_crawler()
    crawler.spider = _Spider()  # type: ignore[assignment]
    gate = RequestGate(stats, crawler)
    gate.process_request(Request("http://127.0.0.1:8000/a"))  # no spider arg: Scrapy >= 2.13
    with pytest.raises(GateDropped, match="not fetched, origin outside the source"):
        gate.process_request(Request("http://127.0.0.1:9/a"), _Spider())
    with pytest.raises(GateDropped) as dropped:
        gate.process_request(Request("file:///etc/passwd"), _Spider())
    assert dropped.value.reason == "scheme"
    assert stats.get_stats() == {"gate/dropped/offsite": 1, "gate/dropped/scheme": 1}


@pytest.mark.parametrize(("location", "reason", "message"), [
    (b"http://127.0.0.1:9/x", "redirect_offsite",
     "redirect to another origin not followed: 'http://127.0.0.1:8000/a' -> "
     "'http://127.0.0.1:9/x'"),
    (b"ftp://127.0.0.1:21/", "redirect_scheme",
     "redirect to another scheme ('ftp') not followed: 'http://127.0.0.1:8000/a' -> "
     "'ftp://127.0.0.1:21/'"),
])
def test_redirect_gate_names_the_target(location: bytes, reason: str, message: str) -> None:
    stats = _stats()
    request = Request("http://127.0.0.1:8000/a")
    response = Response(request.url, status=302, headers={"Location": location}, request=request)
    with pytest.raises(GateDropped) as dropped:
        RedirectGate(stats).process_response(request, response, _Spider())
    assert (dropped.value.reason, str(dropped.value)) == (reason, message)
    assert stats.get_stats() == {f"gate/dropped/{reason}": 1}


def test_redirect_gate_follows_same_origin() -> None:
    stats = _stats()
    request = Request("http://127.0.0.1:8000/a")
    response = Response(request.url, status=301, headers={"Location": b"/b"}, request=request)
    assert RedirectGate(stats).process_response(request, response, _Spider()) is response
