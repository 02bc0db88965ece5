"""Planted-artifact benchmark for lumos.artifacts and lumos.curate (issue 14's targets).

    python benchmarks/robustify.py detection            # every discoverer x kind x strength x coverage x seed
    python benchmarks/robustify.py unmodified           # what the discoverers find on the real data
    python benchmarks/robustify.py repair --recipe sentiment/tfidf --seeds 0 1 2
    python benchmarks/robustify.py repair --recipe sentiment/minilm --seeds 0 --repairs augment jtt
    python benchmarks/robustify.py repair --recipe tabular/adult/gbm --kind proxy
    python benchmarks/robustify.py runtime              # the tf-idf loop with the default repairs, empty cache
    python benchmarks/robustify.py tables               # print every table from the results file

Each finished run is one JSON line in --out (default benchmarks/results/robustify.jsonl); a run already there
is skipped, so an interrupted benchmark resumes. Models train through lumos.zoo.train_on and are cached.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import numpy as np
import pandas as pd

from lumos import artifacts, curate, zoo

OUT = Path(__file__).parent / "results" / "robustify.jsonl"
KIND_DATA = {"token": "sentiment", "punctuation": "sentiment", "proxy": "adult"}
TEXT_DISCOVERERS = ("statistics", "partial_input", "attributions", "worst_slices", "influence")
TABLE_DISCOVERERS = (*TEXT_DISCOVERERS, "data_map")


def done(out: Path) -> dict[str, dict]:
    if not out.exists():
        return {}
    rows = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    return {r["run"]: r for r in rows}


def save(out: Path, row: dict) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "a") as f:
        f.write(json.dumps(row, default=float) + "\n")


def relevant(key: str, planted: str) -> bool:
    """A candidate names the planted artifact: it is the artifact, an n-gram or slice containing it."""
    if " = " in planted:
        return planted in key
    return planted in key.split() or key.strip("'") == planted or f"'{planted}'" in key


def discover_all(planted_or_splits, kind: str, seed: int, names: tuple[str, ...]) -> dict[str, tuple]:
    """{discoverer: (Findings, seconds)} on one data set: models trained through train_on (tf-idf for text;
    gbm with dynamics for tables, logreg for table influence)."""
    splits = planted_or_splits.splits if hasattr(planted_or_splits, "splits") else planted_or_splits
    text = KIND_DATA[kind] == "sentiment"
    recipe = "sentiment/tfidf" if text else "tabular/adult/gbm"
    model, _, _ = zoo.train_on(recipe, splits, progress=False, dynamics=not text)
    linear = model if text or "influence" not in names else zoo.train_on("tabular/adult/logreg", splits,
                                                                          progress=False)[0]
    labels = tuple(model.labels)
    out = {}
    for name in names:
        start = time.perf_counter()
        if name == "statistics":
            f = artifacts.statistics(splits["train"], class_names=labels)
        elif name == "partial_input":
            f = artifacts.partial_input(splits["train"], splits["validation"], class_names=labels, seed=seed)
        elif name == "attributions":
            params = {} if text else {"background": splits["train"].drop(columns="label").sample(50, random_state=0)}
            f = artifacts.attributions(model, splits["validation"], n=500, seed=seed, class_names=labels, **params)
        elif name == "worst_slices":
            f = artifacts.worst_slices(model, splits["validation"], min_count=10, seed=seed, class_names=labels)
        elif name == "influence":
            f = artifacts.influence_concentration(linear, splits["train"], splits["validation"], seed=seed,
                                                  class_names=labels, n_train=1000, n_test=200)
        elif name == "data_map":
            f = artifacts.data_map(model, splits["train"], class_names=labels)
        out[name] = (f, time.perf_counter() - start)
    return out


def detection(args) -> None:
    rows = [r for r in done(args.out).values() if r["part"] == "detection"]
    have = {(r["kind"], r["strength"], r["coverage"], r["seed"], r.get("label", 1), n)
            for r in rows for n in r["discoverers"]}
    for kind in args.kinds:
        for strength in args.strengths:
            for coverage in args.coverages:
                for seed in args.seeds:
                    names = TEXT_DISCOVERERS if KIND_DATA[kind] == "sentiment" else TABLE_DISCOVERERS
                    names = tuple(n for n in names if (not args.discoverers or n in args.discoverers)
                                  and (kind, strength, coverage, seed, args.label, n) not in have)
                    if not names:
                        continue
                    run = (f"detection/{kind}/{strength}/{coverage}/{seed}/{'+'.join(names)}"
                           + (f"/label{args.label}" if args.label != 1 else ""))
                    planted = artifacts.inject(KIND_DATA[kind], kind, strength=strength, coverage=coverage, seed=seed,
                                               label=args.label)
                    found = discover_all(planted, kind, seed, names)
                    row = {"run": run, "part": "detection", "kind": kind, "strength": strength,
                           "coverage": coverage, "seed": seed, "label": args.label, "key": planted.key,
                           "discoverers": {}}
                    for name, (f, seconds) in found.items():
                        top = f.keys(5)
                        row["discoverers"][name] = {
                            "rank": f.rank_of(planted.key), "top5": top, "seconds": seconds,
                            "precision5": sum(relevant(k, planted.key) for k in top) / 5,
                            "hit5": any(relevant(k, planted.key) for k in top),
                            "hit1": bool(top) and relevant(top[0], planted.key)}
                    save(args.out, row)
                    print(run, {n: d["rank"] for n, d in row["discoverers"].items()}, flush=True)


def unmodified(args) -> None:
    have = done(args.out)
    for data, kind in (("sentiment", "token"), ("adult", "proxy")):
        run = f"unmodified/{data}"
        if run in have:
            continue
        splits = (zoo.datasets.sentiment() if data == "sentiment" else zoo.tables.adult()).copy_splits()
        names = TEXT_DISCOVERERS if data == "sentiment" else TABLE_DISCOVERERS
        found = discover_all(splits, kind, 0, names)
        save(args.out, {"run": run, "part": "unmodified", "data": data,
                        "discoverers": {n: {"top5": f.keys(5), "findings": [c.finding for c in f.top(3)],
                                            "seconds": s} for n, (f, s) in found.items()}})
        print(run, flush=True)


def source(kind: str, train_rows: int | None):
    """The data to plant in: the zoo's splits, the training split cut to a seeded sample of ``train_rows``."""
    if not train_rows:
        return KIND_DATA[kind]
    splits = (zoo.datasets.sentiment() if KIND_DATA[kind] == "sentiment" else zoo.tables.adult()).copy_splits()
    splits["train"] = splits["train"].sample(train_rows, random_state=0).reset_index(drop=True)
    return splits


def repair(args) -> None:
    have = done(args.out)
    kind = args.kind or ("proxy" if args.recipe.startswith("tabular") else "token")
    for seed in args.seeds:
        run = (f"repair/{args.recipe}/{kind}/{args.strength}/{args.coverage}/{seed}/{'+'.join(args.repairs)}"
               + (f"/train{args.train_rows}" if args.train_rows else ""))
        if run in have:
            continue
        planted = artifacts.inject(source(kind, args.train_rows), kind, strength=args.strength,
                                   coverage=args.coverage, seed=seed)
        specs = [(r, json.loads(args.params.get(r, "{}"))) if r in args.params else r for r in args.repairs]
        result = curate.robustify(args.recipe, planted, repairs=specs, seed=seed, progress=args.progress,
                                  attribution_rows=args.attribution_rows, dynamics=args.dynamics)
        row = {"run": run, "part": "repair", "recipe": args.recipe + (f" ({args.train_rows} training rows)"
                                                                       if args.train_rows else ""),
               "kind": kind, "strength": args.strength,
               "coverage": args.coverage, "seed": seed, "artifact": result.artifact,
               "planted_rank": result.params["planted_rank"], "table": result.to_frame().to_dict("records"),
               "repairs": {o.name: {"params": o.repaired.params, "summary": o.repaired.describe()}
                           for o in result.outcomes}, "seconds": result.seconds}
        if args.dynamics:
            f = artifacts.data_map(result.plain.model, planted.splits["train"], class_names=planted.labels)
            row["data_map"] = {"rank": f.rank_of(planted.key), "top5": f.keys(5), "params": f.params}
        save(args.out, row)
        print("\n".join(result.lines()), flush=True)


def runtime(args) -> None:
    """The tf-idf loop with the default repairs and an empty model cache (what `lumos robustify --model
    sentiment/tfidf` runs)."""
    with tempfile.TemporaryDirectory() as cache_dir:
        start = time.perf_counter()
        planted = artifacts.inject("sentiment", "token", strength=0.9, coverage=0.1, seed=0)
        result = curate.robustify("sentiment/tfidf", planted, cache_dir=cache_dir)
        seconds = time.perf_counter() - start
    save(args.out, {"run": f"runtime/{time.strftime('%Y%m%dT%H%M%S')}", "part": "runtime", "seconds": seconds,
                    "phases": result.seconds, "per_repair": {o.name: o.seconds for o in result.outcomes},
                    "load": os.getloadavg()})
    print("\n".join(result.lines()))
    print(f"total {seconds:.0f} s (load average {os.getloadavg()[0]:.1f})")


def markdown(frame: pd.DataFrame, digits: int = 3) -> str:
    """A DataFrame as a Markdown table (numbers to ``digits`` places)."""
    def cell(v) -> str:
        return f"{v:.{digits}f}" if isinstance(v, (float, np.floating)) else str(v)

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|---" * len(frame.columns) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def tables(args) -> None:
    rows = list(done(args.out).values())
    det = [r for r in rows if r["part"] == "detection"]
    if det:
        flat = pd.DataFrame([{"kind": r["kind"], "label": r.get("label", 1), "strength": r["strength"],
                              "coverage": r["coverage"], "seed": r["seed"], "discoverer": n, **d}
                             for r in det for n, d in r["discoverers"].items()])
        flat["rank"] = flat["rank"].fillna(9999)
        agg = flat.groupby(["kind", "label", "strength", "coverage", "discoverer"]).agg(
            runs=("seed", "size"), first=("hit1", "mean"), top5=("hit5", "mean"), precision_at_5=("precision5", "mean"),
            median_rank=("rank", "median"), seconds=("seconds", "mean")).reset_index()
        print("## Detection (share of runs with the planted artifact first / in the top 5; precision@5)\n")
        print(markdown(agg, 2))
        for label in sorted(flat["label"].unique()):
            target = flat[(flat["kind"] == "token") & (flat["strength"] >= 0.8) & (flat["coverage"] >= 0.05)
                          & (flat["label"] == label)]
            best = target.groupby("discoverer")["hit1"].agg(["mean", "size"]).sort_values("mean", ascending=False)
            print(f"\nToken artifacts tied to label {label}, strength >= 0.8, coverage >= 5%: share of runs ranked "
                  f"first: {best.round(3).to_dict('index')}")
    for r in [r for r in rows if r["part"] == "unmodified"]:
        print(f"\n## Unmodified {r['data']}\n")
        for n, d in r["discoverers"].items():
            print(f"- {n}: {', '.join(map(repr, d['top5']))}")
    rep = [r for r in rows if r["part"] == "repair"]
    if rep:
        flat = pd.DataFrame([{"recipe": r["recipe"], "kind": r["kind"], "strength": r["strength"],
                              "coverage": r["coverage"], "seed": r["seed"], **t} for r in rep for t in r["table"]])
        agg = flat.groupby(["recipe", "kind", "strength", "coverage", "model"], sort=False).agg(
            runs=("seed", "size"), clean=("clean_accuracy", "mean"), clean_change=("clean_change_points", "mean"),
            contrast=("contrast_accuracy", "mean"), gap=("gap", "mean"), recovered=("gap_recovered", "mean"),
            worst_group=("worst_group_accuracy", "mean"), mass=("artifact_mass", "mean"), ece=("ece", "mean"),
            seconds=("seconds", "mean")).reset_index()
        print("\n## Repairs (means over seeds)\n")
        print(markdown(agg, 3))
    for r in [r for r in rows if r["part"] == "runtime"]:
        print(f"\nruntime {r['run']}: {r['seconds']:.0f} s, load {r['load'][0]:.1f}; per repair "
              + ", ".join(f"{k} {v:.0f} s" for k, v in r["per_repair"].items()))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("part", choices=["detection", "unmodified", "repair", "runtime", "tables"])
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--kinds", nargs="+", default=["token", "punctuation", "proxy"])
    p.add_argument("--strengths", nargs="+", type=float, default=[0.7, 0.8, 0.9])
    p.add_argument("--coverages", nargs="+", type=float, default=[0.05, 0.1])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--discoverers", nargs="+", default=None, help="detection: only these (default: all)")
    p.add_argument("--recipe", default="sentiment/tfidf")
    p.add_argument("--kind", default=None)
    p.add_argument("--label", type=int, default=1, help="detection: the class the planted artifact is tied to")
    p.add_argument("--strength", type=float, default=0.9)
    p.add_argument("--coverage", type=float, default=0.1)
    p.add_argument("--repairs", nargs="+", default=list(curate.DEFAULT_REPAIRS))
    p.add_argument("--params", type=json.loads, default={}, help='{"llm_flip": "{\\"n\\": 100}"}')
    p.add_argument("--attribution-rows", type=int, default=200)
    p.add_argument("--train-rows", type=int, default=None, help="plant in a seeded sample of this many training "
                   "rows (validation and test stay whole); for MiniLM on shared CPUs")
    p.add_argument("--dynamics", action="store_true", help="train the plain model with training dynamics and "
                   "add its data map")
    p.add_argument("--progress", action="store_true")
    args = p.parse_args()
    {"detection": detection, "unmodified": unmodified, "repair": repair, "runtime": runtime,
     "tables": tables}[args.part](args)


if __name__ == "__main__":
    main()
