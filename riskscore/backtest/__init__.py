"""Backtests: replay model versions and rule sets over history, cutoff by cutoff.

:func:`backtest` builds the features **as of** each cutoff, applies the models and rule
sets, and compares the alerts with the labels decided in the window after the cutoff
(the training set's own label logic, label delay included). The
:class:`BacktestResult` reports, per cutoff and overall, alerts, alerts per day,
precision, recall, recall of value (GMV caught), the first-alert lead time before the
enforcement decision and which rules alerted alone; it compares two policies with
paired bootstrap intervals, draws the plots, writes the files and logs them to MLflow.
See ``docs/backtest.md``.

Examples
--------
>>> from riskscore.backtest import backtest
>>> from riskscore.datasets import make_marketplace
>>> from riskscore.scoring._demo import demo_model
>>> tables = make_marketplace(n_sellers=150, seed=0)
>>> result = backtest(tables, ["2024-08-01", "2024-09-01"], models=[demo_model()],
...                   band="high", n_bootstrap=0)
>>> result.policies
['band>=high']
"""

from __future__ import annotations

from riskscore.backtest._demo import what_if_rules
from riskscore.backtest._errors import BacktestError
from riskscore.backtest._result import BacktestResult
from riskscore.backtest._run import backtest

__all__ = ["BacktestError", "BacktestResult", "backtest", "what_if_rules"]
