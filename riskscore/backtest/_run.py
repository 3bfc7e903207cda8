"""``backtest``: replay model versions and rule sets over history, cutoff by cutoff.

At each cutoff the features are built **as of** the cutoff (rows strictly before it) and
labelled by :func:`riskscore.features.build_training_set` — the training set's own label
logic: label 1 when a label of the target is decided in
``(cutoff + label_delay, cutoff + label_delay + horizon]``; entities labelled before the
cutoff are left out (already actioned). The models score those features, the policies
(:mod:`riskscore.backtest._policies`) turn scores and features into alerts, and
:mod:`riskscore.backtest._metrics` compares alerts with labels.

The only data read after a cutoff are the labels of its window, the decision times
(lead time) and the order amounts of the window (the value at stake); none of them
reaches a feature, a score or a rule.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import narwhals as nw
import numpy as np
import pandas as pd

from riskscore._validation import check_int, check_option, check_real
from riskscore.backtest._errors import BacktestError
from riskscore.backtest._policies import (
    Policy,
    apply_policy,
    check_policy_inputs,
    make_policies,
)
from riskscore.rules._columns import ColumnsFn, extra_columns

if TYPE_CHECKING:
    from riskscore.backtest._result import BacktestResult
    from riskscore.rules import RuleSet
    from riskscore.scoring import Scorer

__all__ = ["backtest"]


def _scorer(model: Any, i: int) -> Scorer:
    from riskscore.scoring import Scorer, load_scorer

    if isinstance(model, Scorer):
        return model
    if isinstance(model, str | os.PathLike):
        return load_scorer(model)
    from riskscore.modeling import RiskModel

    if isinstance(model, RiskModel):
        return Scorer(model)
    raise BacktestError(
        f"models[{i}] must be a Scorer, a RiskModel, a model folder or an MLflow model URI "
        f"(e.g. 'models:/riskscore-seller-fraud@champion'). Got {type(model).__name__} "
        "instead."
    )


def _ruleset(rules: Any, i: int) -> RuleSet:
    from riskscore.rules import RuleSet

    if isinstance(rules, RuleSet):
        return rules
    if isinstance(rules, str | os.PathLike):
        return RuleSet.load(rules)
    raise BacktestError(
        f"rulesets[{i}] must be a RuleSet or the path of a rule-set file (.yaml/.json). "
        f"Got {type(rules).__name__} instead."
    )


def _as_list(value: Any, name: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str | os.PathLike) or not isinstance(value, Sequence):
        return [value]
    return list(value)


def _orders(tables: Mapping[str, Any], key: str) -> pd.DataFrame:
    """``key, created_at, amount`` of every order, as pandas (naive UTC times)."""
    if "orders" not in tables:
        raise BacktestError("a backtest needs the 'orders' table (for the value at stake)")
    frame = nw.from_native(tables["orders"])
    if isinstance(frame, nw.LazyFrame):
        frame = frame.collect()
    missing = [c for c in (key, "created_at", "amount") if c not in frame.columns]
    if missing:
        raise BacktestError(
            f"table 'orders' lacks column(s) {missing}; fix: follow the data contract "
            "(riskscore.CONTRACT['orders'])"
        )
    pdf = frame.select(key, "created_at", "amount").to_pandas()
    created = pdf["created_at"]
    if isinstance(created.dtype, pd.DatetimeTZDtype):
        created = created.dt.tz_convert("UTC").dt.tz_localize(None)
    return pd.DataFrame(
        {
            "entity_id": pdf[key].astype("str").to_numpy(),
            "created_at": created.astype("datetime64[us]").to_numpy(),
            "amount": pdf["amount"].to_numpy(dtype="float64"),
        }
    )


def _values(
    orders: pd.DataFrame, ids: pd.Series, moment: pd.Timestamp, span: pd.Timedelta
) -> np.ndarray:
    """Order amount of each id in ``[moment, moment + span)``: the value at stake."""
    created = orders["created_at"]
    window = orders.loc[(created >= moment) & (created < moment + span)]
    sums = window.groupby("entity_id", sort=False)["amount"].sum()
    return ids.map(sums).fillna(0.0).to_numpy(dtype="float64")


def _decided(events: pd.DataFrame, ids: pd.Series, moment: pd.Timestamp) -> pd.Series:
    """Each id's first target decision at or after ``moment`` (NaT when none)."""
    later = events.loc[events["decided_at"] >= moment]
    first = later.groupby("entity_id", sort=False)["decided_at"].min()
    return ids.map(first).astype("datetime64[us]")


def backtest(
    tables: Mapping[str, Any],
    cutoffs: Sequence[Any],
    *,
    entity: str = "seller",
    target: str = "fraud",
    horizon: str = "60D",
    label_delay: str = "0D",
    models: Any = (),
    rulesets: Any = (),
    band: str | None = None,
    columns: ColumnsFn | None = None,
    language: str = "en",
    backend: str | None = None,
    allow_not_point_in_time: bool = False,
    n_bootstrap: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> BacktestResult:
    """Replay model versions and rule sets over history and score them against labels.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Marketplace tables with ``labels`` (``riskscore.io.load_tables`` or
        ``riskscore.datasets.make_marketplace``).
    cutoffs : sequence of timestamps
        Moments at which the policies are replayed, e.g. month starts of last quarter.
    entity : {"seller", "listing"}, default "seller"
    target : {"fraud", "counterfeit"}, default "fraud"
        The label kind an alert should anticipate.
    horizon, label_delay : str, default "60D" and "0D"
        The label window after each cutoff: ``(cutoff + delay, cutoff + delay + horizon]``,
        as in :func:`riskscore.features.build_training_set`.
    models : sequence, optional
        Model versions: :class:`~riskscore.scoring.Scorer`, ``RiskModel``, model folders or
        MLflow URIs (``models:/riskscore-seller-fraud@champion``).
    rulesets : sequence, optional
        :class:`~riskscore.rules.RuleSet` objects or rule-set files. With models, each rule
        set runs on each model's scores (its ``band_actions`` included).
    band : str, optional
        Also replay "alert when the model's band is ``band`` or higher", per model.
    columns : callable, optional
        ``columns(tables, cutoff) -> DataFrame`` with the entity id and the columns the
        rule sets declare (e.g. ``main_category``), computed as of the cutoff.
    language : {"en", "zh"}, default "en"
    backend : str, optional
        Where features are computed (see :func:`riskscore.features.build_features`).
    allow_not_point_in_time : bool, default False
        Passed to :func:`riskscore.features.build_training_set`.
    n_bootstrap, seed, level
        The paired bootstrap of the first two policies (:meth:`BacktestResult.compare`)
        and the bootstrap over audited sellers of the audit sample's intervals.

    Returns
    -------
    BacktestResult
        ``per_cutoff``, ``overall``, ``rules`` (which rules alerted alone),
        ``comparison`` (first two policies) and ``audit`` (per policy, precision,
        recall, flag rate and prevalence on the random-audit sample, with intervals,
        next to all labels; empty with ``audit_note`` saying "no audit sample" when the
        labels carry no ``random_audit`` rows), with ``to_markdown()``, ``plot()``,
        ``save()`` and ``log_to_mlflow()``.

    Raises
    ------
    BacktestError
        No policy (neither ``rulesets`` nor ``band``), ``band`` without a model, a rule
        set reading model outputs without a model or declared columns without
        ``columns=``, a model or rule set for another entity.
    FeatureError
        Bad cutoffs, horizon, delay, target or entity, or no ``labels`` table.

    Examples
    --------
    >>> from riskscore.datasets import make_marketplace
    >>> from riskscore.rules import RuleSet
    >>> tables = make_marketplace(n_sellers=150, seed=0)
    >>> rules = RuleSet.from_dict({"name": "linked", "version": "1", "rules": [
    ...     {"name": "banned_links", "when": "network__bad_neighbours >= 1",
    ...      "action": "review", "reason": {"en": "Linked to a banned shop",
    ...                                     "zh": "关联已处置店铺"}}]})
    >>> result = backtest(tables, ["2024-08-01", "2024-09-01"], rulesets=[rules],
    ...                   n_bootstrap=0)
    >>> result.per_cutoff[["policy", "cutoff", "entities"]].shape
    (2, 3)
    >>> list(result.overall["policy"])
    ['linked@1']
    """
    from riskscore.features import build_training_set
    from riskscore.features._training_set import label_events
    from riskscore.modeling import BANDS

    if not isinstance(tables, Mapping):
        raise BacktestError(
            f"The 'tables' parameter of backtest must be a mapping of table name to "
            f"DataFrame. Got {type(tables).__name__} instead. Load them with "
            "riskscore.io.load_tables(folder)."
        )
    where = "backtest"
    check_option(language, "language", where, ("en", "zh"), error=BacktestError)
    check_int(n_bootstrap, "n_bootstrap", where, minimum=0, error=BacktestError)
    check_int(seed, "seed", where, minimum=0, error=BacktestError)
    check_real(
        level, "level", where, low=0, high=1, low_open=True, high_open=True, error=BacktestError
    )
    if columns is not None and not callable(columns):
        raise BacktestError(
            f"The 'columns' parameter of backtest must be a function (tables, cutoff) -> "
            f"DataFrame. Got {type(columns).__name__} instead."
        )
    scorers = [_scorer(m, i) for i, m in enumerate(_as_list(models, "models"))]
    rule_sets = [_ruleset(r, i) for i, r in enumerate(_as_list(rulesets, "rulesets"))]
    if band is not None and band not in BANDS:
        raise BacktestError(f"band must be one of {list(BANDS)}; got {band!r}")
    if band is not None and not scorers:
        raise BacktestError(
            f"band={band!r} needs a model to band the entities; fix: pass models=[...]"
        )
    if not rule_sets and band is None:
        raise BacktestError(
            "nothing to backtest: pass rulesets=[...] (rule sets, alone or on models' "
            "scores) and/or models=[...] with band='high' (alert on that band or higher)"
        )
    owners = [("model", repr(s), s.entity) for s in scorers]
    owners += [("rule set", r.label, r.entity) for r in rule_sets]
    for what, label, owner_entity in owners:
        if owner_entity != entity:
            raise BacktestError(
                f"the {what} {label} is for {owner_entity}s but entity={entity!r}; fix: pass "
                f"entity={owner_entity!r} or a {what} for {entity}s"
            )
    for rules in rule_sets:
        check_policy_inputs(rules, has_model=bool(scorers), has_columns=columns is not None)
    policies = make_policies(scorers, rule_sets, band)

    rows_all = build_training_set(
        tables,
        entity,  # type: ignore[arg-type]
        target=target,
        cutoffs=cutoffs,
        horizon=horizon,
        label_delay=label_delay,
        backend=backend,
        allow_not_point_in_time=allow_not_point_in_time,
    )
    key = f"{entity}_id"
    span = pd.Timedelta(label_delay) + pd.Timedelta(horizon)
    orders = _orders(tables, key)
    events = label_events(tables, entity, target)  # type: ignore[arg-type]
    moments = sorted(pd.Timestamp(c) for c in pd.unique(rows_all["cutoff"]))
    if not moments:
        moments = sorted({pd.Timestamp(c) for c in cutoffs})
    feature_cols = [c for c in rows_all.columns if c not in ("entity_id", "cutoff", "label")]

    parts: list[pd.DataFrame] = []
    alerts: dict[str, list[np.ndarray]] = {p.name: [] for p in policies}
    alone: dict[str, list[np.ndarray]] = {p.name: [] for p in policies}
    fired: dict[str, dict[str, list[int]]] = {
        p.name: {r.name: [0, 0] for r in p.rules.rules} for p in policies if p.rules is not None
    }
    for moment in moments:
        here = rows_all[rows_all["cutoff"] == moment].reset_index(drop=True)
        ids = here["entity_id"]
        base = pd.DataFrame(
            {
                "entity_id": ids,
                "cutoff": here["cutoff"],
                "label": here["label"],
                "value": _values(orders, ids, moment, span),
                "decided_at": _decided(events, ids, moment),
            }
        )
        features = here[feature_cols].assign(**{key: ids.to_numpy()})
        if columns is not None:
            extra = extra_columns(columns, tables, moment, key, ids, BacktestError)
            features = pd.concat(
                [
                    features,
                    extra.drop(columns=feature_cols, errors="ignore").reset_index(drop=True),
                ],
                axis=1,
            )
        scored = [_score(s, features, moment) for s in scorers]
        for scorer, s in zip(scorers, scored, strict=True):
            base[f"band:{scorer.model_name}@{scorer.model_version}"] = s["band"].to_numpy(
                dtype=object
            )
        truth = base["label"].to_numpy(dtype=bool)
        for policy in policies:
            frame = _policy_frame(policy, features, scored)
            applied = apply_policy(policy, frame, BANDS, language)
            alerts[policy.name].append(applied.alert)
            alone[policy.name].append(applied.alone)
            for rule, hit in applied.fired.items():
                fired[policy.name][rule][0] += int(hit.sum())
                fired[policy.name][rule][1] += int((hit & truth).sum())
        parts.append(base)

    from riskscore.backtest._result import BacktestResult

    rows = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    stacked = {n: np.concatenate(a) if a else np.zeros(0, bool) for n, a in alerts.items()}
    for name, values in stacked.items():
        rows[f"alert:{name}"] = values
    for policy in policies:
        if policy.rules is not None:
            rows[f"alone:{policy.name}"] = np.concatenate(alone[policy.name])
    settings = {
        "entity": entity,
        "target": target,
        "horizon": str(horizon),
        "label_delay": str(label_delay),
        "cutoffs": [f"{m:%Y-%m-%d %H:%M:%S}" for m in moments],
        "models": [f"{s.model_name}@{s.model_version}" for s in scorers],
        "rulesets": [r.label for r in rule_sets],
        "rule_set_sha256": {r.label: r.sha256() for r in rule_sets},
        "band": band,
        "language": language,
        "in_sample": [
            n for s in scorers if (n := in_sample_note(s, moments, pd.Timedelta(horizon)))
        ],
    }
    from riskscore.backtest._audit import audit_table

    audit, audit_note = audit_table(
        tables,
        rows,
        stacked,
        entity=entity,
        target=target,
        cutoffs=moments,
        horizon=horizon,
        label_delay=label_delay,
        n_bootstrap=n_bootstrap,
        level=level,
        seed=seed,
    )
    return BacktestResult.build(
        rows,
        policies,
        {n: {r: (a, b) for r, (a, b) in d.items()} for n, d in fired.items()},
        settings,
        horizon=pd.Timedelta(horizon),
        n_bootstrap=n_bootstrap,
        seed=seed,
        level=level,
        audit=audit,
        audit_note=audit_note,
    )


def in_sample_note(scorer: Any, cutoffs: Sequence[Any], horizon: pd.Timedelta) -> str:
    """Say which backtest cutoffs fall inside the labelled rows a model was fitted on.

    A cutoff before the end of the model's fitted windows plus ``horizon`` shares rows or
    label windows with the fit (:func:`riskscore.modeling._in_sample.in_sample_times`),
    so the model's figures there are in-sample, not a backtest. Empty when no cutoff
    does, or the model names no time windows.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> windows = {"train": ["2024-05-01", "2024-07-01"], "valid": ["2024-08-01", "2024-09-01"],
    ...            "calib": ["2024-08-01", "2024-09-01"], "test": ["2024-10-01", "2024-10-01"]}
    >>> model = SimpleNamespace(metadata={"fit": "refit", "split": {"mode": "time",
    ...                                   "windows": windows}})
    >>> scorer = SimpleNamespace(model=model, model_name="m", model_version="3")
    >>> cutoffs = pd.to_datetime(["2024-09-01", "2024-11-01", "2025-01-01"])
    >>> note = in_sample_note(scorer, cutoffs, pd.Timedelta("60D"))
    >>> note[:72]
    'm@3 was fitted on every labelled row of cutoffs up to 2024-10-01 (labels'
    >>> note[note.index("its figures"):note.index(" are")]
    'its figures at 2 cutoff(s) (2024-09-01 .. 2024-11-01)'
    """
    from riskscore.modeling._in_sample import fitted_until
    from riskscore.modeling._in_sample import in_sample_note as note_of

    metadata = getattr(getattr(scorer, "model", None), "metadata", None) or {}
    fitted = fitted_until(metadata)
    after = "" if fitted is None else f"{fitted[0] + horizon:%Y-%m-%d}"
    return note_of(
        metadata,
        cutoffs,
        name=f"{scorer.model_name}@{scorer.model_version}",
        what="a backtest",
        instead=f"backtest cutoffs after {after}, or a model trained before them",
        horizon=horizon,
    )


def _score(scorer: Scorer, features: pd.DataFrame, moment: pd.Timestamp) -> pd.DataFrame:
    if features.empty:
        return pd.DataFrame({"score": [], "risk_score": [], "band": []})
    return scorer.score_many(features, explain="none", as_of=moment).reset_index(drop=True)


def _policy_frame(
    policy: Policy, features: pd.DataFrame, scored: Sequence[pd.DataFrame]
) -> pd.DataFrame:
    """Return the frame a policy reads: features (+ extra columns) and its model's outputs."""
    if policy.model is None:
        return features
    outputs = scored[policy.model][["score", "risk_score", "band"]]
    if policy.rules is None:
        return outputs
    return pd.concat(
        [features.drop(columns=["score", "risk_score", "band"], errors="ignore"), outputs],
        axis=1,
    )
