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
                   seed: int = typer.Option(0)) -> None:
    """What would have to change for the decision to flip: a before/after table, changed cells marked."""
    from ..training import resolve
    from ..counterfactuals import CounterfactualExplainer
    from ..errors import InputError

    wrapped, splits = resolve(model)
    if split not in splits or not 0 <= row < len(splits[split]):
        raise InputError(f"--row {row} --split {split}: the {model} splits are "
                         f"{ {k: len(v) for k, v in splits.items()} } rows long.")
    result = CounterfactualExplainer(wrapped, splits["train"]).explain(
        splits[split].iloc[[row]], target=target, n=n, method=method, seed=seed)
    print_counterfactuals(result)


def print_counterfactuals(result) -> None:
    """Original row and counterfactuals as one table (a column per feature), changed cells marked."""
    from rich.console import Console
    from rich.table import Table

    table = result.to_frame(marker="*")
    head = f"{len(result)} counterfactual(s) to {result.desired} by {result.method} in {result.seconds:.2f}s"
    out = Table(title=head, title_justify="left")
    for column in ["feature", *table.columns]:
        out.add_column(column)
    for feature, values in table.iterrows():
        out.add_row(feature, *[f"[bold yellow]{v}[/]" if v.endswith("*") else v for v in values])
    console = Console()
    console.width = max(console.width, 18 + 20 * len(table.columns))
    console.print(out)
    if result.reason:
        typer.echo(f"no counterfactual: {result.reason}")
    index = result.params.get("desired_index")
    if index is not None:
        typer.echo(f"p({result.desired}): original {_p(result.original_prediction[None], index)}, counterfactuals "
                   f"{_p(result.predictions, index)}   (* marks a changed cell)")


def _p(outputs, index: int) -> str:
    """Probabilities of the desired class, two decimals."""
    return ", ".join(f"{v:.2f}" for v in np.asarray(outputs)[:, index])
