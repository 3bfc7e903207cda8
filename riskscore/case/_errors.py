"""The error of the case layer."""

from __future__ import annotations

from riskscore.exceptions import RiskscoreError

__all__ = ["CaseFileError"]


class CaseFileError(RiskscoreError, ValueError):
    """A case file cannot be written or trusted.

    A file changed after writing, a decision that does not reproduce, or an output that
    already exists; the message names the file and the fix.
    """
