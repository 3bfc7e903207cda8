"""The registry's own error (to move into :mod:`riskscore.exceptions` when it settles)."""

from __future__ import annotations

from riskscore.exceptions import RiskscoreError

__all__ = ["RegistryError"]


class RegistryError(RiskscoreError, RuntimeError):
    """The tracking server or model registry cannot do what was asked."""
