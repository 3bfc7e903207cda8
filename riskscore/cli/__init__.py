"""The ``riskscore`` command line: parses arguments, calls the library, owns exit codes.

Each command lives in its own module ``riskscore/cli/_<command>.py`` with a
``register(app)`` function; this module only assembles them. Exit codes: 0 ok,
2 bad arguments or input (any :class:`~riskscore.exceptions.RiskscoreError`), 1 internal error.
"""

from __future__ import annotations

import importlib
import sys

import typer

from riskscore.cli._args import app_callback
from riskscore.exceptions import RiskscoreError

__all__ = ["app", "main"]

app = typer.Typer(
    name="riskscore",
    help="Counterfeit and fraud risk scores for marketplace sellers and listings.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.callback()(app_callback)  # global --verbose / --quiet

#: Command modules, in the order `riskscore --help` lists them.
_COMMANDS: tuple[str, ...] = (
    "_simulate",
    "_validate",
    "_demo",
    "_features",
    "_train",
    "_evaluate",
    "_promote",
    "_export",
    "_score",
    "_rules",
    "_explain",
    "_monitor",
    "_backtest",
    "_replay",
    "_case",
    "_warn_buyers",
    "_links",
    "_serve",
)

for _name in _COMMANDS:
    try:
        _module = importlib.import_module(f"riskscore.cli.{_name}")
    except ModuleNotFoundError as _err:  # a command still being written elsewhere
        if _err.name != f"riskscore.cli.{_name}":
            raise
        continue
    _module.register(app)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code.

    0 ok, 2 bad input, 1 internal error, or a command's own code (3: promotion refused).
    """
    try:
        # without standalone mode, click returns a typer.Exit's code instead of raising
        code = app(args=argv, standalone_mode=False)
    except RiskscoreError as err:
        typer.echo(f"error: {err}", err=True)
        return 2
    except typer.Exit as exit_:
        return int(exit_.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("aborted", err=True)
        return 1
    except Exception as err:  # click usage errors carry their own exit code
        import click

        # typer >= 0.20 vendors click: its usage errors are not click.ClickException
        if isinstance(err, click.ClickException | typer.TyperException):
            err.show()  # type: ignore[union-attr]
            return int(err.exit_code)
        raise
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
