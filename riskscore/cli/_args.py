"""What the commands share: checks of command-line values, and how a command talks.

Checks run before any work starts; each raises the calling command's own
:class:`~riskscore.exceptions.RiskscoreError` subclass (so the exit code is 2) with the
option, the value, what is wrong and the fix.

How a command talks (:func:`cli_output`, set up once per run by :func:`app_callback` or by
the first command that asks):

* progress of every long step goes to stderr (:mod:`riskscore._progress`: rich bars on a
  terminal, one plain line per step in logs and CI); ``--quiet`` turns it off;
* each Python warning becomes one line ``note: <message>`` on stderr, printed once per
  run however often it is raised, without file paths or source lines (:func:`note` prints
  a finding the same way, so a finding that is both warned and reported shows once);
* third-party logging (MLflow, alembic, py4j, urllib3...) is kept at ERROR; ``--verbose``
  restores it and shows warnings as Python prints them (file, line, code).

Help is plain text wrapped at the terminal width (:class:`PlainHelp`): the rich option
table cuts option names and words at 80 columns (``--no-entity-dis…``).
"""

from __future__ import annotations

import contextlib
import logging
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperCommand

from riskscore.exceptions import RiskscoreError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "QUIET_LOGGERS",
    "PlainHelp",
    "app_callback",
    "check_out_file",
    "check_out_folder",
    "cli_output",
    "note",
    "parse_time",
]

#: Third-party loggers kept at ERROR unless ``--verbose``.
QUIET_LOGGERS: tuple[str, ...] = (
    "mlflow",
    "alembic",
    "py4j",
    "urllib3",
    "git",
    "databricks",
    "pyspark",
    "numexpr",
    "matplotlib",
    "PIL",
    "shap",
)
_KEY = "riskscore.output"


class PlainHelp(TyperCommand):
    """A command whose ``--help`` is plain text wrapped at the terminal width.

    Use as ``@app.command(cls=PlainHelp)``. Option names are never cut (a long pair such
    as ``--entity-disjoint / --no-entity-disjoint`` gets a line of its own) and help text
    wraps at word boundaries, so the help reads well at 80 columns.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["rich_markup_mode"] = None
        super().__init__(*args, **kwargs)


def app_callback(
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="Show third-party log lines and Python warnings as raised (file, line).",
        ),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress lines: results and errors only.")
    ] = False,
) -> None:
    """Set how every command talks (``riskscore --verbose train ...``)."""
    cli_output(verbose=verbose, quiet=quiet)


def _plain_words(message: Any) -> str:
    """One line of a warning's text: no paths of our source, no runs of whitespace."""
    text = str(message).strip()
    return re.sub(r"\s+", " ", text)


def cli_output(*, verbose: bool = False, quiet: bool = False) -> None:
    """Set up this run's output: progress on, warnings as notes, third-party logs quiet.

    Call at the start of a command (or from the app callback). The first call in a run
    wins; later calls do nothing. Everything is undone when the command ends. Outside a
    command (no click context) it does nothing.

    Parameters
    ----------
    verbose : bool, default False
        Keep third-party logging and Python's own warning lines.
    quiet : bool, default False
        No progress (``RISKSCORE_PROGRESS`` is honoured otherwise; default ``auto``).
    """
    import os

    from typer._click.globals import get_current_context

    from riskscore._progress import set_progress

    ctx = get_current_context(silent=True)
    if ctx is None:
        return
    root = ctx.find_root()
    if _KEY in root.meta:
        return
    stack = contextlib.ExitStack()
    noted: set[str] = set()
    root.meta[_KEY] = noted
    mode = "off" if quiet else os.environ.get("RISKSCORE_PROGRESS", "auto")
    try:
        previous = set_progress(mode)  # type: ignore[arg-type]
    except ValueError as err:
        raise RiskscoreError(f"{err}") from None
    stack.callback(set_progress, previous)  # type: ignore[arg-type]
    stack.enter_context(warnings.catch_warnings())
    if not verbose:

        def show(
            message: Warning | str,
            category: type[Warning],
            filename: str,
            lineno: int,
            file: Any = None,
            line: str | None = None,
        ) -> None:
            note(message, _noted=noted)

        warnings.showwarning = show
        # MLflow sets its own logger's level when it is first imported (later, lazily)
        if "MLFLOW_LOGGING_LEVEL" not in os.environ:
            os.environ["MLFLOW_LOGGING_LEVEL"] = "ERROR"
            stack.callback(os.environ.pop, "MLFLOW_LOGGING_LEVEL", None)
        for name in QUIET_LOGGERS:
            logger = logging.getLogger(name)
            stack.callback(logger.setLevel, logger.level)
            logger.setLevel(logging.ERROR)
    root.call_on_close(stack.close)


def note(message: Any, *, err: bool = True, _noted: set[str] | None = None) -> None:
    """Print ``note: <message>`` once per run (a repeat of a printed note is dropped).

    Parameters
    ----------
    message : str or Warning
    err : bool, default True
        On stderr (warnings); ``False`` prints on stdout (findings in a command's result).

    Examples
    --------
    >>> note("no click context here: printed every time")
    """
    text = _plain_words(message)
    if _noted is None:
        from typer._click.globals import get_current_context

        ctx = get_current_context(silent=True)
        _noted = ctx.find_root().meta.get(_KEY) if ctx is not None else None
    if _noted is not None:
        if text in _noted:
            return
        _noted.add(text)
    typer.echo(f"note: {text}", err=err)


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
