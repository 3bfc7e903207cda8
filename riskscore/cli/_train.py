"""``riskscore train``: train a risk model, log it to MLflow and register a version.

Two inputs:

* a user table: ``riskscore train --table my.parquet --id account_id --time ts --label banned``
  (without ``--time`` a stratified split is used, and the output says so);
* marketplace tables: ``riskscore train --data DIR --entity seller --target fraud`` builds
  the training set with :func:`riskscore.features.build_training_set` at monthly cutoffs
  (the last one a label horizon before the end of the data) and trains on it.

The run goes to ``--tracking-uri`` (default ``MLFLOW_TRACKING_URI`` or
``sqlite:///mlflow.db``) unless ``--no-log``; ``--out DIR`` also saves the model folder,
plots and model card locally; ``--promote`` runs the promotion gate right after.
Exit codes: 0 ok, 2 bad input (a clear message), 1 internal error.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from riskscore.cli._args import PlainHelp, cli_output, note

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "marketplace_training_set",
    "prepare_table",
    "read_table",
    "register",
]


def read_table(path: Path) -> pd.DataFrame:
    """Read a Parquet or CSV table (CSV time columns stay text until ``--time`` parses them).

    A file that cannot be read (missing, 0 bytes, not Parquet, not UTF-8, ...) is a
    :class:`~riskscore.exceptions.TrainingError` naming the file and the fix.
    """
    from riskscore.exceptions import TrainingError
    from riskscore.io import read_table as read

    return read(path, error=TrainingError)


def prepare_table(
    frame: pd.DataFrame, path: Path, *, id_col: str | None, time_col: str | None
) -> pd.DataFrame:
    """Parse ``time_col`` and refuse non-finite numbers in a user table read from ``path``.

    Raises
    ------
    TrainingError
        When time values cannot be parsed, or a numeric column holds ``inf``/``-inf``:
        naming the file, the column, a few rows (by ``id_col`` when present), the count
        and the fix.
    """
    import numpy as np
    import pandas as pd

    from riskscore.exceptions import TrainingError

    def rows(mask: np.ndarray) -> str:
        picked = frame.loc[mask]
        if id_col is not None and id_col in frame.columns:
            keys = ", ".join(str(v) for v in picked[id_col].head(5))
            return f"{int(mask.sum())} row(s), e.g. {id_col} {keys}"
        return f"{int(mask.sum())} row(s), e.g. row {', '.join(map(str, picked.index[:5]))}"

    frame = frame.copy(deep=False)
    if time_col is not None and time_col in frame.columns:
        times = frame[time_col]
        if not pd.api.types.is_datetime64_any_dtype(times.dtype):
            if pd.api.types.is_numeric_dtype(times.dtype) or pd.api.types.is_bool_dtype(
                times.dtype
            ):
                raise TrainingError(
                    f"{path}: time column '{time_col}' holds {times.dtype} values, not times; "
                    "store ISO 8601 dates such as 2024-06-30, or pass the right --time column"
                )
            parsed = pd.to_datetime(times.astype("str"), errors="coerce", format="ISO8601")
            bad = (parsed.isna() & times.notna()).to_numpy(dtype=bool)
            if bad.any():
                example = times[bad].iloc[0]
                raise TrainingError(
                    f"{path}: time column '{time_col}' has unparsable values in {rows(bad)} "
                    f"(e.g. {example!r}); use ISO 8601 such as 2024-06-30 or "
                    "2024-06-30T12:00:00, or pass the right --time column"
                )
            frame[time_col] = parsed
    from riskscore.modeling._checks import check_finite

    check_finite(frame, list(frame.columns), table=str(path), id_col=id_col)
    return frame


def marketplace_training_set(
    data: Path,
    *,
    entity: str,
    target: str,
    cutoffs: str | None,
    horizon: str,
    n_cutoffs: int,
    freq: str,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Load marketplace tables and build the training set of ``entity`` and ``target``.

    Returns the tables and the training set.

    The result carries the segment columns of
    :func:`riskscore.features.add_segments` (tenure, region, category, size) for sliced
    evaluation; they are not model features.
    """
    import pandas as pd

    from riskscore.cli._args import parse_time
    from riskscore.exceptions import TrainingError
    from riskscore.io import load_tables
    from riskscore.modeling._recipe import marketplace_training_set as recipe_set

    cut = [
        parse_time(c.strip(), TrainingError, "--cutoffs")
        for c in (cutoffs or "").split(",")
        if c.strip()
    ]
    try:
        pd.Timedelta(horizon)
    except ValueError:
        raise TrainingError(
            f"--horizon: {horizon!r} is not a duration; use e.g. 60D (days) or 8W (weeks)"
        ) from None
    try:
        pd.tseries.frequencies.to_offset(freq)
    except ValueError:
        raise TrainingError(
            f"--freq: {freq!r} is not a pandas frequency; use e.g. MS (month starts), W "
            "(weeks) or 14D"
        ) from None
    tables = load_tables(data)
    frame = recipe_set(  # no --cutoffs: the recipe's n_cutoffs at freq
        tables, entity, target, cutoffs=cut or None, horizon=horizon, n_cutoffs=n_cutoffs, freq=freq
    )
    return tables, frame


def _cell(row: Any, name: str) -> str:
    lo, hi = row.get(f"{name}_lo"), row.get(f"{name}_hi")
    text = f"{row[name]:.3f}"
    if lo is not None and lo == lo and hi == hi:  # not NaN
        text += f" [{lo:.3f}, {hi:.3f}]"
    return text


def _print_result(result: Any) -> None:
    m = result.metrics
    typer.echo(f"{result.model.name}: {result.split.description}")
    typer.echo(
        f"test window: {result.fingerprint['test_rows']} rows, "
        f"{result.fingerprint['test_positives']} positives; capacity "
        f"{result.model.metadata['capacity_test']} per group on this side"
    )
    has_base = "baseline" in m.columns
    typer.echo(
        f"  {'metric':<20} {'LightGBM [95% CI]':<26} {'baseline [95% CI]':<26}" if has_base else ""
    )
    for metric, row in m.iterrows():
        line = f"  {metric!s:<20} {_cell(row, 'model'):<26}"
        if has_base:
            line += f" {_cell(row, 'baseline'):<26}"
        typer.echo(line)
    bands = ", ".join(f"{k} {v:.1f}" for k, v in result.model.bands.thresholds.items())
    typer.echo(f"bands (risk score from): {bands}")
    deployed = getattr(result, "deployed", {}) or {}
    if deployed.get("fit") == "refit":
        typer.echo(
            f"deployed: refit on all {deployed['rows']:,} labelled rows ({deployed['trees']} trees;"
            f" the metrics above are of the evaluated fit on {deployed['evaluated_rows']:,} rows,"
            f" {deployed['evaluated_trees']} trees); calibration and bands from out-of-fold "
            f"scores ({deployed['crossfit_folds']} entity folds)"
        )
    family = getattr(result, "family_value", None)
    if family is not None and len(family):
        typer.echo(
            f"what each feature family adds (validation PR-AUC "
            f"{family['pr_auc_full'].iloc[0]:.3f} with all; lost without it [95% CI]):"
        )
        for row in family.to_dict("records"):
            cell = _cell(
                {"lost": row["pr_auc_lost"], "lost_lo": row["lost_lo"], "lost_hi": row["lost_hi"]},
                "lost",
            )
            typer.echo(f"  {row['family']:<20} {cell:<26} {row['verdict']}")
    for finding in result.notes:
        note(finding, err=False)


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""

    @app.command(cls=PlainHelp)
    def train(
        table: Annotated[
            Path | None,
            typer.Option(help="A user table (.parquet/.csv): id, time, label, features."),
        ] = None,
        data: Annotated[
            Path | None, typer.Option(help="Folder of marketplace tables (builds features).")
        ] = None,
        id_col: Annotated[str, typer.Option("--id", help="Id column of --table.")] = "entity_id",
        time_col: Annotated[
            str | None, typer.Option("--time", help="Time column of --table (omit: stratified).")
        ] = None,
        label_col: Annotated[str, typer.Option("--label", help="0/1 label column of --table.")] = (
            "label"
        ),
        features: Annotated[
            str | None, typer.Option(help="Comma-separated feature columns (default: all others).")
        ] = None,
        entity: Annotated[
            str | None,
            typer.Option(
                help="--data: seller or listing (default: seller); --table: a name for the "
                "table's entities (default: custom)."
            ),
        ] = None,
        target: Annotated[
            str | None, typer.Option(help="fraud or counterfeit (default for --table: the label).")
        ] = None,
        cutoffs: Annotated[
            str | None, typer.Option(help="--data: comma-separated cutoffs (default: monthly).")
        ] = None,
        n_cutoffs: Annotated[int, typer.Option("--n-cutoffs", min=3, help="--data: cutoffs.")] = 6,
        freq: Annotated[str, typer.Option(help="--data: cutoff spacing (pandas freq).")] = "MS",
        horizon: Annotated[str, typer.Option(help="--data: label horizon after a cutoff.")] = "60D",
        seed: Annotated[int, typer.Option(help="Seed of split, model and bootstrap.")] = 0,
        capacity: Annotated[
            int, typer.Option(min=1, help="Reviews per cutoff (or per day) of the risk team.")
        ] = 100,
        cost_ratio: Annotated[
            float | None,
            typer.Option(
                "--cost-ratio",
                help="Set the bands from the cost of a missed case over the cost of a "
                "review (e.g. 20) instead of from --capacity.",
            ),
        ] = None,
        class_weight: Annotated[
            str | None, typer.Option("--class-weight", help="'balanced' or a positive weight.")
        ] = None,
        calibration: Annotated[str, typer.Option(help="auto, platt, isotonic or none.")] = "auto",
        search_iter: Annotated[
            int, typer.Option("--search-iter", min=0, help="Random-search trials (0: none).")
        ] = 0,
        test_windows: Annotated[
            int,
            typer.Option("--test-windows", min=1, help="Newest time windows held out to test on."),
        ] = 1,
        valid_windows: Annotated[
            int | None,
            typer.Option(
                "--valid-windows",
                min=1,
                help="Windows for validation and calibration (default: 2 with --data, else 1).",
            ),
        ] = None,
        gap: Annotated[
            str | None, typer.Option(help="Drop training rows this close to validation (e.g. 60D).")
        ] = None,
        entity_disjoint: Annotated[
            bool, typer.Option(help="Keep each entity on one side of the split.")
        ] = True,
        segments: Annotated[
            str | None,
            typer.Option(
                help="Comma-separated columns to slice test metrics by (--data default: "
                "tenure, region, category and size)."
            ),
        ] = None,
        min_positives: Annotated[
            int,
            typer.Option(
                "--min-positives",
                min=1,
                help="Fewest positive labels the train side needs (fewer: an error).",
            ),
        ] = 30,
        refit: Annotated[
            bool,
            typer.Option(
                help="Deploy a refit on every labelled row (calibrated out of fold); "
                "--no-refit deploys the evaluated fit."
            ),
        ] = True,
        family_report: Annotated[
            bool,
            typer.Option(
                help="Measure what each feature family adds (drop-one-family refits scored "
                "on the validation side)."
            ),
        ] = True,
        allow_leaky: Annotated[
            str | None,
            typer.Option(
                "--allow-leaky",
                help="Comma-separated features allowed to separate the labels on their own.",
            ),
        ] = None,
        bootstrap: Annotated[int, typer.Option(min=0, help="Bootstrap replicates.")] = 200,
        tracking_uri: Annotated[
            str | None,
            typer.Option(
                "--tracking-uri",
                help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else "
                "sqlite:///mlflow.db).",
            ),
        ] = None,
        log: Annotated[bool, typer.Option(help="Log the run to MLflow.")] = True,
        register_model: Annotated[
            bool, typer.Option("--register/--no-register", help="Register a new version.")
        ] = True,
        promote: Annotated[
            bool, typer.Option(help="Run the promotion gate after registering.")
        ] = False,
        plots: Annotated[bool, typer.Option(help="Draw and log the plots.")] = True,
        out: Annotated[
            Path | None, typer.Option(help="Also save model folder, plots and card here.")
        ] = None,
    ) -> None:
        """Train a LightGBM risk model with a logistic baseline; log, register, promote."""
        cli_output()
        from riskscore._progress import step
        from riskscore.cli._args import check_out_folder
        from riskscore.exceptions import TrainingError

        if (table is None) == (data is None):
            raise TrainingError("pass exactly one of --table (a user table) or --data (tables)")
        if out is not None:
            check_out_folder(out, TrainingError)
        # the marketplace's default entity is the seller, as in every other command
        entity = entity or ("seller" if data is not None else "custom")
        cw: Any = class_weight
        if class_weight not in (None, "balanced"):
            try:
                cw = float(class_weight)  # type: ignore[arg-type]
            except ValueError as err:
                raise TrainingError(
                    f"--class-weight must be 'balanced' or a number; got {class_weight!r}"
                ) from err
        ids: str
        times: str | None
        labels: str
        market = None
        if data is not None:
            if target is None:
                raise TrainingError("--data needs --target (fraud or counterfeit)")
            typer.echo(f"building the {entity} {target} training set from {data} ...")
            tables, frame = marketplace_training_set(
                data,
                entity=entity,
                target=target,
                cutoffs=cutoffs,
                horizon=horizon,
                n_cutoffs=n_cutoffs,
                freq=freq,
            )
            ids, times, labels = "entity_id", "cutoff", "label"
            from riskscore.monitor import market_profile

            # the marketplace's own rates at every cutoff: the training diagnostics compare
            # the test cutoffs with the training ones, and the monitor's reference keeps them
            market = market_profile(tables, sorted(frame["cutoff"].unique()))
        else:
            assert table is not None
            ids, times, labels = id_col, time_col, label_col
            frame = prepare_table(read_table(table), table, id_col=ids, time_col=times)
        from riskscore.modeling import TrainConfig
        from riskscore.modeling._recipe import marketplace_config

        base = marketplace_config(entity, target or labels) if data is not None else None
        settings: dict[str, Any] = dict(
            id_col=ids,
            time_col=times,
            label_col=labels,
            feature_cols=[c.strip() for c in features.split(",")] if features else None,
            entity=entity,
            target=target or labels,
            seed=seed,
            capacity=capacity,
            cost_ratio=cost_ratio,
            class_weight=cw,
            calibration=calibration,
            search_iter=search_iter,
            test_windows=test_windows,
            gap=gap,
            entity_disjoint=entity_disjoint,
            min_positives=min_positives,
            n_bootstrap=bootstrap,
            refit=refit,
            family_report=family_report,
            allow_leaky=[c.strip() for c in allow_leaky.split(",") if c.strip()]
            if allow_leaky
            else (),
        )
        if valid_windows is not None:
            settings["valid_windows"] = valid_windows
        if segments is not None:
            settings["segment_cols"] = [c.strip() for c in segments.split(",") if c.strip()]
        config = TrainConfig.build(base, **settings)
        from riskscore.modeling import TrainingWarning

        # findings are printed once, in plain words, by _print_result (not as raw warnings)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TrainingWarning)
            if log:
                from riskscore.registry import train_and_log

                with step("train", "training, then logging the run to MLflow"):
                    logged = train_and_log(
                        frame,
                        entity=config.entity,
                        target=config.target,
                        tracking_uri=tracking_uri,
                        register=register_model,
                        plots=plots,
                        market=market,
                        config=config,
                    )
                result = logged.result
                assert result is not None
                _print_result(result)
                typer.echo(
                    f"logged run {logged.run_id} to {logged.tracking_uri}"
                    + (
                        f"; registered {logged.name} version {logged.version} (challenger)"
                        if logged.version
                        else ""
                    )
                )
            else:
                from riskscore.modeling import train as train_model

                result = train_model(frame, config, market=market)
                _print_result(result)
        if out is not None:
            folder = result.model.save(out / "model")
            if plots:
                result.save_plots(out / "plots")
            (out / "model_card.md").write_text(result.model_card(), encoding="utf-8")
            typer.echo(f"saved the model folder {folder}, plots and model card in {out}")
        if promote:
            if not (log and register_model):
                raise TrainingError("--promote needs a registered version (drop --no-log)")
            from riskscore.cli._promote import report_promotion
            from riskscore.registry import promote as promote_version

            decision = promote_version(
                result.model.name, version=logged.version, tracking_uri=tracking_uri, seed=seed
            )
            report_promotion(decision)
