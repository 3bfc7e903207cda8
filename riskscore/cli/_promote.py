"""``riskscore promote``: move ``champion`` to a candidate the gate says is not worse.

The candidate (``--version``, default the ``challenger``) and the current champion are
scored on the same rows — the candidate's logged test window, ``--table`` (labelled
rows neither model saw, e.g. cutoffs whose labels matured since training), or, with
``--table`` and ``--prequential N``, both versions' configurations refitted on the last
``N`` windows of the training table with their test rows pooled — and the
difference of PR-AUC and of precision at capacity gets a paired bootstrap interval
(entities drawn whole). The gate answers in plain words:

* **promote** — not worse than the margin on every metric, with at least
  ``--min-positives`` pooled positives, and no protected slice's false-positive rate
  raised beyond ``--fpr-margin``;
* **refuse** — worse beyond a margin, or a protected slice harmed (named, with the size);
* **insufficient evidence** — keep the champion; it says about how many more positives
  (and cutoffs) would likely decide.

``--force`` promotes anyway and is recorded on the version. ``--rollback`` points
``champion`` back at ``previous``. Exit codes: 0 promoted (or rolled back), 3 refused,
4 insufficient evidence (champion kept), 2 bad input, 1 internal error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from riskscore.cli._args import PlainHelp

__all__ = ["INSUFFICIENT_EVIDENCE", "REFUSED", "print_promotion", "register", "report_promotion"]

#: Exit code when the gate refuses the candidate.
REFUSED = 3
#: Exit code when the evidence is insufficient: the champion is kept (not an error).
INSUFFICIENT_EVIDENCE = 4


def report_promotion(decision: Any) -> None:
    """Print a :class:`riskscore.registry.Promotion`; exit 3 if refused, 4 if undecided."""
    print_promotion(decision)
    if not decision.promoted:
        code = (
            INSUFFICIENT_EVIDENCE
            if getattr(decision, "outcome", "") == "insufficient_evidence"
            else REFUSED
        )
        raise typer.Exit(code)  # cli.main returns it: the shell sees the exit code


def print_promotion(decision: Any) -> None:
    """Print a :class:`riskscore.registry.Promotion`: verdict, reasons, comparison."""
    outcome = getattr(decision, "outcome", "promote" if decision.promoted else "refuse")
    if decision.promoted:
        verdict = "promoted"
    elif outcome == "insufficient_evidence":
        verdict = "NOT PROMOTED, insufficient evidence (champion kept)"
    else:
        verdict = "REFUSED"
    forced = " (forced)" if decision.forced else ""
    typer.echo(
        f"{decision.name} version {decision.candidate}: {verdict}{forced} "
        f"(champion before: {decision.champion or 'none'})"
    )
    evidence = getattr(decision, "evidence", None)
    if evidence is not None:
        typer.echo(
            f"  compared on {evidence.n_rows} rows: {evidence.n_entities} entities, "
            f"{evidence.n_positives} positives, {evidence.n_cutoffs} cutoff(s)"
            + (f" ({evidence.source})" if evidence.source else "")
        )
    for reason in decision.reasons:
        typer.echo(f"  {reason}")
    if decision.comparison is not None:
        cols = [
            c
            for c in ("challenger", "champion", "delta", "delta_lo", "delta_hi")
            if c in decision.comparison.columns
        ]
        typer.echo(decision.comparison[cols].round(4).to_string())


def _audit_sample(folder: Path, rows: Any, target: str, horizon: str, label_delay: str) -> Any:
    """Return the random-audit sample of the cutoffs of ``rows`` (the ``--table``)."""
    from riskscore.exceptions import ParameterError
    from riskscore.io import load_tables
    from riskscore.modeling import audit_sample

    if rows is None or "cutoff" not in rows.columns:
        raise ParameterError(
            "--audit-data needs --table with a 'cutoff' column: the audit sample is taken "
            "in the label windows of the compared rows' cutoffs. Pass the labelled table "
            "the gate compares (build_training_set output) with --table."
        )
    tables = load_tables(folder)
    cutoffs = sorted(rows["cutoff"].unique())
    return audit_sample(tables, target, cutoffs, horizon=horizon, label_delay=label_delay)


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""

    @app.command(cls=PlainHelp)
    def promote(
        name: Annotated[
            str | None, typer.Option(help="Registered model (default: from --entity/--target).")
        ] = None,
        entity: Annotated[str, typer.Option(help="Entity of the model.")] = "seller",
        target: Annotated[str, typer.Option(help="Target of the model.")] = "fraud",
        version: Annotated[
            str | None, typer.Option(help="Candidate version (default: the challenger).")
        ] = None,
        force: Annotated[
            bool, typer.Option(help="Promote even if the gate refuses or lacks evidence.")
        ] = False,
        rollback: Annotated[
            bool, typer.Option(help="Point champion back at the previous version.")
        ] = False,
        table: Annotated[
            Path | None,
            typer.Option(
                help="Labelled rows (Parquet/CSV) neither model saw, with segment__* columns; "
                "compared instead of the candidate's test window. Add cutoffs here to decide "
                "an insufficient-evidence verdict."
            ),
        ] = None,
        audit_data: Annotated[
            Path | None,
            typer.Option(
                "--audit-data",
                metavar="DIR",
                help="With --table: marketplace tables whose labels hold random-audit reviews; "
                "the gate then reports both models on the audit sample of the table's cutoffs "
                "(informational, next to the all-labels figures).",
            ),
        ] = None,
        horizon: Annotated[
            str,
            typer.Option(help="With --audit-data: the label window the table was built with."),
        ] = "60D",
        label_delay: Annotated[
            str,
            typer.Option(help="With --audit-data: the label delay the table was built with."),
        ] = "0D",
        prequential: Annotated[
            int,
            typer.Option(
                min=0,
                help="With --table (the training table): refit both versions' configurations "
                "on its last N windows and pool their test rows (0: score the logged fits).",
            ),
        ] = 0,
        pr_auc_margin: Annotated[
            float,
            typer.Option(
                "--pr-auc-margin",
                help="Not worse = lower bound of challenger − champion PR-AUC ≥ −margin.",
            ),
        ] = 0.03,
        precision_margin: Annotated[
            float,
            typer.Option("--precision-margin", help="The same for precision at capacity."),
        ] = 0.05,
        min_positives: Annotated[
            int,
            typer.Option("--min-positives", min=0, help="Never promote on fewer pooled positives."),
        ] = 50,
        fpr_margin: Annotated[
            float,
            typer.Option(
                "--fpr-margin", help="Allowed FPR rise of a protected slice (0.02 = 2 points)."
            ),
        ] = 0.02,
        protected: Annotated[
            list[str] | None,
            typer.Option(
                "--protected",
                help="Protected slice 'segment=level' (repeat; default new and small sellers).",
            ),
        ] = None,
        min_pr_auc_delta: Annotated[
            float | None,
            typer.Option("--min-pr-auc-delta", hidden=True, help="Deprecated: --pr-auc-margin."),
        ] = None,
        min_precision_delta: Annotated[
            float | None,
            typer.Option(
                "--min-precision-delta", hidden=True, help="Deprecated: --precision-margin."
            ),
        ] = None,
        max_ece_increase: Annotated[
            float | None,
            typer.Option("--max-ece-increase", hidden=True, help="Deprecated: ignored."),
        ] = None,
        bootstrap: Annotated[
            int, typer.Option(min=0, help="Paired bootstrap replicates (0: no decision).")
        ] = 1000,
        tracking_uri: Annotated[
            str | None, typer.Option("--tracking-uri", help="Default: $MLFLOW_TRACKING_URI.")
        ] = None,
    ) -> None:
        """Promote a version to champion if the gate says it is not worse (or --force).

        Exit codes: 0 promoted, 3 refused, 4 insufficient evidence (champion kept).
        """
        import warnings

        from riskscore import registry

        model = name or registry.model_name(entity, target)
        if rollback:
            version_now = registry.rollback(model, tracking_uri=tracking_uri)
            typer.echo(f"{model}: champion is version {version_now} again (rolled back)")
            return
        rows = None
        if table is not None:
            from riskscore.cli._train import read_table

            rows = read_table(table)
        audit = None
        if audit_data is not None:
            audit = _audit_sample(audit_data, rows, target, horizon, label_delay)
        deprecated: dict[str, Any] = {
            k: v
            for k, v in (
                ("min_pr_auc_delta", min_pr_auc_delta),
                ("min_precision_delta", min_precision_delta),
                ("max_ece_increase", max_ece_increase),
            )
            if v is not None
        }
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DeprecationWarning)
            gate = registry.Gate(
                pr_auc_margin=pr_auc_margin,
                precision_margin=precision_margin,
                min_positives=min_positives,
                fpr_margin=fpr_margin,
                protected=tuple(protected) if protected else registry.DEFAULT_PROTECTED,
                **deprecated,
            )
        for w in caught:
            typer.echo(f"note: {w.message}", err=True)
        decision = registry.promote(
            model,
            version=version,
            gate=gate,
            force=force,
            tracking_uri=tracking_uri,
            n_bootstrap=bootstrap,
            table=rows,
            prequential=prequential,
            audit=audit,
        )
        report_promotion(decision)
