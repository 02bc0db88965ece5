"""`make demo`: the main job on real models and data, offline.

Benches explainers x metrics on Rotten Tomatoes sentiment (MiniLM fine-tuned here; every method on faithfulness
and complexity, four of them on the randomisation sanity check and infidelity), on the cue-word task
whose true rationale is known, on scikit-image's natural photos with the pre-trained EfficientNet-Lite0, and on
Adult income with gradient boosting; stores every result in lumos-runs/demo.sqlite and writes one HTML report.
The first run trains and caches the zoo models; later runs reuse them, and finished units are skipped.

    lumos demo [--quick] [--db PATH]
"""

from __future__ import annotations

import os
import time

import typer

from ..bench import BenchSpec
from ..report import render
from ._app import app, one_line_errors
from .bench import run_bench

# faithfulness and complexity on every method; the re-explaining metrics (mprt, the randomisation sanity check,
# and infidelity) run in a second, smaller sentiment run so that a cached demo stays within minutes on 2 cores
TEXT_METRICS = ("comprehensiveness", "sufficiency", "aopc_comprehensiveness", "aopc_sufficiency", "taucorr_loo",
                "sparseness", "effective_size")
TEXT_BUDGET = {"lime": {"n_samples": 100}, "kernel_shap": {"n_samples": 100}, "integrated_gradients": {"steps": 16},
               "smoothgrad": {"n_samples": 8}, "gradient_shap": {"n_samples": 8}}
IMAGE_BUDGET = {"lime": {"n_samples": 150}, "kernel_shap": {"n_samples": 150}, "integrated_gradients": {"steps": 16},
                "occlusion": {"window": 32, "stride": 32}, "smoothgrad": {"n_samples": 8}}


def specs(db: str, quick: bool) -> list[BenchSpec]:
    n = 12 if quick else 50
    return [
        BenchSpec(model="sentiment/minilm", n=n, methods=("all",), metrics=TEXT_METRICS, params=TEXT_BUDGET, db=db),
        BenchSpec(model="sentiment/minilm", n=10, methods=("saliency", "integrated_gradients", "occlusion", "random"),
                  metrics=("mprt", "infidelity"), params=TEXT_BUDGET, metric_params={"mprt": {"max_layers": 3}},
                  db=db),
        BenchSpec(model="groundtruth/tfidf", n=n, methods=("all",), metrics=("all",), db=db),
        BenchSpec(model="imagenet/efficientnet_lite0", n=n, unit_size=4,
                  methods=("saliency", "integrated_gradients", "smoothgrad", "gradcam", "gradcam_pp", "occlusion",
                           "lime", "kernel_shap", "random"),
                  metrics=("deletion_auc", "insertion_auc", "sparseness"), params=IMAGE_BUDGET, db=db),
        BenchSpec(model="tabular/adult/gbm", n=n // 2, methods=("all",), metrics=("all",),
                  params={"lime": {"n_samples": 300}, "kernel_shap": {"n_samples": 300}},
                  counterfactuals={"rows": 5, "n": 3, "constraints": {"min_count": 50}}, db=db),
    ]


@app.command()
@one_line_errors
def demo(quick: bool = typer.Option(False, help="12 examples per data set instead of 50."),
         db: str = typer.Option("lumos-runs/demo.sqlite", help="SQLite results file.")) -> None:
    """The main job: bench real models on real data into one report (trains the zoo models the first time)."""
    t0 = time.perf_counter()
    run_ids = [run_bench(spec, write_report=False) for spec in specs(db, quick)]
    path = render(db, run_ids, out=os.path.join(os.path.dirname(db) or ".", "demo-report.html"))
    typer.echo(f"\nreport: {path.resolve()}\n(done in {time.perf_counter() - t0:.0f}s)")
