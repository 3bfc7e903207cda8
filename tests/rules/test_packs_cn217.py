"""Specification of the Article 217 pack (pirated works online): boundaries, the "half of
two criteria" rule, the 5x tier, currencies, and that only confirmed items count."""

from __future__ import annotations

import dataclasses
import json

import pandas as pd
import pytest

from riskscore.exceptions import ParameterError, SchemaError
from riskscore.rules.packs import ThresholdResult
from riskscore.rules.packs import cn_article_217_online_works as cn217
from riskscore.schema import validate

START, END = "2024-01-01", "2025-01-01"
STRICT = dataclasses.replace(cn217.PACK, inclusive=False)  # "over" read as >


def shop(
    orders: list[tuple],
    *,
    currencies: dict[str, str] | None = None,
    labels: list[tuple] | None = None,
    views: list[tuple] | None = None,
) -> dict[str, pd.DataFrame]:
    """Tables of seller S1 (and S2, who owns listing X1).

    ``orders``: (listing_id, amount, quantity[, status[, created_at]]). Listings are
    L1..L4 of S1 and X1 of S2, in CNY unless ``currencies`` says otherwise. ``labels``:
    (seller_id, listing_id or None, label, outcome or None); default: L1 confirmed.
    ``views``: (listing_id, viewed_at, views).
    """
    ids = ["L1", "L2", "L3", "L4", "X1"]
    cur = {i: "CNY" for i in ids} | (currencies or {})
    ts = pd.Timestamp
    rows = []
    for k, o in enumerate(orders):
        status = o[3] if len(o) > 3 else "delivered"
        created = ts(o[4]) if len(o) > 4 else ts("2024-03-01")
        later = created + pd.Timedelta(days=1)
        rows.append(
            {
                "order_id": f"O{k + 1}",
                "listing_id": o[0],
                "seller_id": "S2" if o[0] == "X1" else "S1",
                "buyer_id": f"B{k + 1}",
                "quantity": o[2],
                "amount": float(o[1]),
                "created_at": created,
                "ship_address_id": None,
                "status": status,
                "delivered_at": later if status == "delivered" else pd.NaT,
                "refunded_at": later if status == "refunded" else pd.NaT,
                "cancelled_at": later if status == "cancelled" else pd.NaT,
            }
        )
    order_frame = pd.DataFrame(rows)
    if not rows:
        order_frame = pd.DataFrame(columns=list(cn217.example_tables()["orders"].columns))
    label_rows = labels if labels is not None else [("S1", "L1", "counterfeit", None)]
    label_frame = pd.DataFrame(
        {
            "seller_id": [r[0] for r in label_rows],
            "listing_id": [r[1] for r in label_rows],
            "label": [r[2] for r in label_rows],
            "decided_at": [ts("2024-06-01")] * len(label_rows),
        }
    )
    if any(r[3] is not None for r in label_rows):
        label_frame["outcome"] = [r[3] for r in label_rows]
    out = {
        "sellers": pd.DataFrame(
            {"seller_id": ["S1", "S2"], "registered_at": [ts("2023-01-01")] * 2, "region": "x"}
        ),
        "listings": pd.DataFrame(
            {
                "listing_id": ids,
                "seller_id": ["S1"] * 4 + ["S2"],
                "product_id": None,
                "category": "digital",
                "brand": None,
                "title": "Photoshop 破解版",
                "price": 10.0,
                "currency": [cur[i] for i in ids],
                "created_at": ts("2023-12-01"),
            }
        ),
        "orders": order_frame,
        "labels": label_frame,
    }
    if views is not None:
        out["listing_views"] = pd.DataFrame(
            {
                "listing_id": [v[0] for v in views],
                "seller_id": ["S2" if v[0] == "X1" else "S1" for v in views],
                "viewed_at": [ts(v[1]) for v in views],
                "views": [v[2] for v in views],
            }
        )
    return validate(out) if rows else out


def criterion(result: ThresholdResult, name: str):
    return next(c for c in result.criteria if c.name == name)


# --- exact boundaries -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amounts", "pack", "tier"),
    [
        ((20_000.0, 30_000.0), cn217.PACK, "serious"),  # exactly 50,000: "以上" includes it
        ((20_000.0, 29_999.99), cn217.PACK, "none"),
        ((20_000.0, 30_000.0), STRICT, "none"),  # exactly 50,000 is not "over"
        ((20_000.0, 30_000.01), STRICT, "serious"),  # 50,000.01 is
    ],
)
def test_amount_boundary(amounts, pack, tier):
    tables = shop([("L1", a, 1) for a in amounts])
    result = cn217.evaluate(tables, "S1", START, END, pack=pack)
    amount = criterion(result, "illegal_business_amount")
    assert amount.value == pytest.approx(sum(amounts), abs=1e-9)
    assert result.tier == tier
    assert amount.met == tier
    assert result.basis == ("criterion" if tier != "none" else "none")
    assert amount.ratio == pytest.approx(sum(amounts) / 50_000)


@pytest.mark.parametrize(
    ("name", "value", "pack", "tier"),
    [
        ("works", 500, cn217.PACK, "serious"),
        ("works", 499, cn217.PACK, "none"),
        ("works", 500, STRICT, "none"),
        ("works", 501, STRICT, "serious"),
        ("hits", 50_000, cn217.PACK, "serious"),
        ("hits", 49_999, cn217.PACK, "none"),
        ("hits", 50_000, STRICT, "none"),
        ("hits", 50_001, STRICT, "serious"),
    ],
)
def test_works_and_hits_boundaries(name, value, pack, tier):
    quantity, hits = (value, 0) if name == "works" else (1, value)
    tables = shop([("L1", 1.0, quantity)], views=[("L1", "2024-02-01", hits)])
    result = cn217.evaluate(tables, "S1", START, END, pack=pack)
    assert criterion(result, "works").value == quantity
    assert criterion(result, "hits").value == hits
    assert result.met == ((name,) if tier == "serious" else ())
    assert result.tier == tier


def test_two_criteria_just_below_their_values_meet_half_of_two():
    tables = shop([("L1", 1.0, 499)], views=[("L1", "2024-02-01", 49_999)])
    result = cn217.evaluate(tables, "S1", START, END)
    assert (result.met, result.tier, result.basis) == ((), "serious", "half_of_two")


@pytest.mark.parametrize(
    ("members", "pack", "tier"),
    [(1000, cn217.PACK, "serious"), (999, cn217.PACK, "none"), (1000, STRICT, "none")],
)
def test_members_come_only_from_the_user(members, pack, tier):
    tables = shop([("L1", 1.0, 1)])
    assert criterion(cn217.evaluate(tables, "S1", START, END), "members").value is None
    result = cn217.evaluate(tables, "S1", START, END, values={"members": members}, pack=pack)
    assert criterion(result, "members").value == members
    assert criterion(result, "members").source == "given"
    assert result.tier == tier


# --- half of two criteria, one at half, five times ---------------------------------------


def test_half_of_two_criteria_each_over_half_below_full():
    tables = shop([("L1", 30_000.0, 10)], views=[("L1", "2024-02-01", 26_000)])
    result = cn217.evaluate(tables, "S1", START, END)
    assert result.met == ()  # no criterion reaches its value alone
    assert result.tier == "serious"
    assert result.basis == "half_of_two"
    assert result.basis_criteria == ("illegal_business_amount", "hits")
    assert "half of two or more criteria" in result.basis_text()
    assert "两项以上标准分别达到一半以上" in result.basis_text("zh")
    assert [c.half_met for c in result.criteria] == [True, False, True, False]


def test_half_of_two_boundary_at_exactly_half():
    tables = shop([("L1", 25_000.0, 250)])  # amount and works each exactly half
    assert cn217.evaluate(tables, "S1", START, END).basis == "half_of_two"
    assert cn217.evaluate(tables, "S1", START, END, pack=STRICT).tier == "none"
    over = shop([("L1", 25_000.01, 251)])
    strict = cn217.evaluate(over, "S1", START, END, pack=STRICT)
    assert (strict.tier, strict.basis_criteria) == ("serious", ("illegal_business_amount", "works"))


def test_one_criterion_at_half_only_is_not_met():
    tables = shop([("L1", 49_000.0, 3)], views=[("L1", "2024-02-01", 100)])
    result = cn217.evaluate(tables, "S1", START, END)
    assert (result.tier, result.basis, result.basis_criteria) == ("none", "none", ())
    assert criterion(result, "illegal_business_amount").half_met


def test_five_times_a_criterion_is_especially_serious():
    at = cn217.evaluate(shop([("L1", 250_000.0, 1)]), "S1", START, END)
    below = cn217.evaluate(shop([("L1", 249_999.99, 1)]), "S1", START, END)
    assert (at.tier, at.basis) == ("especially_serious", "criterion")
    assert criterion(at, "illegal_business_amount").met == "especially_serious"
    assert below.tier == "serious"
    strict = cn217.evaluate(shop([("L1", 250_000.0, 1)]), "S1", START, END, pack=STRICT)
    assert strict.tier == "serious"
    # Half of two at the 5x tier: two criteria each at 2.5 times.
    both = shop([("L1", 125_000.0, 1250)])
    result = cn217.evaluate(both, "S1", START, END)
    assert (result.tier, result.basis) == ("especially_serious", "half_of_two")


# --- currency -----------------------------------------------------------------------------


def test_listing_currency_is_converted_with_the_given_rates():
    tables = shop(
        [("L1", 14_000.0, 1), ("L2", 5_000.0, 1), ("L3", 4.0, 1)],
        currencies={"L2": "USD", "L3": "JPY"},
        labels=[("S1", lid, "counterfeit", None) for lid in ("L1", "L2", "L3")],
    )
    rates = {"USD": 7.2, "JPY": 0.05, "EUR": 7.8}
    result = cn217.evaluate(tables, "S1", START, END, rates=rates)
    assert criterion(result, "illegal_business_amount").value == 14_000 + 36_000 + 0.2
    assert result.rates == {"CNY": 1.0, "USD": 7.2, "JPY": 0.05}  # only the ones used
    assert result.tier == "serious"
    frame = pd.DataFrame({"currency": ["USD", "JPY"], "rate": [7.2, 0.05]})
    again = cn217.evaluate(tables, "S1", START, END, rates=frame)
    assert again.criteria == result.criteria


def test_missing_rate_is_an_error_naming_the_currencies_and_orders():
    tables = shop(
        [("L1", 1.0, 1), ("L2", 5.0, 1), ("L2", 6.0, 1), ("L3", 7.0, 1)],
        currencies={"L2": "USD", "L3": "EUR"},
        labels=[("S1", lid, "counterfeit", None) for lid in ("L1", "L2", "L3")],
    )
    with pytest.raises(
        ParameterError,
        match=r"no CNY rate for EUR \(1 order\(s\), e\.g\. O4\); USD \(2 order\(s\), e\.g\. "
        r"O2, O3\)\. .*never assumes a rate: pass rates=\{'EUR': <CNY per EUR>, 'USD'",
    ):
        cn217.evaluate(tables, "S1", START, END, rates={"GBP": 9.0})
    # An unconfirmed order in another currency needs no rate.
    only_l1 = shop([("L1", 1.0, 1), ("L2", 5.0, 1)], currencies={"L2": "USD"})
    assert cn217.evaluate(only_l1, "S1", START, END).rates == {"CNY": 1.0}


@pytest.mark.parametrize(
    ("rates", "match"),
    [
        ({"USD": 0.0}, r"finite numbers > 0 .* Got 'USD': 0\.0"),
        ({"USD": float("nan")}, r"Got 'USD': nan"),
        ({"USD": "7"}, r"Got 'USD': '7'"),
        ({"CNY": 2.0}, r"gives CNY a rate of 2\.0"),
        ([("USD", 7.0)], r"must be a mapping .* Got list instead"),
        (pd.DataFrame({"cur": ["USD"]}), r"needs the columns 'currency' and 'rate'"),
    ],
)
def test_bad_rates_are_rejected(rates, match):
    with pytest.raises(ParameterError, match=match):
        cn217.evaluate(shop([("L1", 1.0, 1)]), "S1", START, END, rates=rates)


# --- only confirmed items count -----------------------------------------------------------


def test_cleared_and_reversed_labels_are_not_counted():
    labels = [
        ("S1", "L1", "counterfeit", "confirmed"),
        ("S1", "L2", "counterfeit", "cleared"),
        ("S1", "L3", "counterfeit", "reversed"),
    ]
    tables = shop([("L1", 10.0, 1), ("L2", 60_000.0, 1), ("L3", 70_000.0, 1)], labels=labels)
    result = cn217.evaluate(tables, "S1", START, END)
    assert result.listing_ids == ("L1",)
    assert result.order_ids == ("O1",)
    assert criterion(result, "illegal_business_amount").value == 10.0
    assert result.tier == "none"


def test_labels_without_an_outcome_column_are_confirmed():
    tables = shop([("L1", 60_000.0, 1)])
    assert "outcome" not in tables["labels"].columns
    assert cn217.evaluate(tables, "S1", START, END).tier == "serious"


def test_label_kind_time_and_seller_level_labels():
    tables = shop(
        [("L1", 60_000.0, 1), ("L2", 60_000.0, 1)],
        labels=[("S1", "L1", "fraud", None), ("S1", None, "counterfeit", None)],
    )
    # A fraud label and a seller-level label confirm no listing by default.
    assert cn217.evaluate(tables, "S1", START, END).order_ids == ()
    assert cn217.evaluate(tables, "S1", START, END, label_kinds=("fraud",)).order_ids == ("O1",)
    every = cn217.evaluate(tables, "S1", START, END, seller_labels=True)
    assert every.listing_ids == ("L1", "L2", "L3", "L4")
    assert every.order_ids == ("O1", "O2")
    # Labels are known from decided_at (2024-06-01) on.
    early = cn217.evaluate(tables, "S1", START, END, seller_labels=True, as_of="2024-06-01")
    assert early.order_ids == ()


def test_test_buys_and_rights_holder_confirmations():
    tables = shop(
        [("L2", 30_000.0, 1), ("L2", 40_000.0, 1), ("L3", 5.0, 1), ("X1", 99.0, 1)],
        labels=[],
        views=[("L3", "2024-02-01", 7), ("L2", "2024-02-01", 1_000)],
    )
    buys = cn217.evaluate(tables, "S1", START, END, confirmed_orders=["O1", "O4"])
    assert buys.order_ids == ("O1",)  # O4 is another seller's: ignored
    assert criterion(buys, "hits").value == 0  # a single order confirms no listing views
    held = cn217.evaluate(tables, "S1", START, END, confirmed_listings={"L3", "X1"})
    assert (held.order_ids, held.listing_ids) == (("O3",), ("L3",))
    assert criterion(held, "hits").value == 7
    with pytest.raises(
        ParameterError, match=r"'confirmed_orders' .* 2 id\(s\) not in orders, e\.g\. O8, O9"
    ):
        cn217.evaluate(tables, "S1", START, END, confirmed_orders=["O9", "O8", "O1"])
    with pytest.raises(ParameterError, match=r"'confirmed_listings' .* collection of ids"):
        cn217.evaluate(tables, "S1", START, END, confirmed_listings="L1")


def test_model_flags_give_a_projection_never_evidence():
    tables = shop([("L1", 10.0, 1), ("L2", 60_000.0, 1)], views=[("L2", "2024-02-01", 9)])
    result = cn217.evaluate(tables, "S1", START, END, flagged_listings=["L2", "X1"])
    assert result.tier == "none" and result.order_ids == ("O1",)
    p = result.projection
    assert p is not None
    assert (p.tier, p.flagged_listings) == ("serious", ("L2",))
    assert p.values["illegal_business_amount"] == 60_010.0 and p.values["hits"] == 9
    assert p.to_dict()["is_evidence"] is False
    assert "Projected if confirmed (NOT EVIDENCE)" in result.to_markdown()
    assert "不是证据" in result.to_markdown("zh")
    assert cn217.evaluate(tables, "S1", START, END).projection is None


# --- the period and the orders that count -------------------------------------------------


def test_period_is_half_open_and_cancelled_or_refunded_orders_are_left_out():
    tables = shop(
        [
            ("L1", 1.0, 1, "delivered", "2024-01-01"),
            ("L1", 2.0, 1, "delivered", "2024-12-31 23:59:59"),
            ("L1", 4.0, 1, "delivered", "2025-01-01"),
            ("L1", 8.0, 1, "cancelled", "2024-05-01"),
            ("L1", 16.0, 1, "refunded", "2024-05-01"),
            ("L1", 32.0, 1, "paid", "2024-05-01"),
        ],
        views=[("L1", "2024-01-01", 1), ("L1", "2025-01-01", 100)],
    )
    result = cn217.evaluate(tables, "S1", START, END)
    assert result.order_ids == ("O1", "O2", "O6")
    assert criterion(result, "illegal_business_amount").value == 35.0
    assert criterion(result, "hits").value == 1
    everything = cn217.evaluate(tables, "S1", START, END, exclude_statuses=())
    assert criterion(everything, "illegal_business_amount").value == 59.0


def test_views_rows_without_a_count_are_one_view_each_and_no_table_is_not_assessed():
    tables = shop([("L1", 1.0, 1)], views=[("L1", "2024-02-01", 5), ("L1", "2024-02-02", 5)])
    tables["listing_views"] = tables["listing_views"].drop(columns="views")
    assert criterion(cn217.evaluate(tables, "S1", START, END), "hits").value == 2
    del tables["listing_views"]
    hits = criterion(cn217.evaluate(tables, "S1", START, END), "hits")
    assert (hits.value, hits.ratio, hits.met, hits.source) == (
        None,
        None,
        "none",
        "no listing_views",
    )


# --- output -------------------------------------------------------------------------------


def test_result_to_dict_and_markdown_in_both_languages():
    tables = shop([("L1", 30_000.0, 10)], views=[("L1", "2024-02-01", 26_000)])
    result = cn217.evaluate(tables, "S1", START, END)
    d = json.loads(json.dumps(result.to_dict()))
    assert d["tier"] == "serious" and d["basis"] == "half_of_two"
    assert d["is_legal_advice"] is False
    assert d["criteria"][0] == {
        "name": "illegal_business_amount",
        "unit": "CNY",
        "text_en": "illegal business amount",
        "text_zh": "非法经营数额",
        "value": 30_000.0,
        "thresholds": {"serious": 50_000.0, "especially_serious": 250_000.0},
        "met": "none",
        "half_met": True,
        "ratio": 0.6,
        "source": "orders.amount x rates",
    }
    assert d["order_ids"] == ["O1"] and d["start"] == "2024-01-01T00:00:00"
    en = result.to_markdown()
    assert en.startswith("# Legal threshold: S1 — serious circumstances")
    assert "| illegal business amount | 30,000 CNY | 50,000 CNY | 0.60 | no | yes |" in en
    assert "Not legal advice" in en and "法发〔2011〕3号" in en
    zh = result.to_markdown("zh")
    assert zh.startswith("# 立案标准: S1 — 情节严重")
    assert "| 实际被点击数 | 26,000 次 | 50,000 次 | 0.52 | 否 | 是 |" in zh
    assert "- Period: 2024-01-01 – 2025-01-01" in en
    with pytest.raises(ParameterError, match=r"'language' .* 'en' or 'zh'\. Got 'fr'"):
        result.to_markdown("fr")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"seller_id": 1}, ParameterError, r"'seller_id' parameter .* must be a str"),
        ({"seller_id": "S9"}, ParameterError, r"seller 'S9' is not in sellers"),
        ({"start": "soon"}, ParameterError, r"'start' parameter .* Got 'soon'"),
        ({"end": "2023-01-01"}, ParameterError, r"'end' parameter .* must be after 'start'"),
        ({"values": {"fans": 3}}, ParameterError, r"unknown criteria \['fans'\]"),
        ({"values": {"members": -1}}, ParameterError, r"finite numbers >= 0\. Got members=-1"),
        ({"as_of": "x"}, ParameterError, r"'as_of' parameter"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, error, match):
    args = {"seller_id": "S1", "start": START, "end": END} | kwargs
    tables = shop([("L1", 1.0, 1)])
    with pytest.raises(error, match=match):
        cn217.evaluate(
            tables,
            args.pop("seller_id"),
            args.pop("start"),
            args.pop("end"),
            **args,
        )


def test_missing_tables_and_columns_are_schema_errors():
    tables = shop([("L1", 1.0, 1)])
    with pytest.raises(SchemaError, match=r"table 'orders' is missing"):
        cn217.evaluate({k: v for k, v in tables.items() if k != "orders"}, "S1", START, END)
    broken = tables | {"orders": tables["orders"].drop(columns="quantity")}
    with pytest.raises(SchemaError, match=r"orders: missing column\(s\) quantity"):
        cn217.evaluate(broken, "S1", START, END)
    with pytest.raises(ParameterError, match=r"'tables' parameter .* Got list"):
        cn217.evaluate([], "S1", START, END)  # type: ignore[arg-type]


# --- on the simulator ---------------------------------------------------------------------


def test_screen_on_simulated_digital_goods_counts_only_confirmed_pirates():
    from riskscore.datasets import add_digital_goods, make_marketplace

    tables = add_digital_goods(make_marketplace(n_sellers=300, seed=0), share=0.5, seed=0)
    truth = tables.pop("truth").set_index("seller_id")
    out = cn217.screen(tables, START, END, seller_labels=True)
    assert len(out) and list(out.columns[:3]) == ["seller_id", "tier", "basis"]
    kinds = set(tables["labels"]["label"])
    assert kinds <= {"counterfeit", "fraud"}
    # Labelled sellers with digital listings only; values never exceed what they sold.
    labelled = set(tables["labels"].loc[tables["labels"]["label"] == "counterfeit", "seller_id"])
    listings = tables["listings"]
    digital = set(listings.loc[listings["category"] == "digital", "seller_id"])
    assert set(out["seller_id"]) == labelled & digital
    sold = tables["orders"].groupby("seller_id")["amount"].sum()
    assert (out["illegal_business_amount"] <= out["seller_id"].map(sold) + 1e-6).all()
    assert out["seller_id"].map(truth["sells_digital"]).all()
    everyone = cn217.screen(tables, START, END, seller_labels=True, categories=None)
    assert set(everyone["seller_id"]) == labelled
    assert out["tier"].isin(["none", "serious", "especially_serious"]).all()


def test_only_listings_of_digital_categories_count():
    tables = shop(
        [("L1", 10.0, 1), ("L2", 60_000.0, 1)],
        labels=[("S1", "L1", "counterfeit", None), ("S1", "L2", "counterfeit", None)],
    )
    tables["listings"].loc[tables["listings"]["listing_id"] == "L2", "category"] = "luxury"
    result = cn217.evaluate(tables, "S1", START, END, confirmed_orders=["O2"])
    assert (result.listing_ids, result.order_ids, result.tier) == (("L1",), ("O1",), "none")
    every = cn217.evaluate(tables, "S1", START, END, categories=None)
    assert (every.order_ids, every.tier) == (("O1", "O2"), "serious")
    with pytest.raises(ParameterError, match=r"'categories' parameter .* Got 'digital'"):
        cn217.evaluate(tables, "S1", START, END, categories="digital")  # type: ignore[arg-type]


def test_screen_takes_id_collections_that_span_sellers():
    tables = shop([("L2", 60_000.0, 1), ("X1", 70_000.0, 1)], labels=[])
    out = cn217.screen(tables, START, END, sellers=["S1", "S2"], confirmed_listings=["L2", "X1"])
    assert out[["seller_id", "tier"]].to_dict("records") == [
        {"seller_id": "S2", "tier": "serious"},
        {"seller_id": "S1", "tier": "serious"},
    ]
    with pytest.raises(ParameterError, match=r"'confirmed_listings' .* not in listings, e\.g\. Z"):
        cn217.screen(tables, START, END, sellers=["S1"], confirmed_listings=["Z"])


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda t: cn217.screen(None, START, END), r"'tables' parameter .*screen"),
        (lambda t: cn217.screen(t, START, END, sellers="S1"), r"'sellers' parameter"),
        (lambda t: cn217.screen(t, START, END, label_kinds=None), r"'label_kinds' .*screen"),
        (lambda t: cn217.evaluate(t, "S1", START, END, label_kinds=None), r"'label_kinds'"),
        (lambda t: cn217.evaluate(t, "S1", START, END, exclude_statuses="paid"), r"'exclude"),
    ],
)
def test_bad_screen_and_collection_arguments_are_rejected(call, match):
    with pytest.raises(ParameterError, match=match):
        call(cn217.example_tables())


def test_polars_and_arrow_tables_give_the_same_result():
    pl = pytest.importorskip("polars")
    tables = cn217.example_tables()
    expected = cn217.evaluate(tables, "S2", START, END, rates={"USD": 7.0})
    as_polars = {k: pl.from_pandas(v) for k, v in tables.items()}
    assert cn217.evaluate(as_polars, "S2", START, END, rates={"USD": 7.0}) == expected
    with pytest.raises(SchemaError, match=r"table 'orders' is a list, not a pandas DataFrame"):
        cn217.evaluate(tables | {"orders": [1]}, "S2", START, END)


def test_members_from_a_user_column_of_sellers():
    tables = shop([("L1", 1.0, 1)])
    tables["sellers"]["registered_members"] = [1_200, None]
    result = cn217.evaluate(tables, "S1", START, END, members_column="registered_members")
    members = criterion(result, "members")
    assert (members.value, members.source, result.tier) == (
        1_200,
        "sellers.registered_members",
        "serious",
    )
    given = cn217.evaluate(
        tables, "S1", START, END, members_column="registered_members", values={"members": 10}
    )
    assert criterion(given, "members").value == 10  # values= takes precedence
    tables["listings"].loc[tables["listings"]["listing_id"] == "X1", "seller_id"] = "S2"
    none = cn217.evaluate(tables, "S2", START, END, members_column="registered_members")
    assert criterion(none, "members").value is None  # missing there: not assessed
    with pytest.raises(SchemaError, match=r"sellers\.fans: the members_column is not in"):
        cn217.evaluate(tables, "S1", START, END, members_column="fans")
