"""Classifier heads on encoded table rows, each restorable from arrays: a linear model, a tree ensemble and an
MLP. ``probs(x)``: (N, D) float32 -> (N, 2) probabilities."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import ModelError
from ..models.linear import linear_network
from .training import seeded


def _binary(raw: np.ndarray) -> np.ndarray:
    """(N,) log-odds of class 1 -> (N, 2) probabilities."""
    p1 = 1.0 / (1.0 + np.exp(-raw))
    return np.stack([1.0 - p1, p1], axis=1)


class LinearHead:
    """Logistic regression: p(class 1) = sigmoid(x @ coef + intercept)."""

    kind = "linear"

    def __init__(self, coef: np.ndarray, intercept: np.ndarray):
        self.coef = np.asarray(coef, dtype=np.float64).reshape(-1)
        self.intercept = np.asarray(intercept, dtype=np.float64).reshape(1)

    @classmethod
    def from_sklearn(cls, estimator) -> "LinearHead":
        if estimator.coef_.shape[0] != 1:
            raise ModelError(f"LinearHead takes a binary logistic regression; got {estimator.coef_.shape[0]} "
                             "rows of coefficients.")
        return cls(estimator.coef_[0], estimator.intercept_)

    def probs(self, x: np.ndarray) -> np.ndarray:
        return _binary(np.asarray(x, dtype=np.float64) @ self.coef + self.intercept[0])

    def network(self) -> nn.Module:
        """The same logistic regression as a torch network (what influence differentiates)."""
        return linear_network(self.coef, self.intercept)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"coef": self.coef, "intercept": self.intercept}

    def state(self) -> dict[str, Any]:
        return {}

    @classmethod
    def restore(cls, arrays: dict[str, np.ndarray], state: dict[str, Any]) -> "LinearHead":
        return cls(arrays["coef"], arrays["intercept"])


class TreeHead:
    """A binary gradient-boosted tree ensemble as flat node arrays (all trees' nodes concatenated).

    A row goes left at a node when x[feature] <= threshold (a missing value goes where ``missing_left`` says);
    p(class 1) = sigmoid(baseline + sum of the leaf values it reaches).
    """

    kind = "trees"

    def network(self) -> None:
        """Trees have no torch network."""
        return None

    def __init__(self, feature: np.ndarray, threshold: np.ndarray, left: np.ndarray, right: np.ndarray,
                 missing_left: np.ndarray, is_leaf: np.ndarray, value: np.ndarray, roots: np.ndarray,
                 baseline: np.ndarray):
        self.feature, self.left, self.right, self.roots = (np.asarray(a, dtype=np.int64)
                                                           for a in (feature, left, right, roots))
        self.threshold, self.value = np.asarray(threshold, np.float64), np.asarray(value, np.float64)
        self.missing_left, self.is_leaf = np.asarray(missing_left, bool), np.asarray(is_leaf, bool)
        self.baseline = np.asarray(baseline, dtype=np.float64).reshape(1)

    @classmethod
    def from_sklearn(cls, hgb) -> "TreeHead":
        """From a fitted binary HistGradientBoostingClassifier trained on numeric (non-categorical) columns."""
        if hgb.n_trees_per_iteration_ != 1 or getattr(hgb, "is_categorical_", None) is not None:
            raise ModelError("TreeHead takes a binary HistGradientBoostingClassifier on numeric columns.")
        parts, roots, offset = [], [], 0
        for (predictor,) in hgb._predictors:
            nodes = predictor.nodes
            roots.append(offset)
            parts.append((nodes["feature_idx"], nodes["num_threshold"], nodes["left"] + offset,
                          nodes["right"] + offset, nodes["missing_go_to_left"], nodes["is_leaf"], nodes["value"]))
            offset += len(nodes)
        cols = [np.concatenate(c) for c in zip(*parts)]
        return cls(*cols, roots=np.array(roots), baseline=np.asarray(hgb._baseline_prediction).reshape(1))

    def probs(self, x: np.ndarray) -> np.ndarray:
        """Every (row, tree) path walked at once, one tree level per step; paths that reach a leaf add its value
        to their row and leave the working set, so each step only touches the paths still inside a tree."""
        x = np.asarray(x, dtype=np.float64)
        n, width = x.shape
        flat = x.ravel()
        row, node = np.repeat(np.arange(n), len(self.roots)), np.tile(self.roots, n)
        total = np.zeros(n)
        while len(node):
            done = self.is_leaf[node]
            if done.any():
                total += np.bincount(row[done], weights=self.value[node[done]], minlength=n)
                row, node = row[~done], node[~done]
            xv = flat[row * width + self.feature[node]]
            go_left = (xv <= self.threshold[node]) | (np.isnan(xv) & self.missing_left[node])
            node = np.where(go_left, self.left[node], self.right[node])
        return _binary(self.baseline[0] + total)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"feature": self.feature, "threshold": self.threshold, "left": self.left, "right": self.right,
                "missing_left": self.missing_left.astype(np.uint8), "is_leaf": self.is_leaf.astype(np.uint8),
                "value": self.value, "roots": self.roots, "baseline": self.baseline}

    def state(self) -> dict[str, Any]:
        return {}

    @classmethod
    def restore(cls, arrays: dict[str, np.ndarray], state: dict[str, Any]) -> "TreeHead":
        return cls(**arrays)


def mlp(inputs: int, hidden: int, classes: int = 2) -> nn.Sequential:
    """(N, inputs) -> (N, classes) logits: two hidden ReLU layers of width ``hidden``."""
    return nn.Sequential(nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, classes))


class MLPHead:
    """A torch MLP on the encoded rows (see ``mlp``), run in eval mode without gradients."""

    kind = "mlp"

    def __init__(self, module: nn.Sequential, recorder: Any = None):
        self.module = module.eval()
        self.recorder = recorder  # the CheckpointRecorder of the training run, when it has just been trained

    def probs(self, x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            logits = self.module(torch.as_tensor(np.asarray(x, dtype=np.float32)))
        return torch.softmax(logits.double(), dim=1).numpy()

    def network(self) -> nn.Module:
        return self.module

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: v.detach().cpu().numpy() for k, v in self.module.state_dict().items()}

    def state(self) -> dict[str, Any]:
        return {"inputs": self.module[0].in_features, "hidden": self.module[0].out_features}

    @classmethod
    def restore(cls, arrays: dict[str, np.ndarray], state: dict[str, Any]) -> "MLPHead":
        with seeded(0):  # the initial weights are overwritten; this keeps the caller's generator untouched
            module = mlp(state["inputs"], state["hidden"])
        module.load_state_dict({k: torch.as_tensor(v) for k, v in arrays.items()})
        return cls(module)


HEADS: dict[str, type] = {h.kind: h for h in (LinearHead, TreeHead, MLPHead)}
