"""A small OpenAI-compatible chat server for a local generator (``lumos.nle.serve``), on Starlette + uvicorn.

Requests that arrive together are generated together: a worker thread takes the first waiting request,
keeps collecting while the next one arrives within ``batch_wait`` seconds (at most ``max_batch``), and sends
those with the same decoding settings through the generator as one batch. Routes: POST /v1/chat/completions,
GET /v1/models.

Limits, each answered with an HTTP error rather than a hang: a body over ``max_body`` bytes (413, checked on
the Content-Length header before reading and again while reading), a malformed Content-Length (400), a body
that stalls for ``idle_timeout`` seconds (408), ``max_tokens`` outside 1..``max_tokens_limit`` (400), a
generation that takes longer than ``request_timeout`` (504), a generator that fails or answers fewer prompts
than it was given (500). Connections that send nothing for ``idle_timeout`` seconds are closed, and at most
``max_connections`` are served at once (503 beyond).
"""

from __future__ import annotations

import asyncio
import json
import math
import queue
import socket
import threading
import time
from collections import Counter
from concurrent.futures import Future
from typing import Any

from ..errors import InputError, ModelError, UnsupportedError
from ..params import Float, Int, check_all
from .generator import Completion, Generator, generate_checked


class _Rejected(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class ChatServer:
    """A running server; ``url`` is its base (``http://127.0.0.1:PORT``); ``batch_sizes`` counts the
    generate calls by how many requests each served. Use as a context manager, or call ``close()``."""

    def __init__(self, generator: Generator, host: str = "127.0.0.1", port: int = 0, max_batch: int = 8,
                 batch_wait: float = 0.05, *, max_body: int = 1_000_000, max_tokens_limit: int = 1024,
                 request_timeout: float = 300.0, idle_timeout: float = 5.0, max_connections: int = 64):
        check_all("nle.serve", [
            ("port", port, Int(low=0, high=65535)), ("max_batch", max_batch, Int(low=1, high=1024)),
            ("batch_wait", batch_wait, Float(low=0, high=10)), ("max_body", max_body, Int(low=1)),
            ("max_tokens_limit", max_tokens_limit, Int(low=1)),
            ("request_timeout", request_timeout, Float(low=0, low_open=True)),
            ("idle_timeout", idle_timeout, Float(low=0, low_open=True)),
            ("max_connections", max_connections, Int(low=1))])
        if not hasattr(generator, "generate"):
            raise InputError(f"nle.serve: generator must have a generate method; got {type(generator).__name__}.")
        try:
            import starlette  # noqa: F401
            import uvicorn  # noqa: F401
        except ImportError:
            raise UnsupportedError("nle.serve needs starlette and uvicorn: pip install 'lumos[serve]'.") from None
        self.generator, self.max_batch, self.batch_wait = generator, int(max_batch), float(batch_wait)
        self.max_body, self.max_tokens_limit = int(max_body), int(max_tokens_limit)
        self.request_timeout, self.idle_timeout = float(request_timeout), float(idle_timeout)
        self._queue: queue.Queue = queue.Queue()
        self.batch_sizes: Counter[int] = Counter()
        self._stop = threading.Event()
        self._socket = socket.create_server((host, int(port)))
        self.url = f"http://{host}:{self._socket.getsockname()[1]}"
        self._uvicorn = _uvicorn_server(_app(self), self.idle_timeout, int(max_connections))
        self._threads = [threading.Thread(target=self._uvicorn.run, kwargs={"sockets": [self._socket]}, daemon=True),
                         threading.Thread(target=self._work, daemon=True)]
        for t in self._threads:
            t.start()
        deadline = time.monotonic() + 30
        while not self._uvicorn.started and self._threads[0].is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not self._uvicorn.started:
            self.close()
            raise ModelError(f"nle.serve: the server did not start on {self.url}.")

    def submit(self, request: dict[str, Any]) -> Future:
        future: Future = Future()
        self._queue.put((request, future))
        return future

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                batch = [self._queue.get(timeout=0.1)]
            except queue.Empty:
                continue
            while len(batch) < self.max_batch:  # keep collecting while requests arrive batch_wait apart
                try:
                    batch.append(self._queue.get(timeout=self.batch_wait))
                except queue.Empty:
                    break
            groups: dict[tuple, list] = {}
            for request, future in batch:
                if future.set_running_or_notify_cancel():  # a client that gave up is not generated for
                    groups.setdefault(request["settings"], []).append((request, future))
            for (max_tokens, temperature, seed), items in groups.items():
                self.batch_sizes[len(items)] += 1
                try:
                    out = generate_checked(self.generator, [r["messages"] for r, _ in items], max_tokens,
                                           temperature, seed)
                    for (_, future), completion in zip(items, out):
                        future.set_result(completion)
                except Exception as e:  # noqa: BLE001 - reported to each waiting client as HTTP 500
                    for _, future in items:
                        future.set_exception(e)

    def close(self) -> None:
        self._stop.set()
        self._uvicorn.should_exit = True
        for t in self._threads:
            t.join(timeout=5)
        self._socket.close()

    def __enter__(self) -> "ChatServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def serve(generator: Generator | None = None, host: str = "127.0.0.1", port: int = 0, max_batch: int = 8,
          batch_wait: float = 0.05, **limits: Any) -> ChatServer:
    """Serve ``generator`` (default: the local SmolLM2) over an OpenAI-compatible API; port 0 picks a free one.
    ``limits``: ``max_body``, ``max_tokens_limit``, ``request_timeout``, ``idle_timeout``, ``max_connections``
    (see ``ChatServer``).

    >>> with serve() as server:
    ...     lumos.nle.explain(model, texts, generator=EndpointGenerator(server.url))
    """
    if generator is None:
        from .local import LocalGenerator

        generator = LocalGenerator()
    return ChatServer(generator, host, port, max_batch, batch_wait, **limits)


def parse_request(body: bytes, max_tokens_limit: int) -> dict[str, Any]:
    """A chat request body -> {"messages", "settings": (max_tokens, temperature, seed)}; _Rejected(400) when
    it is not one."""
    try:
        request = json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise _Rejected(400, f"bad request: the body is not JSON ({e})") from None
    if not isinstance(request, dict):
        raise _Rejected(400, "bad request: the body must be a JSON object")
    messages = request.get("messages")
    if not isinstance(messages, list) or not messages or not all(
            isinstance(m, dict) and isinstance(m.get("content"), str) and isinstance(m.get("role", "user"), str)
            for m in messages):
        raise _Rejected(400, "bad request: messages must be a non-empty list of {role, content} objects with "
                             "string content")
    max_tokens = request.get("max_tokens", request.get("max_completion_tokens"))
    max_tokens = 60 if max_tokens is None else max_tokens
    temperature = 0.0 if request.get("temperature") is None else request["temperature"]
    seed = 0 if request.get("seed") is None else request["seed"]
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or not 1 <= max_tokens <= max_tokens_limit:
        raise _Rejected(400, f"bad request: max_tokens must be an integer in 1..{max_tokens_limit}; got {max_tokens!r}")
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not math.isfinite(temperature) \
            or not 0 <= temperature <= 5:
        raise _Rejected(400, f"bad request: temperature must be a number in [0, 5]; got {temperature!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise _Rejected(400, f"bad request: seed must be an integer in 0..2^32-1; got {seed!r}")
    return {"messages": [{"role": m.get("role", "user"), "content": m["content"]} for m in messages],
            "settings": (max_tokens, float(temperature), seed)}


async def read_body(receive_stream, content_length: str | None, max_body: int, idle_timeout: float) -> bytes:
    """The request body, at most ``max_body`` bytes, each chunk within ``idle_timeout``; _Rejected otherwise."""
    if content_length is not None:
        if not content_length.isdigit():
            raise _Rejected(400, f"bad request: Content-Length must be a non-negative integer; got {content_length!r}")
        if int(content_length) > max_body:
            raise _Rejected(413, f"request body of {int(content_length)} bytes exceeds the limit of {max_body}")
    chunks, size = [], 0
    stream = receive_stream.__aiter__()
    while True:
        try:
            chunk = await asyncio.wait_for(stream.__anext__(), timeout=idle_timeout)
        except StopAsyncIteration:
            break
        except asyncio.TimeoutError:
            raise _Rejected(408, f"the request body stalled for {idle_timeout:g} s") from None
        size += len(chunk)
        if size > max_body:
            raise _Rejected(413, f"request body exceeds the limit of {max_body} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _app(server: ChatServer):
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    def error(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": {"message": message}}, status_code=status)

    async def models(request: Request) -> JSONResponse:
        return JSONResponse({"object": "list", "data": [{"id": server.generator.name, "object": "model",
                                                         "context_length": server.generator.context_length}]})

    async def completions(request: Request) -> JSONResponse:
        try:
            body = await read_body(request.stream(), request.headers.get("content-length"), server.max_body,
                                   server.idle_timeout)
            parsed = parse_request(body, server.max_tokens_limit)
        except _Rejected as e:
            return error(e.status, e.message)
        future = server.submit(parsed)
        try:
            completion: Completion = await asyncio.wait_for(asyncio.wrap_future(future), server.request_timeout)
        except asyncio.TimeoutError:
            future.cancel()
            return error(504, f"no answer from the generator within {server.request_timeout:g} s")
        except Exception as e:  # noqa: BLE001 - the generator's failure, for this client
            return error(500, f"{type(e).__name__}: {e}")
        return JSONResponse({
            "id": f"chatcmpl-{id(completion):x}", "object": "chat.completion", "created": int(time.time()),
            "model": server.generator.name,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": completion.text},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": completion.prompt_tokens, "completion_tokens": completion.completion_tokens,
                      "total_tokens": (completion.prompt_tokens or 0) + (completion.completion_tokens or 0)}})

    async def not_found(request: Request, exc: Exception) -> JSONResponse:
        return error(404, f"no route {request.method} {request.url.path}; use POST /v1/chat/completions or "
                          "GET /v1/models")

    async def not_allowed(request: Request, exc: Exception) -> JSONResponse:
        return error(405, f"{request.method} is not allowed on {request.url.path}")

    return Starlette(routes=[Route("/v1/models", models, methods=["GET"]),
                             Route("/v1/models/", models, methods=["GET"]),
                             Route("/v1/chat/completions", completions, methods=["POST"]),
                             Route("/v1/chat/completions/", completions, methods=["POST"])],
                     exception_handlers={404: not_found, 405: not_allowed})


def _uvicorn_server(app, idle_timeout: float, max_connections: int):
    """A uvicorn server whose HTTP protocol also closes connections that stay silent for ``idle_timeout``
    seconds before (or between) requests, not only after a response as uvicorn does by itself."""
    import uvicorn
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class IdleClosingH11(H11Protocol):
        def connection_made(self, transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.cycle is None and not self.transport.is_closing():
                self._arm()  # still no complete request head: the clock restarts with each byte received

        def _arm(self) -> None:
            self._unset_keepalive_if_required()
            self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive,
                                                                self.timeout_keep_alive_handler)

    config = uvicorn.Config(app, http=IdleClosingH11, log_level="error", limit_concurrency=max_connections,
                            timeout_keep_alive=idle_timeout, lifespan="off", access_log=False)  # type: ignore[arg-type]
    return uvicorn.Server(config)
