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
    page.set_viewport_size({"width": 640, "height": 900})  # a narrow window: wide tables scroll in their box,
    assert page.evaluate("document.documentElement.scrollWidth") <= 640  # the page never gets wider than it
    page.set_viewport_size({"width": 1200, "height": 900})
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


def test_notebook_views_render_in_chromium(tmp_path, browser):
    """What a notebook shows for each result, as one page: the image maps over their photos, words, bars,
    scores, agreement (heatmap and methods side by side), slices, influence and counterfactuals."""
    import numpy as np
    import pandas as pd
    from skimage import data
    from sklearn.linear_model import LogisticRegression

    import lumos
    from lumos.robustness import slices
    from lumos.zoo import imagenet_input

    photos = np.stack([imagenet_input(data.chelsea()), imagenet_input(data.coffee())])[:, :, ::4, ::4]

    def catlike(x):  # "cat" when the top-left quarter is bright
        p = np.asarray(x)[:, :, :28, :28].mean(axis=(1, 2, 3))
        return np.stack([1 - p, p], axis=1)

    model = lumos.wrap(catlike, labels=["other", "cat"])
    occ = lumos.explain(model, photos, method="occlusion", window=8, stride=4)
    rnd = lumos.explain(model, photos, method="random")
    texts = ["a great film with a dull <b>script</b>", "truly wonderful"]

    def words(t):
        p = np.array([0.5 + 0.3 * s.count("great") + 0.3 * s.count("wonderful") - 0.3 * s.count("dull")
                      for s in t]).clip(0.01, 0.99)
        return np.stack([1 - p, p], axis=1)

    text_expl = lumos.explain(words, texts, method="occlusion")
    rows = pd.DataFrame({"income": np.linspace(0, 10, 40), "age": np.linspace(20, 60, 40)})

    def rich(d):
        p = 1 / (1 + np.exp(-(np.asarray(d, dtype=float)[:, 0] - 5)))
        return np.stack([1 - p, p], axis=1)

    bars = lumos.explain(rich, rows.iloc[[3, 30]], method="kernel_shap", background=rows, n_samples=32)
    y = (rows.income > 5).astype(int).to_numpy()
    views = [occ[0], text_expl, bars[0],
             lumos.evaluate(words, texts, text_expl, metrics=["comprehensiveness", "sufficiency"]),
             lumos.agreement({"occlusion": occ, "random": rnd}),
             slices(rich, rows, y, min_size=8),
             lumos.influence.explain(LogisticRegression().fit(rows, y), (rows, y), (rows.iloc[:2], y[:2])),
             lumos.counterfactuals.explain(rich, rows.iloc[[3]], data=rows, n=2, method="random", seed=0)]
    body = "".join(f'<section class="cell">{v._repr_html_()}</section>' for v in views)
    page_path = tmp_path / "notebook.html"
    page_path.write_text(f'<!doctype html><meta charset="utf-8"><body style="font-family:sans-serif;max-width:1000px;'
                         f'margin:auto">{body}</body>', encoding="utf-8")
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(page_path.as_uri())
    assert page.locator("section.cell").count() == len(views)
    sizes = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
    assert sizes and min(sizes) > 0
    assert "<b>" in page.locator("section.cell").nth(1).inner_text()  # data shown as text
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "notebook-views.png"), full_page=True)
    page.close()
    assert problems == []
