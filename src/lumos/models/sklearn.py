"""Adapter for scikit-learn estimators with ``predict_proba``: tables, and text pipelines (TF-IDF + LR)."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression

from ..errors import InputError, ModelError
from ..features.text import Granularity, TextDoc, word_doc
from .base import Model, pickle_hash
from .linear import linear_network


def _is_text_pipeline(estimator) -> bool:
    first = estimator.steps[0][1] if hasattr(estimator, "steps") else estimator
    return hasattr(first, "build_analyzer")  # CountVectorizer, TfidfVectorizer, HashingVectorizer


class SklearnModel(Model):
    def __init__(self, estimator, labels: Sequence[str] | None = None, batch_size: int | str = 4096):
        if not hasattr(estimator, "predict_proba"):
            raise ModelError(f"{type(estimator).__name__} has no predict_proba; lumos explains probabilities. "
                             "Use a classifier with predict_proba, or CalibratedClassifierCV around it.")
        if labels is None and hasattr(estimator, "classes_"):
            labels = [str(c) for c in estimator.classes_]
        super().__init__(labels, batch_size)
        self.estimator = estimator
        self.modalities = ("text",) if _is_text_pipeline(estimator) else ("tabular",)
        self.columns = list(getattr(estimator, "feature_names_in_", [])) or None
        if self.modalities == ("tabular",) and isinstance(estimator, LogisticRegression) or \
                self.modalities == ("text",) and isinstance(getattr(estimator, "steps", [[None, None]])[-1][1],
                                                            LogisticRegression):
            self.capabilities = frozenset({"network"})

    def _linear(self) -> LogisticRegression:
        if "network" not in self.capabilities:
            raise self._lacks("network")
        return self.estimator.steps[-1][1] if self.modalities == ("text",) else self.estimator

    @property
    def network(self):
        """A fitted logistic regression (on tables, or the last step of a text pipeline such as TF-IDF + logistic
        regression) as a torch network with its own parametrisation."""
        lr = self._linear()
        return linear_network(lr.coef_, lr.intercept_)

    def network_inputs(self, inputs: object):
        """Tables: the rows; text: the pipeline's features before the logistic regression (dense (N, V))."""
        import torch

        self._linear()
        if self.modalities == ("text",):
            texts = list(inputs) if not isinstance(inputs, str) else [inputs]
            x = self.estimator[:-1].transform(texts)
            return torch.as_tensor(x.toarray() if hasattr(x, "toarray") else np.asarray(x), dtype=torch.float64)
        return torch.as_tensor(np.asarray(self.prepare(inputs).x, dtype=np.float64))

    def weights_hash(self) -> str:
        return pickle_hash(self.estimator)

    def _text_docs(self, texts: list[str], granularity: Granularity) -> list[TextDoc]:
        return [word_doc(t) for t in texts]

    def _check_array(self, x: np.ndarray, modality: str) -> None:
        n = getattr(self.estimator, "n_features_in_", None)
        if n is not None and x.shape[1] != n:
            raise InputError(f"the estimator was fit on {n} features; got rows with {x.shape[1]}.")

    def _probs(self, rows) -> np.ndarray:
        if isinstance(rows, np.ndarray) and self.columns is not None:
            import pandas as pd

            rows = pd.DataFrame(rows, columns=self.columns)
        try:
            return self.estimator.predict_proba(rows if isinstance(rows, np.ndarray) or hasattr(rows, "columns")
                                                else list(rows))
        except Exception as e:  # noqa: BLE001 - the estimator's own error, named, its traceback kept
            raise ModelError(f"{type(self.estimator).__name__}.predict_proba raised {type(e).__name__}: "
                             f"{str(e).splitlines()[0] if str(e) else ''}") from e
