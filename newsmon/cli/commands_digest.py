"""``newsmon digest``: send each subscription the matches it has not received.

A thin layer over :mod:`newsmon.app.digests`: it picks the subscriptions, opens their
channels with the environment (credentials and tokens live there, never in the
config), runs each digest and reports each outcome on stderr.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import click

from newsmon.app.digests import DigestOutcome, open_subscription_channel, run_digest
from newsmon.cli.context import AppContext, pass_app, write_result_file
from newsmon.cli.exitcodes import EXIT_ERRORS
from newsmon.cli.output import terminal_safe
from newsmon.config import Config, SubscriptionConfig
from newsmon.delivery import Channel, ChannelError, check_channel
from newsmon.digest.render import FORMATS, render
from newsmon.jobresult import DigestResult, DigestResults
from newsmon.storage.topics import list_topics
from newsmon.timefmt import local_time

DEFAULT_SUBSCRIPTION = "default"


@click.command("digest")
@click.option("-s", "--subscription", "names", multiple=True, metavar="NAME",
              help="Only this subscription (repeatable). Default: every configured one, "
              "or 'default' (stdout, text) when none is configured.")
@click.option("--format", "fmt", type=click.Choice(FORMATS),
              help="Render as this format instead of the subscription's.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("--to", "channel", metavar="CHANNEL",
              help="Send here instead of the subscription's channel: stdout, file:PATH, "
              "smtp://HOST:PORT, smtps://HOST, webhook:URL or an Apprise URL.")
@click.option("--dry-run", is_flag=True,
              help="Print the digest that would be sent; send nothing, mark nothing.")
@click.option("--result-file", type=click.Path(dir_okay=False, path_type=Path), hidden=True,
              help="Write each outcome here as JSON (for `newsmon run`, which reads them).")
@pass_app
def command(app: AppContext, names: tuple[str, ...], fmt: str | None, as_json: bool,
            channel: str | None, dry_run: bool, result_file: Path | None) -> None:
    """Send new topic matches, grouped by topic and story, to each subscription.

    Each story shows its title as published, every outlet that carried it, the
    local publish time, the URL and a snippet with the matched words marked; a
    footer names sources that failed or went silent since the last digest. A match
    is marked delivered only after the channel accepted it: a failed send leaves it
    for the next digest. Empty digests are sent only with `heartbeat = true`; during
    `quiet_hours` digests are held, not dropped. Exit 1 if any send failed.

    \b
    Example:
      newsmon digest                          # every subscription (or stdout)
      newsmon digest --dry-run --format html > preview.html
      newsmon digest -s desk --to smtp://mail.example.org:587
      NEWSMON_SMTP_USER=u NEWSMON_SMTP_PASSWORD=p newsmon digest -s desk
    """
    config = app.config
    now = datetime.now(UTC)
    fmt = "json" if as_json else fmt
    subscriptions = _chosen(config, names, channel)
    with app.database.session() as session:
        known_topics = {topic.name for topic in list_topics(session)}
    sources = [s.name for s in config.sources] or None
    results: list[DigestResult] = []
    for subscription in subscriptions:
        for topic in subscription.topics:
            if topic not in known_topics:
                click.echo(f"warning: subscription {subscription.name!r} names topic "
                           f"{topic!r}, which does not exist (newsmon topics list)", err=True)
        chosen_format = fmt or subscription.format
        if dry_run:
            _check_channel(config, subscription, channel)
        out = _open(config, subscription, channel, dry_run)
        _refuse_atom_on_stdout(out, chosen_format)
        outcome = run_digest(app.database, subscription, out, chosen_format, now,
                             sources=sources, dry_run=dry_run)
        if dry_run and outcome.digest is not None:
            click.echo(terminal_safe(render(outcome.digest, chosen_format)), nl=False)
        _report(outcome, subscription, quiet=out.name == "stdout" and not config.subscriptions,
                written=getattr(out, "written", ()))
        results.append(outcome.result)
    write_result_file(result_file, DigestResults(tuple(results)))
    if any(result.status in ("failed", "busy") for result in results):
        raise SystemExit(EXIT_ERRORS)


def _chosen(config: Config, names: tuple[str, ...], override: str | None
            ) -> list[SubscriptionConfig]:
    """The subscriptions to run: the named ones, else every configured one.

    With none configured, each name (``default`` if none) is an ad-hoc subscription
    that prints text to stdout and says "No new matches." when there are none, as
    ``newsmon digest`` always has. Sent anywhere else (``--to``), it has no heartbeat:
    a receiver is never woken by an empty digest nobody asked for.
    """
    if not config.subscriptions:
        to_terminal = override is None or override == "stdout"
        # not validated: a name given on the command line needs no config syntax
        return [SubscriptionConfig.model_construct(name=name, heartbeat=to_terminal,
                                                   timezone=config.settings.timezone)
                for name in dict.fromkeys(names or (DEFAULT_SUBSCRIPTION,))]
    if names:
        return [config.subscription(name) for name in dict.fromkeys(names)]
    return list(config.subscriptions)


def _open(config: Config, subscription: SubscriptionConfig, override: str | None,
          dry_run: bool) -> Channel:
    try:
        return open_subscription_channel(
            config, subscription, override, env=os.environ,
            write=lambda text: click.echo(terminal_safe(text), nl=False))
    except ChannelError as exc:
        if dry_run:  # a preview needs no working channel
            click.echo(f"warning: {_where(config, subscription)}: {exc}", err=True)
            return _Preview(override or subscription.channel)
        raise click.UsageError(f"{_where(config, subscription)}: {exc}") from None


def _where(config: Config, subscription: SubscriptionConfig) -> str:
    """``sites.toml:12: subscription 'desk'``: where a subscription's channel is written."""
    line = f"{config.path}:{subscription.line}: " if subscription.line else ""
    return f"{line}subscription {subscription.name!r}"


class _Preview:
    """Stands in for a channel that cannot be opened during ``--dry-run``."""

    def __init__(self, spec: str) -> None:
        self.name = spec.split(":", 1)[0] + ":…"

    def send(self, digest: object, fmt: str) -> None:
        raise AssertionError("a dry run sends nothing")


def _check_channel(config: Config, subscription: SubscriptionConfig,
                   override: str | None) -> None:
    """``--dry-run`` sends nothing, but a channel or recipient that could never work
    (an unknown scheme, a webhook without an http(s) URL, a malformed e-mail address)
    is still an error, so a preview does not hide it until the first real send."""
    try:
        check_channel(override or subscription.channel, subscription.email_to)
    except ChannelError as exc:
        raise click.UsageError(f"{_where(config, subscription)}: {exc}") from None


def _refuse_atom_on_stdout(out: Channel, fmt: str) -> None:
    # Atom is one feed (one XML document) per topic: feeds printed one after the
    # other are no feed a reader could poll.
    if fmt == "atom" and out.name == "stdout":
        raise click.UsageError("Atom is one feed per topic and cannot go to stdout; "
                               "write the feeds with --to file:DIR/")


def _report(outcome: DigestOutcome, subscription: SubscriptionConfig, quiet: bool,
            written: Sequence[Path] = ()) -> None:
    """One line per subscription on stderr (the digest itself may be on stdout)."""
    name, count = outcome.subscription, outcome.matches
    matches = f"{count} match{'es' if count != 1 else ''}"
    if outcome.status == "sent" and written:  # the names the placeholders gave
        click.echo(f"digest {name}: wrote {matches} to "
                   f"{', '.join(str(path) for path in written)} ({outcome.format})", err=True)
    elif outcome.status == "held":
        until = local_time(outcome.held_until, subscription.timezone)
        click.echo(f"digest {name}: quiet hours until {until}; {matches} held", err=True)
    elif not (outcome.status == "sent" and quiet):
        click.echo(outcome.result.summary(), err=True)
