"""A forwarding HTTP proxy on loopback that records every address it is asked for."""

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

HOP_HEADERS = {"connection", "proxy-connection", "keep-alive", "transfer-encoding"}


class _ProxyHandler(BaseHTTPRequestHandler):
    """Forwards to loopback only; anything else is recorded and answered 502."""

    def forward(self):
        self.server.seen.append(self.path)
        target = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if target.hostname != "127.0.0.1":
            self.send_error(502, "this test proxy reaches loopback only")
            return
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
        path = f"{target.path}?{target.query}" if target.query else target.path
        connection.request(self.command, path, body, headers)
        answer = connection.getresponse()
        data = answer.read()
        connection.close()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in HOP_HEADERS | {"content-length"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = forward

    def log_message(self, *arguments):
        """Quiet: the addresses asked for are kept in ``server.seen``."""


@pytest.fixture
def forwarding_proxy():
    """The proxy, with ``url`` to configure and ``seen``: the absolute URLs it was asked for."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ProxyHandler)
    server.seen = []
    server.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()
