"""Library defaults in one place, overridable by ``RISKSCORE_*`` environment variables."""

from __future__ import annotations

import os

__all__ = ["DEFAULT_SEED", "DEFAULT_WINDOWS", "HIGH_RISK_CATEGORIES", "env_str", "tracking_uri"]

#: Seed used when the caller gives none.
DEFAULT_SEED = 0

#: Default look-back windows, in days, for windowed features.
DEFAULT_WINDOWS: tuple[int, ...] = (7, 30, 90)

#: Categories where counterfeits and fake goods concentrate.
HIGH_RISK_CATEGORIES: tuple[str, ...] = ("phones", "luxury", "cosmetics", "medicine", "tobacco")


def env_str(name: str, default: str) -> str:
    """Return ``RISKSCORE_<NAME>`` from the environment, else ``default``.

    Examples
    --------
    >>> env_str("SURELY_UNSET_SETTING", "fallback")
    'fallback'
    """
    return os.environ.get(f"RISKSCORE_{name.upper()}", default)


def tracking_uri() -> str:
    """Return the MLflow tracking URI: ``MLFLOW_TRACKING_URI`` or a local SQLite file.

    Examples
    --------
    >>> import os
    >>> "MLFLOW_TRACKING_URI" in os.environ or tracking_uri() == "sqlite:///mlflow.db"
    True
    """
    return os.environ.get("MLFLOW_TRACKING_URI", "sqlite:///mlflow.db")
