"""warn_buyers: only orders open at as_of, the N-day boundary, prices, multi-shop buyers."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from riskscore import validate
from riskscore.exceptions import ParameterError, SchemaError
from riskscore.warn import MESSAGE_TEMPLATES, WARNING_COLUMNS, warn_buyers
from tests.warn.conftest import AS_OF


def _by_order(rows: pd.DataFrame) -> dict[str, str]:
    return dict(zip(rows["order_id"], rows["reason_codes"], strict=True))


def test_the_fixture_is_a_valid_marketplace(exposure_tables):
    validate(exposure_tables)


def test_lists_exactly_the_open_orders_with_a_reason(exposure_tables, exposure_scores):
    rows = warn_buyers(exposure_tables, exposure_scores, as_of=AS_OF)
    assert list(rows.columns) == list(WARNING_COLUMNS)
    assert _by_order(rows) == {
        "O2": "NOT_DELIVERED;PRICE_FAR_BELOW_MARKET",
        "O3": "NOT_DELIVERED",
        "O5": "PRICE_FAR_BELOW_MARKET;SEVERAL_FLAGGED_SHOPS",
        "O6": "SEVERAL_FLAGGED_SHOPS",
        "O10": "NOT_DELIVERED;PRICE_FAR_BELOW_MARKET",
        "O11": "NOT_DELIVERED;PRICE_FAR_BELOW_MARKET",
    }
    assert rows["buyer_id"].tolist() == ["B10", "B2", "B3", "B5", "B5", "B9"]


def test_an_order_delivered_one_second_before_as_of_is_not_listed(exposure_tables, exposure_scores):
    rows = warn_buyers(exposure_tables, exposure_scores, as_of=AS_OF)
    assert "O1" not in set(rows["order_id"])  # delivered at as_of - 1 s
    assert "O2" in set(rows["order_id"])  # delivered at as_of + 1 s: open at as_of
    assert "O10" in set(rows["order_id"])  # delivered at as_of: known only after it


def test_the_answer_changes_when_as_of_moves_past_a_delivery(exposure_tables, exposure_scores):
    later = warn_buyers(exposure_tables, exposure_scores, as_of=AS_OF + pd.Timedelta(seconds=2))
    assert "O2" not in set(later["order_id"]) and "O10" not in set(later["order_id"])


def test_refunded_cancelled_and_future_orders(exposure_tables, exposure_scores):
    listed = set(warn_buyers(exposure_tables, exposure_scores, as_of=AS_OF)["order_id"])
    assert "O9" not in listed  # refunded an hour before as_of
    assert "O8" not in listed  # placed after as_of
    assert "O11" in listed  # cancelled a day after as_of: still open at as_of


def test_exactly_n_days_counts_and_one_second_less_does_not(exposure_tables, exposure_scores):
    rows = warn_buyers(exposure_tables, exposure_scores, as_of=AS_OF, undelivered_days=7)
    assert _by_order(rows)["O3"] == "NOT_DELIVERED"
    assert "O4" not in set(rows["order_id"])
    o3 = rows.set_index("order_id").loc["O3"]
    assert o3["days_open"] == 7
    shorter = warn_buyers(exposure_tables, exposure_scores, as_of=AS_OF, undelivered_days=6)
    assert _by_order(shorter)["O4"] == "NOT_DELIVERED"  # 6 days 23:59:59 >= 6 days


def test_price_ratio_comes_from_the_pricing_family(exposure_tables, exposure_scores):
    rows = warn_buyers(exposure_tables, exposure_scores, as_of=AS_OF).set_index("order_id")
    assert rows.loc["O2", "price_ratio"] == pytest.approx(2700 / 6000)
    assert rows.loc["O6", "price_ratio"] == pytest.approx(1.0)  # alone in its group
    strict = warn_buyers(exposure_tables, exposure_scores, as_of=AS_OF, price_ratio=0.4)
    assert "PRICE_FAR_BELOW_MARKET" not in ";".join(strict["reason_codes"])


def test_a_buyer_of_several_flagged_shops_is_listed_for_each_open_order(
    exposure_tables, exposure_scores
):
    rows = warn_buyers(exposure_tables, exposure_scores, as_of=AS_OF)
    b5 = rows.loc[rows["buyer_id"] == "B5"]
    assert b5["order_id"].tolist() == ["O6", "O5"]  # by order time
    assert (b5["flagged_shops"] == 2).all()
    assert b5["reason_codes"].str.contains("SEVERAL_FLAGGED_SHOPS").all()
    three = warn_buyers(exposure_tables, exposure_scores, as_of=AS_OF, min_flagged_shops=3)
    assert "SEVERAL_FLAGGED_SHOPS" not in ";".join(three["reason_codes"])


def test_unflagged_sellers_are_never_listed(exposure_tables, exposure_scores):
    for band in ("high", "critical"):
        rows = warn_buyers(exposure_tables, exposure_scores, as_of=AS_OF, min_band=band)
        assert "S3" not in set(rows["seller_id"])
    critical = warn_buyers(exposure_tables, exposure_scores, as_of=AS_OF, min_band="critical")
    assert set(critical["seller_id"]) == {"S1"}
    # B5 ordered from only one *flagged* shop now
    assert "SEVERAL_FLAGGED_SHOPS" not in ";".join(critical["reason_codes"])
    everyone = warn_buyers(exposure_tables, exposure_scores, as_of=AS_OF, min_band="medium")
    assert "O7" in set(everyone["order_id"])  # the same order once S3 is flagged


def test_decisions_flag_by_action(exposure_tables):
    decisions = pd.DataFrame(
        {"entity_id": ["S1", "S2"], "band": [None, "low"], "action": ["hold", "review"]}
    )
    rows = warn_buyers(
        exposure_tables, decisions, as_of=AS_OF, min_band=None, actions=("hold", "block")
    )
    assert set(rows["seller_id"]) == {"S1"}
    assert set(rows["seller_action"]) == {"hold"}


def test_zh_messages_have_every_placeholder_filled(exposure_tables, exposure_scores):
    rows = warn_buyers(exposure_tables, exposure_scores, as_of=AS_OF, language="zh")
    o3 = rows.set_index("order_id").loc["O3"]
    assert o3["reason_text"] == "已付款7天仍未收到货（时限为7天）"
    assert o3["message"].startswith("尊敬的用户：您于2024-06-23在店铺S2下的订单O3（80.00 CNY）")
    o5 = rows.set_index("order_id").loc["O5"]
    assert o5["reason_text"] == "成交价仅为同款商品市场价的45%；该买家曾在2家受审核店铺下单"
    for text in rows["message"]:
        assert "{" not in text and "}" not in text
    assert set(rows["language"]) == {"zh"}


def test_en_message_names_order_amount_and_shop(exposure_tables, exposure_scores):
    rows = warn_buyers(exposure_tables, exposure_scores, as_of=AS_OF).set_index("order_id")
    assert rows.loc["O2", "message"].startswith(
        "Dear customer, your order O2 of 2,700.00 CNY placed on 2024-06-01 is with shop S1"
    )
    assert "Paid 29 days ago and still not delivered" in rows.loc["O2", "message"]
    assert set(MESSAGE_TEMPLATES) == {"en", "zh"}


def test_nothing_listed_gives_an_empty_frame_with_the_columns(exposure_tables):
    rows = warn_buyers(exposure_tables, ["S-none"], as_of=AS_OF)
    assert rows.empty and list(rows.columns) == list(WARNING_COLUMNS)


def test_inputs_are_not_modified(exposure_tables, exposure_scores):
    before = {k: v.copy() for k, v in exposure_tables.items()}
    scores = exposure_scores.copy()
    warn_buyers(exposure_tables, exposure_scores, as_of=AS_OF)
    for name, frame in before.items():
        pd.testing.assert_frame_equal(exposure_tables[name], frame)
    pd.testing.assert_frame_equal(exposure_scores, scores)


def test_scores_from_after_as_of_are_refused(exposure_tables, exposure_scores):
    with pytest.raises(ParameterError, match=r"3 score\(s\) were made as of a time after"):
        warn_buyers(exposure_tables, exposure_scores, as_of=AS_OF - pd.Timedelta(days=1))
    scores = exposure_scores.assign(as_of=["2024-06-29", "2024-06-30", "2024-07-02"])
    with pytest.raises(ParameterError, match=r"S3"):
        warn_buyers(exposure_tables, scores, as_of=AS_OF)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"min_band": "severe"}, r"'min_band' parameter of warn_buyers must be one of"),
        ({"actions": ("stop",)}, r"'actions' parameter of warn_buyers"),
        ({"undelivered_days": -1}, r"'undelivered_days' parameter .* an int >= 0"),
        ({"price_ratio": 0}, r"'price_ratio' parameter .* a number > 0"),
        ({"min_flagged_shops": 1}, r"'min_flagged_shops' parameter .* an int >= 2"),
        ({"language": "fr"}, r"'language' parameter of warn_buyers must be one of"),
        ({"as_of": "soon"}, r"warn_buyers: as_of='soon' is not a timestamp"),
    ],
)
def test_bad_parameters_name_the_parameter(exposure_tables, exposure_scores, kwargs, match):
    args = {"as_of": AS_OF, **kwargs}
    with pytest.raises(ParameterError, match=match):
        warn_buyers(exposure_tables, exposure_scores, **args)


def test_bad_flag_frames_say_what_to_pass(exposure_tables, exposure_scores):
    with pytest.raises(ParameterError, match=r"no 'seller_id' \(scores\) or 'entity_id'"):
        warn_buyers(
            exposure_tables, exposure_scores.rename(columns={"seller_id": "x"}), as_of=AS_OF
        )
    with pytest.raises(ParameterError, match=r"no column\(s\) \['action'\]"):
        warn_buyers(exposure_tables, exposure_scores, as_of=AS_OF, actions=["hold"])
    with pytest.raises(ParameterError, match=r"S2: 'hi'"):
        warn_buyers(exposure_tables, exposure_scores.assign(band=["low", "hi", "low"]), as_of=AS_OF)
    with pytest.raises(ParameterError, match=r"1 seller id\(s\) appear more than once"):
        twice = pd.concat([exposure_scores, exposure_scores.iloc[:1]])
        warn_buyers(exposure_tables, twice, as_of=AS_OF)
    with pytest.raises(ParameterError, match=r"must be a scores or decisions DataFrame"):
        warn_buyers(exposure_tables, "S1", as_of=AS_OF)


def test_a_closed_status_without_its_time_is_refused(exposure_tables, exposure_scores):
    exposure_tables["orders"] = exposure_tables["orders"].drop(columns="refunded_at")
    with pytest.raises(SchemaError, match=r"'refunded_at' is absent for 1 order\(s\).*O9"):
        warn_buyers(exposure_tables, exposure_scores, as_of=AS_OF)


def test_a_missing_orders_column_is_named(exposure_tables, exposure_scores):
    exposure_tables["orders"] = exposure_tables["orders"].drop(columns="buyer_id")
    with pytest.raises(SchemaError, match=r"table 'orders' has no column\(s\) \['buyer_id'\]"):
        warn_buyers(exposure_tables, exposure_scores, as_of=AS_OF)


def test_price_ratio_is_nan_without_a_market_price(exposure_tables):
    # a listing created after its order (bad data): no pricing row as of AS_OF
    exposure_tables["listings"].loc[1, "created_at"] = AS_OF + pd.Timedelta(days=3)
    rows = warn_buyers(exposure_tables, ["S2"], as_of=AS_OF).set_index("order_id")
    assert math.isnan(rows.loc["O3", "price_ratio"])
    assert rows.loc["O3", "reason_codes"] == "NOT_DELIVERED"


def test_amounts_that_are_not_numbers_are_named(exposure_tables, exposure_scores):
    orders = exposure_tables["orders"].astype({"amount": "object"})
    orders.loc[orders["order_id"] == "O3", "amount"] = "eighty"
    exposure_tables["orders"] = orders
    with pytest.raises(SchemaError, match=r"'amount': 1 value\(s\) are not numbers.*O3"):
        warn_buyers(exposure_tables, exposure_scores, as_of=AS_OF)


def test_tables_must_be_a_mapping_of_tables(exposure_scores):
    with pytest.raises(ParameterError, match=r"'tables' parameter of warn_buyers"):
        warn_buyers([], exposure_scores, as_of=AS_OF)
    with pytest.raises(SchemaError, match=r"table 'orders' is a list"):
        warn_buyers({"orders": [1]}, exposure_scores, as_of=AS_OF)


def test_summary_shows_totals_the_largest_orders_and_the_sign_off_note(
    exposure_tables, exposure_scores
):
    from riskscore.warn import SIGN_OFF_NOTE, summarize_warnings

    rows = warn_buyers(exposure_tables, exposure_scores, as_of=AS_OF)
    lines = summarize_warnings(rows, n=2).splitlines()
    assert lines[0] == (
        "6 order(s) of 5 buyer(s) at 2 flagged seller(s), amount 10,960.00, as of 2024-06-30"
    )
    assert lines[1].split()[:3] == ["B9", "O10", "S1"]  # 2,700: ties by order id
    assert len(lines) == 4 and lines[-1] == SIGN_OFF_NOTE
    with pytest.raises(ParameterError, match=r"no column\(s\) \['buyer_id'"):
        summarize_warnings(rows.drop(columns="buyer_id"))
