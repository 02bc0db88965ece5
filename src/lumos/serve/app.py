"""The ASGI application of ``lumos serve``: routes, error pages, the guard in front, and ``serve`` (uvicorn)."""

from __future__ import annotations

import contextlib
import logging
from importlib.resources import files
from pathlib import Path
from typing import Any, AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..errors import InputError, LumosError, ModelError, UnsupportedError
from ..params import Float, check
from . import example_views, job_views, run_views
from .pages import Pages
from .security import Guard, Refused, access_token, error_page, is_loopback
from .workbench import Settings, Workbench

log = logging.getLogger("lumos.serve")
STATUS = {InputError: 400, UnsupportedError: 422, ModelError: 500}


def _error(request: Request, status: int, message: str) -> Response:
    if request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", ""):
        body, kind = error_page(status, message, True)
        return Response(body, status_code=status, media_type=kind.decode())
    return request.app.state.pages.render(request, "error.html", status=status, status_code=status, message=message)


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    return _error(request, exc.status, exc.message)


async def _lumos_error(request: Request, exc: Exception) -> Response:
    status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
    return _error(request, status, str(exc))


async def _not_found(request: Request, exc: Exception) -> Response:
    return _error(request, getattr(exc, "status_code", 404), getattr(exc, "detail", None) or "no such page.")


def _report_css(request: Request) -> FileResponse:
    return FileResponse(str(files("lumos.report") / "style.css"), media_type="text/css")


def routes() -> list[Any]:
    static = StaticFiles(directory=str(files("lumos.serve") / "static"))
    run = "/runs/{run_id:str}"
    example = run + "/examples/{example_id:int}"
    return [
        Route("/", run_views.home),
        Route("/compare", run_views.compare_page),
        Route(run, run_views.run_page),
        Route(run + "/table", run_views.table_page),
        Route(run + "/slices", run_views.save_slice, methods=["POST"]),
        Route(run + "/index", run_views.reindex, methods=["POST"]),
        Route(run + "/patterns", run_views.find_patterns, methods=["POST"]),
        Route(run + "/report", run_views.report_file),
        Route(example, example_views.example_page),
        Route(example + "/whatif", example_views.what_if, methods=["POST"]),
        Route(example + "/influence", example_views.training_data),
        Route(example + "/{tool:str}", example_views.tool, methods=["POST"]),
        Route("/jobs", job_views.jobs_page),
        Route("/jobs", job_views.start_job, methods=["POST"]),
        Route("/jobs/{job_id:str}", job_views.job_page),
        Route("/jobs/{job_id:str}/cancel", job_views.cancel_job, methods=["POST"]),
        Route("/api/jobs/{job_id:str}", job_views.job_api),
        Route("/api" + run + "/rows", run_views.rows_api),
        Route("/static/report.css", _report_css),
        Route("/favicon.ico", lambda request: Response(status_code=204)),
        Mount("/static", static),
    ]


def create_app(db: str | Path, models: tuple[str, ...] | list[str] = (), host: str = "127.0.0.1",
               token: str | None = None, max_upload_mb: float = 8.0, generator: Any = None,
               load: Any = None, **settings: Any) -> Any:
    """The workbench over the store ``db`` as an ASGI application (``app.state.workbench``, ``app.token``).

    ``models``: names it may load besides zoo names (see ``Settings``). ``host``: where it will be bound; a
    non-loopback host requires ``token`` (a random one when None; an empty one is refused). ``generator``: the
    language model for "why?" (default: the local SmolLM2). ``load``: name -> (model, splits) (tests).
    """
    secret = access_token(host, token)
    check("serve", "max_upload_mb", max_upload_mb, Float(low=0, low_open=True))
    config = Settings(models=tuple(models), max_upload=int(max_upload_mb * 2**20), **settings)
    workbench = Workbench(db, config, generator=generator, load=load)
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        workbench.close()

    app = Starlette(routes=routes(), exception_handlers={Refused: _refused, LumosError: _lumos_error,
                                                        404: _not_found, 405: _not_found}, lifespan=lifespan)
    app.state.workbench = workbench
    app.state.pages = Pages()
    hosts = None if not is_loopback(host) else {"127.0.0.1", "localhost", "::1", host.strip("[]")}
    guarded = Guard(app, secret, hosts, config.max_body, config.max_upload)
    guarded.state = app.state  # type: ignore[attr-defined]
    guarded.token = secret
    return guarded


def serve(db: str | Path, models: tuple[str, ...] | list[str] = (), host: str = "127.0.0.1", port: int = 8765,
          token: str | None = None, max_upload_mb: float = 8.0, announce: Any = print) -> None:
    """Run the workbench with uvicorn until Ctrl-C; ``announce`` gets the URL to open (with the token)."""
    import uvicorn

    app = create_app(db, models, host, token, max_upload_mb)
    shown = f"[{host}]" if ":" in host else host
    address = f"http://{shown}:{port}/" + (f"?token={app.token}" if app.token else "")
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    announce(address)
    server.run()
