"""Live work on one example with a loaded model: its prediction and explanations, each scored for
faithfulness; counterfactuals of a table row; a budgeted attack on a text and how its explanation moved; a
language model's "why?" with the words it cites; the training examples that helped or hurt it most.

Every function takes a ``LiveModel`` (a model with its data) and one example, and returns plain records the
templates draw; the drawing itself is the report's (``report.render.explanation_view``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd
from markupsafe import Markup

from .. import registry
from ..api import explain
from ..bench.data import BACKGROUND_ROWS, from_frame
from ..comparison import pair_scores
from ..errors import InputError, UnsupportedError
from ..evaluation import evaluate
from ..models import Model, wrap
from ..report.render import explanation_view
from ..viz import text_view
from .inputs import batch_of

# faithfulness of each explanation, per modality: (metric, parameters)
FAITHFULNESS = {"text": (("comprehensiveness", {}), ("sufficiency", {})),
                "tabular": (("comprehensiveness", {}), ("sufficiency", {})),
                "image": (("deletion_auc", {"steps": 10}), ("insertion_auc", {"steps": 10}))}
# budgets for interactive use (the bench's defaults are for runs, not for a person waiting)
INTERACTIVE = {"lime": {"n_samples": 200}, "kernel_shap": {"n_samples": 200}, "integrated_gradients": {"steps": 16},
               "smoothgrad": {"n_samples": 8}, "gradient_shap": {"n_samples": 8}}
IMAGE_INTERACTIVE = {"occlusion": {"window": 16, "stride": 16}, "lime": {"n_samples": 100},
                     "kernel_shap": {"n_samples": 100}}
NOT_LIVE = {"exact_shapley"}  # exponential in the number of features


@dataclass
class LiveModel:
    """A model loaded for live work: ``splits`` its data (``train`` for counterfactuals, influence and table
    backgrounds)."""

    name: str
    model: Model
    splits: dict[str, pd.DataFrame]
    modality: str

    @property
    def train(self) -> pd.DataFrame | None:
        return self.splits.get("train")

    @property
    def features(self) -> list[str] | None:
        """Table models: the columns in the model's order (stored rows keep them in another order)."""
        if self.modality != "tabular":
            return None
        frame = next(f for f in self.splits.values() if len(f))
        return [str(c) for c in frame.columns if c not in ("label", "id", "rationale")]

    def batch(self, value: Any) -> Any:
        """One example as the model takes it (a table row's cells put in the model's column order)."""
        if self.modality == "tabular":
            missing = [c for c in self.features if c not in value]
            if missing:
                raise InputError(f"the row lacks the model's column(s) {', '.join(missing[:5])}; it has "
                                 f"{', '.join(list(value)[:8])}.")
            return pd.DataFrame([{c: value[c] for c in self.features}])
        return batch_of(self.modality, value)

    @property
    def background(self) -> pd.DataFrame | None:
        """Table models: training rows that stand in for removed columns."""
        if self.modality != "tabular" or self.train is None or not len(self.train):
            return None
        features = self.train.drop(columns=[c for c in ("label", "id") if c in self.train])
        return features.sample(min(BACKGROUND_ROWS, len(features)), random_state=0)

    def methods(self) -> list[str]:
        """The explanation methods that apply to this model, cheapest kinds first."""
        names = [n for n in registry.EXPLAINERS.select(self.modality, self.model) if n not in NOT_LIVE]
        return sorted(names, key=lambda n: (n not in ("occlusion", "saliency", "integrated_gradients"), n))

    def default_methods(self) -> list[str]:
        names = self.methods()
        second = "integrated_gradients" if "integrated_gradients" in names else "lime" if "lime" in names else None
        return [n for n in ("occlusion", second) if n in names]


def live_model(name: str, model: Any, splits: dict[str, pd.DataFrame]) -> LiveModel:
    """Wrap what a loader returned; the modality comes from the data."""
    frame = next((f for f in splits.values() if len(f)), None)
    if frame is None:
        raise InputError(f"{name} came with no data; a loader must return (model, {{'test': DataFrame, ...}}).")
    modality = "text" if "text" in frame else "image" if "image" in frame else "tabular"
    return LiveModel(name, wrap(model), splits, modality)


@dataclass
class Score:
    metric: str
    value: float
    higher_is_better: bool
    summary: str
    family: str = "faithfulness"


@dataclass
class Card:
    """One explanation as shown: its method, drawing, faithfulness scores, cost; ``degenerate`` when its map is
    all zero, constant or not finite (it ranks nothing, so its scores say nothing)."""

    method: str
    html: Markup
    scores: list[Score]
    seconds: float = 0.0
    rows: int = 0
    note: str = ""
    degenerate: bool = False


@dataclass
class Prediction:
    labels: list[str]
    probs: list[float]
    target: int

    @property
    def predicted(self) -> int:
        return int(np.argmax(self.probs))

    def rows(self, k: int = 5) -> list[tuple[int, str, float]]:
        """(class, name, probability) of the ``k`` likeliest classes, and of the explained one."""
        order = [int(i) for i in np.argsort(-np.asarray(self.probs), kind="stable")[:k]]
        if self.target not in order:
            order.append(self.target)
        return [(i, self.labels[i] if i < len(self.labels) else str(i), self.probs[i]) for i in order]


@dataclass
class Explained:
    prediction: Prediction
    cards: list[Card]
    seconds: float
    errors: list[str] = field(default_factory=list)


def _params(live: LiveModel, method: str) -> dict[str, Any]:
    params = dict((IMAGE_INTERACTIVE if live.modality == "image" else INTERACTIVE).get(method, {}))
    cls = registry.get(method, "explainer")
    if live.background is not None and "background" in cls.param_names():
        params["background"] = live.background
    return params


def _metric_specs(live: LiveModel) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for name, params in FAITHFULNESS[live.modality]:
        params = dict(params)
        if live.background is not None and "background" in registry.get(name, "metric").param_names():
            params["background"] = live.background
        out.append((name, params))
    return out


def scores_of(live: LiveModel, batch: Any, explanations: Any, cache: dict, specs=None) -> list[Score]:
    """Faithfulness scores of a batch of one explanation (``specs``: (metric, params) pairs)."""
    specs = specs or _metric_specs(live)
    result = evaluate(live.model, batch, explanations, metrics=specs, cache=cache)
    return [Score(name, float(result[name][0]), result.info[name]["higher_is_better"], result.info[name]["summary"])
            for name, _ in specs]


def predict(live: LiveModel, value: Any, target: int | None = None) -> Prediction:
    probs = live.model.predict_proba(live.batch(value))[0]
    labels = list(live.model.labels or [str(k) for k in range(len(probs))])
    return Prediction(labels, [float(p) for p in probs], int(np.argmax(probs)) if target is None else int(target))


def check_target(live: LiveModel, target: int | None, n_classes: int) -> int | None:
    if target is not None and not 0 <= target < n_classes:
        raise InputError(f"class {target} does not exist: the model has {n_classes} classes (0 to {n_classes - 1}).")
    return target


def explain_example(live: LiveModel, value: Any, methods: Sequence[str], target: int | None = None,
                    seed: int = 0) -> Explained:
    """The prediction on ``value`` and one card per method (explaining ``target``, default the predicted
    class), each with its own faithfulness scores; a method that fails leaves a message, not a crash."""
    t0 = time.perf_counter()
    allowed = live.methods()
    unknown = [m for m in methods if m not in allowed]
    if unknown:
        raise InputError(f"{', '.join(unknown)} cannot explain {live.name}; methods that can: {', '.join(allowed)}.")
    prediction = predict(live, value)
    target = check_target(live, target, len(prediction.probs))
    prediction.target = prediction.predicted if target is None else target
    batch = live.batch(value)
    cards, errors, cache = [], [], {}
    for method in methods:
        start, rows = time.perf_counter(), live.model.counts.rows
        try:
            expl = explain(live.model, batch, method=method, target=prediction.target, seed=seed,
                           **_params(live, method))
            e = expl[0]
            scores = scores_of(live, batch, expl, cache)
        except (InputError, UnsupportedError) as err:
            errors.append(f"{method}: {err}")
            continue
        cards.append(Card(method, explanation_view(live.modality, value, e.features, e.attributions, method, e.extras,
                                                   degenerate=e.degenerate),
                          scores, time.perf_counter() - start, live.model.counts.rows - rows, degenerate=e.degenerate))
    return Explained(prediction, cards, time.perf_counter() - t0, errors)


# ----- what would flip it ---------------------------------------------------------------------------------
def counterfactuals(live: LiveModel, row: dict[str, Any], explainers: dict, n: int = 3, method: str = "genetic",
                    seed: int = 0) -> Any:
    """Counterfactuals for a table row as a ``CounterfactualSet`` (``explainers`` caches the set-up per model)."""
    from ..counterfactuals import CounterfactualExplainer

    if live.modality != "tabular":
        raise UnsupportedError(f"counterfactuals change table cells; {live.name} is a {live.modality} model.")
    if live.train is None or not len(live.train):
        raise UnsupportedError(f"{live.name} came without training rows, which counterfactuals need for ranges.")
    if method not in registry.names("counterfactual"):
        raise InputError(f"unknown counterfactual method {method!r}; use {', '.join(registry.names('counterfactual'))}.")
    if live.name not in explainers:
        explainers[live.name] = CounterfactualExplainer(live.model, live.train)
    return explainers[live.name].explain(live.batch(row), n=n, method=method, seed=seed, budget=2000)


# ----- one column at a time ---------------------------------------------------------------------------------
@dataclass
class Dependence:
    """How the prediction on one row changes as one column takes other values (an ICE curve; LIT calls it a
    partial dependence plot of one point). ``probs``: (V, K) for ``values``."""

    column: str
    values: list[Any]
    probs: np.ndarray
    labels: list[str]
    current: Any
    numeric: bool


def dependence(live: LiveModel, row: dict[str, Any], column: str, points: int = 12) -> Dependence:
    """The model's probabilities on ``row`` with ``column`` set to ``points`` values across the training
    range (numbers) or to each of its training values (categories, at most 30): one batch."""
    if live.modality != "tabular" or live.features is None:
        raise UnsupportedError(f"dependence on a column applies to table models; {live.name} is a {live.modality} "
                               "model.")
    if column not in live.features:
        raise InputError(f"{live.name} has no column {column[:60]!r}; its columns: {', '.join(live.features)}.")
    if live.train is None or not len(live.train):
        raise UnsupportedError(f"{live.name} came without training rows, which give the column's range.")
    seen = live.train[column].dropna()
    numeric = pd.api.types.is_numeric_dtype(seen) and not pd.api.types.is_bool_dtype(seen)
    if numeric:
        values = np.linspace(float(seen.min()), float(seen.max()), points)
        values = [int(round(v)) for v in values] if pd.api.types.is_integer_dtype(seen) else [float(v) for v in values]
        values = list(dict.fromkeys(values))
    else:
        values = [v for v in seen.value_counts().index[:30]]
    probs = live.model.predict_proba(pd.DataFrame([{**row, column: v} for v in values])[live.features])
    labels = list(live.model.labels or [str(k) for k in range(probs.shape[1])])
    return Dependence(column, values, probs, labels, row.get(column), numeric)


# ----- attacks --------------------------------------------------------------------------------------------
def attack_methods(live: LiveModel) -> list[str]:
    """Text attacks that can run on this model (textfooler and hotflip take words from input embeddings)."""
    if live.modality != "text":
        return []
    names = [n for n in registry.names("attack") if registry.ATTACKS.get(n).applies_to(live.model, "text")]
    return [n for n in names if n not in ("textfooler", "hotflip") or live.model.can("token_embeddings")]


@dataclass
class Attacked:
    status: str
    original: Markup
    perturbed: Markup
    before: Prediction
    after: Prediction
    queries: int
    budget: int
    words_changed: int
    method: str
    explainer: str
    agreement: float | None
    seconds: float


def attack_text(live: LiveModel, text: str, method: str, budget: int, explainer: str = "occlusion",
                seed: int = 0) -> Attacked:
    """A budgeted attack on one text, and the explanation of the original's class before and after it."""
    from ..robustness import attack

    allowed = attack_methods(live)
    if method not in allowed:
        raise InputError(f"{method!r} cannot attack {live.name}; attacks that can: {', '.join(allowed) or 'none'}.")
    if not 1 <= budget <= 5000:
        raise InputError(f"the budget is model rows per sentence, from 1 to 5000; got {budget}.")
    t0 = time.perf_counter()
    result = attack(live.model, [text], method=method, budget=budget, seed=seed)
    ex = result.examples[0]
    before, after = predict(live, ex.original), predict(live, ex.perturbed)
    target = before.predicted
    a = explain(live.model, [ex.original], method=explainer, target=target, seed=seed, **_params(live, explainer))[0]
    b = explain(live.model, [ex.perturbed], method=explainer, target=target, seed=seed, **_params(live, explainer))[0]
    scale = float(max(np.abs(a.attributions).max(initial=0.0), np.abs(b.attributions).max(initial=0.0))) or 1.0
    agreement = None
    if len(a.attributions) == len(b.attributions) and len(a.attributions) > 1:
        rho = pair_scores(a.feature_scores(), b.feature_scores(), 5, False)["spearman"]
        agreement = None if not np.isfinite(rho) else float(rho)
    return Attacked(ex.status, Markup(text_view(a.features, a.attributions, scale=scale)),
                    Markup(text_view(b.features, b.attributions, scale=scale)), before, after, ex.queries, budget,
                    ex.words_changed, method, explainer, agreement, time.perf_counter() - t0)


# ----- a language model's "why?" ------------------------------------------------------------------------
def why(live: LiveModel, text: str, generator: Any, target: int | None = None, max_new_tokens: int = 60) -> Card:
    """A natural-language explanation of the prediction, its cited words shaded, and how faithful those words
    are: removing them (comprehensiveness) and keeping only them (sufficiency)."""
    from ..nle import explain as nle_explain

    if live.modality != "text":
        raise UnsupportedError(f"a language model explains text predictions; {live.name} is a {live.modality} model.")
    t0, rows = time.perf_counter(), live.model.counts.rows
    expl = nle_explain(live.model, [text], generator=generator, method="free", target=target,
                       max_new_tokens=max_new_tokens)
    e = expl[0]
    cited = [("comprehensiveness", {"rule": "threshold", "value": 0.5}), ("sufficiency", {"rule": "threshold",
                                                                                        "value": 0.5})]
    scores = scores_of(live, [text], expl, {}, cited) if e.attributions.any() else []
    note = (f"{e.extras.get('generator')} cites {', '.join(e.extras.get('cited', [])) or 'no word of the input'}"
            + (f"; flags: {', '.join(e.extras['flags'])}" if e.extras.get("flags") else ""))
    return Card("why? (" + str(e.extras.get("generator")) + ")",
                explanation_view("text", text, e.features, e.attributions, e.method, e.extras), scores,
                time.perf_counter() - t0, live.model.counts.rows - rows, note)


# ----- training data --------------------------------------------------------------------------------------
@dataclass
class Helper:
    index: int
    score: float
    value: Any
    label: str


@dataclass
class TrainingExamples:
    helpful: list[Helper]
    harmful: list[Helper]
    method: str
    n_train: int
    seconds: float


def supports_influence(live: LiveModel) -> bool:
    return live.model.can("network") and live.train is not None and len(live.train) > 0


def training_examples(live: LiveModel, value: Any, label: int | None, rows: int, k: int = 5,
                      method: str = "exact") -> TrainingExamples:
    """The ``k`` training examples (of the first ``rows``) whose removal would raise this example's loss most
    (helpful) and lower it most (harmful), by influence functions on the output layer."""
    from .. import influence

    if not supports_influence(live):
        raise UnsupportedError(f"{live.name} has no influence support: it needs a torch network (or a logistic "
                               "regression) and its training data; zoo MLPs, logregs, CNNs and MiniLM have both.")
    t0 = time.perf_counter()
    train = from_frame(live.model, live.train.iloc[:rows].reset_index(drop=True))
    if train.labels is None:
        raise UnsupportedError(f"{live.name}'s training rows have no labels, which influence needs.")
    target = [int(np.argmax(live.model.predict_proba(live.batch(value))[0]))] if label is None else [label]
    result = influence.explain(live.model, (train.inputs, train.labels), (live.batch(value), target),
                               method=method, layers="last_layer", self_influence=False)
    names = list(live.model.labels or [])

    def helpers(found: list) -> list[Helper]:
        return [Helper(e.index, e.score, _shown(e.input), names[int(e.label)] if names and str(e.label).isdigit()
                       else str(e.label)) for e in found]

    return TrainingExamples(helpers(result.proponents(0, k)), helpers(result.opponents(0, k)), method,
                            len(train.labels), time.perf_counter() - t0)


def _shown(value: Any) -> Any:
    """A training input as the template shows it: text, a dict of cells, or an (C, H, W) array."""
    if isinstance(value, pd.Series):
        return {str(k): v for k, v in value.items()}
    return value
