"""Another jurisdiction's pack, declared as data, runs through the same evaluation path."""

from __future__ import annotations

import pytest

from riskscore.exceptions import ParameterError
from riskscore.rules.packs import (
    Criterion,
    ThresholdPack,
    ThresholdsNotSetError,
    Tier,
    evaluate,
)
from tests.rules.test_packs_cn217 import END, START, shop

PACK = ThresholdPack(
    name="xx_online_piracy",
    version="made-up Act 12/2020 s. 4",
    jurisdiction="XX",
    title_en="Online piracy",
    title_zh="网络盗版",
    sources=("made-up Act 12/2020 s. 4",),
    criteria=(
        Criterion("turnover", "CNY", "turnover", "营业额"),
        Criterion("copies", "pieces", "copies sold", "销售份数"),
    ),
    tiers=(
        Tier("serious", "serious", "严重", {"turnover": 10_000.0, "copies": 100}),
        Tier("aggravated", "aggravated", "加重", {"turnover": 20_000.0, "copies": 1_000}),
    ),
    inclusive=False,
)
MEASURES = {"turnover": "amount_cny", "copies": "pieces"}


@pytest.mark.parametrize(
    ("amount", "copies", "tier"),
    [
        (10_000.0, 100, "none"),  # "over": the values themselves do not count
        (10_000.01, 1, "serious"),
        (1.0, 1_001, "aggravated"),
        (6_000.0, 60, "none"),  # this pack has no "half of two" rule
    ],
)
def test_a_custom_pack_with_its_own_tiers(amount, copies, tier):
    result = evaluate(PACK, MEASURES, shop([("L1", amount, copies)]), "S1", START, END)
    assert result.tier == tier
    assert result.pack == "xx_online_piracy"
    assert "| turnover |" in result.to_markdown()


def test_unknown_measures_and_unset_values_are_refused():
    tables = shop([("L1", 1.0, 1)])
    with pytest.raises(ParameterError, match=r"unknown measures \['profit'\]; use one of"):
        evaluate(PACK, {"turnover": "profit"}, tables, "S1", START, END)
    unset = ThresholdPack(**{**PACK.__dict__, "tiers": (Tier("serious", "s", "s", {}),)})
    with pytest.raises(ThresholdsNotSetError, match=r"serious\.turnover, serious\.copies"):
        evaluate(unset, MEASURES, tables, "S1", START, END)


def test_evaluate_needs_a_pack_and_a_measure_mapping():
    tables = shop([("L1", 1.0, 1)])
    with pytest.raises(ParameterError, match=r"'pack' parameter .* Got NoneType"):
        evaluate(None, MEASURES, tables, "S1", START, END)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match=r"'measures' parameter .* Got list"):
        evaluate(PACK, [], tables, "S1", START, END)  # type: ignore[arg-type]
