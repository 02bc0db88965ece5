#!/usr/bin/env python
"""lumos.counterfactuals beside dice-ml (DiCE 0.12) on Adult income, in one run and one process.

Same models (the zoo's tabular/adult/gbm and tabular/adult/mlp, each side calling the same object), the same
query rows (the first N test rows the model predicts <=50K), the same constraints (age, race, sex and
native_country immutable, the zoo's metadata; education_num may only increase, given to DiCE as a per-query
permitted range), n counterfactuals per query, desired class >50K. Methods: random, genetic and kdtree on both
sides (DiCE's model-agnostic methods, its default settings), plus lumos's gradient method on the MLP.

Every result is scored by the same code (lumos.counterfactuals metrics, which take counterfactuals from anywhere):
validity at equal n (valid counterfactuals / (n x queries): a missing one counts as invalid), queries with at
least one valid counterfactual, proximity, sparsity, diversity, plausibility (kNN distance, LOF outliers),
actionability, and CPU time per query (process time, single-threaded on both sides, so a busy shared machine
pausing or preempting the run does not inflate it; each side's set-up, DiCE's Dice() and lumos's explainer,
timed apart).

dice-ml lives in its own virtual environment, .venv-dice (git-ignored), created on first use with
    python -m venv .venv-dice
    .venv-dice/bin/python -m pip install --no-deps -c constraints.txt dice-ml==0.12 raiutils jsonschema \\
        jsonschema-specifications referencing rpds-py attrs
(``--no-deps``: dice-ml's other requirements, numpy, pandas, scikit-learn and tqdm, come from lumos's own
environment, and its xgboost/lightgbm requirements are not needed for these model-agnostic methods). This
script adds that environment's site-packages to the end of sys.path, so both sides run in one interpreter.

Usage:  python benchmarks/vs_dice.py [--n-queries 100] [--n 5] [--models gbm,mlp] [--json out.json]
        python benchmarks/vs_dice.py --setup     # only create the dice-ml environment
A benchmark that prints tables, not a test; on a shared machine quote the time ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("TQDM_DISABLE", "1")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DICE_PACKAGES = ["dice-ml==0.12", "raiutils", "jsonschema", "jsonschema-specifications", "referencing", "rpds-py",
                 "attrs"]
METHODS = ("random", "kdtree", "genetic")  # DiCE genetic, the slowest by far, last
SHOWN = ("validity", "found", "proximity_numeric", "proximity_categorical", "sparsity", "diversity",
         "plausibility_knn", "lof_outliers", "actionability", "seconds")


def dice_site(venv: Path) -> Path:
    return next((venv / "lib").glob("python3*/site-packages"))


def ensure_dice(venv: Path) -> None:
    """Create the dice-ml environment if it is missing and put its site-packages at the end of sys.path."""
    if not (venv / "bin" / "python").exists() or not list((venv / "lib").glob("python3*/site-packages/dice_ml")):
        print(f"setting up dice-ml in {venv} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                        "--no-deps", "-c", str(ROOT / "constraints.txt"), *DICE_PACKAGES], check=True)
    sys.path.append(str(dice_site(venv)))


class DiceModel:
    """What DiCE's sklearn backend calls: predict_proba/predict on a DataFrame of the raw features."""

    def __init__(self, model, features: list[str]):
        self.model, self.features = model, features

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return self.model.predict_proba(frame[self.features])

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return self.predict_proba(frame).argmax(axis=1)


def queries(model, test: pd.DataFrame, k: int) -> pd.DataFrame:
    """The first k test rows the model predicts <=50K (label dropped)."""
    rows = test.drop(columns=["label"])
    return rows[model.predict_proba(rows)[:, 1] < 0.5].head(k).reset_index(drop=True)


def cpu_seconds() -> float:
    """CPU time of this process: unlike wall time, not inflated when a busy shared machine pauses or preempts
    it (both sides run single-threaded: OMP_NUM_THREADS=1, torch.set_num_threads(1))."""
    return time.process_time()


def run_lumos(explainer, rows: pd.DataFrame, method: str, n: int, constraints: dict, seed: int):
    out = []
    for i in range(len(rows)):
        start = cpu_seconds()
        result = explainer.explain(rows.iloc[[i]], desired=">50K", n=n, method=method, constraints=constraints,
                                   seed=seed, metrics=False)
        out.append((result.counterfactuals, cpu_seconds() - start))
    return out


def run_dice(dice_ml, model, train: pd.DataFrame, rows: pd.DataFrame, method: str, n: int, vary: list[str],
             schema, seed: int):
    data = dice_ml.Data(dataframe=train, continuous_features=list(schema.numeric), outcome_name="label")
    backend = dice_ml.Model(model=DiceModel(model, list(schema.features)), backend="sklearn",
                            model_type="classifier")
    start = cpu_seconds()
    explainer = dice_ml.Dice(data, backend, method=method)
    setup = cpu_seconds() - start
    out = []
    for i in range(len(rows)):
        row = rows.iloc[[i]]
        permitted = {"education_num": [float(row["education_num"].iloc[0]), schema.ranges["education_num"][1]]}
        kw = {"random_seed": seed} if method == "random" else {}
        start = cpu_seconds()
        try:
            result = explainer.generate_counterfactuals(row, total_CFs=n, desired_class=1, features_to_vary=vary,
                                                        permitted_range=permitted, verbose=False, **kw)
            cfs = result.cf_examples_list[0].final_cfs_df
        except Exception as e:  # noqa: BLE001 - DiCE raises when it finds nothing; that is a result here
            print(f"  dice {method} row {i}: {type(e).__name__}: {str(e).splitlines()[0][:120]}", flush=True)
            cfs = None
        seconds = cpu_seconds() - start
        cfs = pd.DataFrame(columns=list(schema.features)) if cfs is None else cfs[list(schema.features)]
        out.append((cfs.reset_index(drop=True), seconds))
    return out, setup


def score(explainer, rows: pd.DataFrame, results, n: int, constraints: dict) -> dict[str, float]:
    """Means over queries (over queries with counterfactuals for the per-set metrics); validity at equal n."""
    per_query, valid_total, found = [], 0.0, 0
    for i, (cfs, seconds) in enumerate(results):
        cfs = cfs.head(n)
        if len(cfs):
            m = explainer.evaluate(rows.iloc[[i]], cfs, desired=">50K", constraints=constraints, seconds=seconds)
            valid_total += m["validity"] * len(cfs)
            found += m["validity"] > 0
            per_query.append(m)
        else:
            per_query.append({"seconds": seconds})
    frame = pd.DataFrame(per_query)
    summary = {k: float(frame[k].mean()) if k in frame else float("nan") for k in SHOWN}
    summary["validity"] = valid_total / (n * len(results))
    summary["found"] = found / len(results)
    summary["seconds_median"] = float(frame["seconds"].median())
    return summary


def row_line(model: str, method: str, s: dict[str, float]) -> str:
    return f"  {model} {method}: " + ", ".join(f"{k} {s[k]:.3f}" for k in SHOWN)


def table(name: str, rows: dict[str, dict[str, float]]) -> str:
    lines = [f"### {name}", "", "| method | " + " | ".join(SHOWN) + " |", "|---" * (len(SHOWN) + 1) + "|"]
    for method, s in rows.items():
        cells = [f"{s[k]:.3f}" if k != "seconds" else f"{s[k]:.3f} s" for k in SHOWN]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-queries", type=int, default=100)
    ap.add_argument("--n", type=int, default=5, help="counterfactuals per query")
    ap.add_argument("--models", default="gbm,mlp")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dice-venv", default=str(ROOT / ".venv-dice"))
    ap.add_argument("--json", default=None, help="write every summary to this file")
    ap.add_argument("--setup", action="store_true", help="only create the dice-ml environment")
    args = ap.parse_args()
    ensure_dice(Path(args.dice_venv))
    if args.setup:
        return
    import dice_ml
    import torch

    import lumos
    from lumos.counterfactuals import CounterfactualExplainer

    torch.set_num_threads(1)
    constraints = {"monotonic": {"education_num": "increase"}}  # immutable: the zoo's age, race, sex, country
    print(f"# lumos vs dice-ml {dice_ml.__version__ if hasattr(dice_ml, '__version__') else '0.12'} on Adult: "
          f"{args.n_queries} queries, n={args.n}, seed {args.seed}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start", flush=True)
    report: dict[str, dict] = {}
    setups = {}
    for name in args.models.split(","):
        model, splits = lumos.zoo.load(f"tabular/adult/{name}", progress=False)
        start = cpu_seconds()
        explainer = CounterfactualExplainer(model, splits["train"])
        setup = cpu_seconds() - start
        setups[name] = (model, splits, queries(model, splits["test"], args.n_queries), explainer)
        report[name] = {"summaries": {}, "lumos_setup": setup}
    methods = args.methods.split(",")
    for method in methods + ["gradient"]:  # every model's cheap methods before anyone's genetic search
        for name, (model, splits, rows, explainer) in setups.items():
            summaries = report[name]["summaries"]
            if method == "gradient" and name != "mlp":
                continue
            results = run_lumos(explainer, rows, method, args.n, constraints, args.seed)
            summaries[f"lumos {method}"] = score(explainer, rows, results, args.n, constraints)
            print(row_line(name, f"lumos {method}", summaries[f"lumos {method}"]), flush=True)
            if method != "gradient":
                schema = model.schema
                vary = [f for f in schema.features if f not in schema.immutable]
                results, dice_setup = run_dice(dice_ml, model, splits["train"], rows, method, args.n, vary, schema,
                                               args.seed)
                summaries[f"dice {method}"] = s = score(explainer, rows, results, args.n, constraints)
                s["setup"] = dice_setup
                print(row_line(name, f"dice {method}", s) + f" (set-up {dice_setup:.2f} s)", flush=True)
            if args.json:
                Path(args.json).write_text(json.dumps(report, indent=1))
    for name, (model, splits, rows, explainer) in setups.items():
        summaries = report[name]["summaries"]
        print()
        print(table(f"tabular/adult/{name} ({len(rows)} queries, n={args.n}; lumos set-up "
                    f"{report[name]['lumos_setup']:.2f} s)", summaries))
        ratios = {m: summaries[f"dice {m}"]["seconds"] / summaries[f"lumos {m}"]["seconds"] for m in methods}
        print("\nCPU time per query, dice / lumos: " + ", ".join(f"{m} {r:.1f}x" for m, r in ratios.items()))
        report[name]["ratios"] = ratios
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
