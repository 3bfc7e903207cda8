"""Fetch small files of a training run (model card, monitoring reference, rule set).

Used by :func:`riskscore.scoring._folder.export_model` to gather what a model folder holds
besides the model itself. mlflow is imported inside the function.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from riskscore.registry._tracking import _mlflow, _tracking

__all__ = ["download_run_files"]


def download_run_files(
    run_id: str,
    paths: Sequence[str],
    dst: str | os.PathLike[str],
    *,
    tracking_uri: str | None = None,
) -> dict[str, Path]:
    """Download the artifacts ``paths`` of run ``run_id`` that exist into ``dst``.

    Parameters
    ----------
    run_id : str
    paths : sequence of str
        Artifact paths relative to the run's root (e.g. ``model_card.md``).
    dst : path
        Folder to download into.
    tracking_uri : str, optional

    Returns
    -------
    dict of str to pathlib.Path
        The artifact path of each file found, and where it was written; paths the run
        does not hold are left out.
    """
    from mlflow.exceptions import MlflowException

    found: dict[str, Path] = {}
    with _tracking(tracking_uri) as client:
        mlflow = _mlflow()
        listed: dict[str, set[str]] = {}
        for path in paths:
            parent = str(Path(path).parent) if "/" in path else ""
            if parent not in listed:
                try:
                    listed[parent] = {a.path for a in client.list_artifacts(run_id, parent or None)}
                except (MlflowException, OSError):
                    listed[parent] = set()
            if path not in listed[parent]:
                continue
            try:
                local = mlflow.artifacts.download_artifacts(
                    run_id=run_id, artifact_path=path, dst_path=os.fspath(dst)
                )
            except (MlflowException, OSError):
                continue
            found[path] = Path(local)
    return found
