"""Fuzz of the Python API: every error of score_one, score_many, build_features is ours.

Issue 14 asks that odd input never ends in a raw exception from a dependency
(``OverflowError``, ``OutOfBoundsDatetime``, ``TypeError: unhashable type``, ...): each
call here either succeeds with a valid answer or raises a
:class:`~riskscore.exceptions.RiskscoreError`. The inputs mix huge integers, ``inf``,
NaN, ``None``, ``pd.NA``, text and containers in numeric places, wrong argument types,
empty frames and times at the edges of what pandas holds.

Each property is paired with a planted check (``test_the_fuzz_catches_...``) showing that
the harness reports a foreign exception, so the properties cannot pass vacuously.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskscore.exceptions import RiskscoreError
from riskscore.scoring import RiskScore, Scorer
from riskscore.scoring._demo import demo_model

#: Values that do not belong in a numeric feature, or sit at its edges.
odd_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.sampled_from([None, pd.NA, pd.NaT, np.nan, np.inf, -np.inf, 10**400, -(10**400)]),
    st.booleans(),
    st.text(max_size=4),
    st.binary(max_size=3),
    st.complex_numbers(allow_nan=True, allow_infinity=True),
    st.lists(st.integers(-3, 3), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
    st.datetimes(),
    st.just(np.array([1.0, 2.0])),
    st.just(np.float32(1.5)),
    st.just(np.uint64(2**64 - 1)),
)

#: Odd values that can be dictionary keys or index labels.
hashable_values = st.one_of(
    st.floats(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.sampled_from([None, pd.NaT, np.nan, 10**400]),
    st.text(max_size=4),
    st.datetimes(),
)

#: Times (and things that are not times) for as_of / scored_at.
odd_times = st.one_of(
    st.none(),
    st.sampled_from(
        [
            pd.Timestamp.max,
            pd.Timestamp.min,
            pd.Timestamp.max.tz_localize("UTC"),
            pd.Timestamp("2262-04-11 23:59", tz="Asia/Shanghai"),
            dt.datetime.max,
            dt.date.min,
            np.datetime64("9999-12-31"),
            np.datetime64("NaT"),
            pd.NaT,
            "2024-06-30",
            "2024-06-30T08:00:00+08:00",
            "10000-01-01",
            "not a date",
            "",
        ]
    ),
    st.datetimes(),
    st.dates(),
    st.text(max_size=10),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(),
    st.lists(st.integers(), max_size=1),
)

#: ``explain`` arguments: the valid modes and odd ones.
odd_explain = st.one_of(
    st.sampled_from(["flagged", "all", "none", True, False, "maybe", "", "ALL", None, 1, 0]),
    st.text(max_size=5),
    st.lists(st.just("all"), max_size=1),
)

FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    """A scorer of the five-feature demo seller model."""
    return Scorer(demo_model())


def only_ours(call: Callable[[], Any]) -> Any:
    """Run ``call``; return its answer, or None when it raised a RiskscoreError.

    Any other exception fails the test with its type, so a fuzz run lists every foreign
    exception it finds.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return call()
    except RiskscoreError as err:
        assert str(err), "a RiskscoreError must say what is wrong"
        return None
    except Exception as err:  # the property under test: nothing else escapes
        pytest.fail(f"{type(err).__name__} escaped instead of a RiskscoreError: {err!r}"[:500])


# -- score_one ----------------------------------------------------------------------------


@st.composite
def records(draw: st.DrawFn, names: list[str]) -> dict[Any, Any]:
    """A record with some features odd, some dropped, an odd id and extra keys."""
    record: dict[Any, Any] = {}
    for name in names:
        kind = draw(st.sampled_from(["number", "odd", "missing"]))
        if kind == "number":
            record[name] = draw(st.floats(-1e6, 1e6))
        elif kind == "odd":
            record[name] = draw(odd_values)
    if draw(st.booleans()):
        record["seller_id"] = draw(st.one_of(st.text(max_size=4), odd_values))
    if draw(st.booleans()):
        record[draw(st.one_of(st.text(max_size=3), st.integers()))] = draw(odd_values)
    return record


@pytest.mark.slow
@settings(FUZZ, max_examples=200)
@given(data=st.data())
def test_score_one_raises_only_riskscore_errors(scorer, data):
    record = data.draw(records(scorer.feature_names))
    explain = data.draw(odd_explain)
    as_of, scored_at = data.draw(odd_times), data.draw(odd_times)
    result = only_ours(
        lambda: scorer.score_one(record, explain=explain, as_of=as_of, scored_at=scored_at)
    )
    if result is not None:
        assert isinstance(result, RiskScore)
        assert 0.0 <= result.score <= 1.0
        assert result.band in scorer._parts.band_names


@settings(FUZZ, max_examples=50)
@given(record=st.one_of(odd_values, st.lists(st.floats(), max_size=5), st.just(pd.DataFrame())))
def test_score_one_of_a_non_mapping_is_a_riskscore_error(scorer, record):
    assert only_ours(lambda: scorer.score_one(record)) is None


# -- score_many ---------------------------------------------------------------------------


@st.composite
def frames(draw: st.DrawFn, names: list[str]) -> pd.DataFrame:
    """A frame with odd columns: object values, odd dtypes, missing columns, odd ids."""
    n = draw(st.integers(0, 4))
    data: dict[Any, Any] = {}
    for name in names:
        kind = draw(st.sampled_from(["float", "float", "odd", "typed", "missing"]))
        if kind == "float":
            values = draw(st.lists(st.floats(), min_size=n, max_size=n))
            data[name] = np.array(values, dtype=np.float64)
        elif kind == "odd":
            data[name] = pd.Series(draw(st.lists(odd_values, min_size=n, max_size=n)), dtype=object)
        elif kind == "typed":
            dtype = draw(
                st.sampled_from(
                    ["Int64", "Float64", "boolean", "str", "category", "complex128", "int8"]
                )
            )
            values = draw(st.lists(st.integers(-100, 100), min_size=n, max_size=n))
            ints = pd.Series(values, dtype="int64")
            data[name] = (ints % 2 == 1).astype(dtype) if dtype == "boolean" else ints.astype(dtype)
    frame = pd.DataFrame(data, index=range(n))
    where = draw(st.sampled_from(["column", "index", "none"]))
    # an index holds hashable values only; a column may hold anything, lists included
    values = hashable_values if where == "index" else odd_values
    ids = draw(
        st.one_of(
            st.lists(st.text(max_size=2), min_size=n, max_size=n),
            st.lists(values, min_size=n, max_size=n),
        )
    )
    if where == "column":
        frame["seller_id"] = pd.Series(ids, index=frame.index, dtype=object)
    elif where == "index":
        frame.index = pd.Index(ids, dtype=object, name="seller_id")
    if draw(st.booleans()):
        frame["extra"] = pd.Series(draw(st.lists(odd_values, min_size=n, max_size=n)), dtype=object)
    return frame


@pytest.mark.slow
@settings(FUZZ, max_examples=200)
@given(data=st.data())
def test_score_many_raises_only_riskscore_errors(scorer, data):
    frame = data.draw(frames(scorer.feature_names))
    before = frame.copy()
    explain = data.draw(odd_explain)
    as_of, scored_at = data.draw(odd_times), data.draw(odd_times)
    out = only_ours(
        lambda: scorer.score_many(frame, explain=explain, as_of=as_of, scored_at=scored_at)
    )
    pd.testing.assert_frame_equal(frame, before)  # the input is never modified
    if out is not None:
        assert len(out) == len(frame) > 0
        assert list(out.columns) == scorer.columns
        assert out["score"].between(0.0, 1.0).all()


@settings(FUZZ, max_examples=50)
@given(frame=st.one_of(odd_values, st.just(np.ones((2, 5))), st.just({"a": [1.0]})))
def test_score_many_of_a_non_frame_is_a_riskscore_error(scorer, frame):
    assert only_ours(lambda: scorer.score_many(frame)) is None


# -- build_features -----------------------------------------------------------------------


@pytest.mark.slow
@settings(FUZZ, max_examples=80)
@given(
    as_of=odd_times,
    entity=st.one_of(st.sampled_from(["seller", "listing"]), odd_values),
    windows=st.one_of(
        st.just((7, 30, 90)),
        st.lists(st.one_of(st.integers(-5, 10**400), odd_values), max_size=3),
        odd_values,
    ),
    prior_weight=st.one_of(st.just(20), odd_values),
    families=st.one_of(st.none(), st.just(["pricing"]), odd_values),
    ids=st.one_of(st.none(), st.just(["S1"]), st.lists(odd_values, max_size=2), odd_values),
)
def test_build_features_raises_only_riskscore_errors(
    tiny_tables, as_of, entity, windows, prior_weight, families, ids
):
    from riskscore.features import build_features

    out = only_ours(
        lambda: build_features(
            tiny_tables,
            entity,
            as_of=as_of,
            windows=windows,
            prior_weight=prior_weight,
            families=families,
            ids=ids,
        )
    )
    if out is not None:
        assert out.index.name in ("seller_id", "listing_id")
        assert all(dtype == np.float64 for dtype in out.dtypes)


@st.composite
def broken_tables(draw: st.DrawFn, tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The tiny tables with one column replaced by odd values, or a table emptied."""
    out = {k: v.copy() for k, v in tables.items()}
    name = draw(st.sampled_from(sorted(out)))
    table = out[name]
    if draw(st.integers(0, 5)) == 0:
        out[name] = table.iloc[:0]
        return out
    column = draw(st.sampled_from(list(table.columns)))
    values = draw(st.lists(odd_values, min_size=len(table), max_size=len(table)))
    table[column] = pd.Series(values, index=table.index, dtype=object)
    return out


@pytest.mark.slow
@settings(FUZZ, max_examples=80)
@given(data=st.data())
def test_build_features_on_broken_tables_raises_only_riskscore_errors(tiny_tables, data):
    from riskscore.features import build_features

    tables = data.draw(broken_tables(tiny_tables))
    as_of = data.draw(st.sampled_from(["2024-06-30", pd.Timestamp.max, "2024-02-05"]))
    only_ours(lambda: build_features(tables, "seller", as_of=as_of))


# -- the harness can fail -----------------------------------------------------------------


def test_the_fuzz_catches_a_foreign_exception():
    def overflow() -> float:
        return float(10**400)

    with pytest.raises(pytest.fail.Exception, match="OverflowError escaped"):
        only_ours(overflow)
    assert only_ours(lambda: 1) == 1


# -- the cases issue 14 reported ------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda s: s.score_one(dict.fromkeys(s.feature_names, 10**400)), "float64 range"),
        (lambda s: s.score_one(dict.fromkeys(s.feature_names, 1.0), explain="maybe"), "maybe"),
        (
            lambda s: s.score_entities({}, ["S1"], pd.Timestamp.max),
            "outside the times pandas can hold",
        ),
    ],
)
def test_the_reported_cases_are_riskscore_errors(scorer, call, match):
    with pytest.raises(RiskscoreError, match=match):
        call(scorer)


def test_build_features_at_the_end_of_time_is_a_feature_error(tiny_tables):
    from riskscore.exceptions import FeatureError
    from riskscore.features import build_features

    with pytest.raises(FeatureError, match=r"as_of='2262-04-11 23:47:16.854775807' is outside"):
        build_features(tiny_tables, "seller", as_of=pd.Timestamp.max)
    with pytest.raises(FeatureError, match=r"windows must be positive whole numbers of days up"):
        build_features(tiny_tables, "seller", as_of="2024-06-30", windows=[10**400])
    with pytest.raises(FeatureError, match=r"prior_weight must be a finite number"):
        build_features(tiny_tables, "seller", as_of="2024-06-30", prior_weight=float("inf"))
    with pytest.raises(FeatureError, match=r"families must be a family name or a list"):
        build_features(tiny_tables, "seller", as_of="2024-06-30", families=5)
