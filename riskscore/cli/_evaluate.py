"""``riskscore evaluate``: metrics of a model on labelled data, or a rolling evaluation.

* ``riskscore evaluate --model models:/riskscore-seller-fraud@champion --table t.parquet``
  scores a labelled table (or ``--data DIR`` marketplace tables at cutoffs) and prints
  ROC-AUC, PR-AUC, precision/recall at capacity, recall at 1% FPR, Brier and calibration
  error with bootstrap intervals; ``--other URI`` puts a second model beside it on the same
  rows; ``--out DIR`` writes ``metrics.csv``, ``thresholds.csv`` and ``predictions.parquet``.
* ``riskscore evaluate --table t.parquet --prequential 3`` retrains as of each of the last
  three windows and reports each window's metrics and their mean ± std (no model needed).

Exit codes: 0 ok, 2 bad input, 1 internal error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from riskscore.cli._args import PlainHelp, cli_output

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""

    @app.command(cls=PlainHelp)
    def evaluate(
        model: Annotated[
            str | None, typer.Option(help="Model URI or folder (omit with --prequential).")
        ] = None,
        table: Annotated[Path | None, typer.Option(help="Labelled table (.parquet/.csv).")] = None,
        data: Annotated[
            Path | None, typer.Option(help="Marketplace tables folder (builds the training set).")
        ] = None,
        other: Annotated[
            str | None, typer.Option(help="A second model to compare on the same rows.")
        ] = None,
        id_col: Annotated[str | None, typer.Option("--id", help="Id column.")] = None,
        time_col: Annotated[str | None, typer.Option("--time", help="Time column.")] = None,
        label_col: Annotated[str | None, typer.Option("--label", help="Label column.")] = None,
        entity: Annotated[str, typer.Option(help="--data: seller or listing.")] = "seller",
        target: Annotated[str, typer.Option(help="--data: fraud or counterfeit.")] = "fraud",
        cutoffs: Annotated[str | None, typer.Option(help="--data: comma-separated cutoffs.")] = (
            None
        ),
        n_cutoffs: Annotated[
            int | None,
            typer.Option(
                "--n-cutoffs",
                min=1,
                help="--data: number of cutoffs (default: 6, and one more per --prequential "
                "window after the first, so the oldest window trains on as many as train).",
            ),
        ] = None,
        freq: Annotated[str, typer.Option(help="--data: cutoff spacing.")] = "MS",
        horizon: Annotated[str, typer.Option(help="--data: label horizon.")] = "60D",
        capacity: Annotated[
            int | None, typer.Option(min=1, help="Reviews per cutoff/day (default: the model's).")
        ] = None,
        prequential: Annotated[
            int, typer.Option(min=0, help="Rolling evaluation over this many windows.")
        ] = 0,
        bootstrap: Annotated[int, typer.Option(min=0, help="Bootstrap replicates.")] = 200,
        seed: Annotated[
            int, typer.Option(help="Seed of the bootstrap (and of the refits with --prequential).")
        ] = 0,
        tracking_uri: Annotated[
            str | None,
            typer.Option(
                "--tracking-uri",
                help="MLflow tracking URI of models:/ URIs (default: $MLFLOW_TRACKING_URI, else "
                "sqlite:///mlflow.db).",
            ),
        ] = None,
        out: Annotated[Path | None, typer.Option(help="Write metrics, thresholds here.")] = None,
    ) -> None:
        """Evaluate a model on labelled data, or run a prequential (rolling) evaluation."""
        cli_output()
        from riskscore._progress import step
        from riskscore.cli._args import check_out_folder
        from riskscore.cli._train import marketplace_training_set, prepare_table, read_table
        from riskscore.exceptions import TrainingError

        if (table is None) == (data is None):
            raise TrainingError("pass exactly one of --table or --data")
        if out is not None:
            check_out_folder(out, TrainingError)
        if data is not None:
            from riskscore.modeling._recipe import N_CUTOFFS

            if n_cutoffs is None:  # as many cutoffs as train for the oldest window
                n_cutoffs = N_CUTOFFS + max(prequential - 1, 0)
            _, frame = marketplace_training_set(
                data,
                entity=entity,
                target=target,
                cutoffs=cutoffs,
                horizon=horizon,
                n_cutoffs=n_cutoffs,
                freq=freq,
            )
            id_col, time_col, label_col = "entity_id", "cutoff", "label"
        else:
            assert table is not None
            frame = prepare_table(read_table(table), table, id_col=id_col, time_col=time_col)
        if prequential:
            from riskscore.modeling import prequential as rolling
            from riskscore.modeling._recipe import marketplace_config

            settings: dict[str, Any] = {
                "id_col": id_col or "entity_id",
                "time_col": time_col or "cutoff",
                "label_col": label_col or "label",
                "seed": seed,
            }
            if capacity is not None:
                settings["capacity"] = capacity
            base = marketplace_config(entity, target) if data is not None else None
            rolled = rolling(frame, base, n_windows=prequential, **settings)
            cols = [
                "pr_auc",
                "baseline_pr_auc",
                "precision_at_k",
                "baseline_precision_at_k",
                "roc_auc",
                "recall_at_1pct_fpr",
                "ece",
                "test_positives",
            ]
            typer.echo(rolled[cols].round(4).to_string())
            if out is not None:
                out.mkdir(parents=True, exist_ok=True)
                rolled.to_csv(out / "prequential.csv")
            return
        if model is None:
            raise TrainingError("pass --model (a URI or folder), or --prequential N")
        from riskscore.modeling import evaluate as evaluate_model
        from riskscore.registry import load_risk_model

        with step("evaluate", f"loading {model}" + (f" and {other}" if other else "")):
            loaded = load_risk_model(model, tracking_uri=tracking_uri)
            second: Any = load_risk_model(other, tracking_uri=tracking_uri).model if other else None
        result = evaluate_model(
            loaded.model,
            frame,
            other=second,
            id_col=id_col,
            time_col=time_col,
            label_col=label_col,
            capacity=capacity,
            n_bootstrap=bootstrap,
            seed=seed,
            names=("model", "other"),
            horizon=horizon if data is not None else None,
        )
        typer.echo(
            f"{loaded.name or loaded.model.name} "
            f"{'v' + loaded.version if loaded.version else ''} on {len(frame)} rows "
            f"(capacity {result.k} per group)"
        )
        typer.echo(result.metrics.round(4).to_string())
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            result.metrics.to_csv(out / "metrics.csv")
            result.threshold_table.to_csv(out / "thresholds.csv", index=False)
            result.predictions.to_parquet(out / "predictions.parquet", index=False)
            typer.echo(f"wrote metrics.csv, thresholds.csv and predictions.parquet in {out}")
