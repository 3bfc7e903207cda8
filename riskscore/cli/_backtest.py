"""``riskscore backtest``: replay model versions and rule sets over history.

At each cutoff the features are built as of the cutoff, the models and rule sets are
applied, and the alerts are compared with the labels decided in the window after it.
Prints the summary (alerts, alerts per day, precision, recall, value recall, lead time,
rules that alerted alone, and the first two policies side by side with intervals);
``--out`` writes the tables, the report and the plot; ``--log`` logs them to MLflow.

Exit codes: 0 ok, 2 bad arguments or input, 1 internal error.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from riskscore.scoring import Scorer

__all__ = ["register"]


def _load_model(uri: str, tracking_uri: str | None) -> Scorer:
    from riskscore.scoring import Scorer, load_scorer

    if Path(uri).exists():
        return load_scorer(uri)
    from riskscore.registry import load_risk_model

    loaded = load_risk_model(uri, tracking_uri=tracking_uri)
    return Scorer(loaded.model, model_name=loaded.name, model_version=loaded.version)


def _cutoffs(text: str | None, tables: Any, horizon: str, n: int, freq: str) -> list[Any]:
    from riskscore.backtest import BacktestError
    from riskscore.cli._args import parse_time
    from riskscore.features import default_cutoffs

    if text is None:
        return list(default_cutoffs(tables, horizon, n, freq))
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise BacktestError("--cutoffs is empty; give dates such as 2024-08-01,2024-09-01")
    return [parse_time(p, BacktestError, "--cutoffs") for p in parts]


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""

    @app.command()
    def backtest(
        data: Annotated[
            Path, typer.Option(metavar="DIR", help="Folder of marketplace tables, with labels.")
        ],
        model: Annotated[
            list[str] | None,
            typer.Option(
                metavar="URI", help="Model URI (models:/name@alias) or folder. Repeat for several."
            ),
        ] = None,
        rules: Annotated[
            list[Path] | None,
            typer.Option(
                metavar="FILE", help="Rule-set file (YAML/JSON). Repeat to compare (A, then B)."
            ),
        ] = None,
        band: Annotated[
            str | None,
            typer.Option(help="Also alert on this model band or higher, e.g. high."),
        ] = None,
        cutoffs: Annotated[
            str | None,
            typer.Option(help="Comma-separated cutoffs (default: --n-cutoffs month starts)."),
        ] = None,
        n_cutoffs: Annotated[
            int, typer.Option("--n-cutoffs", min=1, help="Cutoffs when --cutoffs is not given.")
        ] = 6,
        freq: Annotated[
            str, typer.Option(help="Spacing of default cutoffs (MS: month starts).")
        ] = "MS",
        entity: Annotated[str, typer.Option(help="seller or listing.")] = "seller",
        target: Annotated[str, typer.Option(help="Label kind: fraud or counterfeit.")] = "fraud",
        horizon: Annotated[str, typer.Option(help="Label window after each cutoff.")] = "60D",
        label_delay: Annotated[
            str, typer.Option("--label-delay", help="Gap before the label window.")
        ] = "0D",
        bootstrap: Annotated[
            int, typer.Option(min=0, help="Bootstrap replicates of the comparison.")
        ] = 200,
        seed: Annotated[int, typer.Option(min=0, help="Seed of the bootstrap.")] = 0,
        out: Annotated[
            Path | None, typer.Option(help="Write tables, report and plot to this folder.")
        ] = None,
        log: Annotated[
            bool, typer.Option(help="Log the tables, plot and metrics to MLflow.")
        ] = False,
        run_id: Annotated[
            str | None,
            typer.Option("--run-id", help="With --log: log into this run (default: new)."),
        ] = None,
        tracking_uri: Annotated[
            str | None,
            typer.Option("--tracking-uri", help="MLflow store (default: $MLFLOW_TRACKING_URI)."),
        ] = None,
    ) -> None:
        """Replay models and rule sets at past cutoffs; compare alerts with labels."""
        from riskscore.backtest import BacktestError
        from riskscore.backtest import backtest as run_backtest
        from riskscore.cli._args import check_out_folder
        from riskscore.io import load_tables
        from riskscore.rules import RuleSet
        from riskscore.rules._columns import computed_columns

        if out is not None:
            check_out_folder(out, BacktestError)
        rule_sets = [RuleSet.load(p) for p in rules or []]
        columns = computed_columns(
            rule_sets,
            BacktestError,
            "fix: drop them from the rule set, or call riskscore.backtest.backtest(..., "
            "columns=...) from Python",
        )
        scorers = [_load_model(m, tracking_uri) for m in model or []]
        tables = load_tables(data)
        moments = _cutoffs(cutoffs, tables, horizon, n_cutoffs, freq)
        result = run_backtest(
            tables,
            moments,
            entity=entity,
            target=target,
            horizon=horizon,
            label_delay=label_delay,
            models=scorers,
            rulesets=rule_sets,
            band=band,
            columns=columns,
            n_bootstrap=bootstrap,
            seed=seed,
        )
        typer.echo(result.summary())
        if out is not None:
            paths = result.save(out)
            typer.echo(f"wrote {', '.join(sorted(paths))} in {out}")
        if log:
            logged = result.log_to_mlflow(run_id, tracking_uri=tracking_uri)
            typer.echo(f"logged to MLflow run {logged}")
