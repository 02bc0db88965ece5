"""The example page: the stored explanations of one example side by side with their own faithfulness scores,
and live work on it (what if it were edited, or explained for another class; counterfactuals; an attack; a
language model's "why?"; its most helpful and harmful training examples).

Every POST answers with the whole example page; the page's script swaps in the part that changed, and without
the script the browser shows the new page. A result that a person asked for appears in ``#live`` or ``#tool``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse

from .. import registry
from ..bench.sections import section_of
from ..bench.store import from_blob
from ..errors import InputError, UnsupportedError
from ..explanation import is_degenerate
from ..report.render import explanation_view
from ..viz import original_view
from . import live as work
from .index import class_index
from .inputs import decode, edited_row, edited_text, uploaded_image
from .pages import curves_svg, read_form
from .security import Refused
from .workbench import RunInfo, Workbench

MAX_METHODS = 4  # live explanations per request


@dataclass
class Stored:
    """What the run stored for one example."""

    example_id: int
    value: Any
    label: str | None
    rationale: np.ndarray | None
    cards: list[work.Card]
    target: int | None
    probs: list[float] | None
    neighbours: tuple[int | None, int | None]


@dataclass
class ExamplePage:
    run: RunInfo
    stored: Stored
    live_name: str | None
    live_model: work.LiveModel | None
    value: Any  # the input the forms show (the stored one, or the edited one)
    edited: bool = False
    live: work.Explained | None = None
    tool: str | None = None  # which tool's result is shown
    tool_result: Any = None
    methods: list[str] = field(default_factory=list)
    chosen: list[str] = field(default_factory=list)
    target: int | None = None
    options: dict[str, Any] = field(default_factory=dict)


def stored_example(wb: Workbench, run: RunInfo, example_id: int) -> Stored:
    db = wb.store().db
    row = db.execute("SELECT input, label, rationale FROM examples WHERE run_id=? AND example_id=?",
                     (run.run_id, example_id)).fetchone()
    if row is None:
        raise Refused(404, f"run {run.run_id} has no example {example_id}.")
    raw, label, rationale = row
    value = decode(run.modality, raw)
    mask = np.asarray(json.loads(rationale), dtype=bool) if rationale else None
    scores: dict[str, list[work.Score]] = {}
    for method, metric, v in db.execute("SELECT method, metric, value FROM scores WHERE run_id=? AND example_id=? "
                                        "ORDER BY metric", (run.run_id, example_id)):
        info = registry.get(metric, "metric").info() if metric in registry.names("metric") else \
            {"family": "other", "higher_is_better": True, "summary": ""}
        if v is not None:
            scores.setdefault(method, []).append(work.Score(metric, v, info["higher_is_better"], info["summary"],
                                                            info["family"]))
    cards, target, probs = [], None, None
    for method, t, p, features, blob, extras in db.execute(
            "SELECT method, target, probs, features, attributions, extras FROM attributions WHERE run_id=? AND "
            "example_id=? ORDER BY method", (run.run_id, example_id)):
        target, probs = int(t), json.loads(p)
        own = sorted(scores.get(method, []), key=lambda s: s.family != "faithfulness")
        attributions = from_blob(blob)
        flat = is_degenerate(attributions)
        cards.append(work.Card(method, explanation_view(run.modality, value, json.loads(features or "null"),
                                                        attributions, method, json.loads(extras or "null"), mask,
                                                        degenerate=flat), own, degenerate=flat))
    before = db.execute("SELECT MAX(example_id) FROM examples WHERE run_id=? AND example_id<?",
                        (run.run_id, example_id)).fetchone()[0]
    after = db.execute("SELECT MIN(example_id) FROM examples WHERE run_id=? AND example_id>?",
                       (run.run_id, example_id)).fetchone()[0]
    return Stored(example_id, value, label, mask, cards, target, probs, (before, after))


def _page(wb: Workbench, run: RunInfo, example_id: int, model_name: str | None = None) -> ExamplePage:
    stored = stored_example(wb, run, example_id)
    name = wb.live_name(run, model_name)
    live = None
    if name is not None:
        live = wb.model(name)
        if live.modality != run.modality:
            raise UnsupportedError(f"{name} takes {live.modality} inputs; run {run.run_id} holds {run.modality} "
                                   "examples. Pick a model of the same kind.")
    if live is not None and live.features and set(live.features) <= set(stored.value):
        stored.value = {c: stored.value[c] for c in live.features}  # the model's column order
    page = ExamplePage(run, stored, name, live, stored.value)
    if live is not None:
        page.methods = live.methods()
        page.chosen = live.default_methods()
        page.options = _options(live)
    return page


def _options(live: work.LiveModel) -> dict[str, Any]:
    """What the tool forms offer for this model."""
    out: dict[str, Any] = {"attacks": work.attack_methods(live), "influence": work.supports_influence(live),
                           "counterfactual_methods": registry.names("counterfactual") if live.modality == "tabular"
                           else [], "categories": {}}
    if live.modality == "tabular" and live.train is not None:
        for column in live.train.columns:
            values = live.train[column]
            if values.dtype == object and values.nunique() <= 60:
                out["categories"][str(column)] = sorted(map(str, values.dropna().unique()))
    return out


def _targets(params: Any) -> int | None:
    raw = params.get("target")
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise InputError(f"target must be a class number; got {str(raw)[:30]!r}.") from None


def _chosen(page: ExamplePage, asked: list[str]) -> list[str]:
    if not asked:
        return page.chosen
    unknown = [m for m in asked if m not in page.methods]
    if unknown:
        raise InputError(f"{', '.join(m[:40] for m in unknown)} cannot explain {page.live_name}; choose among "
                         f"{', '.join(page.methods)}.")
    if len(asked) > MAX_METHODS:
        raise InputError(f"choose at most {MAX_METHODS} methods at a time; got {len(asked)}.")
    return list(dict.fromkeys(asked))


def _require_live(page: ExamplePage) -> work.LiveModel:
    if page.live_model is None:
        raise UnsupportedError(f"no model is loaded for {page.run.model or 'this run'}: start the workbench with "
                               "lumos serve --model NAME to work live on its examples.")
    return page.live_model


def _render(request: Request, page: ExamplePage, status: int = 200) -> HTMLResponse:
    settings = request.app.state.workbench.settings
    run, stored = page.run, page.stored
    name = (lambda k: run.labels[k] if k is not None and k < len(run.labels) else None if k is None else str(k))
    view = dict(page=page, run=run, stored=stored, live_model=page.live_model, max_upload=settings.max_upload,
                max_upload_mb=settings.max_upload / 2**20, stored_predicted=name(stored.target),
                label_name=name(class_index(stored.label, run.labels)) or stored.label)
    if page.run.modality == "image":
        view["original"] = Markup(original_view(page.value))
    if page.tool == "dependence":
        view["dependence_html"] = _dependence_chart(page.tool_result)
    if page.tool == "counterfactuals":
        payload = section_of("counterfactuals").payload([page.tool_result], settings={"n": len(page.tool_result)})
        payload["queries"][0]["example_id"] = page.stored.example_id
        view["counterfactual_html"] = Markup(request.app.state.pages.fragment("sections/counterfactuals.html",
                                                                              payload=payload))
    return request.app.state.pages.render(request, "example.html", status=status, **view)


def _dependence_chart(d: work.Dependence) -> Markup | None:
    """A numeric column's curve of each class's probability (at most five classes) as an inline chart."""
    if not d.numeric:
        return None
    classes = np.argsort(-d.probs.mean(0))[:5]
    return curves_svg({d.labels[k]: list(zip(map(float, d.values), map(float, d.probs[:, k]))) for k in classes},
                      d.column, "probability")


async def example_page(request: Request) -> HTMLResponse:
    """GET: the stored example; with ``target`` (or ``methods``) also live explanations of it for that class."""
    wb = request.app.state.workbench
    run = wb.run(request.path_params["run_id"])
    params = request.query_params

    def work_on() -> ExamplePage:
        page = _page(wb, run, request.path_params["example_id"], params.get("model"))
        page.target = _targets(params)
        if page.live_model is not None and (page.target is not None or params.getlist("methods")):
            page.chosen = _chosen(page, params.getlist("methods"))
            with wb.model_lock(page.live_name):
                page.live = work.explain_example(page.live_model, page.value, page.chosen, page.target)
        return page

    return _render(request, await run_in_threadpool(work_on))


async def what_if(request: Request) -> HTMLResponse:
    """POST: the edited text, table cells or uploaded image -> new prediction and explanations."""
    form = await read_form(request)
    wb = request.app.state.workbench
    run = wb.run(request.path_params["run_id"])
    upload = form.get("image")
    data = await upload.read() if isinstance(upload, UploadFile) else None

    def work_on() -> ExamplePage:
        page = _page(wb, run, request.path_params["example_id"], form.get("model"))
        live = _require_live(page)
        if run.modality == "text":
            page.value = edited_text(form.get("text"))
        elif run.modality == "tabular":
            page.value = edited_row(page.stored.value, form)
        elif isinstance(upload, UploadFile) and (upload.filename or data):  # a file was chosen
            page.value = uploaded_image(data, upload.filename, upload.content_type, page.stored.value.shape,
                                        wb.settings.max_upload)
        page.edited = page.value is not page.stored.value
        page.target = _targets(form)
        page.chosen = _chosen(page, form.getlist("methods"))
        with wb.model_lock(page.live_name):
            page.live = work.explain_example(live, page.value, page.chosen, page.target)
        return page

    return _render(request, await run_in_threadpool(work_on))


async def tool(request: Request) -> HTMLResponse:
    """POST: counterfactuals (tables), an attack or "why?" (text) on the example as it is in the form."""
    form = await read_form(request)
    wb = request.app.state.workbench
    run = wb.run(request.path_params["run_id"])
    name = request.path_params["tool"]

    def work_on() -> ExamplePage:
        page = _page(wb, run, request.path_params["example_id"], form.get("model"))
        live = _require_live(page)
        if run.modality == "text" and form.get("text"):
            page.value = edited_text(form.get("text"))
            page.edited = page.value != page.stored.value
        elif run.modality == "tabular":
            page.value = edited_row(page.stored.value, form)
            page.edited = page.value != page.stored.value
        page.tool = name
        with wb.model_lock(page.live_name):
            if name == "counterfactuals":
                method = str(form.get("method") or "genetic")
                page.tool_result = work.counterfactuals(live, page.value, wb.counterfactual_setups, n=3, method=method)
            elif name == "attack":
                budget = _integer(form.get("budget"), "budget", 200)
                page.tool_result = work.attack_text(live, page.value, str(form.get("method") or ""), budget)
            elif name == "why":
                page.tool_result = work.why(live, page.value, wb.generator, _targets(form))
            elif name == "dependence":
                page.tool_result = work.dependence(live, page.value, str(form.get("column") or ""))
            else:
                raise Refused(404, f"no tool {name[:40]!r}; the tools are counterfactuals, dependence, attack and "
                                   "why.")
        return page

    return _render(request, await run_in_threadpool(work_on))


async def training_data(request: Request) -> HTMLResponse:
    """GET: the example's most helpful and harmful training examples (influence on the output layer)."""
    wb = request.app.state.workbench
    run = wb.run(request.path_params["run_id"])

    def work_on() -> ExamplePage:
        page = _page(wb, run, request.path_params["example_id"], request.query_params.get("model"))
        live = _require_live(page)
        page.tool = "influence"
        with wb.model_lock(page.live_name):
            page.tool_result = work.training_examples(live, page.value, class_index(page.stored.label, run.labels),
                                                      wb.settings.influence_rows)
        return page

    return _render(request, await run_in_threadpool(work_on))


def _integer(raw: Any, name: str, default: int) -> int:
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise InputError(f"{name} must be a whole number; got {str(raw)[:30]!r}.") from None
