"""``newsmon db``: schema migrations and maintenance."""

from __future__ import annotations

import click


@click.group("db")
def command() -> None:
    """Database schema and maintenance.

    \b
    Example:
      newsmon db upgrade
      newsmon --db postgresql+psycopg://localhost/test db upgrade
    """
