"""FastSHAP (Jethani, Sudarshan, Covert, Lee & Ranganath, "FastSHAP: Real-Time Shapley Value Estimation",
ICLR 2022): a small network trained once to output Shapley values, then one forward pass per example.

Training minimises the Shapley loss over rows x of a sample of the data and coalitions S drawn from the
Shapley kernel (in complementary pairs):

    E_x E_S [ (v_x(S) - v_x(empty) - sum_{j in S} phi_j(x))^2 ],  phi normalised so sum_j phi_j = v_x(N) - v_x(empty)

whose minimiser is the Shapley value of every x's game v_x (the kernel's weighted regression, per x). The values
v_x(S) are the model's probabilities with the columns outside S replaced by background rows (averaged), as in
every lumos perturbation method; each training row gets ``n_coalitions`` coalitions, evaluated once in batched
model calls, and the network trains for ``epochs`` passes over them. The network predicts every class at once.
At explain time the additive efficient normalisation uses the prediction pass's probability, so the result
sums to f(x) - f(empty) exactly, with no model call beyond that pass.

Tables only: the network reads the row (numbers standardised, text categories one-hot encoded).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import InputError, UnsupportedError
from ..features.masking import masked_probs
from ..features.removal import removable
from ..models import Model, wrap

_KERNEL_FLOOR = 1e-12


@dataclass
class FastShap:
    """A fitted amortised explainer: ``attributions(rows)`` gives (B, F, K) Shapley values for every class.

    ``info``: rows and coalitions trained on, model rows spent, seconds, the final training and validation
    losses."""

    encoder: "RowEncoder"
    network: nn.Module
    n_features: int
    n_classes: int
    empty_value: np.ndarray  # (K,) v(empty): the model's mean probability over the background rows
    info: dict[str, Any] = field(default_factory=dict)

    def raw(self, x: np.ndarray) -> np.ndarray:
        """(B, F) rows -> (B, F, K) network outputs, before normalisation."""
        with torch.no_grad():
            out = self.network(torch.as_tensor(self.encoder(x), dtype=torch.float32))
        return out.double().numpy().reshape(len(x), self.n_features, self.n_classes)

    def attributions(self, x: np.ndarray, probs: np.ndarray) -> np.ndarray:
        """(B, F) rows and their (B, K) probabilities -> (B, F, K), each class summing to p - v(empty)."""
        return normalise(self.raw(x), probs - self.empty_value[None])


class ExplainerNet(nn.Module):
    """A linear map plus a two-hidden-layer ReLU network: (B, D) encoded rows -> (B, F * K)."""

    def __init__(self, d_in: int, d_out: int, hidden: int):
        super().__init__()
        self.linear = nn.Linear(d_in, d_out)
        self.mlp = nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, d_out))
        for layer in (self.linear, self.mlp[-1]):  # start from phi = 0: the scale of attributions is small
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x) + self.mlp(x)


def normalise(phi: np.ndarray, gap: np.ndarray) -> np.ndarray:
    """Additive efficient normalisation: phi (B, F, K) shifted per class so that it sums to gap (B, K)."""
    return phi + (gap - phi.sum(1))[:, None, :] / phi.shape[1]


class RowEncoder:
    """Rows (B, F) -> numbers for the network: numeric columns standardised, other columns one-hot."""

    def __init__(self, x: np.ndarray):
        self.numeric = [j for j in range(x.shape[1]) if _is_numeric(x[:, j])]
        self.categories = {j: sorted({str(v) for v in x[:, j]}) for j in range(x.shape[1]) if j not in self.numeric}
        num = x[:, self.numeric].astype(np.float64) if self.numeric else np.zeros((len(x), 0))
        self.mean, self.scale = num.mean(0), num.std(0) + 1e-9

    def __call__(self, x: np.ndarray) -> np.ndarray:
        parts = [(x[:, self.numeric].astype(np.float64) - self.mean) / self.scale] if self.numeric else []
        for j, cats in self.categories.items():
            col = np.array([str(v) for v in x[:, j]])
            parts.append((col[:, None] == np.array(cats)[None]).astype(np.float64))
        return np.concatenate(parts, axis=1)


def _is_numeric(col: np.ndarray) -> bool:
    return col.dtype != object or all(isinstance(v, (int, float, np.number)) for v in col)


def kernel_coalitions(n: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """(count, n) bool coalitions in complementary pairs, sizes drawn by the Shapley kernel's mass."""
    sizes = np.arange(1, n)
    mass = (n - 1) / (sizes * (n - sizes))
    half = (count + 1) // 2
    drawn = rng.choice(sizes, size=half, p=mass / mass.sum())
    rank = rng.random((half, n)).argsort(axis=1).argsort(axis=1)
    first = rank < drawn[:, None]
    return np.stack([first, ~first], axis=1).reshape(-1, n)[:count]


MIN_ROWS = 10  # rows to train on: at least one held out for validation and a few to fit


def fit_fastshap(model: Any, rows: Any, *, background: Any, n_coalitions: int = 32, epochs: int = 50,
                 hidden: int = 128, batch_rows: int = 32, lr: float = 3e-3, validation: float = 0.1,
                 seed: int = 0) -> FastShap:
    """Train a FastSHAP explainer for ``model`` on ``rows`` (a table (N, F); a sample of the data to explain).

    ``background``: the rows that stand for removed columns (as in ``lumos.explain``). ``n_coalitions``
    coalitions per row are evaluated once (N x n_coalitions x len(background) model rows, batched); the network
    trains for ``epochs`` passes and keeps the epoch with the lowest loss on the ``validation`` share of rows."""
    if n_coalitions < 2:
        raise InputError(f"fit_fastshap needs n_coalitions >= 2; got {n_coalitions}.")
    model = model if isinstance(model, Model) else wrap(model)
    batch = model.prepare(rows)
    if batch.modality != "tabular":
        raise UnsupportedError(f"FastSHAP in lumos explains tables; got {batch.modality} inputs. Use "
                               "regression_shap or kernel_shap for text and images.")
    if len(batch) < MIN_ROWS:
        raise InputError(f"fit_fastshap needs at least {MIN_ROWS} rows to train on; got {len(batch)}.")
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    rows_before = model.counts.rows
    with model.session():
        items = removable(model, batch, background=background)
        n = items[0].n_features
        masks = [np.concatenate([np.zeros((1, n), bool), kernel_coalitions(n, n_coalitions, rng)]) for _ in items]
        values = np.stack(masked_probs(model, items, masks))  # (N, 1 + C, K): the empty coalition first
        full = model.evaluate(batch.rows())
    evaluations = model.counts.rows - rows_before
    seconds_values = time.perf_counter() - t0
    empty = values[:, 0].mean(0)
    k = values.shape[2]
    encoder = RowEncoder(batch.x)
    torch.manual_seed(seed)
    network = ExplainerNet(encoder(batch.x[:1]).shape[1], n * k, hidden)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a network this small trains fastest on one thread (more only wait on each other)
    try:
        train_losses, val_loss = _train(network, encoder(batch.x), np.stack(masks)[:, 1:], values[:, 1:] - empty,
                                        full - empty, n, k, epochs, batch_rows, lr, validation, rng)
    finally:
        torch.set_num_threads(threads)
    info = {"rows": len(batch), "coalitions_per_row": n_coalitions, "model_rows": int(evaluations),
            "seconds_values": seconds_values, "seconds": time.perf_counter() - t0,
            "train_loss": train_losses, "validation_loss": val_loss}
    return FastShap(encoder, network.eval(), n, k, empty, info)


def _train(network: nn.Module, x: np.ndarray, masks: np.ndarray, gains: np.ndarray, totals: np.ndarray, n: int,
           k: int, epochs: int, batch_rows: int, lr: float, validation: float,
           rng: np.random.Generator) -> tuple[float, float]:
    """Adam on the Shapley loss; x (N, D), masks (N, C, F), gains (N, C, K) = v(S) - v(empty),
    totals (N, K) = v(N) - v(empty). Keeps the weights of the best validation epoch."""
    order = rng.permutation(len(x))
    n_val = max(1, int(round(validation * len(x))))
    val, train = order[:n_val], order[n_val:]
    tx, tm, tg, tt = (torch.as_tensor(a, dtype=torch.float32) for a in (x, masks, gains, totals))
    opt = torch.optim.Adam(network.parameters(), lr=lr)

    def loss_of(idx: torch.Tensor) -> torch.Tensor:
        phi = network(tx[idx]).reshape(len(idx), n, k)
        phi = phi + (tt[idx] - phi.sum(1))[:, None, :] / n
        pred = torch.einsum("bcf,bfk->bck", tm[idx], phi)
        return ((pred - tg[idx]) ** 2).sum(2).mean()

    best, best_state, last = float("inf"), None, float("nan")
    gen = torch.Generator().manual_seed(int(rng.integers(2**31)))
    train_t, val_t = torch.as_tensor(train), torch.as_tensor(val)
    for _ in range(epochs):
        network.train()
        for chunk in train_t[torch.randperm(len(train_t), generator=gen)].split(batch_rows):
            opt.zero_grad()
            loss = loss_of(chunk)
            loss.backward()
            opt.step()
            last = loss.item()
        network.eval()
        with torch.no_grad():
            v = float(loss_of(val_t))
        if v < best:
            best, best_state = v, {name: t.clone() for name, t in network.state_dict().items()}
    if best_state is not None:
        network.load_state_dict(best_state)
    return last, best
