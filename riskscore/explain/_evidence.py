"""The evidence file for one seller: score, reasons, and the records behind each reason.

A risk analyst freezing payouts, or a brand or police partner receiving a referral, needs
more than a number: the listings, orders, complaints and linked shops that made the model
say so. :func:`build_evidence` scores one seller as of a time, takes its top reasons
(:class:`~riskscore.explain.Explainer`) and, for the family of each reason, pulls the
supporting records from the marketplace tables **as of the same time** (rows strictly
before ``as_of``, as the features saw them):

============ ==================== =====================================================
family       section              records
============ ==================== =====================================================
pricing      listings_below_market the listings furthest below the market price of the
                                  same product (title, price, reference price, ratio)
complaints   complaints_by_month  complaints by kind per month, with orders, refunds and
                                  cancellations of that month
buyers       top_buyers           the largest buyers: orders, GMV, delivery addresses,
                                  and the addresses they share with other buyers
network      linked_sellers       sellers sharing identifiers, addresses or buyers, what
                                  they share and their labels
text         replica_titles       listing titles using replica wording, with the terms
account      account              registration, first listing and order, catalogue size
activity     activity_by_month    orders, GMV and buyers per month
============ ==================== =====================================================

:class:`Evidence` renders the same content as Markdown, self-contained HTML (with the
seller's SHAP waterfall plot embedded as a base64 PNG) or JSON, with the text of the data
escaped.

The pieces live in one module each: the model (:mod:`~riskscore.explain._evidence_model`),
the section queries (:mod:`~riskscore.explain._evidence_sections`: which records go into
each section) and the rendering (:mod:`~riskscore.explain._evidence_render`: Markdown,
HTML, JSON and the texts of every language). This module scores the seller and puts them
together.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from riskscore.exceptions import ExplanationError, FeatureError
from riskscore.explain._evidence_model import Evidence, Format
from riskscore.explain._evidence_render import EVIDENCE_FORMAT_VERSION, note_text
from riskscore.explain._evidence_sections import EVIDENCE_SECTIONS, gather_sections
from riskscore.explain._reasons import Explainer, Language

__all__ = ["EVIDENCE_FORMAT_VERSION", "EVIDENCE_SECTIONS", "Evidence", "Format", "build_evidence"]


# -- building ---------------------------------------------------------------------------


def build_evidence(
    tables: Mapping[str, Any],
    seller_id: str,
    model: Any,
    as_of: Any,
    *,
    features: pd.DataFrame | Mapping[str, Any] | None = None,
    catalog: pd.DataFrame | None = None,
    model_name: str | None = None,
    model_version: str | None = None,
    top_k: int = 5,
    language: Language = "en",
    max_records: int = 10,
    sections: Literal["reasons", "all"] = "reasons",
    plot: bool = False,
    lang: Language | None = None,
) -> Evidence:
    """Score one seller as of a time and gather the evidence behind its reasons.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        Marketplace tables (see :data:`riskscore.CONTRACT`), e.g. from
        :func:`riskscore.load_tables`.
    seller_id : str
        The seller; it must be registered before ``as_of``.
    model : RiskModel, Explainer or lightgbm.Booster
        A seller model. A :class:`riskscore.modeling.RiskModel` gives the calibrated
        score, risk score and band; a bare booster gives the sigmoid of the raw score.
    as_of : str or Timestamp
        Scoring time: features and records use rows strictly before it.
    features : pandas.DataFrame or mapping, optional
        The seller's features (a frame holding its row, with ``seller_id`` as the index,
        as :func:`riskscore.build_features` returns it, or as a column; or one record);
        several rows for the seller are an error. Default: computed with
        :func:`riskscore.build_features` for this seller only (``ids=[seller_id]``:
        its own rows against marketplace statistics kept for the tables and ``as_of``,
        so explaining several sellers at one time pays for the marketplace once).
    catalog : pandas.DataFrame, optional
        Feature catalog when the model has none (see :class:`Explainer`).
    model_name, model_version : str, optional
        Shown in the file. Default: what the model records about itself.
    top_k : int, default 5
        Reasons raising the score.
    language : {"en", "zh"}, default "en"
        Language of the reason sentences and headings.
    max_records : int, default 10
        Rows per evidence table.
    sections : {"reasons", "all"}, default "reasons"
        Gather the records of the reasons' families only, or of every family.
    plot : bool, default False
        Draw the SHAP waterfall plot (``shap`` import; needed for the HTML plot).
    lang : {"en", "zh"}, optional
        Deprecated name of ``language``.

    Returns
    -------
    Evidence

    Raises
    ------
    ExplanationError
        Unknown seller, seller registered at or after ``as_of``, a model without a
        catalog, or a feature missing from the features; the message names them.

    Examples
    --------
    >>> from riskscore.explain._evidence import _demo
    >>> tables, model = _demo()
    >>> ev = build_evidence(tables, "S2", model, "2024-03-01", top_k=1)
    >>> ev.seller_id, ev.reasons[0]["evidence"], list(ev.sections)
    ('S2', 'listings_below_market', ['listings_below_market'])
    >>> ev.sections["listings_below_market"][["listing_id", "price_ratio"]]
      listing_id  price_ratio
    0         L2        0.417
    """
    from riskscore.explain._reasons import _language

    language = _language(language, lang, "build_evidence")
    explainer = model if isinstance(model, Explainer) else Explainer(model, catalog)
    owner = explainer.model
    entity = getattr(owner, "entity", "seller")
    if entity not in ("seller", "custom") and isinstance(entity, str):
        raise ExplanationError(
            f"{explainer.describe_model()} scores {entity}s; an evidence file is built for a "
            "seller with a seller model"
        )
    cutoff = _timestamp(as_of)
    seller_id = str(seller_id)
    _check_seller(tables, seller_id, cutoff)
    record = _feature_record(tables, seller_id, cutoff, features)
    try:
        contrib = explainer.contributions(record)
        found = explainer.reason_lists(record, contrib, top_k=top_k, language=language)[0]
    except ExplanationError as err:
        raise ExplanationError(f"cannot explain seller '{seller_id}': {err}") from None
    raw = float(contrib.raw_score[0])
    score, risk, band = _scores(owner, raw)
    found = _screened(found, band, language)
    families = dict(
        zip(contrib.family_names, (float(v) for v in contrib.family_values()[0]), strict=True)
    )
    wanted = list(EVIDENCE_SECTIONS) if sections == "all" else []
    reasons = []
    for r in found:
        section = EVIDENCE_SECTIONS.get(r["family"])
        reasons.append({**r, "evidence": section})
        if section and r["family"] not in wanted:
            wanted.append(r["family"])
    gathered, found_notes = gather_sections(tables, seller_id, cutoff, wanted, max_records)
    notes = {name: note_text(note, language) for name, note in found_notes.items()}
    png = None
    if plot:
        from riskscore.explain._plots import png_bytes, waterfall_plot

        png = png_bytes(waterfall_plot(explainer, record))
    return Evidence(
        seller_id=seller_id,
        as_of=cutoff.isoformat(),
        model_name=model_name or explainer.model_name,
        model_version=model_version or explainer.model_version,
        score=score,
        risk_score=risk,
        band=band,
        raw_score=raw,
        base_value=contrib.base_value,
        families=families,
        reasons=reasons,
        sections=gathered,
        notes=notes,
        language=language,
        generated_at=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        waterfall_png=png,
    )


def _timestamp(value: Any) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as err:
        raise ExplanationError(
            f"as_of must be a date or time such as '2024-06-30'; got {value!r}"
        ) from err
    if ts is pd.NaT:
        raise ExplanationError(f"as_of must be a date or time such as '2024-06-30'; got {value!r}")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts


def _check_seller(tables: Mapping[str, Any], seller_id: str, cutoff: pd.Timestamp) -> None:
    sellers = tables.get("sellers")
    if sellers is None:
        raise ExplanationError("the marketplace tables have no 'sellers' table")
    rows = sellers[sellers["seller_id"] == seller_id]
    if rows.empty:
        raise ExplanationError(
            f"seller '{seller_id}' is not in the sellers table ({len(sellers):,} sellers); "
            "check the id and the data folder"
        )
    registered = pd.Timestamp(rows["registered_at"].iloc[0])
    if not registered < cutoff:
        raise ExplanationError(
            f"seller '{seller_id}' registered at {registered.isoformat()}, not before as_of "
            f"{cutoff.isoformat()}; explain it as of a later time"
        )


def _feature_record(
    tables: Mapping[str, Any],
    seller_id: str,
    cutoff: pd.Timestamp,
    features: Any,
) -> dict[str, Any]:
    if isinstance(features, Mapping):
        return dict(features)
    if features is None:
        import warnings

        from riskscore.features import build_features

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # optional tables not given
                features = build_features(tables, "seller", as_of=cutoff, ids=[seller_id])
        except FeatureError as err:
            raise ExplanationError(
                f"cannot compute the features of seller '{seller_id}': {err}"
            ) from err
    frame = features if isinstance(features, pd.DataFrame) else features.to_pandas()
    key_is_column = "seller_id" in frame.columns
    if key_is_column:
        frame = frame.set_index("seller_id")
    if seller_id not in frame.index:
        raise ExplanationError(
            f"seller '{seller_id}' has no row in the features as of {cutoff.isoformat()}"
        )
    row = frame.loc[seller_id]
    if isinstance(row, pd.DataFrame):
        raise ExplanationError(
            f"the features hold {len(row)} rows for seller '{seller_id}' (seller_id "
            f"{'column' if key_is_column else 'index'}); pass one row per seller (drop "
            "duplicates first)"
        )
    return {str(k): v for k, v in row.to_dict().items()}


def _screened(found: list[dict[str, Any]], band: str | None, language: str) -> list[dict[str, Any]]:
    """Apply the scorer's rule for reasons (:mod:`riskscore.scoring._scorer`) to ``found``.

    Only features that push the risk up are reasons; a seller in the model's lowest band,
    or with no such feature, gets the single "no strong risk signal" reason, as
    ``score_one`` answers, so an evidence page (and a case file) never lists a low-risk
    seller's least-bad features under risky-sounding codes.
    """
    from riskscore.explain._reasons import no_signal_fields
    from riskscore.modeling import BANDS

    kept = [r for r in found if r["contribution"] > 0]
    if kept and (band is None or band != BANDS[0]):  # no band: a model without a scale
        return [{**r, "rank": i} for i, r in enumerate(kept, start=1)]
    return [{"rank": 1, "family": "", **no_signal_fields(language)}]


def _scores(model: Any, raw: float) -> tuple[float, float | None, str | None]:
    scorer = getattr(model, "scores_from_raw", None)
    if callable(scorer):
        out = scorer(np.array([raw]))
        return (
            float(np.asarray(out["score"])[0]),
            float(np.asarray(out["risk_score"])[0]),
            str(np.asarray(out["band"])[0]),
        )
    return 1.0 / (1.0 + math.exp(-raw)), None, None


def _demo() -> tuple[dict[str, pd.DataFrame], Explainer]:
    """Return a two-seller marketplace and a one-feature seller model, for the examples."""
    import lightgbm as lgb

    ts = pd.Timestamp
    tables = {
        "sellers": pd.DataFrame(
            {
                "seller_id": ["S1", "S2"],
                "registered_at": [ts("2024-01-01"), ts("2024-02-01")],
                "region": ["Zhejiang", "Guangdong"],
            }
        ),
        "products": pd.DataFrame(
            {
                "product_id": ["P1"],
                "brand": ["Apple"],
                "category": ["phones"],
                "reference_price": [6000.0],
            }
        ),
        "listings": pd.DataFrame(
            {
                "listing_id": ["L1", "L2"],
                "seller_id": ["S1", "S2"],
                "product_id": ["P1", "P1"],
                "category": ["phones", "phones"],
                "brand": ["Apple", "Apple"],
                "title": ["iPhone 15", "iPhone 15 高仿 1:1"],
                "price": [5900.0, 2500.0],
                "currency": ["CNY", "CNY"],
                "created_at": [ts("2024-01-05"), ts("2024-02-03")],
            }
        ),
        "orders": pd.DataFrame(
            {
                "order_id": ["O1", "O2"],
                "listing_id": ["L1", "L2"],
                "seller_id": ["S1", "S2"],
                "buyer_id": ["B1", "B2"],
                "quantity": [1, 1],
                "amount": [5900.0, 2500.0],
                "created_at": [ts("2024-01-10"), ts("2024-02-10")],
                "ship_address_id": ["A1", "A2"],
                "status": ["delivered", "delivered"],
            }
        ),
    }
    name = "pricing__median_price_ratio"
    rng = np.random.default_rng(0)
    X = rng.uniform(0.2, 1.2, size=(400, 1))
    booster = lgb.train(
        {"objective": "binary", "verbose": -1, "num_leaves": 4, "min_data_in_leaf": 5},
        lgb.Dataset(X, (X[:, 0] < 0.6).astype(int), feature_name=[name]),
        10,
    )
    catalog = pd.DataFrame(
        {
            "name": [name],
            "reason_code": ["PRICE_FAR_BELOW_MARKET"],
            "text_en": ["Median price is {value:.0%} of the market price for the same products"],
            "text_zh": ["同款商品售价中位数为市场价的{value:.0%}"],
        }
    )
    return tables, Explainer(booster, catalog, model_name="demo")
