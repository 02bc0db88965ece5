"""The report in a real browser: Debian's Chromium driven by Playwright (no browser download).

`make test` installs chromium; the test fails, not skips, when it is missing, so CI cannot pass without it.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from lumos.bench import BenchSpec, run
from lumos.report import render

sys.path.insert(0, str(Path(__file__).parent))
ARTIFACTS = Path(__file__).parent.parent / "test-artifacts"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    assert Path(executable).exists(), "chromium is not installed: run `make test` (it installs Debian's chromium)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=FLAGS, headless=True)
        yield b
        b.close()


@pytest.mark.parametrize("loader", ["hostile_text_model", "image_model", "tabular_model"])
def test_report_renders_in_chromium_without_errors(tmp_path, browser, loader):
    spec = BenchSpec(model=f"bench_loader:{loader}", n=8, methods=("occlusion", "random"),
                     metrics=("all",), unit_size=4, db=str(tmp_path / "r.sqlite"))
    path = render(spec.db, run(spec), out=tmp_path / "report.html")
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    problems, dialogs = [], []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: problems.append(f"network request: {r.url}")
            if not r.url.startswith(("file:", "data:")) else None)
    page.goto(path.as_uri())
    for section in ("overview", "summary", "metrics", "agreement", "examples"):
        assert page.locator(f"#{section}").is_visible(), section
    assert page.locator("#summary li").count() >= 1
    assert page.locator(".example").count() == (6 if loader == "image_model" else 8)  # the image set has 6
    if loader == "hostile_text_model":
        assert "<script>alert(1)</script>" in page.locator(".example").first.inner_text()  # shown as text
    if loader == "image_model":
        sizes = page.eval_on_selector_all("figure img", "imgs => imgs.map(i => i.naturalWidth)")
        assert sizes and min(sizes) > 0  # every inlined PNG decodes
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"report-{loader}.png"), full_page=True)
    page.close()
    assert problems == [] and dialogs == []
