"""``add_digital_goods``: digital-goods shops (e-books, software, courses) and their views.

The base simulator sells physical goods only. Digital goods sold as downloads are a real
marketplace category, and the one where piracy is measured in *hits* as well as money:
a judicial opinion on Criminal Law Article 217 counts "actual hits" of pirated works
(see ``docs/legal-thresholds.md``). This module turns a share of the shops of a simulated
marketplace into digital-goods shops and adds the optional ``listing_views`` table:

- honest shops (``legit``, ``discount``, ``new_legit``) chosen become shops selling
  genuine copies at 0.85-1.05x the publisher's price, titled "正版" / "official";
- counterfeiters (``counterfeit``, ``counterfeit_ring``) chosen become pirates selling
  cracked software, scanned e-books and copied courses at 0.02-0.12x that price, titled
  "破解版", "PDF 网盘 秒发", "全套视频";
- every listing of a chosen shop becomes ``category="digital"`` (no catalogue product,
  no brand), and its orders are repriced (quantity and coupon kept);
- ``listing_views`` holds one row per digital listing and day with at least one view:
  ``viewed_at`` at midnight UTC, ``views`` the count. A listing is viewed from the day it
  went up until it is taken down (a listing label) or its shop closes (a seller label;
  ``cleared`` reviews close nothing) or the period ends, on average
  (its orders per day) / (conversion) + 0.5-5 idle views; conversion is 2-6% for honest
  shops and log-normal around 0.3% (0.05-2%) for pirates (cheap copies draw many lookers,
  and a few pirate shops draw tens of thousands of hits a year).

Draws come from their own generator (seeded from ``seed``), and other shops, their
orders, complaints and labels are untouched. Fraud shops are never converted.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np
import pandas as pd

from riskscore.exceptions import DatasetError

__all__ = ["DIGITAL", "WORKS", "add_digital_goods"]

#: The category of digital goods.
DIGITAL = "digital"

#: Works sold as downloads: (kind, English name, Chinese name, publisher's price in CNY).
WORKS: tuple[tuple[str, str, str, float], ...] = (
    ("ebook", "The Three-Body Problem e-book", "三体 电子书", 45.0),
    ("ebook", "Python Crash Course e-book", "Python编程 从入门到实践 电子书", 79.0),
    ("ebook", "Harry Potter complete e-books", "哈利波特 全集 电子书", 198.0),
    ("ebook", "Medical exam question bank", "执业医师 题库 电子版", 120.0),
    ("software", "Adobe Photoshop 2024 licence", "Photoshop 2024 授权", 888.0),
    ("software", "Microsoft Office 2021 licence", "Office 2021 激活码", 748.0),
    ("software", "AutoCAD 2024 licence", "AutoCAD 2024 授权", 1880.0),
    ("software", "MATLAB R2023b licence", "MATLAB R2023b 授权", 1500.0),
    ("course", "CPA exam video course", "注册会计师 网课 全套", 1280.0),
    ("course", "IELTS video course", "雅思 网课 视频课程", 980.0),
    ("course", "Postgraduate maths course", "考研数学 网课", 680.0),
    ("video", "4K documentary series", "4K 纪录片 合集", 68.0),
)

#: Title patterns: {en} / {zh} are the work's names.
_GENUINE = ("{zh} 正版", "{en} (official)", "{zh} 官方授权 正版", "正版 {en}")
_PIRATED = (
    "{zh} 破解版 永久使用",
    "{zh} PDF 网盘 秒发",
    "{en} full set cloud link",
    "{zh} 全套视频 百度云",
    "{en} cracked, lifetime",
    "{zh} 高清 打包 自动发货",
)

_HONEST_TYPES = ("legit", "discount", "new_legit")
_PIRATE_TYPES = ("counterfeit", "counterfeit_ring")
_NEEDED = ("sellers", "listings", "orders", "labels", "truth")


def add_digital_goods(
    tables: Mapping[str, pd.DataFrame], *, share: float = 0.05, seed: int = 0
) -> dict[str, pd.DataFrame]:
    """Turn a share of a simulated marketplace's shops into digital-goods shops.

    Honest shops chosen sell genuine e-books, software licences and courses; chosen
    counterfeiters sell pirated copies. Adds the ``listing_views`` table (daily view
    counts of every digital listing) and a ``sells_digital`` column to ``truth``. See
    :mod:`riskscore.datasets._digital` for the numbers.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        A marketplace from :func:`~riskscore.datasets.make_marketplace` (it needs
        ``truth``, the simulated seller types). Not modified.
    share : float, default 0.05
        Share of honest shops and of counterfeiters converted, in [0, 1].
    seed : int, default 0
        Seed of this step's own generator; the same tables and seed give the same result.

    Returns
    -------
    dict of str to pandas.DataFrame
        The tables with converted ``listings`` and ``orders``, the new ``listing_views``
        (columns ``listing_id``, ``seller_id``, ``viewed_at``, ``views``) and ``truth``
        with ``sells_digital``. Other tables are the same objects as given.

    Raises
    ------
    DatasetError
        When a table is missing or a parameter is out of range.

    Examples
    --------
    >>> from riskscore.datasets import add_digital_goods, make_marketplace
    >>> tables = add_digital_goods(make_marketplace(n_sellers=200, seed=0), share=0.2)
    >>> digital = tables["listings"]["category"] == "digital"
    >>> bool(digital.any()), list(tables["listing_views"].columns)
    (True, ['listing_id', 'seller_id', 'viewed_at', 'views'])
    >>> views = tables["listing_views"]
    >>> bool(views["listing_id"].isin(tables["listings"].loc[digital, "listing_id"]).all())
    True
    """
    _check(tables, share, seed)
    rng = np.random.default_rng([int(seed), 0xD161])
    truth = tables["truth"]
    sellers = tables["sellers"]
    kind = truth.set_index("seller_id")["seller_type"].reindex(sellers["seller_id"])
    honest = kind.isin(_HONEST_TYPES).to_numpy()
    pirate_type = kind.isin(_PIRATE_TYPES).to_numpy()
    chosen = (honest | pirate_type) & (rng.random(len(sellers)) < float(share))
    chosen_ids = sellers["seller_id"].to_numpy()[chosen]
    pirate_ids = sellers["seller_id"].to_numpy()[chosen & pirate_type]

    listings = tables["listings"].copy()
    on = listings["seller_id"].isin(chosen_ids).to_numpy()
    pirate = listings["seller_id"].isin(pirate_ids).to_numpy()
    n = int(on.sum())
    work = rng.integers(0, len(WORKS), n)
    ref = np.array([w[3] for w in WORKS])[work]
    u = rng.random((3, n))
    is_pirate = pirate[on]
    ratio = np.where(is_pirate, 0.02 + 0.10 * u[0], 0.85 + 0.20 * u[0])
    price = np.maximum(np.round(ref * ratio, 1), 1.0)
    patterns = np.where(
        is_pirate,
        np.array(_PIRATED)[(u[1] * len(_PIRATED)).astype(int)],
        np.array(_GENUINE)[(u[1] * len(_GENUINE)).astype(int)],
    )
    titles = [p.format(en=WORKS[w][1], zh=WORKS[w][2]) for p, w in zip(patterns, work, strict=True)]
    old_price = listings["price"].to_numpy(copy=True)
    listings.loc[on, "category"] = DIGITAL
    listings.loc[on, "brand"] = None
    listings.loc[on, "product_id"] = None
    listings.loc[on, "title"] = titles
    listings.loc[on, "price"] = price

    orders = tables["orders"].copy()
    new_price = pd.Series(listings["price"].to_numpy(), index=listings["listing_id"])
    before = pd.Series(old_price, index=listings["listing_id"])
    hit = orders["listing_id"].isin(listings.loc[on, "listing_id"]).to_numpy()
    lid = orders.loc[hit, "listing_id"]
    qty = orders.loc[hit, "quantity"].to_numpy(dtype=float)
    full = before.reindex(lid).to_numpy() * qty
    coupon = np.divide(
        orders.loc[hit, "amount"].to_numpy(), full, out=np.ones_like(full), where=full > 0
    )
    orders.loc[hit, "amount"] = np.round(new_price.reindex(lid).to_numpy() * qty * coupon, 2)

    views = _views(rng, listings, orders, tables["labels"], on, pirate)
    out = dict(tables)
    out["listings"] = listings
    out["orders"] = orders
    out["listing_views"] = views
    out["truth"] = truth.assign(sells_digital=truth["seller_id"].isin(chosen_ids).to_numpy())
    return out


def _views(
    rng: np.random.Generator,
    listings: pd.DataFrame,
    orders: pd.DataFrame,
    labels: pd.DataFrame,
    on: np.ndarray,
    pirate: np.ndarray,
) -> pd.DataFrame:
    """Daily view counts of the digital listings (rows with zero views left out)."""
    day = pd.Timedelta(days=1)
    first_day = orders["created_at"].min().floor("D")
    last_day = orders["created_at"].max().floor("D")
    digital = listings.loc[on, ["listing_id", "seller_id", "created_at"]]
    if "outcome" in labels.columns:  # a cleared review closes nothing
        labels = labels.loc[labels["outcome"] != "cleared"]
    seller_rows = labels.loc[labels["listing_id"].isna()]
    closed = seller_rows.groupby("seller_id")["decided_at"].min()
    taken_down = labels.loc[labels["listing_id"].notna()].groupby("listing_id")["decided_at"].min()
    close = pd.concat(
        [
            digital["seller_id"].map(closed).fillna(last_day + day),
            digital["listing_id"].map(taken_down).fillna(last_day + day),
        ],
        axis=1,
    ).min(axis=1)
    begin = digital["created_at"].dt.floor("D").clip(lower=first_day)
    end = (close.dt.floor("D") - day).clip(upper=last_day)  # the last day with views
    n_days = np.maximum(((end - begin) / day).to_numpy().astype(np.int64) + 1, 0)
    n_orders = (
        orders["listing_id"].value_counts().reindex(digital["listing_id"], fill_value=0).to_numpy()
    )
    u = rng.random((2, len(digital)))
    pirate_conversion = np.clip(0.003 * np.exp(0.7 * rng.standard_normal(len(digital))), 5e-4, 0.02)
    conversion = np.where(pirate[on], pirate_conversion, 0.02 + 0.04 * u[0])
    idle = 0.5 + 4.5 * u[1]
    rate = n_orders / np.maximum(n_days, 1) / conversion + idle
    total = int(n_days.sum())
    row = np.repeat(np.arange(len(digital)), n_days)
    offset = np.arange(total) - np.repeat(np.cumsum(n_days) - n_days, n_days)
    daily = rng.poisson(rate[row] * rng.gamma(4.0, 0.25, total))
    keep = daily > 0
    when = begin.to_numpy(dtype="datetime64[us]")[row] + offset.astype("timedelta64[D]")
    frame = pd.DataFrame(
        {
            "listing_id": digital["listing_id"].to_numpy()[row][keep],
            "seller_id": digital["seller_id"].to_numpy()[row][keep],
            "viewed_at": when[keep].astype("datetime64[us]"),
            "views": daily[keep].astype(np.int64),
        }
    )
    frame["listing_id"] = frame["listing_id"].astype("str")
    frame["seller_id"] = frame["seller_id"].astype("str")
    return frame.sort_values(["viewed_at", "listing_id"], kind="stable", ignore_index=True)


def _check(tables: object, share: object, seed: object) -> None:
    if not isinstance(tables, Mapping):
        raise DatasetError(
            "The 'tables' parameter of add_digital_goods must be a mapping of table name to "
            f"DataFrame from make_marketplace. Got {type(tables).__name__} instead."
        )
    missing = [name for name in _NEEDED if name not in tables]
    if missing:
        raise DatasetError(
            f"add_digital_goods needs the tables {', '.join(_NEEDED)} of make_marketplace "
            f"(truth gives the seller types); missing: {', '.join(missing)}"
        )
    if not isinstance(share, numbers.Real) or not 0.0 <= float(share) <= 1.0:
        raise DatasetError(
            "The 'share' parameter of add_digital_goods must be a float in the range "
            f"[0, 1]. Got {share!r} instead."
        )
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or int(seed) < 0:
        raise DatasetError(
            f"The 'seed' parameter of add_digital_goods must be an int >= 0. Got {seed!r} instead."
        )
