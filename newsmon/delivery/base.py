"""What every delivery channel is: something that sends a digest or says why it could not.

A channel either returns (the receiver accepted the digest: the caller may now mark
its matches delivered) or raises :class:`DeliveryError` (nothing is marked; the
matches stay pending for the next digest). Messages name the channel in its
redacted form and never carry a credential.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from newsmon.digest import Digest


class DeliveryError(RuntimeError):
    """The channel did not accept the digest; the message names channel and reason."""


class ChannelError(ValueError):
    """A channel that cannot be used as written (syntax, a missing environment variable)."""


class Channel(Protocol):
    @property
    def name(self) -> str:
        """The channel as shown to people: no credentials, tokens or secret paths."""

    def send(self, digest: Digest, fmt: str) -> None:
        """Deliver ``digest`` rendered as ``fmt``; raise :class:`DeliveryError` if not
        accepted."""


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret replaced by ``***`` (for error messages)."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
