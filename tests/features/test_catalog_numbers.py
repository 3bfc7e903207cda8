"""Numbers in catalog descriptions and reason texts come from the defaults they describe.

A cap, floor, threshold or window typed into a text drifts when the default changes. The
texts format them from the constants instead; these tests check that every number in the
catalog's texts is one of those constants (or a plain 0 / 1 of a formula, or part of the
feature's own name), and that changing a default changes the text.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from riskscore._config import DEFAULT_WINDOWS
from riskscore.features import activity, catalog, complaints, network
from riskscore.features._context import FeatureParams
from riskscore.features._shared import BURST_RECENT, BURST_REFERENCE, PRIOR_WINDOW
from riskscore.features.account import NEW_LISTING_DAYS
from riskscore.features.network import NetworkParams

_NUMBER = re.compile(r"(?<![A-Za-z_])\d+(?:\.\d+)?(?:e-?\d+)?")
_FIELD = re.compile(r"\{[^}]*\}")


def _allowed() -> set[str]:
    """Every number a text may quote: the defaults, formatted as the texts format them."""
    net = NetworkParams()
    below = FeatureParams().below_market
    numbers = {
        *map(str, DEFAULT_WINDOWS),
        str(BURST_RECENT),
        str(BURST_REFERENCE),
        str(PRIOR_WINDOW),
        str(NEW_LISTING_DAYS),
        f"{below:g}",
        f"{below:.0%}".rstrip("%"),
        network._number(1 - net.damping),
    }
    numbers |= {network._number(v) for v in (net.identifier_cap, net.order_cap)}
    numbers |= {network._number(v) for v in (net.min_shared, net.max_pvalue)}
    return numbers | {"0", "1"}


def _typed_numbers(frame: pd.DataFrame) -> list[str]:
    """``name:number`` for each number in a text that no default explains."""
    allowed = _allowed()
    found = []
    for row in frame.to_dict("records"):
        own = set(re.findall(r"\d+", str(row["name"])))
        for column in ("description", "text_en", "text_zh"):
            text = _FIELD.sub("", str(row[column]))
            found += [f"{row['name']}:{n}" for n in _NUMBER.findall(text) if n not in allowed | own]
    return found


def test_every_number_in_the_catalog_texts_is_a_default():
    frame = catalog()
    assert _typed_numbers(frame) == []


def test_the_check_catches_a_typed_number():
    frame = catalog()
    row = frame["name"] == "network__device_links"
    frame.loc[row, "description"] = "Other sellers sharing the device (capped at 5)."
    frame.loc[row, "text_zh"] = "与{value:.0f}个店铺共用设备（上限40）"
    assert _typed_numbers(frame) == ["network__device_links:5", "network__device_links:40"]


def test_network_texts_follow_the_network_defaults(monkeypatch: pytest.MonkeyPatch):
    before = {s.name: s for s in network._specs(DEFAULT_WINDOWS)}
    assert "min_shared=2" in before["network__buyer_links"].description
    assert "(p <= 1e-4)" in before["network__buyer_links"].description
    assert "identifier_cap=25" in before["network__device_links"].description
    assert "stop with probability 0.15" in before["network__bad_pagerank"].description
    changed = NetworkParams(identifier_cap=40, order_cap=30, min_shared=3, max_pvalue=1e-3)
    monkeypatch.setattr(network, "_DEFAULTS", changed)
    after = {s.name: s for s in network._specs(DEFAULT_WINDOWS)}
    buyers = after["network__buyer_links"]
    assert "min_shared=3" in buyers.description
    assert "(p <= 1e-3)" in buyers.description
    assert "order_cap=30" in buyers.description
    assert buyers.render(4) == "Shares 3 or more buyers with 4 other sellers"
    assert buyers.render(4, language="zh") == "与4个其他店铺有3个以上共同买家"
    assert "identifier_cap=40" in after["network__payment_links"].description


def test_burst_texts_follow_the_burst_windows(monkeypatch: pytest.MonkeyPatch):
    for module, name in (
        (activity, "activity__order_growth"),
        (complaints, "complaints__acceleration"),
    ):
        monkeypatch.setattr(module, "_R", 14)
        monkeypatch.setattr(module, "_P", 60)
        spec = {s.name: s for s in module._specs(DEFAULT_WINDOWS)}[name]
        assert "last 14 days vs the 60 days before" in spec.description
        assert "× 14/60 + 1" in spec.description
        assert "近14天" in spec.text_zh and "此前60天" in spec.text_zh


def test_number_formatting_of_network_texts():
    assert [network._number(v) for v in (25, 0.15, 1e-4, 1 - 0.85, 2.5e-6)] == [
        "25",
        "0.15",
        "1e-4",
        "0.15",
        "2.5e-6",
    ]
