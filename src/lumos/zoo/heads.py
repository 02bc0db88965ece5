"""Classifier heads on encoded table rows, each restorable from arrays: a linear model, a tree ensemble and an
MLP. ``probs(x)``: (N, D) float32 -> (N, K) probabilities (K = 2 for the zoo's tables; any K for your own)."""

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


def _from_raw(raw: np.ndarray) -> np.ndarray:
    """(N, 1) log-odds of class 1 (binary) or (N, K) class scores (softmax) -> (N, K) probabilities."""
    if raw.shape[1] == 1:
        return _binary(raw[:, 0])
    from scipy.special import softmax

    return softmax(raw, axis=1)


class LinearHead:
    """Logistic regression: p(class 1) = sigmoid(x @ coef + intercept) with coef (D,) (binary), or
    softmax(x @ coef.T + intercept) with coef (K, D), K > 2 (multinomial), as scikit-learn fits them."""

    kind = "linear"

    def __init__(self, coef: np.ndarray, intercept: np.ndarray):
        coef = np.asarray(coef, dtype=np.float64)
        self.coef = coef.reshape(-1) if coef.ndim == 1 or coef.shape[0] == 1 else coef
        self.intercept = np.asarray(intercept, dtype=np.float64).reshape(-1)

    @classmethod
    def from_sklearn(cls, estimator) -> "LinearHead":
        if estimator.coef_.shape[0] == 2:
            raise ModelError("LinearHead takes scikit-learn's parametrisation of a logistic regression: one row of "
                             "coefficients for two classes, or one per class for more; got 2 rows.")
        return cls(estimator.coef_, estimator.intercept_)

    def probs(self, x: np.ndarray) -> np.ndarray:
        raw = np.asarray(x, dtype=np.float64) @ np.atleast_2d(self.coef).T + self.intercept
        return _from_raw(raw)

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
    """A gradient-boosted tree ensemble as flat node arrays (all trees' nodes concatenated).

    A row goes left at a node when x[feature] <= threshold (a missing value goes where ``missing_left`` says).
    Binary: p(class 1) = sigmoid(baseline + sum of the leaf values it reaches). K > 2 classes: tree t adds to
    class ``tree_class[t]``'s score, starting from ``baseline[k]``, and a softmax of the K scores gives p.
    """

    kind = "trees"

    def network(self) -> None:
        """Trees have no torch network."""
        return None

    def __init__(self, feature: np.ndarray, threshold: np.ndarray, left: np.ndarray, right: np.ndarray,
                 missing_left: np.ndarray, is_leaf: np.ndarray, value: np.ndarray, roots: np.ndarray,
                 baseline: np.ndarray, tree_class: np.ndarray | None = None):
        self.feature, self.left, self.right, self.roots = (np.asarray(a, dtype=np.int64)
                                                           for a in (feature, left, right, roots))
        self.threshold, self.value = np.asarray(threshold, np.float64), np.asarray(value, np.float64)
        self.missing_left, self.is_leaf = np.asarray(missing_left, bool), np.asarray(is_leaf, bool)
        self.baseline = np.asarray(baseline, dtype=np.float64).reshape(-1)
        self.tree_class = (np.zeros(len(self.roots), np.int64) if tree_class is None
                           else np.asarray(tree_class, dtype=np.int64))

    @classmethod
    def from_sklearn(cls, hgb) -> "TreeHead":
        """From a fitted HistGradientBoostingClassifier trained on numeric (non-categorical) columns."""
        if getattr(hgb, "is_categorical_", None) is not None:
            raise ModelError("TreeHead takes a HistGradientBoostingClassifier on numeric columns (one-hot encode "
                             "categories first).")
        parts, roots, classes, offset = [], [], [], 0
        for predictors in hgb._predictors:
            for k, predictor in enumerate(predictors):
                nodes = predictor.nodes
                roots.append(offset)
                classes.append(k)
                parts.append((nodes["feature_idx"], nodes["num_threshold"], nodes["left"] + offset,
                              nodes["right"] + offset, nodes["missing_go_to_left"], nodes["is_leaf"],
                              nodes["value"]))
                offset += len(nodes)
        cols = [np.concatenate(c) for c in zip(*parts)]
        multi = hgb.n_trees_per_iteration_ > 1
        return cls(*cols, roots=np.array(roots), baseline=np.asarray(hgb._baseline_prediction).reshape(-1),
                   tree_class=np.array(classes) if multi else None)

    def probs(self, x: np.ndarray) -> np.ndarray:
        """Every (row, tree) path walked at once, one tree level per step; paths that reach a leaf add its value
        to their row and leave the working set, so each step only touches the paths still inside a tree."""
        x = np.asarray(x, dtype=np.float64)
        n, width = x.shape
        k = len(self.baseline)
        flat = x.ravel()
        row, node = np.repeat(np.arange(n), len(self.roots)), np.tile(self.roots, n)
        slot = row * k + np.tile(self.tree_class, n)  # (row, class) of each path's score
        total = np.zeros(n * k)
        while len(node):
            done = self.is_leaf[node]
            if done.any():
                total += np.bincount(slot[done], weights=self.value[node[done]], minlength=n * k)
                row, node, slot = row[~done], node[~done], slot[~done]
            xv = flat[row * width + self.feature[node]]
            go_left = (xv <= self.threshold[node]) | (np.isnan(xv) & self.missing_left[node])
            node = np.where(go_left, self.left[node], self.right[node])
        return _from_raw(self.baseline + total.reshape(n, k))

    def arrays(self) -> dict[str, np.ndarray]:
        out = {"feature": self.feature, "threshold": self.threshold, "left": self.left, "right": self.right,
               "missing_left": self.missing_left.astype(np.uint8), "is_leaf": self.is_leaf.astype(np.uint8),
               "value": self.value, "roots": self.roots, "baseline": self.baseline}
        return out if len(self.baseline) == 1 else {**out, "tree_class": self.tree_class}

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
        state = {"inputs": self.module[0].in_features, "hidden": self.module[0].out_features}
        classes = self.module[-1].out_features
        return state if classes == 2 else {**state, "classes": classes}

    @classmethod
    def restore(cls, arrays: dict[str, np.ndarray], state: dict[str, Any]) -> "MLPHead":
        with seeded(0):  # the initial weights are overwritten; this keeps the caller's generator untouched
            module = mlp(state["inputs"], state["hidden"], state.get("classes", 2))
        module.load_state_dict({k: torch.as_tensor(v) for k, v in arrays.items()})
        return cls(module)


HEADS: dict[str, type] = {h.kind: h for h in (LinearHead, TreeHead, MLPHead)}
