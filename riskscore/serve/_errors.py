"""The one error type of the scoring service: :class:`ServeError`, an HTTP status and a code.

Every answer that is not a score is ``{"error": {"code": ..., "message": ...}}`` with the
status below; the message is riskscore's own text (what, where, expected, got, fix) and
never carries a stack trace or a server path.

=====================  ======  ==================================================
code                   status  when
=====================  ======  ==================================================
``invalid_json``       400     the body is not JSON (or uses NaN / Infinity)
``invalid_body``       400     JSON of the wrong shape (not an object or a list)
``invalid_param``      400     ``explain``, ``top_k``, ``language``, ``as_of`` ...
``missing_feature``    400     a row lacks features the model needs
``wrong_type``         400     a feature value is text, a boolean, a list ...
``non_finite``         400     a feature value is infinite or beyond float64
``invalid_input``      400     any other row the scorer refuses
``payload_too_large``  413     the body is over the configured limit
``not_found``          404     no such route
``method_not_allowed`` 405     the route exists for another method
``not_ready``          503     no model is loaded yet
``internal_error``     500     a bug: the message says so, the log has the trace
=====================  ======  ==================================================
"""

from __future__ import annotations

import json

from riskscore.exceptions import RiskscoreError

__all__ = ["ServeError", "error_body"]


class ServeError(RiskscoreError, ValueError):
    """A request the scoring service refuses, with its HTTP status and error code.

    Parameters
    ----------
    code : str
        Stable machine-readable code, e.g. ``missing_feature``.
    message : str
        What is wrong, where, what was expected, what came, and the fix.
    status : int, default 400
        HTTP status of the answer.

    Examples
    --------
    >>> err = ServeError("invalid_param", "top_k must be an int from 1 to 5; got 'x'")
    >>> err.status, err.code
    (400, 'invalid_param')
    """

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def error_body(code: str, message: str) -> bytes:
    """Return the JSON bytes of an error answer.

    Examples
    --------
    >>> error_body("not_found", "no route GET /x")
    b'{"error":{"code":"not_found","message":"no route GET /x"}}'
    """
    return json.dumps(
        {"error": {"code": code, "message": message}}, separators=(",", ":"), ensure_ascii=False
    ).encode()
