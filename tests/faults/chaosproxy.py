"""An in-process JSON-RPC proxy that misbehaves on purpose: between an SDK client and a node it
drops requests (before or after the node saw them), answers HTTP 503 or garbage, or delays.

    with ChaosProxy(node_url, rate=0.3, seed=7) as proxy:
        client_rpc = Rpc(proxy.url, timeout=2)
        ...
    proxy.counts   # what it did: {"pass": ..., "drop_after": ...}

"drop_after" is the nasty one: the node applied the request (a transaction is in its pool) but
the client never learns it.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

FAULTS = ("drop_before", "drop_after", "http_503", "garbage", "delay")


class ChaosProxy:
    def __init__(self, upstream: str, *, rate: float = 0.2, seed: int = 0, faults=FAULTS, delay: float = 0.3) -> None:
        self.upstream = upstream
        self.rate = rate
        self.faults = tuple(faults)
        self.delay = delay
        self.random = random.Random(seed)
        self.counts: Counter[str] = Counter()
        self.enabled = True
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                fault = proxy.choose()
                if fault == "drop_before":
                    self.close_connection = True
                    self.connection.close()
                    return
                if fault == "delay":
                    time.sleep(proxy.delay)
                answer = requests.post(proxy.upstream, data=body, headers={"Content-Type": "application/json"}).content
                if fault == "drop_after":
                    self.close_connection = True
                    self.connection.close()
                    return
                if fault == "http_503":
                    self.reply(503, b"service unavailable", "text/plain")
                elif fault == "garbage":
                    self.reply(200, b"<html>upstream hiccup", "text/html")
                else:
                    self.reply(200, answer, "application/json")

            def reply(self, code: int, data: bytes, kind: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def choose(self) -> str:
        with self._lock:
            fault = "pass"
            if self.enabled and self.random.random() < self.rate:
                fault = self.random.choice(self.faults)
            self.counts[fault] += 1
            return fault

    def __enter__(self) -> ChaosProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
