"""The evidence file: score, reasons and point-in-time records, rendered md / html / json."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from riskscore.cli import main
from riskscore.exceptions import ExplanationError
from riskscore.explain import EVIDENCE_SECTIONS, Evidence, Explainer, build_evidence
from tests._browser import assert_renders

AS_OF = "2024-07-01"
NAN_WORD = re.compile(r"\bnan\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A simulated marketplace of 80 sellers, its features at AS_OF and a saved seller model.

    The model is a small booster trained on the simulator's ground truth (fine in a test:
    features never read it), wrapped in a RiskModel with an uncalibrated (sigmoid)
    calibrator, a risk scale fitted on the negatives and fixed bands.
    """
    from riskscore.datasets import make_marketplace
    from riskscore.features import build_features, catalog
    from riskscore.io import write_tables
    from riskscore.modeling import Bands, Calibrator, RiskModel, RiskScale

    tables = make_marketplace(n_sellers=80, seed=1)
    truth = tables.pop("truth").set_index("seller_id")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        features = build_features(tables, "seller", as_of=AS_OF)
    y = truth.loc[features.index, ["is_counterfeit", "is_fraud"]].any(axis=1).astype(int)
    names = list(features.columns)
    booster = lgb.train(
        {"objective": "binary", "verbose": -1, "num_leaves": 7, "min_data_in_leaf": 3, "seed": 0},
        lgb.Dataset(features.to_numpy(), y.to_numpy(), feature_name=names),
        30,
    )
    raw = booster.predict(features.to_numpy(), raw_score=True)
    model = RiskModel(
        booster,
        feature_names=names,
        calibrator=Calibrator("none"),
        scale=RiskScale.fit(raw[y.to_numpy() == 0]),
        bands=Bands({"medium": 300, "high": 600, "critical": 800}),
        metadata={"entity": "seller", "target": "counterfeit", "version": "4"},
        catalog=catalog("seller"),
    )
    root = tmp_path_factory.mktemp("evidence")
    write_tables(tables, root / "data")
    model.save(root / "model")
    return {"tables": tables, "features": features, "model": model, "root": root, "y": y}


def _riskiest(demo: dict) -> str:
    model, features = demo["model"], demo["features"]
    raw = model.raw_score(features.to_numpy())
    return str(features.index[int(np.argmax(raw))])


def _evidence(demo: dict, seller: str, **kwargs: object) -> Evidence:
    return build_evidence(
        demo["tables"], seller, demo["model"], AS_OF, features=demo["features"], **kwargs
    )


def test_score_reasons_and_families(demo: dict):
    seller = _riskiest(demo)
    ev = _evidence(demo, seller, top_k=3)
    model = demo["model"]
    x = model.to_matrix(demo["features"].loc[[seller]])
    assert ev.raw_score == pytest.approx(float(model.raw_score(x)[0]), abs=1e-9)
    # the positive-class column ((n, 2) as scikit-learn returns it; 1-D before issue 13)
    positive = np.asarray(model.predict_proba(x)).reshape(len(x), -1)[0, -1]
    assert ev.score == pytest.approx(float(positive), abs=1e-12)
    assert ev.risk_score == pytest.approx(float(model.risk_score(x)[0]), rel=1e-12)
    assert ev.band == model.bands.assign(np.array([ev.risk_score]))[0]
    assert sum(ev.families.values()) + ev.base_value == pytest.approx(ev.raw_score, abs=1e-6)
    assert set(ev.families) <= set(EVIDENCE_SECTIONS)
    expected = Explainer(model).explain_one(demo["features"].loc[seller].to_dict(), top_k=3)
    assert [{k: v for k, v in r.items() if k != "evidence"} for r in ev.reasons] == expected[
        "reasons"
    ]
    assert 1 <= len(ev.reasons) <= 3
    for r in ev.reasons:
        assert r["evidence"] == EVIDENCE_SECTIONS[r["family"]]
        assert r["evidence"] in ev.sections
    assert ev.model_name == "riskscore-seller-counterfeit"


def test_sections_are_as_of_the_scoring_time(demo: dict):
    seller = _riskiest(demo)
    tables = dict(demo["tables"])
    product = tables["products"].dropna(subset=["reference_price"]).iloc[0]
    late = pd.DataFrame(
        {
            "listing_id": ["L-LATE"],
            "seller_id": [seller],
            "product_id": [product["product_id"]],
            "category": [product["category"]],
            "brand": [product["brand"]],
            "title": ["late listing 高仿 replica"],
            "price": [0.01],
            "currency": ["CNY"],
            "created_at": [pd.Timestamp(AS_OF)],  # at the cutoff: not before it
        }
    )
    tables["listings"] = pd.concat([tables["listings"], late], ignore_index=True)
    ev = build_evidence(
        tables, seller, demo["model"], AS_OF, features=demo["features"], sections="all"
    )
    assert set(ev.sections) == set(EVIDENCE_SECTIONS.values())
    listings = ev.sections["listings_below_market"]
    assert "L-LATE" not in set(listings["listing_id"])
    assert "L-LATE" not in set(ev.sections["replica_titles"]["listing_id"])
    assert listings["price_ratio"].is_monotonic_increasing
    for name in ("listings_below_market", "top_buyers", "replica_titles"):
        frame = ev.sections[name]
        column = "first_order" if name == "top_buyers" else "created_at"
        assert (pd.to_datetime(frame[column]) < pd.Timestamp(AS_OF)).all(), name
    months = ev.sections["complaints_by_month"]["month"]
    assert (months <= "2024-06").all()
    buyers = ev.sections["top_buyers"]
    assert buyers["gmv"].is_monotonic_decreasing
    orders = tables["orders"]
    own = orders[(orders["seller_id"] == seller) & (orders["created_at"] < pd.Timestamp(AS_OF))]
    top = buyers.iloc[0]
    assert top["orders"] == (own["buyer_id"] == top["buyer_id"]).sum()


def test_linked_sellers_share_identifiers(demo: dict):
    seller = _riskiest(demo)
    tables = dict(demo["tables"])
    sellers = tables["sellers"].copy()
    before = sellers["registered_at"] < pd.Timestamp(AS_OF)
    other = str(sellers.loc[before & (sellers["seller_id"] != seller), "seller_id"].iloc[0])
    sellers.loc[sellers["seller_id"].isin([seller, other]), "device_id"] = "DEV-SHARED"
    tables["sellers"] = sellers
    ev = build_evidence(
        tables, seller, demo["model"], AS_OF, features=demo["features"], sections="all"
    )
    linked = ev.sections["linked_sellers"]
    row = linked[linked["seller_id"] == other]
    assert len(row) == 1
    assert "device_id" in row["links"].iloc[0]
    assert "device_id=DEV-SHARED" in row["shared"].iloc[0]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_renders_carry_the_same_content(demo: dict, lang: str):
    seller = _riskiest(demo)
    ev = _evidence(demo, seller, language=lang, sections="all")
    data = json.loads(ev.to_json())
    assert data == json.loads(json.dumps(ev.to_dict()))
    assert data["seller_id"] == seller
    assert data["model"] == {"name": "riskscore-seller-counterfeit", "version": "4"}
    assert data["band"] == ev.band
    assert [r["code"] for r in data["reasons"]] == [r["code"] for r in ev.reasons]
    assert set(data["evidence"]) == set(ev.sections)
    md, page = ev.to_markdown(), ev.to_html()
    for text in (md, page):
        assert seller in text
        assert f"{ev.score:.3f}" in text
        assert ("version 4" if lang == "en" else "版本 4") in text
        for r in ev.reasons:
            assert r["code"] in text
        assert not NAN_WORD.search(text)
    from riskscore.explain._evidence_render import _md_escape

    for r in ev.reasons:  # as escaped for Markdown ("[缺失]" of a missing value: "\\[缺失\\]")
        assert _md_escape(r["text"]) in md
    assert page.startswith("<!DOCTYPE html>")
    assert ('<html lang="zh-CN">' in page) == (lang == "zh")


def test_html_escapes_record_text(demo: dict):
    seller = _riskiest(demo)
    tables = dict(demo["tables"])
    listings = tables["listings"].copy()
    first = listings.index[listings["seller_id"] == seller][0]
    listings.loc[first, "title"] = "<script>alert(1)</script> 高仿"
    tables["listings"] = listings
    ev = build_evidence(
        tables, seller, demo["model"], AS_OF, features=demo["features"], sections="all"
    )
    page = ev.to_html()
    assert "<script>" not in page
    assert "&lt;script&gt;" in page


def test_write_picks_the_format_from_the_suffix(demo: dict, tmp_path: Path):
    ev = _evidence(demo, _riskiest(demo))
    assert json.loads(ev.write(tmp_path / "case.json").read_text())["kind"] == "riskscore-evidence"
    assert ev.write(tmp_path / "case.md").read_text().startswith("# Risk evidence for seller")
    assert ev.write(tmp_path / "x" / "case.htm").read_text().startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.json", "case.md", "x"]
    with pytest.raises(ExplanationError, match=r"format must be one of md, html, json\. Got 'pdf'"):
        ev.render("pdf")  # type: ignore[arg-type]


# -- bad input -------------------------------------------------------------------------


def test_unknown_seller_is_named(demo: dict):
    with pytest.raises(ExplanationError, match="seller 'S-NOPE' is not in the sellers table"):
        build_evidence(demo["tables"], "S-NOPE", demo["model"], AS_OF)


def test_seller_registered_after_as_of(demo: dict):
    sellers = demo["tables"]["sellers"]
    late = sellers.sort_values("registered_at").iloc[-1]
    as_of = late["registered_at"]
    with pytest.raises(
        ExplanationError, match=f"seller '{late['seller_id']}' registered at .* not before as_of"
    ):
        build_evidence(demo["tables"], late["seller_id"], demo["model"], as_of)


def test_model_without_catalog_is_named(demo: dict):
    from riskscore.modeling import RiskModel

    model = demo["model"]
    bare = RiskModel(
        model.booster,
        feature_names=model.feature_names,
        calibrator=model.calibrator,
        scale=model.scale,
        bands=model.bands,
        metadata=model.metadata,
    )
    with pytest.raises(
        ExplanationError,
        match="model 'riskscore-seller-counterfeit' version 4 has no feature catalog",
    ):
        build_evidence(demo["tables"], _riskiest(demo), bare, AS_OF, features=demo["features"])


def test_feature_missing_from_the_record_is_named(demo: dict):
    seller = _riskiest(demo)
    features = demo["features"].drop(columns="buyers__hhi")
    with pytest.raises(
        ExplanationError,
        match=rf"cannot explain seller '{seller}': model 'riskscore-seller-counterfeit' version "
        r"4: 1 feature\(s\) the model needs are missing: 'buyers__hhi'",
    ):
        build_evidence(demo["tables"], seller, demo["model"], AS_OF, features=features)


def test_listing_model_is_refused(demo: dict):
    model = demo["model"]

    class ListingModel:
        booster = model.booster
        catalog = model.catalog
        entity = "listing"
        name = "riskscore-listing-counterfeit"

    with pytest.raises(ExplanationError, match="scores listings; an evidence file is built"):
        build_evidence(demo["tables"], _riskiest(demo), ListingModel(), AS_OF)


def test_bad_as_of(demo: dict):
    with pytest.raises(ExplanationError, match="as_of must be a date or time"):
        build_evidence(demo["tables"], _riskiest(demo), demo["model"], "yesterday-ish")


# -- every seller ------------------------------------------------------------------------


@pytest.mark.slow
def test_every_seller_of_the_demo_marketplace(demo: dict):
    from riskscore.scoring import Scorer

    scorer = Scorer(demo["model"], top_k=5, language="zh")
    quiet = 0
    for seller in demo["features"].index:
        ev = _evidence(demo, str(seller), language="zh")
        text = ev.to_markdown() + ev.to_json() + ev.to_html()
        assert not NAN_WORD.search(text), seller
        assert all(r["evidence"] in ev.sections for r in ev.reasons if r["feature"]), seller
        # the page gives the reasons score_one gives: only features that push the risk
        # up, and "no strong risk signal" alone for a low-band seller
        record = demo["features"].loc[seller].to_dict()
        answer = scorer.score_one(record, explain=True)
        assert [r["code"] for r in ev.reasons] == [r.code for r in answer.reasons], seller
        quiet += answer.reasons[0].code == "NO_STRONG_SIGNAL"
    assert 0 < quiet < len(demo["features"])  # both kinds of seller were checked


# -- the command ------------------------------------------------------------------------


def _cli(demo: dict, *args: str) -> list[str]:
    root = demo["root"]
    return ["explain", *args, "--data", str(root / "data"), "--model", str(root / "model")]


def test_cli_prints_markdown(demo: dict, capsys: pytest.CaptureFixture[str]):
    seller = _riskiest(demo)
    assert main(_cli(demo, seller, "--as-of", AS_OF, "--top-k", "2")) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"# Risk evidence for seller {seller}")
    assert "- **Band**:" in out


def test_cli_writes_json_in_chinese(demo: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    seller = _riskiest(demo)
    out = tmp_path / "case.json"
    args = _cli(demo, seller, "--as-of", AS_OF, "--format", "json", "--out", str(out))
    assert main([*args, "--lang", "zh"]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["seller_id"] == seller
    assert data["reasons"], "the riskiest seller has reasons"
    assert re.search(r"[\u4e00-\u9fff]", data["reasons"][0]["text"])
    summary = capsys.readouterr().out
    assert f"{seller}: score" in summary
    assert f"wrote {out}" in summary


def test_cli_unknown_seller_exits_2(demo: dict, capsys: pytest.CaptureFixture[str]):
    assert main(_cli(demo, "S-NOPE", "--as-of", AS_OF)) == 2
    assert "seller 'S-NOPE' is not in the sellers table" in capsys.readouterr().err


def test_cli_unknown_model_exits_2(demo: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    args = ["explain", "S1", "--data", str(demo["root"] / "data"), "--as-of", AS_OF]
    assert main([*args, "--model", str(tmp_path / "no-model")]) == 2
    assert "no-model" in capsys.readouterr().err


# -- the HTML in a browser ---------------------------------------------------------------


@pytest.mark.browser
def test_html_renders_in_headless_chromium(demo: dict, tmp_path: Path):
    seller = _riskiest(demo)
    ev = _evidence(demo, seller, plot=True, sections="all")
    assert ev.waterfall_png is not None
    page = ev.write(tmp_path / "case.html")
    assert "data:image/png;base64," in page.read_text()
    assert_renders(page, tmp_path)


def test_markdown_escapes_html_and_markdown_in_record_text(demo: dict):
    """Issue 14, item 9: seller-controlled titles never become markup in the .md file."""
    seller = _riskiest(demo)
    tables = dict(demo["tables"])
    listings = tables["listings"].copy()
    own = listings["seller_id"] == seller
    listings.loc[own, "title"] = (
        '<script>alert(1)</script> <img src=x onmouseover="alert(2)"> [click](javascript:x) | 高仿'
    )
    tables["listings"] = listings
    ev = build_evidence(
        tables, seller, demo["model"], AS_OF, features=demo["features"], sections="all"
    )
    text = ev.to_markdown()
    assert ev.render() == text  # Markdown is the default format
    assert "<script>" not in text and "<img" not in text and 'onmouseover="' not in text
    assert not re.search(r"<[a-zA-Z/!]", text)  # no tag of any kind in the file
    shown = (
        "&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onmouseover=&quot;alert(2)&quot;"
        "&gt; \\[click\\](javascript:x) \\| 高仿"
    )
    rows = [line for line in text.splitlines() if "alert(2)" in line]
    assert len(rows) >= 2 and all(shown in line for line in rows)  # both title sections
    for name in ("listings_below_market", "replica_titles"):
        width = len(ev.sections[name].columns)
        assert any(_cells(line) == width for line in rows), name  # the pipe stays in its cell


def _cells(line: str) -> int:
    """Cells of one Markdown table row (pipes that are not escaped, minus one)."""
    return len(re.findall(r"(?<!\\)\|", line)) - 1


@pytest.mark.parametrize("layout", ["index", "column"])
def test_features_with_ids_in_the_index_or_a_column(demo: dict, layout: str):
    """Issue 14, item 5: both layouts give the same evidence; a duplicated seller is refused."""
    seller = _riskiest(demo)
    features = demo["features"]
    assert features.index.name == "seller_id"  # what build_features returns
    given = features if layout == "index" else features.reset_index()
    ev = build_evidence(demo["tables"], seller, demo["model"], AS_OF, features=given)
    assert ev.reasons == _evidence(demo, seller).reasons
    doubled = pd.concat(
        [
            given,
            given[given.index == seller]
            if layout == "index"
            else given[given["seller_id"] == seller],
        ]
    )
    with pytest.raises(
        ExplanationError,
        match=rf"the features hold 2 rows for seller '{seller}' \(seller_id {layout}\)",
    ):
        build_evidence(demo["tables"], seller, demo["model"], AS_OF, features=doubled)
