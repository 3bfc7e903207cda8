"""The error a backtest raises: :class:`BacktestError`, a ``RiskscoreError``."""

from __future__ import annotations

from riskscore.exceptions import RiskscoreError

__all__ = ["BacktestError"]


class BacktestError(RiskscoreError, ValueError):
    """A backtest cannot run as asked.

    The message says which argument (or policy, rule set, model) is wrong, what was
    expected, what came and the fix.

    Examples
    --------
    >>> from riskscore.backtest import backtest
    >>> backtest({}, ["2024-06-01"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    riskscore.backtest._errors.BacktestError: nothing to backtest: ...
    """
