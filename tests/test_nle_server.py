"""nle.serve on uvicorn: request limits and timeouts answer with an HTTP error instead of hanging, and a
generator that answers too few prompts fails the request instead of leaving the client waiting."""

from __future__ import annotations

import json
import re
import socket
import time
import urllib.error
import urllib.request

import pytest

from lumos import InputError, nle
from lumos.nle.generator import Completion


class Echo:
    """Answers each prompt with its last message reversed."""

    name, context_length = "echo", None

    def __init__(self):
        self.calls = []

    def count_tokens(self, messages):
        return 1

    def generate(self, conversations, max_new_tokens=60, temperature=0.0, seed=0):
        self.calls.append((len(conversations), max_new_tokens))
        return [Completion(c[-1]["content"][::-1], 1, 1) for c in conversations]


class Short(Echo):
    def generate(self, conversations, max_new_tokens=60, temperature=0.0, seed=0):
        return super().generate(conversations)[:-1]


def post(url: str, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(url + "/v1/chat/completions", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=20) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def ask(content: str, **kw) -> bytes:
    return json.dumps({"messages": [{"role": "user", "content": content}], **kw}).encode()


def raw(url: str, data: bytes, wait: float = 5.0) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as s:
        s.sendall(data)
        return s.recv(4096)


@pytest.fixture(scope="module")
def server():
    echo = Echo()
    with nle.serve(echo, idle_timeout=0.5, max_body=2_000, max_tokens_limit=100) as s:
        s.echo = echo
        yield s


def test_a_request_is_answered_and_generated_once(server):
    status, body = post(server.url, ask("abc", max_tokens=7))
    assert status == 200 and body["choices"][0]["message"]["content"] == "cba"
    assert (1, 7) in server.echo.calls


@pytest.mark.parametrize("body,status,match", [
    (ask("x" * 3_000), 413, "exceeds the limit of 2000"),
    (b"{not json", 400, "not JSON"),
    (json.dumps({"messages": 3}).encode(), 400, "messages must be a non-empty list"),
    (json.dumps({"messages": []}).encode(), 400, "messages must be a non-empty list"),
    (ask("a", max_tokens=10**9), 400, r"max_tokens must be an integer in 1..100"),
    (ask("a", max_tokens=-5), 400, r"max_tokens must be an integer in 1..100"),
    (ask("a", max_tokens="60"), 400, r"max_tokens must be an integer"),
    (ask("a", temperature=float("nan")), 400, r"not JSON|temperature must be"),
    (ask("a", seed=-1), 400, r"seed must be"),
])
def test_bad_requests_get_a_4xx_with_the_reason(server, body, status, match):
    got, answer = post(server.url, body)
    assert got == status
    assert re.search(match, answer["error"]["message"])


def test_a_malformed_or_huge_content_length_is_refused_before_reading(server):
    assert raw(server.url, b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"
               ).startswith(b"HTTP/1.1 400")
    assert raw(server.url, b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n"
               ).startswith(b"HTTP/1.1 413")


def test_a_stalled_body_times_out_and_idle_connections_are_closed(server):
    start = time.monotonic()
    answer = raw(server.url, b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
    assert answer.startswith(b"HTTP/1.1 408") and time.monotonic() - start < 4
    host, port = server.url.removeprefix("http://").split(":")
    idle = [socket.create_connection((host, int(port)), timeout=5) for _ in range(40)]
    time.sleep(1.5)
    try:
        assert all(s.recv(10) == b"" for s in idle)  # closed by the server: no thread or slot held
    finally:
        for s in idle:
            s.close()
    assert post(server.url, ask("still here"))[0] == 200


def test_a_generator_answering_too_few_prompts_fails_the_request_quickly():
    with nle.serve(Short()) as s:
        start = time.monotonic()
        status, answer = post(s.url, ask("abc"))
    assert status == 500 and "returned 0 answers for 1 prompts" in answer["error"]["message"]
    assert time.monotonic() - start < 10


def test_a_slow_generator_times_out_with_504():
    class Slow(Echo):
        def generate(self, conversations, max_new_tokens=60, temperature=0.0, seed=0):
            time.sleep(1.5)
            return super().generate(conversations)

    with nle.serve(Slow(), request_timeout=0.3) as s:
        status, answer = post(s.url, ask("abc"))
    assert status == 504 and "within 0.3 s" in answer["error"]["message"]


def test_unknown_routes_and_bad_settings():
    with nle.serve(Echo()) as s:
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(s.url + "/nowhere", timeout=10)
        assert e.value.code == 404
        with urllib.request.urlopen(s.url + "/v1/models", timeout=10) as r:
            assert json.load(r)["data"][0]["id"] == "echo"
    for kw in ({"max_batch": 0}, {"max_body": 0}, {"idle_timeout": float("nan")}):
        with pytest.raises(InputError, match=f"nle.serve: {next(iter(kw))} must be"):
            nle.serve(Echo(), **kw)
