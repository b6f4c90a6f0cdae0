"""The Topics page's forms: add, edit, remove, and "try it" before saving.

Each write checks, in this order: the CSRF field, then read-only mode and the token
(:meth:`Access.check_write`), then the name and the query, through the same
use-cases as ``newsmon topics`` (:mod:`newsmon.app.topics`). A malformed query is
shown with the failing position marked; nothing is stored then.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from newsmon.app import reading
from newsmon.app import topics as topic_cases
from newsmon.web.access import AUTH_COOKIE, TOKEN_ENV, Access, AccessError
from newsmon.web.app import WebSettings, settings_of

Page = Callable[..., HTMLResponse]
TRY_WINDOWS = [("7d", "7 days"), ("30d", "30 days"), ("90d", "90 days"),
               ("all", "all time")]
TRIAL_SAMPLE = 10


def edit_refusal(access: Access) -> str:
    if access.read_only:
        return "This server is read-only: topics cannot be changed here."
    return (f"Changing topics is disabled: start newsmon serve with {TOKEN_ENV} set "
            "(newsmon topics works on the command line).")


def topic_rows(settings: WebSettings) -> list[topic_cases.TopicSummary]:
    return topic_cases.list_topics(settings.database)


def source_names(settings: WebSettings) -> list[str]:
    configured = [source.name for source in settings.config.sources]
    with settings.database.session() as session:
        from newsmon.storage.search import source_names as stored

        return sorted(set(configured) | set(stored(session)))


def set_login(response: Response, access: Access) -> None:
    response.set_cookie(AUTH_COOKIE, access.auth_cookie(), httponly=True, samesite="strict")


def _form(name: str = "", query: str = "", since: str = "30d") -> dict[str, str]:
    return {"name": name, "query": query, "since": since}


def _view(request: Request, page: Page, *, editing: str | None = None, status: int = 200,
          **context: Any) -> HTMLResponse:
    values: dict[str, Any] = {"messages": [], "warnings": [], "problem": None, "error": None,
                              "form_problem": None, "trial": None, "trial_warnings": [],
                              "form": _form(), "editing": editing, "try_windows": TRY_WINDOWS}
    values.update(context)
    if editing is not None:
        return page(request, "topic_edit.html", "topics", status=status, **values)
    return page(request, "topics.html", "topics", status=status,
                topics=topic_rows(settings_of(request)), **values)


def topics_view(request: Request, page: Page) -> HTMLResponse:
    return _view(request, page)


def edit_view(request: Request, page: Page, name: str) -> HTMLResponse:
    try:
        topic = topic_cases.get_topic(settings_of(request).database, name)
    except topic_cases.TopicNotFound as exc:
        return _view(request, page, status=404, problem=str(exc))
    return _view(request, page, editing=name, form=_form(name, topic.query))


def _rejected(request: Request, page: Page, editing: str | None, form: dict[str, str],
              exc: reading.ReadingError) -> HTMLResponse:
    """The form again (400): a malformed query marked where it failed, else the problem."""
    from newsmon.web.pages import QueryProblem

    shown = ({"error": QueryProblem.of(exc)} if isinstance(exc, reading.QueryError)
             else {"form_problem": str(exc)})
    return _view(request, page, editing=editing, status=400, form=form, **shown)


def save(request: Request, page: Page, editing: str | None, name: str, query: str,
         since: str, csrf: str, token: str) -> HTMLResponse:
    """Add (``editing`` None) or edit a topic from the form."""
    settings = settings_of(request)
    form = _form(name, query, since)
    try:
        logged_in_now = _allow_write(request, settings.access, csrf, token)
        backfill = settings.config.settings.backfill_window
        if editing is None:
            change = topic_cases.add_topic(settings.database, name.strip(), query, backfill)
            done = (f"added topic {change.topic.name!r}: {change.stats.new_matches} of "
                    f"{change.stats.articles} stored articles match, "
                    f"{change.stats.flagged} flagged new")
        else:
            change = topic_cases.edit_topic(settings.database, editing, query, backfill)
            done = (f"edited topic {editing!r}: {change.stats.new_matches} more stored "
                    f"articles match, {change.stats.flagged} flagged new")
    except AccessError as exc:
        return _view(request, page, editing=editing, status=exc.status, form=form,
                     form_problem=exc.message)
    except reading.ReadingError as exc:
        return _rejected(request, page, editing, form, exc)
    response = _view(request, page, messages=[done], warnings=change.warnings)
    if logged_in_now:
        set_login(response, settings.access)
    return response


def _allow_write(request: Request, access: Access, csrf: str, token: str) -> bool:
    access.check_csrf(request, csrf)
    logged_in_now = access.check_write(request, token)
    request.state.writer = True  # the page answering this form shows no token field
    return logged_in_now


def remove(request: Request, page: Page, name: str, csrf: str, token: str) -> HTMLResponse:
    settings = settings_of(request)
    try:
        logged_in_now = _allow_write(request, settings.access, csrf, token)
        topic_cases.remove_topic(settings.database, name)
    except AccessError as exc:
        return _view(request, page, editing=name, status=exc.status,
                     form=_form(name, _query_of(settings, name)), form_problem=exc.message)
    except reading.ReadingError as exc:
        return _view(request, page, status=404, problem=str(exc))
    response = _view(request, page, messages=[f"removed topic {name!r} and its matches"])
    if logged_in_now:
        set_login(response, settings.access)
    return response


def _query_of(settings: WebSettings, name: str) -> str:
    try:
        return topic_cases.get_topic(settings.database, name).query
    except topic_cases.TopicNotFound:
        return ""


def try_it(request: Request, page: Page, name: str, query: str, since: str,
           editing: str | None = None) -> HTMLResponse:
    """The backtest: what the query would match among stored articles; saves nothing."""
    settings = settings_of(request)
    form = _form(name, query, since)
    try:
        window = None if since in ("", "all") else since
        trial = topic_cases.backtest(settings.database, query, since=window,
                                     sample=TRIAL_SAMPLE)
    except reading.ReadingError as exc:
        return _rejected(request, page, editing, form, exc)
    return _view(request, page, editing=editing, form=form, trial=trial,
                 trial_warnings=trial.warnings)
