"""``riskscore export MODEL_URI --out models/<name>``: write the deployable model folder.

MODEL_URI is an MLflow model URI (``models:/riskscore-seller-fraud@champion``,
``models:/name/3``, ``runs:/<id>/model``) or a local model folder. The folder written holds
the LightGBM text model, the calibrator, risk scale and bands (JSON), the feature catalog,
the model card, the monitoring reference and rule set when the source has them (the
rule set logged with :func:`riskscore.registry.log_rules`, or ``--rules FILE``), and a
``manifest.json`` with versions and the SHA-256 of every file (see
:mod:`riskscore.scoring._folder`). ``riskscore serve models/<name>`` and
``riskscore.load_scorer("models/<name>")`` load it without a tracking server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""

    @app.command()
    def export(
        model: Annotated[
            str, typer.Argument(help="MLflow model URI (models:/name@alias) or model folder.")
        ],
        out: Annotated[Path, typer.Option(help="Folder to write, e.g. models/seller-fraud.")],
        version: Annotated[
            str | None, typer.Option(help="Version to record (default: the registry's).")
        ] = None,
        monitor_reference: Annotated[
            Path | None,
            typer.Option("--monitor-reference", help="monitor_reference.json to include."),
        ] = None,
        rules: Annotated[
            Path | None, typer.Option(help="Rule set file (.yaml/.json) to include.")
        ] = None,
        tracking_uri: Annotated[
            str | None, typer.Option("--tracking-uri", help="Default: $MLFLOW_TRACKING_URI.")
        ] = None,
        force: Annotated[bool, typer.Option(help="Replace an existing --out folder.")] = False,
    ) -> None:
        """Export MODEL as a self-contained folder (manifest with file hashes, no pickle)."""
        import os

        from riskscore.scoring._folder import export_model, read_manifest

        if tracking_uri:
            os.environ["MLFLOW_TRACKING_URI"] = tracking_uri
        folder = export_model(
            model,
            out,
            version=version,
            monitor_reference=monitor_reference,
            rules=rules,
            overwrite=force,
        )
        manifest = read_manifest(folder)
        info = manifest["model"]
        typer.echo(
            f"exported {info['name']} version {info['version']} to {folder} "
            f"({len(manifest['files'])} files: {', '.join(sorted(manifest['files']))})"
        )
        rules_info = manifest.get("rules")
        if rules_info:
            typer.echo(
                f"rule set {rules_info['label']} ({rules_info['file']}, "
                f"sha256 {rules_info['sha256'][:16]}...)"
            )
