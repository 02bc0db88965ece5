"""Every label model on one label matrix, side by side, and the record of a weak-supervision run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from ..registry import LABEL_MODELS
from ..results import Result
from .base import WeakLabels, label
from .diagnostics import lf_summary
from .matrix import LabelMatrix, as_matrix


@dataclass
class Comparison(Result):
    """Label models fit on the same matrix. ``fits``: name -> WeakLabels; ``frame``: one row per model (dev
    accuracy when a dev set was given, accuracy against ground truth when given, covered fraction, fit
    seconds); ``chosen``: the lowest dev Brier score (else the best accuracy on ground truth, else ``default``);
    ``dev``: the (L_dev, y_dev) the models that learn from gold labels were given (None without one)."""

    fits: dict[str, WeakLabels]
    frame: pd.DataFrame
    chosen: str
    params: dict[str, Any] = field(default_factory=dict)
    dev: tuple[Any, np.ndarray] | None = field(default=None, repr=False)

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    def summary(self) -> dict[str, Any]:
        row = self.frame.set_index("label model").loc[self.chosen]
        return {"chosen": self.chosen, **{k: (float(v) if isinstance(v, (float, np.floating)) else v)
                                          for k, v in row.items()}}

    def refit(self, L: LabelMatrix | np.ndarray, *, abstain: str = "prior") -> WeakLabels:
        """The chosen label model fitted again on ``L`` as ``compare`` fitted it (the same seed; the dev set when
        it learns from one), with another ``abstain`` rule, e.g. "drop" to train only on covered rows."""
        extra = {"dev": self.dev} if self.chosen in self.params.get("dev_supervised", []) else {}
        return label(L, method=self.chosen, seed=self.params.get("seed", 0), abstain=abstain, **extra)


def learns_from_dev(method: str) -> bool:
    """Whether the label model ``method`` can take its parameters from a gold dev set (a ``dev=`` argument)."""
    return "dev" in LABEL_MODELS.get(method).info()["params"]


def cross_fitted_dev_probs(matrix: LabelMatrix, method: str, dev: tuple[Any, np.ndarray], *, folds: int = 5,
                           seed: int = 0) -> np.ndarray:
    """(n, K) probabilities for the dev rows (L_dev (n, M), y_dev (n,)) from a label model that learns from the
    dev set itself, each row predicted by a model given only the other folds' rows (so its dev scores are
    comparable with those of models that never see the dev labels)."""
    L_dev, y_dev = as_matrix(dev[0], matrix.n_classes).L, np.asarray(dev[1])
    order = np.random.default_rng(seed).permutation(len(y_dev))
    out = np.zeros((len(y_dev), matrix.n_classes))
    for held in np.array_split(order, min(folds, len(y_dev))):
        given = np.setdiff1d(order, held)
        fit = label(matrix, method=method, seed=seed, dev=(L_dev[given], y_dev[given]))
        out[held] = fit.model.predict_proba(L_dev[held])  # type: ignore[union-attr]
    return out


def brier(probs: np.ndarray, y: np.ndarray) -> float:
    """Mean Brier score of (n, K) probabilities against classes y (n,): sum over classes of the squared error,
    0 for certain and right, 2 for certain and wrong."""
    return float(np.mean(np.sum((probs - np.eye(probs.shape[1])[y]) ** 2, axis=1)))


def compare(L: LabelMatrix | np.ndarray, *, labels: Sequence[int] | None = None,
            dev: tuple[Any, Sequence[int]] | None = None, methods: Sequence[str] | None = None,
            default: str = "dawid_skene", seed: int = 0) -> Comparison:
    """Fit every label model (or ``methods``) on ``L`` with abstain="prior" and score each.

    labels: ground truth for L's rows (-1 unknown), used only to score. dev: (L_dev, y_dev), a small gold
    set labelled by the same LFs: each fitted model labels it (``predict_proba``) and the one with the lowest
    Brier score is chosen (a proper score of the probabilities an end model trains on; on a few hundred rows
    less noisy than accuracy, which is reported too). A model that can learn from gold labels (weighted_majority:
    its LF weights; stacked) is given the dev set, and its dev scores are cross-fitted (5 folds: each dev row
    scored by a model fitted on the other folds). Without a dev set, the best accuracy against ``labels``.
    """
    matrix = as_matrix(L)
    names = list(methods) if methods is not None else LABEL_MODELS.names()
    y = None if labels is None else np.asarray(labels)
    dev_supervised = [n for n in names if dev is not None and learns_from_dev(n)]
    rows, fits = [], {}
    for name in names:
        fit = label(matrix, method=name, seed=seed, **({"dev": dev} if name in dev_supervised else {}))
        fits[name] = fit
        row: dict[str, Any] = {"label model": name}
        if dev is not None:
            y_dev = np.asarray(dev[1])
            probs = (cross_fitted_dev_probs(matrix, name, dev, seed=seed) if name in dev_supervised
                     else fit.model.predict_proba(dev[0]))  # type: ignore[union-attr]
            row["dev accuracy"] = float(np.mean(probs.argmax(1) == y_dev))
            row["dev brier"] = brier(probs, y_dev)
        if y is not None:
            known = y >= 0
            covered = fit.covered & known
            row["accuracy"] = float(np.mean(fit.probs[known].argmax(1) == y[known]))
            row["accuracy (covered rows)"] = float(np.mean(fit.probs[covered].argmax(1) == y[covered]))
        row["covered"] = float(fit.covered.mean())
        row["fit seconds"] = float(fit.params["seconds"])
        rows.append(row)
    frame = pd.DataFrame(rows)
    key = "dev brier" if dev is not None else "accuracy" if y is not None else None
    if key is None and default not in fits:
        raise InputError(f"default={default!r} is not among the compared label models {names}.")
    chosen = default if key is None else frame.sort_values([key, "label model"], ascending=[key == "dev brier", True]
                                                           ).iloc[0]["label model"]
    params = {"methods": names, "seed": seed, "chosen_by": key or "default", "dev_supervised": dev_supervised}
    return Comparison(fits, frame, str(chosen), params, None if dev is None else (dev[0], np.asarray(dev[1])))


@dataclass
class WeakReport(Result):
    """A weak-supervision run: the LF table, the label models compared, the end models trained on the
    chosen model's labels beside gold-trained ones, and the explanation-derived keywords.

    ``lfs``: lf_summary columns (accuracy measured against held-back gold after the fact, dev_accuracy on the
    dev set, learned_accuracy from the chosen model). ``label_models``: ``Comparison.frame``. ``end_models``:
    recipe, trained on, test accuracy, test auc. ``keywords``: class -> the explained LF's words.
    """

    lfs: pd.DataFrame
    label_models: pd.DataFrame
    chosen: str
    end_models: pd.DataFrame
    keywords: dict[str, list[str]]
    params: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        return self.lfs.copy()

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"lfs": len(self.lfs), "label_model": self.chosen}
        chosen = self.label_models.set_index("label model").loc[self.chosen]
        if "accuracy" in chosen:
            out["label_accuracy"] = float(chosen["accuracy"])
        out["covered"] = float(chosen["covered"])
        for recipe, part in self.end_models.groupby("recipe", sort=False):
            gold = part[part["trained on"] == "gold labels"]["test accuracy"]
            weak = part[part["trained on"] != "gold labels"]["test accuracy"]
            if len(gold) and len(weak):
                out[f"{recipe} weak - gold"] = float(weak.iloc[0] - gold.iloc[0])
        return out

    def headline(self) -> list[str]:
        """The figures a report opens with, as sentences."""
        s = self.summary()
        lines = [f"{s['lfs']} labeling functions cover {s['covered']:.1%} of the training rows; the label model "
                 f"chosen on the dev set is {self.chosen}"
                 + (f", {s['label_accuracy']:.1%} accurate against the held-back gold labels." if "label_accuracy"
                    in s else ".")]
        for recipe, part in self.end_models.groupby("recipe", sort=False):
            acc = dict(zip(part["trained on"], part["test accuracy"]))
            gold = acc.pop("gold labels", None)
            for source, value in acc.items():
                lines.append(f"{recipe} trained on {source}: test accuracy {value:.3f}"
                             + (f" ({100 * (value - gold):+.1f} points against gold labels, {gold:.3f})"
                                if gold is not None else "."))
        return lines


def lf_table(L: LabelMatrix, weak: WeakLabels | None = None, labels: Sequence[int] | None = None,
             dev: tuple[LabelMatrix, Sequence[int]] | None = None) -> pd.DataFrame:
    """lf_summary of ``L`` plus the dev-set accuracy of each LF (column dev_accuracy) when ``dev`` is given."""
    table = lf_summary(L, labels=labels, weak=weak)
    if dev is not None:
        table["dev_accuracy"] = lf_summary(dev[0], labels=dev[1])["accuracy"].to_numpy()
    return table
