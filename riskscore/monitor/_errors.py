"""The monitor's own error: a reference or a scoring run that cannot be compared."""

from __future__ import annotations

from riskscore.exceptions import RiskscoreError

__all__ = ["MonitorError"]


class MonitorError(RiskscoreError, ValueError):
    """A monitoring reference cannot be built, read or compared as asked.

    The message says what was wrong, where (file, column), what was expected, what came,
    and how to fix it.
    """
