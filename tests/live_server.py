"""The real app on a real HTTP server in a background thread, and a small cookie-keeping client.

Browser tests, the raw-socket upload test and ``bench/sync.py`` talk to it over TCP, as a phone
would. ``LiveServer.lose_next_answer()`` makes the next matching request fail after the app has
done its work — the answer is lost on the way back, the case an outbox must survive.
"""

from __future__ import annotations

import http.cookiejar
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import make_server

from fieldreport.accounts.service import create_user
from fieldreport.config import Settings
from fieldreport.runtime import Runtime, build_runtime
from fieldreport.web.app import build_app
from tests.helpers import PASSWORD, csrf_from

StartResponse = Callable[..., Any]


class LoseAnswers:
    """WSGI middleware: for armed (method, path prefix) pairs, run the app, then answer 503."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.armed: list[tuple[str, str]] = []
        self.lost: list[str] = []
        self.seen: list[str] = []
        self.lock = threading.Lock()

    def _take(self, method: str, path: str) -> bool:
        with self.lock:
            self.seen.append(f"{method} {path}")
            for item in self.armed:
                if method == item[0] and path.startswith(item[1]):
                    self.armed.remove(item)
                    self.lost.append(f"{method} {path}")
                    return True
        return False

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if not self._take(environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")):
            return self.app(environ, start_response)
        result = self.app(environ, lambda *args, **kwargs: lambda data: None)
        try:
            for _chunk in result:
                pass
        finally:
            getattr(result, "close", lambda: None)()
        start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
        return [b"answer lost on the way"]


class LiveServer:
    def __init__(self, settings: Settings) -> None:
        self.runtime: Runtime = build_runtime(settings)
        self.app = build_app(settings, self.runtime)
        self.faults = LoseAnswers(self.app.wsgi_app)
        self.app.wsgi_app = self.faults  # type: ignore[method-assign]
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        # A browser's idle keep-alive connection must not hold up the shutdown.
        self.server.daemon_threads = True
        self.server.block_on_close = False  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def lose_next_answer(self, method: str, path_prefix: str) -> None:
        with self.faults.lock:
            self.faults.armed.append((method, path_prefix))

    def add_observer(self, username: str, team: str) -> None:
        with self.runtime.db.session_scope() as session:
            create_user(session, username, role="observer", password=PASSWORD, team_code=team)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
        self.runtime.queue.shutdown()
        self.runtime.db.dispose()


@contextmanager
def live_server(settings: Settings, observers: Iterable[str] = ("obs1",)) -> Iterator[LiveServer]:
    """A started server with the named observers (password ``PASSWORD``, team T-01, T-02, …)."""
    server = LiveServer(settings)
    for number, name in enumerate(observers, start=1):
        server.add_observer(name, f"T-{number:02d}")
    server.thread.start()
    try:
        yield server
    finally:
        server.stop()


class Response:
    def __init__(self, status: int, body: bytes, headers: Any) -> None:
        self.status = status
        self.body = body
        self.headers = headers

    def json(self) -> Any:
        return json.loads(self.body)


class HttpClient:
    """A logged-in observer speaking the JSON API over HTTP (urllib, keeps cookies)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        self.token = ""
        self.requests = 0
        self.bytes_sent = 0
        self.bytes_received = 0

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        request = urllib.request.Request(  # noqa: S310 - base_url is the test server's http URL
            self.base_url + path, data=body, method=method, headers=headers or {}
        )
        self.requests += 1
        self.bytes_sent += len(body or b"")
        try:
            with self.opener.open(request, timeout=60) as answer:
                data = answer.read()
                status, answer_headers = answer.status, answer.headers
        except urllib.error.HTTPError as error:
            data, status, answer_headers = error.read(), error.code, error.headers
        self.bytes_received += len(data)
        return Response(status, data, answer_headers)

    def login(self, username: str, password: str = PASSWORD) -> None:
        page = self.request("GET", "/login").body.decode()
        form = urllib.parse.urlencode(
            {"username": username, "password": password, "csrf_token": csrf_from(page)}
        ).encode()
        self.request("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"})
        self.refresh_token()

    def refresh_token(self) -> str:
        self.token = self.request("GET", "/api/v1/csrf").json()["csrf_token"]
        return self.token

    def cookie_header(self) -> str:
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.cookies)

    def post_report(self, body: dict[str, Any]) -> Response:
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "X-CSRFToken": self.token}
        return self.request("POST", "/api/v1/reports", data, headers)

    def post_photo(self, client_id: str, data: bytes, name: str = "photo.jpg") -> Response:
        body, content_type = multipart_photo(data, name)
        headers = {"Content-Type": content_type, "X-CSRFToken": self.token}
        return self.request("POST", f"/api/v1/reports/{client_id}/photos", body, headers)


def multipart_photo(data: bytes, name: str) -> tuple[bytes, str]:
    """A multipart/form-data body with one file field ``photo``."""
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; filename="{name}"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    return (
        head + data + f"\r\n--{boundary}--\r\n".encode(),
        f"multipart/form-data; boundary={boundary}",
    )
