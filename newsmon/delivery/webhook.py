"""The webhook channel: the digest as JSON in an HTTP POST, retried with backoff.

The body is the JSON digest (``newsmon.digest.render.data``) plus ``"text"``: the digest
rendered as text (or Markdown, when that is the subscription's format) for receivers
that just show a message. Any 2xx status is acceptance. A refused connection, a
timeout, 408, 429 and 5xx are retried with exponential backoff (``Retry-After``, in
seconds or as an HTTP date, is honoured up to a minute); other statuses fail at once,
as retrying cannot help. Redirects are not followed: a POST must reach its URL. Every
request of one digest carries the same ``Idempotency-Key``, so a receiver can drop
repeats.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email.message import Message

from newsmon.delivery.base import DeliveryError, scrub
from newsmon.digest import Digest
from newsmon.digest.render import digest_as_json, render_markdown, render_text
from newsmon.retryafter import retry_after_seconds

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_DELAY = 60.0
USER_AGENT = "newsmon/0.1 (digest webhook)"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # urllib then raises HTTPError with the 3xx status


class _Retry(Exception):
    def __init__(self, reason: str, delay: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay = delay


class WebhookChannel:
    def __init__(self, name: str, url: str, *, attempts: int = 4, backoff: float = 2.0,
                 timeout: float = 30.0, secrets: Sequence[str] = (),
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.name = name
        self._url = url
        self._attempts = max(1, attempts)
        self._backoff = backoff
        self._timeout = timeout
        self._secrets = tuple(secrets)
        self._sleep = sleep
        self._opener = urllib.request.build_opener(_NoRedirects)
        self.tries = 0  # requests made by the last send, for reports and tests

    def send(self, digest: Digest, fmt: str) -> None:
        body = payload(digest, fmt)
        self.tries = 0
        last = ""
        for attempt in range(1, self._attempts + 1):
            self.tries = attempt
            try:
                self._post(body, digest.key)
                return
            except _Retry as retry:
                last = retry.reason
                if attempt == self._attempts:
                    break
                delay = min(retry.delay if retry.delay is not None
                            else self._backoff * 2 ** (attempt - 1), MAX_DELAY)
                log.warning("%s: attempt %d of %d failed (%s); retrying in %.3g s",
                            self.name, attempt, self._attempts, last, delay)
                self._sleep(delay)
        raise DeliveryError(f"{self.name}: gave up after {self._attempts} attempts: {last}")

    def _post(self, body: bytes, key: str) -> None:
        request = urllib.request.Request(self._url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "Idempotency-Key": key,
        })
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            reason = f"HTTP {exc.code} {exc.reason}"
            if exc.code in RETRY_STATUSES:
                raise _Retry(reason, _retry_after(exc.headers)) from None
            if 300 <= exc.code < 400:
                reason += f" (redirected to {exc.headers.get('Location', '?')}; use that URL)"
            raise DeliveryError(scrub(f"{self.name}: {reason}", self._secrets)) from None
        except urllib.error.URLError as exc:
            raise _Retry(scrub(_reason(exc.reason), self._secrets)) from None
        except (TimeoutError, ConnectionError) as exc:
            raise _Retry(_reason(exc)) from None


def payload(digest: Digest, fmt: str) -> bytes:
    """The POST body: the JSON digest with a ready-to-show ``text``."""
    data = digest_as_json(digest)
    data["text"] = render_markdown(digest) if fmt == "markdown" else render_text(digest)
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def _retry_after(headers: Message) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    return retry_after_seconds(value, datetime.now(UTC))


def _reason(reason: object) -> str:
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, TimeoutError):
        return "timed out"
    return str(reason)
