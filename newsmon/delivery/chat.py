"""Chat and everything else: Apprise URLs (WeCom, DingTalk, Feishu, Telegram, Slack …).

``wecombot://KEY``, ``dingtalk://TOKEN``, ``feishu://TOKEN``, ``tgram://BOT/CHAT`` and
the other schemes Apprise knows. Tokens belong in the environment: write
``wecombot://${NEWSMON_WECOM_KEY}`` in the config. The message is the Markdown digest
(plain text or HTML when that is the subscription's format); Apprise splits or trims
it to each service's size limit.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import apprise

from newsmon.delivery.base import ChannelError, DeliveryError, scrub
from newsmon.digest import Digest, digest_subject
from newsmon.digest.render import render_html, render_markdown, render_text


class AppriseChannel:
    def __init__(self, name: str, url: str, *, secrets: Sequence[str] = ()) -> None:
        self.name = name
        self._secrets = tuple(secrets)
        self._apprise = apprise.Apprise()
        if not self._apprise.add(url):
            raise ChannelError(f"{name}: not a channel newsmon or Apprise understands (use "
                               "stdout, file:PATH, smtp://, smtps://, webhook:URL or an "
                               "Apprise URL such as wecombot://, dingtalk://, feishu://)")

    def send(self, digest: Digest, fmt: str) -> None:
        if fmt == "text":
            body, body_format = render_text(digest), apprise.NotifyFormat.TEXT
        elif fmt == "html":
            body, body_format = render_html(digest), apprise.NotifyFormat.HTML
        else:
            body, body_format = render_markdown(digest), apprise.NotifyFormat.MARKDOWN
        with apprise.LogCapture(level=logging.WARNING) as captured:  # type: ignore[no-untyped-call]
            accepted = bool(self._apprise.notify(body=body, title=digest_subject(digest),
                                                 body_format=body_format))
            log_text = captured.getvalue()
        if not accepted:
            lines = [line for line in log_text.splitlines() if line.strip()]
            reason = lines[-1].split(" - ", 2)[-1] if lines else "the service refused it"
            raise DeliveryError(scrub(f"{self.name}: {reason}", self._secrets))
