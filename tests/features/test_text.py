"""Text: replica vocabulary in titles, English and Chinese, without a tokenizer."""

from __future__ import annotations

import math

import pytest

from riskscore.features import build_features

AS_OF = "2024-06-30"


@pytest.fixture
def tables(build):
    titles = {
        "L1": "Replica bag AAA grade",  # en: replica, aaa
        "L2": "全新高仿 1 ： 1 手机",  # zh: 高仿; en: 1:1 (full-width colon, spaces)
        "L3": "A货 原单 Original Quality",  # zh: a货, 原单; en: originalquality
        "L4": "超A货",  # zh: 超a, a货
        "L5": "genuine lamp",
    }
    return build(
        sellers=[{}, {}, {}],
        listings=[
            {"title": titles["L1"]},
            {"title": titles["L2"]},
            {"seller_id": "S2", "title": titles["L3"]},
            {"seller_id": "S2", "title": titles["L4"]},
            {"seller_id": "S2", "title": titles["L5"]},
        ],
    )


def test_listing_term_counts(tables) -> None:
    feats = build_features(tables, "listing", as_of=AS_OF)
    assert feats["text__replica_terms_en"].to_dict() == {
        "L1": 2.0,
        "L2": 1.0,
        "L3": 1.0,
        "L4": 0.0,
        "L5": 0.0,
    }
    assert feats["text__replica_terms_zh"].to_dict() == {
        "L1": 0.0,
        "L2": 1.0,
        "L3": 2.0,
        "L4": 2.0,
        "L5": 0.0,
    }
    assert feats.loc["L3", "text__replica_terms"] == 3.0


def test_seller_shares(tables) -> None:
    feats = build_features(tables, "seller", as_of=AS_OF)
    assert feats.loc["S1", "text__replica_share"] == 1.0
    assert feats.loc["S2", "text__replica_share"] == pytest.approx(2 / 3)
    assert feats.loc["S2", "text__replica_listings"] == 2.0
    assert feats.loc["S2", "text__replica_terms_per_listing"] == pytest.approx(5 / 3)
    assert math.isnan(feats.loc["S3", "text__replica_share"])
    assert feats.loc["S3", "text__replica_listings"] == 0.0


#: Honest scale-model titles (no replica term) and replica claims (English "1:1" term).
SCALE_TITLES = {
    "1:1 scale model": 0.0,
    "1:18 diecast": 0.0,
    "1:1 比例 仿真头盔 模型": 0.0,
    "1：64 合金车模型": 0.0,
    "RG 1:144 独角兽高达": 0.0,
    "1 : 12 可动人偶": 0.0,
    "2:1 放大 模型": 0.0,
    "高仿 1:1": 1.0,
    "1:1 原单 Gucci 手提包": 1.0,
    "LEGO 42056 1:1": 1.0,  # a product number before the tag is not a ratio "420561:1"
    "全新 1 ： 1 手机": 1.0,
    "AAA 1:1 mirror quality": 3.0,
}


@pytest.mark.parametrize("backend", ["pandas", "polars", "duckdb"])
def test_scale_notation_is_not_replica_wording(build, backend: str) -> None:
    titles = list(SCALE_TITLES)
    tables = build(sellers=[{}], listings=[{"title": t} for t in titles])
    feats = build_features(tables, "listing", as_of=AS_OF, families=["text"], backend=backend)
    if backend != "pandas":
        feats = feats.to_pandas() if backend == "polars" else feats.df()
        feats = feats.set_index("listing_id")
    title_of = tables["listings"].set_index("listing_id")["title"]
    got = feats["text__replica_terms_en"].rename(index=title_of.to_dict()).to_dict()
    assert got == SCALE_TITLES
