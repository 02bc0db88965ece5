"""The LDS table of docs/influence.md: every lumos.influence method against retraining, on the tabular zoo MLP
(tabular/adult/mlp) and on the sentiment model's head (sentiment/minilm), plus the memory of a 10,000-text run.

    nice -n 19 env OMP_NUM_THREADS=1 python benchmarks/influence_lds.py tabular   [--train 2000 --test 100 --models 20]
    nice -n 19 env OMP_NUM_THREADS=1 python benchmarks/influence_lds.py sentiment [--train 2000 --test 100 --models 20]
    nice -n 19 env OMP_NUM_THREADS=1 python benchmarks/influence_lds.py memory    [--train 10000 --test 100]
    nice -n 19 env OMP_NUM_THREADS=1 python benchmarks/influence_lds.py mislabel  [--train 2000]

tabular: the zoo MLP's architecture and training recipe (``fit_classifier`` with the zoo's MLPConfig: AdamW,
30 epochs, linear decay) on a seeded sample of ``--train`` encoded adult rows; influence runs on the resulting
model wrapped as the zoo wraps it (raw DataFrame rows in); TracIn uses the recipe's per-epoch checkpoints
(every 3rd, weighted by the epoch's mean learning rate). ``--models`` retrainings on random halves, each from
the same initialisation and seed, give the LDS.

sentiment: the fine-tuned MiniLM encoder is frozen; its pooled features feed the 2-class head, which is
re-trained from the zoo head's weights by SGD with weight decay (``train_with_checkpoints``) on the full sample
and on each half. ``layers="last_layer"`` of the full model is exactly this head on these features.

mislabel: 5% of the labels of ``--train`` adult rows flipped, the recipe trained on them, and the share of the
flipped rows among the 10% with the highest self-influence, per method.

memory: one ``exact`` last-layer run over ``--train`` training texts through the text adapter, in a fresh
subprocess, reporting its peak resident memory (ru_maxrss).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import numpy as np
import torch
from torch import nn

import lumos
from lumos.influence import lds, train_with_checkpoints

METHODS = {
    "last_layer": [("exact", {}), ("lissa", {"depth": 1000}), ("arnoldi", {"rank": 50}), ("ekfac", {}),
                   ("tracin", {}), ("grad_dot", {}), ("grad_cos", {})],
    "all": [("lissa", {"depth": 300}), ("arnoldi", {"rank": 50}), ("ekfac", {}), ("tracin", {}),
            ("grad_dot", {}), ("grad_cos", {})],
}
EXTRA_DAMPINGS = (1e-2, 1e-1)


def run_methods(model, train, test, checkpoints, rates, param_sets, damping) -> tuple[dict, dict]:
    scores, seconds = {}, {}
    for params in param_sets:
        for method, settings in METHODS[params]:
            if method == "tracin":
                settings = {"checkpoints": checkpoints, "learning_rates": rates}
            key = f"{method} ({params})"
            start = time.perf_counter()
            try:
                scores[key] = lumos.influence.explain(model, train, test, method=method, layers=params, damping=damping,
                                              self_influence=False, **settings).scores
            except lumos.LumosError as e:  # reported in the table, e.g. a non-convex Hessian for 'all'
                print(f"{key}: {type(e).__name__}: {e}", file=sys.stderr)
            seconds[key] = time.perf_counter() - start
    for extra in EXTRA_DAMPINGS:  # exact with more damping than the training objective's
        key = f"exact ({param_sets[0]}, damping {extra:g})"
        start = time.perf_counter()
        scores[key] = lumos.influence.explain(model, train, test, method="exact", layers=param_sets[0], damping=extra,
                                      self_influence=False).scores
        seconds[key] = time.perf_counter() - start
    return scores, seconds


def print_table(title: str, result, seconds: dict) -> None:
    print(f"\n{title}\n")
    print("| method (params) | LDS (mean Spearman) | test points with LDS > 0 | seconds |")
    print("|---|---|---|---|")
    for key, t in seconds.items():
        if key in result.score:
            rho = result.per_test[key]
            print(f"| {key} | {result.score[key]:.3f} | {np.mean(rho[np.isfinite(rho)] > 0):.0%} | {t:.1f} |")
        else:
            print(f"| {key} | failed (see stderr) | | {t:.1f} |")


def tabular(args) -> None:
    from lumos.zoo.heads import MLPHead, mlp
    from lumos.zoo.table_model import TableModel
    from lumos.zoo.table_recipes import MLPConfig
    from lumos.zoo.training import fit_classifier, seeded, subset

    zoo_model, splits = lumos.zoo.load("tabular/adult/mlp", progress=False)
    features = list(zoo_model.schema.features)
    rows, tests = subset(splits["train"], args.train, 1), subset(splits["test"], args.test, 1)
    x = zoo_model.preprocessor.transform(rows).astype(np.float32)
    x_test = zoo_model.preprocessor.transform(tests).astype(np.float32)
    y, y_test = rows["label"].to_numpy().copy(), tests["label"].to_numpy().copy()
    cfg = MLPConfig()

    def fit(idx: np.ndarray, checkpoints: list | None = None, rates: list | None = None) -> nn.Module:
        def keep(module: nn.Module, rate: float) -> None:
            checkpoints.append({k: v.clone() for k, v in module.state_dict().items()})  # type: ignore[union-attr]
            rates.append(rate)  # type: ignore[union-attr]

        with seeded(cfg.seed):
            net = mlp(x.shape[1], cfg.hidden)
            fit_classifier(net, x[idx], y[idx], epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr,
                           weight_decay=cfg.weight_decay, seed=cfg.seed, desc="", progress=False,
                           on_epoch=keep if checkpoints is not None else None)
        return net

    checkpoints: list = []
    rates: list = []
    net = fit(np.arange(len(y)), checkpoints, rates)
    model = TableModel(zoo_model.schema, zoo_model.preprocessor, MLPHead(net), labels=zoo_model.labels)
    scores, seconds = run_methods(model, (rows[features], y), (tests[features], y_test), checkpoints[2::3],
                                  rates[2::3], ["last_layer", "all"], damping=1e-3)

    def retrain(idx: np.ndarray) -> np.ndarray:
        net = fit(idx)
        with torch.no_grad():
            logits = net(torch.from_numpy(x_test))
        return nn.functional.cross_entropy(logits, torch.from_numpy(y_test), reduction="none").numpy()

    result = lds(scores, retrain, n_models=args.models, seed=0)
    accuracy = float((net(torch.from_numpy(x_test)).argmax(1).numpy() == y_test).mean())
    print_table(f"tabular/adult/mlp recipe on {len(y)} adult rows (test accuracy {accuracy:.3f}), {len(y_test)} "
                f"test rows, LDS over {args.models} retrained halves, damping 1e-3", result, seconds)


def sentiment(args) -> None:
    from lumos.zoo.training import subset

    zoo_model, splits = lumos.zoo.load("sentiment/minilm", progress=False)
    rows, tests = subset(splits["train"], args.train, 1), subset(splits["test"], args.test, 1)
    hf = zoo_model.model

    def pooled(texts: list[str]) -> torch.Tensor:
        ids = zoo_model.tokenizer(texts, truncation=True, max_length=zoo_model.max_length)["input_ids"]
        out = []
        with torch.inference_mode():
            for lo in range(0, len(ids), 64):
                batch_ids, mask = zoo_model.tokenize(ids[lo:lo + 64])
                out.append(hf.bert(input_ids=batch_ids, attention_mask=mask).pooler_output)
        return torch.cat(out)

    f_train, f_test = pooled(rows["text"].tolist()), pooled(tests["text"].tolist())
    y, y_test = rows["label"].to_numpy().copy(), tests["label"].to_numpy().copy()
    init = {k: v.detach().clone() for k, v in hf.classifier.state_dict().items()}
    decay = 1e-3

    def fit(idx: np.ndarray) -> tuple[nn.Linear, list, list]:
        head = nn.Linear(f_train.shape[1], 2)
        head.load_state_dict(init)
        checkpoints, rates = train_with_checkpoints(head, f_train[idx], y[idx], epochs=20, lr=0.1, batch_size=32,
                                                    weight_decay=decay, seed=0)
        return head, checkpoints, rates

    head, checkpoints, rates = fit(np.arange(len(y)))
    scores, seconds = run_methods(head, (f_train, y), (f_test, y_test), checkpoints[3::4], rates[3::4],
                                  ["last_layer"], damping=decay)

    def retrain(idx: np.ndarray) -> np.ndarray:
        head = fit(idx)[0]
        with torch.no_grad():
            logits = head(f_test)
        return nn.functional.cross_entropy(logits, torch.from_numpy(y_test), reduction="none").numpy()

    result = lds(scores, retrain, n_models=args.models, seed=0)
    accuracy = float((head(f_test).argmax(1).numpy() == y_test).mean())
    print_table(f"sentiment/minilm head (384 -> 2, the model's last layer) on {len(y)} review snippets (test "
                f"accuracy {accuracy:.3f}), {len(y_test)} test snippets, LDS over {args.models} retrained halves, "
                f"damping = weight decay = {decay}", result, seconds)


def mislabel(args) -> None:
    """Flip 5% of the labels of 2,000 adult rows, train the zoo MLP recipe on them, rank by self-influence."""
    from lumos.zoo.heads import mlp
    from lumos.zoo.table_recipes import MLPConfig
    from lumos.zoo.training import fit_classifier, seeded, subset

    zoo_model, splits = lumos.zoo.load("tabular/adult/mlp", progress=False)
    rows = subset(splits["train"], args.train, 1)
    x = zoo_model.preprocessor.transform(rows).astype(np.float32)
    y = rows["label"].to_numpy().copy()
    rng = np.random.default_rng(0)
    flipped = np.zeros(len(y), dtype=bool)
    flipped[rng.choice(len(y), len(y) // 20, replace=False)] = True
    y[flipped] = 1 - y[flipped]
    cfg = MLPConfig()
    checkpoints: list = []
    rates: list = []

    def keep(module: nn.Module, rate: float) -> None:
        checkpoints.append({k: v.clone() for k, v in module.state_dict().items()})
        rates.append(rate)

    with seeded(cfg.seed):
        net = mlp(x.shape[1], cfg.hidden)
        fit_classifier(net, x, y, epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr,
                       weight_decay=cfg.weight_decay, seed=cfg.seed, desc="", progress=False, on_epoch=keep)
    top = len(y) // 10
    print(f"\nadult MLP recipe on {len(y)} rows with {flipped.sum()} labels flipped (5%): share of the flipped "
          f"labels among the {top} most self-influential rows (random: 10%)\n")
    print("| method (params) | flipped found in top 10% | seconds |")
    print("|---|---|---|")
    for params in ("last_layer", "all"):
        for method, settings in METHODS[params]:
            if method == "grad_cos" or (method == "lissa" and params == "all"):
                continue  # grad_cos has no self-influence; lissa's costs a LiSSA run per training batch
            if method == "tracin":
                settings = {"checkpoints": checkpoints[2::3], "learning_rates": rates[2::3]}
            if method == "lissa":
                settings = {"depth": 300}
            start = time.perf_counter()
            own = lumos.influence.explain(net, (x, y), (x[:1], y[:1]), method=method, layers=params, **settings).self_influence
            found = flipped[np.argsort(-own)[:top]].sum() / flipped.sum()
            print(f"| {method} ({params}) | {found:.0%} | {time.perf_counter() - start:.1f} |")


MEMORY_RUN = """
import resource, sys, time, lumos
from lumos.zoo.training import subset
model, splits = lumos.zoo.load("sentiment/minilm", progress=False)
rows, tests = subset(splits["train"], {train}, 1), subset(splits["test"], {test}, 1)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
result = lumos.influence.explain(model, (rows["text"].tolist(), rows["label"].to_numpy()),
                         (tests["text"].tolist(), tests["label"].to_numpy()), method="exact", layers="last_layer")
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"{{len(rows)}} training texts x {{len(tests)}} test texts, exact on the last layer: scores "
      f"{{result.scores.shape}}, {{seconds:.0f}} s; peak RSS {{peak / 2**20:.2f}} GiB "
      f"({{before / 2**20:.2f}} GiB after loading the model)")
"""


def memory(args) -> None:
    code = MEMORY_RUN.format(train=args.train, test=args.test)
    subprocess.run([sys.executable, "-c", code], check=True)  # a fresh process measures its own peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("task", choices=["tabular", "sentiment", "memory", "mislabel"])
    parser.add_argument("--train", type=int, default=None)
    parser.add_argument("--test", type=int, default=100)
    parser.add_argument("--models", type=int, default=20)
    args = parser.parse_args()
    args.train = args.train or (10_000 if args.task == "memory" else 2000)
    torch.set_num_threads(1)
    {"tabular": tabular, "sentiment": sentiment, "memory": memory, "mislabel": mislabel}[args.task](args)


if __name__ == "__main__":
    main()
