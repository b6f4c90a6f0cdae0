"""Who may write, and proof that a form was sent by our own page.

Reading is open. Every write (adding, editing or removing a topic) needs the token in
``NEWSMON_WEB_TOKEN``: a browser gives it once in a form (the login page, or the token
field of the form it is sending) and then carries a cookie signed with a key derived
from the token, so the token itself is never stored in the browser and changing it
logs everybody out; a program sends it in an ``Authorization: Bearer`` header. Without
the variable set, or in read-only mode, every write is refused.

Forms are protected against cross-site request forgery by a signed double submit: each
browser gets a random id in a cookie, and each form carries ``HMAC(key, id)``; a
forged form from another site cannot read the cookie, so cannot compute the field.
Cookies are ``HttpOnly`` and ``SameSite=Strict`` as a second fence.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field

from starlette.requests import Request

TOKEN_ENV = "NEWSMON_WEB_TOKEN"
AUTH_COOKIE = "newsmon_auth"
BROWSER_COOKIE = "newsmon_browser"
MIN_TOKEN_LENGTH = 8  # a shorter one is guessed too easily to guard writes


class AccessError(Exception):
    """A write that is not allowed; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def token_from_environment(environ: dict[str, str] | None = None) -> str | None:
    """``NEWSMON_WEB_TOKEN``, or None when unset or empty; too short a token is an error."""
    value = (environ if environ is not None else dict(os.environ)).get(TOKEN_ENV, "").strip()
    if not value:
        return None
    if len(value) < MIN_TOKEN_LENGTH:
        raise ValueError(f"{TOKEN_ENV} is {len(value)} characters long; use at least "
                         f"{MIN_TOKEN_LENGTH} (e.g. `openssl rand -hex 16`)")
    return value


@dataclass(frozen=True)
class Access:
    """The write policy of one running app."""

    token: str | None
    read_only: bool = False
    # Signs the CSRF fields when there is no token to derive a key from.
    _fallback: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)

    @property
    def writes_enabled(self) -> bool:
        return self.token is not None and not self.read_only

    @property
    def _key(self) -> bytes:
        if self.token is None:
            return self._fallback
        return hashlib.sha256(b"newsmon-web\x00" + self.token.encode()).digest()

    def _sign(self, purpose: str, value: str) -> str:
        return hmac.new(self._key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()

    def token_matches(self, given: str | None) -> bool:
        if self.token is None or not given:
            return False
        return hmac.compare_digest(given.strip().encode(), self.token.encode())

    def auth_cookie(self) -> str:
        """The value of the cookie that marks a browser as logged in."""
        return self._sign("auth", "writer")

    def _bearer_matches(self, request: Request) -> bool:
        """The request carries ``Authorization: Bearer TOKEN`` with this server's token."""
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and self.token_matches(given)

    def is_writer(self, request: Request) -> bool:
        """A bearer token in the header, or the signed login cookie."""
        if self._bearer_matches(request):
            return True
        cookie = request.cookies.get(AUTH_COOKIE, "")
        return self.token is not None and hmac.compare_digest(cookie, self.auth_cookie())

    def csrf_token(self, browser_id: str) -> str:
        return self._sign("csrf", browser_id)

    def check_csrf(self, request: Request, sent: str | None) -> None:
        browser_id = request.cookies.get(BROWSER_COOKIE, "")
        if not browser_id or not sent or not hmac.compare_digest(
                sent, self.csrf_token(browser_id)):
            raise AccessError("this form expired or did not come from this site: "
                              "reload the page and send it again")

    def check_write(self, request: Request, form_token: str | None) -> bool:
        """Allow a write from a form, or raise :class:`AccessError`.

        Returns True when the form carried a valid token (the caller then sets the
        login cookie, so the next form needs none).
        """
        self._check_writes_enabled()
        if self.token_matches(form_token):
            return True
        if self.is_writer(request):
            return False
        raise AccessError("a valid token is needed to change anything: give the token "
                          f"({TOKEN_ENV}) in the form or log in", status=401)

    def check_api_write(self, request: Request) -> None:
        """Allow a write through the API: a bearer token only (no cookie, so no CSRF)."""
        self._check_writes_enabled()
        if not self._bearer_matches(request):
            raise AccessError("send the token as 'Authorization: Bearer TOKEN'", status=401)

    def _check_writes_enabled(self) -> None:
        """Refuse any write in read-only mode or when no token was configured."""
        if self.read_only:
            raise AccessError("this server is read-only (newsmon serve --read-only)")
        if self.token is None:
            raise AccessError(f"writes are disabled: start newsmon serve with {TOKEN_ENV} set")


def new_browser_id() -> str:
    return secrets.token_urlsafe(24)
