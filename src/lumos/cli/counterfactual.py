"""``lumos counterfactual``: what would have to change in one table row for the decision to flip."""

from __future__ import annotations

from typing import Optional

import numpy as np
import typer

from ._app import app, one_line_errors


@app.command()
@one_line_errors
def counterfactual(model: str = typer.Option("tabular/adult/gbm", help="A table model: zoo name or trained with `lumos train`."),
                   row: int = typer.Option(0, help="Row number in the split."),
                   split: str = typer.Option("test", help="train, validation or test."),
                   target: Optional[str] = typer.Option(None, "--target", "--desired",
                                                        help="Desired class (default: the other one; --desired "
                                                             "is its old name)."),
                   n: int = typer.Option(5, help="Number of counterfactuals."),
                   method: str = typer.Option("genetic", help="genetic, random, kdtree or gradient."),
                   immutable: Optional[str] = typer.Option(None, help="Features that must not change, comma-"
                                                                      "separated (default: the model's, e.g. age, "
                                                                      "race, sex on Adult; \"none\" for none)."),
                   vary: Optional[str] = typer.Option(None, help="The only features that may change, comma-separated."),
                   range_: list[str] = typer.Option([], "--range", help="FEATURE=LOW:HIGH for a number, or "
                                                                         "FEATURE=a|b|c for allowed categories "
                                                                         "(repeat the option)."),
                   monotonic: list[str] = typer.Option([], help="FEATURE=increase or FEATURE=decrease (repeat)."),
                   min_count: int = typer.Option(0, help="Offer no category seen fewer times in training."),
                   seed: int = typer.Option(0)) -> None:
    """What would have to change for the decision to flip: a before/after table, changed cells marked."""
    from .. import zoo
    from ..training import modality_of, resolve
    from ..counterfactuals import CounterfactualExplainer
    from ..errors import InputError

    wrapped, splits = resolve(model)
    if modality_of(splits) != "tabular":
        raise InputError(f"counterfactuals need a table model; {model} is a {modality_of(splits)} model. "
                         f"Table models: {', '.join(n for n in zoo.names() if zoo.get(n).modality == 'tabular')}.")
    if split not in splits or not 0 <= row < len(splits[split]):
        raise InputError(f"--row {row} --split {split}: the {model} splits are "
                         f"{ {k: len(v) for k, v in splits.items()} } rows long.")
    rules = constraints(immutable, vary, range_, monotonic, min_count)
    result = CounterfactualExplainer(wrapped, splits["train"]).explain(
        splits[split].iloc[[row]], target=target, n=n, method=method, seed=seed, constraints=rules)
    print_counterfactuals(result)


def constraints(immutable: str | None, vary: str | None, ranges: list[str], monotonic: list[str],
                min_count: int) -> dict:
    """The command's options as the ``constraints`` dict of ``lumos.counterfactuals.explain``."""
    from ..errors import InputError

    def names(value: str) -> list[str]:
        return [] if value.strip().lower() == "none" else [v.strip() for v in value.split(",") if v.strip()]

    def pair(text: str, option: str) -> tuple[str, str]:
        feature, sep, value = text.partition("=")
        if not sep or not feature.strip() or not value.strip():
            raise InputError(f"{option} {text!r}: write FEATURE=VALUE, e.g. {option} "
                             f"{'age=18:65' if option == '--range' else 'education_num=increase'}.")
        return feature.strip(), value.strip()

    out: dict = {"min_count": min_count}
    if immutable is not None:
        out["immutable"] = names(immutable)
    if vary is not None:
        out["vary"] = names(vary)
    rng = {}
    for text in ranges:
        feature, value = pair(text, "--range")
        if ":" in value:
            lo, _, hi = value.partition(":")
            try:
                rng[feature] = (float(lo), float(hi))
            except ValueError:
                raise InputError(f"--range {text!r}: LOW:HIGH must be numbers.") from None
        else:
            rng[feature] = [v.strip() for v in value.split("|")]
    if rng:
        out["ranges"] = rng
    mono = dict(pair(text, "--monotonic") for text in monotonic)
    if mono:
        out["monotonic"] = mono
    return out


def print_counterfactuals(result) -> None:
    """Original row and counterfactuals as one table (a row per feature, a column per counterfactual), changed
    cells marked with * (and in bold yellow on a colour terminal); fits 80 columns for up to five."""
    from rich.console import Console
    from rich.table import Table

    table = result.to_frame(marker="*")
    head = f"{len(result)} counterfactual(s) to {result.desired} by {result.method} in {result.seconds:.2f}s"
    out = Table(title=head, title_justify="left", pad_edge=False, collapse_padding=True)
    out.add_column("feature", overflow="fold")
    for column in table.columns:
        out.add_column(str(column), overflow="fold")
    for feature, values in table.iterrows():
        out.add_row(feature, *[f"[bold yellow]{v}[/]" if v.endswith("*") else v for v in values])
    Console().print(out)
    if result.reason:
        typer.echo(f"no counterfactual: {result.reason}")
    index = result.params.get("desired_index")
    if index is not None:
        typer.echo(f"p({result.desired}): original {_p(result.original_prediction[None], index)}, counterfactuals "
                   f"{_p(result.predictions, index)}   (* marks a changed cell)")


def _p(outputs, index: int) -> str:
    """Probabilities of the desired class, two decimals."""
    return ", ".join(f"{v:.2f}" for v in np.asarray(outputs)[:, index])
