"""The selective-enforcement scenario and label outcomes (issue 17, item 3)."""

from __future__ import annotations

from datetime import datetime

import narwhals as nw
import pandas as pd
import pytest

import riskscore as rs
from riskscore.exceptions import SchemaError
from riskscore.features._outcomes import positive_labels
from riskscore.features._training_set import label_events
from riskscore.features.network import _seeds

_CACHE: dict[str, dict[str, pd.DataFrame]] = {}


def _market() -> dict[str, pd.DataFrame]:
    if "m" not in _CACHE:
        _CACHE["m"] = rs.make_marketplace(n_sellers=1500, seed=2, scenario="selective_enforcement")
    return _CACHE["m"]


def test_reviews_pass_the_contract_and_carry_outcome_and_source() -> None:
    tables = _market()
    rs.validate({k: v for k, v in tables.items() if k != "truth"})
    labels = tables["labels"]
    assert set(labels["outcome"]) == {"confirmed", "cleared", "reversed"}
    assert set(labels["source"]) == {"model", "random_audit"}
    audit = labels["source"] == "random_audit"
    assert labels.loc[audit, "selection_probability"].isin([0.02, 0.04]).all()
    assert labels.loc[~audit, "selection_probability"].isna().all()
    reversed_ = labels["outcome"] == "reversed"
    assert (labels.loc[reversed_, "reversed_at"] > labels.loc[reversed_, "decided_at"]).all()
    assert labels.loc[~reversed_, "reversed_at"].isna().all()


def test_confirmed_rows_are_truly_bad_except_the_mistakes() -> None:
    tables = _market()
    truth = tables["truth"].set_index("seller_id")
    labels = tables["labels"]
    confirmed = labels[labels["outcome"] == "confirmed"]
    bad = truth.loc[confirmed["seller_id"], "seller_type"].isin(
        ["fake_phone", "counterfeit", "counterfeit_ring", "click_farm"]
    )
    assert bad.mean() > 0.8  # a few honest sellers are confirmed by mistake
    reversed_sellers = labels.loc[labels["outcome"] == "reversed", "seller_id"]
    assert (
        truth.loc[reversed_sellers, "seller_type"].isin(["legit", "new_legit", "discount"])
    ).all()


def test_the_champion_misses_quiet_bad_sellers_that_the_audit_can_find() -> None:
    tables = _market()
    truth = tables["truth"]
    labels = tables["labels"]
    confirmed = set(labels.loc[labels["outcome"] == "confirmed", "seller_id"])
    # reviews run in the period: count the shops that sold in it (not those whose whole
    # life fell in the simulator's warm-up)
    orders = tables["orders"]
    sold = truth["seller_id"].isin(orders.loc[orders["created_at"] >= "2024-01-01", "seller_id"])
    in_period = truth[sold.to_numpy()]
    by_type = in_period.assign(hit=in_period["seller_id"].isin(confirmed)).groupby("seller_type")
    share = by_type["hit"].mean()
    # loud counterfeiters are found far more often than quiet click farms and rings
    assert share["counterfeit"] > share["click_farm"] + 0.2
    assert share["counterfeit"] > share["counterfeit_ring"] + 0.2
    bad = truth["seller_type"].isin(["fake_phone", "counterfeit", "counterfeit_ring", "click_farm"])
    assert truth.loc[bad, "seller_id"].isin(confirmed).mean() < 0.8  # many stay unlabelled


def test_cleared_and_reversed_rows_are_not_positives() -> None:
    labels = pd.DataFrame(
        {
            "seller_id": ["S1", "S2", "S3", "S4"],
            "listing_id": [None, None, None, None],
            "label": ["fraud"] * 4,
            "decided_at": pd.to_datetime(["2024-03-01"] * 4),
            "outcome": ["confirmed", "cleared", "reversed", "confirmed"],
            "reversed_at": pd.to_datetime([None, None, "2024-04-01", None]),
        }
    )
    assert label_events({"labels": labels}, "seller", "fraud")["entity_id"].tolist() == [
        "S1",
        "S4",
    ]
    # as known on 2024-03-15, the reversal had not happened yet
    known = positive_labels(labels, pd.Timestamp("2024-03-15").to_pydatetime())
    assert known["seller_id"].tolist() == ["S1", "S3", "S4"]
    # without an outcome column every row is confirmed
    plain = labels.drop(columns=["outcome", "reversed_at"])
    assert len(label_events({"labels": plain}, "seller", "fraud")) == 4


def test_a_reversed_row_without_its_time_is_a_contract_error(tiny_tables) -> None:
    labels = tiny_tables["labels"].copy()
    labels["outcome"] = "confirmed"
    labels.loc[labels.index[0], "outcome"] = "reversed"
    labels["reversed_at"] = pd.NaT
    with pytest.raises(SchemaError, match=r"labels\.reversed_at: missing in 1 row"):
        rs.validate({**tiny_tables, "labels": labels})


def test_network_seeds_count_a_label_until_it_is_reversed() -> None:
    labels = pd.DataFrame(
        {
            "seller_id": ["S1", "S2", "S3"],
            "listing_id": [None, None, None],
            "label": ["fraud", "fraud", "counterfeit"],
            "decided_at": pd.to_datetime(["2024-03-01"] * 3),
            "outcome": ["confirmed", "cleared", "reversed"],
            "reversed_at": pd.to_datetime([None, None, "2024-04-01"]),
        }
    )
    ids = pd.Index(["S1", "S2", "S3"])
    lazy = nw.from_native(labels).lazy()
    before = _seeds(lazy, ids, nw.lit(datetime(2024, 3, 15)))
    after = _seeds(lazy, ids, nw.lit(datetime(2024, 4, 15)))
    assert before["fraud"].tolist() == after["fraud"].tolist() == [True, False, False]
    assert before["counterfeit"].tolist() == [False, False, True]
    assert after["counterfeit"].tolist() == [False, False, False]
