"""Who may talk to the workbench and what they may send.

``Guard`` is an ASGI middleware in front of the whole application: the Host check (no DNS rebinding onto a
loopback server), the access token (Jupyter-style: ``?token=`` once, then an HttpOnly cookie), cross-site POSTs
refused (Origin / Sec-Fetch-Site), request bodies limited in size, and security headers on every response (a
Content-Security-Policy that allows no inline script). The CSRF token of the double-submit pattern is a cookie
that every POST must repeat in its ``csrf`` form field or ``X-CSRF-Token`` header (``check_csrf``).
"""

from __future__ import annotations

import hmac
import ipaddress
import re
import secrets
import unicodedata
from html import escape
from http.cookies import SimpleCookie
from typing import Any, Awaitable, Callable, MutableMapping
from urllib.parse import parse_qsl, urlencode, urlsplit

from ..errors import InputError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

TOKEN_COOKIE = "lumos_token"
CSRF_COOKIE = "lumos_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
LOOPBACK_NAMES = ("localhost",)
RUN_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._+:-]{0,199}$")
SAFE_METHODS = ("GET", "HEAD")
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
DRAIN_LIMIT = 64 * 2**20  # an oversized body up to this size is read and dropped, so the browser sees the 413 page


class Refused(Exception):
    """A request the guard or a handler turns away: HTTP ``status`` with a message for a person."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def is_loopback(host: str) -> bool:
    """Whether binding to ``host`` only accepts connections from this machine."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def access_token(host: str, token: str | None) -> str | None:
    """The token the server will require. A loopback bind needs none unless one is given; any other bind gets
    the given one or a new random one, and refuses an empty one (anyone on the network could use it)."""
    if is_loopback(host):
        return token or None
    if token is None:
        return secrets.token_urlsafe(24)
    if len(token.strip()) < 16:
        raise InputError(f"binding to {host} opens the workbench to the network, so it needs an access token of at "
                         f"least 16 characters; got {'an empty one' if not token.strip() else 'a shorter one'}. "
                         "Leave --token out to get a random one printed in the URL, or bind to 127.0.0.1.")
    return token


def check_run_id(run_id: str) -> str:
    """``run_id`` if it looks like a run id (letters, digits and ._+:- up to 200 characters), else InputError."""
    if not isinstance(run_id, str) or not RUN_ID.match(run_id):
        raise InputError(f"{str(run_id)[:60]!r} is not a run id: run ids are letters, digits and ._+:- "
                         "(at most 200 characters).")
    return run_id


def display_name(filename: str | None, limit: int = 80) -> str:
    """An uploaded file's name as safe to show: the last path part, printable characters only, shortened.
    It is only ever shown (escaped), never used as a path."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] not in ("C", "Z") or c == " ").strip()
    return (name[:limit] + "…") if len(name) > limit else (name or "upload")


def check_csrf(cookies: dict[str, str], headers: Any, form: Any) -> None:
    """The double-submit check of a POST: the CSRF cookie must be repeated in the form or the header."""
    expected = cookies.get(CSRF_COOKIE, "")
    given = headers.get(CSRF_HEADER) or (form.get(CSRF_FIELD) if form is not None else None) or ""
    if not expected or not isinstance(given, str) or not hmac.compare_digest(expected, given):
        raise Refused(403, "this request did not carry the page's CSRF token, so it may come from another site; "
                           "reload the page and try again.")


def _cookies(headers: dict[bytes, bytes]) -> dict[str, str]:
    jar = SimpleCookie()
    try:
        jar.load(headers.get(b"cookie", b"").decode("latin-1"))
    except Exception:  # noqa: BLE001 - a malformed cookie header counts as no cookies
        return {}
    return {k: v.value for k, v in jar.items()}


def error_page(status: int, message: str, as_json: bool) -> tuple[bytes, bytes]:
    """(body, content type) of a refusal: a small HTML page or JSON ``{"error": message}``."""
    if as_json:
        import json

        return json.dumps({"error": message}).encode(), b"application/json"
    body = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>lumos serve: {status}</title></head>'
            f'<body><h1>{status}</h1><p id="error-message" class="error">{escape(message)}</p></body></html>')
    return body.encode(), b"text/html; charset=utf-8"


class Guard:
    """ASGI middleware: host check, token, cross-site POSTs, body size, security headers, CSRF cookie.

    ``token``: required on every request when not None. ``hosts``: the Host names accepted (None: any).
    ``max_body``: bytes of a form post; ``max_upload``: bytes of a multipart (file upload) post.
    """

    def __init__(self, app: Callable, token: str | None, hosts: set[str] | None, max_body: int, max_upload: int):
        self.app, self.token, self.hosts = app, token, hosts
        self.max_body, self.max_upload = int(max_body), int(max_upload)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        cookies = _cookies(headers)
        as_json = scope.get("path", "").startswith("/api/") or b"application/json" in headers.get(b"accept", b"")
        try:
            self._check_host(headers)
            redirect = self._check_token(scope, headers, cookies)
            if redirect is not None:
                return await self._send_redirect(send, *redirect)
            if scope["method"] not in SAFE_METHODS:
                self._check_origin(headers)
            limit = self.max_upload if headers.get(b"content-type", b"").startswith(b"multipart/") else self.max_body
            self._check_length(headers, limit)
        except Refused as refusal:
            if refusal.status == 413:
                await _drain(receive, headers)
            return await self._send_error(send, refusal, as_json)
        csrf = cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        scope.setdefault("state", {})["csrf"] = csrf
        scope["state"]["cookies"] = cookies
        new_cookie = CSRF_COOKIE not in cookies

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise Refused(413, _too_large(received, limit, limit == self.max_upload, finished=False))
            return message

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
                         (b"referrer-policy", b"same-origin"), (b"x-frame-options", b"DENY"),
                         (b"cache-control", b"no-store")]
                if new_cookie:
                    extra.append((b"set-cookie", f"{CSRF_COOKIE}={csrf}; Path=/; SameSite=Strict".encode()))
                message = dict(message, headers=list(message.get("headers", [])) + extra)
            await send(message)

        await self.app(scope, limited_receive, send_with_headers)

    def _check_host(self, headers: dict[bytes, bytes]) -> None:
        if self.hosts is None:
            return
        host = headers.get(b"host", b"").decode("latin-1")
        name = urlsplit(f"//{host}").hostname or ""
        if name not in self.hosts:
            raise Refused(400, f"this workbench answers to {', '.join(sorted(self.hosts))}, not to the host "
                               f"{host[:80]!r}; open it by the address lumos serve printed.")

    def _check_token(self, scope: Scope, headers: dict[bytes, bytes], cookies: dict[str, str]
                     ) -> tuple[str, str] | None:
        """None when the request may pass; (location, cookie) to set the cookie and drop ``token=`` from the URL."""
        if self.token is None:
            return None
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        given = dict(query).get("token")
        if given is not None and hmac.compare_digest(given, self.token):
            rest = urlencode([(k, v) for k, v in query if k != "token"])
            location = scope.get("path", "/") + (f"?{rest}" if rest else "")
            return location, f"{TOKEN_COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict"
        header = headers.get(b"authorization", b"").decode("latin-1")
        candidates = [cookies.get(TOKEN_COOKIE, ""), header[6:] if header.lower().startswith("token ") else ""]
        if any(c and hmac.compare_digest(c, self.token) for c in candidates):
            return None
        raise Refused(401, "this workbench needs its access token: open the URL with ?token=... that lumos serve "
                           "printed when it started.")

    @staticmethod
    def _check_origin(headers: dict[bytes, bytes]) -> None:
        if headers.get(b"sec-fetch-site", b"").decode("latin-1") == "cross-site":
            raise Refused(403, "a page on another site tried to send this request; lumos serve only accepts "
                               "requests from its own pages.")
        origin = headers.get(b"origin", b"").decode("latin-1")
        host = headers.get(b"host", b"").decode("latin-1")
        if origin and origin != "null" and urlsplit(origin).netloc != host:
            raise Refused(403, f"a page on another site ({origin[:80]}) tried to send this request; lumos serve "
                               "only accepts requests from its own pages.")
        if origin == "null":
            raise Refused(403, "a request from an opaque origin (a sandboxed frame or a file) was refused.")

    def _check_length(self, headers: dict[bytes, bytes], limit: int) -> None:
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            raise Refused(413, _too_large(int(length), limit, limit == self.max_upload, finished=True))

    @staticmethod
    async def _send_redirect(send: Send, location: str, cookie: str) -> None:
        await send({"type": "http.response.start", "status": 303,
                    "headers": [(b"location", location.encode("latin-1")), (b"set-cookie", cookie.encode()),
                                (b"referrer-policy", b"same-origin"), (b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})

    @staticmethod
    async def _send_error(send: Send, refusal: Refused, as_json: bool) -> None:
        body, kind = error_page(refusal.status, refusal.message, as_json)
        await send({"type": "http.response.start", "status": refusal.status,
                    "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode()),
                                (b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


def _too_large(size: int, limit: int, upload: bool, finished: bool) -> str:
    what = "upload" if upload else "request"
    flag = " (lumos serve --max-upload-mb)" if upload else ""
    size_text = f"{size / 2**20:.1f} MB" if finished else f"more than {limit / 2**20:.1f} MB"
    return f"the {what} is {size_text}; the limit is {limit / 2**20:.1f} MB{flag}. Send a smaller file."


async def _drain(receive: Receive, headers: dict[bytes, bytes]) -> None:
    """Read and drop a refused body (when it is not huge), so the client gets to read the refusal."""
    length = headers.get(b"content-length", b"")
    if not length.isdigit() or int(length) > DRAIN_LIMIT:
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False) and message["type"] == "http.request"
