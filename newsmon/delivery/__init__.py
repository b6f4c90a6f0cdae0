"""Delivery channels, and the one function that turns a channel string into a channel.

=================================  ==================================================
``stdout``                          print the digest
``file:PATH``                       write it (placeholders: see ``files``)
``smtp://host[:587]``               email, STARTTLS when offered (``smtps://`` for TLS)
``webhook:https://host/path``       JSON POST, retried with backoff
any Apprise URL                     ``wecombot://``, ``dingtalk://``, ``feishu://`` …
=================================  ==================================================

``${NAME}`` anywhere in a channel string is replaced by the environment variable
``NAME`` when the channel is opened, so tokens stay out of the config file. SMTP takes
``?to=a@x,b@y&from=c@z`` to override the subscription's addresses and its login
from ``NEWSMON_SMTP_USER`` / ``NEWSMON_SMTP_PASSWORD``. The environment is passed in
by the caller; nothing here reads ``os.environ``.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from newsmon.delivery.base import Channel, ChannelError, DeliveryError, scrub
from newsmon.delivery.files import DEFAULT_FILE_MODE, FileChannel
from newsmon.delivery.smtp import DEFAULT_SENDER, SmtpChannel, SmtpCredentials
from newsmon.delivery.stdout import StdoutChannel
from newsmon.delivery.webhook import WebhookChannel

__all__ = [
    "Channel",
    "ChannelError",
    "DeliveryError",
    "check_channel",
    "expand_env",
    "open_channel",
    "redact",
    "scrub",
]

SMTP_USER_ENV = "NEWSMON_SMTP_USER"
SMTP_PASSWORD_ENV = "NEWSMON_SMTP_PASSWORD"
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*)://", re.IGNORECASE)
# Good enough to catch a typo (no @, a space, no dot in the domain); the mail server
# has the last word.
_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;.]+$")


def check_channel(spec: str, email_to: Sequence[str] = ()) -> None:
    """Raise :class:`ChannelError` when ``spec`` could never deliver, without the
    environment (``${NAME}`` references stay unexpanded) and without contacting anyone:
    an unknown scheme, a webhook that is no http(s) URL, a malformed e-mail address."""
    name = redact(spec)
    kind = _kind(spec, name)
    if kind == "smtp":
        query = parse_qs(urlsplit(spec).query)
        for address in (*_addresses(query.get("to", [])), *email_to,
                        *query.get("from", [])):
            if not _EMAIL.match(address):
                raise ChannelError(f"{name}: {address!r} is not an e-mail address")
    elif kind not in ("stdout", "file", "webhook"):
        from apprise.manager_plugins import NotificationManager  # loads its plugins slowly

        if kind not in NotificationManager().schemas():  # type: ignore[no-untyped-call]
            raise ChannelError(f"{name}: unknown channel scheme {kind!r} (use stdout, "
                               "file:PATH, smtp://, webhook:URL or an Apprise URL)")


def _kind(spec: str, name: str) -> str:
    """``stdout``, ``file``, ``webhook``, ``smtp`` (or smtps), else the Apprise scheme;
    :class:`ChannelError` for a string that is no channel or a webhook without a URL."""
    if spec == "stdout" or spec.startswith("file:"):
        return spec.partition(":")[0]
    if spec.startswith("webhook:"):
        url = urlsplit(spec.removeprefix("webhook:"))
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ChannelError(f"{name}: a webhook needs an http(s) URL")
        return "webhook"
    scheme = _SCHEME.match(spec)
    if scheme is None:
        raise ChannelError(f"{name}: not a channel (use stdout, file:PATH, smtp://host, "
                           "smtps://host, webhook:URL or an Apprise URL)")
    kind = scheme.group(1).lower()
    return "smtp" if kind == "smtps" else kind


def expand_env(spec: str, env: Mapping[str, str]) -> tuple[str, tuple[str, ...]]:
    """``spec`` with ``${NAME}`` replaced from ``env``, and the values put in (secrets to
    keep out of messages). A missing variable is a :class:`ChannelError` naming it."""
    secrets: list[str] = []

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise ChannelError(f"{redact(spec)}: environment variable {name} is not set")
        secrets.append(env[name])
        return env[name]

    return _ENV_REF.sub(value, spec), tuple(secrets)


def redact(spec: str) -> str:
    """The channel as it may be shown and stored: scheme and host, never tokens.

    ``smtp://u@mail.example.org:587`` -> ``smtp://mail.example.org:587``;
    ``webhook:https://h/hooks/T0K3N`` -> ``webhook:https://h/…``;
    ``tgram://BOT/CHAT`` -> ``tgram://…`` (Apprise URLs keep secrets in the host).
    """
    if spec == "stdout" or spec.startswith("file:"):
        return spec
    if spec.startswith("webhook:"):
        return "webhook:" + _scheme_and_host(spec.removeprefix("webhook:"))
    scheme = _SCHEME.match(spec)
    if scheme is None:
        return "…"
    if scheme.group(1).lower() in ("smtp", "smtps"):
        return _scheme_and_host(spec)
    return f"{scheme.group(1)}://…"


def _scheme_and_host(url: str) -> str:
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "…"
    rest = "/…" if parts.path.strip("/") or parts.query else ""
    return f"{parts.scheme}://{host}{port}{rest}"


def open_channel(spec: str, *, env: Mapping[str, str], base_dir: Path,
                 write: Callable[[str], None], email_to: Sequence[str] = (),
                 email_from: str | None = None, ssl_context: ssl.SSLContext | None = None,
                 timeout: float = 30.0, file_mode: int | None = None) -> Channel:
    """The channel ``spec`` names, ready to send (nothing is contacted yet).

    ``base_dir`` anchors relative file paths; ``write`` prints for ``stdout``;
    ``email_to``/``email_from`` are the subscription's addresses; ``file_mode`` the
    permission bits of a new file (None: 0644).
    """
    name = redact(spec)
    expanded, secrets = expand_env(spec, env)
    kind = _kind(expanded, name)
    if kind == "stdout":
        return StdoutChannel(write)
    if kind == "file":
        mode = DEFAULT_FILE_MODE if file_mode is None else file_mode
        return FileChannel(expanded.removeprefix("file:"), base_dir, mode)
    if kind == "webhook":
        return WebhookChannel(name, expanded.removeprefix("webhook:"), secrets=secrets,
                              timeout=timeout)
    if kind == "smtp":
        return _smtp_channel(name, expanded, env, email_to, email_from, ssl_context, timeout)
    from newsmon.delivery.chat import AppriseChannel  # apprise loads its plugins slowly

    return AppriseChannel(name, expanded, secrets=secrets)


def _smtp_channel(name: str, url: str, env: Mapping[str, str], email_to: Sequence[str],
                  email_from: str | None, ssl_context: ssl.SSLContext | None,
                  timeout: float) -> SmtpChannel:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ChannelError(f"{name}: {exc}") from None
    if parts.username or parts.password:
        raise ChannelError(f"{name}: no credentials in the channel; set {SMTP_USER_ENV} and "
                           f"{SMTP_PASSWORD_ENV} in the environment")
    if not parts.hostname:
        raise ChannelError(f"{name}: needs a host, e.g. smtp://mail.example.org:587")
    implicit_tls = parts.scheme.lower() == "smtps"
    query = parse_qs(parts.query)
    recipients = _addresses(query.get("to", [])) or tuple(email_to)
    if not recipients:
        raise ChannelError(f"{name}: no recipients; set email_to in the subscription "
                           "or ?to=a@example.org in the channel")
    sender = (query.get("from") or [email_from or DEFAULT_SENDER])[0]
    user, password = env.get(SMTP_USER_ENV), env.get(SMTP_PASSWORD_ENV)
    if bool(user) != bool(password):
        raise ChannelError(f"{name}: set both {SMTP_USER_ENV} and {SMTP_PASSWORD_ENV}, "
                           "or neither")
    credentials = SmtpCredentials(user, password) if user and password else None
    return SmtpChannel(name, parts.hostname, port or (465 if implicit_tls else 587),
                       implicit_tls=implicit_tls, sender=sender, recipients=recipients,
                       credentials=credentials, ssl_context=ssl_context, timeout=timeout)


def _addresses(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(a.strip() for value in values for a in value.split(",") if a.strip())
