#!/usr/bin/env python
"""The screenshots of docs/serve.md: lumos serve on real zoo models, in Debian's Chromium.

A store with sentiment/tfidf benched on 40 Rotten Tomatoes snippets, the same snippets with a smaller TF-IDF
model (to compare), and tabular/adult/logreg on 40 Adult rows; then the pages docs/serve.md shows, written to
docs/images/serve/. Takes a minute or two; needs the dev extra and chromium (as the browser tests do).

Usage:  python docs/serve_screenshots.py
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
OUT = Path(__file__).parent / "images" / "serve"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]
TEXT_METRICS = ("comprehensiveness", "sufficiency", "aopc_comprehensiveness", "sparseness")


def small_tfidf():
    """sentiment/tfidf's recipe on the first 1,500 training snippets only: a weaker model to compare with."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from lumos import wrap, zoo

    model, splits = zoo.load("sentiment/tfidf")
    train = splits["train"].iloc[:1500]
    pipeline = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000)).fit(train.text, train.label)
    return wrap(pipeline, labels=model.labels), splits


def build(db: str) -> dict[str, str]:
    from lumos.bench import BenchSpec, run

    text = dict(split="test", n=40, methods=("occlusion", "lime", "kernel_shap", "random"), metrics=TEXT_METRICS,
                params={"lime": {"n_samples": 200}, "kernel_shap": {"n_samples": 200}}, unit_size=20, db=db)
    return {"text": run(BenchSpec(model="sentiment/tfidf", **text)),
            "small": run(BenchSpec(model="__main__:small_tfidf", **text)),
            "table": run(BenchSpec(model="tabular/adult/logreg", n=40, methods=("occlusion", "kernel_shap"),
                                   metrics=("comprehensiveness", "sufficiency"), unit_size=20, db=db))}


def main() -> None:
    import uvicorn
    from playwright.sync_api import sync_playwright

    from lumos.serve import create_app

    folder = tempfile.mkdtemp()
    db = str(Path(folder) / "runs.sqlite")
    ids = build(db)
    app = create_app(db, models=["sentiment/tfidf", "tabular/adult/logreg", "__main__:small_tfidf"])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(120_000)

        def shot(name: str, full: bool = True) -> None:
            page.screenshot(path=str(OUT / f"{name}.png"), full_page=full)

        page.goto(f"{base}/runs/{ids['text']}")
        page.wait_for_selector("#metrics")
        shot("run", full=False)
        page.goto(f"{base}/runs/{ids['text']}/table")
        page.click("a.slice-link:has-text(\"contains 'but'\")")
        page.wait_for_selector("#slices li.active")
        shot("table-slice")
        page.goto(f"{base}/runs/{ids['text']}/examples/3")
        page.fill("#whatif-form textarea", "a quietly devastating film, though far too long")
        page.locator("#live .card .words", has_text="devastating").first.wait_for()
        shot("example-text")
        page.goto(f"{base}/runs/{ids['table']}/examples/2")
        page.click("#tools form:has(h3:text('What would flip the decision?')) button")
        page.wait_for_selector('#tool [data-tool="counterfactuals"] td.changed')
        shot("example-table")
        page.goto(f"{base}/compare?a={ids['small']}&b={ids['text']}")
        page.wait_for_selector("#comparison")
        shot("compare")
        page.goto(base + "/")
        form = page.locator("#new-bench")
        form.locator("select[name=model]").select_option("sentiment/tfidf")
        form.locator("input[name=n]").fill("30")
        form.locator("input[name=methods]").fill("occlusion,lime")
        form.locator("input[name=metrics]").fill("comprehensiveness,sufficiency")
        form.locator("button[type=submit]").click()
        page.locator("#job-progress .status-done").wait_for()
        shot("job", full=False)
        browser.close()
    server.should_exit = True
    print(f"screenshots in {OUT}")


if __name__ == "__main__":
    main()
