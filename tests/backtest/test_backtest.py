"""``backtest`` end to end on a simulated marketplace: labels, point in time, comparison.

Every test here builds features at one or two cutoffs of a 300-seller marketplace, so the
module is marked slow.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskscore.backtest import backtest, what_if_rules
from tests.backtest.conftest import CUTOFFS, rule, ruleset

pytestmark = pytest.mark.slow

CUT = pd.Timestamp("2024-08-01")
EVERYONE = ruleset("everyone", rule("all", "account__age_days >= 0"))


def labels_for(market, decided: dict[str, str]) -> pd.DataFrame:
    """A labels table holding only fraud decisions of the given sellers at the given times."""
    template = market["labels"].iloc[[0] * len(decided)].reset_index(drop=True)
    out = template.assign(
        seller_id=pd.array(list(decided), dtype=template["seller_id"].dtype),
        label=pd.array(["fraud"] * len(decided), dtype=template["label"].dtype),
        decided_at=pd.to_datetime(list(decided.values()), format="ISO8601").astype(
            template["decided_at"].dtype
        ),
    )
    if "listing_id" in out.columns:
        out["listing_id"] = pd.array([None] * len(decided), dtype=out["listing_id"].dtype)
    return out


def test_only_labels_decided_inside_the_window_count(market):
    ids = sorted(market["sellers"].loc[market["sellers"]["registered_at"] < CUT, "seller_id"])
    inside, after, before, edge = ids[:4]
    market["labels"] = labels_for(
        market,
        {
            inside: "2024-08-20",
            edge: "2024-09-30",  # cutoff + 60 days: the window's last moment, counts
            after: "2024-09-30 00:00:01",  # one second after the window: never counts
            before: "2024-07-31",  # before the cutoff: already known, left out
        },
    )
    result = backtest(market, [CUT], horizon="60D", rulesets=[EVERYONE], n_bootstrap=0)
    rows = result.rows.set_index("entity_id")
    assert rows.loc[inside, "label"] == 1 and rows.loc[edge, "label"] == 1
    assert rows.loc[after, "label"] == 0
    assert before not in rows.index
    overall = result.overall.iloc[0]
    assert overall["positives"] == 2 and overall["true_positives"] == 2
    assert overall["alerts"] == len(rows)  # everyone alerted
    assert overall["precision"] == pytest.approx(2 / len(rows))
    assert result.per_cutoff.loc[0, "lead_days_median"] == pytest.approx((19 + 60) / 2)


def test_a_decision_inside_the_label_delay_does_not_count(market):
    ids = sorted(market["sellers"].loc[market["sellers"]["registered_at"] < CUT, "seller_id"])
    market["labels"] = labels_for(market, {ids[0]: "2024-08-10", ids[1]: "2024-08-20"})
    result = backtest(
        market, [CUT], horizon="60D", label_delay="14D", rulesets=[EVERYONE], n_bootstrap=0
    )
    rows = result.rows.set_index("entity_id")
    assert rows.loc[ids[0], "label"] == 0  # decided within the 14-day delay
    assert rows.loc[ids[1], "label"] == 1


def _shifted_events(market, seconds: int) -> dict[str, pd.DataFrame]:
    """Copies of tables with orders, listings and complaints added at/after ``CUT``."""
    out = dict(market)
    orders = market["orders"].sample(200, random_state=seconds).copy()
    orders["order_id"] = orders["order_id"] + f"-late{seconds}"
    orders["created_at"] = CUT + pd.Timedelta(seconds=seconds)
    orders["amount"] = orders["amount"] * 50
    for col in ("delivered_at", "refunded_at", "cancelled_at"):
        if col in orders.columns:
            orders[col] = pd.NaT
    out["orders"] = pd.concat([market["orders"], orders], ignore_index=True)
    complaints = market["complaints"].sample(50, random_state=seconds).copy()
    complaints["complaint_id"] = complaints["complaint_id"] + f"-late{seconds}"
    complaints["created_at"] = CUT + pd.Timedelta(seconds=seconds)
    out["complaints"] = pd.concat([market["complaints"], complaints], ignore_index=True)
    return out


def _alert_columns(result) -> pd.DataFrame:
    keep = ["entity_id", "label"] + [
        c for c in result.rows.columns if c.startswith(("alert:", "band:", "alone:"))
    ]
    return result.rows[keep]


@pytest.mark.parametrize("seconds", [0, 3600 * 24 * 10])
def test_rows_at_or_after_the_cutoff_change_no_alert(market, model, seconds):
    """Features are as of each cutoff: events at or after it change no score, band or alert."""
    rules = ruleset(
        "busy",
        rule("busy", "activity__orders_30d >= 5", "review"),
        rule("complained", "complaints__rate_30d > 0.05", "hold"),
    )
    kw = {"models": [model], "rulesets": [rules], "band": "high", "n_bootstrap": 0}
    before = backtest(market, [CUT], **kw)
    after = backtest(_shifted_events(market, seconds), [CUT], **kw)
    pd.testing.assert_frame_equal(_alert_columns(before), _alert_columns(after))
    assert before.rows["alert:busy@1"].any()  # the rules did fire
    # the later orders are in the window's value at stake, never in the alerts
    assert after.rows["value"].sum() > before.rows["value"].sum()


def test_the_check_catches_a_leaky_column(market):
    """The same check fails when a declared column reads orders after the cutoff."""

    def leaky(tables, cutoff):  # counts every order, not only those before the cutoff
        counts = tables["orders"].groupby("seller_id").size()
        return counts.rename("orders_ever").reset_index()

    rules = ruleset(
        "leaky", rule("many", "orders_ever >= 60", "review"), columns={"orders_ever": "number"}
    )
    kw = {"rulesets": [rules], "columns": leaky, "n_bootstrap": 0}
    before = backtest(market, [CUT], **kw)
    late = dict(market)
    counts = market["orders"].groupby("seller_id").size()
    quiet = counts[counts < 60].index[0]  # not alerted before: under 60 orders ever
    first = market["orders"].index[market["orders"]["seller_id"] == quiet][0]
    extra = market["orders"].loc[[first] * 200].copy()
    extra["order_id"] = [f"late-{i}" for i in range(200)]
    extra["created_at"] = CUT + pd.Timedelta("1D")
    late["orders"] = pd.concat([market["orders"], extra], ignore_index=True)
    after = backtest(late, [CUT], **kw)
    assert not _alert_columns(before).equals(_alert_columns(after))


@pytest.fixture(scope="module")
def compared(simulated, model):
    """Rule set A (one feature rule) against A plus a high-score rule; bands alone allow."""
    tables = {k: v for k, v in simulated.items() if k != "truth"}
    quiet = {"low": "allow", "medium": "allow", "high": "allow", "critical": "allow"}
    busy = rule("busy", "activity__orders_30d >= 40", "review")
    a = ruleset("a", busy, band_actions=quiet)
    b = ruleset("b", busy, rule("high_score", "risk_score >= 700", "hold"), band_actions=quiet)
    return backtest(tables, CUTOFFS, models=[model], rulesets=[a, b], n_bootstrap=300, seed=1)


def test_comparison_has_paired_intervals(compared):
    table = compared.comparison
    assert compared.policies == ["a@1", "b@1"]
    overall = compared.overall.set_index("policy")
    for metric in ("precision", "recall", "value_recall", "alerts_per_day"):
        assert table.loc[metric, "a@1"] == pytest.approx(overall.loc["a@1", metric])
        assert table.loc[metric, "b@1"] == pytest.approx(overall.loc["b@1", metric])
        assert table.loc[metric, "delta"] == pytest.approx(
            table.loc[metric, "b@1"] - table.loc[metric, "a@1"]
        )
        lo, hi = table.loc[metric, "delta_lo"], table.loc[metric, "delta_hi"]
        assert lo <= table.loc[metric, "delta"] <= hi
    # B alerts on everything A does, plus more: recall cannot drop in any replicate
    assert table.loc["recall", "delta_lo"] >= 0
    assert table.loc["alerts_per_day", "delta_lo"] > 0
    same = compared.compare("a@1", "a@1", n_bootstrap=50)
    assert (same["delta_lo"] == 0).all() and (same["delta_hi"] == 0).all()
    again = compared.compare("a@1", "b@1", n_bootstrap=300, seed=1)
    pd.testing.assert_frame_equal(again, table)


def test_high_score_rule_alerts_alone(compared):
    rules = compared.rules.set_index(["policy", "rule"])
    rows = compared.rows
    alone = rows["alert:b@1"] & ~rows["alert:a@1"]
    # B's extra alerts are exactly the ones its high-score rule produced alone
    assert rules.loc[("b@1", "high_score"), "alerts_alone"] == int(alone.sum())
    assert int(alone.sum()) > 0
    assert rules.loc[("b@1", "high_score"), "true_positives_alone"] == int(
        (alone & rows["label"].astype(bool)).sum()
    )


def test_report_files_and_plot(compared, tmp_path):
    text = compared.to_markdown()
    assert "## Overall" in text and "| a@1 |" in text and "paired bootstrap" in text
    paths = compared.save(tmp_path / "bt")
    assert {p.name for p in (tmp_path / "bt").iterdir()} == set(paths)
    assert (tmp_path / "bt" / "backtest.png").read_bytes()[:4] == b"\x89PNG"
    saved = pd.read_csv(paths["overall.csv"])
    assert saved["alerts"].tolist() == compared.overall["alerts"].tolist()
    assert "b@1 minus a@1" in compared.summary()


def test_log_to_mlflow(compared, tmp_path):
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    run_id = compared.log_to_mlflow(tracking_uri=uri)
    client = MlflowClient(tracking_uri=uri)
    files = {f.path for f in client.list_artifacts(run_id, "backtest")}
    assert {"backtest/backtest.png", "backtest/overall.csv", "backtest/backtest.md"} <= files
    metrics = client.get_run(run_id).data.metrics
    expected = compared.overall.set_index("policy").loc["b@1", "recall"]
    assert metrics["backtest.b_1.recall"] == pytest.approx(expected)
    assert client.get_run(run_id).info.status == "FINISHED"


def test_what_if_rules_computes_main_category(simulated, model):
    from pathlib import Path

    from riskscore.rules import RuleSet

    tables = {k: v for k, v in simulated.items() if k != "truth"}
    example = RuleSet.load(Path(__file__).parents[2] / "examples" / "rules" / "marketplace.yaml")
    result = what_if_rules(
        tables, example, models=[model], band="high", cutoffs=CUTOFFS, n_bootstrap=0
    )
    assert result.policies == ["band>=high", "marketplace@2026.12.1"]
    band, rules = (result.rows[f"alert:{p}"].to_numpy() for p in result.policies)
    # the example's band actions alert on high and critical: the rules add to the band
    assert np.all(rules >= band)


def test_cutoffs_inside_a_models_training_labels_are_named(market, model):
    # a refit deployed from a time split whose test window is 2024-08-01 learnt from the
    # labels up to 2024-09-30: a backtest at 2024-08-01 and 2024-09-01 is in-sample
    import copy

    from riskscore.scoring import Scorer

    refit = copy.deepcopy(model)
    windows = {
        "train": ["2024-03-01", "2024-05-01"],
        "valid": ["2024-06-01", "2024-07-01"],
        "calib": ["2024-06-01", "2024-07-01"],
        "test": ["2024-08-01", "2024-08-01"],
    }
    refit.metadata.update({"fit": "refit", "split": {"mode": "time", "windows": windows}})
    scorer = Scorer(refit)
    result = backtest(market, CUTOFFS, horizon="60D", models=[scorer], band="high", n_bootstrap=0)
    [note] = result.settings["in_sample"]
    assert f"{scorer.model_name}@{scorer.model_version} was fitted on every labelled row" in note
    assert "up to 2024-08-01 (labels to 2024-09-30)" in note
    assert "its figures at 2 cutoff(s) (2024-08-01 .. 2024-09-01) are in-sample" in note
    assert result.summary().splitlines()[1] == f"warning: {note}"
    # the evaluated fit (no refit) learnt up to its calibration window only
    refit.metadata["fit"] = "evaluated"
    honest = backtest(
        market, CUTOFFS, horizon="60D", models=[Scorer(refit)], band="high", n_bootstrap=0
    )
    [note] = honest.settings["in_sample"]
    assert "its train, validation and calibration cutoffs up to 2024-07-01" in note
    assert "its figures at 1 cutoff(s) (2024-08-01 .. 2024-08-01)" in note
    # the fixture model names no time split: nothing to say
    plain = backtest(
        market, CUTOFFS, horizon="60D", models=[Scorer(model)], band="high", n_bootstrap=0
    )
    assert plain.settings["in_sample"] == [] and "warning:" not in plain.summary()
