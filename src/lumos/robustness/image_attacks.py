"""FGSM and PGD (L-inf and L2) on image classifiers, batched in torch, over a list of budgets epsilon: accuracy
under attack per epsilon, the attacked images, and how far the explanations moved (rank correlation of the
attribution maps before and after)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Sequence

import numpy as np
import pandas as pd
import torch

from ..comparison import pair_scores
from ..errors import InputError, UnsupportedError
from ..models import Model, wrap
from ..results import Result

Norm = Literal["linf", "l2"]


@dataclass
class EpsilonResult:
    """One budget: ``accuracy`` under attack, ``success_rate`` among the images the model got right,
    ``mean_distance`` (in the attack's norm), ``rank_correlation`` (Spearman, per explained image, of the
    |attribution| maps on the clean and attacked image), ``adversarial``: the first attacked images."""

    epsilon: float
    accuracy: float
    success_rate: float
    mean_distance: float
    rank_correlation: list[float] = field(default_factory=list)
    adversarial: np.ndarray | None = None
    predictions: list[int] = field(default_factory=list)


@dataclass
class ImageAttackResult(Result):
    method: str
    norm: Norm
    clean_accuracy: float
    per_epsilon: list[EpsilonResult]
    forward_rows: int
    params: dict

    def to_frame(self) -> pd.DataFrame:
        """One row per epsilon: accuracy, success rate, mean distance, explanation rank correlation."""
        return pd.DataFrame(self.rows())

    def summary(self) -> dict:
        """Clean accuracy and the accuracy at the largest epsilon."""
        last = self.per_epsilon[-1]
        return {"method": self.method, "norm": self.norm, "clean_accuracy": self.clean_accuracy,
                "epsilon": last.epsilon, "accuracy": last.accuracy, "forward_rows": self.forward_rows}

    def rows(self) -> list[dict]:
        return [{"epsilon": r.epsilon, "accuracy": r.accuracy, "success_rate": r.success_rate,
                 "mean_distance": r.mean_distance,
                 "explanation_rank_correlation": float(np.mean(r.rank_correlation)) if r.rank_correlation
                 else float("nan")} for r in self.per_epsilon]


def _norms(d: torch.Tensor, norm: Norm) -> torch.Tensor:
    flat = d.reshape(len(d), -1)
    return flat.abs().max(1).values if norm == "linf" else flat.norm(dim=1)


def _step(g: torch.Tensor, norm: Norm) -> torch.Tensor:
    """The steepest-ascent direction of unit size in ``norm``."""
    if norm == "linf":
        return g.sign()
    return g / g.reshape(len(g), -1).norm(dim=1).clamp_min(1e-12).view(-1, *[1] * (g.ndim - 1))


def _project(d: torch.Tensor, eps: float, norm: Norm) -> torch.Tensor:
    if norm == "linf":
        return d.clamp(-eps, eps)
    n = d.reshape(len(d), -1).norm(dim=1).clamp_min(1e-12)
    return d * (eps / n).clamp(max=1.0).view(-1, *[1] * (d.ndim - 1))


def perturb(model: Model, x: torch.Tensor, y: torch.Tensor, eps: float, method: str, norm: Norm, steps: int,
            step_size: float | None, bounds: tuple[float, float], generator: torch.Generator) -> torch.Tensor:
    """(B, C, H, W) clean images -> attacked ones within ``eps`` of them (cross-entropy ascent on ``y``).
    Every forward row is counted in ``model.counts``; only the input gets a gradient."""
    lo, hi = bounds

    def grad(z: torch.Tensor) -> torch.Tensor:
        z = z.detach().requires_grad_(True)
        with torch.enable_grad():
            loss = torch.nn.functional.cross_entropy(model.logits(z), y, reduction="sum")
            (g,) = torch.autograd.grad(loss, z)
        model.counts.rows += len(z)
        model.counts.forwards += 1
        return g

    if eps == 0:
        return x.clone()
    if method == "fgsm":
        return (x + eps * _step(grad(x), norm)).clamp(lo, hi).detach()
    alpha = step_size if step_size is not None else 2.5 * eps / steps
    if norm == "linf":
        start = (torch.rand(x.shape, generator=generator) * 2 - 1).to(x) * eps
    else:
        radius = eps * float(torch.rand(1, generator=generator))
        start = _project(torch.randn(x.shape, generator=generator).to(x), radius, norm)
    z = (x + start).clamp(lo, hi)
    for _ in range(steps):
        z = z + alpha * _step(grad(z), norm)
        z = (x + _project(z - x, eps, norm)).clamp(lo, hi).detach()
    return z


def image_attack(model: Any, images: Any, labels: Sequence[int], method: str = "pgd",
                 epsilons: Sequence[float] = (0.0, 0.05, 0.1, 0.2), norm: Norm = "linf", steps: int = 10,
                 step_size: float | None = None, bounds: tuple[float, float] = (0.0, 1.0), seed: int = 0,
                 explain_method: str | None = "saliency", n_explained: int = 4, keep: int = 8,
                 batch_size: int = 128) -> ImageAttackResult:
    """Attack ``images`` (B, C, H, W) with true ``labels`` at every epsilon. ``method``: "fgsm" (one step)
    or "pgd" (``steps`` projected steps from a random start, step 2.5 eps / steps unless ``step_size``).
    ``explain_method``: a lumos method compared on the first ``n_explained`` images before and after (None:
    skip). ``keep``: attacked images returned per epsilon."""
    model = wrap(model)
    if not model.can("logits"):
        raise UnsupportedError(f"image attacks need a differentiable torch model; got {type(model).__name__}. "
                               "Wrap an nn.Module that returns logits.")
    if method not in ("fgsm", "pgd") or norm not in ("linf", "l2"):
        raise InputError(f"method must be 'fgsm' or 'pgd' and norm 'linf' or 'l2'; got {method!r}, {norm!r}.")
    if steps < 1 or any(e < 0 for e in epsilons):
        raise InputError(f"steps must be >= 1 and epsilons >= 0; got steps={steps}, epsilons={list(epsilons)}.")
    batch = model.prepare(images)
    x_all = model.to_tensor(batch.x)
    y_all = torch.as_tensor(np.array(labels, dtype=np.int64), device=x_all.device)
    if len(y_all) != len(x_all):
        raise InputError(f"got {len(y_all)} labels for {len(x_all)} images; pass one per image.")
    before = model.counts.rows
    results = []
    with model.session():
        clean_pred = model.evaluate(batch.x).argmax(1)
        correct = clean_pred == y_all.cpu().numpy()
        for eps in epsilons:
            generator = torch.Generator().manual_seed(seed)
            adv = torch.cat([perturb(model, x_all[i:i + batch_size], y_all[i:i + batch_size], float(eps), method,
                                     norm, steps, step_size, bounds, generator)
                             for i in range(0, len(x_all), batch_size)])
            adv_np = adv.cpu().numpy().astype(np.float32)
            pred = model.evaluate(adv_np).argmax(1)
            ok = pred == y_all.cpu().numpy()
            results.append(EpsilonResult(
                float(eps), float(ok.mean()), float((~ok & correct).sum() / max(correct.sum(), 1)),
                float(_norms(adv - x_all, norm).mean()), adversarial=adv_np[:keep], predictions=pred.tolist()))
    if explain_method is not None and n_explained > 0:
        from ..api import explain

        k = min(n_explained, len(x_all))
        clean = explain(model, batch.x[:k], method=explain_method, target=y_all[:k].tolist(), seed=seed)
        for r in results:
            moved = explain(model, r.adversarial[:k], method=explain_method, target=y_all[:k].tolist(), seed=seed)
            r.rank_correlation = [_rank_correlation(a.attributions, b.attributions) for a, b in zip(clean, moved)]
    params = {"epsilons": [float(e) for e in epsilons], "steps": steps, "step_size": step_size,
              "bounds": list(bounds), "seed": seed, "explain_method": explain_method}
    return ImageAttackResult(method, norm, float(correct.mean()), results, model.counts.rows - before, params)


def _rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman correlation of the channel-summed |attribution| maps."""
    maps = [np.abs(m).sum(0).ravel() for m in (a, b)]
    return pair_scores(*maps, k=1, absolute=False)["spearman"]  # NaN when a map is constant
