"""The console's pages and forms: one FastAPI router, mounted at ``/console``.

Pages read the index (:mod:`telcochain.console.data`); forms act through the SDK
(:mod:`telcochain.console.actions`) after the session and its CSRF token are checked. Every
POST answers with a redirect to a page that shows the outcome (a signed flash cookie), so a
reload never sends an action twice.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import logging
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from telcochain.agreement import InvoiceStatus
from telcochain.assets import AssetState
from telcochain.console import actions, data
from telcochain.console.config import ConsoleConfig
from telcochain.console.security import (
    FLASH_COOKIE,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Session,
    Signer,
)
from telcochain.errors import TelcochainError
from telcochain.index import Queries
from telcochain.index.reports import build_report, charts
from telcochain.orders import OrderState

if TYPE_CHECKING:
    from telcochain.client import Client

log = logging.getLogger("telcochain.console")

STATIC = {"console.css": "text/css; charset=utf-8", "console.js": "text/javascript; charset=utf-8"}
CHARTS = {
    "cycle_times": "Cycle times: requested to done, p50 and p95 per flow and vendor",
    "macd_volume": "MACD volume per kind per period",
    "stock_aging": "Stock delivered and neither used nor returned, by age",
    "money": "Charges and payments per customer per period",
    "denial_rates": "Share of calls denied, per account",
}
NAV = [
    ("dashboard", "Dashboard", ""),
    ("orders", "Orders", "orders"),
    ("twins", "Twins", "twins"),
    ("invoices", "Invoices", "invoices"),
    ("proposals", "Proposals", "proposals"),
    ("details", "Shared details", "details"),
    ("alerts", "Alerts", "alerts"),
]


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("telcochain.console", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = data.when
    env.filters["short"] = data.short
    env.filters["num"] = lambda v: f"{v:,}" if isinstance(v, int) else v
    return env


#: Seconds between two recomputations of the dashboard's charts.
CHART_REFRESH_S = 15.0


@dataclass
class _Charts:
    block: int
    images: dict[str, bytes]
    made: float


class Console:
    """The state one console shares between its requests: the config, the cookie signer, the
    templates, the alert scanner and the chart cache."""

    def __init__(self, config: ConsoleConfig, prefix: str) -> None:
        self.config = config
        self.prefix = prefix.rstrip("/")
        self.signer = Signer(config.secret)
        self.env = _environment()
        self.queries = Queries(config.store)
        self._alerts: data.AlertSource | None = None
        self._charts: _Charts | None = None
        self._chart_lock = threading.Lock()
        self.me = str(config.client.address or "")

    @property
    def alerts(self) -> data.AlertSource:
        if self._alerts is None:
            self._alerts = data.AlertSource(self.config.client, self.config.store, self.config.alerts_config)
        return self._alerts

    def url(self, path: str = "", **query: Any) -> str:
        query = {k: v for k, v in query.items() if v not in (None, "", False)}
        return f"{self.prefix}/{path}" + (f"?{urlencode(query)}" if query else "")

    def _fresh_charts(self) -> _Charts:
        """The report's charts as SVG: recomputed when the index has moved on, at most every
        ``CHART_REFRESH_S`` seconds (matplotlib takes a second or two; live pages ask at every block)."""
        block = data.checkpoint(self.config.store)
        with self._chart_lock:  # matplotlib's pyplot is not thread-safe
            cached = self._charts
            if cached is None or (cached.block != block and time.monotonic() - cached.made > CHART_REFRESH_S):
                report = build_report(self.config.store)
                images = {k: _svg_body(v) for k, v in charts(report, fmt="svg").items()}
                cached = self._charts = _Charts(block, images, time.monotonic())
            return cached

    def chart_stamp(self) -> int:
        """The index block the current charts show (their URLs change with it)."""
        return self._fresh_charts().block

    def chart(self, name: str) -> bytes | None:
        return self._fresh_charts().images.get(name)

    # -- sessions ------------------------------------------------------------------------------

    def session(self, request: Request) -> Session | None:
        session = self.signer.session(request.cookies.get(SESSION_COOKIE))
        return session if session is not None and self._token_still_valid(session) else None

    def _token_still_valid(self, session: Session) -> bool:
        """The session's token must still be accepted: ``config.token_valid`` is asked with its
        fingerprint (a gateway that dropped the token ends the sessions made with it)."""
        check = self.config.token_valid
        return check is None or check(session.fingerprint)

    def login(self, token: str) -> str | None:
        return self.config.authenticate(token)

    def secure(self, request: Request) -> bool:
        if self.config.secure_cookies is not None:
            return self.config.secure_cookies
        return request.url.scheme == "https"

    def set_cookie(self, response: Response, request: Request, name: str, value: str, max_age: int) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path=self.prefix or "/",
            httponly=True,
            samesite="strict",
            secure=self.secure(request),
        )

    def flash(self, response: Response, request: Request, kind: str, text: str, tx: str | None = None) -> None:
        value = self.signer.sign("flash", {"k": kind, "t": text, "x": tx or "", "at": int(time.time())})
        self.set_cookie(response, request, FLASH_COOKIE, value, 60)

    def read_flash(self, request: Request) -> dict[str, str] | None:
        found = self.signer.unsign("flash", request.cookies.get(FLASH_COOKIE))
        if not found or time.time() - int(found.get("at", 0)) > 60:
            return None
        return {"kind": str(found.get("k")), "text": str(found.get("t")), "tx": str(found.get("x") or "")}

    # -- rendering -----------------------------------------------------------------------------

    def render(
        self, request: Request, session: Session | None, template: str, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        flash = self.read_flash(request)
        names = context.pop("names", None) or data.Names(self.config.store)
        body = self.env.get_template(template).render(
            console=self,
            request=request,
            session=session,
            csrf=self.signer.csrf_token(session) if session else "",
            me=self.me,
            me_name=names(self.me),
            block=data.checkpoint(self.config.store),
            flash=flash,
            nav=NAV,
            names=names,
            **context,
        )
        response = HTMLResponse(body, status_code=status_code)
        response.headers["Cache-Control"] = "no-store"
        if flash is not None:
            response.delete_cookie(FLASH_COOKIE, path=self.prefix or "/")
        return response


@functools.cache
def _static_file(name: str) -> bytes:
    """A file of ``static/`` (one of :data:`STATIC`), read once per process."""
    return resources.files("telcochain.console").joinpath("static", name).read_bytes()


def _svg_body(svg: bytes) -> bytes:
    """matplotlib's SVG without its XML prolog (served as an image/svg+xml document)."""
    text = svg.decode()
    start = text.find("<svg")
    return text[start:].encode() if start >= 0 else svg


def _safe_next(console: Console, value: str | None, default: str) -> str:
    """Where a form returns: a page of this console only (no open redirect)."""
    if value and value.startswith(console.prefix + "/") and "//" not in value and "\\" not in value:
        return value
    return default


def console_router(config: ConsoleConfig, prefix: str = "/console") -> APIRouter:
    """The console's routes under ``prefix``; include it in the gateway's app."""
    console = Console(config, prefix)
    router = APIRouter(prefix=console.prefix, include_in_schema=False)
    router.console = console  # type: ignore[attr-defined]
    store, client = config.store, config.client

    def login_redirect(request: Request) -> RedirectResponse:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(console.url("login", next=target), status_code=303)

    def page(template: str, build: Callable[[Request, data.Names], dict[str, Any]]) -> Callable[[Request], Response]:
        def handler(request: Request) -> Response:
            session = console.session(request)
            if session is None:
                return login_redirect(request)
            names = data.Names(store)
            try:
                context = build(request, names)
            except (TelcochainError, actions.BadInput) as exc:  # a bad filter: say so, show nothing
                return console.render(request, session, "error.html", 400, names=names, message=str(exc), title="")
            except Exception:  # no stack trace on the page; the log has it
                log.exception("console page %s failed", request.url.path)
                message = "This page could not be built; the server's log has the details."
                return console.render(request, session, "error.html", 500, names=names, message=message, title="")
            status = int(context.pop("_status", 200))
            return console.render(request, session, template, status, names=names, **context)

        return handler

    # -- login / logout ----------------------------------------------------------------------------

    @router.get("/login")
    def login_form(request: Request, next: str | None = None) -> Response:
        nonce = secrets.token_hex(16)
        response = console.render(request, None, "login.html", login_csrf=nonce, next=next or "", error=None)
        console.set_cookie(response, request, LOGIN_COOKIE, nonce, 900)
        return response

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await request.form()
        nonce = request.cookies.get(LOGIN_COOKIE)
        sent = str(form.get("csrf") or "")
        target = _safe_next(console, str(form.get("next") or ""), console.url(""))
        back = str(form.get("next") or "")
        if not nonce or not hmac.compare_digest(nonce.encode(), sent.encode()):
            message = "The login form expired or did not come from this console: try again."
            return _login_again(request, message, 403, back)
        token = str(form.get("token") or "").strip()
        if not token:
            return _login_again(request, "Enter your access token.", 400, back)
        who = await run_in_threadpool(console.login, token)
        if who is None:
            return _login_again(request, "This access token is not accepted here.", 401, back)
        _, value = console.signer.new_session(who, token, config.session_s)
        response = RedirectResponse(target, status_code=303)
        console.set_cookie(response, request, SESSION_COOKIE, value, config.session_s)
        response.delete_cookie(LOGIN_COOKIE, path=console.prefix or "/")
        return response

    def _login_again(request: Request, message: str, status: int, back: str) -> Response:
        nonce = secrets.token_hex(16)
        target = _safe_next(console, back, "")
        response = console.render(request, None, "login.html", status, login_csrf=nonce, next=target, error=message)
        console.set_cookie(response, request, LOGIN_COOKIE, nonce, 900)
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        session = console.session(request)
        form = await request.form()
        if session is not None and not console.signer.check_csrf(session, str(form.get("csrf") or "")):
            return _csrf_refused(request, session)
        response = RedirectResponse(console.url("login"), status_code=303)
        response.delete_cookie(SESSION_COOKIE, path=console.prefix or "/")
        return response

    def _csrf_refused(request: Request, session: Session) -> Response:
        return console.render(
            request,
            session,
            "error.html",
            403,
            title="Form refused",
            message="This form did not come from this console page, or it has expired (CSRF token missing or "
            "wrong). Nothing was sent. Reload the page and try again.",
        )

    # -- pages -------------------------------------------------------------------------------------

    def dashboard(request: Request, names: data.Names) -> dict[str, Any]:
        alerts = console.alerts.alerts()
        return {"counts": data.counts(store), "alerts": alerts[:5], "alert_total": len(alerts), "charts": CHARTS,
                "title": "Dashboard", "active": "dashboard"}  # fmt: skip

    router.add_api_route("/", page("dashboard.html", dashboard), methods=["GET"], response_class=HTMLResponse)

    def orders(request: Request, names: data.Names) -> dict[str, Any]:
        q = request.query_params
        state, customer, after = q.get("state") or None, q.get("customer") or None, q.get("after") or None
        found = console.queries.orders(state=state, customer=customer, after=after, limit=config.page_size)
        return {
            "orders": found.items, "next": found.next, "state": state or "", "customer": customer or "",
            "states": [s.label for s in OrderState if s], "title": "Orders", "active": "orders",
        }  # fmt: skip

    router.add_api_route("/orders", page("orders.html", orders), methods=["GET"], response_class=HTMLResponse)

    def order(request: Request, names: data.Names) -> dict[str, Any]:
        name = request.path_params["order"]
        tree = data.order_tree(store, name, names)
        if tree is None:
            raise actions.BadInput(f"No order {name!r} in the index.")
        return {"tree": tree, "title": f"Order {tree.order}", "active": "orders"}

    router.add_api_route("/orders/{order}", page("order.html", order), methods=["GET"], response_class=HTMLResponse)

    def twins(request: Request, names: data.Names) -> dict[str, Any]:
        q = request.query_params
        filters = {k: (q.get(k) or None) for k in ("state", "customer", "vendor", "order")}
        found = console.queries.assets(**filters, after=q.get("after") or None, limit=config.page_size)
        return {
            "twins": found.items, "next": found.next, "filters": {k: v or "" for k, v in filters.items()},
            "states": [s.label for s in AssetState if s], "title": "Twins", "active": "twins",
        }  # fmt: skip

    router.add_api_route("/twins", page("twins.html", twins), methods=["GET"], response_class=HTMLResponse)

    def twin(request: Request, names: data.Names) -> dict[str, Any]:
        name = request.path_params["twin"]
        view = data.twin_view(store, client, name, names)
        if view is None:
            raise actions.BadInput(f"No twin {name!r} in the index.")
        return {"twin": view, "title": f"Twin {view.twin}", "active": "twins"}

    router.add_api_route("/twins/{twin}", page("twin.html", twin), methods=["GET"], response_class=HTMLResponse)

    def invoices(request: Request, names: data.Names) -> dict[str, Any]:
        q = request.query_params
        status, role = q.get("status") or None, q.get("role") or ""
        overdue = q.get("overdue") == "1"
        if role not in ("", "payer", "payee"):
            raise actions.BadInput("role: payer, payee or empty")
        after = actions.parse_id(q.get("after"), "after") if q.get("after") else None
        found = console.queries.invoices(
            payer=console.me if role == "payer" else None, payee=console.me if role == "payee" else None,
            status=status, overdue=overdue, after=after, limit=config.page_size,
        )  # fmt: skip
        return {
            "invoices": found.items, "next": found.next, "status": status or "", "role": role, "overdue": overdue,
            "statuses": [s.label for s in InvoiceStatus if s], "money": _money, "title": "Invoices",
            "active": "invoices",
        }  # fmt: skip

    def _money(amount: int, token: str) -> str:
        try:
            return client.escrow.format(amount, token)
        except TelcochainError:
            return f"{amount:,} (base units)"

    router.add_api_route("/invoices", page("invoices.html", invoices), methods=["GET"], response_class=HTMLResponse)

    def invoice(request: Request, names: data.Names) -> dict[str, Any]:
        number = actions.parse_id(request.path_params["invoice"], "invoice")
        found = console.queries.invoices(after=number - 1, limit=1).items
        if not found or found[0].invoice_id != number:
            raise actions.BadInput(f"No invoice #{number} in the index.")
        return {"inv": found[0], "money": _money, "title": f"Invoice #{number}", "active": "invoices"}

    router.add_api_route(
        "/invoices/{invoice}", page("invoice.html", invoice), methods=["GET"], response_class=HTMLResponse
    )

    def proposals(request: Request, names: data.Names) -> dict[str, Any]:
        status = request.query_params.get("status", "open")
        if status not in ("open", "executed", "rejected", "all"):
            raise actions.BadInput("status: open, executed, rejected or all")
        found = data.proposals(store, client, console.me, names, status=None if status == "all" else status)
        return {"proposals": found, "status": status, "title": "Proposals", "active": "proposals"}

    router.add_api_route("/proposals", page("proposals.html", proposals), methods=["GET"], response_class=HTMLResponse)

    def details(request: Request, names: data.Names) -> dict[str, Any]:
        return {
            "shared": data.shared_details(store, client, console.me, names),
            "title": "Details shared with you", "active": "details",
        }  # fmt: skip

    router.add_api_route("/details", page("details.html", details), methods=["GET"], response_class=HTMLResponse)

    def alerts(request: Request, names: data.Names) -> dict[str, Any]:
        return {"alerts": console.alerts.alerts(), "title": "Alerts", "active": "alerts"}

    router.add_api_route("/alerts", page("alerts.html", alerts), methods=["GET"], response_class=HTMLResponse)

    @router.get("/charts/{name}.svg")
    def chart(request: Request, name: str) -> Response:
        if console.session(request) is None:
            return Response(status_code=401)
        if name not in CHARTS:
            return Response(status_code=404)
        svg = console.chart(name)
        if svg is None:  # nothing to chart yet
            svg = (
                b'<svg xmlns="http://www.w3.org/2000/svg" width="720" height="60" role="img">'
                b'<text x="10" y="35" font-family="sans-serif" font-size="16" fill="#333">no data yet</text></svg>'
            )
        return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})

    @router.get("/static/{name}")
    def static(name: str) -> Response:
        if name not in STATIC:
            return Response(status_code=404)
        return Response(_static_file(name), media_type=STATIC[name], headers={"Cache-Control": "max-age=300"})

    # -- live updates --------------------------------------------------------------------------

    @router.get("/events")
    async def events(request: Request) -> Response:
        """Server-sent events: ``index`` with the checkpoint block each time the index moves on."""
        session = console.session(request)
        if session is None:
            return Response(status_code=401)

        async def stream() -> AsyncIterator[bytes]:
            last, quiet = -2, 0.0
            yield b"retry: 2000\n\n"
            while not await request.is_disconnected() and session.expires > time.time():
                block = await run_in_threadpool(data.checkpoint, store)
                if block != last:
                    last, quiet = block, 0.0
                    yield f"event: index\ndata: {block}\n\n".encode()
                elif quiet >= 15:
                    quiet = 0.0
                    yield b": keep-alive\n\n"
                await asyncio.sleep(config.live_interval_s)
                quiet += config.live_interval_s

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        )

    # -- actions ---------------------------------------------------------------------------------

    async def act(request: Request, default_next: str, run: Callable[[dict[str, str]], actions.Outcome]) -> Response:
        session = console.session(request)
        if session is None:
            return login_redirect(request)
        form = {k: str(v) for k, v in (await request.form()).items()}
        if not console.signer.check_csrf(session, form.get("csrf")):
            return _csrf_refused(request, session)
        target = _safe_next(console, form.get("next"), default_next)
        response = RedirectResponse(target, status_code=303)
        try:
            outcome = await run_in_threadpool(run, form)
        except actions.BadInput as exc:
            console.flash(response, request, "error", f"Not sent: {exc}")
            return response
        except TelcochainError as exc:  # pragma: no cover - actions turn these into outcomes
            outcome = actions.Outcome(False, str(exc))
        except Exception:  # no stack trace on the page; the log has it
            log.exception("console action failed")
            outcome = actions.Outcome(False, "The action failed unexpectedly; the server's log has the details.")
        kind = "ok" if outcome.ok else ("denied" if outcome.denied else "error")
        console.flash(response, request, kind, outcome.message, outcome.tx_hash)
        return response

    @router.post("/proposals/{proposal}/vote")
    async def vote(request: Request, proposal: str) -> Response:
        def run(form: dict[str, str]) -> actions.Outcome:
            number = actions.parse_id(proposal, "proposal")
            approve = actions.parse_choice(form.get("choice"))
            return actions.vote(client, number, approve, actions.parse_ref(form.get("ref")))

        return await act(request, console.url("proposals"), run)

    def invoice_action(call: Callable[[Client, int, str | None], actions.Outcome]) -> Callable[..., Any]:
        """The POST endpoint of an invoice action (``actions.pay``, ``actions.release``)."""

        async def endpoint(request: Request, invoice: str) -> Response:
            def run(form: dict[str, str]) -> actions.Outcome:
                return call(client, actions.parse_id(invoice, "invoice"), actions.parse_ref(form.get("ref")))

            return await act(request, console.url("invoices"), run)

        return endpoint

    for verb, call in (("pay", actions.pay), ("release", actions.release)):
        router.add_api_route(f"/invoices/{{invoice}}/{verb}", invoice_action(call), methods=["POST"], name=verb)

    return router
