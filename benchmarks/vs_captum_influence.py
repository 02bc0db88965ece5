"""lumos.influence next to captum.influence on one MLP trained on scikit-learn's breast_cancer (455 train, 114 test).

For each pair (lumos method vs its captum counterpart, same parameters, same checkpoints, same damping) it
prints the time per test point (construction + scores for all 114 test points, divided by 114) and the
agreement of each side's scores with retraining: the linear datamodeling score (LDS, Spearman, averaged over
test points) against M models retrained from the same initialisation on random halves of the training set.

    nice -n 19 env OMP_NUM_THREADS=1 python benchmarks/vs_captum_influence.py [--models 30] [--rounds 2]

Times are the best of ``--rounds`` alternating rounds; on a shared machine quote the ratios only.
"""

from __future__ import annotations

import argparse
import copy
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from torch import nn
from torch.utils.data import TensorDataset

import lumos
from lumos.influence import lds, train_with_checkpoints

DAMPING = 1e-3  # the SGD weight decay, so the Hessian of the training objective gets the same term
EPOCHS, LR, BATCH = 20, 0.05, 32
EVERY = 4  # TracIn uses every 4th epoch's checkpoint: 5 checkpoints


def data():
    x, y = load_breast_cancer(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=114, random_state=0, stratify=y)
    scaler = StandardScaler().fit(x_train)
    f = lambda a: torch.tensor(scaler.transform(a), dtype=torch.float32)  # noqa: E731
    return f(x_train), torch.tensor(y_train), f(x_test), torch.tensor(y_test)


def network() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(30, 16), nn.Tanh(), nn.Linear(16, 2))


def train(x, y):
    net = network()
    checkpoints, rates = train_with_checkpoints(net, x, y, epochs=EPOCHS, lr=LR, batch_size=BATCH,
                                                weight_decay=DAMPING, seed=0)
    return net, checkpoints[EVERY - 1::EVERY], rates[EVERY - 1::EVERY]


def lumos_side(name, net, checkpoints, rates, train_set, test_set):
    settings = {
        "tracin": dict(method="tracin", params="all", checkpoints=checkpoints, learning_rates=rates),
        "tracin_fast": dict(method="tracin", params="last_layer", checkpoints=checkpoints, learning_rates=rates),
        "naive": dict(method="exact", params="last_layer", damping=DAMPING),
        "arnoldi": dict(method="arnoldi", params="all", damping=DAMPING, rank=50),
    }[name]
    return lumos.influence.explain(net, train_set, test_set, self_influence=False, **settings).scores


def captum_side(name, net, paths, train_set, test_set):
    from captum.influence import NaiveInfluenceFunction, TracInCP, TracInCPFast
    from captum.influence._core.arnoldi_influence_function import ArnoldiInfluenceFunction

    def load(model, path):
        saved = torch.load(path)
        model.load_state_dict(saved["state"])
        return saved["lr"]

    dataset = TensorDataset(*train_set)
    loss = nn.CrossEntropyLoss(reduction="sum")
    per_example = nn.CrossEntropyLoss(reduction="none")
    common = dict(checkpoints_load_func=load, loss_fn=loss, batch_size=len(dataset))
    if name == "tracin":
        method = TracInCP(net, dataset, paths, sample_wise_grads_per_batch=True, **common)
    elif name == "tracin_fast":
        method = TracInCPFast(net, "2", dataset, paths, **common)
    elif name == "naive":  # every eigenpair of the last layer's 34 x 34 Hessian kept
        method = NaiveInfluenceFunction(net, dataset, paths[-1], layers=["2"], hessian_reg=DAMPING,
                                        projection_dim=34, **{**common, "loss_fn": per_example})
    else:
        method = ArnoldiInfluenceFunction(net, dataset, paths[-1], hessian_reg=DAMPING, projection_dim=50,
                                          **{**common, "loss_fn": per_example})
    return method.influence(test_set).detach().numpy().astype(np.float64)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=30, help="retrained models for the LDS")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    x_train, y_train, x_test, y_test = data()
    net, checkpoints, rates = train(x_train, y_train)
    train_set, test_set = (x_train, y_train), (x_test, y_test)
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for k, (state, rate) in enumerate(zip(checkpoints, rates)):
            paths.append(str(Path(tmp) / f"checkpoint{k}.pt"))
            torch.save({"state": state, "lr": rate}, paths[-1])
        pairs = [("tracin", "TracInCP"), ("tracin_fast", "TracInCPFast"), ("naive", "NaiveInfluenceFunction"),
                 ("arnoldi", "ArnoldiInfluenceFunction")]
        times: dict[tuple[str, str], float] = {}
        scores: dict[str, np.ndarray] = {}
        for _ in range(args.rounds):
            for name, _label in pairs:
                for side in ("lumos", "captum"):
                    model = copy.deepcopy(net)  # captum loads checkpoints into the model it is given
                    start = time.perf_counter()
                    s = (lumos_side(name, model, checkpoints, rates, train_set, test_set) if side == "lumos"
                         else captum_side(name, model, paths, train_set, test_set))
                    elapsed = time.perf_counter() - start
                    times[name, side] = min(times.get((name, side), np.inf), elapsed)
                    scores[f"{side}:{name}"] = s

    def retrain(indices: np.ndarray) -> np.ndarray:
        model, _, _ = train(x_train[indices], y_train[indices])
        with torch.no_grad():
            return nn.functional.cross_entropy(model(x_test), y_test, reduction="none").numpy()

    result = lds(scores, retrain, n_models=args.models, seed=0)
    n = len(y_test)
    print(f"breast_cancer MLP 30-16-2, {len(y_train)} train / {n} test, {len(paths)} checkpoints, "
          f"LDS over {args.models} retrained halves; best of {args.rounds} rounds\n")
    print("| lumos method (params) | captum counterpart | lumos ms/test | captum ms/test | captum/lumos time |"
          " lumos LDS | captum LDS | Pearson lumos vs captum |")
    print("|---|---|---|---|---|---|---|---|")
    described = {"tracin": "tracin (all)", "tracin_fast": "tracin (last_layer)", "naive": "exact (last_layer)",
                 "arnoldi": "arnoldi (all, rank 50)"}
    for name, label in pairs:
        lt, ct = times[name, "lumos"] / n * 1e3, times[name, "captum"] / n * 1e3
        agree = np.corrcoef(scores[f"lumos:{name}"].ravel(), scores[f"captum:{name}"].ravel())[0, 1]
        print(f"| {described[name]} | {label} | {lt:.3f} | {ct:.3f} | {ct / lt:.1f}x | "
              f"{result.score['lumos:' + name]:.3f} | {result.score['captum:' + name]:.3f} | {agree:.3f} |")


if __name__ == "__main__":
    main()
