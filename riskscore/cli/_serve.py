"""``riskscore serve MODEL``: the HTTP scoring service (Starlette on uvicorn).

MODEL is anything :func:`riskscore.load_scorer` accepts: a local model folder or an MLflow
URI such as ``models:/riskscore-seller-fraud@champion``. The model is loaded before the
server starts (a bad MODEL exits 2 at once) unless ``--wait-for-model``, which starts
anyway and answers ``/ready`` with 503 until the model appears. One process, one event
loop; SIGTERM / Ctrl-C finish the requests in flight, then exit.

With a rule set (``--rules``, or the model folder's ``rules.yaml``) every answer also
carries the decision (``action``, ``decided_by``, ``rules_fired``, ``rule_reasons``,
``rule_set``); ``--decision-log PATH`` appends every answer to the decision log.
"""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""

    @app.command()
    def serve(
        model: Annotated[
            str, typer.Argument(help="Model folder or MLflow URI (models:/name@alias).")
        ],
        host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port.")] = 8000,
        max_body_bytes: Annotated[
            int, typer.Option("--max-body-bytes", min=1, help="Larger bodies get a 413.")
        ] = 1 << 20,
        reload_seconds: Annotated[
            float,
            typer.Option(
                "--reload-seconds",
                min=0.0,
                help="Check the model folder or alias for a change this often (0: never).",
            ),
        ] = 2.0,
        explain: Annotated[
            str, typer.Option(help="Default reasons: all, flagged or none.")
        ] = "all",
        top_k: Annotated[int, typer.Option("--top-k", min=1, help="Default reasons per row.")] = 3,
        language: Annotated[str, typer.Option(help="Default reason language: en or zh.")] = "en",
        wait_for_model: Annotated[
            bool,
            typer.Option(
                "--wait-for-model",
                help="Start even if MODEL cannot be loaded yet; /ready is 503 until it is.",
            ),
        ] = False,
        log_level: Annotated[
            str, typer.Option("--log-level", help="uvicorn log level.")
        ] = "warning",
        rules: Annotated[
            str | None,
            typer.Option(help="Rule set deciding every answer (default: the folder's own)."),
        ] = None,
        decision_log: Annotated[
            str | None,
            typer.Option(
                "--decision-log", help="Append every answer to this log (.jsonl or folder)."
            ),
        ] = None,
    ) -> None:
        """Serve MODEL over HTTP: POST /score, GET /health, /ready, /metrics."""
        import uvicorn

        from riskscore.exceptions import RiskscoreError
        from riskscore.serve import ModelSource, ServeError, create_app

        if explain not in ("all", "flagged", "none"):
            raise ServeError(
                "invalid_param", f"--explain must be all, flagged or none; got {explain!r}"
            )
        if language not in ("en", "zh"):
            raise ServeError("invalid_param", f"--language must be 'en' or 'zh'; got {language!r}")
        rule_set = None
        if rules is not None:
            from riskscore.rules import RuleSet

            rule_set = RuleSet.load(rules)  # refuse a bad rule set before serving
        source = ModelSource(
            model,
            top_k=top_k,
            language=language,  # type: ignore[arg-type]
            rules=rule_set,
            decision_log=decision_log,
        )
        if wait_for_model:
            try:
                source.load()
            except RiskscoreError as err:
                typer.echo(f"riskscore serve: waiting for the model: {err}", err=True)
        else:
            source.load()
        application = create_app(
            source,
            max_body_bytes=max_body_bytes,
            reload_seconds=reload_seconds,
            explain=explain,
        )
        current = source.current
        what = (
            f"{current.scorer.model_name} version {current.scorer.model_version}"
            if current is not None
            else "no model yet"
        )
        typer.echo(f"riskscore serve: {what} on http://{host}:{port}", err=True)
        uvicorn.run(
            application,
            host=host,
            port=port,
            log_level=log_level,
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=30,
        )
