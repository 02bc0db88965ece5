"""``lumos report``: one self-contained HTML file for a run in the store (no network; images inlined)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from html import escape
from pathlib import Path

import numpy as np
from jinja2 import Environment, PackageLoader, select_autoescape

from markupsafe import Markup

from ..bench.sections import section_of
from ..bench.store import Store, from_blob
from ..errors import InputError
from ..viz import bars_view, image_view, legend, original_view, rgba, text_view
from .tables import agreement, costs, metric_tables, plain_summary

FAMILY_ORDER = ["faithfulness", "plausibility", "robustness", "randomization", "complexity", "agreement", "other"]


def decode_input(value: str):
    if value.startswith("npy:"):
        return from_blob(base64.b64decode(value[4:])).astype(np.float32)
    return value


def heat(v: float) -> str:
    return rgba(v, 1.0) if v == v else "#fafafa"


def render(db: str | Path, run_id: str | list[str] | None = None, out: str | Path | None = None,
           max_examples: int = 12) -> Path:
    """Write the report of one run or several (default: the latest run) into one HTML file; returns its path."""
    store = Store(db)
    env = environment()
    try:
        ids = [run_id] if isinstance(run_id, str) else list(run_id or [store.latest_run()])
        runs = [run_view(store, rid, max_examples, env) for rid in ids]
    finally:
        store.close()
    html = env.get_template("template.html").render(runs=runs, **page_helpers())
    path = Path(out) if out is not None else Path(db).parent / f"report-{'+'.join(ids) if len(ids) < 3 else ids[0] + '+more'}.html"
    path.write_text(html, encoding="utf-8")
    return path


def environment() -> Environment:
    """The report's templates: ``template.html`` (the page), ``run.html`` (one run), ``style.css``, ``sections/``."""
    return Environment(loader=PackageLoader("lumos", "report"), autoescape=select_autoescape(["html"]))


def page_helpers() -> dict:
    """What ``run.html`` needs beside the run: the heatmap colour and the colour legend."""
    return {"heat": heat, "legend": Markup(legend())}


def run_view(store: Store, run_id: str, max_examples: int = 12, env: Environment | None = None) -> dict:
    """Everything ``run.html`` draws for one run, its sections' views included (``env`` finds their templates)."""
    env = env or environment()
    run = _run_view(store, run_id, max_examples)
    for section in run["sections"]:
        section["template"] = _section_template(env, section["kind"])
        section["payload"] = section_of(section["kind"]).view(section["payload"])
    return run


def _section_template(env: Environment, kind: str) -> str:
    """``sections/<kind>.html`` when the kind has its own template, else the generic tables-and-text one."""
    name = f"sections/{kind}.html"
    return name if name in env.list_templates() else "sections/tables.html"


def _run_view(store: Store, run_id: str, max_examples: int) -> dict:
    """Everything the template shows for one run."""
    row = store.db.execute("SELECT spec, created, modality, labels, lumos_version FROM runs WHERE run_id=?",
                           (run_id,)).fetchone()
    if row is None:
        raise InputError(f"no run {run_id!r} in {store.path}; runs there: {', '.join(store.runs().run_id)}.")
    spec, created, modality, labels, version = row
    spec, labels = json.loads(spec), json.loads(labels) or []
    examples = store.frame("examples", run_id).sort_values("example_id")
    attributions = store.frame("attributions", run_id)
    scores = store.frame("scores", run_id).dropna(subset=["value"])
    tables = metric_tables(scores)
    cost = costs(store.frame("units", run_id))
    matrix, per_pair = agreement(attributions)
    methods = sorted(attributions.method.unique())
    return {
        "run_id": run_id, "model": spec["model"], "split": spec["split"], "seed": spec["seed"],
        "n_examples": len(examples), "modality": modality, "methods": methods,
        "metrics": sorted(scores.metric.unique()), "version": version,
        "created": dt.datetime.fromtimestamp(created).strftime("%Y-%m-%d %H:%M"),
        "summary": plain_summary(tables, cost, per_pair, spec["model"]),
        "families": [(f, [t for t in tables if t.family == f]) for f in FAMILY_ORDER
                     if any(t.family == f for t in tables)],
        "cost": cost, "agreement": matrix, "sections": store.sections(run_id),
        "examples": _examples(examples, attributions, labels, modality, max_examples)}


def _examples(examples, attributions, labels, modality: str, limit: int) -> list[dict]:
    out = []
    for _, ex in examples.head(limit).iterrows():
        rows = attributions[attributions.example_id == ex.example_id].sort_values("method")
        if rows.empty:
            continue
        first = rows.iloc[0]
        target = int(first.target)
        value = decode_input(ex["input"])
        rationale = np.asarray(ex.rationale, dtype=bool) if isinstance(ex.rationale, list) else None
        views = [{"method": r.method, "html": explanation_view(modality, value, r.features, r.attributions, r.method,
                                                          r.extras, rationale)} for _, r in rows.iterrows()]
        out.append({"example_id": int(ex.example_id), "label": ex.label,
                    "predicted": labels[target] if target < len(labels) else str(target),
                    "probability": float(first.probs[target]), "views": views,
                    "original": Markup(original_view(value)) if modality == "image" else None})
    return out


def explanation_view(modality: str, value, features, attributions: np.ndarray, method: str, extras=None,
                     rationale: np.ndarray | None = None) -> Markup:
    """One explanation drawn for a person: shaded words (text; a natural-language one's text below), the map
    over the image (images, ``value`` (C, H, W)) or signed bars (tables); every string escaped."""
    if modality == "text":
        html = text_view(features, attributions, rationale)
        if isinstance(extras, dict) and extras.get("text") is not None:  # a natural-language one
            html += f'<p class="nle">{escape(str(extras["text"]))}</p>'
    elif modality == "image":
        html = image_view(value, attributions, method)
    else:
        html = bars_view(features, attributions)
    return Markup(html)
