"""``lumos train``: a classifier trained on your images, texts or table, cached under a name that ``lumos explain``,
``lumos bench`` and the other commands take as ``--model``."""

from __future__ import annotations

from typing import Optional

import typer

from ._app import app, one_line_errors

CACHE_HELP = "Cache folder (default: $LUMOS_CACHE or ~/.cache/lumos)."


def parse_settings(pairs: list[str]) -> dict:
    """["epochs=3", "augment=flip,shift", "patience=none"] -> {"epochs": 3, "augment": "flip,shift",
    "patience": None}: numbers and none/true/false as such, the rest as text."""
    import json

    from ..errors import InputError

    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--set takes KEY=VALUE (e.g. --set epochs=5); got {pair!r}.")
        lowered = value.strip().lower()
        if lowered in ("none", "null"):
            out[key.strip()] = None
            continue
        try:
            out[key.strip()] = json.loads(lowered if lowered in ("true", "false") else value)
        except ValueError:
            out[key.strip()] = value
    return out


@app.command()
@one_line_errors
def train(images: Optional[str] = typer.Option(None, help="A folder with one sub-folder per class, or a CSV of "
                                                          "image paths and labels."),
          text: Optional[str] = typer.Option(None, help="A CSV, JSON Lines or Parquet file of texts and labels."),
          table: Optional[str] = typer.Option(None, help="A CSV or Parquet file with a label column."),
          base: Optional[str] = typer.Option(None, help="images: efficientnet_lite0 (default) or cnn; text: minilm "
                                                        "(default), tfidf or a local Hugging Face checkpoint "
                                                        "folder; table: gbm (default), logreg or mlp."),
          name: Optional[str] = typer.Option(None, help="The model's name (default: the data's file or folder "
                                                        "name)."),
          label_column: str = typer.Option("label", help="The label column (text, tables, image CSVs)."),
          text_column: str = typer.Option("text", help="The text column."),
          path_column: str = typer.Option("path", help="The image path column of an image CSV."),
          split_column: Optional[str] = typer.Option(None, help="Your own split column (train/validation/test); "
                                                                "default: a stratified 80/10/10 split."),
          size: Optional[int] = typer.Option(None, help="Images: side in pixels they are resized to (default: "
                                                        "their median, at most 224 / 64 for the CNN)."),
          finetune: Optional[str] = typer.Option(None, help="efficientnet_lite0: head (frozen backbone; default) "
                                                            "or last (the last --blocks blocks too)."),
          augment: Optional[str] = typer.Option(None, help="Images: flip, shift, color (comma-separated)."),
          epochs: Optional[int] = typer.Option(None, help="Most epochs (early stopping may stop sooner)."),
          categorical: Optional[str] = typer.Option(None, help="Tables: columns to treat as categories "
                                                               "(comma-separated)."),
          immutable: Optional[str] = typer.Option(None, help="Tables: columns a counterfactual may not change."),
          protected: Optional[str] = typer.Option(None, help="Tables: columns fairness audits group by."),
          drop: Optional[str] = typer.Option(None, help="Tables: columns to leave out (identifiers, leaks)."),
          settings: list[str] = typer.Option([], "--set", help="Any recipe setting, KEY=VALUE (repeatable), e.g. "
                                                               "--set lr=0.0005 --set patience=none."),
          skip_bad: bool = typer.Option(False, help="Leave out image files that do not decode (they are named)."),
          seed: int = typer.Option(0, help="Seeds the split and the training."),
          retrain: bool = typer.Option(False, help="Train even when this model is cached."),
          cache_dir: Optional[str] = typer.Option(None, help=CACHE_HELP)) -> None:
    """Train a classifier on your data; prints its validation and test accuracy and how to explain it."""
    from ..errors import InputError
    from ..training import train as train_model

    given = {task: value for task, value in (("image", images), ("text", text), ("table", table)) if value}
    if len(given) != 1:
        raise InputError("name the data with exactly one of --images FOLDER_OR_CSV, --text FILE or --table FILE.")
    (task, data), = given.items()
    recipe = parse_settings(settings)
    recipe.update({k: v for k, v in (("finetune", finetune), ("augment", augment), ("epochs", epochs)) if v is not None})
    tables = {"categorical": categorical, "immutable": immutable or (), "protected": protected or (),
              "drop": drop or ()} if task == "table" else {}
    trained = train_model(data, task, base, name=name, label_column=label_column, text_column=text_column,
                          path_column=path_column, split_column=split_column, size=size, skip_bad=skip_bad,
                          seed=seed, retrain=retrain, cache_dir=cache_dir, **tables, **recipe)
    report(trained)


def report(trained) -> None:
    """The lines a person reads after training: scores, time, where it is, what to run next."""
    record, s = trained.record, trained.summary()
    rows = record["rows"]
    typer.echo(f"{s['name']}: {record['recipe']} ({record['base']}) on {rows['train']:,} training, "
               f"{rows['validation']:,} validation and {rows['test']:,} test rows, {s['classes']} classes "
               f"({', '.join(record['labels'][:6])}{', ...' if s['classes'] > 6 else ''})")
    for split in ("validation", "test"):
        scores = record["metrics"].get(split)
        if scores:
            auc = f", AUC {scores['auc']:.3f}" if "auc" in scores else ""
            typer.echo(f"  {split} accuracy {scores['accuracy']:.3f}{auc}")
    training = record.get("training", {})
    if "best_epoch" in training:
        typer.echo(f"  early stopping: best epoch {training['best_epoch']} of {len(training['validation_loss'])}"
                   f"{' (stopped early)' if training['stopped_early'] else ''}")
    typer.echo(f"  training took {record['train_seconds']:.0f} s ({record['created']}); this command "
               f"{record['seconds']:.0f} s; {record['tracin_checkpoints']} TracIn checkpoints recorded")
    example = {"image": "IMAGE_FILE", "text": '"a sentence"', "table": "ROW_NUMBER"}[record["task"]]
    typer.echo(f"next: lumos explain {example} --model {s['name']}   |   lumos bench --model {s['name']}")
