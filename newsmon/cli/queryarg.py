"""Query arguments that may start with ``-``: ``newsmon search '-香港 青岛'``.

The query language writes an exclusion as ``-term``, so a query may lead with one;
click would take it for an unknown option (``No such option '-香'``) or, worse, for a
known one (``export '-obama'`` is ``-o bama``). A :class:`QueryCommand` reads an
argument that starts with a single ``-`` but is none of the command's options as
query text (``--nope`` stays an unknown option);
``--`` still ends the options as usual. The query may also be given as several words
(``newsmon search NOT 香港 青岛``): they are joined with spaces.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

# Put in front of a word that looks like an option but is query text, so click's parser
# takes it as an argument; removed again before the command sees it. A NUL cannot
# come from a real command line, so it cannot clash with what the user typed.
_MARK = "\x00"


class QueryCommand(click.Command):
    """A command with a query argument that may start with ``-``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        rest = super().parse_args(ctx, mark_query_words(args, self.get_params(ctx)))
        for name, value in ctx.params.items():
            ctx.params[name] = _unmark(value)
        return rest


def mark_query_words(args: Sequence[str], params: Sequence[click.Parameter]) -> list[str]:
    """``args`` with each word that starts with ``-`` but is no option marked as text."""
    options = {name: param for param in params if isinstance(param, click.Option)
               for name in (*param.opts, *param.secondary_opts)}
    marked: list[str] = []
    takes_value = False
    for index, arg in enumerate(args):
        if takes_value:  # the value of the option before it, whatever it looks like
            marked.append(arg)
            takes_value = False
        elif arg == "--":
            return [*marked, *args[index:]]
        elif (not arg.startswith("-") or arg.startswith("--") or arg == "-"
              or _is_flag_cluster(arg, options)):
            marked.append(arg)  # `--nope` stays a mistyped option: no query starts so
        elif arg.split("=", 1)[0] in options:
            option = options[arg.split("=", 1)[0]]
            takes_value = "=" not in arg and not option.is_flag and not option.count
            marked.append(arg)
        else:
            marked.append(_MARK + arg)
    return marked


def _is_flag_cluster(arg: str, options: dict[str, click.Option]) -> bool:
    """``-vv``: short flags written together (a word of them is options, not a query)."""
    if arg.startswith("--") or len(arg) < 3:
        return False
    found = [options.get(f"-{letter}") for letter in arg[1:]]
    return all(option is not None and (option.is_flag or option.count) for option in found)


def _unmark(value: Any) -> Any:
    if isinstance(value, str):
        return value.removeprefix(_MARK)
    if isinstance(value, tuple):
        return tuple(_unmark(item) for item in value)
    return value


def _join(_ctx: click.Context, _param: click.Parameter, words: tuple[str, ...]) -> str | None:
    return " ".join(_unmark(word) for word in words) if words else None


def query_argument(*, required: bool = True) -> Callable[[F], F]:
    """``QUERY...``: the query as one string (several words joined), ``None`` if absent."""
    return click.argument("query", nargs=-1, required=required, callback=_join,
                          metavar="QUERY")
