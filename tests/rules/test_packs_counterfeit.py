"""Specification of the counterfeit-goods template: no numbers, refuses to run until the
user sets the statutory values, then assesses sales amount and illegal gains by tier."""

from __future__ import annotations

import math

import pytest

from riskscore.exceptions import ParameterError
from riskscore.rules.packs import ThresholdPack, ThresholdsNotSetError, counterfeit_goods
from tests.rules.test_packs_cn217 import END, START, shop

#: Made-up values for the tests (NOT statutory values).
VALUES = {
    "serious": {"sales_amount": 1_000.0, "illegal_gains": 300.0},
    "especially_serious": {"sales_amount": 10_000.0, "illegal_gains": 3_000.0},
}


def configured(**kwargs) -> ThresholdPack:
    return counterfeit_goods.configure(thresholds=VALUES, version="test values", **kwargs)


def test_the_template_ships_no_numbers():
    pack = counterfeit_goods.TEMPLATE
    assert pack.missing_values() == [
        "serious.sales_amount",
        "serious.illegal_gains",
        "especially_serious.sales_amount",
        "especially_serious.illegal_gains",
    ]
    assert all(v is None for t in pack.tiers for v in t.thresholds.values())


def test_the_template_refuses_to_run_and_says_how_to_set_the_values():
    tables = shop([("L1", 5_000.0, 1)])
    with pytest.raises(ThresholdsNotSetError) as info:
        counterfeit_goods.evaluate(tables, "S1", START, END)
    text = str(info.value)
    assert (
        "pack 'cn_counterfeit_goods' has no statutory values for serious.sales_amount, "
        "serious.illegal_gains, especially_serious.sales_amount, "
        "especially_serious.illegal_gains (4 missing)"
    ) in text
    assert "counterfeit_goods.configure(thresholds={'serious':" in text
    assert "version='<interpretation, article, date>'" in text
    assert isinstance(info.value, ParameterError)
    # The generic assessment refuses too.
    with pytest.raises(ThresholdsNotSetError):
        counterfeit_goods.TEMPLATE.assess({"sales_amount": 1.0})


def test_a_partly_configured_pack_names_what_is_still_missing():
    pack = counterfeit_goods.configure(
        thresholds={"serious": {"sales_amount": 1_000.0}}, version="half done"
    )
    with pytest.raises(
        ThresholdsNotSetError,
        match=r"no statutory values for serious\.illegal_gains, especially_serious\.sales_amount, "
        r"especially_serious\.illegal_gains \(3 missing\)",
    ):
        counterfeit_goods.evaluate(shop([("L1", 1.0, 1)]), "S1", START, END, pack=pack)


@pytest.mark.parametrize(
    ("amount", "gains", "tier", "met"),
    [
        (999.99, None, "none", ()),
        (1_000.0, None, "serious", ("sales_amount",)),
        (600.0, 300.0, "serious", ("illegal_gains",)),
        (600.0, 299.0, "none", ()),  # no "half of two" rule in this template
        (10_000.0, 10.0, "especially_serious", ("sales_amount",)),
        (20.0, 3_000.0, "especially_serious", ("illegal_gains",)),
    ],
)
def test_configured_pack_assesses_sales_and_gains(amount, gains, tier, met):
    tables = shop([("L1", amount, 1)])
    values = None if gains is None else {"illegal_gains": gains}
    result = counterfeit_goods.evaluate(tables, "S1", START, END, pack=configured(), values=values)
    assert (result.tier, result.met) == (tier, met)
    assert result.pack_version == "test values"
    sales = result.criteria[0]
    assert (sales.name, sales.value, sales.source) == (
        "sales_amount",
        amount,
        "orders.amount x rates",
    )
    gains_result = result.criteria[1]
    assert gains_result.value == gains
    assert gains_result.source == ("not given" if gains is None else "given")


def test_inf_switches_a_criterion_off_and_strict_reading_is_available():
    pack = counterfeit_goods.configure(
        thresholds={
            "serious": {"sales_amount": math.inf, "illegal_gains": 300.0},
            "especially_serious": {"sales_amount": math.inf, "illegal_gains": 3_000.0},
        },
        version="gains only",
        inclusive=False,
        sources=["made-up interpretation"],
    )
    tables = shop([("L1", 9e9, 1)])
    result = counterfeit_goods.evaluate(
        tables, "S1", START, END, pack=pack, values={"illegal_gains": 300.0}
    )
    assert result.tier == "none"  # sales never count; 300 is not over 300
    assert result.sources[-1] == "made-up interpretation"
    assert not result.inclusive


def test_counts_confirmed_orders_only_in_any_category():
    labels = [("S1", "L1", "counterfeit", "confirmed"), ("S1", "L2", "counterfeit", "cleared")]
    tables = shop([("L1", 400.0, 1), ("L2", 5_000.0, 1), ("L3", 700.0, 1)], labels=labels)
    tables["listings"]["category"] = "luxury"
    result = counterfeit_goods.evaluate(
        tables, "S1", START, END, pack=configured(), confirmed_orders=["O3"]
    )
    assert result.order_ids == ("O1", "O3")
    assert result.criteria[0].value == 1_100.0
    assert result.tier == "serious"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"thresholds": VALUES, "version": ""}, r"'version' parameter .* must name the text"),
        ({"thresholds": [], "version": "v"}, r"'thresholds' parameter .* Got list"),
        ({"thresholds": {"grave": {}}, "version": "v"}, r"unknown tiers \['grave'\]"),
        (
            {"thresholds": {"serious": {"profit": 1.0}}, "version": "v"},
            r"unknown criteria \['profit'\] in tier 'serious'",
        ),
        (
            {"thresholds": {"serious": {"sales_amount": 0}}, "version": "v"},
            r"numbers > 0 \(CNY\)\. Got serious\.sales_amount=0",
        ),
        (
            {"thresholds": {"serious": {"sales_amount": "5万"}}, "version": "v"},
            r"Got serious\.sales_amount='5万'",
        ),
    ],
)
def test_configure_rejects_bad_values(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        counterfeit_goods.configure(**kwargs)


def test_evaluate_rejects_something_that_is_not_a_pack():
    with pytest.raises(ParameterError, match=r"'pack' parameter .* Got dict instead"):
        counterfeit_goods.evaluate(shop([]), "S1", START, END, pack={})  # type: ignore[arg-type]
