"""``riskscore rules check FILE``: load and validate a rule set, print what it does.

Exit codes: 0 the rule set is valid, 2 it is not (every problem printed with the rule's
name, the position in its condition and the fix).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the ``rules`` command group to ``app``."""
    rules_app = typer.Typer(help="Rule sets beside the model: check a file.", no_args_is_help=True)

    @rules_app.command("check")
    def check(
        path: Annotated[Path, typer.Argument(help="Rule set file (.yaml, .yml or .json).")],
    ) -> None:
        """Validate a rule set against the feature catalog; print its rules in order."""
        from riskscore.rules import RuleSet

        rules = RuleSet.load(path)
        typer.echo(
            f"{rules.label}: {len(rules)} rule(s) for {rules.entity}s, valid "
            f"(sha256 {rules.sha256()[:16]})"
        )
        typer.echo(f"band actions: {rules.band_actions}")
        if rules.columns:
            typer.echo(f"declared columns: {rules.columns}")
        typer.echo("rules, in precedence order (strictest action, priority, name):")
        for rule in rules.rules:
            flag = " override" if rule.override else ""
            typer.echo(f"  {rule.action:<6} p{rule.priority:<4} {rule.name}{flag}: {rule.when}")

    app.add_typer(rules_app, name="rules")
