"""The ASGI application of ``riskscore serve``: :func:`create_app`.

Routes: ``POST /score``, ``GET /health`` (the process answers), ``GET /ready`` (a model
is loaded: 200, else 503), ``GET /metrics`` (Prometheus text). Anything else is a JSON
404 / 405. One row is scored directly on the event loop (``score_one`` takes a fraction
of a millisecond with ``num_threads=1``; a thread hop would cost more than it saves);
batches above ``inline_rows`` go to a worker thread so the loop keeps answering.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from riskscore.exceptions import RiskscoreError
from riskscore.serve._contract import parse_request, score_request
from riskscore.serve._errors import ServeError, error_body
from riskscore.serve._metrics import Metrics
from riskscore.serve._reload import ModelSource

__all__ = ["DEFAULT_MAX_BODY_BYTES", "create_app"]

log = logging.getLogger("riskscore.serve")

#: Default request size limit: 1 MiB (about 2,000 rows of 60 features).
DEFAULT_MAX_BODY_BYTES = 1 << 20

_JSON = "application/json"
_ENDPOINTS = frozenset({"/score", "/health", "/ready", "/metrics"})

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _json(data: Any, status: int = 200) -> Response:
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return Response(body.encode(), status_code=status, media_type=_JSON)


def _error(err: ServeError) -> Response:
    headers = {"Connection": "close"} if err.status == 413 else None
    return Response(
        error_body(err.code, err.message),
        status_code=err.status,
        media_type=_JSON,
        headers=headers,
    )


class _Observe:
    """Pure ASGI middleware: count every HTTP request and time it into :class:`Metrics`."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            path = scope["path"]
            endpoint = path if path in _ENDPOINTS else "other"
            self.metrics.observe(endpoint, scope["method"], status, time.perf_counter() - t0)


async def _read_body(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length")
    too_large = ServeError(
        "payload_too_large",
        f"the body is over the limit of {limit} bytes; send fewer rows per request "
        "(or start the service with a larger --max-body-bytes)",
        status=413,
    )
    if length is not None and length.isdigit() and int(length) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(
    source: ModelSource,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    reload_seconds: float = 2.0,
    explain: str = "all",
    inline_rows: int = 64,
) -> Starlette:
    """Return the scoring service for ``source`` as a Starlette (ASGI) application.

    Parameters
    ----------
    source : ModelSource
        The model to serve. When nothing is loaded yet, the application loads it in the
        background at startup and answers ``/ready`` and ``/score`` with 503 until then.
    max_body_bytes : int, default 1 MiB
        Larger request bodies get a 413.
    reload_seconds : float, default 2.0
        How often to check the model source for a change (0: never).
    explain : {"all", "flagged", "none"}, default "all"
        Which rows get reasons when the request does not say.
    inline_rows : int, default 64
        Batches up to this many rows are scored on the event loop; larger ones in a
        worker thread.

    Returns
    -------
    starlette.applications.Starlette
        With ``state.source`` and ``state.metrics``.

    Examples
    --------
    >>> app = create_app(ModelSource("models/riskscore-seller-fraud"), reload_seconds=0)
    >>> sorted(r.path for r in app.routes)
    ['/health', '/metrics', '/ready', '/score']
    """
    if explain not in ("all", "flagged", "none"):
        raise ServeError(
            "invalid_param",
            f"explain must be one of 'all', 'flagged', 'none'; got {explain!r}",
        )
    metrics = Metrics()

    def note_model() -> None:
        current = source.current
        if current is not None:
            s = current.scorer
            metrics.model = (s.model_name, s.model_version, source.uri)

    async def score(request: Request) -> Response:
        try:
            body = await _read_body(request, max_body_bytes)
            generation = source.current
            if generation is None:
                raise ServeError("not_ready", _not_ready(source), status=503)
            parsed = parse_request(body, request.query_params, explain=explain)
            scorer = generation.scorer_for(parsed.top_k, parsed.language)
            if len(parsed.rows) <= inline_rows:
                answer = score_request(parsed, scorer)
            else:
                answer = await run_in_threadpool(score_request, parsed, scorer)
        except ServeError as err:
            return _error(err)
        metrics.rows += len(parsed.rows)
        return _json(answer)

    async def health(request: Request) -> Response:
        return _json({"status": "ok"})

    async def ready(request: Request) -> Response:
        generation = source.current
        if generation is None:
            return _error(ServeError("not_ready", _not_ready(source), status=503))
        s = generation.scorer
        return _json(
            {
                "status": "ready",
                "entity": s.entity,
                "model_name": s.model_name,
                "model_version": s.model_version,
                "features": len(s.feature_names),
            }
        )

    async def prometheus(request: Request) -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 405:
            code, text = (
                "method_not_allowed",
                f"{request.method} is not allowed on {request.url.path}",
            )
        elif exc.status_code == 404:
            code, text = "not_found", f"no route {request.method} {request.url.path}"
        else:
            code, text = "http_error", str(exc.detail)
        text += "; the routes are POST /score, GET /health, GET /ready, GET /metrics"
        return _error(ServeError(code, text, status=exc.status_code))

    async def internal_error(request: Request, exc: Exception) -> Response:
        log.error("riskscore serve: internal error on %s", request.url.path, exc_info=exc)
        return _error(
            ServeError(
                "internal_error",
                f"riskscore could not answer this request ({type(exc).__name__}); this is a "
                "bug: the server log has the details, please report it with the request",
                status=500,
            )
        )

    async def watch() -> None:
        interval = reload_seconds if reload_seconds > 0 else 1.0
        while source.current is None:
            try:
                await run_in_threadpool(source.load)
                note_model()
            except RiskscoreError as err:
                source.last_error = str(err)
                log.warning("riskscore serve: model not loaded yet: %s", err)
                await asyncio.sleep(interval)
        if reload_seconds <= 0 or not source.watchable:
            return
        while True:
            await asyncio.sleep(reload_seconds)
            try:
                if await run_in_threadpool(source.poll):
                    metrics.reloads["ok"] += 1
                    note_model()
            except RiskscoreError as err:
                metrics.reloads["failed"] += 1
                source.last_error = str(err)
                log.warning("riskscore serve: reload failed, still serving the old model: %s", err)
            except Exception:  # never let the watcher die: the old model keeps serving
                metrics.reloads["failed"] += 1
                log.exception("riskscore serve: reload failed")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        note_model()
        task = asyncio.create_task(watch())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = Starlette(
        routes=[
            Route("/score", score, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
            Route("/ready", ready, methods=["GET"]),
            Route("/metrics", prometheus, methods=["GET"]),
        ],
        exception_handlers={HTTPException: http_error, Exception: internal_error},
        lifespan=lifespan,
    )
    app.state.source = source
    app.state.metrics = metrics
    return _wrap(app, metrics)


def _wrap(app: Starlette, metrics: Metrics) -> Starlette:
    app.add_middleware(_Observe, metrics=metrics)  # type: ignore[arg-type]
    return app


def _not_ready(source: ModelSource) -> str:
    # no URI or load error here: they name server paths; the server log has them
    return "no model is loaded yet; retry when GET /ready is 200 (the server log says why)"
