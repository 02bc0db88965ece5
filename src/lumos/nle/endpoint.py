"""Any OpenAI-compatible chat endpoint as a generator (llama.cpp server, vLLM, Ollama, hosted APIs).

Plain ``urllib`` from the standard library: one JSON POST per prompt needs no HTTP client dependency.
Prompts go out ``concurrency`` at a time (servers batch concurrent requests); each request has a timeout and
is retried with exponential backoff on connection errors, timeouts, 429 and 5xx answers.
"""

from __future__ import annotations

import json
import math
import socket
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Sequence

from ..errors import InputError, ModelError
from .generator import Completion, Messages

_RETRY_STATUS = {429, 500, 502, 503, 504}


def chat_url(url: str) -> str:
    """A base URL ("http://host:8080", ".../v1") or the full route -> the /v1/chat/completions URL."""
    if not url.startswith(("http://", "https://")):
        raise InputError(f"endpoint URL must start with http:// or https://; got {url!r}.")
    url = url.rstrip("/")
    if url.endswith("/chat/completions"):
        return url
    return url + ("/chat/completions" if url.endswith("/v1") else "/v1/chat/completions")


class EndpointGenerator:
    """Generate through an OpenAI-compatible ``/v1/chat/completions`` endpoint.

    ``model``: the model name the server expects; ``api_key``: sent as a Bearer token; ``timeout``: seconds
    per request; ``retries``: extra tries after the first (waits ``backoff`` * 2**try between them).
    ``context_length``: the server model's context in tokens, if known; prompts are then cut to fit, with
    tokens estimated as characters / 3 (no tokenizer on this side).
    """

    def __init__(self, url: str, model: str = "default", *, api_key: str | None = None, timeout: float = 30.0,
                 retries: int = 2, backoff: float = 0.5, concurrency: int = 8, context_length: int | None = None):
        if timeout <= 0 or retries < 0 or backoff < 0 or concurrency < 1:
            raise InputError(f"need timeout > 0, retries >= 0, backoff >= 0, concurrency >= 1; got timeout={timeout},"
                             f" retries={retries}, backoff={backoff}, concurrency={concurrency}.")
        self.url = chat_url(url)
        self.model, self.api_key = model, api_key
        self.timeout, self.retries, self.backoff = float(timeout), int(retries), float(backoff)
        self.concurrency = int(concurrency)
        self.context_length = context_length
        self.name = f"{model} @ {self.url}"

    def count_tokens(self, messages: Messages) -> int:
        return math.ceil(sum(len(m["content"]) + 8 for m in messages) / 3)

    def generate(self, conversations: Sequence[Messages], max_new_tokens: int = 60, temperature: float = 0.0,
                 seed: int = 0, done: Callable[[int], Any] | None = None) -> list[Completion]:
        """One completion per conversation, ``concurrency`` requests at a time; ``done(1)`` as each returns."""
        body = {"model": self.model, "max_tokens": int(max_new_tokens), "temperature": float(temperature),
                "seed": int(seed)}

        def one(messages: Messages) -> Completion:
            out = self._one({**body, "messages": messages})
            if done is not None:
                done(1)
            return out

        with ThreadPoolExecutor(min(self.concurrency, max(1, len(conversations)))) as pool:
            return list(pool.map(one, conversations))

    def _one(self, body: dict[str, Any]) -> Completion:
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return _completion(json.loads(response.read().decode()), self.url)
            except urllib.error.HTTPError as e:
                detail = e.read().decode(errors="replace")[:300]
                if e.code not in _RETRY_STATUS:
                    raise ModelError(f"the chat endpoint {self.url} answered HTTP {e.code}: {detail}") from None
                problem = f"HTTP {e.code}: {detail}"
            except (TimeoutError, socket.timeout):
                problem = f"no answer within the timeout of {self.timeout:g} s (raise timeout= for a slow server)"
            except urllib.error.URLError as e:
                if isinstance(e.reason, (TimeoutError, socket.timeout)):
                    problem = f"no answer within the timeout of {self.timeout:g} s (raise timeout= for a slow server)"
                else:
                    problem = f"cannot connect ({e.reason}); is the server running at that address?"
            except (ConnectionError, json.JSONDecodeError) as e:
                problem = f"{type(e).__name__}: {e}"
        raise ModelError(f"the chat endpoint {self.url} failed after {self.retries + 1} tries: {problem}")

    def __repr__(self) -> str:
        return f"EndpointGenerator({self.url!r}, model={self.model!r}, timeout={self.timeout:g})"


def _completion(answer: dict[str, Any], url: str) -> Completion:
    try:
        text = answer["choices"][0]["message"]["content"] or ""
    except (KeyError, IndexError, TypeError):
        raise ModelError(f"the chat endpoint {url} answered without choices[0].message.content: "
                         f"{json.dumps(answer)[:300]}") from None
    usage = answer.get("usage") or {}
    return Completion(text.strip(), usage.get("prompt_tokens"), usage.get("completion_tokens"))
