"""The registry's error, defined with the others in :mod:`riskscore.exceptions`."""

from __future__ import annotations

from riskscore.exceptions import RegistryError

__all__ = ["RegistryError"]
