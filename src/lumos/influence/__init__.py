"""lumos.influence: which training examples made the model predict this.

    result = lumos.influence.explain(model, (x_train, y_train), (x_test, y_test), method="exact",
                                     layers="last_layer")
    result.scores             # (n_test, n_train): predicted change of each test loss if a training example is removed
    result.proponents(0)      # the training examples that helped test example 0 most, with their inputs
    result.self_influence     # (n_train,): high for atypical or mislabelled examples

Methods: exact, lissa, arnoldi, ekfac, tracin, grad_dot, grad_cos (``methods()``). ``lds`` measures any of them
against retraining.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .. import registry
from ..deprecation import callable_module, warn
from ..models import wrap
from ..models.torch_module import eval_mode
from .checkpoints import train_with_checkpoints
from .data import network_of, problem_at, setup
from .lds import LDSResult, lds, random_subsets
from .result import Example, Influence
from .selection import ParamSpec

__all__ = ["explain", "methods", "Influence", "Example", "lds", "LDSResult", "random_subsets",
           "train_with_checkpoints"]


def methods() -> list[str]:
    """Names of the influence methods (``lumos.catalog("influence")`` describes them)."""
    return registry.names("influence")


def explain(model: Any, train: tuple[Any, Any], test: tuple[Any, Any], method: str = "exact",
            layers: ParamSpec = "last_layer", damping: float = 1e-3, batch_size: int | None = None,
            self_influence: bool = True, seed: int = 0, **params: Any) -> Influence:
    """Influence of every training example on every test example's loss.

    model: anything ``lumos.wrap`` takes with a torch network (nn.Module, (HF model, tokenizer), a zoo MLP), or a
    fitted logistic regression (scikit-learn LogisticRegression on tables, the zoo's logreg).
    train, test: (inputs, labels); labels are class indices or label names (test labels None: the model's own
    predictions). layers: the parameters differentiated: "last_layer", a list of module names, or "all" (text
    models: Linear modules; ekfac on the output layer only). damping: added to the Hessian's
    diagonal (use the L2 strength the model was trained with). batch_size: rows per per-example-gradient batch
    (default: about 16M gradient values). params: the method's own hyper-parameters (``lissa``: depth, repeats,
    hessian_batch, scale; ``arnoldi``: rank, hessian_samples; ``exact``: max_params; ``tracin``: checkpoints,
    learning_rates; default: the checkpoints a zoo model recorded while training, else its current weights).
    """
    if "params" in params:  # the old name of ``layers``
        warn("lumos.influence(..., params=...)", "layers=...")
        layers = params.pop("params")
    cls = registry.get(method, "influence")
    algo = cls.create(damping=damping, seed=seed, **params)
    model = wrap(model)
    network = network_of(model)
    with eval_mode(network):
        task = setup(model, network, train, test, layers, batch_size)
        if cls.uses_checkpoints:
            algo = with_recorded_checkpoints(algo, model)
            states = list(algo.checkpoints) or [None]  # type: ignore[attr-defined]
            problems = (problem_at(task, state) for state in states)
            scores, own = algo.run_all(problems, self_influence)  # type: ignore[attr-defined]
        else:
            scores, own = algo.run(problem_at(task), self_influence)
    resolved = {f.name: getattr(algo, f.name) for f in dataclasses.fields(algo) if f.name != "checkpoints"}
    resolved.update(layers=layers, batch_size=batch_size or "auto")
    if cls.uses_checkpoints:
        resolved["n_checkpoints"] = len(algo.checkpoints)  # type: ignore[attr-defined]
    return Influence(scores, own, method, resolved, task.parameter_names, train[0], train[1])


def with_recorded_checkpoints(algo: Any, model: Any) -> Any:
    """TracIn without checkpoints of its own takes those the model recorded while training (zoo models)."""
    recorded = getattr(model, "training_checkpoints", None)
    if algo.checkpoints or recorded is None:
        return algo
    rates = recorded.learning_rates if algo.learning_rates is None else algo.learning_rates
    return dataclasses.replace(algo, checkpoints=tuple(recorded.states), learning_rates=tuple(rates))


# ``lumos.influence(...)`` was this package's ``explain`` before it became a namespace (one release)
callable_module(__name__, explain, "lumos.influence(...)", "lumos.influence.explain(...)")
