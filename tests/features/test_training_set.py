"""Training sets: features at cutoffs, labels from a horizon after a delay, leakage guard."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from riskscore.exceptions import FeatureError, LeakageError
from riskscore.features import build_training_set, catalog
from riskscore.features._training_set import POINT_IN_TIME_ATTR, check_leakage, label_events

CUTOFFS = ["2024-03-01", "2024-05-01"]


@pytest.fixture
def tables(build):
    """Four sellers; labels (counterfeit unless noted), decided at:

    S1 2024-02-15 (before both cutoffs)   S2 2024-04-15 (in 60 days of 03-01)
    S3 2024-05-10 fraud                   S4 none
    L2 (S2's listing) has its own counterfeit label on 2024-06-20; S1 a late fraud label
    on 2024-12-31 (so label windows are observed).
    """
    return build(
        sellers=[{}, {}, {}, {}],
        listings=[{}, {"seller_id": "S2"}, {"seller_id": "S3"}, {"seller_id": "S4"}],
        orders=[{"created_at": "2024-01-20"}],
        labels=[
            {"seller_id": "S1", "decided_at": "2024-02-15"},
            {"seller_id": "S2", "decided_at": "2024-04-15"},
            {"seller_id": "S3", "label": "fraud", "decided_at": "2024-05-10"},
            {"seller_id": "S2", "listing_id": "L2", "decided_at": "2024-06-20"},
            {"seller_id": "S1", "label": "fraud", "decided_at": "2024-12-31"},
        ],
    )


def _labels(train: pd.DataFrame) -> dict[tuple[str, str], int]:
    return {(row.entity_id, f"{row.cutoff:%Y-%m-%d}"): row.label for row in train.itertuples()}


def test_result_shape_and_dtypes(tables) -> None:
    with pytest.warns(UserWarning, match="not point-in-time"):
        train = build_training_set(tables, "seller", target="counterfeit", cutoffs=CUTOFFS)
    assert list(train.columns[:3]) == ["entity_id", "cutoff", "label"]
    expected = catalog("seller", tables=tables).query("point_in_time")["name"].tolist()
    assert list(train.columns[3:]) == expected
    assert train["label"].dtype == "int64"
    assert str(train["cutoff"].dtype) == "datetime64[us]"
    assert train.index.equals(pd.RangeIndex(len(train)))


def test_labels_come_from_the_horizon_and_known_entities_are_excluded(tables) -> None:
    train = build_training_set(
        tables, "seller", target="counterfeit", cutoffs=CUTOFFS, horizon="60D"
    )
    assert _labels(train) == {
        ("S2", "2024-03-01"): 1,  # decided 04-15, within (03-01, 04-30]
        ("S3", "2024-03-01"): 0,  # fraud is another target
        ("S4", "2024-03-01"): 0,
        ("S3", "2024-05-01"): 0,
        ("S4", "2024-05-01"): 0,
        # S1 labelled before both cutoffs, S2 before the second: left out
    }


def test_label_delay_shifts_the_window(tables) -> None:
    train = build_training_set(
        tables, "seller", target="fraud", cutoffs=["2024-05-01"], horizon="30D", label_delay="10D"
    )
    assert _labels(train)[("S3", "2024-05-01")] == 0  # 05-10 is inside the delay
    train = build_training_set(
        tables, "seller", target="fraud", cutoffs=["2024-05-01"], horizon="30D", label_delay="5D"
    )
    assert _labels(train)[("S3", "2024-05-01")] == 1


def test_window_end_is_inclusive_and_start_exclusive(build) -> None:
    tables = build(
        sellers=[{}, {}],
        labels=[
            {"seller_id": "S1", "decided_at": "2024-03-31"},  # exactly cutoff + 30D
            {"seller_id": "S2", "decided_at": "2024-03-01"},  # exactly the cutoff
        ],
    )
    train = build_training_set(tables, "seller", cutoffs=["2024-03-01"], horizon="30D")
    assert _labels(train) == {("S1", "2024-03-01"): 1, ("S2", "2024-03-01"): 0}


def test_listing_labels_include_their_sellers_labels(tables) -> None:
    train = build_training_set(tables, "listing", target="counterfeit", cutoffs=CUTOFFS)
    assert _labels(train) == {
        ("L2", "2024-03-01"): 1,  # seller S2 labelled 04-15
        ("L3", "2024-03-01"): 0,
        ("L4", "2024-03-01"): 0,
        ("L3", "2024-05-01"): 0,
        ("L4", "2024-05-01"): 0,
    }
    events = label_events(tables, "listing", "counterfeit")
    assert sorted(events["entity_id"]) == ["L1", "L2", "L2"]


def test_censored_label_windows_warn(tables) -> None:
    with pytest.warns(UserWarning, match="ends after the last label decision"):
        build_training_set(tables, "seller", cutoffs=["2024-12-01"], horizon="60D")


def test_precomputed_features_are_labelled(tables) -> None:
    features = pd.DataFrame(
        {
            "seller_id": ["S2", "S4", "S4"],
            "cutoff": pd.to_datetime(["2024-03-01", "2024-03-01", "2024-05-01"]),
            "as_of": pd.to_datetime(["2024-03-01", "2024-03-01", "2024-05-01"]),
            "my_feature": [1.0, 2.0, 3.0],
        }
    )
    train = build_training_set(tables, "seller", cutoffs=CUTOFFS, features=features)
    assert train.columns.tolist() == ["entity_id", "cutoff", "label", "my_feature"]
    assert train["label"].tolist() == [1, 0, 0]


def test_leakage_guard_rejects_timestamps_at_or_after_the_cutoff(tables) -> None:
    features = pd.DataFrame(
        {
            "entity_id": ["S2", "S4"],
            "cutoff": pd.to_datetime(["2024-03-01", "2024-03-01"]),
            "last_order_at": pd.to_datetime(["2024-02-01", "2024-03-01"]),
            "x": [1.0, 2.0],
        }
    )
    with pytest.raises(LeakageError, match=r"'last_order_at' is at or after the cutoff in 1 row"):
        build_training_set(tables, "seller", cutoffs=CUTOFFS, features=features)


def test_leakage_guard_rejects_features_computed_after_their_cutoff() -> None:
    features = pd.DataFrame(
        {
            "entity_id": ["S1"],
            "cutoff": pd.to_datetime(["2024-03-01"]),
            "as_of": pd.to_datetime(["2024-03-02"]),
        }
    )
    with pytest.raises(LeakageError, match=r"S1 at cutoff 2024-03-01 has as_of=2024-03-02"):
        check_leakage(features)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target": "scam"}, "unknown target 'scam'; use one of counterfeit, fraud"),
        ({"entity": "shop"}, "unknown entity 'shop'"),
        ({"cutoffs": []}, "cutoffs is empty"),
        ({"cutoffs": "2024-03-01"}, "cutoffs must be a list"),
        ({"horizon": "0D"}, "horizon must be a duration > 0"),
        ({"horizon": "soon"}, "horizon='soon' is not a duration"),
        ({"label_delay": "-1D"}, "label_delay must be a duration >= 0"),
    ],
)
def test_bad_arguments(tables, kwargs, message) -> None:
    args = {"entity": "seller", "target": "counterfeit", "cutoffs": CUTOFFS, **kwargs}
    with pytest.raises(FeatureError, match=message):
        build_training_set(tables, **args)


def test_needs_labels(tables) -> None:
    del tables["labels"]
    with pytest.raises(FeatureError, match="needs the 'labels' table"):
        build_training_set(tables, "seller", cutoffs=CUTOFFS)


def test_precomputed_features_need_a_cutoff_column(tables) -> None:
    with pytest.raises(FeatureError, match="need a 'cutoff' column"):
        build_training_set(
            tables, "seller", cutoffs=CUTOFFS, features=pd.DataFrame({"entity_id": ["S1"]})
        )


def test_simulated_marketplace_has_positives(market) -> None:
    train = build_training_set(
        market, "seller", target="counterfeit", cutoffs=["2024-04-01", "2024-07-01"], horizon="90D"
    )
    assert train["label"].sum() > 0
    assert not train.duplicated(["entity_id", "cutoff"]).any()


LATE = ["complaints__refund_rate", "complaints__cancel_rate"]


def test_features_not_point_in_time_are_left_out_by_default(tables) -> None:
    """The hand-made orders carry only the latest status: no refunded_at, no cancelled_at."""
    with pytest.warns(UserWarning, match=r"2 feature\(s\) are not point-in-time.*left out") as w:
        train = build_training_set(tables, "seller", cutoffs=CUTOFFS)
    assert "complaints__refund_rate, complaints__cancel_rate" in str(w[0].message)
    assert "orders.cancelled_at, orders.refunded_at" in str(w[0].message)
    assert not set(LATE) & set(train.columns)
    assert "complaints__rate_30d" in train.columns
    assert train.attrs[POINT_IN_TIME_ATTR] == {
        "not_point_in_time": LATE,
        "missing_columns": ["orders.cancelled_at", "orders.refunded_at"],
        "kept": False,
    }


def test_opt_in_keeps_features_not_point_in_time(tables) -> None:
    with pytest.warns(UserWarning, match=r"kept as asked \(allow_not_point_in_time=True\)"):
        train = build_training_set(tables, "listing", cutoffs=CUTOFFS, allow_not_point_in_time=True)
    assert set(LATE) <= set(train.columns)
    assert train.attrs[POINT_IN_TIME_ATTR]["kept"] is True


def test_a_table_with_status_times_keeps_every_feature(tables) -> None:
    """With only refunded_at given, only the cancel rate is left out."""
    tables["orders"] = tables["orders"].assign(
        refunded_at=pd.Series([pd.NaT], dtype="datetime64[us]")
    )
    with pytest.warns(UserWarning, match=r"1 feature\(s\).*complaints__cancel_rate\. Without"):
        train = build_training_set(tables, "seller", cutoffs=CUTOFFS)
    assert "complaints__refund_rate" in train.columns
    assert "complaints__cancel_rate" not in train.columns
    tables["orders"] = tables["orders"].assign(cancelled_at=tables["orders"]["refunded_at"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        full = build_training_set(tables, "seller", cutoffs=["2024-03-01"], horizon="30D")
    assert set(LATE) <= set(full.columns)
    assert full.attrs[POINT_IN_TIME_ATTR]["not_point_in_time"] == []


# --- keyword-only after entity (issue 13): the positional form warns for one release ------


def test_positional_arguments_after_entity_warn_and_still_work(tables) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        new = build_training_set(
            tables, "seller", target="fraud", cutoffs=["2024-05-01"], horizon="30D"
        )
        with pytest.warns(DeprecationWarning) as caught:
            old = build_training_set(tables, "seller", "fraud", ["2024-05-01"], "30D")
    message = str(next(w.message for w in caught if w.category is DeprecationWarning))
    assert "passing target, cutoffs, horizon by position is deprecated" in message
    assert "target=..., cutoffs=..., horizon=..." in message
    pd.testing.assert_frame_equal(old, new)
    assert _labels(old)[("S3", "2024-05-01")] == 1  # the values went to the right names


def test_keyword_call_does_not_warn(tables) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("error", DeprecationWarning)
        build_training_set(tables, "seller", target="fraud", cutoffs=["2024-05-01"])


def test_positional_shim_refuses_what_the_old_signature_refused(tables) -> None:
    from riskscore.exceptions import ParameterError

    with pytest.raises(ParameterError, match="takes 2 positional argument"):
        build_training_set(tables, "seller", "fraud", CUTOFFS, "30D", "0D", "pandas")
    with pytest.raises(ParameterError, match="target both by position and by keyword"):
        build_training_set(tables, "seller", "fraud", target="fraud", cutoffs=CUTOFFS)


def test_signature_is_keyword_only_after_entity() -> None:
    import inspect

    params = inspect.signature(build_training_set).parameters
    kinds = {name: p.kind for name, p in params.items()}
    assert [n for n, k in kinds.items() if k is inspect.Parameter.POSITIONAL_OR_KEYWORD] == [
        "tables",
        "entity",
    ]
    assert kinds["target"] is inspect.Parameter.KEYWORD_ONLY


def test_tables_none_is_a_feature_error() -> None:
    with pytest.raises(FeatureError, match="'tables' parameter of build_training_set"):
        build_training_set(None, cutoffs=CUTOFFS)  # type: ignore[arg-type]
