"""``lumos zoo list`` and ``lumos zoo train``: the zoo's models, trained here once and cached."""

from __future__ import annotations

from typing import Optional

import typer

from ._app import zoo_app

CACHE_HELP = "Cache folder (default: $LUMOS_CACHE or ~/.cache/lumos)."


def _score(meta: dict | None) -> str:
    if not meta:
        return "-"
    test = meta["metrics"]["test"]
    return f"acc {test['accuracy']:.3f}" + (f", AUC {test['auc']:.3f}" if "auc" in test else "")


@zoo_app.command("list")
def zoo_list(cache_dir: Optional[str] = typer.Option(None, help=CACHE_HELP)) -> None:
    """Every zoo model, what it is, and its test scores if it has been trained here; then the models trained on
    your data with `lumos train`."""
    from rich.console import Console
    from rich.table import Column, Table

    from .. import zoo
    from ..errors import LumosError
    from ..training import store

    table = Table(Column("name", no_wrap=True), "what", "test (cached)")  # a name is never cut: you type it next
    for name in zoo.names():
        try:
            info = zoo.info(name, cache_dir=cache_dir)
            status = "pre-trained" if info["pretrained"] else _score(info["cached"])
        except LumosError as e:
            info, status = {"summary": zoo.get(name).summary}, f"unavailable: {e}"
        table.add_row(name, info["summary"], status)
    for name in store.names(cache_dir):
        try:
            record = store.read_record(store.folder(name, cache_dir))
            what = (f"yours (lumos train): {record['task']}, {record['base']}, {len(record['labels'])} classes, "
                    f"{sum(record['rows'].values()):,} rows from {record['source']}")
            table.add_row(name, what, _score(record))
        except (LumosError, KeyError) as e:
            table.add_row(name, "yours (lumos train)", f"unreadable: {e}")
    Console().print(table)


@zoo_app.command("train")
def zoo_train(names: list[str] = typer.Argument(None, help="Zoo names; see `lumos zoo list`."),
              all_: bool = typer.Option(False, "--all", help="Train every zoo model whose data is installed."),
              retrain: bool = typer.Option(False, help="Train even when a cached model exists."),
              cache_dir: Optional[str] = typer.Option(None, help=CACHE_HELP)) -> None:
    """Train and cache zoo models (a cached one is only loaded), and print their scores."""
    from .. import zoo
    from ..errors import LumosError

    if all_ == bool(names):
        raise typer.BadParameter("name one or more zoo models, or pass --all (not both).")
    failed = False
    for name in zoo.names() if all_ else names:
        try:
            _, _, meta = zoo.load_with_meta(name, retrain=retrain, cache_dir=cache_dir)
        except zoo.MissingPackageError as e:
            typer.echo(f"{name}: {'skipped; ' if all_ else ''}{e}", err=True)
            failed = failed or not all_
            continue
        except LumosError as e:
            typer.echo(f"{name}: {e}", err=True)
            failed = True
            continue
        took = f", trained in {meta['train_seconds']:.0f}s" if "train_seconds" in meta else ""
        typer.echo(f"{name}: " + ("pre-trained" if meta.get("pretrained") else f"test {_score(meta)}{took}"))
    if failed:
        raise typer.Exit(1)
