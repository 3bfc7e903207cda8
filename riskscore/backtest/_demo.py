"""Answer "what would this rule have done last quarter?" in one call, for notebooks and the demo.

:func:`what_if_rules` backtests a rule set (and, when given, a baseline rule set and a
model band) over the last ``n_cutoffs`` month starts whose label window has closed, with
the ``main_category`` column of the example rule set computed as of each cutoff by
:func:`main_category`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from riskscore.backtest._errors import BacktestError
from riskscore.rules._columns import computed_columns, main_category

if TYPE_CHECKING:
    from riskscore.backtest._result import BacktestResult

# main_category: the declared columns' one definition (riskscore.rules._columns)
__all__ = ["main_category", "what_if_rules"]


def what_if_rules(
    tables: Mapping[str, Any],
    rules: Any,
    *,
    baseline: Any = None,
    models: Any = (),
    band: str | None = None,
    target: str = "fraud",
    horizon: str = "60D",
    n_cutoffs: int = 3,
    cutoffs: Sequence[Any] | None = None,
    n_bootstrap: int = 200,
    seed: int = 0,
) -> BacktestResult:
    """Backtest ``rules`` over last quarter's month starts (beside ``baseline`` or a band).

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Marketplace tables with labels.
    rules : RuleSet or path
        The new rule set.
    baseline : RuleSet or path, optional
        The rule set in production today; compared with ``rules`` (``rules - baseline``).
    models : sequence, optional
        Model(s) whose scores the rules read (see :func:`~riskscore.backtest.backtest`).
    band : str, optional
        Also backtest "the model's band or higher" (first policy when given).
    target, horizon
        The label kind and window.
    n_cutoffs : int, default 3
        Month starts, the last ``horizon`` before the data ends
        (:func:`riskscore.features.default_cutoffs`).
    cutoffs : sequence, optional
        Explicit cutoffs instead.
    n_bootstrap, seed
        The comparison's bootstrap.

    Returns
    -------
    BacktestResult
        Policies in the order: band (if any), baseline (if any), ``rules``; the
        comparison is between the first two.

    Examples
    --------
    >>> from riskscore.datasets import make_marketplace
    >>> from riskscore.rules import RuleSet
    >>> tables = make_marketplace(n_sellers=150, seed=0)
    >>> new = RuleSet.from_dict({"name": "new", "version": "1", "rules": [
    ...     {"name": "cheap_new_shop", "when": "account__age_days < 60 AND "
    ...      "pricing__median_price_ratio < 0.6", "action": "review",
    ...      "reason": {"en": "New shop selling cheap", "zh": "新店低价销售"}}]})
    >>> result = what_if_rules(tables, new, n_bootstrap=0)
    >>> len(result.settings["cutoffs"]), result.policies
    (3, ['new@1'])
    """
    from riskscore.backtest._run import _ruleset, backtest
    from riskscore.features import default_cutoffs

    if not isinstance(tables, Mapping):
        raise BacktestError(
            f"The 'tables' parameter of what_if_rules must be a mapping of table name to "
            f"DataFrame. Got {type(tables).__name__} instead. Load them with "
            "riskscore.io.load_tables(folder)."
        )
    new = _ruleset(rules, 0)
    rulesets = [new] if baseline is None else [_ruleset(baseline, 1), new]
    moments = list(cutoffs) if cutoffs else default_cutoffs(tables, horizon, n_cutoffs)  # type: ignore[arg-type]
    return backtest(
        tables,
        moments,
        entity=new.entity,
        target=target,
        horizon=horizon,
        models=models,
        rulesets=rulesets,
        band=band,
        columns=computed_columns(
            rulesets,
            BacktestError,
            "fix: call riskscore.backtest.backtest with columns=your function (tables, cutoff) "
            "-> DataFrame",
        ),
        n_bootstrap=n_bootstrap,
        seed=seed,
    )
