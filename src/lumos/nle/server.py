"""A small OpenAI-compatible chat server for a local generator (``lumos.nle.serve``).

Requests that arrive together are generated together: a worker thread takes the first waiting request,
keeps collecting while the next one arrives within ``batch_wait`` seconds (at most ``max_batch``), and sends
those with the same decoding settings through the generator as one batch. Routes: POST /v1/chat/completions, GET /v1/models.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections import Counter
from concurrent.futures import Future
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ..errors import InputError
from .generator import Generator


class ChatServer:
    """A running server; ``url`` is its base (``http://127.0.0.1:PORT``); ``batch_sizes`` counts the
    generate calls by how many requests each served. Use as a context manager, or call ``close()``."""

    def __init__(self, generator: Generator, host: str = "127.0.0.1", port: int = 0, max_batch: int = 8,
                 batch_wait: float = 0.05):
        if max_batch < 1 or batch_wait < 0:
            raise InputError(f"need max_batch >= 1 and batch_wait >= 0; got {max_batch}, {batch_wait}.")
        self.generator, self.max_batch, self.batch_wait = generator, int(max_batch), float(batch_wait)
        self._queue: queue.Queue = queue.Queue()
        self.batch_sizes: Counter[int] = Counter()
        self._stop = threading.Event()
        self._http = ThreadingHTTPServer((host, port), _handler(self))
        self._http.daemon_threads = True
        self.url = f"http://{host}:{self._http.server_address[1]}"
        self._threads = [threading.Thread(target=self._http.serve_forever, daemon=True),
                         threading.Thread(target=self._work, daemon=True)]
        for t in self._threads:
            t.start()

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
                groups.setdefault(_settings(request), []).append((request, future))
            for (max_tokens, temperature, seed), items in groups.items():
                self.batch_sizes[len(items)] += 1
                try:
                    out = self.generator.generate([r["messages"] for r, _ in items], max_tokens, temperature, seed)
                    for (_, future), completion in zip(items, out):
                        future.set_result(completion)
                except Exception as e:  # noqa: BLE001 - reported to each waiting client as HTTP 500
                    for _, future in items:
                        future.set_exception(e)

    def close(self) -> None:
        self._stop.set()
        self._http.shutdown()
        self._http.server_close()
        for t in self._threads:
            t.join(timeout=5)

    def __enter__(self) -> "ChatServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def serve(generator: Generator | None = None, host: str = "127.0.0.1", port: int = 0, max_batch: int = 8,
          batch_wait: float = 0.05) -> ChatServer:
    """Serve ``generator`` (default: the local SmolLM2) over an OpenAI-compatible API; port 0 picks a free one.

    >>> with serve() as server:
    ...     lumos.nle.explain(model, texts, generator=EndpointGenerator(server.url))
    """
    if generator is None:
        from .local import LocalGenerator

        generator = LocalGenerator()
    return ChatServer(generator, host, port, max_batch, batch_wait)


def _settings(request: dict[str, Any]) -> tuple[int, float, int]:
    return (int(request.get("max_tokens") or request.get("max_completion_tokens") or 60),
            float(request.get("temperature") or 0.0), int(request.get("seed") or 0))


def _handler(server: ChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet: no line per request on stderr
            pass

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802
            if self.path.rstrip("/") != "/v1/models":
                return self._send(404, {"error": {"message": f"no route GET {self.path}; try /v1/models"}})
            self._send(200, {"object": "list", "data": [{"id": server.generator.name, "object": "model",
                                                         "context_length": server.generator.context_length}]})

        def do_POST(self) -> None:  # noqa: N802
            if self.path.rstrip("/") != "/v1/chat/completions":
                return self._send(404, {"error": {"message": f"no route POST {self.path}; use /v1/chat/completions"}})
            try:
                request = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                messages = request["messages"]
                if not isinstance(messages, list) or not all(isinstance(m, dict) and "content" in m for m in messages):
                    raise ValueError("messages must be a list of {role, content} objects")
                _settings(request)
            except (ValueError, KeyError, TypeError) as e:
                return self._send(400, {"error": {"message": f"bad request: {e}"}})
            try:
                completion = server.submit(request).result()
            except Exception as e:  # noqa: BLE001
                return self._send(500, {"error": {"message": f"{type(e).__name__}: {e}"}})
            self._send(200, {
                "id": f"chatcmpl-{id(completion):x}", "object": "chat.completion", "created": int(time.time()),
                "model": server.generator.name,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": completion.text},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": completion.prompt_tokens, "completion_tokens": completion.completion_tokens,
                          "total_tokens": (completion.prompt_tokens or 0) + (completion.completion_tokens or 0)}})

    return Handler
