"""Declared rule columns that riskscore computes from the marketplace tables.

A rule set may read columns that are not catalog features (``columns:`` in its file,
``docs/rules.md``); whoever calls :meth:`RuleSet.decide_many` supplies them. The
commands that build the features from the tables themselves (``riskscore score
--rules``, ``riskscore backtest --rules``) and :func:`riskscore.backtest.what_if_rules`
compute the columns of :data:`COMPUTED_COLUMNS` as of the cutoff, the same way in each,
and refuse any other declared column before any work. One contract:
:func:`computed_columns` picks the function, :func:`extra_columns` checks what it
returned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from riskscore.rules._ruleset import RuleSet

__all__ = ["COMPUTED_COLUMNS", "ColumnsFn", "computed_columns", "extra_columns", "main_category"]

#: ``columns=``: a function of (tables, cutoff) returning the entity id and extra columns.
ColumnsFn = Callable[[Mapping[str, Any], pd.Timestamp], pd.DataFrame]


def main_category(tables: Mapping[str, Any], cutoff: Any) -> pd.DataFrame:
    """Return ``seller_id, main_category``: the category of most listings before ``cutoff``.

    Ties go to the first category in alphabetical order; sellers with no listing yet get
    no row (their ``main_category`` is NULL, so no condition on it fires). This is the
    declared column of ``examples/rules/marketplace.yaml`` (see ``docs/rules.md``).

    Examples
    --------
    >>> listings = pd.DataFrame({"seller_id": ["S1", "S1", "S1", "S2"],
    ...     "category": ["phones", "bags", "phones", "bags"],
    ...     "created_at": pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04",
    ...                                   "2024-03-01"])})
    >>> main_category({"listings": listings}, "2024-02-01").to_dict("records")
    [{'seller_id': 'S1', 'main_category': 'phones'}]
    """
    listings = tables["listings"]
    if not isinstance(listings, pd.DataFrame):
        listings = listings.to_pandas()
    created = pd.to_datetime(listings["created_at"])
    if isinstance(created.dtype, pd.DatetimeTZDtype):
        created = created.dt.tz_convert("UTC").dt.tz_localize(None)
    before = listings.loc[(created < pd.Timestamp(cutoff)).to_numpy(), ["seller_id", "category"]]
    counts = before.groupby(["seller_id", "category"]).size().rename("n").reset_index()
    counts = counts.sort_values(["seller_id", "n", "category"], ascending=[True, False, True])
    top = counts.drop_duplicates("seller_id")[["seller_id", "category"]]
    return top.rename(columns={"category": "main_category"}).reset_index(drop=True)


#: Declared columns riskscore computes: name -> (the entity it is for, its function).
COMPUTED_COLUMNS: dict[str, tuple[str, ColumnsFn]] = {"main_category": ("seller", main_category)}


def computed_columns(
    rulesets: Iterable[RuleSet], error: type[Exception], fix: str
) -> ColumnsFn | None:
    """Return the function computing the rule sets' declared columns; None if they declare none.

    A declared column riskscore does not compute for the rule set's entity raises
    ``error`` naming it, before any work; ``fix`` ends the message (what the caller can
    do instead).

    Examples
    --------
    >>> from riskscore.rules import RuleSet
    >>> rules = RuleSet.load("examples/rules/marketplace.yaml")
    >>> computed_columns([rules], ValueError, "no fix") is main_category
    True
    >>> tier = RuleSet.from_dict({"name": "t", "version": "1", "columns": {"tier": "string"},
    ...     "rules": [{"name": "gold", "when": "tier = 'gold'", "action": "allow",
    ...                "reason": {"en": "Gold", "zh": "金牌"}}]})
    >>> computed_columns([tier], ValueError, "fix: compute it yourself")
    Traceback (most recent call last):
    ...
    ValueError: rule set t@1 declares column(s) ['tier'] that riskscore does not compute ...
    """
    wanted: dict[str, list[str]] = {}  # column -> labels of the rule sets declaring it
    unknown: dict[str, list[str]] = {}
    for rules in rulesets:
        for name in rules.columns:
            known = COMPUTED_COLUMNS.get(name)
            target = wanted if known is not None and known[0] == rules.entity else unknown
            target.setdefault(name, []).append(rules.label)
    if unknown:
        labels = sorted({label for names in unknown.values() for label in names})
        computed = ", ".join(f"{n} (for {e}s)" for n, (e, _) in sorted(COMPUTED_COLUMNS.items()))
        raise error(
            f"rule set {', '.join(labels)} declares column(s) {sorted(unknown)} that riskscore "
            f"does not compute from the tables (it computes {computed}); {fix}"
        )
    if not wanted:
        return None
    functions = [COMPUTED_COLUMNS[name][1] for name in sorted(wanted)]
    return functions[0] if len(functions) == 1 else _merged(functions)


def _merged(functions: list[ColumnsFn]) -> ColumnsFn:
    """One function returning every function's columns, outer-joined on their id column."""

    def merged(tables: Mapping[str, Any], cutoff: pd.Timestamp) -> pd.DataFrame:
        frames = [fn(tables, cutoff) for fn in functions]
        out = frames[0]
        for frame in frames[1:]:
            out = out.merge(frame, on=out.columns[0], how="outer", validate="one_to_one")
        return out

    return merged


def extra_columns(
    fn: ColumnsFn,
    tables: Mapping[str, Any],
    cutoff: pd.Timestamp,
    key: str,
    ids: Any,
    error: type[Exception],
) -> pd.DataFrame:
    """``fn(tables, cutoff)`` checked and aligned to ``ids`` (index: the ids, in order).

    Ids ``fn`` has no row for get missing values (NULL: no condition on them fires).
    ``error`` is raised when ``fn`` returns no DataFrame, no ``key`` (column or index) or a
    ``key`` twice.

    Examples
    --------
    >>> fn = lambda tables, cutoff: pd.DataFrame({"seller_id": ["S2"], "tier": ["gold"]})
    >>> got = extra_columns(fn, {}, pd.Timestamp("2024-01-01"), "seller_id", ["S1", "S2"],
    ...                     ValueError)
    >>> got["tier"].tolist()
    [nan, 'gold']
    """
    extra = fn(tables, cutoff)
    when = f"at cutoff {cutoff:%Y-%m-%d}"
    if not isinstance(extra, pd.DataFrame):
        raise error(
            f"columns= returned {type(extra).__name__} {when}; it must return a pandas "
            f"DataFrame with '{key}' (a column or the index) and the columns"
        )
    if extra.index.name == key:
        extra = extra.reset_index()
    if key not in extra.columns:
        raise error(
            f"columns= returned no '{key}' column {when} (got {list(extra.columns)}); fix: "
            "return the entity id as a column or the index"
        )
    extra = extra.assign(**{key: extra[key].astype("str")})
    dup = extra[key][extra[key].duplicated()]
    if len(dup):
        raise error(
            f"columns= returned {len(dup)} duplicated '{key}' value(s) {when}, e.g. "
            f"{dup.head(3).tolist()}; fix: one row per entity"
        )
    return extra.set_index(key).reindex(pd.Index(ids, dtype="object").astype("str"))
