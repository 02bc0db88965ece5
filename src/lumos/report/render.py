"""``lumos report``: one self-contained HTML file for a run in the store (no network; images inlined)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import sqlite3
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from markupsafe import Markup

from .. import plot, registry
from ..bench.sections import section_of
from ..bench.store import Store, from_blob
from ..errors import InputError
from ..viz import bars_view, image_view, legend, original_view, text_view
from .summary import plain_summary
from .tables import agreement_matrix, attribution_summary, costs, metric_tables

FAMILY_ORDER = ["faithfulness", "plausibility", "robustness", "randomization", "complexity", "agreement", "other"]
NLE_PREFIX = "nle:"


def decode_input(value: str):
    if value.startswith("npy:"):
        return from_blob(base64.b64decode(value[4:])).astype(np.float32)
    return value


def num(value: float) -> str:
    """A score as shown: 3 decimals, or 3 significant digits when that would print 0.000 for a non-zero value."""
    if value != value:
        return "n/a"
    return f"{value:.3f}" if value == 0 or abs(value) >= 0.0005 else f"{value:.2e}"


def wbr(name: str) -> Markup:
    """A long metric name that may break after its underscores (escaped)."""
    return Markup(str(escape(name)).replace("_", "_<wbr>"))


def render(db: str | Path, run_id: str | list[str] | None = None, out: str | Path | None = None,
           max_examples: int = 12) -> Path:
    """Write the report of one run or several (default: the latest run) into one HTML file; returns its path."""
    store = Store(db)
    env = environment()
    try:
        ids = [run_id] if isinstance(run_id, str) else list(run_id or [store.latest_run()])
        runs = [run_view(store, rid, max_examples, env) for rid in ids]
    except sqlite3.DatabaseError as e:
        raise InputError(f"cannot read {db} ({e}); the file may be damaged.") from None
    finally:
        store.close()
    html = env.get_template("template.html").render(runs=runs, **page_helpers())
    path = Path(out) if out is not None else Path(db).parent / report_name(ids)
    path.write_text(html, encoding="utf-8")
    return path


def report_name(run_ids: list[str]) -> str:
    """The default report file name: run ids made safe for a file name (letters, digits, '.', '-', '_'; no
    path separators, no leading dot), so a run id can never point the report outside the database's folder."""
    safe = [re.sub(r"\.{2,}", ".", re.sub(r"[^A-Za-z0-9._-]+", "_", r)).strip("._") or "run" for r in run_ids]
    name = "+".join(safe) if len(safe) < 3 else safe[0] + "+more"
    return f"report-{name[:150]}.html"


def _section_html(env: Environment, section: dict) -> Markup:
    """The section drawn from its stored payload (its ``view``, then its template, every value escaped); stored
    data that cannot be drawn (crafted, or from another version) gives a line saying so instead."""
    try:
        payload = section_of(section["kind"]).view(section["payload"])
        return Markup(env.get_template(_section_template(env, section["kind"])).render(payload=payload))
    except Exception as e:  # noqa: BLE001 - any failure of stored data to draw is shown, not raised
        note = {"text": [f"This {section['kind']} section could not be drawn from its stored data "
                         f"({type(e).__name__}: {e})."], "tables": []}
        return Markup(env.get_template("sections/tables.html").render(payload=note))


def environment() -> Environment:
    """The report's templates: ``template.html`` (the page), ``run.html`` (one run), ``style.css``, ``sections/``."""
    return Environment(loader=PackageLoader("lumos", "report"), autoescape=select_autoescape(["html"]))


def page_helpers() -> dict:
    """What ``run.html`` needs beside the run: number formatting, breakable names and the colour legends."""
    return {"wbr": wbr, "num": num, "legend": Markup(legend()), "legend_plain": Markup(legend(rationale=False))}


def run_view(store: Store, run_id: str, max_examples: int = 12, env: Environment | None = None) -> dict:
    """Everything ``run.html`` draws for one run, its sections drawn (``env`` finds their templates)."""
    env = env or environment()
    run = _run_view(store, run_id, max_examples)
    for section in run["sections"]:
        section["html"] = _section_html(env, section)
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
    spec = store._json(spec, f"the spec of run {run_id!r}")
    labels = store._json(labels, f"the labels of run {run_id!r}")
    spec = spec if isinstance(spec, dict) else {}
    labels = [str(label) for label in labels] if isinstance(labels, list) else []
    shown = [i for (i,) in store.db.execute("SELECT example_id FROM examples WHERE run_id=? ORDER BY example_id "
                                            "LIMIT ?", (run_id, max_examples))]
    window = (shown[0], shown[-1] + 1) if shown else (0, 0)
    examples = store.frame("examples", run_id, window).sort_values("example_id")
    attributions = store.frame("attributions", run_id, window)
    n_examples = store.db.execute("SELECT COUNT(*) FROM examples WHERE run_id=?", (run_id,)).fetchone()[0]
    scores = store.frame("scores", run_id).dropna(subset=["value"])
    degenerate, per_pair, flagged = attribution_summary(store, run_id)  # every map, a chunk at a time
    tables = metric_tables(scores, degenerate)
    cost = costs(store.frame("units", run_id))
    methods = sorted(flagged)
    matrix = agreement_matrix(methods, per_pair)
    families = [(f, [t for t in tables if t.family == f]) for f in FAMILY_ORDER if any(t.family == f for t in tables)]
    return {
        "run_id": run_id, "model": str(spec.get("model", "?")), "split": str(spec.get("split", "?")),
        "seed": spec.get("seed", "?"),
        "n_examples": n_examples, "modality": modality, "methods": methods,
        "metrics": sorted(scores.metric.unique()), "version": version, "sampling": _sampling(spec, n_examples),
        "created": dt.datetime.fromtimestamp(created).strftime("%Y-%m-%d %H:%M"),
        "summary": plain_summary(tables, cost, per_pair, str(spec.get("model", "?")), flagged),
        "families": families, "favoured": [(t.metric, m, why) for t in tables for m, why in t.favours.items()],
        "degenerate": {m: c for m, c in flagged.items() if c[0]},
        "glossary": _glossary(methods, tables),
        "cost": cost, "agreement": matrix, "sections": store.sections(run_id),
        "agreement_svg": Markup(plot.svg(plot.agreement(matrix))) if len(methods) > 1 else None,
        "examples": _examples(examples, attributions, labels, modality, max_examples, degenerate)}


def _sampling(spec: dict, n: int) -> str:
    """How the examples were picked, in words."""
    if not n:
        return ""
    if spec.get("first", True):  # runs stored before sampling existed took the first n
        return "its first rows"
    return f"drawn at random with the classes in proportion (seed {spec.get('seed', 0)})"


def _glossary(methods: list[str], tables: list) -> dict[str, list[dict]]:
    """Plain-language lines for the run's methods and metrics, from their metadata."""
    out_methods = []
    for m in methods:
        if m.startswith(NLE_PREFIX):
            info = {"plain": "A language model's explanation in words; the words it cites are scored as an "
                             "attribution.", "misleads": "A fluent explanation need not be the model's reason."}
        else:
            info = registry.EXPLAINERS.info(m) if m in registry.EXPLAINERS else {}
        out_methods.append({"name": m, "plain": info.get("plain", ""), "misleads": info.get("misleads", "")})
    out_metrics = [{"name": t.metric, "plain": t.plain, "misleads": t.misleads,
                    "direction": "higher is better" if t.higher_is_better else "lower is better"} for t in tables]
    return {"methods": out_methods, "metrics": out_metrics}


def _label_name(value, labels: list[str]) -> str | None:
    """A stored true label in the model's label names (a class index becomes its name)."""
    if value is None:
        return None
    text = str(value)
    if text.lstrip("-").isdigit() and 0 <= int(text) < len(labels):
        return labels[int(text)]
    return text


def _examples(examples, attributions, labels, modality: str, limit: int, degenerate: pd.DataFrame) -> list[dict]:
    out = []
    bad = set(zip(degenerate.method, degenerate.example_id))
    for _, ex in examples.head(limit).iterrows():
        rows = attributions[attributions.example_id == ex.example_id].sort_values("method")
        if rows.empty:
            continue
        first = rows.iloc[0]
        target = int(first.target)
        value = decode_input(ex["input"])
        rationale = np.asarray(ex.rationale, dtype=bool) if isinstance(ex.rationale, list) else None
        views = [{"method": r.method, "degenerate": (r.method, ex.example_id) in bad,
                  "html": explanation_view(modality, value, r.features, r.attributions, r.method, r.extras, rationale,
                                           degenerate=(r.method, ex.example_id) in bad)}
                 for _, r in rows.iterrows()]
        predicted = labels[target] if target < len(labels) else str(target)
        true = _label_name(ex.label, labels)
        out.append({"example_id": int(ex.example_id), "label": true, "predicted": predicted,
                    "wrong": true is not None and true != predicted,
                    "probability": float(first.probs[target]), "views": views,
                    "original": Markup(original_view(value)) if modality == "image" else None})
    return out


def explanation_view(modality: str, value, features, attributions: np.ndarray, method: str, extras=None,
                     rationale: np.ndarray | None = None, degenerate: bool = False) -> Markup:
    """One explanation drawn for a person: shaded words (text; a natural-language one's text below), the map
    over the image (images, ``value`` (C, H, W); flagged when ``degenerate``) or signed bars with each
    feature's value (tables, ``value`` a row as a dict or its JSON); every string escaped."""
    if modality == "text":
        html = text_view(features, attributions, rationale)
        if isinstance(extras, dict) and extras.get("text") is not None:  # a natural-language one
            html += f'<p class="nle">{escape(str(extras["text"]))}</p>'
    elif modality == "image":
        html = image_view(value, attributions, method + (" ⚠ all zero or constant" if degenerate else ""))
    else:
        row = json.loads(value) if isinstance(value, str) else value if isinstance(value, dict) else {}
        html = bars_view(features, attributions, values=[row.get(f, "?") for f in features])
    return Markup(html)
