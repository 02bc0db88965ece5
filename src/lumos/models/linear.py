"""Torch networks for fitted linear classifiers that have none: scikit-learn's LogisticRegression and the zoo's
logistic-regression head, with the estimator's own parametrisation (binary: one weight vector and intercept)."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn


class BinaryLogit(nn.Module):
    """(B, d) -> (B, 2) logits [0, x . w + b]: a binary logistic regression with d + 1 parameters."""

    def __init__(self, coef: np.ndarray, intercept: np.ndarray):
        super().__init__()
        self.linear = nn.Linear(coef.size, 1).double()
        with torch.no_grad():
            self.linear.weight.copy_(torch.as_tensor(coef, dtype=torch.float64).reshape(1, -1))
            self.linear.bias.copy_(torch.as_tensor(intercept, dtype=torch.float64).reshape(1))

    def forward(self, x: Tensor) -> Tensor:
        z = self.linear(x)
        return torch.cat([torch.zeros_like(z), z], 1)


def linear_network(coef: np.ndarray, intercept: np.ndarray) -> nn.Module:
    """coef (1, d) or (d,) -> BinaryLogit; coef (K, d) with K > 2 -> nn.Linear(d, K) (multinomial)."""
    coef = np.atleast_2d(np.asarray(coef, dtype=np.float64))
    if coef.shape[0] == 1:
        return BinaryLogit(coef[0], np.asarray(intercept).reshape(-1)[:1])
    layer = nn.Linear(coef.shape[1], coef.shape[0]).double()
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(coef))
        layer.bias.copy_(torch.as_tensor(np.asarray(intercept, dtype=np.float64).reshape(-1)))
    return layer
