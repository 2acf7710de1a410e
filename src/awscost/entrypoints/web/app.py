"""The dashboard's web app (Starlette): pages over the viewer's cost report and the live usage, read-only.

Who sees what: with no `[dashboard.tokens]` (allowed on a loopback address only: the CLI refuses to start
otherwise) the viewer is the machine's user and may pick any audience; with tokens, every request carries one
(`Authorization: Bearer T`, or the cookie a first visit with `?token=T` sets) and sees that token's audience
alone; with `trusted_header`, a request from a trusted proxy's address is the user that header names, seen as
that user's audience of `[dashboard.users]` (others fall back to tokens, or are refused). URL filters (period,
account, region) narrow the viewer's report and never widen it: the report job refuses an account outside the
audience, and an `audience` other than the token's is refused here.

Every response carries a Content-Security-Policy allowing the page's own CSS and script and data: images (the
charts) and nothing else; only GET and HEAD are served. Page routes are plain functions (Starlette runs them in
its thread pool: building a report is DuckDB and matplotlib work), the live events an async stream fed by one
poller of the store's last collected hour for every client.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import re
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from awscost.core.config import ACCOUNT_ID as ACCOUNT
from awscost.core.config import REGION, Settings
from awscost.core.errors import AwsCostError, InputError
from awscost.entrypoints.web.config import DashboardSettings
from awscost.reports.dashboard.pages import PAGES, Page
from awscost.reports.dashboard.render import STATIC, STYLESHEET, Frame, environment, file_name
from awscost.reports.dashboard.render import render_page as render_html
from awscost.views.reports import PERIODS, Ask, Reports

COOKIE = "awscost_token"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
PERIOD = re.compile(
    r"^(month-to-date|last-month|last-week|\d{4}-\d{2}|\d{4}-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2})$"
)
MAX_PAGES_CACHED = 128


class SecurityHeaders:
    """Read-only and locked down: GET and HEAD only; every response with the headers above."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            response = PlainTextResponse(
                "read-only: GET and HEAD only", status_code=405, headers={"Allow": "GET, HEAD"}
            )
            await _with_headers(response)(scope, receive, send)
            return

        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.decode().lower() not in _LOWER]
                headers += [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, sending)


_LOWER = {k.lower() for k in HEADERS}


def _with_headers(response: Response) -> Response:
    for key, value in HEADERS.items():
        response.headers[key] = value
    return response


@dataclass(frozen=True)
class Viewer:
    audience: str | None  # None: the organization
    may_choose: bool  # a local viewer picks any audience; a token's viewer sees its own only


@dataclass
class Dashboard:
    """What the routes share: the settings, the reports cache, the templates, the live poller."""

    settings: Settings
    dataset: str
    config: DashboardSettings
    reports: Reports
    today: date | None = None  # fixed for tests and the export; None: the clock's
    _pages: OrderedDict[tuple[Any, ...], tuple[Any, str]] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _env: Any = None
    hour: str | None = None  # the last collected hour the poller saw
    _changed: asyncio.Event | None = None

    def environment(self) -> Any:
        """The templates, loaded and compiled once per dashboard (a new Environment per request compiled
        every template again)."""
        if self._env is None:
            self._env = environment()
        return self._env

    def audiences(self) -> list[str]:
        from awscost.reports.config import ORG_AUDIENCE, report_settings

        return [ORG_AUDIENCE, *(a.name for a in report_settings(self.settings).audiences)]


def _token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.cookies.get(COOKIE)


def _audience_of_token(dash: Dashboard, given: str | None) -> str | None:
    """The audience a token is for, or None when it is no token of the config (compared in constant time)."""
    found = None
    for token, audience in dash.config.tokens.items():
        if given is not None and hmac.compare_digest(given.encode(), token.encode()):
            found = audience
    return found


def viewer_of(dash: Dashboard, request: Request) -> Viewer:
    """The viewer a request is from; refused (401) when tokens are required and none is right."""
    from awscost.reports.config import ORG_AUDIENCE

    config = dash.config
    if config.trusted_header is not None:
        user = request.headers.get(config.trusted_header)
        if user is not None and _from_proxy(config, request):
            audience = config.users.get(user)
            if audience is None:
                raise _Refused(403, f"user {user!r} has no audience on this dashboard ([dashboard.users])")
            return Viewer(None if audience == ORG_AUDIENCE else audience, False)
        if not config.tokens:
            raise _Refused(
                401, "sign in through the dashboard's proxy: this request names no user it vouches for"
            )
    if not config.tokens:
        return Viewer(None, True)
    audience = _audience_of_token(dash, _token(request))
    if audience is None:
        raise _Refused(
            401, "a dashboard token is required (open the link you were given, with its ?token=...)"
        )
    return Viewer(None if audience == ORG_AUDIENCE else audience, False)


def _from_proxy(config: DashboardSettings, request: Request) -> bool:
    """Whether the request came from one of the trusted proxies' addresses (anyone else may forge the header)."""
    import ipaddress

    if request.client is None:
        return False
    try:
        peer = ipaddress.ip_address(request.client.host)
    except ValueError:
        return False
    return any(peer == ipaddress.ip_address(p) for p in config.trusted_proxies)


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def ask_of(dash: Dashboard, request: Request, viewer: Viewer) -> tuple[Ask, dict[str, str]]:
    """The report the URL asks for, checked: (Ask, the filters as given, for links and the form)."""
    from awscost.reports.config import ORG_AUDIENCE

    q = request.query_params
    filters = {k: q[k] for k in ("audience", "period", "account", "region") if q.get(k)}
    audience = viewer.audience
    if "audience" in filters:
        wanted = None if filters["audience"] == ORG_AUDIENCE else filters["audience"]
        if not viewer.may_choose and wanted != viewer.audience:
            raise _Refused(403, "this token's audience is the only one it may see")
        if filters["audience"] not in dash.audiences():
            raise _Refused(400, f"unknown audience {filters['audience']!r}")
        audience = wanted
    period = filters.get("period", "month-to-date")
    if not PERIOD.match(period):
        raise _Refused(400, f"unknown period {period!r}: {', '.join(PERIODS)}, YYYY-MM or START..END")
    account = filters.get("account")
    if account is not None and not ACCOUNT.match(account):
        raise _Refused(400, f"not an account id: {account!r}")
    region = filters.get("region")
    if region is not None and not REGION.match(region):
        raise _Refused(400, f"not a region: {region!r}")
    try:
        ask = Ask(
            audience=audience,
            period=period,
            accounts=(account,) if account else (),
            regions=(region,) if region else (),
            today=dash.today,
        )
    except InputError as exc:
        raise _Refused(400, exc.render()) from None
    return ask, filters


def _links(filters: dict[str, str]) -> dict[str, str]:
    query = urlencode(sorted(filters.items()))
    return {
        name: ("/" if name == "overview" else f"/{name}") + (f"?{query}" if query else "")
        for name in PAGES.names()
    }


def render_page(
    dash: Dashboard, page: Page, ask: Ask, filters: dict[str, str], viewer: Viewer, *, static: bool = False
) -> str:
    """One page's HTML for a viewer's ask (cached with the report it shows; the live page per last hour)."""
    env = dash.environment()
    frame = Frame(
        links={n: file_name(n) for n in PAGES.names()} if static else _links(filters),
        stylesheet=STYLESHEET if static else f"/static/{STYLESHEET}",
        viewer_audience=ask.audience or "organization",
        period=ask.period,
        static=static,
        filters=filters,
        audiences=tuple(dash.audiences()) if viewer.may_choose else (),
        periods=PERIODS,
    )
    report = dash.reports.get(ask)  # the live page too: the viewer's accounts are the report's scope
    if page.live:
        from awscost.reports.dashboard.live import live_view
        from awscost.store import open_store, store_exists
        from awscost.views.live import last_hour

        if not store_exists(dash.settings.store):
            return render_html(env, page, frame, report, None)
        accounts = scope_accounts(report, ask)
        rest = (accounts, ask, *_frame_key(frame))
        # Kept per last collected hour: the page changes when an hour is collected, not per view. Served,
        # the hour is the poller's (the one the live pages are told of), so a cached page opens no store.
        polled = dash._changed is not None
        if polled:
            held_html = _held(dash, ("live", dash.hour, *rest), report)
            if held_html is not None:
                return held_html
        with open_store(dash.settings.store) as store:
            if polled:
                key: tuple[Any, ...] = ("live", dash.hour, *rest)
            else:
                key = ("live", last_hour(store), *rest)
                held_html = _held(dash, key, report)
                if held_html is not None:
                    return held_html
            live = live_view(store, accounts=accounts, region=filters.get("region"))
        html = render_html(env, page, frame, report, live)
        _keep(dash, key, report, html)
        return html
    page_key: tuple[Any, ...] = (page.name, ask, *_frame_key(frame))
    with dash._lock:
        held = dash._pages.get(page_key)
        if held is not None and held[0] is report:
            return held[1]
    html = render_html(env, page, frame, report)
    _keep(dash, page_key, report, html)
    return html


def _held(dash: Dashboard, key: tuple[Any, ...], report: Any) -> str | None:
    """The page kept under `key`, when it was made from this very report."""
    with dash._lock:
        held = dash._pages.get(key)
    return held[1] if held is not None and held[0] is report else None


def _frame_key(frame: Frame) -> tuple[Any, ...]:
    """What of the frame changes a page (its dict fields as tuples: a cache key is hashed)."""
    return (frame.static, tuple(sorted(frame.filters.items())), frame.audiences)


def _keep(dash: Dashboard, key: tuple[Any, ...], report: Any, html: str) -> None:
    with dash._lock:
        dash._pages[key] = (report, html)
        while len(dash._pages) > MAX_PAGES_CACHED:
            dash._pages.popitem(last=False)


def scope_accounts(report: Any, ask: Ask) -> frozenset[str] | None:
    """The accounts the viewer's report covers wholly (the usage store has no tags): None = every account;
    an account filter is already inside them (the report job refused it otherwise)."""
    whole: frozenset[str] | None = report.whole_accounts
    return whole


def _error(dash: Dashboard, status: int, message: str) -> HTMLResponse:
    env = dash.environment()
    return HTMLResponse(
        env.get_template("error.html.j2").render(status=status, message=message), status_code=status
    )


def _page_route(dash: Dashboard, name: str) -> Any:
    page = PAGES.get(name)

    def endpoint(request: Request) -> Response:
        try:
            given = request.query_params.get("token")
            if given and dash.config.tokens:
                # A first visit from a shared link: keep the token in a cookie and drop it from the URL.
                if _audience_of_token(dash, given) is None:
                    raise _Refused(401, "this link's token is not (or no longer) valid")
                rest = {k: v for k, v in request.query_params.items() if k != "token"}
                target = request.url.path + (f"?{urlencode(rest)}" if rest else "")
                response = RedirectResponse(target, status_code=303)
                response.set_cookie(COOKIE, request.query_params["token"], httponly=True, samesite="strict",
                                    secure=request.url.scheme == "https")  # fmt: skip
                return response
            viewer = viewer_of(dash, request)
            ask, filters = ask_of(dash, request, viewer)
            return HTMLResponse(render_page(dash, page, ask, filters, viewer))
        except _Refused as exc:
            return _error(dash, exc.status, exc.message)
        except AwsCostError as exc:
            return _error(dash, 400, exc.render())

    return endpoint


async def _poll(dash: Dashboard) -> None:
    """The one poller: the store's last collected hour every poll_seconds; clients are told on a change."""
    from awscost.store import open_store, store_exists
    from awscost.views.live import last_hour

    def read() -> str | None:
        if not store_exists(dash.settings.store):
            return None
        with open_store(dash.settings.store) as store:
            hour = last_hour(store)
        return None if hour is None else hour.isoformat()

    assert dash._changed is not None
    while True:
        with contextlib.suppress(AwsCostError, OSError):
            hour = await asyncio.to_thread(read)
            if hour != dash.hour:
                dash.hour = hour
                dash._changed.set()
                dash._changed = asyncio.Event()
        await asyncio.sleep(dash.config.poll_seconds)


async def events(request: Request) -> Response:
    dash: Dashboard = request.app.state.dashboard
    try:
        viewer_of(dash, request)  # the live page's EventSource sends the token's cookie
    except _Refused as exc:
        return PlainTextResponse(exc.message, status_code=exc.status)

    async def stream() -> AsyncIterator[str]:
        seen = dash.hour
        yield f"event: hour\ndata: {seen or ''}\n\n"
        while not await request.is_disconnected():
            # The event is taken before the hour is compared: a change between the two sets this event, and
            # a change before them is seen by the comparison (no wait for the next one).
            changed = dash._changed
            assert changed is not None
            if dash.hour == seen:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), timeout=15)
            if dash.hour != seen:
                seen = dash.hour
                yield f"event: hour\ndata: {seen or ''}\n\n"
            else:
                yield ": keep-alive\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream")


def create_app(dash: Dashboard) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        dash._changed = asyncio.Event()
        task = asyncio.create_task(_poll(dash))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    routes = [
        Route("/", _page_route(dash, "overview")),
        *(Route(f"/{name}", _page_route(dash, name)) for name in PAGES.names() if name != "overview"),
        Route("/events", events),
        Route("/healthz", lambda request: PlainTextResponse("ok")),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.dashboard = dash
    app.add_middleware(SecurityHeaders)
    return app


__all__ = ["CSP", "Dashboard", "Viewer", "create_app", "render_page", "scope_accounts"]
