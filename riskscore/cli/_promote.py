"""``riskscore promote``: move the ``champion`` alias to a candidate that passes the gate.

The candidate (``--version``, default the ``challenger``) and the current champion are
scored on the candidate's own newest test window; the candidate is promoted when it is at
least as good on PR-AUC and precision at capacity and not worse calibrated (tolerances are
options). ``--force`` promotes anyway and is recorded on the version. ``--rollback`` points
``champion`` back at ``previous``. Exit codes: 0 promoted (or rolled back), 3 refused by the
gate, 2 bad input, 1 internal error.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

__all__ = ["REFUSED", "print_promotion", "register", "report_promotion"]

#: Exit code when the gate refuses the candidate.
REFUSED = 3


def report_promotion(decision: Any) -> None:
    """Print a :class:`riskscore.registry.Promotion`; exit with :data:`REFUSED` if refused."""
    print_promotion(decision)
    if not decision.promoted:
        raise typer.Exit(REFUSED)  # cli.main returns it: the shell sees exit code 3


def print_promotion(decision: Any) -> None:
    """Print a :class:`riskscore.registry.Promotion`: verdict, reasons, comparison."""
    verdict = "promoted" if decision.promoted else "REFUSED"
    forced = " (forced)" if decision.forced else ""
    typer.echo(
        f"{decision.name} version {decision.candidate}: {verdict}{forced} "
        f"(champion before: {decision.champion or 'none'})"
    )
    for reason in decision.reasons:
        typer.echo(f"  {reason}")
    if decision.comparison is not None:
        cols = [
            c
            for c in ("candidate", "champion", "delta", "delta_lo", "delta_hi")
            if c in decision.comparison.columns
        ]
        typer.echo(decision.comparison[cols].round(4).to_string())


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""

    @app.command()
    def promote(
        name: Annotated[
            str | None, typer.Option(help="Registered model (default: from --entity/--target).")
        ] = None,
        entity: Annotated[str, typer.Option(help="Entity of the model.")] = "seller",
        target: Annotated[str, typer.Option(help="Target of the model.")] = "fraud",
        version: Annotated[
            str | None, typer.Option(help="Candidate version (default: the challenger).")
        ] = None,
        force: Annotated[bool, typer.Option(help="Promote even if the gate refuses.")] = False,
        rollback: Annotated[
            bool, typer.Option(help="Point champion back at the previous version.")
        ] = False,
        min_pr_auc_delta: Annotated[
            float, typer.Option("--min-pr-auc-delta", help="Candidate − champion PR-AUC ≥ this.")
        ] = 0.0,
        min_precision_delta: Annotated[
            float,
            typer.Option("--min-precision-delta", help="Same for precision at capacity."),
        ] = 0.0,
        max_ece_increase: Annotated[
            float, typer.Option("--max-ece-increase", help="Allowed calibration-error increase.")
        ] = 0.005,
        bootstrap: Annotated[int, typer.Option(min=0, help="Bootstrap replicates.")] = 200,
        tracking_uri: Annotated[
            str | None, typer.Option("--tracking-uri", help="Default: $MLFLOW_TRACKING_URI.")
        ] = None,
    ) -> None:
        """Promote a registered version to champion if the gate passes (or --force)."""
        from riskscore import registry

        model = name or registry.model_name(entity, target)
        if rollback:
            version_now = registry.rollback(model, tracking_uri=tracking_uri)
            typer.echo(f"{model}: champion is version {version_now} again (rolled back)")
            return
        gate = registry.Gate(
            min_pr_auc_delta=min_pr_auc_delta,
            min_precision_delta=min_precision_delta,
            max_ece_increase=max_ece_increase,
        )
        decision = registry.promote(
            model,
            version=version,
            gate=gate,
            force=force,
            tracking_uri=tracking_uri,
            n_bootstrap=bootstrap,
        )
        report_promotion(decision)
