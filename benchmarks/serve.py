#!/usr/bin/env python
"""``lumos serve`` at scale and live, measured through HTTP against a real server process (uvicorn).

Part 1, the data table. A bench run of ``--n`` (100,000) stored examples: the Rotten Tomatoes snippets the zoo's
sentiment data holds (12,752, so each appears about eight times), explained by sentiment/tfidf with occlusion
and scored with comprehensiveness and sufficiency, written by ``lumos.bench.run`` itself (built once, then
reused). The server opens the store and we time, each the median of ``--repeats`` requests: the first
data-table page before any index exists, the index (a background job), the first page once indexed, sorted by
confidence, a full-text search, a filter, a page deep in the table, a slice, and the run page (the report's
code); then the server's peak memory (VmHWM of its process).

Part 2, live what-if. POST an edited sentence to an example page: the answer holds the prediction, the occlusion
explanation and its comprehensiveness and sufficiency, as HTML. On sentiment/tfidf and sentiment/minilm, the
median over ``--repeats`` different edits; beside it the same work done by the library alone in this process
(``lumos.explain`` + ``lumos.evaluate``), so the server's own overhead shows. ``--minilm quick`` uses a MiniLM
fine-tuned for one epoch on 2,000 snippets when the full one is not trained yet: the same network (22.7M
parameters, 64 tokens), so the same cost per edit.

Usage:  python benchmarks/serve.py [--n 100000] [--db PATH] [--minilm full|quick] [--repeats 5] [--build-only]
This is a benchmark that prints tables, not a test. Run nothing else heavy at the same time.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
EDITS = ["a quietly devastating and beautifully acted film", "dull, predictable and far too long for its own good",
         "the plot is a mess but the acting is superb", "I laughed, I cried, I loved every minute of it",
         "not worth the ticket, not even on a rainy afternoon", "an ambitious failure with a few great moments",
         "a warm, funny and thoroughly charming surprise"]
LOADER = "benchmarks.serve:rotten_tomatoes"


def rotten_tomatoes():
    """(sentiment/tfidf, {"all": snippets}): the zoo's snippets of every split, repeated to $LUMOS_BENCH_N rows."""
    import pandas as pd

    from lumos import zoo

    n = int(os.environ.get("LUMOS_BENCH_N", 100_000))
    model, splits = zoo.load("sentiment/tfidf")
    pool = pd.concat([splits[s] for s in ("train", "validation", "test")], ignore_index=True)
    return model, {"all": pool.iloc[[i % len(pool) for i in range(n)]].reset_index(drop=True)}


def quick_minilm(name: str):
    """The workbench's loader for the server: sentiment/minilm quick (one epoch, 2,000 rows) when asked."""
    from lumos import zoo
    from lumos.bench.data import load_model_and_splits

    if name == "sentiment/minilm" and os.environ.get("LUMOS_BENCH_MINILM") == "quick":
        return zoo.load(name, epochs=1, train_size=2000)
    return load_model_and_splits(name)


def build_store(db: str, n: int) -> str:
    from lumos.bench import BenchSpec, run

    spec = BenchSpec(model=LOADER, split="all", n=n, methods=("occlusion",),
                     metrics=("comprehensiveness", "sufficiency"), unit_size=2000, db=db)
    t0 = time.perf_counter()
    run_id = run(spec, progress=lambda label, done, total: print(
        f"\r  building the store: {done:,.0f}/{total:,.0f} examples x methods", end="", file=sys.stderr, flush=True))
    print(f"\n  store ready in {time.perf_counter() - t0:.0f} s ({Path(db).stat().st_size / 2**20:.0f} MB)",
          file=sys.stderr)
    return run_id


class Client:
    """A browser-like HTTP client: cookies kept, the CSRF token sent with every POST."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str, **params) -> tuple[float, bytes]:
        url = self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        t0 = time.perf_counter()
        with self.opener.open(url, timeout=600) as response:
            body = response.read()
        return time.perf_counter() - t0, body

    def post(self, path: str, fields: dict) -> tuple[float, bytes]:
        token = next(c.value for c in self.jar if c.name == "lumos_csrf")
        data = urllib.parse.urlencode({**fields, "csrf": token}, doseq=True).encode()
        request = urllib.request.Request(self.base + path, data=data, headers={"Origin": self.base})
        t0 = time.perf_counter()
        with self.opener.open(request, timeout=600) as response:
            body = response.read()
        return time.perf_counter() - t0, body


def median_time(call, repeats: int) -> float:
    return statistics.median(call()[0] for _ in range(repeats))


def memory(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak) of a process, in MB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key = line.split(":")[0]
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(line.split()[1]) / 1024
    return out


def start_server(db: str, minilm: str) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, LUMOS_BENCH_MINILM=minilm, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]))
    process = subprocess.Popen([sys.executable, __file__, "--serve", db, "--port", str(port)], env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            urllib.request.urlopen(base + "/favicon.ico", timeout=1)
            return process, base
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not start")


def serve_forever(db: str, port: int) -> None:
    import uvicorn

    from lumos.serve import create_app

    app = create_app(db, models=("sentiment/tfidf", "sentiment/minilm"), load=quick_minilm)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def wait_for_job(client: Client, job_id: str) -> dict:
    while True:
        job = json.loads(client.get(f"/api/jobs/{job_id}")[1])
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.2)


def slice_id(client: Client, run_id: str) -> int:
    import re

    html = client.get(f"/runs/{run_id}/table")[1].decode()
    return int(re.search(r'slice=(\d+)"[^>]*>contains &#39;not&#39;<', html).group(1))


def table_part(client: Client, run_id: str, repeats: int, process: subprocess.Popen) -> list[tuple[str, str]]:
    rows_path = f"/api/runs/{run_id}/rows"
    table_path = f"/runs/{run_id}/table"
    seconds, body = client.get(table_path)
    first = json.loads(client.get(rows_path)[1])
    results = [("data table, first page, before any index (HTML)", f"{seconds:.3f} s")]
    if first["index_job"]:
        t0 = time.perf_counter()
        job = wait_for_job(client, first["index_job"])
        results.append(("index built by a background job (100,000 rows + FTS5 + slices)",
                        f"{time.perf_counter() - t0:.1f} s ({job['status']})"))
    seconds, _ = client.get(table_path)
    results.append(("first page once indexed, first time (computes the performance panel)", f"{seconds:.3f} s"))
    checks = [("first page, indexed (HTML)", table_path, {}),
              ("sorted by confidence, descending", table_path, {"sort": "confidence", "order": "desc"}),
              ("full-text search 'remarkable'", table_path, {"q": "remarkable"}),
              ("filter: wrong predictions, class 1", table_path, {"correct": "no", "predicted": 1}),
              ("a page deep in the table (the middle)", table_path, {"page": max(1, first["pages"] // 2)}),
              ("slice 'contains not'", table_path, {"slice": slice_id(client, run_id)})]
    for label, path, params in checks:
        results.append((label, f"{median_time(lambda: client.get(path, **params), repeats):.3f} s"))
    found = json.loads(client.get(rows_path, q="remarkable")[1])["total"]
    results.append(("  (the search matched)", f"{found:,} examples"))
    seconds, _ = client.get(f"/runs/{run_id}")
    results.append(("run page, drawn by the report's code, first time", f"{seconds:.1f} s"))
    results.append(("run page again (cached until the run changes)",
                    f"{median_time(lambda: client.get(f'/runs/{run_id}'), repeats):.3f} s"))
    mem = memory(process.pid)
    results.append(("server memory after all of the above (peak / now)",
                    f"{mem['VmHWM']:.0f} MB / {mem['VmRSS']:.0f} MB"))
    return results


def library_edit(model, text: str) -> float:
    """The work of one what-if edit, by the library alone: prediction, occlusion, two faithfulness scores."""
    import lumos

    t0 = time.perf_counter()
    model.predict_proba([text])
    expl = lumos.explain(model, [text], method="occlusion")
    lumos.evaluate(model, [text], expl, metrics=("comprehensiveness", "sufficiency"))
    return time.perf_counter() - t0


def live_part(client: Client, run_id: str, repeats: int, minilm: str, process: subprocess.Popen
              ) -> list[tuple[str, str, str, str]]:
    results = []
    for name in ("sentiment/tfidf", "sentiment/minilm"):
        path = f"/runs/{run_id}/examples/0/whatif"
        warm, _ = client.post(path, {"model": name, "text": "warm up", "methods": "occlusion"})  # loads the model
        times = [client.post(path, {"model": name, "text": EDITS[i % len(EDITS)], "methods": "occlusion"})[0]
                 for i in range(repeats)]
        model = quick_minilm(name)[0]
        library_edit(model, "warm up")
        alone = [library_edit(model, EDITS[i % len(EDITS)]) for i in range(repeats)]
        label = name + (" (quick: 1 epoch, 2,000 rows)" if name.endswith("minilm") and minilm == "quick" else "")
        results.append((label, f"{statistics.median(times):.3f} s", f"{statistics.median(alone):.3f} s",
                        f"{warm:.1f} s"))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--db", default=str(ROOT / "benchmarks" / "results" / "serve-100k.sqlite"))
    parser.add_argument("--minilm", choices=("full", "quick"), default="quick")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--build-only", action="store_true", help="Write the store and stop (it is reused).")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve_forever(args.serve, args.port)
    os.environ["LUMOS_BENCH_MINILM"] = args.minilm
    Path(args.db).parent.mkdir(parents=True, exist_ok=True)
    os.environ["LUMOS_BENCH_N"] = str(args.n)
    run_id = build_store(args.db, args.n)
    if args.build_only:
        return None
    with sqlite3.connect(args.db) as db:  # so the first page is measured before any index, every time
        if db.execute("SELECT name FROM sqlite_master WHERE name='serve_index'").fetchone():
            db.execute("DELETE FROM serve_index WHERE run_id=?", (run_id,))
    load = os.getloadavg()
    process, base = start_server(args.db, args.minilm)
    try:
        client = Client(base)
        client.get("/")
        print(f"\nlumos serve, {args.n:,} stored examples ({run_id}); {os.cpu_count()} cores, load average "
              f"{load[0]:.1f} at the start\n")
        print("| data table | time |\n|---|---|")
        for label, value in table_part(client, run_id, args.repeats, process):
            print(f"| {label} | {value} |")
        print("\n| live what-if (occlusion + comprehensiveness + sufficiency) | through the server | library alone "
              "| first edit (loads the model) |\n|---|---|---|---|")
        for row in live_part(client, run_id, args.repeats, args.minilm, process):
            print("| " + " | ".join(row) + " |")
        mem = memory(process.pid)
        print(f"\nserver peak memory at the end: {mem['VmHWM']:.0f} MB (both models loaded)")
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    finally:
        process.terminate()
        process.wait(30)


if __name__ == "__main__":
    main()
