"""Checks of command-line values shared by the commands, done before any work starts.

Each check raises the calling command's own :class:`~riskscore.exceptions.RiskscoreError`
subclass (so the exit code is 2) with the option, the value, what is wrong and the fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from riskscore.exceptions import RiskscoreError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["check_out_file", "check_out_folder", "parse_time"]


def check_out_file(path: Path, error: type[RiskscoreError], option: str = "--out") -> None:
    """Refuse an output file path that is a folder, or whose folder is a file."""
    if path.is_dir():
        raise error(
            f"{option} '{path}' is a folder; name a file in it instead, e.g. "
            f"'{path / ('result' + (path.suffix or '.parquet'))}'"
        )
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise error(
                    f"{option} '{path}' cannot be written: '{parent}' is a file, not a "
                    "folder; choose another path"
                )
            break


def check_out_folder(path: Path, error: type[RiskscoreError], option: str = "--out") -> None:
    """Refuse an output folder path that is an existing file."""
    if path.exists() and not path.is_dir():
        raise error(f"{option} '{path}' is a file; name a folder (it is created when missing)")
    check_out_file(path / "x", error, option)


def parse_time(text: str, error: type[RiskscoreError], option: str = "--as-of") -> pd.Timestamp:
    """Parse an ISO 8601 time given on the command line, or raise ``error``."""
    import pandas as pd

    try:
        value = pd.Timestamp(text)
    except (ValueError, TypeError, OverflowError):
        value = None
    if value is None or value is pd.NaT:
        raise error(
            f"{option}: {text!r} is not a date or time; use ISO 8601 such as 2024-06-30 or "
            "2024-06-30T12:00:00"
        )
    return value
