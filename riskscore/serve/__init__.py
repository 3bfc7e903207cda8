"""``riskscore serve``: an HTTP scoring service with the same contract as ``score_one``.

- :func:`create_app` builds the Starlette (ASGI) application: ``POST /score``,
  ``GET /health``, ``GET /ready``, ``GET /metrics``; run it with uvicorn (the
  ``riskscore serve MODEL`` command does).
- :class:`ModelSource` loads the model (a local folder or an MLflow URI) and swaps in a
  new :class:`Generation` when the folder or the registry alias changes; requests in
  flight finish on the model they started with.
- :mod:`riskscore.serve._contract` is the request and answer contract;
  :class:`ServeError` carries the HTTP status and error code of every refusal.

Importing this package imports Starlette; ``import riskscore`` does not import it.
"""

from riskscore.serve._app import DEFAULT_MAX_BODY_BYTES, create_app
from riskscore.serve._contract import PARAMS, ScoreRequest, parse_request, score_request
from riskscore.serve._errors import ServeError
from riskscore.serve._metrics import Metrics
from riskscore.serve._reload import Generation, ModelSource

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "PARAMS",
    "Generation",
    "Metrics",
    "ModelSource",
    "ScoreRequest",
    "ServeError",
    "create_app",
    "parse_request",
    "score_request",
]
