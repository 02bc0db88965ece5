"""``lumos serve`` refuses what it must: a network bind without a token, requests without it, other sites' POSTs,
POSTs without the CSRF token, oversized bodies and uploads, foreign Host headers; and it escapes every string."""

from __future__ import annotations

import re
import sys
from html import unescape
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

pytest.importorskip("starlette")
from starlette.routing import Route  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from lumos.bench import BenchSpec, add_section, run  # noqa: E402
from lumos.errors import InputError  # noqa: E402
from lumos.serve import create_app  # noqa: E402
from lumos.serve.app import routes  # noqa: E402
from lumos.serve.security import access_token, display_name  # noqa: E402

MODEL = "serve_loader:text_model"
HOSTILE_RUN = "<script>alert('run')</script>"


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> tuple[str, str]:
    """The store and its text run (the one whose example 1 is the hostile text)."""
    path = str(tmp_path_factory.mktemp("security") / "runs.sqlite")
    text_run = run(BenchSpec(model=MODEL, n=12, methods=("occlusion",), metrics=("comprehensiveness",), unit_size=12,
                             db=path, first=True))  # example 1 is the test split's row 1
    run(BenchSpec(model="serve_loader:image_model", n=6, methods=("occlusion",), metrics=("deletion_auc",),
                  unit_size=6, db=path))
    add_section(path, HOSTILE_RUN, "tables", {"text": ["<img src=x onerror=alert('section')>"], "tables": []},
                model_name="<img src=x onerror=alert('model')>")
    return path, text_run


@pytest.fixture(scope="module")
def db(stored) -> str:
    return stored[0]


def message(response) -> str:
    found = re.search(r'id="error-message"[^>]*>(.*?)</p>', response.text, re.S)
    return unescape(found.group(1)) if found else response.text[:300]


def test_a_network_bind_needs_a_token():
    assert access_token("127.0.0.1", None) is None and access_token("::1", None) is None
    assert access_token("localhost", None) is None
    assert len(access_token("0.0.0.0", None)) >= 24  # a random one, printed in the URL
    for token in ("", "   ", "short"):
        with pytest.raises(InputError, match="needs an access token of at least 16 characters"):
            access_token("0.0.0.0", token)
    with pytest.raises(InputError):
        create_app(":memory:", host="192.168.1.20", token="")


def test_the_cli_refuses_a_network_bind_with_an_empty_token(db):
    from typer.testing import CliRunner

    from lumos.cli import app

    result = CliRunner().invoke(app, ["serve", "--db", db, "--host", "0.0.0.0", "--token", ""])
    assert result.exit_code == 1 and "needs an access token" in result.output


def test_a_token_is_required_and_then_kept_in_a_cookie(db):
    app = create_app(db, models=[MODEL], host="0.0.0.0", token="a-long-enough-secret-token")
    with TestClient(app, base_url="http://10.0.0.5:8765") as client:
        refused = client.get("/")
        assert refused.status_code == 401 and "needs its access token" in message(refused)
        assert client.get("/?token=wrong-token-wrong-token").status_code == 401
        entry = client.get("/runs?x=1&token=a-long-enough-secret-token", follow_redirects=False)
        assert entry.status_code == 303 and "token" not in entry.headers["location"]  # dropped from the URL
        assert "HttpOnly" in entry.headers["set-cookie"]
        assert client.get("/").status_code == 200  # the cookie now
    with TestClient(app, base_url="http://10.0.0.5:8765") as other:
        assert other.get("/", headers={"Authorization": "token a-long-enough-secret-token"}).status_code == 200


@pytest.fixture(scope="module")
def client(db):
    app = create_app(db, models=[MODEL, "serve_loader:image_model"], max_upload_mb=0.5)
    with TestClient(app, base_url="http://127.0.0.1:8765") as c:
        c.get("/")
        yield c


def test_a_loopback_server_only_answers_to_loopback_names(client):
    assert client.get("/", headers={"Host": "evil.example:8765"}).status_code == 400  # DNS rebinding
    assert client.get("/", headers={"Host": "localhost:8765"}).status_code == 200


def post_routes() -> list[str]:
    """Every POST route with its parameters filled in."""
    fill = {"{run_id:str}": "r", "{example_id:int}": "0", "{tool:str}": "why", "{job_id:str}": "bench-1"}
    out = []
    for route in routes():
        if isinstance(route, Route) and "POST" in (route.methods or ()):
            path = route.path
            for k, v in fill.items():
                path = path.replace(k, v)
            out += [path.replace("why", t) for t in ("why", "attack", "counterfactuals")] if "why" in path else [path]
    return out


def test_every_post_needs_the_csrf_token(client):
    paths = post_routes()
    assert len(paths) == 9
    for path in paths:
        response = client.post(path, data={"text": "x"})
        assert response.status_code == 403 and "CSRF token" in message(response), path
        wrong = client.post(path, data={"text": "x", "csrf": "not-the-cookie"})
        assert wrong.status_code == 403, path


def test_a_cross_site_post_is_refused(client):
    token = client.cookies.get("lumos_csrf")
    form = {"csrf": token, "kind": "bench", "model": MODEL}
    for headers in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"}):
        response = client.post("/jobs", data=form, headers=headers)
        assert response.status_code == 403 and ("another site" in message(response) or
                                                 "opaque origin" in message(response)), headers
    same = client.post("/jobs", data={**form, "n": "2"}, headers={"Origin": "http://127.0.0.1:8765"},
                       follow_redirects=False)
    assert same.status_code == 303


def image_run(client) -> str:
    return re.search(r'href="/runs/(serve_loader-image_model-[0-9a-f]+)"', client.get("/").text).group(1)


def test_an_oversized_upload_is_refused_with_a_message(client):
    run_id = image_run(client)
    big = b"\x89PNG\r\n\x1a\n" + b"0" * (600 * 1024)
    response = client.post(f"/runs/{run_id}/examples/0/whatif", data={"csrf": client.cookies.get("lumos_csrf")},
                           files={"image": ("huge.png", big, "image/png")})
    assert response.status_code == 413
    assert "the limit is 0.5 MB (lumos serve --max-upload-mb)" in message(response)


def test_an_oversized_form_is_refused(client):
    run_id = re.search(r'href="/runs/(serve_loader-text_model-[0-9a-f]+)"', client.get("/").text).group(1)
    response = client.post(f"/runs/{run_id}/examples/0/whatif", data={"csrf": client.cookies.get("lumos_csrf"),
                                                                      "text": "word " * 300_000})
    assert response.status_code == 413 and "the limit is 1.0 MB" in message(response)


def test_streamed_bodies_are_counted_too(client):
    run_id = image_run(client)

    def chunks():
        for _ in range(200):
            yield b"x" * 8192

    response = client.post(f"/runs/{run_id}/examples/0/whatif", content=chunks(),
                           headers={"Content-Type": "application/x-www-form-urlencoded",
                                    "X-CSRF-Token": client.cookies.get("lumos_csrf")})
    assert response.status_code == 413


def test_every_response_forbids_inline_script(client):
    headers = client.get("/").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "unsafe-inline" not in headers["content-security-policy"].split("script-src")[1].split(";")[0]
    assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "same-origin"
    assert "SameSite=Strict" in client.get("/", headers={"Cookie": ""}).headers.get("set-cookie", "SameSite=Strict")


def test_payloads_in_texts_labels_features_and_run_names_are_escaped(client, stored):
    pages = [client.get("/").text]
    run_id = stored[1]  # not a run the cross-site test's bench job may have added
    assert f'href="/runs/{run_id}"' in pages[0]
    pages += [client.get(f"/runs/{run_id}").text, client.get(f"/runs/{run_id}/table").text,
              client.get(f"/runs/{run_id}/examples/1").text,
              client.get(f"/runs/{run_id}/examples/1", params={"target": 1, "methods": "occlusion"}).text]
    html = "\n".join(pages)
    assert "&lt;script&gt;alert(&#39;text&#39;)&lt;/script&gt;" in html  # the text, shown as text
    assert "&lt;img src=x onerror=alert(&#39;label&#39;)&gt;" in html  # a class name
    assert "&lt;script&gt;alert(&#39;run&#39;)&lt;/script&gt;" in pages[0]  # a run id
    for raw in ("<script>alert(", "<img src=x onerror"):
        assert raw not in html
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/app.js" defer>'] * len(pages)


def test_an_uploaded_file_name_is_only_ever_shown_cleaned():
    assert display_name("../../etc/passwd") == "passwd"
    assert display_name("C:\\Users\\x\\photo.png") == "photo.png"
    assert display_name("a\x00b\u202e.png") == "ab.png"
    assert display_name("") == "upload" and len(display_name("x" * 500)) == 81
