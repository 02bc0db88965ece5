"""Pages of the store and its runs: the runs list, a run (drawn by the report's own code), its data table with
slices, its static report, and the comparison of two runs."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ..errors import InputError
from ..report.render import environment, render, run_view
from ..viz import image_rgb, png_data_uri
from . import compare as comparison
from . import index, jobs, slices
from .inputs import decode
from .pages import read_form, run_url
from .workbench import RunInfo, Workbench

SNIPPET = 240  # characters of a text shown in the data table


def _wb(request: Request) -> Workbench:
    return request.app.state.workbench


def runs_list(wb: Workbench) -> list[dict[str, Any]]:
    """Every run of the store, newest first, with what it holds."""
    rows = wb.store().db.execute(
        "SELECT r.run_id, r.created, r.modality, r.spec, "
        "(SELECT COUNT(*) FROM examples e WHERE e.run_id = r.run_id), "
        "(SELECT COUNT(*) FROM units u WHERE u.run_id = r.run_id), "
        "(SELECT group_concat(kind, ', ') FROM sections s WHERE s.run_id = r.run_id) "
        "FROM runs r ORDER BY r.created DESC").fetchall()
    out = []
    for run_id, created, modality, spec, n, units, kinds in rows:
        spec = json.loads(spec)
        kind = "bench" if units else (kinds.split(", ")[0] if kinds else "empty")
        out.append({"run_id": run_id, "created": created, "modality": modality or "—", "model": spec.get("model", ""),
                    "examples": n, "kind": kind, "sections": kinds or "", "split": spec.get("split", "")})
    return out


def home(request: Request) -> HTMLResponse:
    wb = _wb(request)
    return request.app.state.pages.render(request, "home.html", runs=runs_list(wb), jobs=jobs.recent(wb.store(), 8),
                                          models=wb.model_names())


def _run_body(wb: Workbench, run: RunInfo, pages: Any) -> Markup:
    """The report's drawing of the run (``run.html`` with ``render.run_view``), its examples linked here."""
    store = wb.store()
    key = (run.run_id, *index.counts(store.db, run.run_id),
           store.db.execute("SELECT COUNT(*), MAX(created) FROM sections WHERE run_id=?", (run.run_id,)).fetchone())
    cache = wb.run_pages
    if key not in cache:
        view = run_view(store, run.run_id, 12, environment())
        cache[key] = Markup(pages.fragment("run.html", run=view, sfx="",
                                           example_url=lambda r, e: run_url(r, "examples", e)))
        while len(cache) > 16:
            cache.pop(next(iter(cache)))
    return cache[key]


async def run_page(request: Request) -> HTMLResponse:
    wb, pages = _wb(request), request.app.state.pages
    run = wb.run(request.path_params["run_id"])
    body = await run_in_threadpool(_run_body, wb, run, pages)
    others = [r for r in runs_list(wb) if r["run_id"] != run.run_id and r["examples"]]
    return pages.render(request, "run_page.html", run=run, body=body, others=others, models=wb.model_names(),
                        live=wb.live_name(run), jobs=jobs.recent(wb.store(), 5, run.run_id))


def _row_view(run: RunInfo, row: index.Row) -> dict[str, Any]:
    """One data-table row as shown: a text snippet, table cells or a thumbnail; class names for indices."""
    name = (lambda k: None if k is None else run.labels[k] if k < len(run.labels) else str(k))
    shown: dict[str, Any] = {"example_id": row.example_id, "label": name(row.truth) or row.label,
                             "predicted": name(row.predicted), "confidence": row.confidence, "correct": row.correct}
    if run.modality == "text":
        shown["text"] = row.raw if len(row.raw) <= SNIPPET else row.raw[:SNIPPET] + "…"
    elif run.modality == "tabular":
        shown["cells"] = decode("tabular", row.raw)
    elif run.modality == "image":
        shown["thumbnail"] = png_data_uri(image_rgb(decode("image", row.raw)), upscale_to=48)
    return shown


def _fraction(params: Any, name: str, default: float | None, low: float, high: float) -> float | None:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"{name} must be a number; got {str(raw)[:30]!r}.") from None
    if not low <= value <= high:
        raise InputError(f"{name} must lie between {low:g} and {high:g}; got {value:g}.")
    return value


def table_data(wb: Workbench, run: RunInfo, params: Any) -> dict[str, Any]:
    query = index.Query.from_params(params)
    threshold = _fraction(params, "threshold", None, 0.0, 1.0)
    cost = _fraction(params, "cost", 1.0, 0.01, 100.0)
    job_id = wb.ensure_index(run)
    page = index.page(wb.store().db, run.run_id, query)
    rows = [_row_view(run, r) for r in page.rows]
    columns = list(rows[0]["cells"]) if rows and "cells" in rows[0] else []
    shown, chart = wb.selection_performance(run, query, threshold, cost) if page.indexed else (None, None)
    return {"run": run, "page": page, "rows": rows, "columns": columns, "query": query, "index_job": job_id,
            "slices": slices.list_slices(wb.store().db, run.run_id) if page.indexed else [],
            "methods": [m for (m,) in wb.store().db.execute("SELECT DISTINCT method FROM attributions WHERE run_id=?",
                                                            (run.run_id,))] if run.modality == "text" else [],
            "sorts": list(index.SORTS), "sizes": index.PAGE_SIZES, "performance": shown,
            "reliability": chart, "threshold": threshold if threshold is not None else 0.5,
            "cost": cost}


async def table_page(request: Request) -> HTMLResponse:
    wb = _wb(request)
    run = wb.run(request.path_params["run_id"])
    data = await run_in_threadpool(table_data, wb, run, request.query_params)
    return request.app.state.pages.render(request, "table.html", **data)


async def rows_api(request: Request) -> JSONResponse:
    """The data table as JSON (the same query parameters as the page)."""
    wb = _wb(request)
    run = wb.run(request.path_params["run_id"])
    data = await run_in_threadpool(table_data, wb, run, request.query_params)
    page = data["page"]
    return JSONResponse({"run_id": run.run_id, "total": page.total, "page": page.query.page, "pages": page.pages,
                         "indexed": page.indexed, "index_job": data["index_job"], "seconds": page.seconds,
                         "rows": [{k: v for k, v in r.items() if k != "thumbnail"} for r in data["rows"]]})


async def save_slice(request: Request) -> Response:
    form = await read_form(request)
    wb = _wb(request)
    run = wb.run(request.path_params["run_id"])
    query = index.Query.from_params(form)

    def work() -> int:
        ids = index.matching_ids(wb.store().db, run.run_id, query)
        return slices.save(wb.store(), run.run_id, str(form.get("name", "")), ids).slice_id

    slice_id = await run_in_threadpool(work)
    return RedirectResponse(run_url(run.run_id, "table", slice=slice_id), status_code=303)


PATTERN_EXAMPLES = 20_000  # examples of a filter that salience patterns read (the first ones)


async def find_patterns(request: Request) -> Response:
    """POST: clusters of what a method's explanations point at, over the examples of the filter, as slices."""
    form = await read_form(request)
    wb = _wb(request)
    run = wb.run(request.path_params["run_id"])
    query = index.Query.from_params(form)
    try:
        k = int(form.get("k") or 5)
    except ValueError:
        raise InputError(f"k must be a whole number; got {str(form.get('k'))[:30]!r}.") from None

    def work() -> None:
        if wb.ensure_index(run) is not None:
            raise InputError(f"run {run.run_id} is being indexed; find patterns once its data table is ready.")
        ids = index.matching_ids(wb.store().db, run.run_id, query)[:PATTERN_EXAMPLES]
        slices.salience_patterns(wb.store(), run.run_id, str(form.get("method") or ""), ids, k)

    await run_in_threadpool(work)
    return RedirectResponse(run_url(run.run_id, "table", **query.params(page=1)) + "#slices", status_code=303)


async def reindex(request: Request) -> Response:
    await read_form(request)
    wb = _wb(request)
    run = wb.run(request.path_params["run_id"])
    job_id = wb.jobs.submit(wb.store(), "index", {"run_id": run.run_id}, run.run_id)
    return RedirectResponse(run_url(run.run_id, "table", job=job_id), status_code=303)


async def report_file(request: Request) -> Response:
    """The run's static report, as ``lumos report`` writes it, to download."""
    wb = _wb(request)
    run = wb.run(request.path_params["run_id"])

    def work() -> str:
        with tempfile.TemporaryDirectory() as folder:
            return render(wb.db, run.run_id, out=Path(folder) / "report.html").read_text(encoding="utf-8")

    html = await run_in_threadpool(work)
    name = re.sub(r"[^A-Za-z0-9._-]", "-", run.run_id)
    return HTMLResponse(html, headers={"content-disposition": f'attachment; filename="report-{name}.html"'})


async def compare_page(request: Request) -> HTMLResponse:
    wb = _wb(request)
    a, b = request.query_params.get("a"), request.query_params.get("b")
    result = None
    if a and b:
        if a == b:
            raise InputError("pick two different runs to compare.")
        run_a, run_b = wb.run(a), wb.run(b)
        result = await run_in_threadpool(lambda: comparison.compare(wb.store(), run_a.run_id, run_b.run_id))
    runs = [r for r in runs_list(wb) if r["examples"]]
    return request.app.state.pages.render(request, "compare.html", runs=runs, a=a, b=b, result=result,
                                          models=wb.model_names())
