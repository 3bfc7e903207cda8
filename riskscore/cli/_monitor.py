"""``riskscore monitor``: compare a scoring run with the model's monitoring reference.

* ``riskscore monitor --reference monitor_reference.json --scores scores.parquet
  [--features features.parquet] [--out DIR] [--watch-psi 0.1 --act-psi 0.25]`` prints the
  findings (plain sentences), writes ``report.json`` and ``report.html`` into ``--out``
  (default: the folder of ``--scores``) and exits 3 when an "act" threshold is crossed, so
  a scheduler (cron, Airflow, a Spark job) can alert. ``--reference`` takes the JSON file
  or the folder holding it (``monitor_reference.json``). ``--data DIR --as-of T`` adds the
  sellers' slices (:func:`riskscore.features.add_segments`), so the flag rate of each
  slice is compared with training (``riskscore score`` output carries no slice columns),
  and, when the reference stores marketplace statistics, the marketplace's own rates at
  ``T`` (:func:`riskscore.monitor.market_summary`) against their range at training.
* With ``--model`` an MLflow URI, the report is also logged under that model version
  (:func:`riskscore.registry.log_monitor_report`: ``monitor/<as-of or UTC time>/`` in the
  version's run, ``monitor.*`` metrics, status tags); ``--no-log`` skips that.

Exit codes: 0 ok or watch, 3 act, 2 bad input, 1 internal error.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from riskscore.cli._args import PlainHelp, cli_output

if TYPE_CHECKING:
    import pandas as pd

    from riskscore.monitor import Reference
    from riskscore.registry import LoadedModel

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""

    @app.command(cls=PlainHelp)
    def monitor(
        reference: Annotated[
            Path | None, typer.Option(help="monitor_reference.json, or the folder holding it.")
        ] = None,
        model: Annotated[
            str | None,
            typer.Option(
                help="Or the model whose reference to use: an MLflow URI "
                "(models:/name@champion) or a model folder (models/<name>)."
            ),
        ] = None,
        tracking_uri: Annotated[
            str | None, typer.Option("--tracking-uri", help="Default: $MLFLOW_TRACKING_URI.")
        ] = None,
        scores: Annotated[
            Path | None, typer.Option(help="Scores of the run (.parquet/.csv): score, band.")
        ] = None,
        features: Annotated[
            Path | None, typer.Option(help="Feature rows of the run (.parquet/.csv).")
        ] = None,
        out: Annotated[
            Path | None, typer.Option(help="Folder for report.json and report.html.")
        ] = None,
        watch_psi: Annotated[float, typer.Option("--watch-psi", help="PSI to watch.")] = 0.1,
        act_psi: Annotated[float, typer.Option("--act-psi", help="PSI to act on.")] = 0.25,
        window: Annotated[
            str, typer.Option(help="Reference window for the features: test or train.")
        ] = "test",
        data: Annotated[
            Path | None,
            typer.Option(
                metavar="DIR",
                help="Marketplace tables: with --as-of, the sellers' slices (tenure, "
                "region, category, size) so the report compares flag rates per slice, "
                "and the marketplace's own rates when the reference stores them.",
            ),
        ] = None,
        as_of: Annotated[
            str | None,
            typer.Option(
                "--as-of",
                help="The moment the run was scored at: the sellers' slices then (with "
                "--data) and the name of the report logged to MLflow.",
            ),
        ] = None,
        log: Annotated[
            bool,
            typer.Option(
                help="With --model an MLflow URI: log the report under that model version."
            ),
        ] = True,
        quiet: Annotated[bool, typer.Option(help="Print the status line only.")] = False,
    ) -> None:
        """Compare a scoring run with the reference; exit 3 when an "act" threshold is crossed."""
        cli_output(quiet=quiet)
        from riskscore.cli._args import check_out_folder
        from riskscore.io import read_table
        from riskscore.monitor import MonitorError, Reference, Thresholds, compare

        if scores is None and features is None:
            raise MonitorError(
                "riskscore monitor needs --scores and/or --features (the run to compare). "
                "Got neither."
            )
        if (reference is None) == (model is None):
            raise MonitorError("pass exactly one of --reference (a file) or --model (a URI)")
        folder = out or (scores or features).parent  # type: ignore[union-attr]
        check_out_folder(folder, MonitorError)
        loaded = None
        if reference is not None:
            ref = Reference.load(reference)
        else:
            ref, loaded = _model_reference(str(model), tracking_uri)
        th = Thresholds(watch_psi=watch_psi, act_psi=act_psi)
        score_frame = read_table(scores, error=MonitorError) if scores else None
        feature_frame = read_table(features, error=MonitorError) if features else None
        segments = market = None
        if data is not None:
            from riskscore.io import load_tables

            tables = load_tables(data)
            segments = _segments(tables, as_of, score_frame)
            if ref.market:
                from riskscore.monitor import market_summary

                days = int(ref.market.get("window_days") or 30)
                market = market_summary(tables, as_of, window_days=days)
        report = compare(
            ref,
            feature_frame,
            score_frame,
            thresholds=th,
            window=window,
            segments=segments,
            market=market,
        )
        lines = report.text().splitlines()
        typer.echo("\n".join(lines[:1] if quiet else lines))
        paths = report.write(folder)
        typer.echo(f"wrote {paths['json']} and {paths['html']}")
        if log and loaded is not None and loaded.run_id is not None:
            from riskscore.registry import log_monitor_report

            where = log_monitor_report(
                report,
                loaded.run_id,
                label=as_of,
                model_name=loaded.name,
                version=loaded.version,
                tracking_uri=tracking_uri,
            )
            version = f" (model {loaded.name} version {loaded.version})" if loaded.version else ""
            typer.echo(f"logged to MLflow run {loaded.run_id}{version}: {where}/")
        if report.exit_code:
            raise typer.Exit(report.exit_code)  # cli.main returns it: the shell sees 3


def _segments(tables: Any, as_of: str | None, scores: Any) -> pd.DataFrame:
    """Return the slice columns of the run's sellers at ``as_of``, aligned with ``scores``."""
    import pandas as pd

    from riskscore.features import SEGMENT_COLUMNS, add_segments
    from riskscore.monitor import MonitorError
    from riskscore.monitor._proxy import scores_id_col

    if as_of is None or scores is None:
        raise MonitorError(
            "slices need --data DIR, --as-of T and --scores together (the sellers of the "
            "scored run, their tables and the moment they were scored at)"
        )
    key = scores_id_col(scores, "riskscore monitor --scores")
    try:
        moment = pd.Timestamp(as_of)
    except ValueError as err:
        raise MonitorError(f"--as-of: {as_of!r} is not a date or time ({err})") from None
    rows = pd.DataFrame({"entity_id": scores[key].astype(str).to_numpy(), "cutoff": moment})
    return add_segments(rows, tables, "seller")[list(SEGMENT_COLUMNS)]


def _model_reference(uri: str, tracking_uri: str | None) -> tuple[Reference, LoadedModel | None]:
    """Return the monitoring reference logged with a model, and the model when from MLflow."""
    import tempfile

    from riskscore.monitor import MonitorError, Reference

    if Path(uri).exists():
        return Reference.load(Path(uri)), None
    from riskscore.registry import load_risk_model
    from riskscore.registry._artifacts import download_run_files
    from riskscore.registry._log import MONITOR_REFERENCE

    loaded = load_risk_model(uri, tracking_uri=tracking_uri)
    tmp = tempfile.mkdtemp(prefix="riskscore-monitor-")
    found = {}
    if loaded.run_id is not None:
        found = download_run_files(
            loaded.run_id, [MONITOR_REFERENCE], tmp, tracking_uri=tracking_uri
        )
    if MONITOR_REFERENCE not in found:
        raise MonitorError(
            f"{uri}: the model's run holds no {MONITOR_REFERENCE} (models logged before "
            "monitoring existed have none); retrain and log it, or pass --reference FILE"
        )
    return Reference.load(found[MONITOR_REFERENCE]), loaded
