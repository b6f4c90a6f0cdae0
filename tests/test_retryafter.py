"""One ``Retry-After`` reader for the crawler and the digest webhook: both forms."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from newsmon.retryafter import retry_after_seconds

NOW = datetime(2021, 1, 13, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(("header", "expected"), [
    ("120", 120.0),                              # delta-seconds
    (" 0 ", 0.0),
    ("Wed, 13 Jan 2021 00:00:30 GMT", 30.0),     # an HTTP date
    ("Wednesday, 13-Jan-21 00:01:00 GMT", 60.0),  # the obsolete RFC 850 form
    ("Tue, 12 Jan 2021 23:00:00 GMT", 0.0),      # passed: at once
    ("Wed, 13 Jan 2021 08:00:10 +0800", 10.0),   # an offset is taken into account
    (None, None), ("", None), ("soon", None), ("-5", None), ("1.5", None), ("١٢", None),
])
def test_both_forms_are_read(header: str | None, expected: float | None) -> None:
    assert retry_after_seconds(header, NOW) == expected
