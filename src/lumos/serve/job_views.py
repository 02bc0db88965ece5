"""Pages and JSON of the background jobs: start one (a bench, a robustness run), watch it, cancel it."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from .. import registry
from ..errors import InputError
from . import jobs
from .pages import job_url, read_form
from .security import Refused
from .workbench import Workbench

JOB_ID = re.compile(r"^[a-z]+-\d{8}-\d{6}-[0-9a-f]{6}$")
LIMITS = {"n": (1, 100_000), "budget": (1, 5000), "seed": (0, 2**31 - 1), "unit_size": (1, 10_000)}


def _job(wb: Workbench, job_id: str) -> dict[str, Any]:
    if not JOB_ID.match(job_id):
        raise InputError(f"{job_id[:60]!r} is not a job id.")
    job = jobs.job_row(wb.store(), job_id)
    if job is None:
        raise Refused(404, f"no job {job_id} in this store.")
    return job


def public(job: dict[str, Any]) -> dict[str, Any]:
    """A job as the page's script reads it."""
    return {k: job[k] for k in ("job_id", "kind", "status", "stage", "done", "total", "message", "run_id")}


def jobs_page(request: Request) -> HTMLResponse:
    wb = request.app.state.workbench
    return request.app.state.pages.render(request, "jobs.html", jobs=jobs.recent(wb.store(), 100),
                                          models=wb.model_names())


def job_page(request: Request) -> HTMLResponse:
    wb = request.app.state.workbench
    return request.app.state.pages.render(request, "job.html", job=_job(wb, request.path_params["job_id"]))


def job_api(request: Request) -> JSONResponse:
    return JSONResponse(public(_job(request.app.state.workbench, request.path_params["job_id"])))


def _number(form: Any, name: str, default: int) -> int:
    raw = form.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InputError(f"{name} must be a whole number; got {str(raw)[:30]!r}.") from None
    low, high = LIMITS[name]
    if not low <= value <= high:
        raise InputError(f"{name} must lie between {low} and {high:,}; got {value:,}.")
    return value


def _names(form: Any, field: str, kind: str) -> list[str]:
    """A comma list or repeated field of registered names (or empty: all that apply)."""
    raw = [v for value in form.getlist(field) for v in str(value).split(",") if v.strip()]
    names = [v.strip() for v in raw if v.strip() != "all"]
    known = registry.names(kind)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise InputError(f"unknown {kind}(s) {', '.join(n[:40] for n in unknown)}; known: {', '.join(known)}.")
    return names


async def start_job(request: Request) -> Response:
    """POST /jobs: kind "bench" (model, split, n, methods, metrics, seed) or "robustness" (model, budget, n)."""
    wb = request.app.state.workbench
    form = await read_form(request)
    kind = str(form.get("kind") or "")
    model = str(form.get("model") or "")
    if kind not in ("bench", "robustness"):
        raise InputError(f"a job is a bench or a robustness run; got {kind[:40]!r}.")
    if not wb.may_load(model):
        raise InputError(f"the workbench may not load {model[:80]!r}; pick a model from the list.")
    if kind == "bench":
        split = str(form.get("split") or "test")
        if split not in ("train", "validation", "test"):
            raise InputError(f"split must be train, validation or test; got {split[:40]!r}.")
        params: dict[str, Any] = {"model": model, "split": split, "n": _number(form, "n", 50),
                                  "methods": _names(form, "methods", "explainer"),
                                  "metrics": _names(form, "metrics", "metric"), "seed": _number(form, "seed", 0),
                                  "unit_size": _number(form, "unit_size", 10)}
    else:
        params = {"model": model, "budget": _number(form, "budget", 200), "n": _number(form, "n", 200),
                  "seed": _number(form, "seed", 0)}
    job_id = wb.jobs.submit(wb.store(), kind, params)
    return RedirectResponse(job_url(job_id), status_code=303)


async def cancel_job(request: Request) -> Response:
    await read_form(request)
    wb = request.app.state.workbench
    job = _job(wb, request.path_params["job_id"])
    wb.jobs.cancel(job["job_id"])
    return RedirectResponse(job_url(job["job_id"]), status_code=303)
