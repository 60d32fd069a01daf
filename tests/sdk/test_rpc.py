"""The JSON-RPC client honours the environment as ``requests`` does — the proxy for the node's URL,
``NO_PROXY``, the CA bundle — while reading it once per session instead of on every request."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from telcochain.errors import NodeUnreachable
from telcochain.rpc import Rpc

NODE = "http://node.invalid:8545"  # .invalid never resolves: only a proxy can answer for it


@pytest.fixture
def proxy() -> Iterator[tuple[str, list[str]]]:
    """A forward HTTP proxy that answers every JSON-RPC call itself: (its URL, the request lines)."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append(f"{self.command} {self.path}")
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            body = json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": "0x7a69"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def _clear_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


def test_the_environments_proxy_carries_the_calls(proxy, monkeypatch: pytest.MonkeyPatch) -> None:
    url, seen = proxy
    _clear_proxies(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", url)
    rpc = Rpc(NODE, timeout=5)
    assert rpc.call("eth_chainId") == "0x7a69"
    assert rpc.call("eth_chainId") == "0x7a69"
    assert seen == [f"POST {NODE}/", f"POST {NODE}/"]


def test_no_proxy_sends_the_calls_straight_to_the_node(proxy, monkeypatch: pytest.MonkeyPatch) -> None:
    url, seen = proxy
    _clear_proxies(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", url)
    monkeypatch.setenv("NO_PROXY", "node.invalid")
    with pytest.raises(NodeUnreachable):
        Rpc(NODE, timeout=5).call("eth_chainId")
    assert seen == []


def test_the_environment_is_read_once_per_session(proxy, monkeypatch: pytest.MonkeyPatch) -> None:
    url, seen = proxy
    _clear_proxies(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", url)
    rpc = Rpc(NODE, timeout=5)
    rpc.call("eth_chainId")
    monkeypatch.setenv("NO_PROXY", "*")  # a later change is not seen by this session...
    rpc.call("eth_chainId")
    assert len(seen) == 2
    with pytest.raises(NodeUnreachable):  # ...but by a new client
        Rpc(NODE, timeout=5).call("eth_chainId")


def test_a_ca_bundle_from_the_environment_verifies_https(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    bundle = tmp_path / "consortium-ca.pem"
    bundle.write_text("")
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    assert Rpc("https://besu.example:8545")._session.verify == str(bundle)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    assert Rpc("https://besu.example:8545")._session.verify is True
