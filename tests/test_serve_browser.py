"""``lumos serve`` end to end in Debian's Chromium (Playwright; no browser download): open a run, click an
example, edit it, see a new explanation; filter by a slice; start a job, reload, watch it finish; attack-shaped
texts, labels, column and run names never run; an oversized upload is refused with a message. Screenshots of
the main views go to test-artifacts/.

`make test` installs chromium; these tests fail, not skip, when it is missing.
"""

from __future__ import annotations

import shutil
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import serve_loader  # noqa: E402
from lumos.bench import BenchSpec, add_section, run  # noqa: E402

uvicorn = pytest.importorskip("uvicorn")
from lumos.serve import create_app  # noqa: E402

ARTIFACTS = Path(__file__).parent.parent / "test-artifacts"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]
FAITH = ("comprehensiveness", "sufficiency")
MODELS = [f"serve_loader:{n}" for n in ("text_model", "flipped_text_model", "table_model", "image_model",
                                        "slow_text_model")]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db = str(tmp_path_factory.mktemp("browser") / "runs.sqlite")
    ids = {
        "text": run(BenchSpec(model="serve_loader:text_model", n=36, methods=("occlusion", "random"), metrics=FAITH,
                              unit_size=12, db=db)),
        "flipped": run(BenchSpec(model="serve_loader:flipped_text_model", n=36, methods=("occlusion", "random"),
                                 metrics=FAITH, unit_size=12, db=db)),
        "table": run(BenchSpec(model="serve_loader:table_model", n=40, methods=("occlusion", "saliency"),
                               metrics=FAITH, unit_size=20, db=db)),
        "image": run(BenchSpec(model="serve_loader:image_model", n=6, methods=("occlusion",),
                               metrics=("deletion_auc",), unit_size=6, db=db)),
    }
    add_section(db, "<script>alert('run')</script>", "tables", {"text": ["<img src=x onerror=alert('section')>"]},
                model_name="<img src=x onerror=alert('model')>")
    app = create_app(db, models=MODELS, generator=serve_loader.CannedGenerator(), max_upload_mb=0.5)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    end = time.monotonic() + 30
    while not server.started and time.monotonic() < end:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", ids
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    assert Path(executable).exists(), "chromium is not installed: run `make test` (it installs Debian's chromium)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=FLAGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    base, _ = server
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.problems, tab.dialogs = [], []
    tab.on("console", lambda m: tab.problems.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: tab.problems.append(str(e)))
    tab.on("dialog", lambda d: (tab.dialogs.append(d.message), d.dismiss()))
    tab.on("request", lambda r: tab.problems.append(f"request off the server: {r.url}")
           if not r.url.startswith((base, "data:")) else None)
    tab.set_default_timeout(30_000)
    yield tab
    context.close()


def clean(page) -> None:
    """No dialog opened (no injected script ran), no console error, no request left the server."""
    assert page.dialogs == [] and page.problems == [], (page.dialogs, page.problems)


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"serve-{name}.png"), full_page=True)
    clean(page)


def test_open_a_run_click_an_example_edit_it_and_see_a_new_explanation(page, server):
    base, ids = server
    page.goto(base + "/")
    shot(page, "runs")
    page.click(f'a.run-link[href="/runs/{ids["text"]}"]')
    page.wait_for_selector("#metrics")  # the report's own section
    shot(page, "run")
    page.click("#open-table")
    page.click('a.example-link:text-is("2")')
    stored = page.locator("#stored .card")
    assert stored.count() == 2 and "comprehensiveness" in stored.first.inner_text()
    page.fill("#whatif-form textarea", "a great great film")  # typing triggers the live update
    card = page.locator('#live .card[data-method="occlusion"]')
    card.wait_for()
    page.locator("#live .card .words", has_text="great great").first.wait_for()
    assert page.locator("#live table.prediction tr.predicted td").nth(1).inner_text() == "0.990"
    words = page.locator('#live .card[data-method="occlusion"] .words span')
    # p = 0.5 + 2 x 0.4, clipped to 0.99: without one "great" it is 0.9, so each "great" scores 0.09
    assert [words.nth(i).get_attribute("title") for i in range(words.count())] == ["+0.0000", "+0.0900",
                                                                                     "+0.0900", "+0.0000"]
    page.select_option('#whatif-form select[name="target"]', "0")  # switch the explained class
    page.locator("#live table.prediction tr", has=page.locator(".explained-tag"), has_text="negative").wait_for()
    shot(page, "example-text")
    page.reload()  # the page is the server's: a reload shows the stored example again
    assert page.locator("#stored .card").count() == 2
    clean(page)


def test_filter_by_a_slice_and_search(page, server):
    base, ids = server
    page.goto(f"{base}/runs/{ids['text']}/table")
    page.click("a.slice-link:has-text(\"contains 'not'\")")
    page.wait_for_selector("#slices li.active")
    texts = page.locator("#data-table td.text").all_inner_texts()
    assert texts and all("not" in t.split() for t in texts)
    shot(page, "table-slice")
    page.fill("#filters input[name=q]", "awful")
    page.click("#filters button[type=submit]")
    page.wait_for_load_state()
    texts = page.locator("#data-table td.text").all_inner_texts()
    assert texts and all("awful" in t and "not" in t.split() for t in texts)  # the search within the slice
    page.goto(f"{base}/runs/{ids['table']}/table?sort=confidence")
    shot(page, "table-tabular")


def test_start_a_job_reload_and_watch_it_finish(page, server):
    base, _ = server
    page.goto(base + "/")
    form = page.locator("#new-bench")
    form.locator("select[name=model]").select_option("serve_loader:slow_text_model")
    form.locator("input[name=n]").fill("24")
    form.locator("input[name=methods]").fill("occlusion")
    form.locator("input[name=metrics]").fill("comprehensiveness")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/jobs/bench-*")
    page.wait_for_function("() => Number(document.querySelector('#job-progress progress').value) > 0")
    page.reload()  # the progress lives in the store: it survives the reload
    assert page.locator("#job-progress .status").inner_text() in ("running", "done")
    assert int(page.locator("#job-progress progress").get_attribute("value")) > 0
    page.locator("#job-progress .status-done").wait_for(timeout=90_000)
    assert page.locator("#job-progress progress").get_attribute("max") == \
        page.locator("#job-progress progress").evaluate("p => String(p.value)")
    shot(page, "job")
    page.click("#job-progress a.result")
    page.wait_for_selector("#metrics")
    clean(page)


def test_tools_counterfactuals_training_data_attack_and_why(page, server):
    base, ids = server
    page.goto(f"{base}/runs/{ids['table']}/examples/3")
    page.click("#tools form:has(h3:text('What would flip the decision?')) button")
    page.wait_for_selector('#tool [data-tool="counterfactuals"] td.changed')
    shot(page, "counterfactuals")
    page.click("#tools form:has(h3:text('Training data')) button")
    page.wait_for_selector('#tool [data-tool="influence"] table.influence')
    assert page.locator("#tool table.influence").count() == 2
    page.fill('#whatif-form input[name="cell:income"]', "3")
    page.click("#whatif-form button[type=submit]")
    page.wait_for_selector("#live .card")
    shot(page, "example-table")
    page.goto(f"{base}/runs/{ids['text']}/examples/0")
    page.click("#tools form:has(h3:text('Attack this text')) button")
    page.wait_for_selector('#tool [data-tool="attack"]')
    shot(page, "attack")
    page.click("#tools form:has(h3:text('Why?')) button")
    page.wait_for_selector('#tool [data-tool="why"] .card')
    assert "canned cites" in page.locator("#tool .card").inner_text()
    clean(page)


def test_compare_two_runs(page, server):
    base, ids = server
    page.goto(f"{base}/runs/{ids['text']}")
    page.select_option("select[name=b]", ids["flipped"])
    page.click("form[action='/compare'] button")
    page.wait_for_selector("#comparison")
    assert page.locator("tr.verdict-fixed").count() >= 1 and page.locator("tr.verdict-broken").count() >= 1
    shot(page, "compare")


def test_payloads_in_texts_labels_columns_and_run_names_never_run(page, server):
    base, ids = server
    for path in ["/", f"/runs/{ids['text']}", f"/runs/{ids['text']}/table", f"/runs/{ids['text']}/examples/1",
                 f"/runs/{ids['text']}/examples/1?target=1&methods=occlusion", f"/runs/{ids['table']}/examples/1",
                 f"/runs/{ids['table']}/table", f"/compare?a={ids['text']}&b={ids['flipped']}"]:
        page.goto(base + path)
        page.wait_for_timeout(100)
        body = page.locator("body").inner_text()
        assert "<script>" in body or "<img src=x" in body, path  # the payloads show, as text
    page.goto(base + "/")
    assert "<script>alert('run')</script>" in page.locator("table.runs").inner_text()
    page.goto(f"{base}/runs/{ids['text']}/examples/1")
    page.fill("#whatif-form textarea", "<img src=x onerror=alert('typed')> good")
    page.locator("#live .card .words", has_text="onerror").first.wait_for()
    page.wait_for_timeout(300)  # time for a dialog, had the payload run
    clean(page)


def test_an_oversized_upload_is_refused_with_a_message(page, server, tmp_path):
    base, ids = server
    big = tmp_path / "huge.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * (700 * 1024))
    page.goto(f"{base}/runs/{ids['image']}/examples/2")
    page.set_input_files("#whatif-form input[type=file]", str(big))
    page.click("#whatif-form button[type=submit]")
    assert "the limit is 0.5 MB" in page.locator("#live p.error").inner_text()  # checked before sending
    page.eval_on_selector("#whatif-form input[type=file]", "input => input.removeAttribute('data-max-bytes')")
    page.click("#whatif-form button[type=submit]")
    page.locator("#live p.error", has_text="--max-upload-mb").wait_for()  # and refused by the server
    page.problems[:] = [p for p in page.problems if "status of 413" not in p]  # the browser logs the refusal
    good = tmp_path / "grey.png"
    from PIL import Image

    Image.new("RGB", (40, 40), (200, 200, 200)).save(good)
    page.set_input_files("#whatif-form input[type=file]", str(good))
    page.click("#whatif-form button[type=submit]")
    page.wait_for_selector("#live .card")
    shot(page, "example-image")
