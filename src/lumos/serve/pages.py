"""Drawing pages: one Jinja environment over the workbench's templates and the report's (so a run page draws
the report's ``run.html`` itself), links, and the one way a POST's form is read (size-limited, CSRF-checked)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from ..report.render import page_helpers
from .security import CSRF_FIELD, check_csrf


def url(path: str, **params: Any) -> str:
    """``path`` with the non-empty ``params`` as its query string."""
    query = urlencode({k: v for k, v in params.items() if v is not None and v != ""}, doseq=True)
    return f"{path}?{query}" if query else path


def run_url(run_id: str, *parts: Any, **params: Any) -> str:
    """The workbench address of a run (``parts``: e.g. "examples", 3), every part quoted."""
    path = "/runs/" + quote(str(run_id), safe="") + "".join("/" + quote(str(p), safe="") for p in parts)
    return url(path, **params)


def job_url(job_id: str) -> str:
    return "/jobs/" + quote(str(job_id), safe="")


def curves_svg(series: dict[str, Any], x_label: str, y_label: str) -> Markup:
    """Lines of (x, y in [0, 1]) points drawn by ``lumos.plot.curves`` as inline SVG (text escaped by matplotlib;
    dollar signs in names kept literal, which matplotlib would otherwise read as maths)."""
    from .. import plot

    def literal(name: Any) -> str:
        return str(name).replace("$", r"\$")

    fig = plot.curves({literal(k): v for k, v in series.items()}, literal(x_label), literal(y_label))
    return Markup(plot.svg(fig))


def datetime_text(timestamp: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(float(timestamp)).strftime("%Y-%m-%d %H:%M")


def thumbnail(image: Any) -> str:
    """A (C, H, W) array as a small inline PNG."""
    import numpy as np

    from ..viz import image_rgb, png_data_uri

    return png_data_uri(image_rgb(np.asarray(image, dtype=np.float32)), upscale_to=48)


def percent(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{100 * value:.{digits}f}%"


def number(value: Any, spec: str = ".3f") -> str:
    """A float for a table cell ("—" when missing or NaN)."""
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    return format(value, spec)


class Pages:
    """Renders the workbench's pages; every page gets the request's CSRF token and the report's helpers."""

    def __init__(self) -> None:
        self.env = Environment(loader=ChoiceLoader([PackageLoader("lumos.serve", "templates"),
                                                    PackageLoader("lumos", "report")]),
                               autoescape=select_autoescape(["html"]))
        self.env.globals.update(url=url, run_url=run_url, job_url=job_url, percent=percent, number=number,
                                csrf_field=CSRF_FIELD, **page_helpers())
        self.env.filters.update(datetime=datetime_text, thumb=thumbnail)

    def render(self, request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = self.env.get_template(name).render(csrf=request.state.csrf, path=request.url.path, **context)
        return HTMLResponse(html, status_code=status)

    def fragment(self, name: str, **context: Any) -> str:
        """A template drawn alone (a report section inside a workbench page)."""
        return self.env.get_template(name).render(**context)


async def read_form(request: Request) -> Any:
    """The POST's form (fields up to 1 MB each, at most 5 files), after the CSRF check."""
    form = await request.form(max_files=5, max_fields=500)
    check_csrf(request.state.cookies, request.headers, form)
    return form


def reliability_chart(shown: Any) -> Markup | None:
    """Accuracy against confidence (a reliability curve) as an inline chart, beside the diagonal."""
    if shown is None or len(shown.reliability) < 2:
        return None
    return curves_svg({"accuracy": [(c, a) for c, a, _ in shown.reliability],
                       "calibrated": [(shown.reliability[0][0], shown.reliability[0][0]),
                                      (shown.reliability[-1][0], shown.reliability[-1][0])]},
                      "confidence (mean of its bin)", "accuracy")
