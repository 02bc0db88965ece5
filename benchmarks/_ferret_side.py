#!/usr/bin/env python
"""The ferret half of benchmarks/vs_ferret.py. Runs in ferret's own virtual environment (.venv-ferret), never
in lumos's: ferret-xai 0.4.2 pins numpy<2, transformers<5, captum<0.8 and shap<0.45.

    python _ferret_side.py JOB.json OUT.json

JOB.json: {"model_dir", "sentences", "targets", "methods", "seed", "repeat"}. For every sentence and method it times
ferret's Benchmark.explain (with its default L1 normalisation) plus Benchmark.evaluate_explanation with the
three faithfulness evaluators (AOPC comprehensiveness, AOPC sufficiency, tau leave-one-out), counts the model
rows spent (a forward pre-hook on the model), and writes the tokens, the scores, the metric values and the
rationales ferret's AOPC used (so the lumos side can check the definitions) to OUT.json. The whole loop
runs ``repeat`` times with the same seeds (identical results); the times kept are each sentence's fastest.
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TQDM_DISABLE", "1")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from _rows import ForwardRows  # noqa: E402
from transformers import AutoModelForSequenceClassification, AutoTokenizer  # noqa: E402

import ferret  # noqa: E402
from ferret import (  # noqa: E402
    AOPC_Comprehensiveness_Evaluation,
    AOPC_Sufficiency_Evaluation,
    Benchmark,
    GradientExplainer,
    IntegratedGradientExplainer,
    LIMEExplainer,
    SHAPExplainer,
    TauLOO_Evaluation,
)
from ferret.evaluators.utils_from_soft_to_discrete import (  # noqa: E402
    _check_and_define_get_id_discrete_rationale_function,
    parse_evaluator_args,
)


def explainers(model, tok) -> dict:
    """lumos method name -> the ferret explainer compared with it."""
    return {
        "integrated_gradients": IntegratedGradientExplainer(model, tok, multiply_by_inputs=True),
        "saliency": GradientExplainer(model, tok, multiply_by_inputs=False),
        "lime": LIMEExplainer(model, tok),
        "kernel_shap": SHAPExplainer(model, tok),
    }


def aopc_rationales(scores: np.ndarray) -> list[list[int]]:
    """The rationales ferret's AOPC evaluators remove/keep, with ferret's own functions and default arguments
    (top int(p * F) tokens for p = 0.1..1.0, positive scores only, a set equal to the previous one skipped)."""
    _, only_pos, removal_args, _ = parse_evaluator_args({})
    pick = _check_and_define_get_id_discrete_rationale_function(removal_args["based_on"])
    out, last = [], None
    for v in removal_args["thresholds"]:
        top = pick(scores, v, only_pos)
        if top is not None and last is not None and set(top) == last:
            top = None
        if top is None:
            continue
        last = set(top)
        out.append([int(i) for i in top])
    return out


def main(job_path: str, out_path: str) -> None:
    with open(job_path) as f:
        job = json.load(f)
    np.random.seed(job.get("seed", 0))  # lime's LimeTextExplainer draws from numpy's global generator
    torch.manual_seed(job.get("seed", 0))
    tok = AutoTokenizer.from_pretrained(job["model_dir"])
    model = AutoModelForSequenceClassification.from_pretrained(job["model_dir"]).eval()

    counter = ForwardRows(model)
    evaluators = [AOPC_Comprehensiveness_Evaluation(model, tok), AOPC_Sufficiency_Evaluation(model, tok),
                  TauLOO_Evaluation(model, tok)]
    all_explainers = explainers(model, tok)

    # warm-up (untimed), as the lumos side does: every method explains and evaluates a short sentence once
    for name in job["methods"]:
        bench = Benchmark(model, tok, explainers=[all_explainers[name]], evaluators=evaluators)
        bench.evaluate_explanation(bench.explain("a fine film", target=0, show_progress=False)[0], 0,
                                   show_progress=False)

    result = {"versions": {"ferret": getattr(ferret, "__version__", "?"), "torch": torch.__version__,
                           "numpy": np.__version__, "transformers": __import__("transformers").__version__,
                           "threads": torch.get_num_threads()},
              "methods": {}}
    for r in range(int(job.get("repeat", 1))):
        np.random.seed(job.get("seed", 0))
        for name in job["methods"]:
            bench = Benchmark(model, tok, explainers=[all_explainers[name]], evaluators=evaluators)
            per = result["methods"].setdefault(name, [])
            for i, (text, target) in enumerate(zip(job["sentences"], job["targets"])):
                counter.rows = 0
                t0 = time.perf_counter()
                expl = bench.explain(text, target=int(target), show_progress=False)[0]
                t1 = time.perf_counter()
                r_explain = counter.rows
                ev = bench.evaluate_explanation(expl, int(target), show_progress=False)
                t2 = time.perf_counter()
                print(f"  ferret {name:22s} sentence {i + 1:2d}, round {job.get('round', 1) + r}: {t2 - t0:6.2f} s",
                      file=sys.stderr, flush=True)
                if r > 0:  # the same numbers again (same seeds): keep the faster time
                    if t2 - t0 < per[i]["seconds_explain"] + per[i]["seconds_evaluate"]:
                        per[i]["seconds_explain"], per[i]["seconds_evaluate"] = t1 - t0, t2 - t1
                    per[i]["max_score_change_between_rounds"] = max(
                        per[i].get("max_score_change_between_rounds", 0.0),
                        float(np.abs(np.asarray(expl.scores, dtype=np.float64) - per[i]["scores"]).max()))
                    continue
                values = {e.name: float(e.score) for e in ev.evaluation_scores}
                scores = np.asarray(expl.scores, dtype=np.float64)
                stripped = scores[1:-1] if expl.tokens[0] == tok.cls_token else scores
                per.append({"tokens": list(expl.tokens), "scores": scores.tolist(), "explainer": expl.explainer,
                            "seconds_explain": t1 - t0, "seconds_evaluate": t2 - t1,
                            "rows_explain": r_explain, "rows_evaluate": counter.rows - r_explain,
                            "rationales": aopc_rationales(stripped), **values})
    with open(out_path, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
