"""Soft scores to hard rationales, and rationale spans.

Ties are broken by position (earlier features first), so every rule gives one defined answer.
"""

from __future__ import annotations

import numpy as np

from .errors import InputError


def rank(scores: np.ndarray) -> np.ndarray:
    """Feature indices from the highest score to the lowest; equal scores keep their order."""
    return np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")


def n_of_fraction(fraction: float, n_features: int) -> int:
    """How many features "the top ``fraction``" means: ceil(fraction * F), at least 1 when fraction > 0."""
    if not 0 <= fraction <= 1:
        raise InputError(f"a fraction of features must lie in [0, 1]; got {fraction}.")
    return min(n_features, int(np.ceil(fraction * n_features - 1e-9))) if fraction > 0 else 0


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """(F,) bool: the k highest-scoring features."""
    if k < 0:
        raise InputError(f"k must be >= 0; got {k}.")
    mask = np.zeros(len(scores), dtype=bool)
    mask[rank(scores)[:k]] = True
    return mask


def top_fraction(scores: np.ndarray, fraction: float) -> np.ndarray:
    """(F,) bool: the top ``fraction`` of features (see ``n_of_fraction``)."""
    return top_k(scores, n_of_fraction(fraction, len(scores)))


def above(scores: np.ndarray, threshold: float) -> np.ndarray:
    """(F,) bool: features whose score is at least ``threshold``."""
    return np.asarray(scores) >= threshold


def best_span(scores: np.ndarray, length: int) -> np.ndarray:
    """(F,) bool: the contiguous window of ``length`` features with the largest total score (earliest on ties)."""
    n = len(scores)
    length = min(max(length, 0), n)
    mask = np.zeros(n, dtype=bool)
    if length == 0:
        return mask
    sums = np.convolve(np.asarray(scores, dtype=np.float64), np.ones(length), mode="valid")
    start = int(np.argmax(sums))
    mask[start:start + length] = True
    return mask


RULES = ("top_k", "top_fraction", "threshold", "span")


def check_rule(owner: str, rule: str, value: float | None, value_may_be_none: bool = False) -> None:
    """InputError naming ``value`` when it does not suit ``rule``: a fraction in [0, 1] for "top_fraction", a
    whole number >= 0 for "top_k" and "span", a finite number for "threshold"."""
    if value is None:
        if value_may_be_none:
            return
        raise InputError(f"{owner}: value must be a number for rule={rule!r}; got None.")
    v = float(value)
    if rule == "top_fraction" and not 0 <= v <= 1:
        raise InputError(f"{owner}: value must be a fraction in [0, 1] for rule='top_fraction'; got {value!r}.")
    if rule in ("top_k", "span") and (v < 0 or not v.is_integer()):
        raise InputError(f"{owner}: value must be a whole number >= 0 for rule={rule!r}; got {value!r}.")


def hard(scores: np.ndarray, rule: str = "top_fraction", value: float = 0.2) -> np.ndarray:
    """One entry point: rule in {"top_k", "top_fraction", "threshold", "span"}."""
    if rule == "top_k":
        return top_k(scores, int(value))
    if rule == "top_fraction":
        return top_fraction(scores, float(value))
    if rule == "threshold":
        return above(scores, float(value))
    if rule == "span":
        return best_span(scores, int(value))
    raise InputError(f"unknown rationale rule {rule!r}; use 'top_k', 'top_fraction', 'threshold' or 'span'.")


def spans(mask: np.ndarray) -> list[tuple[int, int]]:
    """Contiguous runs of True as half-open (start, end) pairs."""
    m = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    edges = np.flatnonzero(m[1:] != m[:-1])
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


def from_spans(span_list, n_features: int) -> np.ndarray:
    """(F,) bool from (start, end) half-open spans over features; spans past the end are cut."""
    mask = np.zeros(n_features, dtype=bool)
    for start, end in span_list:
        if start < 0 or end < start:
            raise InputError(f"a rationale span must satisfy 0 <= start <= end; got ({start}, {end}).")
        mask[start:min(end, n_features)] = True
    return mask
