"""A lumos Model on raw table rows: the user's own columns go in, the encoding happens inside, so attributions
and counterfactuals speak in those columns rather than in one-hot ones."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from ..models.base import Batch, Model
from .preprocess import TablePreprocessor
from .tables import TableSchema


class TableModel(Model):
    """rows: a DataFrame with the schema's columns (any order, extra columns such as ``label`` dropped) or an
    (N, F) array in ``schema.features`` order -> (N, 2) probabilities. Perturbation methods only: one-hot
    categories have no gradient in the user's columns."""

    modalities = ("tabular",)

    def __init__(self, schema: TableSchema, preprocessor: TablePreprocessor, head: Any,
                 labels: Sequence[str], batch_size: int | str = 4096):
        super().__init__(labels, batch_size)
        self.schema, self.preprocessor, self.head = schema, preprocessor, head
        if head.network() is not None:
            self.capabilities = frozenset({"network"})

    @property
    def network(self):
        """The head's torch network on the encoded columns (MLP, or the logistic regression as one)."""
        module = self.head.network()
        if module is None:
            raise self._lacks("network")
        return module

    def network_inputs(self, inputs: object):
        """Raw rows -> the encoded (N, D) float64 tensor the head's network takes."""
        import torch

        batch = self.prepare(inputs)
        x = self.preprocessor.transform(pd.DataFrame(batch.x, columns=batch.feature_names))
        return torch.as_tensor(np.asarray(x, dtype=np.float64))

    def prepare(self, inputs: object, granularity: str = "word") -> Batch:
        if isinstance(inputs, pd.DataFrame):
            missing = [f for f in self.schema.features if f not in inputs.columns]
            if missing:
                raise InputError(f"the rows lack the model's columns {missing}; got columns {list(inputs.columns)}. "
                                 f"Pass a DataFrame with {list(self.schema.features)}.")
            inputs = inputs[list(self.schema.features)]
        batch = super().prepare(inputs, granularity)  # type: ignore[arg-type]
        return Batch(batch.modality, x=batch.x, feature_names=list(self.schema.features))

    def _check_array(self, x: np.ndarray, modality: str) -> None:
        if x.shape[1] != len(self.schema.features):
            raise InputError(f"the model takes {len(self.schema.features)} columns {list(self.schema.features)}; "
                             f"got rows with {x.shape[1]}. Pass a DataFrame with those columns.")

    def _probs(self, rows: np.ndarray) -> np.ndarray:
        return self.head.probs(self.preprocessor.transform_rows(np.asarray(rows, dtype=object),
                                                                list(self.schema.features)))
