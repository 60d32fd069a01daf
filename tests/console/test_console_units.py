"""The console's pieces that need no browser and no chain: the palette's contrast, the signed
session and CSRF tokens, the cookie flags, and the form input checks."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from telcochain.console import ConsoleConfig, console_router
from telcochain.console.actions import BadInput, parse_choice, parse_id, parse_ref
from telcochain.console.security import Signer
from telcochain.index import IndexStore

from tests.console.test_console_browser import contrast

#: Each text colour of the palette with every background it is used on (console.css).
PAIRS = [
    ("fg", "bg"), ("muted", "bg"), ("link", "bg"), ("fg", "panel"), ("muted", "panel"), ("fg", "head"),
    ("nav-fg", "nav-bg"), ("nav-active", "nav-bg"), ("btn-fg", "btn-bg"), ("btn2-fg", "btn2-bg"), ("fg", "btn2-bg"),
    ("ok-fg", "ok-bg"), ("err-fg", "err-bg"), ("warn-fg", "warn-bg"),
]  # fmt: skip


def palette() -> dict[str, tuple[int, int, int]]:
    css = resources.files("telcochain.console").joinpath("static", "console.css").read_text()
    root = css[css.index(":root") : css.index("}", css.index(":root"))]
    return {
        name: (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))
        for name, h in re.findall(r"--([a-z0-9-]+):\s*#([0-9a-fA-F]{6})\s*;", root)
    }


def test_the_palette_pairs_have_a_contrast_of_at_least_4_5() -> None:
    colours = palette()
    assert {n for pair in PAIRS for n in pair} <= set(colours)
    low = {f"{fg} on {bg}": round(contrast(colours[fg], colours[bg]), 2) for fg, bg in PAIRS}
    assert all(v >= 4.5 for v in low.values()), low
    assert contrast(colours["focus"], colours["bg"]) >= 3  # the focus outline (non-text: 3:1)
    assert contrast(colours["border"], colours["bg"]) >= 3  # input borders


def test_sessions_and_csrf_tokens_cannot_be_forged_or_reused_after_expiry() -> None:
    signer = Signer(b"k" * 32)
    session, cookie = signer.new_session("ops", "tcg_token", lifetime_s=60)
    assert signer.session(cookie) == session
    payload, mac = cookie.rsplit(".", 1)
    assert signer.session(payload + "." + "0" * len(mac)) is None  # a forged signature
    assert Signer(b"o" * 32).session(cookie) is None  # another server's secret
    assert signer.unsign("flash", cookie) is None  # signed for another purpose
    _, expired = signer.new_session("ops", "tcg_token", lifetime_s=-1)
    assert signer.session(expired) is None
    token = signer.csrf_token(session)
    assert signer.check_csrf(session, token)
    assert not signer.check_csrf(session, "")
    assert not signer.check_csrf(session, "é" * 64)  # not ASCII: refused, not an error
    assert signer.session("é.é") is None
    other, _ = signer.new_session("ops", "tcg_token")
    assert not signer.check_csrf(other, token)  # bound to its session
    with pytest.raises(ValueError):
        Signer(b"short")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("R" * 33, "at most 32 bytes of text (33 given)"),
        ("é" * 17, "at most 32 bytes of text (34 given)"),
        ("0x" + "zz" * 32, "0x followed by 64 hex digits"),
        ("a\x01b", "printable text only"),
    ],
)
def test_a_bad_reference_is_refused_with_the_reason(value: str, message: str) -> None:
    with pytest.raises(BadInput, match=re.escape(message)):
        parse_ref(value)


def test_ids_and_votes_are_checked_before_anything_is_sent() -> None:
    assert parse_ref("  ") is None and parse_ref("PAY-7") == "PAY-7"
    assert parse_id("#12", "invoice") == 12
    for bad in ("0", "-1", "1.5", "abc", "9" * 30):
        with pytest.raises(BadInput, match="invoice: a number from 1"):
            parse_id(bad, "invoice")
    with pytest.raises(BadInput, match="invoice: required"):
        parse_id("", "invoice")
    assert parse_choice("approve") is True and parse_choice("reject") is False
    with pytest.raises(BadInput, match="choose approve or reject"):
        parse_choice("abstain")


@pytest.fixture
def app_client(tmp_path: Path) -> Any:
    store = IndexStore(f"sqlite:///{tmp_path / 'index.sqlite'}")
    member = SimpleNamespace(address="0x90F79bf6EB2c4f870365E785982E1f101E93b906")
    config = ConsoleConfig(
        client=member,  # type: ignore[arg-type]  # the login pages only need its address
        store=store,
        authenticate=lambda token: "ops" if token == "tcg_good" else None,
    )
    app = FastAPI()
    app.include_router(console_router(config))
    yield app
    store.dispose()


def _login(client: TestClient, token: str) -> Any:
    form = client.get("/console/login")
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', form.text)
    assert csrf is not None
    return client.post(
        "/console/login", data={"csrf": csrf.group(1), "token": token, "next": ""}, follow_redirects=False
    )


def test_the_session_cookie_is_httponly_samesite_strict_and_secure_over_tls(app_client: Any) -> None:
    with TestClient(app_client, base_url="https://console.example") as tls:
        answer = _login(tls, "tcg_good")
        assert answer.status_code == 303
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith("tc_console=") and "HttpOnly" in cookie and "Secure" in cookie
        assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    with TestClient(app_client, base_url="http://127.0.0.1") as plain:
        cookie = _login(plain, "tcg_good").headers["set-cookie"]
        assert "HttpOnly" in cookie and "Secure" not in cookie  # plain HTTP (a local console)


def test_a_login_without_the_forms_token_or_with_a_bad_token_opens_no_session(app_client: Any) -> None:
    with TestClient(app_client, base_url="http://127.0.0.1") as client:
        client.get("/console/login")
        forged = client.post("/console/login", data={"csrf": "0" * 32, "token": "tcg_good"}, follow_redirects=False)
        assert forged.status_code == 403 and "tc_console=" not in forged.headers.get("set-cookie", "")
        assert "did not come from this console" in forged.text
        refused = _login(client, "tcg_bad")
        assert refused.status_code == 401 and "This access token is not accepted here." in refused.text
        assert "tc_console=" not in refused.headers.get("set-cookie", "")
        closed = client.get("/console/invoices", follow_redirects=False)
        assert closed.status_code == 303 and closed.headers["location"].startswith("/console/login?next=")
        assert client.get("/console/events").status_code == 401
        assert client.get("/console/charts/money.svg").status_code == 401


def test_a_form_posted_without_its_csrf_token_is_refused(app_client: Any) -> None:
    with TestClient(app_client, base_url="http://127.0.0.1") as client:
        assert _login(client, "tcg_good").status_code == 303
        answer = client.post("/console/invoices/1/pay", data={"ref": "X"}, follow_redirects=False)
        assert answer.status_code == 403 and "Nothing was sent" in answer.text
        assert client.post("/console/logout", data={}, follow_redirects=False).status_code == 403
        assert client.get("/console/login").status_code == 200


def _gateway_state(tmp_path: Path, console: dict[str, Any]) -> Any:
    """What the gateway hands its extensions (GatewayState), with the real token store."""
    from telcochain.gateway.auth import TokenStore

    store = IndexStore(f"sqlite:///{tmp_path / 'index.sqlite'}")
    member = SimpleNamespace(address="0x90F79bf6EB2c4f870365E785982E1f101E93b906", keyring=None)
    settings = SimpleNamespace(console=console, tls=None)
    return SimpleNamespace(settings=settings, client=member, store=store, tokens=TokenStore(tmp_path / "tokens.yaml"))


def test_the_gateways_tokens_log_in_and_a_revoked_token_ends_its_sessions(tmp_path: Path) -> None:
    from telcochain.console import install

    state = _gateway_state(tmp_path, {"session_hours": 1})
    token = state.tokens.add("ops")
    app = FastAPI()
    install(app, state)
    assert state.client.keyring is not None  # anvil's account 3: its development trust keys
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert _login(client, token).status_code == 303
        assert client.get("/console/orders", follow_redirects=False).status_code == 200
        broken = client.get("/console/alerts")  # this stub member has no node to scan: an error page, no trace
        assert broken.status_code == 500 and "log has the details" in broken.text
        assert "Traceback" not in broken.text and "AttributeError" not in broken.text
        state.tokens.revoke("ops")
        ended = client.get("/console/orders", follow_redirects=False)
        assert ended.status_code == 303 and ended.headers["location"].startswith("/console/login")
    state.store.dispose()


def test_the_console_section_is_checked_and_can_switch_the_console_off(tmp_path: Path) -> None:
    from telcochain.console import install
    from telcochain.errors import ConfigurationError

    state = _gateway_state(tmp_path, {"enabled": False})
    app = FastAPI()
    install(app, state)
    assert not [r for r in app.routes if getattr(r, "path", "").startswith("/console")]
    state.settings.console = {"sesion_hours": 2}
    with pytest.raises(ConfigurationError, match="sesion_hours"):
        install(FastAPI(), state)
    state.store.dispose()
