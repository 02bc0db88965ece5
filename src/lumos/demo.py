"""`make demo`: the main job on real models and data, offline.

Benches explainers x metrics on Rotten Tomatoes sentiment (MiniLM fine-tuned here; every method on faithfulness
and complexity, four of them on the randomisation sanity check and infidelity), on the cue-word task
whose true rationale is known, on scikit-image's natural photos with the pre-trained EfficientNet-Lite0, and on
Adult income with gradient boosting; stores every result in lumos-runs/demo.sqlite and writes one HTML report.
The first run trains and caches the zoo models; later runs reuse them, and finished units are skipped.

    python -m lumos.demo [--quick] [--db PATH]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

from .bench import BenchSpec
from .commands import run_bench
from .report import render

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="12 examples per data set instead of 50")
    parser.add_argument("--db", default="lumos-runs/demo.sqlite")
    args = parser.parse_args()
    t0 = time.perf_counter()
    run_ids = [run_bench(spec, write_report=False) for spec in specs(args.db, args.quick)]
    path = render(args.db, run_ids, out=os.path.join(os.path.dirname(args.db) or ".", "demo-report.html"))
    print(f"\nreport: {path.resolve()}\n(done in {time.perf_counter() - t0:.0f}s)")


if __name__ == "__main__":
    main()
